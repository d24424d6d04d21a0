"""The one Trainer every model trains with (`NewsTrainer`), and how it is built for an experiment (`build_trainer`).

Distillation is a loss the Trainer calls (`hfnews.training.losses.DistillationLoss`) on a precomputed teacher column,
not a Trainer subclass: computing the teacher's logits (`hfnews.training.distillation`) happens before, in
`hfnews.training.run`, which imports both; neither imports the other.
"""

import os
from pathlib import Path

import numpy as np
from datasets import Dataset
from torch.utils.data import StackDataset
from transformers import PreTrainedModel
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import PredictionOutput

from ..data.collation import ROW_INDEX, PaddingCollator, tensor_rows
from ..errors import HfnewsError
from ..evaluation.metrics import build_compute_metrics
from .arguments import NewsTrainingArguments
from .callbacks import (
    TRAIN_KEY,
    VALIDATION_KEY,
    EpochReportCallback,
    NonFiniteLossCallback,
    QuietProgressCallback,
    ValidationEarlyStoppingCallback,
)
from .checkpoints import StagedCheckpointTrainer
from .experiment import Experiment
from .losses import TEACHER_COLUMN, ClassificationLoss, DistillationLoss, resolve_class_weights
from .model_card import NewsCardData, write_model_card


class NewsTrainer(StagedCheckpointTrainer):
    """`Trainer` whose model card is hfnews's (data, configuration, metrics, mistakes, usage), also when pushing to
    the Hub, and whose checkpoints appear only complete (`StagedCheckpointTrainer`). Its loss is
    `losses.ClassificationLoss` (given as `compute_loss_func` by `build_trainer`); with `distillation_loss` set, a
    training batch that carries the teacher's logits (`TEACHER_COLUMN`) is scored by that loss instead, as
    sentence-transformers' trainer calls its distillation loss (`losses/DistillKLDivLoss.py`)."""

    card_data: NewsCardData | None = None
    _counted: tuple[PreTrainedModel, int] | None = None  # a model and its non-embedding parameter count

    def floating_point_ops(self, inputs: dict) -> int:
        """`Trainer.floating_point_ops`: 6 x input tokens x non-embedding parameters (forward and backward, Kaplan et
        al. 2020), with the parameters counted once per model rather than walked at every training step."""
        main_input = getattr(self.model, "main_input_name", "input_ids")
        if main_input not in inputs or not hasattr(self.model, "num_parameters"):
            return super().floating_point_ops(inputs)
        if self._counted is None or self._counted[0] is not self.model:  # a search's `model_init` makes new ones
            self._counted = (self.model, self.model.num_parameters(exclude_embeddings=True))
        return 6 * inputs[main_input].numel() * self._counted[1]

    def create_model_card(self, model_name: str | None = None, **kwargs) -> None:
        if self.card_data is None or not self.is_world_process_zero():
            return
        # The Hub repo once `init_hf_repo` made it (owner included); else the card is titled by the folder's name and
        # its usage snippet loads the folder by its path relative to where training ran (where the user is), never
        # an absolute path, which would name the user's folders in a card that may be uploaded.
        self.card_data.model_id = self.hub_model_id or Path(self.args.output_dir).name
        self.card_data.model_location = self.hub_model_id or os.path.relpath(self.args.output_dir)
        write_model_card(self.args.output_dir, self.card_data)

    def __init__(self, *args, distillation_loss: DistillationLoss | None = None, **kwargs) -> None:
        self.distillation_loss = distillation_loss
        if distillation_loss is not None:
            # The loss is a batch mean, not a sum over `num_items_in_batch`: the Trainer divides it by the
            # gradient-accumulation steps.
            self.loss_is_scaled_for_ga = False
        super().__init__(*args, **kwargs)

    def _set_signature_columns_if_needed(self) -> None:
        # `remove_unused_columns` keeps only the model's forward arguments and labels; the row index and the teacher's
        # logits must reach `prediction_step` and `compute_loss`, which take them out before the model sees the batch.
        super()._set_signature_columns_if_needed()
        self._signature_columns += [
            name for name in (ROW_INDEX, TEACHER_COLUMN) if name not in self._signature_columns
        ]

    def compute_loss(self, model, inputs: dict, return_outputs: bool = False, num_items_in_batch=None):
        """`Trainer.compute_loss`, or `distillation_loss` for a batch that carries the teacher's logits (training
        rows of a distilled run; evaluation batches never do, so scores are the student's own)."""
        teacher_logits = inputs.pop(TEACHER_COLUMN, None)
        if teacher_logits is None or self.distillation_loss is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = self.distillation_loss(outputs.logits, teacher_logits, labels)
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs: dict, prediction_loss_only: bool, ignore_keys=None):
        """`Trainer.prediction_step`, passing a batch's `ROW_INDEX` column (never a model input) back as the last
        element of the predictions, so that `in_split_order` can put rows back in the order of the split whatever
        order the evaluation sampler (`group_by_length`) and the processes' gathering gave them."""
        row_index = inputs.pop(ROW_INDEX, None)
        loss, logits, labels = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        if row_index is None or logits is None:
            return loss, logits, labels
        return loss, (*logits, row_index) if isinstance(logits, tuple) else (logits, row_index), labels


