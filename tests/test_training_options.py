"""The training options users look for first: early stopping, class weights in every model's loss, TensorBoard."""

import copy
import math
from collections import Counter

import pytest
import torch
from training_helpers import train_tiny, write_tiny_corpus
from transformers import Trainer

from hfnews.errors import HfnewsError
from hfnews.training.arguments import parse_train_args
from hfnews.training.run import prepare_experiment
from hfnews.training.trainer import build_trainer


# float32 logits of a tiny model: the Trainer's loss and the one written out here agree to ~1e-7 relative.
TOLERANCE = 1e-5


@pytest.fixture
def corpus(tmp_path):
    return write_tiny_corpus(tmp_path / "news.csv")


def tiny_trainer(corpus, output_dir, *args: str):
    _, model_args, data_args, training_args = parse_train_args(
        ["--model", "tiny", "--source", str(corpus), "--output_dir", str(output_dir), "--use_cpu",
         "--report_to", "none", *args]
    )  # fmt: skip
    experiment = prepare_experiment(model_args, data_args, training_args)
    return build_trainer(experiment, training_args), experiment


def first_batch(trainer, experiment, rows: int = 16) -> dict:
    return trainer.data_collator([experiment.encoded["train"][i] for i in range(rows)])


@pytest.mark.parametrize("architecture", ["rnn", "cnn"])
def test_class_weights_change_the_trainer_loss_as_computed_by_hand(corpus, tmp_path, architecture):
    trainer, experiment = tiny_trainer(
        corpus, tmp_path / "out", "--architecture", architecture, "--class_weights", "business=1,health=3"
    )
    batch = first_batch(trainer, experiment)
    model = trainer.model.eval()
    with torch.no_grad():
        loss = trainer.compute_loss(model, dict(batch))
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.tolist()
        own_loss = model(**batch).loss.item()  # the model's unweighted cross-entropy
    weights = {0: 1.0, 1: 1.0, 2: 1.0, 3: 3.0}  # business, science_and_technology, entertainment, health
    labels = batch["labels"].tolist()
    assert 3 in labels and 0 in labels
    nll = [math.log(sum(math.exp(v) for v in row)) - row[label] for row, label in zip(logits, labels)]
    expected = sum(weights[label] * value for label, value in zip(labels, nll)) / len(labels)
    assert loss.item() == pytest.approx(expected, rel=TOLERANCE)
    assert own_loss == pytest.approx(sum(nll) / len(labels), rel=TOLERANCE)
    assert loss.item() > own_loss * (1 + 1e-3)  # health rows count three times


def test_without_class_weights_the_trainer_loss_is_the_models_own(corpus, tmp_path):
    trainer, experiment = tiny_trainer(corpus, tmp_path / "out")
    batch = first_batch(trainer, experiment)
    with torch.no_grad():
        assert trainer.compute_loss(trainer.model, dict(batch)).item() == pytest.approx(
            trainer.model(**batch).loss.item(), rel=TOLERANCE
        )


def test_balanced_class_weights_come_from_the_training_split(corpus, tmp_path):
    trainer, experiment = tiny_trainer(corpus, tmp_path / "out", "--class_weights", "balanced")
    counts = Counter(experiment.dataset["train"]["label"])
    total = sum(counts.values())
    expected = [total / (4 * counts[label]) for label in range(4)]
    assert trainer.compute_loss_func.class_weights == pytest.approx(expected, rel=1e-12)


def test_early_stopping_ends_a_run_that_stops_improving_and_says_why(corpus, tmp_path):
    # A learning rate of 0 keeps validation accuracy where epoch 1 left it: one evaluation without progress.
    report, printed = train_tiny(
        corpus, tmp_path / "out", "--num_train_epochs", "6", "--learning_rate", "0", "--early_stopping_patience", "1"
    )
    assert [row["epoch"] for row in report.history] == [1, 2]
    best = report.history[0]["eval_accuracy"]
    assert (
        f"early stopping after epoch 2: validation_accuracy did not improve on {best:.4f} (epoch 1) "
        "for 1 evaluation(s) (--early_stopping_patience 1)"
    ) in printed
    assert report.training["early_stopping_patience"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--early_stopping_patience", "0"], "early_stopping_patience must be a positive number"),
        (["--early_stopping_patience", "2", "--eval_strategy", "no", "--save_strategy", "no",
          "--load_best_model_at_end", "false"], "needs --eval_strategy epoch"),
    ],
)  # fmt: skip
def test_early_stopping_arguments_are_checked(tmp_path, args, message):
    with pytest.raises(HfnewsError, match=message):
        parse_train_args(["--model", "tiny", "--output_dir", str(tmp_path), *args])


def test_report_to_tensorboard_writes_event_files_with_the_epoch_scores(corpus, tmp_path):
    pytest.importorskip("tensorboard", reason="TensorBoard comes with the track extra")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train_tiny(corpus, tmp_path / "out", "--report_to", "tensorboard")
    (run_dir,) = (tmp_path / "out" / "runs").iterdir()  # the Trainer's default: output_dir/runs/<time>_<host>
    assert any(path.name.startswith("events.out.tfevents.") for path in run_dir.iterdir())
    events = EventAccumulator(str(run_dir))
    events.Reload()
    assert {"eval/validation_accuracy", "eval/train_loss"} <= set(events.Tags()["scalars"])


def test_floating_point_ops_count_what_the_trainer_counts(corpus, tmp_path):
    trainer, experiment = tiny_trainer(corpus, tmp_path / "out")
    batch = first_batch(trainer, experiment)
    flops = trainer.floating_point_ops(batch)
    assert flops == Trainer.floating_point_ops(trainer, batch) > 0
    assert trainer.floating_point_ops(first_batch(trainer, experiment, rows=4)) < flops  # counts this batch's tokens
    other = copy.deepcopy(trainer.model)  # a new, larger model, as a search's `model_init` makes
    other.classifier = torch.nn.Linear(other.classifier.in_features, 7)
    trainer.model = other
    assert trainer.floating_point_ops(batch) == Trainer.floating_point_ops(trainer, batch) > flops
