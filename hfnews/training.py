"""The one training path: corpus -> tokenizer -> model -> `transformers.Trainer` -> checkpoint, metrics, plots, card.

Every architecture goes through `run_training`; `accelerate` (inside the Trainer) decides CPU, GPU or several
processes, so `python scripts/train.py` and `accelerate launch scripts/train.py` run the same code.
"""

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from datasets import Dataset, DatasetDict
from transformers import (
    DataCollatorWithPadding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint

from .arguments import DataArguments, ModelArguments
from .callbacks import TRAIN_KEY, VALIDATION_KEY, EpochReportCallback, QuietProgressCallback, history_from_logs
from .data import check_corpus, load_news_corpus, load_prepared_corpus
from .errors import HfnewsError
from .factory import build_model, build_tokenizer
from .metrics import build_compute_metrics, compute_confusion_matrix
from .model_card import write_model_card
from .plots import plot_confusion_matrix, plot_learning_curves
from .sources import source_spec
from .vectors import VectorCoverage


if TYPE_CHECKING:
    from .distillation import Distillation

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
# TrainingArguments worth recording in the model card: enough to reproduce a run.
RECORDED_TRAINING_ARGS = (
    "num_train_epochs", "per_device_train_batch_size", "learning_rate", "optim", "weight_decay", "lr_scheduler_type",
    "warmup_steps", "max_grad_norm", "seed", "fp16", "bf16",
)  # fmt: skip


class NewsTrainer(Trainer):
    """`Trainer` whose model card is hfnews's (data, configuration, metrics, usage), also when pushing to the Hub."""

    report: dict | None = None

    def create_model_card(self, model_name: str | None = None, **kwargs) -> None:
        if self.report is None or not self.is_world_process_zero():
            return
        # The Hub repo once `init_hf_repo` made it (owner included), else the folder as given: the card's
        # `pipeline(model=...)` snippet then works as written (a bare folder name would be read as a Hub id).
        repo_id = self.hub_model_id or self.args.output_dir
        write_model_card(self.args.output_dir, self.report, self.model.config.to_diff_dict(), repo_id)


def load_corpus(data_args: DataArguments) -> tuple[DatasetDict, str]:
    """The DatasetDict to train on, sliced as asked, and a description of where it came from."""
    if data_args.dataset is not None:
        dataset, where = load_prepared_corpus(data_args.dataset), data_args.dataset
    else:
        corpus = load_news_corpus(data_args.source, seed=data_args.split_seed, group_by=data_args.group_by)
        dataset, where = corpus.dataset, source_spec(data_args.source)
        check_corpus(dataset, where)
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples,
              "test": data_args.max_eval_samples}  # fmt: skip
    for split, limit in limits.items():
        if limit is not None and limit < len(dataset[split]):
            dataset[split] = dataset[split].select(range(limit))
    return dataset, where


def encode_corpus(dataset: DatasetDict, tokenizer: PreTrainedTokenizerBase, max_length: int | None) -> DatasetDict:
    """Token IDs for every title; only the model inputs and `label` remain (the collator pads per batch)."""

    def encode(batch: dict) -> dict:
        return tokenizer(batch["text"], truncation=max_length is not None, max_length=max_length)

    columns = [name for name in dataset["train"].column_names if name != "label"]
    return dataset.map(encode, batched=True, remove_columns=columns, keep_in_memory=True, desc="tokenizing")


def resolve_resume(args: TrainingArguments) -> str | None:
    """`--resume_from_checkpoint last` (or `true`) picks the newest checkpoint in the output folder."""
    value = args.resume_from_checkpoint
    if value is None:
        return None
    if value.lower() in ("last", "true"):
        last = get_last_checkpoint(args.output_dir) if Path(args.output_dir).is_dir() else None
        if last is None:
            raise HfnewsError(f"no checkpoint to resume from in {args.output_dir}")
        return last
    if not (Path(value) / "trainer_state.json").is_file():
        raise HfnewsError(f"{value} is not a Trainer checkpoint (no trainer_state.json); pass checkpoint-N")
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


def prepare_experiment(
    model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments
) -> Experiment:
    """Load the corpus, build the tokenizer and the model, and encode every split."""
    set_seed(training_args.seed)
    dataset, source = load_corpus(data_args)
    label_names = dataset["train"].features["label"].names
    tokenizer = build_tokenizer(model_args, data_args, dataset["train"]["text"])
    model, coverage = build_model(model_args, tokenizer, label_names, training_args.seed)
    with training_args.main_process_first(desc="tokenizing"):
        encoded = encode_corpus(dataset, tokenizer, data_args.max_length)
    train_eval = encoded["train"]
    if data_args.train_eval_samples is not None and data_args.train_eval_samples < len(train_eval):
        train_eval = train_eval.select(range(data_args.train_eval_samples))
    distillation = None
    if model_args.teacher_name_or_path is not None:  # train only, after train_eval: evaluation scores the student
        from .distillation import add_teacher_logits  # imported here: distillation.py subclasses NewsTrainer

        with training_args.main_process_first(desc="teacher logits"):
            encoded["train"], distillation = add_teacher_logits(
                encoded["train"], dataset["train"]["text"], label_names, model_args, training_args
            )
    return Experiment(dataset, source, encoded, train_eval, tokenizer, model, coverage, distillation)


