"""The per-epoch report problems 82 and 87 ask for, and a progress bar that leaves room for it.

The Trainer evaluates `{"train": ..., "validation": ...}` at the end of every epoch and logs them as `eval_train_*`
and `eval_validation_*`; `history_from_logs` turns its `log_history` (kept in checkpoints, so it survives a resume)
into one dict per epoch.
"""

import math
import time

from tqdm.auto import tqdm
from transformers import EarlyStoppingCallback, TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_callback import ProgressCallback

from ..errors import HfnewsError


TRAIN_KEY, VALIDATION_KEY = "train", "validation"  # the names of the two evaluation sets given to the Trainer
_COLUMNS = {TRAIN_KEY: "train", VALIDATION_KEY: "eval"}
_METRICS = ("loss", "accuracy", "macro_f1")


def history_from_logs(log_history: list[dict]) -> list[dict]:
    """Per-epoch dicts with `epoch`, `train_loss`, `train_accuracy`, `eval_loss`, `eval_accuracy` (and macro-F1)."""
    rows: dict[float, dict] = {}
    for logs in log_history:
        for split, prefix in _COLUMNS.items():
            for name in _METRICS:
                if f"eval_{split}_{name}" in logs:
                    epoch = round(logs["epoch"], 4)
                    rows.setdefault(epoch, {"epoch": epoch})[f"{prefix}_{name}"] = logs[f"eval_{split}_{name}"]
    return [rows[epoch] for epoch in sorted(rows)]


def train_scope(scored: int, total: int) -> str:
    """Which training rows the epoch's train loss/accuracy come from: a full pass, or the first `scored` rows."""
    return f"all {total:,} rows" if scored >= total else f"sample of {scored:,}/{total:,} rows"


def format_epoch(row: dict, epochs: float, seconds: float, scope: str) -> str:
    return (
        f"epoch {row['epoch']:g}/{epochs:g}  train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} "
        f"({scope})  |  valid loss {row['eval_loss']:.4f} acc {row['eval_accuracy']:.4f}  ({seconds:.1f}s)"
    )


def metric_key(metric: str) -> str:
    """The log key of a `metric_for_best_model`, which the Trainer accepts with or without the `eval_` prefix."""
    return metric if metric.startswith("eval_") else f"eval_{metric}"


def format_early_stop(state: TrainerState, metric: str, patience: int) -> str:
    """Why training ended before its last epoch: `metric` (a `metric_for_best_model`) stopped improving."""
    key = metric_key(metric)
    best_epoch = next((logs["epoch"] for logs in state.log_history if logs.get(key) == state.best_metric), None)
    best = "" if best_epoch is None else f" (epoch {best_epoch:g})"
    return (
        f"early stopping after epoch {state.epoch:g}: {key.removeprefix('eval_')} did not improve on "
        f"{state.best_metric:.4f}{best} for {patience} evaluation(s) (--early_stopping_patience {patience})"
    )


class EpochReportCallback(TrainerCallback):
    """Print one line per epoch once both evaluation sets of that epoch are scored, and, when early stopping
    (`early_stopping_patience`) ends the run before its last step, when and why.

    `train_scored` of the `train_total` training rows are scored for the train numbers (`train_eval_samples`); the
    line says whether that was a full pass or a sample, so problem 82's training numbers are not overstated.
    """

    def __init__(self, train_scored: int, train_total: int, early_stopping_patience: int | None = None) -> None:
        self._scope = train_scope(train_scored, train_total)
        self._started = time.perf_counter()
        self._scores: dict = {}
        self.early_stopping_patience = early_stopping_patience

    def on_epoch_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        self._started = time.perf_counter()

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, metrics=None, **kw):
        self._scores.update({**(metrics or {}), "epoch": state.epoch})
        (row,) = history_from_logs([self._scores]) or [{}]
        if {"train_loss", "eval_loss"} <= row.keys():
            if state.is_world_process_zero:
                tqdm.write(format_epoch(row, args.num_train_epochs, time.perf_counter() - self._started, self._scope))
            self._scores = {}

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        patience = self.early_stopping_patience
        if patience is not None and state.global_step < state.max_steps and state.is_world_process_zero:
            tqdm.write(format_early_stop(state, args.metric_for_best_model, patience))


class NonFiniteLossCallback(TrainerCallback):
    """Stop the run with an `HfnewsError` as soon as a logged training loss (or gradient norm) is nan or infinite,
    before that epoch is evaluated or saved: every later step would only train the nan further, and the checkpoint
    would be presented as a result. Logged losses are epoch means (`logging_strategy: epoch`), so one nan step
    anywhere in the epoch shows."""

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kwargs):
        for key in ("loss", "grad_norm"):
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(value):
                raise HfnewsError(
                    f"the training {key.replace('_', ' ')} became {value} by epoch {state.epoch:g} (step "
                    f"{state.global_step}): the model diverged. Likely causes: word vectors with huge values, a "
                    f"--learning_rate too high ({args.learning_rate:g}), fp16 overflow. The run stops; no checkpoint "
                    "of this epoch is saved"
                )


class ValidationEarlyStoppingCallback(EarlyStoppingCallback):
    """transformers' `EarlyStoppingCallback`, counting only the evaluations that hold `metric_for_best_model`.

    The Trainer scores the training rows and the validation split one after the other and calls `on_evaluate` for
    each; the parent would warn on the training rows' scores (which lack `eval_validation_accuracy`) that early
    stopping is disabled, although the validation scores that follow do count.
    """

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, metrics, **kwargs):
        if metric_key(args.metric_for_best_model) in metrics:
            super().on_evaluate(args, state, control, metrics, **kwargs)


class QuietProgressCallback(ProgressCallback):
    """The Trainer's progress bars without its raw metric dicts, which the epoch report replaces."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        return
