"""Headline files, without torch: reading a file of texts (plain text, CSV/TSV, JSON Lines) and writing one
prediction row per text. `hfnews.prediction` (torch) and the ONNX path of `hfnews.inference` (no torch) share it.

Every row of the input gives one row of output, in the same order: a blank line is an empty title, never dropped.
"""

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from .errors import HfnewsError


TEXT_COLUMN = "text"
# The keys pipeline() returns, so a row of the output file reads like a pipeline() result.
OUTPUT_KEYS = ("text", "label", "score")
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
JSON_LINES = (".jsonl", ".json")


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


def label_file(
    input_file: str | os.PathLike,
    output_file: str | os.PathLike,
    best_labels: Callable[[list[str]], list[tuple[str, float]]],
    text_column_name: str = TEXT_COLUMN,
) -> int:
    """Read `input_file` (see `read_texts`), label its texts with `best_labels` (texts -> one (label, score) per
    text, in order) and write `output_file` (see `write_predictions`); returns the number of rows written. Raises
    `HfnewsError` for unreadable input or an unknown output format, before `best_labels` runs."""
    output_suffix(output_file)
    texts = read_texts(input_file, text_column_name)
    write_predictions(output_file, texts, best_labels(texts))
    return len(texts)
