"""The one classification loss every hfnews model trains with (RNN, CNN and BERT alike): cross-entropy with optional
class weights and label smoothing, plugged into the Trainer as its `compute_loss_func`.

The models still compute their own unweighted loss when called with `labels` outside the Trainer; inside it,
`NewsTrainer` takes the labels away from the model and scores the logits here, so `--class_weights` and
`--label_smoothing_factor` mean the same thing for every architecture. Trainers that mix in other terms (knowledge
distillation) call `classification_loss` for their cross-entropy part.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import HfnewsError


BALANCED = "balanced"
IGNORE_INDEX = -100  # the label of a row without one: torch's cross_entropy default, transformers' convention


def classification_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    class_weights: torch.Tensor | Sequence[float] | None = None,
    label_smoothing: float = 0.0,
    num_items_in_batch: torch.Tensor | int | None = None,
) -> torch.Tensor:
    """Cross-entropy of `logits` `(batch, num_labels)` (any float dtype, computed in float32) against `labels`
    `(batch,)` int64 class ids (`IGNORE_INDEX` rows, -100, are ignored; without `num_items_in_batch`, a batch of
    only such rows gives 0), as a scalar float32 tensor.

    Each row's loss is `torch.nn.functional.cross_entropy(..., weight=class_weights, label_smoothing=...,
    reduction="none")`, i.e. `(1 - eps) * w[y] * -log p_y + eps / C * sum_c w[c] * -log p_c` per torch's
    definition (the Trainer's `LabelSmoother` when unweighted). The rows are summed and divided by the number of rows
    (`num_items_in_batch` when the Trainer gives it: the labelled rows of the whole accumulated batch, across
    processes), not by the sum of their weights as torch's weighted mean does: this keeps gradient accumulation and
    several processes adding up exactly as the Trainer expects, and with `balanced` weights, whose mean over the
    training rows is 1, the scale of the loss stays that of plain cross-entropy.
    """
    weight = (
        None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32, device=logits.device)
    )
    losses = F.cross_entropy(
        logits.float(), labels, weight=weight, label_smoothing=label_smoothing, reduction="none"
    )  # (batch,)
    # clamp: a batch without labelled rows (distillation's augmented titles) adds 0, not 0/0.
    count = (labels != IGNORE_INDEX).sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return losses.sum() / count


@dataclass
class ClassificationLoss:
    """`classification_loss` in the shape of the Trainer's `compute_loss_func(outputs, labels, num_items_in_batch)`."""

    class_weights: list[float] | None = None
    label_smoothing: float = 0.0

    def __call__(self, outputs, labels: torch.Tensor, num_items_in_batch: torch.Tensor | int | None = None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        return classification_loss(logits, labels, self.class_weights, self.label_smoothing, num_items_in_batch)


def balanced_class_weights(labels: Sequence[int] | np.ndarray, num_labels: int) -> list[float]:
    """Inverse-frequency weights `n_samples / (n_classes * count_c)`, scikit-learn's `class_weight="balanced"`
    formula (`sklearn.utils.class_weight.compute_class_weight`), from the training labels (int class ids).

    Raises `HfnewsError` when a class has no training row (its weight would be infinite).
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_labels)
    if (counts == 0).any():
        missing = ", ".join(str(i) for i in np.flatnonzero(counts == 0))
        raise HfnewsError(f"--class_weights balanced: class id(s) {missing} have no training rows; give weights")
    return (counts.sum() / (num_labels * counts)).tolist()


def resolve_class_weights(
    spec: str | None, label_names: Sequence[str], train_labels: Sequence[int]
) -> list[float] | None:
    """What `--class_weights` asks for, one float per label id: `balanced` (see `balanced_class_weights`) or
    `name=weight,...` by label name, where labels left out weigh 1. `None` (or an empty string) means unweighted.

    Raises `HfnewsError` for an unknown label name, a malformed pair or a weight that is not a positive number.
    """
    if not spec:
        return None
    if spec == BALANCED:
        return balanced_class_weights(train_labels, len(label_names))
    weights = dict.fromkeys(label_names, 1.0)
    for pair in spec.split(","):
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in weights:
            raise HfnewsError(
                f"--class_weights: {pair!r} is not LABEL=WEIGHT with a label of {', '.join(label_names)} "
                f"(or pass '{BALANCED}')"
            )
        try:
            weights[name] = float(value)
        except ValueError:
            weights[name] = 0.0  # not a number: rejected below with the same message as a negative weight
        if not weights[name] > 0:  # also rejects nan
            raise HfnewsError(f"--class_weights: the weight of {name} must be a positive number, got {value!r}")
    return list(weights.values())


# The column of a distilled run's training rows that holds the teacher's logits (`hfnews.training.distillation`),
# batched by the collator like any column and taken out by `NewsTrainer.compute_loss`.
TEACHER_COLUMN = "teacher_logits"


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    alpha: float,
    temperature: float,
    class_weights: Sequence[float] | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """`alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * cross-entropy(student, labels)`.

    The cross-entropy is `classification_loss`, the loss of every plain run, so `--class_weights` and
    `--label_smoothing_factor` apply to the hard-label term as they do without a teacher.

    Logits are float tensors of shape (batch, num_labels), labels int64 of shape (batch,); returns a scalar. The soft
    term is the mean over the batch (KL with `batchmean`, its mathematical definition), the hard term the mean over
    the batch's labelled rows: rows labelled -100 (transfer and augmented titles) have no hard term, and the labelled
    rows keep the weight `1 - alpha` however many unlabelled rows share their batch (0 when there are none). The
    T^2 factor keeps the soft term's gradients the same size whatever T (Hinton et al. 2015, section 2).
    """
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=-1),
        F.log_softmax(teacher_logits.float() / temperature, dim=-1),
        reduction="batchmean",
        log_target=True,
    )
    hard = classification_loss(student_logits, labels, class_weights, label_smoothing)
    return alpha * temperature**2 * soft + (1 - alpha) * hard


@dataclass(frozen=True)
class DistillationLoss:
    """`distillation_loss` with a run's alpha, temperature and hard-label loss (its class weights and label
    smoothing), called by `NewsTrainer.compute_loss` as `(student_logits, teacher_logits, labels) -> scalar`."""

    alpha: float
    temperature: float
    hard: ClassificationLoss

    def __call__(
        self, student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        return distillation_loss(
            student_logits, teacher_logits, labels, self.alpha, self.temperature,
            class_weights=self.hard.class_weights, label_smoothing=self.hard.label_smoothing,
        )  # fmt: skip