def with_row_index(split: Dataset) -> StackDataset:
    """`split`'s rows as the Trainer's tensors (`tensor_rows`), each with its position in `split` as `ROW_INDEX`."""
    return tensor_rows(split.add_column(ROW_INDEX, list(range(len(split)))))


def in_split_order(prediction: PredictionOutput, gold: list[int], where: str) -> tuple[np.ndarray, np.ndarray]:
    """The logits `(rows, num_labels)` and label ids `(rows,)` of `trainer.predict(with_row_index(split))` in the
    split's order, put back by each row's `ROW_INDEX`.

    Raises:
        HfnewsError: when the indices are not each row once, or the re-ordered labels differ from `gold` (the split's
            own labels, read independently): predictions would then be paired with the wrong rows.
    """
    *outputs, row_index = prediction.predictions
    row_index = np.asarray(row_index)
    order = np.argsort(row_index, kind="stable")
    if not np.array_equal(row_index[order], np.arange(len(gold))):
        raise HfnewsError(
            f"{where}: the predictions cover {len(np.unique(row_index))} distinct rows of {len(gold)}, "
            f"{len(row_index)} in all; no predictions file is written"
        )
    logits, label_ids = np.asarray(outputs[0])[order], np.asarray(prediction.label_ids)[order]
    if not np.array_equal(label_ids, np.asarray(gold)):
        raise HfnewsError(
            f"{where}: the predictions' labels differ from the split's own; no predictions file is written"
        )
    return logits, label_ids


def build_trainer(
    experiment: Experiment,
    training_args: NewsTrainingArguments,
    trainer_class: type[NewsTrainer] = NewsTrainer,
    **trainer_kwargs,
) -> NewsTrainer:
    """The one Trainer every model trains with: per-epoch scores on train and validation, best epoch kept, the loss
    of `losses.classification_loss` (class weights, label smoothing), early stopping when asked.

    `trainer_class` lets a caller adjust one step of the loop (hyperparameter search reports per epoch).
    """
    mixed = training_args.fp16 or training_args.bf16
    class_weights = resolve_class_weights(
        training_args.class_weights, experiment.label_names, experiment.dataset["train"]["label"]
    )
    patience = training_args.early_stopping_patience
    callbacks = [
        NonFiniteLossCallback(),
        EpochReportCallback(len(experiment.train_eval), len(experiment.dataset["train"]), patience),
    ] + ([] if patience is None else [ValidationEarlyStoppingCallback(patience)])
    hard_loss = ClassificationLoss(class_weights, training_args.label_smoothing_factor)
    if experiment.distillation is not None:
        distillation = experiment.distillation
        trainer_kwargs["distillation_loss"] = DistillationLoss(distillation.alpha, distillation.temperature, hard_loss)
    # Rows held as tensors and padded per batch by torch (hfnews.data.collation): a 32-row batch in 0.37 ms, not 0.67.
    train_rows = tensor_rows(experiment.encoded["train"])
    train_eval = experiment.train_eval
    trainer = trainer_class(
        model=None if "model_init" in trainer_kwargs else experiment.model,
        args=training_args,
        train_dataset=train_rows,
        eval_dataset={
            TRAIN_KEY: train_rows if train_eval is experiment.encoded["train"] else tensor_rows(train_eval),
            VALIDATION_KEY: tensor_rows(experiment.encoded["validation"]),
        },
        processing_class=experiment.tokenizer,
        # Tensor cores want sequence lengths in multiples of 8 under mixed precision.
        data_collator=PaddingCollator(experiment.tokenizer, pad_to_multiple_of=8 if mixed else None),
        compute_metrics=build_compute_metrics(experiment.label_names),
        compute_loss_func=hard_loss,
        callbacks=callbacks,
        **trainer_kwargs,
    )
    trainer.pop_callback(PrinterCallback)  # its raw metric dicts are replaced by the epoch report
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(QuietProgressCallback)
    return trainer
