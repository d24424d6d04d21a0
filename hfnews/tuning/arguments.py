"""`scripts/tune.py`'s command line: train.py's arguments (a named config, then overrides) plus `TuneArguments`."""

import sys
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path

from transformers import HfArgumentParser, TrainingArguments

from ..data.arguments import DataArguments
from ..errors import HfnewsError
from ..models.arguments import ModelArguments
from ..training.arguments import (
    CONFIG_DIR,
    DATACLASSES,
    RunArguments,
    config_path,
    parse_train_args,
    read_config,
)


SEARCH_DIR = CONFIG_DIR / "search"  # the search space of each named config, for `scripts/tune.py --model NAME`
# A search trains without checkpoints: a trial's value is its best epoch, and best.yaml retrains the winner.
SEARCH_TRAINING_ARGS = ["--save_strategy", "no", "--load_best_model_at_end", "false"]


@dataclass
class TuneArguments:
    """How many trials, over which space, in which study."""

    n_trials: int = field(
        default=20,
        metadata={
            "help": "Finished trials of this worker (with --storage; else of the study): a resumed search runs only "
            "the missing ones."
        },
    )
    search_space: str | None = field(
        default=None, metadata={"help": "A search space YAML file (default: configs/search/<model>.yaml)."}
    )
    study_name: str | None = field(
        default=None, metadata={"help": "The study's name in its storage (default: hfnews-<model>)."}
    )
    storage: str | None = field(
        default=None,
        metadata={
            "help": "Where the study lives, shared by every worker started with it: an Optuna RDB URL "
            "(sqlite:///PATH, postgresql://..., mysql://...) or a file ending in .journal (Optuna's journal "
            "storage). Default: OUTPUT_DIR/study.db, this worker's alone."
        },
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
    # The search space file (checked by `hfnews.tuning.search_space.load_search_space` when the search starts).
    search_space: Path
    study_name: str
    # The base config plus the fields given on the command line, as a config file holds them (for best.yaml).
    base_config: dict
    # The argument fields given on the command line: they win over the search space (`hfnews.tuning.search`).
    command_line_fields: frozenset[str] = frozenset()


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
    return SearchSetup(
        tune_args, run_args, model_args, data_args, training_args, search_space, study_name, base, frozenset(overrides)
    )


def _given_fields(args: list[str]) -> set[str]:
    """The argument fields named on a command line, however spelled (`--no_lowercase`, `--learning-rate`)."""
    unset = object()  # not a string: argparse would run a string default through the field's type
    parser = HfArgumentParser(DATACLASSES)
    parser.set_defaults(**{item.name: unset for cls in DATACLASSES for item in fields(cls)})
    namespace, _ = parser.parse_known_args(args)
    return {key for key, value in vars(namespace).items() if value is not unset}


def _yaml_value(value):
    return value.value if isinstance(value, Enum) else value
