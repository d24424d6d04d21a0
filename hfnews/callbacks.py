"""The per-epoch report problems 82 and 87 ask for, and a progress bar that leaves room for it.

The Trainer evaluates `{"train": ..., "validation": ...}` at the end of every epoch and logs them as `eval_train_*`
and `eval_validation_*`; `history_from_logs` turns its `log_history` (kept in checkpoints, so it survives a resume)
into one dict per epoch.
"""

import time

from tqdm.auto import tqdm
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_callback import ProgressCallback


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


class EpochReportCallback(TrainerCallback):
    """Print one line per epoch once both evaluation sets of that epoch are scored.

    `train_scored` of the `train_total` training rows are scored for the train numbers (`train_eval_samples`); the
    line says whether that was a full pass or a sample, so problem 82's training numbers are not overstated.
    """

    def __init__(self, train_scored: int, train_total: int) -> None:
        self._scope = train_scope(train_scored, train_total)
        self._started = time.perf_counter()
        self._scores: dict = {}

    def on_epoch_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        self._started = time.perf_counter()

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, metrics=None, **kw):
        self._scores.update({**(metrics or {}), "epoch": state.epoch})
        (row,) = history_from_logs([self._scores]) or [{}]
        if {"train_loss", "eval_loss"} <= row.keys():
            if state.is_world_process_zero:
                tqdm.write(format_epoch(row, args.num_train_epochs, time.perf_counter() - self._started, self._scope))
            self._scores = {}


class QuietProgressCallback(ProgressCallback):
    """The Trainer's progress bars without its raw metric dicts, which the epoch report replaces."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        return
