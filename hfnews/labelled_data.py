"""Any labelled text data as the `DatasetDict` every model trains on: data files or a `save_to_disk` folder.

The flags follow transformers' `examples/pytorch/text-classification/run_classification.py`: `--train_file`,
`--validation_file`, `--test_file` (read with `datasets.load_dataset`) and `--text_column_name`,
`--label_column_name`; `--dataset DIR` reads any `DatasetDict.save_to_disk` folder. Whatever the input, the result
has the splits `train`, `validation`, `test` and the columns `text` (string) and `label` (a `ClassLabel`).

Label names come from the data (run_classification.py likewise builds a sorted label list):
    a `ClassLabel` column    keeps its names, in its order (a folder written by scripts/prepare_data.py keeps
                             problem 50's order);
    strings                  become a `ClassLabel` of their sorted set (`neg`, `pos`);
    integers                 become a `ClassLabel` over their sorted distinct values, each named by its decimal form:
                             SST-2's 0/1 give the names "0", "1"; AG News' 1..4 give the ids 0..3 named "1".."4"
                             (ids always run 0..N-1, as `id2label` needs).
The classes are those of the train split; a label of validation or test that no train row has is an error, since
the model could never predict it. A split whose every label is missing (GLUE's hidden test sets hold -1) counts as
absent. An absent validation or test split is split off train with `split_seed`, stratified by label when every
class can be; each such split takes a tenth of train (at least one row per class), problem 50's 80/10/10.
"""

import csv
import logging
import os
from collections import Counter
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Value, load_dataset, load_from_disk
from datasets.exceptions import DatasetGenerationError

from .data import SPLITS, format_split_table
from .download import cache_root
from .errors import HfnewsError


logger = logging.getLogger(__name__)

# suffix -> (datasets builder, its options). TSV files are unquoted by convention (GLUE writes titles such as
# `"Girls" meets ...` as they are), and only an empty cell is a missing value: pandas' default would also read the
# texts "NA" or "null" as missing.
_CSV_OPTIONS = {"keep_default_na": False, "na_values": [""]}
FILE_FORMATS = {
    ".csv": ("csv", _CSV_OPTIONS),
    ".tsv": ("csv", {**_CSV_OPTIONS, "delimiter": "\t", "quoting": csv.QUOTE_NONE}),
    ".json": ("json", {}),
    ".jsonl": ("json", {}),
}
HELD_OUT_FRACTION = 0.1  # of train, for each missing evaluation split (problem 50's 80/10/10)
_SHOWN = 5  # unknown labels named in an error


def load_labelled_files(
    train_file: str | os.PathLike,
    validation_file: str | os.PathLike | None = None,
    test_file: str | os.PathLike | None = None,
    *,
    text_column: str = "text",
    label_column: str = "label",
    seed: int = 0,
) -> DatasetDict:
    """Read CSV, TSV, JSON or JSON Lines files (see `FILE_FORMATS`) into train/validation/test.

    Raises `HfnewsError` for a file that cannot be parsed, a missing column, bad labels (see the module docstring).
    """
    files = {"train": train_file, "validation": validation_file, "test": test_file}
    parts = {split: _read_file(Path(file)) for split, file in files.items() if file is not None}
    return prepare_labelled_data(parts, {split: str(files[split]) for split in parts}, text_column, label_column, seed)


def _read_file(path: Path) -> Dataset:
    builder, options = FILE_FORMATS[path.suffix.lower()]
    try:
        # hfnews's cache, so tests and users find every prepared corpus in one place.
        return load_dataset(
            builder, data_files=str(path), split="train", cache_dir=str(cache_root() / "datasets"), **options
        )
    except DatasetGenerationError as error:
        cause = error.__cause__ or error
        raise HfnewsError(f"{path} cannot be read as {path.suffix.lower()[1:].upper()}: {cause}") from None


def load_labelled_dataset(
    path: str | os.PathLike, *, text_column: str = "text", label_column: str = "label", seed: int = 0
) -> DatasetDict:
    """Read a `DatasetDict.save_to_disk` folder: its `train`, `validation` and `test` splits (other splits are
    ignored, and said so), with labels made a `ClassLabel` as the module docstring says."""
    path = Path(path)
    if not (path / "dataset_dict.json").is_file():
        raise HfnewsError(
            f"{path} is not a DatasetDict folder (no dataset_dict.json): pass a folder written by "
            "DatasetDict.save_to_disk or scripts/prepare_data.py, or use --train_file"
        )
    saved = load_from_disk(str(path))
    if "train" not in saved:
        raise HfnewsError(f"{path} has no train split (it has {', '.join(saved)}); rename the split to train")
    ignored = sorted(set(saved) - set(SPLITS))
    if ignored:
        logger.info("%s: ignoring the split(s) %s; hfnews reads %s", path, ", ".join(ignored), ", ".join(SPLITS))
    parts = {split: saved[split] for split in SPLITS if split in saved}
    return prepare_labelled_data(
        parts, {split: f"{path} [{split}]" for split in parts}, text_column, label_column, seed
    )


