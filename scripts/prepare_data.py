"""Problem 50: prepare the News Aggregator corpus as a DatasetDict (and the NLP 100 text files).

python scripts/prepare_data.py --source ../shared/data/NewsAggregatorDataset-dev.zip --output_dir data/news

Plain `argparse`, so preparing data imports neither torch nor transformers; when the cache already holds the corpus it
does not import `datasets` either (~1 s): the output folder becomes a checked copy of the cache entry, and the counts
printed are those recorded when the entry was written. The flags are those of
`hfnews.data.arguments.DataArguments` where both exist (`--source`, `--group_by`, `--skip_malformed` and the layout
overrides of split files).
"""

import argparse

from hfnews.cli import reject_unknown, run_cli
from hfnews.data.corpus_cache import (
    CorpusOptions,
    cached_report,
    copy_saved_corpus,
    locate_corpus,
    log_layout,
    read_report,
)
from hfnews.data.split_files import COLUMN_ORDERS, QUOTINGS


def string_to_bool(value: str) -> bool:
    """`true`/`false` as `HfArgumentParser` reads them (yes/no, t/f, y/n, 1/0 too)."""
    if value.lower() in ("yes", "true", "t", "y", "1"):
        return True
    if value.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def parse_args(args: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output_dir",
        "--output-dir",
        required=True,
        help="Folder for the DatasetDict (save_to_disk) and nlp100/*.txt.",
    )
    parser.add_argument(
        "--source",
        help="Zip, newsCorpora.csv, Kaggle's uci-news-aggregator.csv, a URL of these, or a folder of split files "
        "(train, valid/val/dev, test as .txt/.tsv/.csv). Default: $HFNEWS_SOURCE, else the UCI archive.",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="Shuffle seed; the same seed gives the same split everywhere."
    )
    parser.add_argument(
        "--group_by",
        "--group-by",
        default="none",
        help="'story' keeps every STORY cluster in one split (no story leakage).",
    )
    flag = {"type": string_to_bool, "nargs": "?", "const": True}
    parser.add_argument(
        "--skip_malformed",
        "--skip-malformed",
        default=False,
        **flag,
        help="Skip (and list) malformed rows instead of stopping.",
    )
    layout = parser.add_argument_group("layout of split files (detected; these override the detection)")
    layout.add_argument(
        "--column_order",
        choices=COLUMN_ORDERS,
        metavar="{" + " | ".join(COLUMN_ORDERS) + "}",
        help="Order of the category and title columns.",
    )
    layout.add_argument("--header", default=None, **flag, help="Whether each file's first line is a header line.")
    layout.add_argument(
        "--quoting", choices=QUOTINGS, help="'pandas' decodes pandas to_csv quoting; 'none' keeps every character."
    )
    layout.add_argument(
        "--numeric_labels",
        "--label_names",  # the name; train.py cannot take it (TrainingArguments.label_names is another thing)
        dest="numeric_labels",
        help="Category of the numeric labels 0, 1, 2, ... in order, as codes or names, e.g. b,t,e,m "
        "(--label_names is the same option).",
    )
    parsed, unknown = parser.parse_known_args(args)
    reject_unknown(parser, unknown)
    return parsed


def main() -> None:
    args = parse_args()
    options = CorpusOptions(
        args.source, args.seed, args.group_by, args.skip_malformed, args.column_order, args.header, args.quoting,
        args.numeric_labels,
    )  # fmt: skip
    entry = locate_corpus(options)
    report = cached_report(entry)
    from_cache = report is not None
    if from_cache:
        log_layout(report["layout"])
    else:
        from hfnews.data.corpus import (
            load_corpus_entry,  # imports datasets: only when the cache cannot serve the corpus
        )

        from_cache = load_corpus_entry(entry).from_cache
        report = read_report(entry.folder)
    copy_saved_corpus(entry.folder, args.output_dir)
    if report["skipped"]:
        print(f"skipped {len(report['skipped'])} malformed row(s):")
        print("\n".join(f"  {reason}" for reason in report["skipped"]))
    print(report["split_table"])
    leaks = report["leakage"]
    print("titles also in train, verbatim: " + ", ".join(f"{split} {count:,}" for split, count in leaks.items()))
    print(f"{'reused cached' if from_cache else 'prepared'} corpus saved to {args.output_dir}")


if __name__ == "__main__":
    run_cli(main)
