"""Export a trained checkpoint (CNN, RNN or BERT) as an ONNX folder that runs without torch.

python scripts/export.py --model runs/cnn --output_dir runs/cnn-onnx
python scripts/export.py --model runs/cnn --output_dir runs/cnn-onnx --quantize int8   # also runs/cnn-onnx/int8

The folder holds `model.onnx` (dynamic batch and sequence length), the tokenizer and `config.json`; its logits are
checked against torch's before it is kept. `scripts/predict.py`, `scripts/serve.py` and `scripts/demo.py` take it
as `--model` and run it with onnxruntime.
"""

import os
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from hfnews.cli import run_cli


@dataclass
class ExportArguments:
    model: str = field(metadata={"help": "A checkpoint folder written by scripts/train.py."})
    output_dir: str = field(metadata={"help": "The ONNX folder to write (created if missing)."})
    quantize: str | None = field(
        default=None,
        metadata={"help": "int8: also write a dynamically quantized copy to OUTPUT_DIR/int8.", "choices": ["int8"]},
    )


def main() -> None:
    (args,) = HfArgumentParser(ExportArguments).parse_args_into_dataclasses()
    from hfnews.inference.export import export_onnx  # after parsing: --help need not load torch

    result = export_onnx(args.model, args.output_dir, args.quantize)
    print(f"{result.output_dir}: max |onnx - torch| logit difference {result.max_difference:.1e}")
    for folder in filter(None, [result.output_dir, result.quantized_dir]):
        size = os.path.getsize(folder / "model.onnx") / 2**20
        print(f"{folder / 'model.onnx'}: {size:.2f} MiB")


if __name__ == "__main__":
    run_cli(main)
