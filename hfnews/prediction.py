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

import csv
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .errors import HfnewsError


TEXT_COLUMN = "text"
# The keys pipeline() returns, so a row of the output file reads like a pipeline() result.
OUTPUT_KEYS = ("text", "label", "score")
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
JSON_LINES = (".jsonl", ".json")
# Above this, `model_max_length` means "no limit": transformers' VERY_LARGE_INTEGER (int(1e30)) for tokenizers saved
# without one, like the word-ID tokenizer of the RNN and CNN, which read a title of any length.
UNLIMITED_LENGTH = int(1e29)


def max_input_length(tokenizer) -> int | None:
    """The most tokens the tokenizer's model takes (`model_max_length`, e.g. 512 for BERT), `None` if unlimited."""
    length = getattr(tokenizer, "model_max_length", None)
    return length if length is not None and length < UNLIMITED_LENGTH else None


def _decoded_lines(path: Path) -> Iterator[str]:
    """The file's lines, decoded as UTF-8 (a BOM dropped), line ends kept; a line that is not UTF-8 is an error."""
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise HfnewsError(
                    f"{path} line {number}: not UTF-8 text ({error.reason}); save the file as UTF-8"
                ) from None


def _column_error(path: Path, column: str, found: Iterable[str]) -> HfnewsError:
    return HfnewsError(
        f"{path} has no column {column!r} (found: {', '.join(map(str, found))}); pass --text_column_name NAME"
    )


def _read_table(path: Path, column: str, delimiter: str) -> list[str]:
    """The `column` of a CSV/TSV file with a header row; an empty row (a blank line) is an empty title."""
    reader = csv.reader(_decoded_lines(path), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return []
    if column not in header:
        raise _column_error(path, column, header)
    index = header.index(column)
    texts = []
    for row in reader:
        if row and len(row) != len(header):
            raise HfnewsError(
                f"{path} line {reader.line_num}: {len(row)} fields where the header has {len(header)}; "
                "quote fields that contain the delimiter"
            )
        texts.append(row[index] if row else "")
    return texts


def _read_json_lines(path: Path, column: str) -> list[str]:
    """The `column` of each JSON object, one per line; a blank line is an empty title."""
    texts = []
    for number, line in enumerate(_decoded_lines(path), start=1):
        if not line.strip():
            texts.append("")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise HfnewsError(
                f"{path} line {number}: not JSON ({error.msg}); write one JSON object per line"
            ) from None
        if not isinstance(record, dict):
            raise HfnewsError(f"{path} line {number}: a JSON {type(record).__name__}, not an object with {column!r}")
        if column not in record:
            raise _column_error(path, column, record)
        if not isinstance(record[column], str):
            raise HfnewsError(f"{path} line {number}: {column!r} is {record[column]!r}, not a string")
        texts.append(record[column])
    return texts


def read_texts(path: str | os.PathLike, text_column_name: str = TEXT_COLUMN) -> list[str]:
    """The texts of a file, one per line (row), in order.

    `.csv` / `.tsv`: the `text_column_name` column of a file with a header row; `.jsonl` / `.json`: that key of one
    JSON object per line; any other name: plain text, one headline per line (the line end removed, nothing else).
    A blank line is an empty title. Raises `HfnewsError` for a missing file or column, or a damaged line (its
    number in the message).
    """
    path = Path(path)
    if not path.is_file():
        raise HfnewsError(f"input file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in TABLE_DELIMITERS:
        return _read_table(path, text_column_name, TABLE_DELIMITERS[suffix])
    if suffix in JSON_LINES:
        return _read_json_lines(path, text_column_name)
    return [line.removesuffix("\n").removesuffix("\r") for line in _decoded_lines(path)]


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


def output_suffix(path: str | os.PathLike) -> str:
    """The output file's name ending, lower-cased; `HfnewsError` unless JSON Lines, CSV or TSV."""
    suffix = Path(path).suffix.lower()
    if suffix not in (*JSON_LINES, *TABLE_DELIMITERS):
        known = ", ".join((*JSON_LINES, *TABLE_DELIMITERS))
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
        if suffix in JSON_LINES:
            file.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        else:
            writer = csv.DictWriter(file, fieldnames=OUTPUT_KEYS, delimiter=TABLE_DELIMITERS[suffix])
            writer.writeheader()
            writer.writerows(rows)


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
    output_suffix(output_file)
    texts = read_texts(input_file, text_column_name)
    scores = classify(model, tokenizer, texts, batch_size=batch_size, progress=progress)
    write_predictions(output_file, texts, [best for (best,) in top_labels(scores, model.config.id2label)])
    return len(texts)
