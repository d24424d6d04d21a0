"""Serve a model over HTTP: a torch checkpoint or an ONNX folder from scripts/export.py (run without torch).

python scripts/serve.py --model runs/cnn-onnx                  # http://127.0.0.1:8000
curl -s localhost:8000/predict -H 'content-type: application/json' -d '{"texts": ["Fed raises rates"]}'

`POST /predict` with `{"texts": [...]}` (at most --max_texts) answers `{"predictions": [{"label", "score"}, ...]}`;
`GET /health` answers once the model is loaded. It listens on 127.0.0.1 unless --host says otherwise.
"""

from dataclasses import dataclass, field

from transformers import HfArgumentParser

from hfnews.cli import run_cli
from hfnews.errors import HfnewsError
from hfnews.inference.backends import load_classifier
from hfnews.inference.server import MAX_TEXTS, serve


@dataclass
class ServeArguments:
    model: str = field(metadata={"help": "A checkpoint folder, or an ONNX folder written by scripts/export.py."})
    host: str = field(default="127.0.0.1", metadata={"help": "The address to listen on (0.0.0.0: every one)."})
    port: int = field(default=8000, metadata={"help": "The port to listen on (0: a free one, printed)."})
    threads: int | None = field(
        default=None, metadata={"help": "Intra-op threads of torch or onnxruntime (default: theirs)."}
    )
    max_texts: int = field(default=MAX_TEXTS, metadata={"help": "The most texts one request may carry."})

    def __post_init__(self) -> None:
        if not 0 <= self.port < 65536 or self.max_texts < 1 or (self.threads is not None and self.threads < 1):
            raise HfnewsError("--port must be in 0-65535, --max_texts and --threads positive")


def main() -> None:
    (args,) = HfArgumentParser(ServeArguments).parse_args_into_dataclasses()
    serve(load_classifier(args.model, args.threads), args.host, args.port, args.max_texts)


if __name__ == "__main__":
    run_cli(main)
