"""Classifying many headlines fast: reading a file of them, batched inference, writing one row per input line.

`pipeline("text-classification", model=folder)` is the one-call API for a few texts; it handles one text at a time
before batching and so classifies a third to a half as many headlines per second as a plain batched loop for the
word-ID models, about as many for BERT, whose forward pass dominates (BENCHMARKS.md, "Speed"). `classify` is that
loop: batches of headlines of similar length (less padding), softmax scores in input order, the same scores
pipeline() gives. `scripts/predict.py --input_file` uses it.

Every row of the input gives one row of output, in the same order: a blank line is an empty title (the models
classify it from their biases alone), never dropped. Texts longer than the model reads are cut to its maximum length
(`input_length_limit`), as in training and in the text-classification pipeline of `hfnews.pipelines`, and clipped
before tokenizing (`hfnews.tokenization.clip_text`), so a line of megabytes costs no more memory than a headline.
"""

import csv
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .errors import HfnewsError
from .text_files import JSON_SUFFIXES, TABLE_DELIMITERS, TEXT_COLUMN, read_texts
from .tokenization import encode_truncated, input_length_limit


logger = logging.getLogger(__name__)


# The keys pipeline() returns, so a row of the output file reads like a pipeline() result.
OUTPUT_KEYS = ("text", "label", "score")


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
    of the file; each text is cut to `input_length_limit` tokens (how many were cut is logged). `progress` shows a
    tqdm bar (on stderr, titled `desc`) counting headlines.
    """
    model.eval()
    max_length = input_length_limit(tokenizer, model.config.model_type)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    logits = torch.empty(len(texts), model.config.num_labels)
    cut = 0
    with tqdm(total=len(texts), unit="headlines", disable=not progress, desc=desc) as bar:
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch, batch_cut = encode_truncated(
                tokenizer, [texts[i] for i in rows], max_length, padding=True, return_tensors="pt"
            )
            logits[rows] = model(**batch.to(model.device)).logits.float().cpu()
            cut += batch_cut
            bar.update(len(rows))
    report_cut(cut, len(texts), max_length)
    return logits


def report_cut(cut: int, total: int, max_length: int | None) -> None:
    """Say how many of `total` texts held more than `max_length` tokens and were read only that far."""
    if cut:
        logger.info("%s of %s text(s) longer than %d tokens: each read to its first %d", f"{cut:,}", f"{total:,}",
                    max_length, max_length)  # fmt: skip


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


def output_suffix(path: str | os.PathLike) -> str:
    """The output file's name ending, lower-cased; `HfnewsError` unless JSON Lines, CSV or TSV."""
    suffix = Path(path).suffix.lower()
    if suffix not in (*JSON_SUFFIXES, *TABLE_DELIMITERS):
        known = ", ".join((*JSON_SUFFIXES, *TABLE_DELIMITERS))
        raise HfnewsError(f"output file {path} must end in one of {known} (JSON Lines, CSV or TSV)")
    return suffix


def write_predictions(path: str | os.PathLike, texts: Sequence[str], labels: Sequence[tuple[str, float]]) -> None:
    """One row per text with keys `text`, `label`, `score`: JSON Lines for `.jsonl` / `.json`, CSV for `.csv`, TSV
    for `.tsv`, each table with a header row. Raises `HfnewsError` for another file name ending."""
    path = Path(path)
    suffix = output_suffix(path)
    rows = ({"text": text, "label": label, "score": score} for text, (label, score) in zip(texts, labels))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        if suffix in JSON_SUFFIXES:
            file.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        else:
            writer = csv.DictWriter(file, fieldnames=OUTPUT_KEYS, delimiter=TABLE_DELIMITERS[suffix])
            writer.writeheader()
            writer.writerows(rows)


def predict_file(
    model,
    tokenizer,
    input_file: str | os.PathLike,
    output_file: str | os.PathLike | None,
    text_column_name: str = TEXT_COLUMN,
    batch_size: int = 256,
    progress: bool = True,
) -> int:
    """Classify every line of `input_file` (see `read_texts`) into `output_file` (see `write_predictions`), or, when
    `output_file` is None, print one line per input to stdout, in order (`format_prediction`).

    Returns the number of headlines classified. Raises `HfnewsError` for unreadable input or an unknown output format,
    before any model work.
    """
    if output_file is not None:
        output_suffix(output_file)
    texts = read_texts(input_file, text_column_name)
    if not texts:
        raise HfnewsError(f"{input_file} holds no headlines")
    scores = classify(model, tokenizer, texts, batch_size=batch_size, progress=progress)
    best = [best for (best,) in top_labels(scores, model.config.id2label)]
    if output_file is None:
        for text, label in zip(texts, best):
            print(format_prediction(text, [label]))
    else:
        write_predictions(output_file, texts, best)
    return len(texts)


def format_prediction(text: str, labels: Sequence[tuple[str, float]]) -> str:
    """One screen line: each `(label, score)` as `label 0.987`, comma-separated, then a tab and the text."""
    return ", ".join(f"{label} {score:.3f}" for label, score in labels) + f"\t{text}"
