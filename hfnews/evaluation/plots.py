"""Training reports as PNG files: learning curves and confusion matrices.

Figures are built with `matplotlib.figure.Figure` on an Agg canvas instead of `pyplot`: nothing needs a display,
the process-wide backend is left alone (notebooks keep theirs), and no figure is registered globally, so none leaks.
"""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import HfnewsError


HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "eval_loss", "eval_accuracy")
DPI = 100
READABLE_CLASSES = 6  # a 700 x 600 px confusion matrix has room for this many classes' cells


def _save(figure: Figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(path)
    return path


def plot_learning_curves(history: list[dict], path: str | os.PathLike, title: str = "Learning curves") -> Path:
    """Plot loss and accuracy per epoch, train against validation, side by side (1000 x 400 px).

    Args:
        history (`list[dict]`): one dict per epoch with the keys `epoch`, `train_loss`, `train_accuracy`,
            `eval_loss`, `eval_accuracy`.
        path (`str` or `os.PathLike`): PNG file to write; missing parent folders are created.
        title (`str`, defaults to `"Learning curves"`): figure title, e.g. the model name.

    Returns:
        `Path`: the written file.
    """
    if not history:
        raise HfnewsError("history is empty; pass one dict per epoch.")
    for position, record in enumerate(history):
        missing = [key for key in HISTORY_KEYS if key not in record]
        if missing:
            raise HfnewsError(f"history[{position}] lacks {missing}; every epoch needs the keys {list(HISTORY_KEYS)}.")

    epochs = [record["epoch"] for record in history]
    figure = Figure(figsize=(10, 4), dpi=DPI, layout="constrained")
    figure.suptitle(title)
    for axes, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        # Markers keep a one-epoch history visible: a single point draws no line.
        axes.plot(epochs, [record[f"train_{metric}"] for record in history], marker="o", label="train")
        axes.plot(epochs, [record[f"eval_{metric}"] for record in history], marker="s", label="validation")
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        # Half an epoch of padding gives the integer locator room to tick whole epochs, even for a single one.
        axes.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        axes.grid(alpha=0.3)
        axes.legend()
    return _save(figure, path)


def plot_confusion_matrix(
    matrix: Sequence[Sequence[int]] | np.ndarray,
    label_names: Sequence[str],
    path: str | os.PathLike,
    title: str = "Confusion matrix",
) -> Path:
    """Plot a confusion matrix (rows gold, columns predicted) with counts in the cells (700 x 600 px, and larger in
    proportion beyond `READABLE_CLASSES` classes, so that each cell keeps room for its two lines of text).

    Cell colour is the count divided by its row total, i.e. the share of each gold class that went to each
    prediction, so small classes are as readable as large ones; the percentage is printed under the count.

    Args:
        matrix (`list[list[int]]` or `np.ndarray`): square count matrix, e.g. from
            `hfnews.evaluation.metrics.compute_confusion_matrix`.
        label_names (`Sequence[str]`): class names in matrix order.
        path (`str` or `os.PathLike`): PNG file to write; missing parent folders are created.
        title (`str`, defaults to `"Confusion matrix"`): figure title, e.g. the model and split.

    Returns:
        `Path`: the written file.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    if counts.shape != (len(label_names), len(label_names)):
        raise HfnewsError(
            f"Confusion matrix shape {counts.shape} does not match {len(label_names)} label names; "
            "pass one name per row/column."
        )
    row_totals = counts.sum(axis=1, keepdims=True)
    # A gold class absent from the split has an all-zero row; show it as 0 rather than dividing by zero.
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)

    scale = max(1.0, len(label_names) / READABLE_CLASSES)
    figure = Figure(figsize=(7 * scale, 6 * scale), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, label="share of gold class")
    for (row, column), count in np.ndenumerate(counts):
        colour = "white" if shares[row, column] > 0.5 else "black"
        text = f"{count}\n{shares[row, column]:.0%}"
        axes.text(column, row, text, ha="center", va="center", color=colour)
    axes.set_xticks(range(len(label_names)), label_names, rotation=30, ha="right")
    axes.set_yticks(range(len(label_names)), label_names)
    axes.set_xlabel("predicted label")
    axes.set_ylabel("gold label")
    axes.set_title(title)
    return _save(figure, path)


def plot_benchmark(rows: Sequence[dict], baseline: dict, path: str | os.PathLike) -> Path:
    """Test accuracy and macro-F1 per model as horizontal bars, with the TF-IDF baseline as a reference line."""
    rows = sorted(rows, key=lambda row: row["test_accuracy"])
    names = [row["model"] for row in rows]
    figure = Figure(figsize=(8, 0.5 * len(rows) + 1.5), dpi=DPI)
    axes = figure.add_subplot()
    positions = np.arange(len(rows))
    axes.barh(positions + 0.2, [row["test_accuracy"] for row in rows], height=0.4, label="test accuracy")
    axes.barh(positions - 0.2, [row["test_macro_f1"] for row in rows], height=0.4, label="test macro-F1")
    axes.axvline(baseline["test_accuracy"], color="black", linestyle="--", label="TF-IDF + LR accuracy")
    for position, row in zip(positions, rows):
        axes.text(row["test_accuracy"], position + 0.2, f" {row['test_accuracy']:.3f}", va="center", fontsize=8)
    axes.set_yticks(positions, names)
    lowest = min(min(row["test_macro_f1"] for row in rows), baseline["test_accuracy"])
    axes.set_xlim(max(0.0, lowest - 0.05), 1.0)
    axes.set_xlabel("score on the test split")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return _save(figure, path)


def plot_trials(points: Sequence[tuple[int, float, str]], path: str | os.PathLike, title: str) -> Path:
    """Validation accuracy per search trial, `(number, value, state)` with state `complete` or `pruned` (pruned ones
    at the epoch they stopped), and the best complete trial so far (800 x 450 px)."""
    figure = Figure(figsize=(8, 4.5), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    for state, marker in (("complete", "o"), ("pruned", "x")):
        shown = [(number, value) for number, value, kind in points if kind == state]
        if shown:
            axes.scatter(*zip(*shown), marker=marker, label=state)
    complete = sorted((number, value) for number, value, kind in points if kind == "complete")
    if complete:
        best_so_far = np.maximum.accumulate([value for _, value in complete])
        axes.step([number for number, _ in complete], best_so_far, where="post", color="black", label="best so far")
    axes.set_title(title)
    axes.set_xlabel("trial")
    axes.set_ylabel("validation accuracy")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)
