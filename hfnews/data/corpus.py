"""The corpus of problem 50 as a `datasets.DatasetDict`: five publishers, shuffled with a seed, split 80/10/10.

Preparing is cached under a key made of the source's bytes and the options (`hfnews.data.corpus_cache`), so the
same source and options give the same `DatasetDict` on any machine, and a second preparation only reads the cache.
"""

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value, load_from_disk

from ..errors import HfnewsError
from ..integrity import MANIFEST_NAME, DamagedFileError, check_json, staged_folder, write_manifest
from .corpus_cache import REPORT_NAME, SAVED_CORPUS, CorpusEntry, CorpusOptions, locate_corpus, log_layout, read_report
from .rows import all_skipped_error
from .sources import CATEGORIES, LABEL_NAMES, NLP100_SPLIT_FILES, PUBLISHERS, LayoutOptions, SourceRows, read_source


logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
TRAIN_FRACTION = 0.8
FEATURES = Features(
    {
        "text": Value("string"),
        "label": ClassLabel(names=list(LABEL_NAMES)),
        "id": Value("int64"),
        "publisher": Value("string"),
        "story": Value("string"),
        "url": Value("string"),
        "hostname": Value("string"),
        "timestamp": Value("int64"),
    }
)


@dataclass
class PreparedCorpus:
    """A prepared corpus and what preparing it reported (`layout`: how each split file was read, one line each)."""

    dataset: DatasetDict
    skipped: list[str]
    rows_read: int
    from_cache: bool
    layout: list[str] = field(default_factory=list)


def load_news_corpus(
    source: str | os.PathLike | None = None, *, cache_dir: str | os.PathLike | None = None, **options
) -> PreparedCorpus:
    """Read a News Aggregator source and split it into `train`, `validation` and `test` (problem 50).

    Args:
        source: the official zip, a `newsCorpora.csv`, Kaggle's `uci-news-aggregator.csv` (or a zip holding it), a
            URL of any of these, or a folder of split files (`train`, `valid`/`val`/`dev`, `test`, each `.txt`,
            `.tsv` or `.csv`, in any layout `hfnews.data.split_files` reads); defaults to `$HFNEWS_SOURCE`, then the
            UCI archive.
        cache_dir: where prepared corpora and downloads are kept (default `$HFNEWS_CACHE` or `~/.cache/hfnews`).
        options: the other fields of `hfnews.data.corpus_cache.CorpusOptions` (`seed`, `group_by`,
            `skip_malformed`, `column_order`, `header`, `quoting`, `numeric_labels`).

    Raises:
        HfnewsError: a missing source, an unreadable layout, or no row left (every row skipped as malformed, or none
            of the kept publishers); `MalformedRowError` (a subclass) for a bad row without `skip_malformed`.
    """
    return load_corpus_entry(locate_corpus(CorpusOptions(source, **options), cache_dir))


def load_corpus_entry(entry: CorpusEntry) -> PreparedCorpus:
    """The corpus of a located cache entry: read from the cache when it is whole, else prepared and cached (a
    damaged entry is rebuilt after one warning). Raises what `load_news_corpus` raises."""
    corpus = _read_cache(entry.folder, entry.source) if entry.folder.exists() else None
    if corpus is None:
        options = entry.options
        corpus = _prepare(entry.source, options.seed, options.group_by, options.skip_malformed, options.layout)
        _write_cache(entry.folder, corpus, entry.source)
    log_layout(corpus.layout)
    return corpus


