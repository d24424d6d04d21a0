"""Where a prepared corpus is cached and what its entry holds, without importing `datasets` (~1 s to import), so
that a preparation the cache already holds costs little more than hashing the source and checking files.

An entry is a folder named by a hash of the source's bytes and the options. `dataset/` holds exactly what
`hfnews.data.corpus.save_corpus` writes (the DatasetDict and `nlp100/*.txt`), `report.json` what preparing reported
(rows skipped and read, the layout lines, the split table, the titles leaking into evaluation), and `manifest.json`
every file's checksum (`hfnews.integrity`), so a damaged entry is rebuilt, never reused.
"""

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import xxhash

from ..errors import HfnewsError
from ..integrity import MANIFEST_NAME, DamagedFileError, check_json, file_checksum, update_with_file, verify_manifest
from .download import cache_root
from .sources import LayoutOptions, resolve_source, source_files


logger = logging.getLogger(__name__)

GROUP_BY_CHOICES = ("none", "story")
SAVED_CORPUS = "dataset"  # the entry's copy of what save_corpus writes
REPORT_NAME = "report.json"
_CACHE_VERSION = 3  # bump when the preparation changes what a cached corpus holds (3: nlp100 files and the summary)


@dataclass(frozen=True)
class CorpusOptions:
    """How a News Aggregator source becomes a DatasetDict, defined once and passed whole (`DataArguments.corpus`,
    `scripts/prepare_data.py`, `hfnews.data.corpus.load_news_corpus`).

    Args:
        source (`str | os.PathLike | None`): the official zip, a `newsCorpora.csv`, Kaggle's `uci-news-aggregator.csv`
            (or a zip holding it), a URL of any of these, or a folder of split files; None: `$HFNEWS_SOURCE`, then
            the UCI archive.
        seed (`int`): the shuffle seed of the 80/10/10 split (problem 50).
        group_by (`str`): `story` keeps each STORY cluster inside one split; `none` shuffles rows.
        skip_malformed (`bool`): skip (and list) rows that break the format instead of stopping.
        column_order, header, quoting, numeric_labels: override what is detected in a folder of split files
            (`hfnews.data.split_files.LayoutOptions`); None detects.

    Raises:
        HfnewsError: an unknown `group_by` or layout option (checked in that order).
    """

    source: str | os.PathLike | None = None
    seed: int = 0
    group_by: str = "none"
    skip_malformed: bool = False
    column_order: str | None = None
    header: bool | None = None
    quoting: str | None = None
    numeric_labels: str | Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.group_by not in GROUP_BY_CHOICES:
            raise HfnewsError(f"group_by must be one of {', '.join(GROUP_BY_CHOICES)}, got {self.group_by!r}")
        self.layout  # noqa: B018 - a bad layout option fails here, before any work

    @property
    def layout(self) -> LayoutOptions:
        return LayoutOptions(self.column_order, self.header, self.quoting, self.numeric_labels)


@dataclass(frozen=True)
class CorpusEntry:
    """A resolved source, the options it is prepared with, and the cache folder of that preparation."""

    source: Path
    folder: Path
    options: CorpusOptions


def locate_corpus(options: CorpusOptions, cache_dir: str | os.PathLike | None = None) -> CorpusEntry:
    """Resolve (download) the source of `options` and name its cache folder under `cache_dir` (default
    `$HFNEWS_CACHE` or `~/.cache/hfnews`); the folder may not exist yet.

    Raises:
        HfnewsError: a missing source.
    """
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    path = resolve_source(options.source, root / "downloads")
    key = {"seed": options.seed, "group_by": options.group_by, "skip_malformed": options.skip_malformed,
           "version": _CACHE_VERSION, **asdict(options.layout)}  # fmt: skip
    return CorpusEntry(path, root / "corpus" / _cache_key(path, key), options)


def _cache_key(path: Path, options: dict) -> str:
    """Hash the source's bytes (xxh3 reads ~10 GB/s, so even the 102 MB file costs a few ms) and the options."""
    hasher = xxhash.xxh3_128(json.dumps(options, sort_keys=True).encode())
    for file in source_files(path):
        update_with_file(hasher, file)
    return hasher.hexdigest()


def read_report(folder: Path) -> dict:
    """The report of a cache entry, after checking every file of the entry against its manifest.

    Returns: `{"skipped": [line, ...], "rows_read": int, "layout": [line, ...], "source": str, "split_table": str,
    "leakage": {split: count}}`.

    Raises:
        DamagedFileError: a file of the entry missing or changed, or the manifest unreadable.
    """
    verify_manifest(folder)
    return check_json(folder / REPORT_NAME)


def cached_report(entry: CorpusEntry) -> dict | None:
    """`read_report` of the entry, or None when it is absent or damaged (`hfnews.data.corpus` then warns and
    rebuilds it)."""
    if not entry.folder.is_dir():
        return None
    try:
        return read_report(entry.folder)
    except DamagedFileError:
        return None


def log_layout(lines: list[str]) -> None:
    """Log how each split file was read, one line each."""
    for line in lines:
        logger.info(line)


def copy_saved_corpus(folder: Path, output_dir: str | os.PathLike) -> int:
    """Make `output_dir` hold the files `save_corpus` wrote into the entry `folder`, byte for byte, and return how
    many were copied: a file already there with the entry's size and xxh3 checksum is kept, any other is copied
    (files of `output_dir` the entry lacks are left alone, as `save_corpus` leaves them). Call it after
    `read_report` has checked the entry.
    """
    saved, output_dir = folder / SAVED_CORPUS, Path(output_dir)
    recorded = check_json(folder / MANIFEST_NAME)["files"]
    prefix = f"{SAVED_CORPUS}/"
    copied = 0
    for name, checksum in recorded.items():
        if not name.startswith(prefix):
            continue
        relative = name.removeprefix(prefix)
        target = output_dir / relative
        if target.is_file() and target.stat().st_size == (saved / relative).stat().st_size:
            if file_checksum(target) == checksum:
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved / relative, target)
        copied += 1
    return copied
