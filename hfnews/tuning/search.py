"""Hyperparameter search (problem 88): `Trainer.hyperparameter_search` with Optuna over a YAML search space.

The space file's schema lives in `hfnews.tuning.search_space`, the command line in
`hfnews.tuning.arguments.parse_tune_args`; this
module runs the trials and writes their results. Model fields are drawn by `model_init(trial)`, which builds a fresh
model per trial; training fields by the Trainer itself (from `hp_space`).

Each epoch's validation accuracy is reported to Optuna under the epoch number, so a `MedianPruner` stops trials that
fall behind the median of the finished ones at the same epoch. The study lives in `OUT/study.db`, or in the storage
`--storage` names, which several workers (`scripts/tune.py` processes, on one machine or several) may share: Optuna
numbers their trials once and the pruner sees every worker's reports. Each trial records its worker (host and output
folder), and `n_trials` counts the finished trials of this worker, so a worker that is stopped, even killed, resumes
where it stopped when started again with the same output folder.
"""

import csv
import functools
import json
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import optuna
import sqlalchemy.engine
import sqlalchemy.exc
import yaml
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState
from tqdm.auto import tqdm
from transformers import PreTrainedModel, TrainerCallback

from ..errors import HfnewsError
from ..evaluation.plots import plot_trials
from ..integrity import DamagedFileError, write_text_atomically
from ..models.arguments import ModelArguments
from ..models.factory import build_model
from ..models.vectors import load_embedding_matrix
from ..training.callbacks import VALIDATION_KEY
from ..training.run import Experiment, prepare_experiment
from ..training.trainer import NewsTrainer, build_trainer
from .arguments import SearchSetup
from .search_space import SearchSpace, load_search_space


STUDY_DB, TRIALS_CSV, TRIALS_PLOT, BEST_CONFIG = "study.db", "trials.csv", "trials.png", "best.yaml"
JOURNAL_SUFFIX = ".journal"  # a `--storage` path with this suffix is an Optuna journal file
WORKER_ATTR = "hfnews_worker"  # the trial's user attribute naming the worker that ran it (`worker_name`)
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


@dataclass(frozen=True)
class StudyStorage:
    """Where a study lives: what `optuna.create_study` takes as `storage`, a name to print, and whether other
    workers may share it (`--storage`) or it is this output folder's alone (`study.db`)."""

    storage: str | BaseStorage
    where: str
    shared: bool


def open_storage(storage: str | None, output_dir: Path) -> StudyStorage:
    """The storage `--storage` names: None is `OUTPUT_DIR/study.db`; a path ending in `.journal` Optuna's journal file
    (what Optuna advises for several processes on one machine or on a shared disk: appends under a file lock);
    anything else an RDB URL, passed to Optuna as is (`sqlite:///PATH`, `postgresql://...`, `mysql://...`).

    Raises:
        HfnewsError: for a journal file whose folder does not exist, or a value that is neither a URL nor a journal.
    """
    if storage is None:
        path = output_dir / STUDY_DB
        return StudyStorage(f"sqlite:///{path.resolve()}", str(path), shared=False)
    if storage.endswith(JOURNAL_SUFFIX):
        path = Path(storage)
        if not path.parent.is_dir():
            raise HfnewsError(f"--storage {storage}: the folder {path.parent} does not exist")
        return StudyStorage(JournalStorage(JournalFileBackend(str(path.resolve()))), storage, shared=True)
    if "://" not in storage:
        raise HfnewsError(
            f"--storage {storage}: pass a database URL (sqlite:///PATH, postgresql://HOST/DB, mysql://HOST/DB) or a "
            f"file ending in {JOURNAL_SUFFIX}"
        )
    try:  # printed in logs and best.yaml: never with its password
        where = sqlalchemy.engine.make_url(storage).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        raise HfnewsError(f"--storage {storage}: not a database URL (sqlite:///PATH, postgresql://HOST/DB)") from None
    return StudyStorage(storage, where, shared=True)


