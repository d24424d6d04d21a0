"""Where the corpus comes from and how titles become word IDs (`DataArguments`, one of the dataclasses
`scripts/train.py`'s `HfArgumentParser` assembles)."""

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HfnewsError
from .corpus_cache import CorpusOptions
from .text_files import RECORD_SUFFIXES


@dataclass
class DataArguments:
    """Where the corpus comes from and how titles become word IDs."""

    source: str | None = field(
        default=None,
        metadata={"help": "Zip, newsCorpora.csv, URL or NLP 100 folder; default $HFNEWS_SOURCE, else UCI."},
    )
    dataset: str | None = field(
        default=None,
        metadata={
            "help": "A DatasetDict.save_to_disk folder (instead of --source): scripts/prepare_data.py's, or any with "
            "a train split and a ClassLabel, integer or string label column."
        },
    )
    # The next five are the flags of transformers' run_classification.py, for any labelled text data.
    train_file: str | None = field(
        default=None,
        metadata={"help": "A CSV, TSV, JSON or JSON Lines file of texts and labels (instead of --source)."},
    )
    validation_file: str | None = field(
        default=None, metadata={"help": "Validation rows, as --train_file; default: a tenth of train, split off."}
    )
    test_file: str | None = field(
        default=None, metadata={"help": "Test rows, as --train_file; default: a tenth of train, split off."}
    )
    text_column_name: str = field(default="text", metadata={"help": "The text column of --train_file/--dataset."})
    label_column_name: str = field(default="label", metadata={"help": "The label column of --train_file/--dataset."})
    split_seed: int = field(
        default=0, metadata={"help": "Seed of the 80/10/10 shuffle (problem 50) and of splits taken off train."}
    )
    group_by: str = field(default="none", metadata={"help": "'story' keeps STORY clusters within one split."})
    skip_malformed: bool = field(
        default=False, metadata={"help": "Skip (and list) malformed rows of the source instead of stopping."}
    )
    column_order: str | None = field(
        default=None,
        metadata={"help": "Split files: 'category,title' or 'title,category' (default: detected per file)."},
    )
    header: bool | None = field(
        default=None, metadata={"help": "Split files: whether the first line is a header line (default: detected)."}
    )
    quoting: str | None = field(
        default=None,
        metadata={"help": "Split files: 'pandas' decodes pandas to_csv quoting, 'none' keeps it (default: detected)."},
    )
    numeric_labels: str | None = field(
        default=None,
        metadata={"help": "Split files with numeric labels: the category of 0, 1, 2, ... in order, e.g. b,t,e,m."},
    )
    min_frequency: int = field(default=2, metadata={"help": "Words seen fewer times in train get ID 0 (problem 80)."})
    lowercase: bool = field(default=True, metadata={"help": "Lower-case titles before the word lookup."})
    split_punctuation: bool = field(default=True, metadata={"help": "Split punctuation off words."})
    max_length: int | None = field(
        default=None,
        metadata={
            "help": "Read at most this many tokens of a title (default: 256 for rnn/cnn, far above any headline, "
            "so that a huge line cannot exhaust memory; the checkpoint's own limit, 512, for bert). Saved with the "
            "tokenizer, so predict.py and pipeline() cut texts the same way."
        },
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training rows."})
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N validation and test rows."}
    )
    train_eval_samples: int | None = field(
        default=None,
        metadata={"help": "Rows of train scored each epoch for the training loss/accuracy (default: all)."},
    )

    @property
    def corpus(self) -> CorpusOptions:
        """The UCI corpus options of these arguments, as one object (`--source`, `--split_seed`, ...)."""
        return CorpusOptions(
            self.source, self.split_seed, self.group_by, self.skip_malformed, self.column_order, self.header,
            self.quoting, self.numeric_labels,
        )  # fmt: skip

    def __post_init__(self) -> None:
        inputs = [f"--{name}" for name in ("source", "dataset", "train_file") if getattr(self, name) is not None]
        if len(inputs) > 1:
            raise HfnewsError(f"pass only one of --source, --dataset and --train_file, got {' and '.join(inputs)}")
        for name in ("train_file", "validation_file", "test_file"):
            if getattr(self, name) is not None:
                check_data_file(name, getattr(self, name))
        if self.train_file is None and (self.validation_file or self.test_file):
            raise HfnewsError("--validation_file and --test_file need a --train_file")
        columns = (self.text_column_name, self.label_column_name)
        if self.train_file is None and self.dataset is None and columns != ("text", "label"):
            raise HfnewsError(
                "--text_column_name/--label_column_name apply to --train_file or --dataset, not the UCI corpus"
            )
        if self.group_by != "none" and len(inputs) == 1 and inputs[0] != "--source":
            raise HfnewsError(f"--group_by {self.group_by} groups the UCI corpus' STORY clusters; not {inputs[0]}")
        if self.text_column_name == self.label_column_name:
            raise HfnewsError(f"--text_column_name and --label_column_name are both {self.text_column_name!r}")
        self.corpus  # noqa: B018 - a bad group_by or layout value fails here, before any work
        for name in ("max_train_samples", "max_eval_samples", "train_eval_samples", "max_length"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise HfnewsError(f"{name} must be a positive number, got {value}")


def check_data_file(flag: str, path: str) -> None:
    """A `--train_file`-like path must exist and end in a suffix of `text_files.RECORD_SUFFIXES`."""
    if Path(path).suffix.lower() not in RECORD_SUFFIXES:
        raise HfnewsError(f"--{flag} {path}: the name must end in {', '.join(RECORD_SUFFIXES)} (it says the format)")
    if not Path(path).is_file():
        raise HfnewsError(f"--{flag} {path}: no such file")
