"""The one reader (and writer) of users' text files: headlines to classify and labelled rows to train on.

`scripts/predict.py --input_file`, `--distill_transfer_file`, `--train_file`/`--validation_file`/`--test_file` all
read through here, so a file means the same thing to each of them:

    `.tsv`                  tab-separated, a header line, never CSV-quoted (GLUE's convention): `"Girls" Meets
                            Genesis` keeps its quotes, and a lone `"` is a character like any other;
    `.csv`                  comma-separated with CSV quoting (RFC 4180, Python's `csv` module), a header line;
    `.jsonl`, `.json`       one JSON object per line (a `.json` file may also hold one JSON array of objects);
    any other name          plain text, one headline per line (`read_texts` only).

Every file is decoded as UTF-8 (a byte-order mark dropped); UTF-16 (Excel's "Unicode Text") and other encodings (cp932,
Latin-1) are refused in one line that names the file, the line and the encoding problem, and so are archives,
compressed files and workbooks (`.xlsx`, `.gz`; told by their leading bytes) and binary files. Lines end in LF, CRLF or
CR alone (old Mac, Excel for Mac's CSV); line numbers count every line, blank ones included. Cells stay the
strings they are in the file (`007` stays `007`); only an empty cell is missing.

`label_file` reads such a file, labels its texts with any backend and writes one prediction row per text
(`write_predictions`). Only the standard library is imported here: the ONNX prediction path runs without torch.
"""

import codecs
import csv
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import HfnewsError