def _prepare(path: Path, seed: int, group_by: str, skip_malformed: bool, layout: LayoutOptions) -> PreparedCorpus:
    rows = read_source(path, skip_malformed=skip_malformed, layout=layout)
    if not len(rows) and rows.skipped and not rows.rows_read:
        raise all_skipped_error(str(path), rows.skipped)
    if not len(rows):
        raise HfnewsError(f"{path} has no row of the publishers kept by problem 50 ({', '.join(PUBLISHERS)})")
    if rows.splits is not None and group_by != "none":
        raise HfnewsError(f"{path} holds split files whose split is fixed; group_by={group_by!r} cannot apply")
    dataset = _build_dataset_dict(rows, seed, group_by)
    empty = [name for name, split in dataset.items() if not len(split)]
    if empty:  # nothing trains or scores on an empty split (and datasets cannot load one back from disk)
        sizes = ", ".join(f"{name} {len(split)}" for name, split in dataset.items())
        raise HfnewsError(
            f"{path}: the split leaves {' and '.join(empty)} empty ({sizes} rows): give a source with more kept rows"
            + (" or more stories (group_by='story' keeps each story in one split)" if group_by != "none" else "")
        )
    return PreparedCorpus(dataset, rows.skipped, rows.rows_read, False, rows.layout)


def _write_cache(folder: Path, corpus: PreparedCorpus, source: Path) -> None:
    """Write to a temporary folder that is renamed when complete, so an interrupted run never leaves a half cache
    behind, with a manifest of what it must hold (every file's checksum, rows per split) for `_read_cache`. The
    entry holds what `save_corpus` writes and the summary `scripts/prepare_data.py` prints, so that a cache hit
    there needs neither `datasets` nor the rows (`hfnews.data.corpus_cache`)."""
    dataset = corpus.dataset
    with staged_folder(folder) as staging:
        save_corpus(dataset, staging / SAVED_CORPUS)
        report = {"skipped": corpus.skipped, "rows_read": corpus.rows_read, "layout": corpus.layout}
        summary = {"split_table": format_split_table(dataset), "leakage": count_title_leakage(dataset)}
        (staging / REPORT_NAME).write_text(json.dumps({**report, "source": str(source), **summary}))
        write_manifest(staging, rows={name: len(split) for name, split in dataset.items()})


def _read_cache(folder: Path, source: Path) -> PreparedCorpus | None:
    """The cached corpus in `folder`, or None after one warning when the entry is damaged (a file missing, cut
    short or changed since `_write_cache` recorded it: a full disk, a killed copy), so that it is rebuilt."""
    try:
        report = read_report(folder)
        rows = check_json(folder / MANIFEST_NAME)["rows"]
        dataset = load_from_disk(str(folder / SAVED_CORPUS))
        found = {name: len(split) for name, split in dataset.items()}
        if found != rows:
            raise DamagedFileError(folder / SAVED_CORPUS, f"holds {found} rows, not the {rows} written")
    except DamagedFileError as error:
        logger.warning("corpus cache damaged, rebuilding it from %s: %s", source, error)
        return None
    return PreparedCorpus(dataset, report["skipped"], report["rows_read"], True, report["layout"])


def split_indices(n: int, seed: int, groups: list[str] | None = None) -> dict[str, np.ndarray]:
    """Shuffle `n` rows with `seed` and cut them 80/10/10; with `groups`, whole groups go to one split.

    `numpy.random.default_rng` (PCG64) gives the same permutation on every platform and numpy version 2.x.
    """
    rng = np.random.default_rng(seed)
    train_end = int(n * TRAIN_FRACTION)
    valid_end = train_end + (n - train_end) // 2  # validation and test share the rest equally
    if groups is None:
        return dict(zip(SPLITS, np.split(rng.permutation(n), [train_end, valid_end])))
    names, group_of_row = np.unique(np.asarray(groups, dtype=object), return_inverse=True)
    sizes = np.bincount(group_of_row, minlength=len(names))
    group_order = rng.permutation(len(names))
    # Fill the splits group by group: a group goes to the first split whose quota is not yet reached.
    ends = np.cumsum(sizes[group_order])
    split_of_group = np.empty(len(names), dtype=np.int64)
    split_of_group[group_order] = np.searchsorted([train_end, valid_end], ends - sizes[group_order], side="right")
    split_of_row = split_of_group[group_of_row]
    return {name: rng.permutation(np.flatnonzero(split_of_row == number)) for number, name in enumerate(SPLITS)}


