"""Writing a checkpoint as an ONNX folder: `model.onnx` (dynamic batch and sequence length), the tokenizer and
`config.json`, checked against torch before it is kept; with `quantize="int8"` also a dynamically quantized copy.

The graph comes from `torch.onnx.export(..., dynamo=True)`: optimum's exporter needs transformers < 4.58. It takes
`input_ids` and `attention_mask` (int64, `(batch, sequence)`) and gives `logits` (float32, `(batch, num_labels)`).
The RNN is traced through `ExportableNewsRNN`, whose forward has no data-dependent shapes.
"""

import logging
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel

from ..errors import HfnewsError
from ..models.loading import load_model, load_tokenizer
from .exportable_rnn import ExportableNewsRNN
from .onnx_backend import MODEL_FILE, QUANTIZED_DIR, OnnxClassifier
from .prediction import predict_logits


logger = logging.getLogger(__name__)

# The folder's files that the ONNX backend or the demo read besides the graph: the card's mistakes give examples.
COPIED_FILES = ("test_predictions.jsonl", "README.md")
# ONNX ops that dynamic int8 quantization rewrites. Not Conv: onnxruntime's dynamically quantized convolution ran
# the CNN 2.4x slower than float (issue 21), while float Conv beside int8 MatMul/Gemm was as fast as all-float.
QUANTIZED_OPS = ["MatMul", "Gemm", "Gather", "Attention", "LSTM"]
# Largest |onnx - torch| logit difference accepted at export; float32 kernels differ in summation order (issue 21
# measured 1e-6 on the CNN; the tests hold tiny models to 1e-5).
EXPORT_TOLERANCE = 1e-4
CHECK_TEXTS = ["", "Fed raises interest rates", "Apple unveils a new iPhone with a bigger screen than ever before"]


@contextmanager
def quiet_exporters() -> Iterator[None]:
    """Hide the exporter's and the quantizer's chatter (an INFO line per graph pass, torchvision notices, warnings
    about axis names); errors still show and raise."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx")]
    levels = [logger.level for logger in loggers]
    for each in loggers:
        each.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for each, level in zip(loggers, levels):
            each.setLevel(level)


class LogitsOnly(nn.Module):
    """`(input_ids, attention_mask)` -> the wrapped classifier's `(batch, num_labels)` logits, for tracing."""

    def __init__(self, model: PreTrainedModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def exportable(model: PreTrainedModel) -> nn.Module:
    """The module to trace for `model`: `ExportableNewsRNN` for the RNN, the classifier's logits otherwise."""
    return ExportableNewsRNN(model) if model.config.model_type == "hfnews-rnn" else LogitsOnly(model)


def export_graph(model: PreTrainedModel, path: Path) -> None:
    """Trace `model` (eval mode, float32, CPU) into the ONNX file `path` with a dynamic batch and sequence length."""
    module = exportable(model.eval()).eval()
    # Example sizes above 1: torch.export specialises dimensions of size 0 and 1 to constants.
    example = (torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3, dtype=torch.long))
    axes = {0: torch.export.Dim("batch"), 1: torch.export.Dim("sequence")}
    names = {"input_names": ["input_ids", "attention_mask"], "output_names": ["logits"]}
    with torch.no_grad():
        if isinstance(module, ExportableNewsRNN):
            # torch.export decomposes aten.lstm/gru/rnn into one step per position, which fixes the sequence length
            # (guard Eq(sequence, 3)), and torch.onnx then falls back to that fixed-length graph. The TorchScript
            # exporter maps nn.LSTM/GRU/RNN to ONNX's own recurrent ops, whose length is dynamic.
            axes_names = {0: "batch", 1: "sequence"}
            torch.onnx.export(
                module,
                example,
                str(path),
                dynamo=False,
                dynamic_axes=dict.fromkeys(names["input_names"], axes_names),
                **names,
            )
        else:
            torch.onnx.export(
                module,
                example,
                str(path),
                dynamo=True,
                dynamic_shapes={"input_ids": axes, "attention_mask": axes},
                external_data=False,
                verbose=False,
                **names,
            )


def quantize_int8(source: Path, target: Path) -> None:
    """Write `source` (an ONNX file) dynamically quantized to int8 (weights int8, activations per batch) to
    `target`, leaving convolutions in float (see `QUANTIZED_OPS`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(source, target, op_types_to_quantize=QUANTIZED_OPS, weight_type=QuantType.QInt8)


@dataclass
class ExportResult:
    """What `export_onnx` wrote: folders and the largest logit difference from torch on `CHECK_TEXTS`."""

    output_dir: Path
    max_difference: float
    quantized_dir: Path | None = None


def _copy_companions(model_dir: str, tokenizer, model: PreTrainedModel, output_dir: Path) -> None:
    """The tokenizer, `config.json` (labels) and the card's files next to the graph."""
    tokenizer.save_pretrained(output_dir)
    model.config.save_pretrained(output_dir)
    for name in COPIED_FILES:
        if (Path(model_dir) / name).is_file():
            shutil.copyfile(Path(model_dir) / name, output_dir / name)


def max_logit_difference(model: PreTrainedModel, tokenizer, onnx_dir: Path, texts: list[str]) -> float:
    """Largest |onnxruntime - torch| over the logits of `texts` (a float, in logit units)."""
    expected = predict_logits(model, tokenizer, texts, progress=False).numpy()
    # Batches of two: at least two differently shaped batches, so a graph fixed to one shape fails the check.
    return float(np.abs(OnnxClassifier(onnx_dir).logits(texts, batch_size=2) - expected).max())


def export_onnx(model_dir: str, output_dir: str | Path, quantize: str | None = None) -> ExportResult:
    """Export the checkpoint `model_dir` (CNN, RNN or BERT) as an ONNX folder `output_dir` (see the module doc).

    Raises:
        HfnewsError: for a folder that is not a checkpoint, an `output_dir` that is a file or the checkpoint
            itself, an unknown `quantize` (only "int8"), or a graph whose
            logits differ from torch's by more than `EXPORT_TOLERANCE` (nothing is left in `output_dir` then).
    """
    if quantize not in (None, "int8"):
        raise HfnewsError(f"--quantize takes int8, got {quantize!r}")
    output_dir = Path(output_dir)
    if output_dir.exists() and (not output_dir.is_dir() or output_dir.resolve() == Path(model_dir).resolve()):
        raise HfnewsError(f"--output_dir {output_dir} is a file or the checkpoint itself; pass a new folder")
    model, tokenizer = load_model(model_dir).float().eval(), load_tokenizer(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    logger.info("exporting %s to %s", model_dir, output_dir / MODEL_FILE)
    with quiet_exporters():
        export_graph(model, output_dir / MODEL_FILE)
    _copy_companions(model_dir, tokenizer, model, output_dir)
    difference = max_logit_difference(model, tokenizer, output_dir, CHECK_TEXTS)
    if difference > EXPORT_TOLERANCE:
        (output_dir / MODEL_FILE).unlink()
        raise HfnewsError(f"the ONNX graph's logits differ from torch's by {difference:.2g} > {EXPORT_TOLERANCE}")
    result = ExportResult(output_dir, difference)
    if quantize == "int8":
        result.quantized_dir = output_dir / QUANTIZED_DIR
        result.quantized_dir.mkdir(exist_ok=True)
        with quiet_exporters():
            quantize_int8(output_dir / MODEL_FILE, result.quantized_dir / MODEL_FILE)
        _copy_companions(model_dir, tokenizer, model, result.quantized_dir)
    return result
