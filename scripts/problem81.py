"""Problem 81: class probabilities of an untrained RNN (d_w = 300, d_h = 50) for a few headlines.

    python scripts/problem81.py --source ../shared/data/newsCorpora-dev.csv   # the first training headlines
    python scripts/problem81.py --texts "Fed raises rates" "Apple unveils new iPhone" --seed 1

With `--source`, the word IDs follow problem 80 on the training split and the first `--num_texts` training headlines
are classified, as the problem asks; with `--texts`, a tokenizer is built on the given headlines (every word kept).
Either way the probabilities are those of random weights: roughly uniform, different for every seed.
"""

from dataclasses import dataclass, field

import torch
from transformers import HfArgumentParser

from hfnews.cli import parse_dataclasses, run_cli
from hfnews.data.corpus import LABEL_NAMES, load_news_corpus
from hfnews.data.tokenization import train_word_tokenizer
from hfnews.models import NewsRNNConfig, NewsRNNForSequenceClassification


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
    source: str | None = field(
        default=None, metadata={"help": "Corpus source: classify its first training headlines instead of --texts."}
    )
    num_texts: int = field(default=4, metadata={"help": "How many training headlines to classify with --source."})
    seed: int = field(default=0, metadata={"help": "Seed of the random weights."})


def main() -> None:
    (args,) = parse_dataclasses(HfArgumentParser(Problem81Arguments))
    if args.source is not None:
        train = load_news_corpus(args.source).dataset["train"]
        tokenizer, texts = train_word_tokenizer(train["text"]), train["text"][: args.num_texts]
    else:
        tokenizer, texts = train_word_tokenizer(args.texts, min_frequency=1), args.texts
    config = NewsRNNConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        id2label=dict(enumerate(LABEL_NAMES)),
        label2id={name: i for i, name in enumerate(LABEL_NAMES)},
    )
    torch.manual_seed(args.seed)
    model = NewsRNNForSequenceClassification(config).eval()
    with torch.no_grad():
        probabilities = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(dim=-1)
    print(f"probabilities: shape {tuple(probabilities.shape)} (headlines x categories)")
    width = max(map(len, LABEL_NAMES))
    print("  ".join(f"{name:>{width}}" for name in LABEL_NAMES) + "  headline")
    for text, row in zip(texts, probabilities.tolist(), strict=True):
        print("  ".join(f"{p:{width}.4f}" for p in row) + f"  {text}")


if __name__ == "__main__":
    run_cli(main)
