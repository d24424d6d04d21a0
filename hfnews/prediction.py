"""Classifying many headlines fast: reading a file of them, batched inference, writing one row per input line.

`pipeline("text-classification", model=folder)` is the one-call API for a few texts; it handles one text at a time
before batching and so classifies a third to a half as many headlines per second as a plain batched loop for the
word-ID models, about as many for BERT, whose forward pass dominates (BENCHMARKS.md, "Speed"). `classify` is that
loop: batches of headlines of similar length (less padding), softmax scores in input order, the same scores
pipeline() gives. `scripts/predict.py --input_file` uses it.

Every row of the input gives one row of output, in the same order: a blank line is an empty title (the models
classify it from their biases alone), never dropped. Texts longer than the model takes are truncated to its maximum
length (`max_input_length`), as the text-classification pipeline of `hfnews.pipelines` does.
"""

import os
from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

# read_texts, output_suffix and write_predictions lived here before hfnews.text_files; callers still import them here.
from .text_files import TEXT_COLUMN, label_file, output_suffix, read_texts, write_predictions  # noqa: F401


# Above this, `model_max_length` means "no limit": transformers' VERY_LARGE_INTEGER (int(1e30)) for tokenizers saved
# without one, like the word-ID tokenizer of the RNN and CNN, which read a title of any length.
UNLIMITED_LENGTH = int(1e29)


def max_input_length(tokenizer) -> int | None:
    """The most tokens the tokenizer's model takes (`model_max_length`, e.g. 512 for BERT), `None` if unlimited."""
    length = getattr(tokenizer, "model_max_length", None)
    return length if length is not None and length < UNLIMITED_LENGTH else None


def _scores(logits: torch.Tensor, config) -> torch.Tensor:
    """pipeline()'s rule: sigmoid for multi-label or single-output models, softmax otherwise."""
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return logits.float().sigmoid()
    return logits.float().softmax(dim=-1)


@torch.inference_mode()
def predict_logits(
    model, tokenizer, texts: Sequence[str], batch_size: int = 256, progress: bool = True, desc: str = "classifying"
) -> torch.Tensor:
    """The model's logits for every text: float32 (len(texts), num_labels) on the CPU, rows in the order of `texts`.

    Batches of `batch_size` texts of similar length in characters, so short headlines are not padded to the longest
    of the file; each text is truncated to `max_input_length`. `progress` shows a tqdm bar (on stderr, titled
    `desc`) counting headlines.
    """
    model.eval()
    max_length = max_input_length(tokenizer)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    logits = torch.empty(len(texts), model.config.num_labels)
    with tqdm(total=len(texts), unit="headlines", disable=not progress, desc=desc) as bar:
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=max_length is not None,
                max_length=max_length,
                return_tensors="pt",
            )
            logits[rows] = model(**batch.to(model.device)).logits.float().cpu()
            bar.update(len(rows))
    return logits


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
    output_file: str | os.PathLike,
    text_column_name: str = TEXT_COLUMN,
    batch_size: int = 256,
    progress: bool = True,
) -> int:
    """Classify every line of `input_file` (see `read_texts`) into `output_file` (see `write_predictions`).

    Returns the number of rows written. Raises `HfnewsError` for unreadable input or an unknown output format,
    before any model work.
    """

    def best_labels(texts: list[str]) -> list[tuple[str, float]]:
        scores = classify(model, tokenizer, texts, batch_size=batch_size, progress=progress)
        return [best for (best,) in top_labels(scores, model.config.id2label)]

    return label_file(input_file, output_file, best_labels, text_column_name)
