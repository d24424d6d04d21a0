"""Hyperparameter search (problem 88): `Trainer.hyperparameter_search` with Optuna over a YAML search space.

A search space file maps argument fields to distributions:

    learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}   # also `step`
    num_filters: {type: int, low: 32, high: 256, step: 32}               # also `log`
    kernel_sizes: {type: categorical, choices: [[3], [3, 5]]}           # lists too

Fields of `ModelArguments` shape the model, so `model_init(trial)` builds a fresh one per trial; fields of
`TrainingArguments` are set on the Trainer's arguments by the Trainer itself (from `hp_space`). Data fields cannot be
searched: the corpus is read and tokenized once per search.

Each epoch's validation accuracy is reported to Optuna under the epoch number, so a `MedianPruner` stops trials that
fall behind the median of the finished ones at the same epoch. The study lives in `OUT/study.db`: a search that is
stopped, even killed, resumes where it stopped, because `n_trials` counts the finished trials already in the study.
"""

import csv
import difflib
import functools
import json
import sys
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum
from pathlib import Path

import optuna
import yaml
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState
from tqdm.auto import tqdm
from transformers import HfArgumentParser, PreTrainedModel, TrainerCallback, TrainingArguments

from .arguments import (
    CONFIG_DIR,
    DATACLASSES,
    DataArguments,
    ModelArguments,
    RunArguments,
    config_path,
    parse_train_args,
    read_config,
)
from .callbacks import VALIDATION_KEY
from .errors import HfnewsError
from .factory import CNN_FIELDS, RNN_FIELDS, build_model
from .plots import plot_trials
from .training import Experiment, NewsTrainer, build_trainer, prepare_experiment
from .vectors import load_embedding_matrix


SEARCH_DIR = CONFIG_DIR / "search"
STUDY_DB, TRIALS_CSV, TRIALS_PLOT, BEST_CONFIG = "study.db", "trials.csv", "trials.png", "best.yaml"
OBJECTIVE = f"eval_{VALIDATION_KEY}_accuracy"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# The model fields a search may vary per architecture; bert comes pretrained, so only training fields apply to it.
WORD_MODEL_FIELDS = ("embedding_dim", "vectors", "freeze_embeddings", "classifier_dropout")
SEARCHABLE_MODEL_FIELDS = {"rnn": RNN_FIELDS + WORD_MODEL_FIELDS, "cnn": CNN_FIELDS + WORD_MODEL_FIELDS, "bert": ()}
# A search trains without checkpoints: a trial's value is its best epoch, and best.yaml retrains the winner.
SEARCH_TRAINING_ARGS = ["--save_strategy", "no", "--load_best_model_at_end", "false"]
_DISTRIBUTIONS = {"float": FloatDistribution, "int": IntDistribution, "categorical": CategoricalDistribution}
_RANGE_KEYS = {"low", "high", "step", "log"}
_SPEC_KEYS = {"float": _RANGE_KEYS, "int": _RANGE_KEYS, "categorical": {"choices"}}


@dataclass(frozen=True)
class SearchParam:
    """One searched field; `choices` keeps categorical choices as written (lists go to Optuna as JSON strings)."""

    name: str
    distribution: BaseDistribution
    choices: tuple = ()

    def suggest(self, trial: optuna.Trial):
        dist = self.distribution
        if isinstance(dist, FloatDistribution):
            return trial.suggest_float(self.name, dist.low, dist.high, step=dist.step, log=dist.log)
        if isinstance(dist, IntDistribution):
            return trial.suggest_int(self.name, dist.low, dist.high, step=dist.step, log=dist.log)
        return self.decode(trial.suggest_categorical(self.name, dist.choices))

    def decode(self, value):
        """The value as the argument dataclasses take it, from what Optuna stored."""
        if not self.choices or value not in self.distribution.choices:
            return value
        return self.choices[self.distribution.choices.index(value)]


