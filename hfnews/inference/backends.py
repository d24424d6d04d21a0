"""One interface over the two ways to run a model: a torch checkpoint or an exported ONNX folder.

`load_classifier` picks onnxruntime for a folder holding `model.onnx` and torch otherwise; torch (and transformers)
are imported only for a torch checkpoint, so serving or predicting from an ONNX folder works without torch. Both
classifiers give `top_labels(texts, top_k)`: per text, the `top_k` `(label, score)` pairs, best first, with
pipeline()'s softmax/sigmoid scores, texts longer than the model reads truncated as `scripts/predict.py` does.
"""

from collections.abc import Sequence
from pathlib import Path

from .onnx_backend import OnnxClassifier, is_onnx_folder


class TorchClassifier:
    """A torch checkpoint (or packaged model name) behind the `OnnxClassifier` interface, through
    `hfnews.inference.prediction.classify`. `threads` sets torch's intra-op threads for the whole process (`None`:
    leave it).

    Raises:
        HfnewsError: when the folder is not a loadable checkpoint (see `hfnews.models.loading.load_model`).
    """

    backend = "torch"

    def __init__(self, model_dir: str, threads: int | None = None):
        import torch

        from ..models.loading import load_model, load_tokenizer

        if threads is not None:
            torch.set_num_threads(threads)
        self.folder = Path(model_dir)
        self.model, self.tokenizer = load_model(model_dir).eval(), load_tokenizer(model_dir)
        self.id2label = self.model.config.id2label

    def top_labels(
        self, texts: Sequence[str], top_k: int = 1, batch_size: int = 256, progress: bool = False
    ) -> list[list[tuple[str, float]]]:
        """The `top_k` (label, score) pairs of each text, best first (`hfnews.inference.prediction.top_labels`)."""
        from .prediction import classify, top_labels

        scores = classify(self.model, self.tokenizer, texts, batch_size=batch_size, progress=progress)
        return top_labels(scores, self.id2label, top_k)


Classifier = OnnxClassifier | TorchClassifier


def load_classifier(model_dir: str, threads: int | None = None) -> Classifier:
    """`OnnxClassifier` for a folder holding `model.onnx`, else `TorchClassifier`; `threads` as they take it."""
    return OnnxClassifier(model_dir, threads) if is_onnx_folder(model_dir) else TorchClassifier(model_dir, threads)


def describe(classifier: Classifier) -> str:
    """One line naming the backend and the model, e.g. `backend: onnxruntime (runs/cnn-onnx)`."""
    return f"backend: {classifier.backend} ({classifier.folder})"