TEXT_COLUMN = "text"
# The keys pipeline() returns, so a row of an output file reads like a pipeline() result.
OUTPUT_KEYS = ("text", "label", "score")
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
JSON_SUFFIXES = (".jsonl", ".json")
RECORD_SUFFIXES = (*TABLE_DELIMITERS, *JSON_SUFFIXES)  # what `read_records` reads: labelled data files too
_LINE_END = re.compile(r"\r\n|\r|\n")
_MAX_FIELD = 2**31 - 1  # the largest a C long holds everywhere
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Leading bytes of files users hand over by mistake (each format's published signature).
_BINARY_MAGIC = {
    re.compile(rb"PK\x03\x04"): "a zip archive (an .xlsx/.docx file is one)",
    re.compile(rb"\x1f\x8b"): "gzip-compressed",
    re.compile(rb"BZh[1-9]1AY&SY"): "bzip2-compressed",
    re.compile(rb"\xfd7zXZ\x00"): "xz-compressed",
    re.compile(rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"): "an Excel .xls workbook (OLE2)",
}
_TEXT_FORMATS = "give a UTF-8 .csv, .tsv, .jsonl or .txt file (decompress it, or save the sheet as CSV UTF-8)"


@dataclass
class Records:
    """The rows of a table file: the column names in file order and, per row, its first line number (1-based,
    counting blank lines) and its values by column (strings for CSV/TSV, JSON values for JSON)."""

    path: Path
    columns: list[str]
    lines: list[int]
    rows: list[dict]


def decode_text(path: Path, data: bytes) -> str:
    """`data` decoded as UTF-8, a leading byte-order mark dropped.

    Raises:
        HfnewsError: for an archive or compressed file (zip, which an `.xlsx` workbook is, gzip, bzip2, xz, an `.xls`
            workbook; told by its leading magic bytes), for UTF-16 (a UTF-16 byte-order mark, or NUL in half the even
            or half the odd positions of the first 4 KiB, as Latin text in UTF-16 has it), for other bytes holding NUL
            (binary; UTF-8 text never holds NUL) and for bytes that are not UTF-8, naming the line (Shift-JIS/cp932 or
            Latin-1 are the usual cause).
    """
    for magic, kind in _BINARY_MAGIC.items():
        if magic.match(data):
            raise HfnewsError(f"{path} is {kind}, not a text file: {_TEXT_FORMATS}")
    head = data[:4096]
    if data.startswith(_UTF16_BOMS) or _looks_utf16(head):
        raise HfnewsError(
            f'{path} is UTF-16 text (Excel\'s "Unicode Text" saves it), not UTF-8: save it as UTF-8 '
            "(Excel: CSV UTF-8) or convert it with iconv -f UTF-16 -t UTF-8"
        )
    if b"\x00" in head:
        raise HfnewsError(f"{path} holds NUL bytes, so it is binary, not a text file: {_TEXT_FORMATS}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = len(_LINE_END.findall(data[: error.start].decode("utf-8", errors="replace"))) + 1
        raise HfnewsError(
            f"{path} line {line}: not UTF-8 text (byte 0x{data[error.start]:02x}; Shift-JIS/cp932 or Latin-1?): "
            "save the file as UTF-8"
        ) from None


def _looks_utf16(head: bytes) -> bool:
    """Whether `head` (a file's first bytes) has NUL in at least half of its even or of its odd positions, as UTF-16
    without a byte-order mark has it where the text is mostly Latin (each ASCII character is one byte and one NUL)."""
    half = len(head) // 2
    return half > 0 and max(head[start::2].count(0) for start in (0, 1)) >= half / 2


def split_lines(text: str) -> list[str]:
    """The lines of `text`, split at LF, CRLF or CR alone; a final line end ends the last line, starts no new one."""
    lines = _LINE_END.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def read_lines(path: str | os.PathLike) -> list[str]:
    """Every line of a text file (see `decode_text`, `split_lines`). Raises `HfnewsError` for a missing file."""
    path = Path(path)
    if not path.is_file():
        raise HfnewsError(f"input file not found: {path}")
    return split_lines(decode_text(path, path.read_bytes()))


def read_records(path: str | os.PathLike, *, blank_rows: bool) -> Records:
    """The rows of a `.csv`, `.tsv`, `.jsonl` or `.json` file (the module docstring says how each is read).

    Args:
        blank_rows: whether a blank line is a row whose every cell is empty (a headline file, where each line gets
            a prediction) or is skipped (labelled data).

    Raises:
        HfnewsError: for a missing or empty file, no header, a row with more or fewer fields than the header, a line
            that is not a JSON object, each naming the file and the line.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    lines = read_lines(path)
    if not any(line.strip() for line in lines):
        raise HfnewsError(f"{path} is empty: it holds no header and no rows")
    if suffix in TABLE_DELIMITERS:
        return _table_records(path, lines, TABLE_DELIMITERS[suffix], blank_rows)
    if suffix in JSON_SUFFIXES:
        return _json_records(path, lines, blank_rows)
    raise HfnewsError(f"{path}: the name must end in {', '.join(RECORD_SUFFIXES)} (it says the format)")


def _numbered_fields(lines: list[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) per record: tabs split unquoted; commas through the csv module, a quoted field possibly
    running over several lines (numbered by its first)."""
    if delimiter == "\t":
        yield from ((number, line.split("\t") if line else []) for number, line in enumerate(lines, start=1))
        return
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    # The csv module refuses a field over 128 KiB by default; a file may hold a pasted article (cut later).
    limit = csv.field_size_limit(_MAX_FIELD)
    try:
        for fields in reader:
            yield start, fields
            start = reader.line_num + 1
    except csv.Error as error:
        raise HfnewsError(f"line {reader.line_num}: not valid CSV ({error})") from None
    finally:
        csv.field_size_limit(limit)


def _table_records(path: Path, lines: list[str], delimiter: str, blank_rows: bool) -> Records:
    try:
        numbered = [(number, fields) for number, fields in _numbered_fields(lines, delimiter)]
    except HfnewsError as error:
        raise HfnewsError(f"{path} {error}") from None
    first = next((i for i, (_, fields) in enumerate(numbered) if any(field.strip() for field in fields)), None)
    if first is None:
        raise HfnewsError(f"{path} is empty: it holds no header and no rows")
    header = numbered[first][1]
    records = Records(path, header, [], [])
    for number, fields in numbered[first + 1 :]:
        if not any(fields):  # a blank line (the csv module gives [], the tab split [] too)
            if blank_rows:
                records.lines.append(number)
                records.rows.append(dict.fromkeys(header, ""))
            continue
        if len(fields) != len(header):
            hint = "" if delimiter == "\t" else "; quote fields that contain a comma"
            raise HfnewsError(f"{path} line {number}: {len(fields)} fields where the header has {len(header)}{hint}")
        records.lines.append(number)
        records.rows.append(dict(zip(header, fields)))
    return records


def _json_records(path: Path, lines: list[str], blank_rows: bool) -> Records:
    text = "\n".join(lines)
    if text.lstrip().startswith("["):  # one JSON array of objects (the other layout datasets' json builder reads)
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise HfnewsError(f"{path} line {error.lineno}: not JSON ({error.msg})") from None
        numbered = [(None, value) for value in values]
    else:
        numbered = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                if blank_rows:
                    numbered.append((number, {}))
                continue
            try:
                numbered.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                raise HfnewsError(
                    f"{path} line {number}: not JSON ({error.msg}); write one JSON object per line"
                ) from None
    columns: dict[str, None] = {}
    for number, value in numbered:
        if not isinstance(value, dict):
            where = f"line {number}" if number is not None else "the array"
            raise HfnewsError(f"{path} {where}: a JSON {type(value).__name__}, not an object")
        columns.update(dict.fromkeys(value))
    return Records(path, list(columns), [number for number, _ in numbered], [value for _, value in numbered])


def read_texts(path: str | os.PathLike, text_column_name: str = TEXT_COLUMN) -> list[str]:
    """The headlines of a file, one per row, in order: the `text_column_name` column of a `.csv`/`.tsv` file (with a
    header line) or key of a `.jsonl`/`.json` file; for any other name each line (its line end removed, nothing
    else). A blank line is an empty headline, so every line of input gets a prediction.

    Raises:
        HfnewsError: for a missing file or column, a damaged line, a value that is not a string (file and line).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_DELIMITERS and suffix not in JSON_SUFFIXES:
        return read_lines(path)
    records = read_records(path, blank_rows=True)
    if text_column_name not in records.columns:
        found = ", ".join(map(str, records.columns))
        raise HfnewsError(f"{path} has no column {text_column_name!r} (found: {found}); pass --text_column_name NAME")
    texts = []
    for number, row in zip(records.lines, records.rows):
        where = f"line {number}" if number is not None else "an array item"
        if row and text_column_name not in row:
            raise HfnewsError(f"{path} {where}: no {text_column_name!r} (found: {', '.join(map(str, row))})")
        value = row.get(text_column_name, "")
        if not isinstance(value, str):
            raise HfnewsError(f"{path} {where}: {text_column_name!r} is {value!r}, not a string")
        texts.append(value)
    return texts


def output_suffix(path: str | os.PathLike) -> str:
    """The output file's name ending, lower-cased; `HfnewsError` unless JSON Lines, CSV or TSV."""
    suffix = Path(path).suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        raise HfnewsError(
            f"output file {path} must end in one of {', '.join(RECORD_SUFFIXES)} (JSON Lines, CSV or TSV)"
        )
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


def format_prediction(text: str, labels: Sequence[tuple[str, float]]) -> str:
    """One screen line: each `(label, score)` as `label 0.987`, comma-separated, then a tab and the text."""
    return ", ".join(f"{label} {score:.3f}" for label, score in labels) + f"\t{text}"


def label_file(
    input_file: str | os.PathLike,
    output_file: str | os.PathLike | None,
    best_labels: Callable[[list[str]], list[tuple[str, float]]],
    text_column_name: str = TEXT_COLUMN,
) -> int:
    """Read `input_file` (see `read_texts`), label its texts with `best_labels` (texts -> one (label, score) per
    text, in order) and write `output_file` (see `write_predictions`), or print one `format_prediction` line per text
    when `output_file` is None; returns the number of texts labelled.

    Raises:
        HfnewsError: for unreadable or empty input or an unknown output format, before `best_labels` runs.
    """
    if output_file is not None:
        output_suffix(output_file)
    texts = read_texts(input_file, text_column_name)
    if not texts:
        raise HfnewsError(f"{input_file} holds no headlines")
    labels = best_labels(texts)
    if output_file is None:
        for text, label in zip(texts, labels):
            print(format_prediction(text, [label]))
    else:
        write_predictions(output_file, texts, labels)
    return len(texts)
