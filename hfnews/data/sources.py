"""Reading the News Aggregator source files into validated rows (the first step of problem 50).

The official `newsCorpora.csv` is tab-separated with no quoting: titles may start with a quote character, so it is
split on tabs line by line and never handed to a CSV reader (which would merge lines); LF or CRLF line ends, a UTF-8
byte-order mark and blank lines are accepted. Kaggle's `uci-news-aggregator.csv` (the same columns, comma-separated
under a header line, CSV quoting) is real CSV and is read with the `csv` module; it is recognised by its header, also
inside a zip. A folder of split files is read by `hfnews.data.split_files`. Every row is checked; a bad one stops the
run with the file, the line number and what is wrong, unless the caller asks to skip such rows, in which case each
skipped line is reported.
"""

import codecs
import csv
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import HfnewsError
from .download import OFFICIAL_CSV_NAME as CSV_NAME
from .download import OFFICIAL_CSV_SHA256, OFFICIAL_CSV_SIZE, OFFICIAL_ZIP_URL, ChecksumError, download
from .rows import (
    CATEGORIES,
    COLUMNS,
    LABEL_NAMES,
    PUBLISHERS,
    MalformedRowError,
    SourceRows,
    check_corpus_fields,
    check_title,
)
from .split_files import LayoutOptions, read_split_folder, split_file_paths


__all__ = [
    "CATEGORIES",
    "COLUMNS",
    "KAGGLE_HEADER",
    "LABEL_NAMES",
    "NLP100_SPLIT_FILES",
    "PUBLISHERS",
    "LayoutOptions",
    "MalformedRowError",
    "SourceRows",
    "read_source",
    "resolve_source",
    "source_files",
    "source_spec",
]

NLP100_SPLIT_FILES = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}
KAGGLE_HEADER = ",".join(name.upper() for name in COLUMNS)  # the first line of Kaggle's uci-news-aggregator.csv
SOURCE_ENV = "HFNEWS_SOURCE"
_CATEGORY_BYTES = np.frombuffer("".join(CATEGORIES).encode(), dtype=np.uint8)
_PUBLISHER_BYTES = [np.frombuffer(name.encode(), dtype=np.uint8) for name in PUBLISHERS]


def source_spec(source: str | os.PathLike | None = None) -> str:
    """What `--source` stands for: the value given, else `$HFNEWS_SOURCE`, else the UCI archive."""
    return str(source or os.environ.get(SOURCE_ENV) or OFFICIAL_ZIP_URL)


