"""Classification metrics for the Trainer and for reports, computed by the `evaluate` module shipped in the package.

The module lives in `hfnews/news_metric/` and is loaded from that local path, so evaluation works offline
(`HF_HUB_OFFLINE=1`, `HF_EVALUATE_OFFLINE=1`) and never depends on a Hub metric changing under us.
"""

import functools
from collections.abc import Callable
from pathlib import Path

import evaluate
import numpy as np
from transformers import EvalPrediction

from ..errors import HfnewsError


METRIC_PATH = Path(__file__).parent / "news_metric"


@functools.cache
def load_metric() -> evaluate.EvaluationModule:
    """Load the packaged metric once per process; `keep_in_memory` avoids writing Arrow cache files per evaluation."""
    return evaluate.load(str(METRIC_PATH), keep_in_memory=True)


def _predicted_ids(predictions: np.ndarray | tuple, num_labels: int) -> np.ndarray:
    """Turn Trainer predictions into class ids.

    Models that return extra outputs (hidden states, attentions) make the Trainer pass a tuple whose first element
    holds the logits; a 1-D array is taken as class ids already (e.g. after `preprocess_logits_for_metrics`).
    """
    if isinstance(predictions, tuple):
        predictions = predictions[0]
    predictions = np.asarray(predictions)
    if predictions.ndim == 1:
        return predictions.astype(np.int64)
    if predictions.ndim != 2 or predictions.shape[1] != num_labels:
        raise HfnewsError(
            f"Expected logits of shape (N, {num_labels}) or class ids of shape (N,), got {predictions.shape}; "
            "check that the model's num_labels matches the label names."
        )
    return predictions.argmax(axis=-1)


def compute_classification_metrics(
    predictions: np.ndarray | tuple, label_ids: np.ndarray, num_labels: int
) -> dict[str, float | list]:
    """Run the packaged metric over all `num_labels` classes, so per-class lists have one entry per class even when
    a class is absent from the split (its scores are then 0.0, see the module's zero-division rule)."""
    return load_metric().compute(
        predictions=_predicted_ids(predictions, num_labels),
        references=np.asarray(label_ids, dtype=np.int64),
        labels=list(range(num_labels)),
    )


def build_compute_metrics(label_names: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
    """Build a `compute_metrics` for `transformers.Trainer`.

    It returns a flat dict of floats (the Trainer logs and compares scalars): `accuracy`, `macro_f1`, and per class
    `precision_<label>`, `recall_<label>`, `f1_<label>`, `support_<label>`, where `<label>` is the label name.
    """
    if len(label_names) < 2:
        raise HfnewsError(f"Classification needs at least 2 label names, got {label_names!r}.")
    if len(set(label_names)) != len(label_names):
        raise HfnewsError(f"Label names must be unique to build metric keys, got {label_names!r}.")

    def compute_metrics(eval_prediction: EvalPrediction) -> dict[str, float]:
        result = compute_classification_metrics(
            eval_prediction.predictions, eval_prediction.label_ids, len(label_names)
        )
        metrics = {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"]}
        for name in ("precision", "recall", "f1", "support"):
            metrics.update(
                {f"{name}_{label}": float(value) for label, value in zip(label_names, result[name], strict=True)}
            )
        return metrics

    return compute_metrics


def compute_confusion_matrix(
    predictions: np.ndarray | tuple, label_ids: np.ndarray, num_labels: int
) -> list[list[int]]:
    """Confusion matrix for reports (e.g. from `trainer.predict(test)`): rows are gold labels, columns predictions."""
    return compute_classification_metrics(predictions, label_ids, num_labels)["confusion_matrix"]