@dataclass(frozen=True)
class SearchSpace:
    """The searched fields of one architecture, in file order."""

    path: Path
    params: dict[str, SearchParam]

    @property
    def model_fields(self) -> list[str]:
        return [name for name in self.params if name in ModelArguments.__dataclass_fields__]

    @property
    def training_fields(self) -> list[str]:
        return [name for name in self.params if name not in ModelArguments.__dataclass_fields__]

    def suggest(self, trial: optuna.Trial, names: list[str]) -> dict:
        """Draw `names` for `trial` as the argument dataclasses take them."""
        values = {}
        for name in sorted(names, key=lambda name: name != "vectors"):  # vectors decide whether embedding_dim applies
            if name == "embedding_dim" and values.get("vectors") is not None:
                continue
            values[name] = self.params[name].suggest(trial)
        return _with_derived(values)

    def decode(self, params: dict) -> dict:
        """A finished trial's parameters as argument values (fields no longer in the space are kept as stored)."""
        return _with_derived(
            {name: self.params[name].decode(value) if name in self.params else value for name, value in params.items()}
        )


def _with_derived(values: dict) -> dict:
    # Pretrained vectors set the embedding size (as `--vectors` does for train.py), whatever the base config says.
    if values.get("vectors") is not None:
        values["embedding_dim"] = None
    return values


def load_search_space(path: str | Path, architecture: str) -> SearchSpace:
    """Read and check a search space file: every field must be one the architecture's training can vary."""
    path = Path(path)
    if not path.is_file():
        raise HfnewsError(f"search space not found: {path} (pass --search_space FILE)")
    spec = yaml.safe_load(path.read_text())
    if not isinstance(spec, dict) or not spec:
        raise HfnewsError(f"{path} must map field names to distributions, e.g. learning_rate: {{type: float, ...}}")
    params = {}
    for name, param_spec in spec.items():
        _check_field(path, str(name), architecture)
        params[name] = _parse_param(path, name, param_spec)
    return SearchSpace(path, params)


def _check_field(path: Path, name: str, architecture: str) -> None:
    model_fields = SEARCHABLE_MODEL_FIELDS[architecture]
    if name in DataArguments.__dataclass_fields__:
        raise HfnewsError(
            f"{path}: {name} is a data field: the corpus is tokenized once per search, so it cannot vary between "
            "trials (set it in the base config or on the command line)"
        )
    if name in ModelArguments.__dataclass_fields__ and name not in model_fields:
        searchable = ", ".join(model_fields) or "none (search TrainingArguments fields such as learning_rate)"
        raise HfnewsError(f"{path}: {name} does not shape a {architecture} model; its searchable fields: {searchable}")
    if name not in ModelArguments.__dataclass_fields__ and name not in _training_field_types():
        known = [*model_fields, *_training_field_types()]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise HfnewsError(f"{path}: unknown field {name!r}{hint}: search ModelArguments or TrainingArguments fields")


def _parse_param(path: Path, name: str, spec) -> SearchParam:
    where = f"{path}: {name}"
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind not in _DISTRIBUTIONS:
        raise HfnewsError(f"{where} needs a mapping whose type is one of {', '.join(_DISTRIBUTIONS)}, got {spec!r}")
    unknown = sorted(set(spec) - {"type"} - _SPEC_KEYS[kind])
    if unknown:
        raise HfnewsError(
            f"{where}: unknown key(s) {', '.join(unknown)} for type {kind} ({', '.join(_SPEC_KEYS[kind])})"
        )
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise HfnewsError(f"{where}: categorical needs a non-empty list of choices")
        encoded = [json.dumps(choice) if isinstance(choice, list | dict) else choice for choice in choices]
        return SearchParam(name, CategoricalDistribution(encoded), tuple(choices))
    if not {"low", "high"} <= spec.keys():
        raise HfnewsError(f"{where}: type {kind} needs low and high")
    if kind == "float" and float not in _base_types(name):
        raise HfnewsError(
            f"{where}: the field takes {_type_names(name)} values, not floats: use type int or categorical"
        )
    if kind == "int" and not _base_types(name) & {int, float}:
        raise HfnewsError(f"{where}: the field takes {_type_names(name)} values: use type categorical")
    if not isinstance(spec.get("log", False), bool):
        raise HfnewsError(f"{where}: log must be true or false, got {spec['log']!r}")
    bounds = {
        key: _number(where, key, spec[key], kind) for key in ("low", "high", "step") if spec.get(key) is not None
    }
    try:
        return SearchParam(name, _DISTRIBUTIONS[kind](**bounds, log=spec.get("log", False)))
    except ValueError as error:
        raise HfnewsError(f"{where}: {error}") from None