def build_trainer(
    experiment: Experiment,
    training_args: TrainingArguments,
    trainer_class: type[NewsTrainer] = NewsTrainer,
    **trainer_kwargs,
) -> NewsTrainer:
    """The one Trainer every model trains with: per-epoch scores on train and validation, best epoch kept.

    `trainer_class` lets a caller adjust one step of the loop (hyperparameter search reports per epoch).
    """
    mixed = training_args.fp16 or training_args.bf16
    if experiment.distillation is not None:
        from .distillation import with_distillation

        trainer_class = with_distillation(trainer_class)
        trainer_kwargs["distillation"] = experiment.distillation
    trainer = trainer_class(
        model=None if "model_init" in trainer_kwargs else experiment.model,
        args=training_args,
        train_dataset=experiment.encoded["train"],
        eval_dataset={TRAIN_KEY: experiment.train_eval, VALIDATION_KEY: experiment.encoded["validation"]},
        processing_class=experiment.tokenizer,
        # Tensor cores want sequence lengths in multiples of 8 under mixed precision.
        data_collator=DataCollatorWithPadding(experiment.tokenizer, pad_to_multiple_of=8 if mixed else None),
        compute_metrics=build_compute_metrics(experiment.label_names),
        callbacks=[EpochReportCallback()],
        **trainer_kwargs,
    )
    trainer.pop_callback(PrinterCallback)  # its raw metric dicts are replaced by the epoch report
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(QuietProgressCallback)
    return trainer


def run_training(model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments) -> dict:
    """Train, keep the best epoch by validation accuracy, score the test split and write the outputs; returns the
    report that `metrics.json` holds."""
    resume = resolve_resume(training_args)
    experiment = prepare_experiment(model_args, data_args, training_args)
    trainer = build_trainer(experiment, training_args)
    train_result = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model()  # the best epoch, loaded back by load_best_model_at_end
    prediction = trainer.predict(experiment.encoded["test"], metric_key_prefix="test")
    test = {key.removeprefix("test_"): value for key, value in prediction.metrics.items()}
    label_names, coverage = experiment.label_names, experiment.coverage
    report = {
        "architecture": model_args.architecture,
        "label_names": label_names,
        "history": history_from_logs(trainer.state.log_history),
        "test": test,
        "confusion_matrix": compute_confusion_matrix(prediction.predictions, prediction.label_ids, len(label_names)),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "train_runtime": train_result.metrics.get("train_runtime"),
        "data": {
            "source": experiment.source, "split_seed": data_args.split_seed, "group_by": data_args.group_by,
            **{split: len(experiment.dataset[split]) for split in experiment.dataset},
        },
        "model": asdict(model_args),
        "training": {name: getattr(training_args, name) for name in RECORDED_TRAINING_ARGS},
        "vectors_coverage": None if coverage is None else {
            "source": coverage.source, "found": coverage.found, "total": coverage.total, "ratio": coverage.ratio,
        },
        "distillation": None if experiment.distillation is None else experiment.distillation.as_report(),
    }  # fmt: skip
    trainer.report = report
    if trainer.is_world_process_zero():
        write_outputs(Path(training_args.output_dir), report)
        trainer.save_state()
        trainer.create_model_card()
    if training_args.push_to_hub:
        trainer.push_to_hub(commit_message="hfnews: end of training")
    return report


def write_outputs(output_dir: Path, report: dict) -> None:
    """`metrics.json`, the learning curves and the test confusion matrix."""
    (output_dir / METRICS_FILE).write_text(json.dumps(report, indent=2, default=str))
    if report["history"]:
        plot_learning_curves(report["history"], output_dir / "learning_curves.png")
    plot_confusion_matrix(
        report["confusion_matrix"], report["label_names"], output_dir / "confusion_matrix.png",
        title=f"Test confusion matrix (accuracy {report['test']['accuracy']:.4f})",
    )  # fmt: skip
    per_class = "\n".join(
        f"  {label:<24} P {report['test'][f'precision_{label}']:.4f}  R {report['test'][f'recall_{label}']:.4f}  "
        f"F1 {report['test'][f'f1_{label}']:.4f}"
        for label in report["label_names"]
    )
    print(
        f"test accuracy {report['test']['accuracy']:.4f}  macro-F1 {report['test']['macro_f1']:.4f}  "
        f"(checkpoint in {output_dir})\n{per_class}"
    )
