import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from hfnews.evaluation.plots import plot_confusion_matrix, plot_learning_curves


LABELS = ["business", "science_and_technology", "entertainment", "health"]


def make_history(num_epochs: int) -> list[dict]:
    return [
        {
            "epoch": epoch,
            "train_loss": 1.2 / epoch,
            "train_accuracy": 1 - 0.4 / epoch,
            "eval_loss": 1.0 / epoch + 0.1 * epoch,
            "eval_accuracy": 0.85 - 0.2 / epoch,
        }
        for epoch in range(1, num_epochs + 1)
    ]


def read_png(path) -> np.ndarray:
    assert path.stat().st_size > 0
    return matplotlib.image.imread(path)


def assert_not_blank(image: np.ndarray):
    # Something other than the white background was drawn.
    assert (image[..., :3] < 0.9).any()


@pytest.mark.parametrize("num_epochs", [1, 3])
def test_plot_learning_curves_writes_png(tmp_path, num_epochs):
    figures_before = plt.get_fignums()

    path = plot_learning_curves(make_history(num_epochs), tmp_path / "plots" / "curves.png", title="NewsRNN")

    assert path == tmp_path / "plots" / "curves.png"
    image = read_png(path)
    assert image.shape == (400, 1000, 4)
    assert_not_blank(image)
    assert plt.get_fignums() == figures_before


def test_plot_learning_curves_names_missing_keys(tmp_path):
    history = make_history(2)
    del history[1]["eval_accuracy"]

    with pytest.raises(ValueError, match=r"history\[1\] lacks \['eval_accuracy'\]"):
        plot_learning_curves(history, tmp_path / "curves.png")
    with pytest.raises(ValueError, match="empty"):
        plot_learning_curves([], tmp_path / "curves.png")


def test_plot_confusion_matrix_writes_png(tmp_path):
    # The health row is all zeros (class absent from the split): it must plot, not divide by zero.
    matrix = [[50, 3, 1, 0], [4, 40, 2, 0], [1, 2, 60, 0], [0, 0, 0, 0]]
    figures_before = plt.get_fignums()

    with np.errstate(all="raise"):
        path = plot_confusion_matrix(matrix, LABELS, tmp_path / "confusion.png", title="NewsRNN, test")

    image = read_png(path)
    assert image.shape == (600, 700, 4)
    assert_not_blank(image)
    assert plt.get_fignums() == figures_before


def test_plot_confusion_matrix_rejects_shape_mismatch(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(2, 2\) does not match 4 label names"):
        plot_confusion_matrix([[1, 0], [0, 1]], LABELS, tmp_path / "confusion.png")


def test_plot_confusion_matrix_grows_with_the_number_of_classes(tmp_path):
    """Any labelled data may have many classes (20 here): the figure grows so the cells keep their size."""
    names = [f"class_{i}" for i in range(20)]
    path = plot_confusion_matrix(np.eye(20, dtype=int) * 3, names, tmp_path / "many.png")
    assert read_png(path).shape == (2000, 2333, 4)
    two = plot_confusion_matrix([[3, 1], [0, 2]], ["neg", "pos"], tmp_path / "two.png")
    assert read_png(two).shape == (600, 700, 4)