def _number(where: str, key: str, value, kind: str) -> int | float:
    """A bound as a number; PyYAML reads `1e-4` (no dot) as a string, so strings that parse as floats are accepted."""
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise HfnewsError(f"{where}: {key} must be an integer, got {value!r}")
    try:
        if isinstance(value, bool):
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise HfnewsError(f"{where}: {key} must be a number, got {value!r}") from None


@functools.cache
def _training_field_types() -> dict[str, object]:
    hints = typing.get_type_hints(TrainingArguments)
    return {item.name: hints[item.name] for item in fields(TrainingArguments) if item.init}


def _base_types(name: str) -> set[type]:
    annotation = typing.get_type_hints(ModelArguments).get(name) or _training_field_types()[name]
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return {item for item in (typing.get_args(annotation) if is_union else (annotation,)) if item is not type(None)}


def _type_names(name: str) -> str:
    return " or ".join(getattr(item, "__name__", str(item)) for item in _base_types(name))


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
    """A parsed `scripts/tune.py` command line: the search, the base run it varies, and its checked space."""

    tune: TuneArguments
    run: RunArguments
    model: ModelArguments
    data: DataArguments
    training: TrainingArguments
    space: SearchSpace
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
    space = load_search_space(tune_args.search_space or SEARCH_DIR / f"{name}.yaml", model_args.architecture)
    path = config_path(run_args.model, run_args.config)
    parsed = {**asdict(model_args), **asdict(data_args)}
    overrides = {
        key: _yaml_value(parsed[key] if key in parsed else getattr(training_args, key))
        for key in sorted(given - {"output_dir", "model", "config"})
    }
    base = {**(read_config(path) if path else {}), **overrides}
    study_name = tune_args.study_name or f"hfnews-{name}"
    return SearchSetup(tune_args, run_args, model_args, data_args, training_args, space, study_name, base)


def _given_fields(args: list[str]) -> set[str]:
    """The argument fields named on a command line, however spelled (`--no_lowercase`, `--learning-rate`)."""
    unset = object()  # not a string: argparse would run a string default through the field's type
    parser = HfArgumentParser(DATACLASSES)
    parser.set_defaults(**{item.name: unset for cls in DATACLASSES for item in fields(cls)})
    namespace, _ = parser.parse_known_args(args)
    return {key for key, value in vars(namespace).items() if value is not unset}


def _yaml_value(value):
    return value.value if isinstance(value, Enum) else value


class TuningTrainer(NewsTrainer):
    """The Trainer of a search: reports each epoch's validation accuracy under the epoch number.

    The Trainer's own optuna hook (`_report_to_hp_search`) already reports the objective after every evaluation and
    raises `optuna.TrialPruned` when `trial.should_prune()`, but under `state.global_step`. Trials with different
    batch sizes then report at different steps, and the median pruner, which compares values at the same step,
    never finds one to compare with: nothing would be pruned. Reporting under the epoch makes trials comparable.
    A trial's objective is its best epoch, the one `load_best_model_at_end` keeps when best.yaml is trained.
    """

    def _report_to_hp_search(self, trial, step: int, metrics: dict[str, float]) -> None:
        best = getattr(self, "objective", None)
        super()._report_to_hp_search(trial, round(self.state.epoch), metrics)
        if best is not None and self.objective is not None:
            self.objective = max(best, self.objective)