def _build_dataset_dict(rows: SourceRows, seed: int, group_by: str) -> DatasetDict:
    columns = rows.columns
    table = {
        "text": columns["title"],
        "label": [CATEGORIES.index(category) for category in columns["category"]],
        **{name: columns[name] for name in ("id", "publisher", "story", "url", "hostname", "timestamp")},
    }
    if rows.splits is not None:
        bounds = np.cumsum([rows.splits[name] for name in SPLITS])
        indices = dict(zip(SPLITS, np.split(np.arange(len(rows)), bounds[:-1])))
    else:
        indices = split_indices(len(rows), seed, columns["story"] if group_by == "story" else None)
    return DatasetDict({name: _select(table, indices[name]) for name in SPLITS})


def _select(table: dict[str, list], rows: np.ndarray) -> Dataset:
    return Dataset.from_dict({key: [values[i] for i in rows] for key, values in table.items()}, features=FEATURES)


def save_corpus(dataset: DatasetDict, output_dir: str | os.PathLike) -> Path:
    """Save with `save_to_disk` and write problem 50's `nlp100/{train,valid,test}.txt` (`category<TAB>title`)."""
    output_dir = Path(output_dir)
    dataset.save_to_disk(str(output_dir))
    text_dir = output_dir / "nlp100"
    text_dir.mkdir(parents=True, exist_ok=True)
    for split, name in NLP100_SPLIT_FILES.items():
        part = dataset[split]
        # [:] reads each column at once; iterating the column itself goes row by row, ~30x slower
        lines = (f"{CATEGORIES[label]}\t{text}\n" for label, text in zip(part["label"][:], part["text"][:]))
        (text_dir / name).write_text("".join(lines), encoding="utf-8")
    return output_dir


def load_prepared_corpus(path: str | os.PathLike) -> DatasetDict:
    """Load a folder written by `save_corpus`, checking it has the splits and columns the models need."""
    path = Path(path)
    if not (path / "dataset_dict.json").exists():
        raise HfnewsError(f"{path} is not a prepared corpus (no dataset_dict.json); run scripts/prepare_data.py")
    dataset = load_from_disk(str(path))
    check_corpus(dataset, str(path))
    return dataset


def check_corpus(dataset: DatasetDict, where: str) -> None:
    """Fail early, with the fix, when a dataset lacks the splits or columns training needs."""
    if not isinstance(dataset, DatasetDict):
        raise HfnewsError(f"{where} is a single split; hfnews needs a DatasetDict with splits {', '.join(SPLITS)}")
    missing = [name for name in SPLITS if name not in dataset]
    if missing:
        raise HfnewsError(f"{where} lacks the split(s) {', '.join(missing)}; it has {', '.join(dataset)}")
    for name in SPLITS:
        absent = {"text", "label"} - set(dataset[name].column_names)
        if absent:
            raise HfnewsError(
                f"{where}: split {name!r} lacks the column(s) {', '.join(sorted(absent))}; "
                f"it has {', '.join(dataset[name].column_names)}"
            )


def format_split_table(dataset: DatasetDict) -> str:
    """Rows per split and class, the counts problem 50 asks to confirm; the classes are the `label` ClassLabel's."""
    names = dataset["train"].features["label"].names
    width = max(8, *(len(name) + 2 for name in names))
    lines = [f"{'split':<11}" + "".join(f"{name:>{width}}" for name in names) + f"{'total':>8}"]
    for split in dataset:
        counts = Counter(dataset[split]["label"][:])  # [:] reads the column at once, not row by row
        cells = "".join(f"{counts.get(label, 0):>{width},}" for label in range(len(names)))
        lines.append(f"{split:<11}{cells}{len(dataset[split]):>8,}")
    return "\n".join(lines)


def count_title_leakage(dataset: DatasetDict) -> dict[str, int]:
    """How many titles of each evaluation split also occur verbatim in train (the corpus repeats headlines)."""
    train_titles = set(dataset["train"]["text"][:])  # [:] reads the column at once, not row by row
    return {split: sum(title in train_titles for title in dataset[split]["text"][:]) for split in SPLITS[1:]}