def prepare_labelled_data(
    parts: dict[str, Dataset], where: dict[str, str], text_column: str, label_column: str, seed: int
) -> DatasetDict:
    """Keep the text and label columns of each split as `text`/`label`, turn labels into train's `ClassLabel` and
    split off train whatever of validation/test is absent or unlabelled. `where` names each split in errors."""
    for split, part in parts.items():
        absent = {text_column, label_column} - set(part.column_names)
        if absent:
            raise HfnewsError(
                f"{where[split]} lacks the column(s) {', '.join(sorted(absent))}; it has "
                f"{', '.join(part.column_names)}: name the text and label columns with --text_column_name and "
                "--label_column_name"
            )
    raw = {split: _raw_labels(part, where[split], label_column) for split, part in parts.items()}
    for split in list(parts)[1:]:
        if all(value is None for value in raw[split]):
            logger.info("%s: no row has a label (hidden test labels?); it is split off train instead", where[split])
            del parts[split], raw[split]
    texts = {split: _texts(part, where[split], text_column) for split, part in parts.items()}
    for split, values in raw.items():
        _check_every_row(values, where[split], label_column)
    names, ids = _label_names(parts["train"].features[label_column], raw["train"], where["train"], label_column)
    for split in list(parts)[1:]:
        unknown = Counter(value for value in raw[split] if value not in ids)
        if unknown:
            shown = ", ".join(f"{value!r} ({count:,} rows)" for value, count in unknown.most_common(_SHOWN))
            raise HfnewsError(
                f"{where[split]} has {len(unknown)} label(s) that no train row has: {shown}; the model learns only "
                f"train's labels ({', '.join(names)}): add rows of them to train or remove them"
            )
    features = Features({"text": Value("string"), "label": ClassLabel(names=names)})
    dataset = DatasetDict(
        {
            split: Dataset.from_dict({"text": texts[split], "label": [ids[value] for value in raw[split]]}, features)
            for split in parts
        }
    )
    dataset = split_off_missing(dataset, seed)
    logger.info("labels %s\n%s", ", ".join(names), format_split_table(dataset))
    return dataset


def _texts(part: Dataset, where: str, text_column: str) -> list[str]:
    """The text of every row; numbers (a CSV column pandas read as int64, say) are written out as text."""
    feature = part.features[text_column]
    if not isinstance(feature, Value):
        raise HfnewsError(f"{where}: column {text_column!r} holds {feature}, not texts; name the text column")
    texts = part[text_column][:]  # [:] reads the column at once; iterating a Column reads row by row (~30 us a row)
    _check_every_row(texts, where, text_column)
    return texts if "string" in feature.dtype else [str(text) for text in texts]


def _raw_labels(part: Dataset, where: str, label_column: str) -> list:
    """The label of every row as a name (ClassLabel), an int or a string; `None` where the row has none."""
    feature, values = part.features[label_column], part[label_column][:]
    if isinstance(feature, ClassLabel):
        return [None if value is None or value < 0 else feature.int2str(value) for value in values]
    if isinstance(feature, Value) and (feature.dtype.startswith(("int", "uint")) or "string" in feature.dtype):
        return values
    if isinstance(feature, Value) and feature.dtype.startswith("float") and any(value is None for value in values):
        return values  # integers with empty cells, read by pandas as floats: _check_every_row names the rows
    raise HfnewsError(
        f"{where}: column {label_column!r} holds {feature}; labels must be names (strings), integers or a ClassLabel"
    )


def _check_every_row(values: list, where: str, column: str) -> None:
    empty = [row for row, value in enumerate(values) if value is None]
    if empty:
        rows = ", ".join(str(row) for row in empty[:_SHOWN])
        raise HfnewsError(
            f"{where}: {len(empty):,} row(s) have no {column!r} (rows {rows}, counting from 0); "
            "fill them in or remove those rows"
        )


def _label_names(
    feature: ClassLabel | Value, train_values: list, where: str, label_column: str
) -> tuple[list[str], dict]:
    """The class names in id order, and the map from a raw label value (a name, an int or a string) to its id."""
    if isinstance(feature, ClassLabel):
        names = list(feature.names)
        ids = {name: feature.str2int(name) for name in set(train_values)}
    else:
        values = sorted(set(train_values))
        names = [str(value) for value in values]
        ids = {value: i for i, value in enumerate(values)}
    if len(ids) < 2:
        raise HfnewsError(
            f"{where}: column {label_column!r} has {len(ids)} distinct label(s) {sorted(map(str, ids))}; "
            "classification needs at least 2"
        )
    return names, ids


def split_off_missing(dataset: DatasetDict, seed: int) -> DatasetDict:
    """Give a DatasetDict that lacks `validation` or `test` that split, taken from train with `seed`.

    Each missing split takes `HELD_OUT_FRACTION` of train (at least one row per class), stratified by label when
    every class has enough rows (else shuffled, and said so). What was split off is logged.
    """
    train = dataset["train"]
    classes = train.features["label"].num_classes
    size = max(round(len(train) * HELD_OUT_FRACTION), classes)
    parts = {"train": train}
    for split in SPLITS[1:]:
        if split in dataset:
            parts[split] = dataset[split]
            continue
        if len(parts["train"]) - size < classes:
            raise HfnewsError(
                f"train has {len(parts['train']):,} rows, too few to split off {size:,} {split} rows and keep one "
                f"per class; give a --{split}_file or more training rows"
            )
        try:
            cut = parts["train"].train_test_split(test_size=size, seed=seed, stratify_by_column="label")
            how = "stratified by label"
        except ValueError:  # datasets' rule: every class needs 2 rows, and each side one per class
            cut = parts["train"].train_test_split(test_size=size, seed=seed)
            how = "shuffled: too few rows of some class to stratify"
        parts["train"], parts[split] = cut["train"], cut["test"]
        logger.info("%s: %s rows split off train (seed %d, %s)", split, f"{size:,}", seed, how)
    return DatasetDict({split: parts[split] for split in SPLITS})