class TrialProgressCallback(TrainerCallback):
    """A progress bar over the search's trials (the Trainer's optuna hook does not pass `show_progress_bar`).

    The Trainer calls `on_train_end` for pruned trials too, before it raises `optuna.TrialPruned`.
    """

    def __init__(self, total: int, finished: int, best: float | None, disable: bool = False) -> None:
        self.best = best
        self.bar = tqdm(total=total, initial=finished, desc="trials", unit="trial", disable=disable)
        self._show_best()

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        value = (metrics or {}).get(OBJECTIVE)
        if value is not None and (self.best is None or value > self.best):
            self.best = value
            self._show_best()

    def on_train_end(self, args, state, control, **kwargs):
        self.bar.update()

    def close(self) -> None:
        self.bar.close()

    def _show_best(self) -> None:
        if self.best is not None:
            self.bar.set_postfix_str(f"best validation accuracy {self.best:.4f}")


def validation_accuracy(metrics: dict[str, float]) -> float:
    """The objective: the Trainer's default would add up every metric of both evaluation sets."""
    return metrics[OBJECTIVE]


def make_model_init(experiment: Experiment, model_args: ModelArguments, space: SearchSpace, seed: int):
    """`model_init(trial)` for the Trainer: a fresh model with the trial's model fields.

    Pretrained vectors are read once per (source, size) and reused by every trial that draws them.
    """
    tokenizer, label_names = experiment.tokenizer, experiment.label_names

    @functools.cache
    def embedding_matrix(source: str, embedding_dim: int | None):
        return load_embedding_matrix(source, tokenizer.get_vocab(), embedding_dim=embedding_dim, seed=seed)[0]

    def model_init(trial: optuna.Trial | None) -> PreTrainedModel:
        if trial is None:  # the Trainer's constructor asks for a model before any trial
            return experiment.model
        args = replace(model_args, **space.suggest(trial, space.model_fields))
        if args.vectors is None:
            return build_model(args, tokenizer, label_names, seed)[0]
        matrix = embedding_matrix(args.vectors, args.embedding_dim)
        args = replace(args, vectors=None, embedding_dim=matrix.shape[1])
        model = build_model(args, tokenizer, label_names, seed)[0]
        model.get_input_embeddings().weight.data.copy_(matrix)
        return model

    return model_init


def retry_interrupted_trials(study: optuna.Study) -> int:
    """Trials a killed search left RUNNING can never finish: mark them failed and queue their parameters again, so
    the resumed search starts with them. Only one search may run per study."""
    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        study.tell(trial.number, state=TrialState.FAIL)
        study.enqueue_trial(trial.params)
    return len(stale)