def create_study(store: StudyStorage, study_name: str) -> optuna.Study:
    """Open the study, or create it; a storage that cannot be read is one error line.

    Raises:
        DamagedFileError: for a `study.db` cut short or overwritten (never start on top of it).
        HfnewsError: for a `--storage` database that cannot be opened (unreachable, no driver, not a database).
    """
    try:
        return optuna.create_study(direction="maximize", storage=store.storage, study_name=study_name,
                                   load_if_exists=True)  # fmt: skip
    except (sqlalchemy.exc.DatabaseError, sqlalchemy.exc.ArgumentError, ImportError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        if not store.shared:
            raise DamagedFileError(
                store.where, f"is not a readable study ({reason}); delete it to start the search again"
            ) from None
        raise HfnewsError(f"--storage {store.where}: cannot open the study ({reason})") from None


def worker_name(output_dir: Path) -> str:
    """The worker of a shared study: its host and output folder, so a worker started again is the same one."""
    return f"{socket.gethostname()}:{output_dir.resolve()}"


def retry_interrupted_trials(study: optuna.Study, is_mine: Callable[[FrozenTrial], bool]) -> int:
    """Trials this worker left RUNNING when it was killed can never finish: mark them failed and queue their
    parameters again, so the study runs them next. Other workers' RUNNING trials are left alone: they may be running
    now. One worker runs one trial at a time, so each output folder serves one worker at a time."""
    stale = [trial for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if is_mine(trial)]
    for trial in stale:
        study.tell(trial.number, state=TrialState.FAIL)
        study.enqueue_trial(trial.params)
    return len(stale)


def fix_command_line_fields(space: SearchSpace, given: frozenset[str]) -> SearchSpace:
    """The space less the fields given on the command line: `--num_train_epochs 1` means one epoch in every trial.

    Raises:
        HfnewsError: when the command line fixes every field of the space, leaving nothing to search.
    """
    fixed = [name for name in space.params if name in given]
    if not fixed:
        return space
    if len(fixed) == len(space.params):
        raise HfnewsError(f"every field of {space.path} is given on the command line: nothing is left to search")
    print(f"not searched, as given on the command line: {', '.join(fixed)} (in {space.path})")
    return space.without(set(fixed))


def run_search(setup: SearchSetup) -> optuna.Study:
    """Run the trials this worker still lacks, then write trials.csv, trials.png and best.yaml of the whole study
    (every worker's trials, as the storage holds them now); returns the study.

    Raises `HfnewsError` for a search space that does not fit the architecture, or a storage that cannot be opened,
    before any training.
    """
    space = load_search_space(setup.search_space, setup.model.architecture)
    space = fix_command_line_fields(space, setup.command_line_fields)
    output_dir = Path(setup.training.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    store = open_storage(setup.tune.storage, output_dir)
    study = create_study(store, setup.study_name)
    worker = worker_name(output_dir)

    def is_mine(trial: FrozenTrial) -> bool:
        return not store.shared or trial.user_attrs.get(WORKER_ATTR) == worker

    retried = retry_interrupted_trials(study, is_mine)
    finished = sum(map(is_mine, study.get_trials(deepcopy=False, states=FINISHED)))
    missing = setup.tune.n_trials - finished
    print(
        f"study {setup.study_name!r} in {store.where}: {finished} finished trial(s)"
        + (f" of this worker ({worker})" if store.shared else "")
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

        def hp_space(trial: optuna.Trial) -> dict:
            trial.set_user_attr(WORKER_ATTR, worker)
            return space.suggest(trial, space.training_fields)

        # The sampler's seed moves on with the study, so a resumed search does not redraw the first trials; workers
        # of a shared study that start together see the same study, so each adds its own offset.
        seed = setup.training.seed + len(study.trials) + (zlib.crc32(worker.encode()) if store.shared else 0)
        try:
            trainer.hyperparameter_search(
                hp_space=hp_space,
                compute_objective=validation_accuracy,
                n_trials=missing,
                direction="maximize",
                backend="optuna",
                sampler=optuna.samplers.TPESampler(seed=seed % 2**32),
                pruner=optuna.pruners.MedianPruner(
                    n_startup_trials=setup.tune.pruning_startup_trials, n_warmup_steps=setup.tune.pruning_first_epoch
                ),
                storage=store.storage,
                study_name=setup.study_name,
                load_if_exists=True,
            )
        finally:
            progress.close()
    study = optuna.load_study(study_name=setup.study_name, storage=store.storage)
    write_results(study, setup, space, output_dir, store.where)
    return study


def write_results(study: optuna.Study, setup: SearchSetup, space: SearchSpace, output_dir: Path, where: str) -> None:
    """The leaderboard, the plot of accuracy by trial, and best.yaml, of every trial in the study (`where`)."""
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
        f"# Best trial ({best.number}) of the search {study.study_name!r} in {where} "
        f"({len(complete)} complete, {pruned} pruned trials): validation accuracy {best.value:.4f}\n"
    )
    config = {**setup.base_config, **best_params}
    # Atomic: a cut-short best.yaml could still parse, and train the rest of the config's fields at their defaults.
    write_text_atomically(output_dir / BEST_CONFIG, header + yaml.dump(config, Dumper=_ConfigDumper, sort_keys=False))
    running = sum(trial.state == TrialState.RUNNING for trial in trials)
    print(
        f"best: trial {best.number}, validation accuracy {best.value:.4f}"
        + "".join(f"\n  {name}: {value}" for name, value in best_params.items())
        + f"\nwrote {output_dir / TRIALS_CSV}, {output_dir / TRIALS_PLOT} and {output_dir / BEST_CONFIG} "
        f"(train it: python scripts/train.py --config {output_dir / BEST_CONFIG} --output_dir DIR)"
        + (
            f"\n{running} trial(s) still running in other workers: run this command again once they end to "
            "rewrite these files with their results"
            if running
            else ""
        )
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
