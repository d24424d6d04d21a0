"""Where a prepared corpus is cached and what its entry holds, without importing `datasets` (~1 s to import), so
that a preparation the cache already holds costs little more than hashing the source and checking files.

An entry is a folder named by a hash of the source's bytes and the options. `dataset/` holds exactly what
`hfnews.data.corpus.save_corpus` writes (the DatasetDict and `nlp100/*.txt`), `report.json` what preparing reported (rows
skipped and read, the layout lines, the split table, the titles leaking into evaluation), and `manifest.json` every
file's checksum (`hfnews.integrity`), so a damaged entry is rebuilt, never reused.
"""

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import xxhash

from .download import cache_root
from ..errors import HfnewsError
from ..integrity import MANIFEST_NAME, DamagedFileError, check_json, file_checksum, update_with_file, verify_manifest
from .sources import LayoutOptions, resolve_source, source_files


logger = logging.getLogger(__name__)

GROUP_BY_CHOICES = ("none", "story")
SAVED_CORPUS = "dataset"  # the entry's copy of what save_corpus writes
REPORT_NAME = "report.json"
_CACHE_VERSION = 3  # bump when the preparation changes what a cached corpus holds (3: nlp100 files and the summary)


@dataclass(frozen=True)
class CorpusEntry:
    """A resolved source, the options it is prepared with, and the cache folder of that preparation."""

    source: Path
    folder: Path
    seed: int
    group_by: str
    skip_malformed: bool
    layout: LayoutOptions


def locate_corpus(
    source: str | os.PathLike | None = None,
    *,
    seed: int = 0,
    group_by: str = "none",
    skip_malformed: bool = False,
    cache_dir: str | os.PathLike | None = None,
    column_order: str | None = None,
    header: bool | None = None,
    quoting: str | None = None,
    numeric_labels: str | Sequence[str] | None = None,
) -> CorpusEntry:
    """Check the options, resolve (download) the source and name its cache folder (the arguments are those of
    `hfnews.data.corpus.load_news_corpus`); the folder may not exist yet.

    Raises:
        HfnewsError: an unknown `group_by` or layout option, or a missing source.
    """
    if group_by not in GROUP_BY_CHOICES:
        raise HfnewsError(f"group_by must be one of {', '.join(GROUP_BY_CHOICES)}, got {group_by!r}")
    layout = LayoutOptions(column_order, header, quoting, numeric_labels)
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    path = resolve_source(source, root / "downloads")
    options = {"seed": seed, "group_by": group_by, "skip_malformed": skip_malformed, "version": _CACHE_VERSION}
    folder = root / "corpus" / _cache_key(path, {**options, **asdict(layout)})
    return CorpusEntry(path, folder, seed, group_by, skip_malformed, layout)


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
    """`read_report` of the entry, or None when it is absent or damaged (`hfnews.data.corpus` then warns and rebuilds it)."""
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
