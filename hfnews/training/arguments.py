"""`scripts/train.py`'s command line: the training arguments, and how a named YAML config becomes the defaults of
every stage's dataclass (`DataArguments` of `hfnews.data`, `ModelArguments` of `hfnews.models`, the Trainer's here),
assembled by one `HfArgumentParser` as in transformers' `run_classification.py`.

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

from ..cli import parse_dataclasses
from ..data.arguments import DataArguments
from ..errors import HfnewsError
from ..models.arguments import ModelArguments
from .launch import check_launch


# Package data, so a wheel install finds the named configs as well as a checkout does (`configs/` links here).
CONFIG_DIR = Path(str(importlib.resources.files("hfnews") / "configs"))


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
    check_launch(int(os.environ.get("WORLD_SIZE", "1")))  # several machines asked for, one process started
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
