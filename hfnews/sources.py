"""Reading the News Aggregator source files into validated rows (the first step of problem 50).

The official `newsCorpora.csv` is tab-separated with no quoting: titles may start with a quote character, so it is
split on tabs line by line and never handed to a CSV reader (which would merge lines). Every row is checked; a bad one
stops the run with the file, the line number and what is wrong, unless the caller asks to skip such rows, in which case
each skipped line is reported.
"""

import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .download import OFFICIAL_CSV_NAME as CSV_NAME
from .download import OFFICIAL_CSV_SHA256, OFFICIAL_CSV_SIZE, OFFICIAL_ZIP_URL, ChecksumError, download
from .errors import HfnewsError


CATEGORIES = ("b", "t", "e", "m")
PUBLISHERS = ("Reuters", "Huffington Post", "Businessweek", "Contactmusic.com", "Daily Mail")
NLP100_SPLIT_FILES = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}
COLUMNS = ("id", "title", "url", "publisher", "category", "story", "hostname", "timestamp")
SOURCE_ENV = "HFNEWS_SOURCE"


class MalformedRowError(HfnewsError):
    """A row of a source file that cannot be read as the corpus format says."""


@dataclass
class SourceRows:
    """Columns of the rows kept from a source, plus what was skipped.

    `splits` is set when the source already fixes the split (the NLP 100 text files); it maps split name to the
    number of leading rows that belong to it, in `train`, `validation`, `test` order.
    """

    columns: dict[str, list] = field(default_factory=lambda: {name: [] for name in COLUMNS})
    skipped: list[str] = field(default_factory=list)
    rows_read: int = 0
    splits: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.columns["title"])


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
        return [_nlp100_file(path, name) for name in NLP100_SPLIT_FILES.values()]
    return [path]


def read_source(path: Path, *, skip_malformed: bool = False) -> SourceRows:
    """Read the rows of the five publishers from an archive, a `newsCorpora.csv` or a folder of NLP 100 files."""
    if path.is_dir():
        return _read_nlp100_dir(path, skip_malformed)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            member = _find_csv_member(archive, path)
            with archive.open(member) as stream:
                return _read_csv_stream(stream, f"{path}:{member.filename}", member.file_size, skip_malformed)
    with open(path, "rb") as stream:
        return _read_csv_stream(stream, str(path), path.stat().st_size, skip_malformed)


def _find_csv_member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    for member in archive.infolist():
        if member.filename.startswith("__MACOSX/") or member.is_dir():
            continue
        if member.filename.rsplit("/", 1)[-1] == CSV_NAME:
            return member
    raise HfnewsError(f"archive {path} holds no {CSV_NAME}")


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


def _checked_fields(
    lines: Iterable[bytes],
    where: str,
    check: Callable[[list[str], str, int], None],
    rows: SourceRows,
    skip_malformed: bool,
) -> Iterator[list[str]]:
    """Split each line on tabs and check it; a bad line raises, or with `skip_malformed` is recorded and skipped."""
    for number, raw in enumerate(lines, 1):
        try:
            fields = _decode(raw, where, number).rstrip("\n").split("\t")
            check(fields, where, number)
        except MalformedRowError as error:
            if not skip_malformed:
                raise
            rows.skipped.append(str(error))
            continue
        rows.rows_read += 1
        yield fields


def _read_csv_stream(stream: io.RawIOBase, where: str, size: int, skip_malformed: bool) -> SourceRows:
    rows = SourceRows()
    columns = rows.columns
    publishers = frozenset(PUBLISHERS)
    # Only the official file is checked against its published digest; any other file is simply another corpus.
    digest = hashlib.sha256() if size == OFFICIAL_CSV_SIZE else None
    lines = _lines(stream, size, f"reading {Path(where).name}", digest)
    for fields in _checked_fields(lines, where, _check_csv_fields, rows, skip_malformed):
        if fields[3] in publishers:
            for name, value in zip(COLUMNS, fields):
                columns[name].append(value)
    if digest is not None and digest.hexdigest() != OFFICIAL_CSV_SHA256:
        raise ChecksumError(
            f"{where} has the official size but SHA-256 {digest.hexdigest()}, not {OFFICIAL_CSV_SHA256}: "
            "the file is damaged; download it again"
        )
    columns["id"] = [int(value) for value in columns["id"]]
    columns["timestamp"] = [int(value) for value in columns["timestamp"]]
    return rows


def _check_nlp100_fields(fields: list[str], where: str, number: int) -> None:
    if len(fields) != 2:
        raise MalformedRowError(f"{where}, line {number}: {len(fields)} fields, expected 2 (category, title)")
    _check_category(fields[0], where, number)


def _check_category(category: str, where: str, number: int) -> None:
    if category not in CATEGORIES:
        raise MalformedRowError(
            f"{where}, line {number}: unknown category {category!r}, expected one of {', '.join(CATEGORIES)}"
        )


def _check_csv_fields(fields: list[str], where: str, number: int) -> None:
    def bad(what: str) -> MalformedRowError:
        return MalformedRowError(f"{where}, line {number}: {what}")

    if len(fields) != len(COLUMNS):
        raise bad(f"{len(fields)} tab-separated fields, expected {len(COLUMNS)} ({' '.join(COLUMNS)})")
    if not fields[0].isdigit():
        raise bad(f"ID {fields[0]!r} is not a number")
    _check_category(fields[4], where, number)
    if not fields[7].isdigit():
        raise bad(f"timestamp {fields[7]!r} is not a number")


def _nlp100_file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise HfnewsError(
            f"{folder} is a folder but not one of NLP 100 split files: {name} is missing "
            f"(expected {', '.join(NLP100_SPLIT_FILES.values())})"
        )
    return path


def _read_nlp100_dir(folder: Path, skip_malformed: bool) -> SourceRows:
    """Read `train.txt`, `valid.txt`, `test.txt` (`category<TAB>title`); these fix the split, so order is kept."""
    rows = SourceRows(splits={})
    for split, name in NLP100_SPLIT_FILES.items():
        path = _nlp100_file(folder, name)
        before = len(rows)
        with open(path, "rb") as stream:
            for fields in _checked_fields(stream, str(path), _check_nlp100_fields, rows, skip_malformed):
                rows.columns["category"].append(fields[0])
                rows.columns["title"].append(fields[1])
        rows.splits[split] = len(rows) - before
    for name in COLUMNS:
        if name not in ("category", "title"):
            rows.columns[name] = [None] * len(rows)
    return rows
