"""The report of one training run: a typed record, filled by a `TrainerCallback` while the Trainer runs and by
`run_training` after the test split is scored, and written as `metrics.json`.

The field names are the keys of `metrics.json`, in the order they have always been written: users' scripts (and
`benchmarks/report.py`) read them, so a field is only ever added, never renamed.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..integrity import write_text_atomically
from .callbacks import history_from_logs


METRICS_FILE = "metrics.json"


@dataclass
class TrainingReport:
    """What `metrics.json` holds.

    Args:
        architecture (`str`): `rnn`, `cnn` or `bert`.
        label_names (`list[str]`): the class names, in label-id order.
        history (`list[dict]`): one row per epoch, see `callbacks.history_from_logs`.
        test (`dict[str, float]`): the test split's metrics without the `test_` prefix (`accuracy`, `macro_f1`,
            `loss`, per class `precision_<label>`, `recall_<label>`, `f1_<label>`, `support_<label>`, runtimes).
        confusion_matrix (`list[list[int]]`): test counts, rows gold labels, columns predictions.
        best_checkpoint (`str`, *optional*): the checkpoint folder of the epoch the output holds.
        train_runtime (`float`, *optional*): seconds the Trainer spent in `train()`.
        data (`dict`): `source`, `split_seed`, `group_by` and the row count of each split.
        model (`dict`): the `ModelArguments` of the run.
        training (`dict`): the `TrainingArguments` worth recording to reproduce the run.
        vectors_coverage (`dict`, *optional*): `source`, `found`, `total`, `ratio` of pretrained word vectors.
        distillation (`dict`, *optional*): `teacher`, `teacher_sha256`, `alpha`, `temperature`, `transfer_titles`,
            `augmented_titles` of a distilled run (`hfnews.training.distillation`); None otherwise.
    """

    architecture: str
    label_names: list[str]
    history: list[dict] = field(default_factory=list)
    test: dict[str, float] = field(default_factory=dict)
    confusion_matrix: list[list[int]] = field(default_factory=list)
    best_checkpoint: str | None = None
    train_runtime: float | None = None
    data: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    vectors_coverage: dict | None = None
    distillation: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def write_json(self, output_dir: str | Path) -> Path:
        """Write `metrics.json` into `output_dir` atomically (enums and other values JSON cannot hold as `str`)."""
        path = Path(output_dir) / METRICS_FILE
        write_text_atomically(path, json.dumps(self.to_dict(), indent=2, default=str))
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> "TrainingReport":
        """Read a `metrics.json` back (a folder is read as the `metrics.json` inside it)."""
        path = Path(path)
        return cls(**json.loads((path / METRICS_FILE if path.is_dir() else path).read_text()))


class ReportCallback(TrainerCallback):
    """Fills a `TrainingReport` from the Trainer's state: the runtime from the final log, and the per-epoch history
    and best checkpoint when training ends (`log_history` is kept in checkpoints, so both survive a resume)."""

    def __init__(self, report: TrainingReport) -> None:
        self.report = report

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kwargs):
        if logs and "train_runtime" in logs:
            self.report.train_runtime = logs["train_runtime"]

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        self.report.history = history_from_logs(state.log_history)
        self.report.best_checkpoint = state.best_model_checkpoint