def resolve_source(source: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """Turn `--source` into a local path, downloading URLs (see `source_spec` for the default)."""
    source = source_spec(source)
    if source.startswith(("http://", "https://")):
        return download(source, cache_dir)
    path = Path(source).expanduser()
    if not path.exists():
        raise HfnewsError(f"corpus source not found: {path}")
    return path


def source_files(path: Path) -> list[Path]:
    """The files whose bytes define the corpus read from `path` (for cache keys)."""
    if path.is_dir():
        return list(split_file_paths(path).values())
    return [path]


def read_source(path: Path, *, skip_malformed: bool = False, layout: LayoutOptions | None = None) -> SourceRows:
    """Read the rows of the five publishers from an archive, a `newsCorpora.csv` or Kaggle's
    `uci-news-aggregator.csv`, or every row of a folder of split files (`layout` overrides what is detected there).

    Raises:
        MalformedRowError: a row that breaks the format (unless `skip_malformed`, which lists it in `skipped`).
        HfnewsError: an archive without the corpus, `layout` overrides given for a file, or a split file whose layout
            cannot be told.
    """
    layout = layout or LayoutOptions()
    if path.is_dir():
        return read_split_folder(path, layout, skip_malformed)
    if layout != LayoutOptions():
        raise HfnewsError(
            f"column_order, header, quoting and numeric_labels describe a folder of split files; {path} is a file"
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            member, kaggle = _find_corpus_member(archive, path)
            with archive.open(member) as stream:
                where = f"{path}:{member.filename}"
                return _read_corpus_stream(stream, where, member.file_size, kaggle, skip_malformed)
    with open(path, "rb") as stream:
        kaggle = _is_kaggle(stream.read(len(KAGGLE_HEADER) + 3))
        stream.seek(0)
        return _read_corpus_stream(stream, str(path), path.stat().st_size, kaggle, skip_malformed)


def _is_kaggle(start: bytes) -> bool:
    """Whether a file starts with Kaggle's header line (after an optional byte-order mark)."""
    return start.removeprefix(codecs.BOM_UTF8).startswith(KAGGLE_HEADER.encode())


def _find_corpus_member(archive: zipfile.ZipFile, path: Path) -> tuple[zipfile.ZipInfo, bool]:
    """The archive's `newsCorpora.csv`, else a file that starts with Kaggle's header; and whether it is Kaggle's."""
    members = [m for m in archive.infolist() if not (m.filename.startswith("__MACOSX/") or m.is_dir())]
    for member in members:
        if member.filename.rsplit("/", 1)[-1] == CSV_NAME:
            return member, False
    for member in members:
        with archive.open(member) as stream:
            if _is_kaggle(stream.read(len(KAGGLE_HEADER) + 3)):
                return member, True
    raise HfnewsError(f"archive {path} holds no {CSV_NAME} (nor a CSV file under Kaggle's header {KAGGLE_HEADER})")


def _read_corpus_stream(stream: io.RawIOBase, where: str, size: int, kaggle: bool, skip_malformed: bool) -> SourceRows:
    if kaggle:
        rows = _read_kaggle_stream(stream, where, skip_malformed)
    else:
        rows = _read_csv_stream(stream, where, size, skip_malformed)
    rows.columns["id"] = [int(value) for value in rows.columns["id"]]
    rows.columns["timestamp"] = [int(value) for value in rows.columns["timestamp"]]
    return rows


_BLOCK = 1 << 23  # bytes read at a time: 8 MiB keeps the memory small next to the rows kept


def _blocks(stream: io.RawIOBase, total: int, desc: str, digest: "hashlib._Hash | None") -> Iterator[bytes]:
    """Yield the stream as blocks of whole lines, ~8 MiB each (only the last may lack its final LF), hashing the
    bytes into `digest` if given, with a byte progress bar that only shows for large files, where reading takes a
    while."""
    with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=total < 20_000_000, leave=False) as bar:
        rest = b""
        while block := stream.read(_BLOCK):
            if digest is not None:
                digest.update(block)
            bar.update(len(block))
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield block[:cut]
        if rest:
            yield rest


def _regular_rows(block: bytes) -> tuple[int, list[list[str]]] | None:
    """The number of lines of `block` and the fields of those whose publisher problem 50 keeps, in order; None
    unless every line is a well-formed row that `_checked_fields` would accept unchanged.

    Checking 400,000 lines one by one in Python costs more than everything else preparing does, so this checks
    a whole block at once with numpy: it must be UTF-8, every line end in LF and hold exactly 7 tabs, an ID and a
    timestamp of ASCII digits and a one-letter category code. Anything else (a CR before a line's LF, a
    byte-order mark, a blank or malformed line, other digits) returns None, and the block is read line by line,
    which reports it exactly.
    """
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    tabs = np.flatnonzero(data == ord("\t"))
    if not block.endswith(b"\n") or len(tabs) != (len(COLUMNS) - 1) * len(ends):
        return None
    # Line i holds the i-th 7 tabs, each line at least one byte before its first tab and after its last.
    tabs = tabs.reshape(len(ends), len(COLUMNS) - 1)
    starts = np.concatenate(([0], ends[:-1] + 1))
    if not ((tabs[:, 0] > starts).all() and (tabs[:, -1] + 1 < ends).all()):
        return None
    category = tabs[:, 3] + 1
    if not ((tabs[:, 4] == category + 1).all() and np.isin(data[category], _CATEGORY_BYTES).all()):
        return None
    # AND-reduce `digits` per line over the ID [start, first tab), the middle, the timestamp [last tab + 1, LF) and
    # the LF itself; the ID and the timestamp must be all digits.
    digits = (data - np.uint8(ord("0"))) < 10
    bounds = np.stack([starts, tabs[:, 0], tabs[:, -1] + 1, ends], axis=1).ravel()
    all_digits = np.logical_and.reduceat(digits, bounds)
    if not (all_digits[0::4].all() and all_digits[2::4].all()):
        return None
    publisher_start, publisher_end = tabs[:, 2] + 1, tabs[:, 3]
    kept = []
    for publisher in _PUBLISHER_BYTES:
        (candidates,) = np.nonzero(publisher_end - publisher_start == len(publisher))
        window = data[publisher_start[candidates, None] + np.arange(len(publisher))]
        kept.append(candidates[(window == publisher).all(axis=1)])
    lines = np.sort(np.concatenate(kept))
    spans = zip(starts[lines].tolist(), ends[lines].tolist())
    return len(ends), [block[start:end].decode("utf-8").split("\t") for start, end in spans]


def _decode(raw: bytes, where: str, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRowError(f"{where}, line {number}: bytes that are not UTF-8 at byte {error.start}") from None


def _checked_fields(
    lines: Iterable[bytes], where: str, rows: SourceRows, skip_malformed: bool, first: int = 1
) -> Iterator[list[str]]:
    """Split each line (numbered from `first`) on tabs and check it; a bad line raises, or with `skip_malformed` is
    recorded and skipped. LF or CRLF ends a line; a byte-order mark before the first line and blank lines are
    neither rows nor errors."""
    for number, raw in enumerate(lines, first):
        try:
            line = _decode(raw, where, number).removesuffix("\n").removesuffix("\r")
            if number == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            fields = line.split("\t")
            check_corpus_fields(fields, where, number)
        except MalformedRowError as error:
            rows.skip(error, skip_malformed)
            continue
        rows.rows_read += 1
        yield fields


def _read_csv_stream(stream: io.RawIOBase, where: str, size: int, skip_malformed: bool) -> SourceRows:
    rows = SourceRows()
    # Only the official file is checked against its published digest; any other file is simply another corpus.
    digest = hashlib.sha256() if size == OFFICIAL_CSV_SIZE else None
    read = 0  # lines before the block
    for block in _blocks(stream, size, f"reading {Path(where).name}", digest):
        regular = _regular_rows(block)
        if regular is not None:
            count, kept = regular
            rows.rows_read += count
        else:
            lines = block.split(b"\n")
            if block.endswith(b"\n"):
                lines.pop()
            count, kept = len(lines), _checked_fields(lines, where, rows, skip_malformed, read + 1)
        for fields in kept:
            _keep_publishers(rows, fields)
        read += count
    if digest is not None and digest.hexdigest() != OFFICIAL_CSV_SHA256:
        raise ChecksumError(
            f"{where} has the official size but SHA-256 {digest.hexdigest()}, not {OFFICIAL_CSV_SHA256}: "
            "the file is damaged; download it again"
        )
    return rows


def _keep_publishers(rows: SourceRows, fields: list[str]) -> None:
    """Append a checked row (the 8 columns as strings) when its publisher is one that problem 50 keeps."""
    if fields[3] in PUBLISHERS:
        for name, value in zip(COLUMNS, fields):
            rows.columns[name].append(value)


# A number as a spreadsheet writes a large integer it has rounded to a float: 1.39E+12, 1.394470501755e12.
_SPREADSHEET_NUMBER = re.compile(r"\d+(\.\d+)?[eE]\+?\d+")


def _read_kaggle_stream(stream: io.RawIOBase, where: str, skip_malformed: bool) -> SourceRows:
    """Read Kaggle's comma-separated copy with the `csv` module. Kaggle made it by reading the official file with
    pandas' default quoting, so some of its titles hold the lines that a quote swallowed: those rows are malformed."""
    rows, rounded = SourceRows(), 0
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # newline="" as the csv module asks
    reader = csv.reader(text)
    try:
        header = next(reader)
        positions = [header.index(name.upper()) for name in COLUMNS]
        first = reader.line_num + 1  # the line where the next record starts
        for record in reader:
            number, first = first, reader.line_num + 1
            if not record:  # a blank line is neither a row nor an error
                continue
            fields = [record[position] for position in positions] if len(record) == len(header) else record
            if len(fields) == len(COLUMNS) and _SPREADSHEET_NUMBER.fullmatch(fields[7]):
                fields[7] = str(int(float(fields[7])))  # 1.39E+12: rounded, but a number; problem 50 never uses it
                rounded += 1
            try:
                check_corpus_fields(fields, where, number, separated="comma-separated")
                check_title(fields[1], where, number)
            except MalformedRowError as error:
                rows.skip(error, skip_malformed)
                continue
            rows.rows_read += 1
            _keep_publishers(rows, fields)
    except UnicodeDecodeError as error:
        raise MalformedRowError(f"{where}: bytes that are not UTF-8 after line {reader.line_num}") from error
    if rounded:
        rows.layout.append(
            f"{Path(where).name}: {rounded:,} TIMESTAMP value(s) in a spreadsheet's rounded notation (1.39E+12), "
            "so not exact; read anyway (problem 50 never uses the timestamp)"
        )
    return rows
