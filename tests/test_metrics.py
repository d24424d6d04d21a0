import socket

import evaluate
import numpy as np
import pytest
from transformers import EvalPrediction

from hfnews.evaluation.metrics import build_compute_metrics, compute_confusion_matrix, load_metric


LABELS = ["business", "science_and_technology", "entertainment", "health"]
# 8 headlines, 6 right: business gets one false positive, science one right and one false positive,
# entertainment is perfect, health has one right and one predicted as science.
GOLD = np.array([0, 0, 1, 1, 2, 2, 3, 3])
PREDICTED = np.array([0, 0, 1, 0, 2, 2, 3, 1])


def logits_for(class_ids: np.ndarray, num_labels: int = len(LABELS)) -> np.ndarray:
    """Logits whose argmax is `class_ids`, with unequal values so argmax is what is tested, not one-hot input."""
    return np.eye(num_labels)[class_ids] * 3.0 - np.linspace(0.0, 1.0, num_labels)


def test_compute_metrics_matches_hand_computed_values():
    metrics = build_compute_metrics(LABELS)(EvalPrediction(predictions=logits_for(PREDICTED), label_ids=GOLD))

    per_class = {  # (precision, recall, F1)
        "business": (2 / 3, 1.0, 0.8),
        "science_and_technology": (0.5, 0.5, 0.5),
        "entertainment": (1.0, 1.0, 1.0),
        "health": (1.0, 0.5, 2 / 3),
    }
    expected = {"accuracy": 0.75, "macro_f1": (0.8 + 0.5 + 1.0 + 2 / 3) / 4}  # = 89 / 120
    for label, (precision, recall, f1) in per_class.items():
        expected.update({f"precision_{label}": precision, f"recall_{label}": recall, f"f1_{label}": f1})
        expected[f"support_{label}"] = 2.0
    assert metrics == pytest.approx(expected)
    assert metrics["macro_f1"] == pytest.approx(89 / 120)
    assert all(type(value) is float for value in metrics.values())


@pytest.mark.parametrize(
    "predictions",
    [logits_for(PREDICTED), (logits_for(PREDICTED), np.zeros((8, 5, 3))), PREDICTED],
    ids=["logits", "logits-tuple", "class-ids"],
)
def test_compute_metrics_accepts_trainer_prediction_forms(predictions):
    metrics = build_compute_metrics(LABELS)(EvalPrediction(predictions=predictions, label_ids=GOLD))

    assert metrics["accuracy"] == 0.75
    assert metrics["f1_business"] == pytest.approx(0.8)


def test_class_never_predicted_scores_zero():
    predictions = logits_for(np.array([0, 0, 2, 2]))
    metrics = build_compute_metrics(LABELS)(EvalPrediction(predictions=predictions, label_ids=np.array([0, 1, 2, 3])))

    for label in ("science_and_technology", "health"):
        assert metrics[f"precision_{label}"] == metrics[f"recall_{label}"] == metrics[f"f1_{label}"] == 0.0
    assert metrics["precision_business"] == 0.5
    assert metrics["f1_business"] == pytest.approx(2 / 3)
    assert metrics["accuracy"] == 0.5
    assert metrics["macro_f1"] == pytest.approx(1 / 3)


def test_class_absent_from_split_keeps_every_class():
    gold, predicted = np.array([0, 1, 1]), np.array([0, 1, 0])
    metrics = build_compute_metrics(LABELS)(EvalPrediction(predictions=logits_for(predicted), label_ids=gold))

    assert metrics["support_health"] == 0.0
    assert metrics["f1_health"] == metrics["f1_entertainment"] == 0.0
    # Absent classes still count in the macro average: (2/3 + 2/3 + 0 + 0) / 4.
    assert metrics["macro_f1"] == pytest.approx(1 / 3)
    assert compute_confusion_matrix(logits_for(predicted), gold, len(LABELS)) == [
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]


def test_confusion_matrix_rows_are_gold_labels():
    matrix = compute_confusion_matrix((logits_for(PREDICTED),), GOLD, len(LABELS))

    assert matrix == [[2, 0, 0, 0], [1, 1, 0, 0], [0, 0, 2, 0], [0, 1, 0, 1]]
    assert all(type(count) is int for row in matrix for count in row)


def test_compute_metrics_rejects_logits_of_wrong_width():
    compute_metrics = build_compute_metrics(LABELS)

    with pytest.raises(ValueError, match=r"shape \(N, 4\).*\(8, 3\)"):
        compute_metrics(EvalPrediction(predictions=logits_for(PREDICTED % 3, num_labels=3), label_ids=GOLD))


def test_metric_rejects_label_ids_outside_the_classes():
    with pytest.raises(ValueError, match=r"Class ids \[4\]"):
        compute_confusion_matrix(np.array([0, 1]), np.array([0, 4]), len(LABELS))


@pytest.mark.parametrize("label_names", [["business"], ["business", "business"]])
def test_build_compute_metrics_rejects_bad_label_names(label_names):
    with pytest.raises(ValueError, match="business"):
        build_compute_metrics(label_names)


def test_load_metric_works_offline(monkeypatch):
    def refuse_connection(*args, **kwargs):
        raise OSError("network access attempted while offline")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    # evaluate reads the variables at import time, so set its flag too; any socket use would now fail the test.
    monkeypatch.setattr(evaluate.config, "HF_EVALUATE_OFFLINE", True)
    monkeypatch.setattr(socket.socket, "connect", refuse_connection)
    load_metric.cache_clear()

    metric = load_metric()

    assert isinstance(metric, evaluate.EvaluationModule)
    assert metric.name == "news_metric"
    result = metric.compute(predictions=[0, 1, 1], references=[0, 1, 0], labels=[0, 1])
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert load_metric() is metric
