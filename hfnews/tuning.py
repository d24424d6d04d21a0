"""Hyperparameter search (problem 88): `Trainer.hyperparameter_search` with Optuna over a YAML search space.

The space file's schema lives in `hfnews.search_space`, the command line in `hfnews.arguments.parse_tune_args`; this
module runs the trials and writes their results. Model fields are drawn by `model_init(trial)`, which builds a fresh
model per trial; training fields by the Trainer itself (from `hp_space`).

Each epoch's validation accuracy is reported to Optuna under the epoch number, so a `MedianPruner` stops trials that
fall behind the median of the finished ones at the same epoch. The study lives in `OUT/study.db`: a search that is
stopped, even killed, resumes where it stopped, because `n_trials` counts the finished trials already in the study.
"""

import csv
import functools
import json
from dataclasses import replace
from pathlib import Path

import optuna
import sqlalchemy.exc
import yaml
from optuna.trial import FrozenTrial, TrialState
from tqdm.auto import tqdm
from transformers import PreTrainedModel, TrainerCallback

from .arguments import ModelArguments, SearchSetup
from .callbacks import VALIDATION_KEY
from .errors import HfnewsError
from .factory import build_model
from .integrity import DamagedFileError, write_text_atomically
from .plots import plot_trials
from .search_space import SearchSpace, load_search_space
from .training import Experiment, NewsTrainer, build_trainer, prepare_experiment
from .vectors import load_embedding_matrix


STUDY_DB, TRIALS_CSV, TRIALS_PLOT, BEST_CONFIG = "study.db", "trials.csv", "trials.png", "best.yaml"
OBJECTIVE = f"eval_{VALIDATION_KEY}_accuracy"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


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
    def embedding_matrix(source: str, embedding_dim: int | None, from_checkpoint: bool):
        vocab = tokenizer.get_vocab()
        return load_embedding_matrix(
            source, vocab, embedding_dim=embedding_dim, seed=seed, from_checkpoint=from_checkpoint
        )[0]

    def model_init(trial: optuna.Trial | None) -> PreTrainedModel:
        if trial is None:  # the Trainer's constructor asks for a model before any trial
            return experiment.model
        args = replace(model_args, **space.suggest(trial, space.model_fields))
        matrix = None
        if args.vectors_source is not None:
            matrix = embedding_matrix(args.vectors_source, args.embedding_dim, args.vectors_from_teacher)
        return build_model(args, tokenizer, label_names, seed, embedding_matrix=matrix)[0]

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
    """Run the trials the study still lacks, then write trials.csv, trials.png and best.yaml; returns the study.

    Raises `HfnewsError` for a search space that does not fit the architecture, before anything is written.
    """
    space = load_search_space(setup.search_space, setup.model.architecture)
    output_dir = Path(setup.training.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(output_dir / STUDY_DB).resolve()}"
    study_kwargs = {"storage": storage, "study_name": setup.study_name, "load_if_exists": True}
    try:
        study = optuna.create_study(direction="maximize", **study_kwargs)
    except sqlalchemy.exc.DatabaseError as error:  # a study.db cut short or overwritten: never start on top of it
        reason = str(error.orig or error).splitlines()[0]
        raise DamagedFileError(
            output_dir / STUDY_DB, f"is not a readable study ({reason}); delete it to start the search again"
        ) from None
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
        model_init = make_model_init(experiment, setup.model, space, setup.training.seed)
        trainer = build_trainer(experiment, setup.training, trainer_class=TuningTrainer, model_init=model_init)
        best = study.best_value if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) else None
        progress = TrialProgressCallback(setup.tune.n_trials, finished, best, disable=setup.training.disable_tqdm)
        trainer.add_callback(progress)
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
    write_results(study, setup, space, output_dir)
    return study


def write_results(study: optuna.Study, setup: SearchSetup, space: SearchSpace, output_dir: Path) -> None:
    """The leaderboard, the plot of accuracy by trial, and best.yaml."""
    trials = study.get_trials(deepcopy=False)
    write_leaderboard(trials, space, output_dir / TRIALS_CSV)
    points = [(t.number, t.value, t.state.name.lower()) for t in trials if t.state in FINISHED and t.value is not None]
    plot_trials(points, output_dir / TRIALS_PLOT, title=f"{study.study_name}: validation accuracy by trial")
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    if not complete:
        raise HfnewsError(f"study {study.study_name!r} has no completed trial yet: run more trials (--n_trials)")
    best = study.best_trial
    best_params = space.decode(best.params)
    pruned = sum(trial.state == TrialState.PRUNED for trial in trials)
    header = (
        f"# Best trial ({best.number}) of the search {study.study_name!r} in {output_dir / STUDY_DB} "
        f"({len(complete)} complete, {pruned} pruned trials): validation accuracy {best.value:.4f}\n"
    )
    config = {**setup.base_config, **best_params}
    # Atomic: a cut-short best.yaml could still parse, and train the rest of the config's fields at their defaults.
    write_text_atomically(output_dir / BEST_CONFIG, header + yaml.dump(config, Dumper=_ConfigDumper, sort_keys=False))
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
