"""Reading the News Aggregator source files into validated rows (the first step of problem 50).

The official `newsCorpora.csv` is tab-separated with no quoting: titles may start with a quote character, so it is
split on tabs line by line and never handed to a CSV reader (which would merge lines); LF or CRLF line ends, a UTF-8
byte-order mark and blank lines are accepted. Kaggle's `uci-news-aggregator.csv` (the same columns, comma-separated
under a header line, CSV quoting) is real CSV and is read with the `csv` module; it is recognised by its header, also
inside a zip. A folder of split files is read by `hfnews.split_files`. Every row is checked; a bad one stops the run
with the file, the line number and what is wrong, unless the caller asks to skip such rows, in which case each skipped
line is reported.
"""

import codecs
import csv
import hashlib
import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from tqdm.auto import tqdm

from .download import OFFICIAL_CSV_NAME as CSV_NAME
from .download import OFFICIAL_CSV_SHA256, OFFICIAL_CSV_SIZE, OFFICIAL_ZIP_URL, ChecksumError, download
from .errors import HfnewsError
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


def _lines(stream: io.RawIOBase, total: int, desc: str, digest: "hashlib._Hash | None") -> Iterator[bytes]:
    """Yield raw lines (hashing them into `digest` if given) with a byte progress bar; the bar only shows for large
    files, where reading takes a while."""
    with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=total < 20_000_000, leave=False) as bar:
        done = 0
        for number, line in enumerate(io.BufferedReader(stream, buffer_size=1 << 20), 1):
            if digest is not None:
                digest.update(line)
            done += len(line)
            if number % 65536 == 0:
                bar.update(done - bar.n)
            yield line
        bar.update(done - bar.n)


def _decode(raw: bytes, where: str, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRowError(f"{where}, line {number}: bytes that are not UTF-8 at byte {error.start}") from None


def _checked_fields(lines: Iterable[bytes], where: str, rows: SourceRows, skip_malformed: bool) -> Iterator[list[str]]:
    """Split each line on tabs and check it; a bad line raises, or with `skip_malformed` is recorded and skipped.
    LF or CRLF ends a line; a byte-order mark before the first line and blank lines are neither rows nor errors."""
    for number, raw in enumerate(lines, 1):
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
    lines = _lines(stream, size, f"reading {Path(where).name}", digest)
    for fields in _checked_fields(lines, where, rows, skip_malformed):
        _keep_publishers(rows, fields)
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


def _read_kaggle_stream(stream: io.RawIOBase, where: str, skip_malformed: bool) -> SourceRows:
    """Read Kaggle's comma-separated copy with the `csv` module. Kaggle made it by reading the official file with
    pandas' default quoting, so some of its titles hold the lines that a quote swallowed: those rows are malformed."""
    rows = SourceRows()
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
    return rows
