"""The one classification loss: class weights and label smoothing against hand-computed values."""

import math

import numpy as np
import pytest
import torch

from hfnews.errors import HfnewsError
from hfnews.training.losses import (
    ClassificationLoss,
    balanced_class_weights,
    classification_loss,
    resolve_class_weights,
)


LOGITS = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0], [0.0, 0.0, 3.0]])
LABELS = torch.tensor([0, 2, 2])
# float32 softmax/log of O(1) values: agreement to ~1e-6 relative; 1e-5 leaves room for summation order.
TOLERANCE = 1e-5


def row_nll(logits: list[float], label: int) -> float:
    """-log softmax(logits)[label], written out."""
    return -(logits[label] - math.log(sum(math.exp(value) for value in logits)))


def test_unweighted_loss_is_the_mean_negative_log_likelihood():
    expected = sum(row_nll(row, label) for row, label in zip(LOGITS.tolist(), LABELS.tolist())) / 3
    assert classification_loss(LOGITS, LABELS).item() == pytest.approx(expected, rel=TOLERANCE)


def test_class_weights_scale_each_row_by_its_gold_class_weight_over_the_row_count():
    weights = [1.0, 5.0, 3.0]
    nll = [row_nll(row, label) for row, label in zip(LOGITS.tolist(), LABELS.tolist())]
    expected = (1.0 * nll[0] + 3.0 * nll[1] + 3.0 * nll[2]) / 3
    assert classification_loss(LOGITS, LABELS, class_weights=weights).item() == pytest.approx(expected, rel=TOLERANCE)
    assert expected != pytest.approx(classification_loss(LOGITS, LABELS).item(), rel=1e-2)  # the weights matter


def test_label_smoothing_mixes_in_the_mean_over_classes_and_is_weighted_too():
    eps, weights = 0.1, [2.0, 1.0, 0.5]
    expected = 0.0
    for row, label in zip(LOGITS.tolist(), LABELS.tolist()):
        smooth = sum(weights[c] * row_nll(row, c) for c in range(3)) / 3
        expected += (1 - eps) * weights[label] * row_nll(row, label) + eps * smooth
    expected /= 3
    got = classification_loss(LOGITS, LABELS, class_weights=weights, label_smoothing=eps)
    assert got.item() == pytest.approx(expected, rel=TOLERANCE)


def test_ignored_rows_and_num_items_in_batch_set_the_divisor():
    labels = torch.tensor([0, -100, 2])
    nll = row_nll(LOGITS[0].tolist(), 0) + row_nll(LOGITS[2].tolist(), 2)
    assert classification_loss(LOGITS, labels).item() == pytest.approx(nll / 2, rel=TOLERANCE)
    # The Trainer's count over an accumulated batch of 8 labelled rows.
    assert classification_loss(LOGITS, labels, num_items_in_batch=torch.tensor(8)).item() == pytest.approx(
        nll / 8, rel=TOLERANCE
    )


def test_trainer_loss_function_reads_logits_from_model_outputs():
    loss = ClassificationLoss(class_weights=[1.0, 2.0, 3.0], label_smoothing=0.05)
    expected = classification_loss(LOGITS, LABELS, [1.0, 2.0, 3.0], 0.05)
    assert torch.allclose(loss({"logits": LOGITS}, LABELS), expected)
    assert torch.allclose(loss((LOGITS,), LABELS), expected)


def test_balanced_weights_follow_the_inverse_frequency_formula():
    labels = [0] * 6 + [1] * 3 + [2] * 1  # n=10, k=3
    assert balanced_class_weights(labels, 3) == pytest.approx([10 / 18, 10 / 9, 10 / 3])


def test_balanced_weights_match_scikit_learn():
    class_weight = pytest.importorskip("sklearn.utils.class_weight", reason="scikit-learn comes with the tune extra")
    labels = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 3])
    expected = class_weight.compute_class_weight("balanced", classes=np.arange(4), y=labels)
    assert balanced_class_weights(labels, 4) == pytest.approx(expected.tolist(), rel=1e-12)


def test_resolve_class_weights_by_name_defaults_to_one():
    names = ["business", "science_and_technology", "entertainment", "health"]
    assert resolve_class_weights(None, names, []) is None
    assert resolve_class_weights("business=1,health=3", names, []) == [1.0, 1.0, 1.0, 3.0]
    assert resolve_class_weights("balanced", ["a", "b"], [0, 0, 0, 1]) == pytest.approx([4 / 6, 2.0])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("sports=2", "'sports=2' is not LABEL=WEIGHT"),
        ("health", "'health' is not LABEL=WEIGHT"),
        ("health=-1", "weight of health must be a positive number, got '-1'"),
        ("health=lots", "weight of health must be a positive number, got 'lots'"),
    ],
)
def test_resolve_class_weights_rejects_bad_specs(spec, message):
    with pytest.raises(HfnewsError, match=message):
        resolve_class_weights(spec, ["business", "health"], [0, 1])


def test_balanced_weights_need_every_class_in_training():
    with pytest.raises(HfnewsError, match=r"class id\(s\) 2 have no training rows"):
        balanced_class_weights([0, 1, 1], 3)
