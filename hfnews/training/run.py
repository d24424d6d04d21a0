"""The one training path: corpus -> tokenizer -> model -> `transformers.Trainer` -> checkpoint, metrics, plots, card.

Every architecture goes through `run_training`; `accelerate` (inside the Trainer) decides CPU, GPU or several
processes, so `python scripts/train.py` and `accelerate launch scripts/train.py` run the same code.
"""

import logging
from dataclasses import asdict
from pathlib import Path

import torch
from datasets import DatasetDict
from transformers import TrainingArguments, set_seed

from ..data.arguments import DataArguments
from ..data.corpus import check_corpus, load_corpus_entry
from ..data.corpus_cache import locate_corpus
from ..data.encoding import encode_corpus
from ..data.labelled_data import load_labelled_dataset, load_labelled_files
from ..data.sources import source_spec
from ..errors import HfnewsError
from ..evaluation.error_analysis import (
    check_predictions_file,
    confident_mistakes,
    format_mistakes,
    prediction_records,
    write_predictions,
)
from ..evaluation.metrics import compute_confusion_matrix
from ..evaluation.plots import plot_confusion_matrix, plot_learning_curves
from ..integrity import DamagedFileError
from ..models.arguments import ModelArguments
from ..models.factory import build_model, build_tokenizer
from ..models.model_files import check_checkpoint
from .arguments import NewsTrainingArguments
from .checkpoints import check_output_dir, last_complete_checkpoint
from .distillation import add_teacher_logits
from .experiment import Experiment
from .hub import check_hub_access
from .model_card import NewsCardData, describe_data_source
from .report import ReportCallback, TrainingReport
from .trainer import build_trainer, in_split_order, with_row_index


logger = logging.getLogger(__name__)

# TrainingArguments worth recording in the model card: enough to reproduce a run.
RECORDED_TRAINING_ARGS = (
    "num_train_epochs", "per_device_train_batch_size", "learning_rate", "optim", "weight_decay", "lr_scheduler_type",
    "warmup_steps", "max_grad_norm", "seed", "fp16", "bf16", "label_smoothing_factor", "class_weights",
    "early_stopping_patience",
)  # fmt: skip


def data_sources(data_args: DataArguments) -> list[str]:
    """The files, folder or URL the run's data comes from, as given (for the model card's name and checksum)."""
    if data_args.train_file is not None:
        files = (data_args.train_file, data_args.validation_file, data_args.test_file)
        return [file for file in files if file is not None]
    return [data_args.dataset if data_args.dataset is not None else source_spec(data_args.source)]


def load_corpus(data_args: DataArguments) -> tuple[DatasetDict, str]:
    """The DatasetDict to train on, sliced as asked, and a description of where it came from.

    `--train_file` and `--dataset` take their label names from the data (see `hfnews.data.labelled_data`); the UCI
    corpus
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
        corpus = load_corpus_entry(locate_corpus(data_args.corpus))
        dataset, where = corpus.dataset, source_spec(data_args.source)
        check_corpus(dataset, where)
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples,
              "test": data_args.max_eval_samples}  # fmt: skip
    for split, limit in limits.items():
        if limit is not None and limit < len(dataset[split]):
            dataset[split] = dataset[split].select(range(limit))
    return dataset, where


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
        # Before the model: a missing teacher is reported as such even when `--vectors teacher` reads it too.
        # fork_rng: loading a teacher may draw random numbers (for weights its checkpoint lacks), which must not change
        # the student's initialisation. Only the CPU generator matters: the student is built on the CPU.
        with training_args.main_process_first(desc="teacher logits"), torch.random.fork_rng(devices=[]):
            encoded["train"], distillation = add_teacher_logits(
                encoded["train"], dataset, model_args, data_args, training_args, tokenizer
            )
    model, coverage = build_model(model_args, tokenizer, label_names, training_args.seed)
    return Experiment(dataset, source, encoded, train_eval, tokenizer, model, coverage, distillation)


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
    report = new_report(experiment, model_args, data_args, training_args)
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
