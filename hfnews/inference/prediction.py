"""Classifying many headlines fast: reading a file of them, batched inference, writing one row per input line.

`pipeline("text-classification", model=folder)` is the one-call API for a few texts; it handles one text at a time
before batching and so classifies a third to a half as many headlines per second as a plain batched loop for the
word-ID models, about as many for BERT, whose forward pass dominates (BENCHMARKS.md, "Speed"). `classify` is that
loop: batches of headlines of similar length (less padding), softmax scores in input order, the same scores
pipeline() gives. `scripts/predict.py --input_file` uses it.

Every row of the input gives one row of output, in the same order: a blank line is an empty title (the models
classify it from their biases alone), never dropped. Texts longer than the model reads are cut to its maximum length
(`input_length_limit`), as in training and in the text-classification pipeline of `hfnews.inference.pipelines`, and
clipped
before tokenizing (`hfnews.data.tokenization.clip_text`), so a line of megabytes costs no more memory than a headline.
"""

import logging
import os
from collections.abc import Sequence

import torch

from ..data.text_files import TEXT_COLUMN, label_file
from ..models.logits import predict_logits


logger = logging.getLogger(__name__)


def _scores(logits: torch.Tensor, config) -> torch.Tensor:
    """pipeline()'s rule: sigmoid for multi-label or single-output models, softmax otherwise."""
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return logits.float().sigmoid()
    return logits.float().softmax(dim=-1)


def classify(model, tokenizer, texts: Sequence[str], batch_size: int = 256, progress: bool = True) -> torch.Tensor:
    """Scores of every text for every label (pipeline()'s softmax or sigmoid): float32 (len(texts), num_labels),
    rows in the order of `texts`, from `predict_logits`."""
    return _scores(predict_logits(model, tokenizer, texts, batch_size, progress), model.config)


def top_labels(scores: torch.Tensor, id2label: dict[int, str], top_k: int = 1) -> list[list[tuple[str, float]]]:
    """The `top_k` (label, score) pairs of each row of `scores`, best first."""
    values, indices = scores.topk(min(top_k, scores.size(1)), dim=1)
    return [
        [(id2label[index], value) for index, value in zip(row_indices, row_values)]
        for row_indices, row_values in zip(indices.tolist(), values.tolist())
    ]


def predict_file(
    model,
    tokenizer,
    input_file: str | os.PathLike,
    output_file: str | os.PathLike | None,
    text_column_name: str = TEXT_COLUMN,
    batch_size: int = 256,
    progress: bool = True,
) -> int:
    """Classify every line of `input_file` (see `read_texts`) into `output_file` (see `write_predictions`), or print
    one line per headline when `output_file` is None (`hfnews.data.text_files.label_file`).

    Returns the number of rows written. Raises `HfnewsError` for unreadable or empty input or an unknown output
    format, before any model work.
    """

    def best_labels(texts: list[str]) -> list[tuple[str, float]]:
        scores = classify(model, tokenizer, texts, batch_size=batch_size, progress=progress)
        return [best for (best,) in top_labels(scores, model.config.id2label)]

    return label_file(input_file, output_file, best_labels, text_column_name)
