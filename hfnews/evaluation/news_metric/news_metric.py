"""Single-label classification metric for hfnews, as an `evaluate` module script.

It ships inside the package and is loaded with `evaluate.load(<this folder>)`, so evaluation never touches the Hub.
`evaluate` copies this file into its dynamic-modules cache and imports it from there, which is why it must stay
self-contained: it imports only numpy, datasets and evaluate, never hfnews. It computes with numpy so scikit-learn
is not a dependency.
"""

import datasets
import evaluate
import numpy as np


_DESCRIPTION = """
Accuracy, macro-averaged F1, per-class precision / recall / F1 / support and the confusion matrix of a single-label
classifier. Zero-division convention: a class that is never predicted has precision 0.0, a class that never occurs
has recall 0.0, and F1 is 0.0 whenever precision + recall is 0. Every class in `labels` counts in the macro average,
including classes absent from the split, so macro-F1 is comparable across splits.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[int]`): predicted class ids.
    references (`list[int]`): gold class ids.
    labels (`list[int]`, defaults to the sorted ids seen in predictions and references): the class ids to report, in
        order. Pass `range(num_labels)` so the per-class lists always have one entry per class.
Returns:
    accuracy (`float`), macro_f1 (`float`), precision, recall, f1 (`list[float]`, one per label), support
    (`list[int]`, gold examples per label) and confusion_matrix (`list[list[int]]`, rows are gold labels, columns are
    predicted labels, both in `labels` order).
Examples:
    >>> metric = evaluate.load("hfnews/news_metric")
    >>> metric.compute(predictions=[0, 1, 1], references=[0, 1, 0], labels=[0, 1])["accuracy"]
    0.6666666666666666
"""


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division that yields 0.0 where the denominator is 0 (the documented zero-division rule)."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class NewsMetric(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, labels=None) -> dict:
        predictions = np.asarray(predictions, dtype=np.int64)
        references = np.asarray(references, dtype=np.int64)
        if len(references) == 0:
            raise ValueError("Cannot compute classification metrics on 0 examples; pass at least one prediction.")
        seen = np.unique(np.concatenate([predictions, references]))
        labels = seen if labels is None else np.asarray(labels, dtype=np.int64)
        unknown = np.setdiff1d(seen, labels).tolist()
        if unknown:
            raise ValueError(
                f"Class ids {unknown} are not in labels={labels.tolist()}; pass every class id in labels."
            )

        # Map class ids to rows/columns so `labels` may be any set of ids, then count (gold, predicted) pairs.
        index = {label: position for position, label in enumerate(labels.tolist())}
        gold = np.array([index[label] for label in references.tolist()], dtype=np.int64)
        predicted = np.array([index[label] for label in predictions.tolist()], dtype=np.int64)
        confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
        np.add.at(confusion, (gold, predicted), 1)

        true_positives = np.diag(confusion).astype(np.float64)
        support = confusion.sum(axis=1)
        precision = _safe_divide(true_positives, confusion.sum(axis=0))
        recall = _safe_divide(true_positives, support)
        f1 = _safe_divide(2 * precision * recall, precision + recall)
        return {
            "accuracy": float(true_positives.sum() / len(references)),
            "macro_f1": float(f1.mean()),
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "support": support.tolist(),
            "confusion_matrix": confusion.tolist(),
        }
