"""Classify headlines with a trained checkpoint through `transformers.pipeline` (what users do after training).

python scripts/predict.py --model runs/cnn --texts "Fed raises interest rates" "Apple unveils a new iPhone"
"""

from dataclasses import dataclass, field

from transformers import HfArgumentParser, pipeline

from hfnews.cli import run_cli
from hfnews.factory import load_model, load_tokenizer


@dataclass
class PredictArguments:
    model: str = field(metadata={"help": "A checkpoint folder (or Hub id) written by scripts/train.py."})
    texts: list[str] = field(metadata={"help": "Headlines to classify."})
    top_k: int = field(default=1, metadata={"help": "How many categories to show per headline."})


def main() -> None:
    (args,) = HfArgumentParser(PredictArguments).parse_args_into_dataclasses()
    # Loading through hfnews gives one clear error line for a folder that is not a checkpoint.
    classifier = pipeline("text-classification", model=load_model(args.model), tokenizer=load_tokenizer(args.model))
    for text, scores in zip(args.texts, classifier(args.texts, top_k=args.top_k)):
        print(", ".join(f"{score['label']} {score['score']:.3f}" for score in scores) + f"\t{text}")


if __name__ == "__main__":
    run_cli(main)
