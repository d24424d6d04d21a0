"""Stage 4, checkpoint -> predictions and services: batched prediction of files, the text-classification pipeline,
ONNX export, a torch-free ONNX classifier, an HTTP server and a gradio demo page.

- `prediction`: classify files of headlines with a torch checkpoint (`scripts/predict.py`); `pipelines`: the
  truncating text-classification pipeline that `import hfnews` registers.

- `export`, `exportable_rnn`: write a checkpoint as an ONNX folder (need torch, onnx, onnxscript, onnxruntime).
- `onnx_backend`: classify with an ONNX folder. It imports onnxruntime, tokenizers, numpy, tqdm, `hfnews.errors` and
  `hfnews.data.tokenization` (for cutting long texts), never torch or a torch-importing hfnews module: a deployment
  without torch is its
  point (`tests/test_onnx_backend.py` runs `scripts/predict.py` where torch cannot be imported).
- `backends`: one interface over a torch checkpoint and an ONNX folder; imports torch only for a checkpoint.
- `batching`, `server`, `load_test`: the FastAPI server (extra `serve`) and the load generator of its tests and
  benchmark; `demo`: the gradio page (extra `demo`). They run any backend and import torch only through `backends`.

May import every stage before it (data, models, evaluation, training's report). Nothing else in hfnews imports it,
except `hfnews.registration`, which registers `pipelines` when transformers loads its pipelines.
"""
