"""From checkpoint to service: ONNX export, a torch-free ONNX classifier, an HTTP server and a gradio demo page.

- `export`, `exportable_rnn`: write a checkpoint as an ONNX folder (need torch, onnx, onnxscript, onnxruntime).
- `onnx_backend`: classify with an ONNX folder. It imports only onnxruntime, tokenizers, numpy, tqdm and
  `hfnews.errors`, never torch, transformers or a torch-importing hfnews module: a deployment without torch is its
  point (`tests/test_onnx_backend.py` runs `scripts/predict.py` where torch cannot be imported).
- `backends`: one interface over a torch checkpoint and an ONNX folder; imports torch only for a checkpoint.
- `batching`, `server`, `load_test`: the FastAPI server (extra `serve`) and the load generator of its tests and
  benchmark; `demo`: the gradio page (extra `demo`). They run any backend and import torch only through `backends`.

Nothing in the rest of hfnews imports this subpackage; the scripts do.
"""