def run_search(setup: SearchSetup) -> optuna.Study:
    """Run the trials the study still lacks, then write trials.csv, trials.png and best.yaml; returns the study."""
    output_dir = Path(setup.training.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(output_dir / STUDY_DB).resolve()}"
    study_kwargs = {"storage": storage, "study_name": setup.study_name, "load_if_exists": True}
    study = optuna.create_study(direction="maximize", **study_kwargs)
    retried = retry_interrupted_trials(study)
    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    missing = setup.tune.n_trials - finished
    print(
        f"study {setup.study_name!r} in {output_dir / STUDY_DB}: {finished} finished trial(s)"
        + (f", {retried} interrupted one(s) to retry" if retried else "")
        + (f"; running {missing} more" if missing > 0 else f"; n_trials {setup.tune.n_trials} reached")
    )
    if missing > 0:
        experiment = prepare_experiment(setup.model, setup.data, setup.training)
        model_init = make_model_init(experiment, setup.model, setup.space, setup.training.seed)
        trainer = build_trainer(experiment, setup.training, trainer_class=TuningTrainer, model_init=model_init)
        best = study.best_value if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) else None
        progress = TrialProgressCallback(setup.tune.n_trials, finished, best, disable=setup.training.disable_tqdm)
        trainer.add_callback(progress)
        space = setup.space
        try:
            trainer.hyperparameter_search(
                hp_space=lambda trial: space.suggest(trial, space.training_fields),
                compute_objective=validation_accuracy,
                n_trials=missing,
                direction="maximize",
                backend="optuna",
                # The sampler's seed moves on with the study, so a resumed search does not redraw the first trials.
                sampler=optuna.samplers.TPESampler(seed=setup.training.seed + len(study.trials)),
                pruner=optuna.pruners.MedianPruner(
                    n_startup_trials=setup.tune.pruning_startup_trials, n_warmup_steps=setup.tune.pruning_first_epoch
                ),
                **study_kwargs,
            )
        finally:
            progress.close()
    study = optuna.load_study(study_name=setup.study_name, storage=storage)
    write_results(study, setup, output_dir)
    return study


def write_results(study: optuna.Study, setup: SearchSetup, output_dir: Path) -> None:
    """The leaderboard, the plot of accuracy by trial, and best.yaml."""
    trials = study.get_trials(deepcopy=False)
    write_leaderboard(trials, setup.space, output_dir / TRIALS_CSV)
    points = [(t.number, t.value, t.state.name.lower()) for t in trials if t.state in FINISHED and t.value is not None]
    plot_trials(points, output_dir / TRIALS_PLOT, title=f"{study.study_name}: validation accuracy by trial")
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    if not complete:
        raise HfnewsError(f"study {study.study_name!r} has no completed trial yet: run more trials (--n_trials)")
    best = study.best_trial
    best_params = setup.space.decode(best.params)
    pruned = sum(trial.state == TrialState.PRUNED for trial in trials)
    header = (
        f"# Best trial ({best.number}) of the search {study.study_name!r} in {output_dir / STUDY_DB} "
        f"({len(complete)} complete, {pruned} pruned trials): validation accuracy {best.value:.4f}\n"
    )
    config = {**setup.base_config, **best_params}
    (output_dir / BEST_CONFIG).write_text(header + yaml.dump(config, Dumper=_ConfigDumper, sort_keys=False))
    print(
        f"best: trial {best.number}, validation accuracy {best.value:.4f}"
        + "".join(f"\n  {name}: {value}" for name, value in best_params.items())
        + f"\nwrote {output_dir / TRIALS_CSV}, {output_dir / TRIALS_PLOT} and {output_dir / BEST_CONFIG} "
        f"(train it: python scripts/train.py --config {output_dir / BEST_CONFIG} --output_dir DIR)"
    )


class _ConfigDumper(yaml.SafeDumper):
    """Block mappings with inline lists, as configs/*.yaml are written (`kernel_sizes: [3, 5]`)."""


_ConfigDumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def write_leaderboard(trials: list[FrozenTrial], space: SearchSpace, path: Path) -> None:
    """One row per trial, best value first (trials without a value last): number, state, value, duration, params."""
    names = list(dict.fromkeys([*space.params, *(name for trial in trials for name in trial.params)]))
    ranked = sorted(trials, key=lambda trial: (trial.value is None, -(trial.value or 0.0), trial.number))
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["number", "state", "value", "duration_s", *names])
        for trial in ranked:
            params = space.decode(trial.params)
            writer.writerow([
                trial.number,
                trial.state.name,
                "" if trial.value is None else f"{trial.value:.6f}",
                "" if trial.duration is None else f"{trial.duration.total_seconds():.1f}",
                *(_cell(params[name]) if name in params else "" for name in names),
            ])  # fmt: skip


def _cell(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)
