"""Problem 50: prepare the News Aggregator corpus as a DatasetDict (and the NLP 100 text files).

python scripts/prepare_data.py --source ../shared/data/NewsAggregatorDataset-dev.zip --output_dir data/news
"""

from dataclasses import dataclass, field

from transformers import HfArgumentParser

from hfnews.cli import run_cli
from hfnews.data import count_title_leakage, format_split_table, load_news_corpus, save_corpus


@dataclass
class PrepareArguments:
    output_dir: str = field(metadata={"help": "Folder for the DatasetDict (save_to_disk) and nlp100/*.txt."})
    source: str | None = field(
        default=None,
        metadata={
            "help": "Zip, newsCorpora.csv, URL of either, or a folder of NLP 100 train/valid/test.txt. "
            "Default: $HFNEWS_SOURCE, else the UCI archive."
        },
    )
    seed: int = field(default=0, metadata={"help": "Shuffle seed; the same seed gives the same split everywhere."})
    group_by: str = field(
        default="none", metadata={"help": "'story' keeps every STORY cluster in one split (no story leakage)."}
    )
    skip_malformed: bool = field(
        default=False, metadata={"help": "Skip (and list) malformed rows instead of stopping."}
    )


def main() -> None:
    (args,) = HfArgumentParser(PrepareArguments).parse_args_into_dataclasses()
    corpus = load_news_corpus(args.source, seed=args.seed, group_by=args.group_by, skip_malformed=args.skip_malformed)
    save_corpus(corpus.dataset, args.output_dir)
    if corpus.skipped:
        print(f"skipped {len(corpus.skipped)} malformed row(s):")
        print("\n".join(f"  {reason}" for reason in corpus.skipped))
    print(format_split_table(corpus.dataset))
    leaks = count_title_leakage(corpus.dataset)
    print("titles also in train, verbatim: " + ", ".join(f"{split} {count:,}" for split, count in leaks.items()))
    print(f"{'reused cached' if corpus.from_cache else 'prepared'} corpus saved to {args.output_dir}")


if __name__ == "__main__":
    run_cli(main)
