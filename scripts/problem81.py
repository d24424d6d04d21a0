"""Problem 81: class probabilities of an untrained RNN (d_w = 300, d_h = 50) for a few headlines.

    python scripts/problem81.py
    python scripts/problem81.py --texts "Fed raises rates" "Apple unveils new iPhone" --seed 1

The word IDs come from a tokenizer built on the given headlines (problem 80's rule, every word kept), so the
probabilities are those of random weights: roughly uniform, different for every seed.
"""

from dataclasses import dataclass, field

import torch
from transformers import HfArgumentParser

from hfnews.cli import run_cli
from hfnews.data import LABEL_NAMES
from hfnews.models import NewsRNNConfig, NewsRNNForSequenceClassification
from hfnews.tokenization import train_word_tokenizer


@dataclass
class Problem81Arguments:
    texts: list[str] = field(
        default_factory=lambda: [
            "Fed official says weak data caused by weather, should not slow taper",
            "Google unveils new Android smartwatch platform",
            "Kim Kardashian and Kanye West wedding photos released",
            "Ebola outbreak spreads in West Africa, WHO says",
        ],
        metadata={"help": "Headlines to classify."},
    )
    seed: int = field(default=0, metadata={"help": "Seed of the random weights."})


def main() -> None:
    (args,) = HfArgumentParser(Problem81Arguments).parse_args_into_dataclasses()
    tokenizer = train_word_tokenizer(args.texts, min_frequency=1)
    config = NewsRNNConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        id2label=dict(enumerate(LABEL_NAMES)),
        label2id={name: i for i, name in enumerate(LABEL_NAMES)},
    )
    torch.manual_seed(args.seed)
    model = NewsRNNForSequenceClassification(config).eval()
    with torch.no_grad():
        probabilities = model(**tokenizer(args.texts, padding=True, return_tensors="pt")).logits.softmax(dim=-1)
    print(f"probabilities: shape {tuple(probabilities.shape)} (headlines x categories)")
    width = max(map(len, LABEL_NAMES))
    print("  ".join(f"{name:>{width}}" for name in LABEL_NAMES) + "  headline")
    for text, row in zip(args.texts, probabilities.tolist(), strict=True):
        print("  ".join(f"{p:{width}.4f}" for p in row) + f"  {text}")


if __name__ == "__main__":
    run_cli(main)
