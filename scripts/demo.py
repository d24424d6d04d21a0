"""A demo page: a headline typed in is classified by every given model side by side (gradio, on 127.0.0.1).

python scripts/demo.py --model runs/cnn --model runs/bert-onnx        # http://127.0.0.1:7860

Each --model is a checkpoint folder or an ONNX folder from scripts/export.py. The examples are the models' most
confident test mistakes. `gradio_client.Client(url).predict(headline, api_name="/classify")` gives one label with
confidences per model.
"""

from dataclasses import dataclass, field

from transformers import HfArgumentParser

from hfnews.cli import run_cli
from hfnews.errors import HfnewsError
from hfnews.inference.backends import load_classifier


@dataclass
class DemoArguments:
    model: list[str] = field(metadata={"help": "Model folders (checkpoint or ONNX), one label each: --model A B."})
    host: str = field(default="127.0.0.1", metadata={"help": "The address to listen on (0.0.0.0: every one)."})
    port: int = field(default=7860, metadata={"help": "The port to listen on."})

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise HfnewsError(f"--port must be in 1-65535, got {self.port}")


def main() -> None:
    (args,) = HfArgumentParser(DemoArguments).parse_args_into_dataclasses()
    from hfnews.inference.demo import build_demo, example_headlines, model_names

    classifiers = [load_classifier(folder) for folder in args.model]
    demo = build_demo(classifiers, model_names(args.model), example_headlines(args.model))
    try:
        demo.launch(server_name=args.host, server_port=args.port)
    except OSError as error:  # gradio's "Cannot find empty port"
        raise HfnewsError(f"{error}; pass another --port") from None


if __name__ == "__main__":
    run_cli(main)
