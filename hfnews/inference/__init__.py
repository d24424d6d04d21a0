"""From checkpoint to service: ONNX export, a torch-free ONNX classifier, an HTTP server and a gradio demo page.

`export` and `exportable_rnn` need torch (they trace a checkpoint); `onnx_backend` needs only onnxruntime, numpy and
`tokenizers` and must never import torch, transformers or a torch-importing hfnews module (a deployment without torch
is its point; `tests/test_onnx_backend.py` checks it); `backends` picks torch or ONNX for a folder and imports torch
only for a torch checkpoint; `server` (FastAPI) and `demo` (gradio) serve any backend. Nothing outside this
subpackage imports it except the scripts.
"""
