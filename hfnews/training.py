"""The one training path: corpus -> tokenizer -> model -> `transformers.Trainer` -> checkpoint, metrics, plots, card.

Every architecture goes through `run_training`; `accelerate` (inside the Trainer) decides CPU, GPU or several
processes, so `python scripts/train.py` and `accelerate launch scripts/train.py` run the same code.
"""

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from torch.utils.data import StackDataset
from transformers import BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase, TrainingArguments, set_seed
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import PredictionOutput

from .arguments import DataArguments, ModelArguments, NewsTrainingArguments
from .callbacks import (
    TRAIN_KEY,
    VALIDATION_KEY,
    EpochReportCallback,
    NonFiniteLossCallback,
    QuietProgressCallback,
    ValidationEarlyStoppingCallback,
)
from .checkpoints import StagedCheckpointTrainer, check_output_dir, last_complete_checkpoint
from .collation import ROW_INDEX, PaddingCollator, tensor_rows
from .data import check_corpus, load_news_corpus
from .error_analysis import (
    check_predictions_file,
    confident_mistakes,
    format_mistakes,
    prediction_records,
    write_predictions,
)
from .errors import HfnewsError
from .factory import build_model, build_tokenizer
from .hub import check_hub_access
from .integrity import DamagedFileError
from .labelled_data import load_labelled_dataset, load_labelled_files
from .losses import ClassificationLoss, resolve_class_weights
from .metrics import build_compute_metrics, compute_confusion_matrix
from .model_card import NewsCardData, describe_data_source, write_model_card
from .model_files import check_checkpoint
from .plots import plot_confusion_matrix, plot_learning_curves
from .prediction import report_cut
from .report import METRICS_FILE as METRICS_FILE  # re-exported: scripts import it from here
from .report import ReportCallback, TrainingReport
from .sources import source_spec
from .tokenization import encode_truncated, max_input_length
from .vectors import VectorCoverage


if TYPE_CHECKING:
    from .distillation import Distillation

logger = logging.getLogger(__name__)

# TrainingArguments worth recording in the model card: enough to reproduce a run.
RECORDED_TRAINING_ARGS = (
    "num_train_epochs", "per_device_train_batch_size", "learning_rate", "optim", "weight_decay", "lr_scheduler_type",
    "warmup_steps", "max_grad_norm", "seed", "fp16", "bf16", "label_smoothing_factor", "class_weights",
    "early_stopping_patience",
)  # fmt: skip


class NewsTrainer(StagedCheckpointTrainer):
    """`Trainer` whose model card is hfnews's (data, configuration, metrics, mistakes, usage), also when pushing to
    the Hub, and whose checkpoints appear only complete (`StagedCheckpointTrainer`). Its loss is
    `losses.ClassificationLoss` (given as `compute_loss_func` by `build_trainer`)."""

    report: TrainingReport | None = None
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

    def _set_signature_columns_if_needed(self) -> None:
        # `remove_unused_columns` keeps only the model's forward arguments and labels; the row index must reach
        # `prediction_step`, which takes it out of the batch before the model sees it.
        super()._set_signature_columns_if_needed()
        if ROW_INDEX not in self._signature_columns:
            self._signature_columns.append(ROW_INDEX)

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


def data_sources(data_args: DataArguments) -> list[str]:
    """The files, folder or URL the run's data comes from, as given (for the model card's name and checksum)."""
    if data_args.train_file is not None:
        files = (data_args.train_file, data_args.validation_file, data_args.test_file)
        return [file for file in files if file is not None]
    return [data_args.dataset if data_args.dataset is not None else source_spec(data_args.source)]


def load_corpus(data_args: DataArguments) -> tuple[DatasetDict, str]:
    """The DatasetDict to train on, sliced as asked, and a description of where it came from.

    `--train_file` and `--dataset` take their label names from the data (see `hfnews.labelled_data`); the UCI corpus
    keeps problem 50's fixed order.
    """
    columns = {"text_column": data_args.text_column_name, "label_column": data_args.label_column_name}
    if data_args.train_file is not None:
        files = (data_args.train_file, data_args.validation_file, data_args.test_file)
        dataset = load_labelled_files(*files, **columns, seed=data_args.split_seed)
        where = ", ".join(data_sources(data_args))
    elif data_args.dataset is not None:
        dataset = load_labelled_dataset(data_args.dataset, **columns, seed=data_args.split_seed)
        where = data_args.dataset
    else:
        corpus = load_news_corpus(
            data_args.source,
            seed=data_args.split_seed,
            group_by=data_args.group_by,
            skip_malformed=data_args.skip_malformed,
            column_order=data_args.column_order,
            header=data_args.header,
            quoting=data_args.quoting,
            numeric_labels=data_args.numeric_labels,
        )
        dataset, where = corpus.dataset, source_spec(data_args.source)
        check_corpus(dataset, where)
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples,
              "test": data_args.max_eval_samples}  # fmt: skip
    for split, limit in limits.items():
        if limit is not None and limit < len(dataset[split]):
            dataset[split] = dataset[split].select(range(limit))
    return dataset, where


def encode_texts(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> tuple[BatchEncoding, int]:
    """The tokenizer's unpadded inputs for `texts` (lists of int IDs per text), each cut to the tokenizer's
    `model_max_length` (`build_tokenizer` sets it), and how many texts were cut."""
    return encode_truncated(tokenizer, texts, max_input_length(tokenizer))


def encode_corpus(dataset: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> DatasetDict:
    """Token IDs for every title; only the model inputs and `label` remain (the collator pads per batch). How many
    titles of each split were longer than the model reads is logged."""
    encoded = {}
    for split, rows in dataset.items():
        cut = 0

        def encode(batch: dict) -> BatchEncoding:
            nonlocal cut
            encoding, batch_cut = encode_texts(tokenizer, batch["text"])
            cut += batch_cut
            return encoding

        columns = [name for name in rows.column_names if name != "label"]
        encoded[split] = rows.map(
            encode, batched=True, remove_columns=columns, keep_in_memory=True, desc=f"tokenizing {split}"
        )
        report_cut(cut, len(rows), max_input_length(tokenizer))
    return DatasetDict(encoded)


def resolve_resume(args: TrainingArguments) -> str | None:
    """The checkpoint `--resume_from_checkpoint` names, checked to load: `last` (or `true`) is the newest complete
    checkpoint in the output folder; newer incomplete ones (a run killed while writing) are named in a warning.

    Raises:
        HfnewsError: when there is no complete checkpoint, or the named one is no checkpoint or is incomplete.
    """
    value = args.resume_from_checkpoint
    if value is None:
        return None
    if value.lower() in ("last", "true"):
        last = last_complete_checkpoint(args.output_dir)
        if last is None:
            raise HfnewsError(f"no checkpoint to resume from in {args.output_dir}")
        return last
    if not (Path(value) / "trainer_state.json").is_file():
        raise HfnewsError(f"{value} is not a Trainer checkpoint (no trainer_state.json); pass checkpoint-N")
    try:
        check_checkpoint(value)
    except DamagedFileError as error:
        raise HfnewsError(
            f"checkpoint {value} is incomplete: {error}; resume from an earlier one or pass last"
        ) from None
    return value


@dataclass
class Experiment:
    """Everything a Trainer needs besides its arguments: the data, encoded, and the tokenizer and first model."""

    dataset: DatasetDict
    source: str
    encoded: DatasetDict
    train_eval: Dataset
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    coverage: VectorCoverage | None
    distillation: "Distillation | None" = None  # set when a teacher's logits are in encoded["train"]

    @property
    def label_names(self) -> list[str]:
        return self.dataset["train"].features["label"].names


def set_torch_threads(threads: int | None) -> None:
    """Compute with `threads` CPU threads (None: keep torch's choice) and print the count the run uses."""
    if threads is not None:
        torch.set_num_threads(threads)
    unset = " (--torch_threads not set: the process's current setting)"
    print(f"torch threads: {torch.get_num_threads()}" + ("" if threads is not None else unset))


def prepare_experiment(
    model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments
) -> Experiment:
    """Load the corpus, build the tokenizer and the model, and encode every split."""
    set_torch_threads(model_args.torch_threads)
    set_seed(training_args.seed)
    dataset, source = load_corpus(data_args)
    label_names = dataset["train"].features["label"].names  # a ClassLabel for every input (see load_corpus)
    # [:] reads the column at once: iterating a datasets Column reads row by row (6 s for 200k rows).
    tokenizer = build_tokenizer(model_args, data_args, dataset["train"]["text"][:])
    with training_args.main_process_first(desc="tokenizing"):
        encoded = encode_corpus(dataset, tokenizer)
    train_eval = encoded["train"]
    if data_args.train_eval_samples is not None and data_args.train_eval_samples < len(train_eval):
        train_eval = train_eval.select(range(data_args.train_eval_samples))
    distillation = None
    if model_args.teacher_name_or_path is not None:  # train only, after train_eval: evaluation scores the student
        from .distillation import add_teacher_logits  # imported here: distillation.py subclasses NewsTrainer

        # Before the model: a missing teacher is reported as such even when `--vectors teacher` reads it too.
        # fork_rng: loading a teacher may draw random numbers (for weights its checkpoint lacks), which must not change
        # the student's initialisation. Only the CPU generator matters: the student is built on the CPU.
        with training_args.main_process_first(desc="teacher logits"), torch.random.fork_rng(devices=[]):
            encoded["train"], distillation = add_teacher_logits(
                encoded["train"], dataset, model_args, data_args, training_args, tokenizer
            )
    model, coverage = build_model(model_args, tokenizer, label_names, training_args.seed)
    return Experiment(dataset, source, encoded, train_eval, tokenizer, model, coverage, distillation)


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
    if experiment.distillation is not None:
        from .distillation import with_distillation

        trainer_class = with_distillation(trainer_class)
        trainer_kwargs["distillation"] = experiment.distillation
    # Rows held as tensors and padded per batch by torch (hfnews.collation): a 32-row batch in 0.37 ms, not 0.67.
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
        compute_loss_func=ClassificationLoss(class_weights, training_args.label_smoothing_factor),
        callbacks=callbacks,
        **trainer_kwargs,
    )
    trainer.pop_callback(PrinterCallback)  # its raw metric dicts are replaced by the epoch report
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(QuietProgressCallback)
    return trainer


def new_report(
    experiment: Experiment, model_args: ModelArguments, data_args: DataArguments, training_args: NewsTrainingArguments
) -> TrainingReport:
    """The report as known before training: the run's data, model and arguments (the rest is filled later)."""
    coverage = experiment.coverage
    return TrainingReport(
        architecture=model_args.architecture,
        label_names=experiment.label_names,
        data={
            "source": experiment.source, "split_seed": data_args.split_seed, "group_by": data_args.group_by,
            **{split: len(experiment.dataset[split]) for split in experiment.dataset},
        },
        model=asdict(model_args),
        training={name: getattr(training_args, name) for name in RECORDED_TRAINING_ARGS},
        vectors_coverage=None if coverage is None else {
            "source": coverage.source, "found": coverage.found, "total": coverage.total, "ratio": coverage.ratio,
        },
        distillation=None if experiment.distillation is None else experiment.distillation.as_report(),
    )  # fmt: skip


def run_training(
    model_args: ModelArguments, data_args: DataArguments, training_args: NewsTrainingArguments
) -> TrainingReport:
    """Train, keep the best epoch by validation accuracy, score the test split and write the outputs (`metrics.json`,
    `test_predictions.jsonl`, plots, model card); returns the report that `metrics.json` holds."""
    check_hub_access(training_args)  # before any work: no training is spent on an upload that cannot happen
    resume = resolve_resume(training_args)
    check_output_dir(training_args.output_dir, training_args.overwrite_output_dir, resuming=resume is not None)
    experiment = prepare_experiment(model_args, data_args, training_args)
    trainer = build_trainer(experiment, training_args)
    report = trainer.report = new_report(experiment, model_args, data_args, training_args)
    trainer.add_callback(ReportCallback(report))
    trainer.train(resume_from_checkpoint=resume)
    trainer.save_model()  # the best epoch, loaded back by load_best_model_at_end
    test = experiment.dataset["test"]
    prediction = trainer.predict(with_row_index(experiment.encoded["test"]), metric_key_prefix="test")
    report.test = {key.removeprefix("test_"): value for key, value in prediction.metrics.items()}
    gold = test["label"][:]
    logits, label_ids = in_split_order(prediction, gold, "test split")
    report.confusion_matrix = compute_confusion_matrix(logits, label_ids, len(report.label_names))
    records = prediction_records(test["text"][:], gold, logits, report.label_names)
    mistakes = confident_mistakes(records, report.label_names)
    if trainer.is_world_process_zero():
        output_dir = Path(training_args.output_dir)
        write_predictions(output_dir, records)
        check_predictions_file(output_dir, test, report.test["accuracy"])
        write_outputs(output_dir, report)
        print(format_mistakes(mistakes))
        trainer.save_state()
        trainer.card_data = NewsCardData(
            model_id=output_dir.name, report=report, data=describe_data_source(data_sources(data_args)),
            model_config=trainer.model.config.to_diff_dict(), mistakes=mistakes,
            has_learning_curves=bool(report.history), example=test["text"][0] if len(test) else "",
        )  # fmt: skip
        trainer.create_model_card()
    if training_args.push_to_hub:
        trainer.push_to_hub(commit_message="hfnews: end of training")
    return report


def write_outputs(output_dir: Path, report: TrainingReport) -> None:
    """`metrics.json`, the learning curves and the test confusion matrix, and the test scores printed per class."""
    report.write_json(output_dir)
    if report.history:
        plot_learning_curves(report.history, output_dir / "learning_curves.png")
    test = report.test
    plot_confusion_matrix(
        report.confusion_matrix, report.label_names, output_dir / "confusion_matrix.png",
        title=f"Test confusion matrix (accuracy {test['accuracy']:.4f})",
    )  # fmt: skip
    per_class = "\n".join(
        f"  {label:<24} P {test[f'precision_{label}']:.4f}  R {test[f'recall_{label}']:.4f}  "
        f"F1 {test[f'f1_{label}']:.4f}"
        for label in report.label_names
    )
    print(
        f"test accuracy {test['accuracy']:.4f}  macro-F1 {test['macro_f1']:.4f}  "
        f"(checkpoint in {output_dir})\n{per_class}"
    )
