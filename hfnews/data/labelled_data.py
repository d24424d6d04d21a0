"""Any labelled text data as the `DatasetDict` every model trains on: data files or a `save_to_disk` folder.

The flags follow transformers' `examples/pytorch/text-classification/run_classification.py`: `--train_file`,
`--validation_file`, `--test_file` (read by `hfnews.data.text_files`, as `predict.py --input_file` reads its input) and
`--text_column_name`, `--label_column_name`; `--dataset DIR` reads any `DatasetDict.save_to_disk` folder. Whatever
the input, the result has the splits `train`, `validation`, `test` and the columns `text` (string) and `label` (a
`ClassLabel`).

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

import json
import logging
import os
import re
from collections import Counter
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Value, load_from_disk

from ..errors import HfnewsError
from .corpus import SPLITS, format_split_table
from .text_files import TABLE_DELIMITERS, read_records


logger = logging.getLogger(__name__)

_INTEGER = re.compile(r"[+-]?\d+")
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
    """Read CSV, TSV, JSON or JSON Lines files (see `hfnews.data.text_files`) into train/validation/test.

    Raises `HfnewsError` for a file that cannot be parsed, a missing column, bad labels (see the module docstring).
    """
    files = {"train": train_file, "validation": validation_file, "test": test_file}
    read = {split: _read_file(Path(file), text_column, label_column) for split, file in files.items() if file}
    return prepare_labelled_data(
        {split: part for split, (part, _) in read.items()},
        {split: str(files[split]) for split in read},
        text_column,
        label_column,
        seed,
        lines={split: lines for split, (_, lines) in read.items()},
    )


def _read_file(path: Path, text_column: str, label_column: str) -> tuple[Dataset, list[int | None]]:
    """The rows of a labelled file (`hfnews.data.text_files.read_records`, blank lines skipped) as a Dataset of its
    text and label columns, and each row's line number. Cells of a CSV/TSV file stay strings, except a label column
    whose every filled cell is an integer (SST-2's 0/1, AG News' 1..4), read as integers; an empty cell is missing.

    Raises:
        HfnewsError: for an empty file, a header without rows, a missing column, or what `read_records` refuses.
    """
    records = read_records(path, blank_rows=False)
    if not records.rows:
        raise HfnewsError(
            f"{path} has a header line ({', '.join(map(str, records.columns))}) and no rows: it is empty"
        )
    _check_columns(str(path), records.columns, text_column, label_column)
    columns = {
        name: [None if row.get(name) in ("", None) else row[name] for row in records.rows]
        for name in (text_column, label_column)
    }
    labels = columns[label_column]
    if path.suffix.lower() in TABLE_DELIMITERS and all(_INTEGER.fullmatch(value) for value in labels if value):
        columns[label_column] = [None if value is None else int(value) for value in labels]
    columns[text_column] = [text if text is None else _json_text(text) for text in columns[text_column]]
    filled = [value for value in columns[label_column] if value is not None]
    integers = all(isinstance(value, int) and not isinstance(value, bool) for value in filled)
    label_type = Value("int64") if filled and integers else Value("string") if not filled else None
    if label_type is None and all(isinstance(value, str) for value in filled):
        label_type = Value("string")
    features = None if label_type is None else Features({text_column: Value("string"), label_column: label_type})
    return Dataset.from_dict(columns, features), records.lines


def _json_text(value) -> str:
    """A JSON value of a text column as text: a number as it is written (3, 2.5), anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


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


def _check_columns(where: str, columns: list, text_column: str, label_column: str) -> None:
    absent = [column for column in (text_column, label_column) if column not in columns]
    if absent:
        raise HfnewsError(
            f"{where} lacks the column(s) {', '.join(absent)}; it has {', '.join(map(str, columns))}: name the text "
            "and label columns with --text_column_name and --label_column_name"
        )


def prepare_labelled_data(
    parts: dict[str, Dataset],
    where: dict[str, str],
    text_column: str,
    label_column: str,
    seed: int,
    lines: dict[str, list[int | None]] | None = None,
) -> DatasetDict:
    """Keep the text and label columns of each split as `text`/`label`, turn labels into train's `ClassLabel` and
    split off train whatever of validation/test is absent or unlabelled. `where` names each split in errors, and
    `lines` (for files) the line number of each row, which errors then give instead of the row's index."""
    for split, part in parts.items():
        _check_columns(where[split], part.column_names, text_column, label_column)
    lines = lines or {}
    raw = {split: _raw_labels(part, where[split], label_column) for split, part in parts.items()}
    for split in list(parts)[1:]:
        if all(value is None for value in raw[split]):
            logger.info("%s: no row has a label (hidden test labels?); it is split off train instead", where[split])
            del parts[split], raw[split]
    texts = {split: _texts(part, where[split], text_column, lines.get(split)) for split, part in parts.items()}
    for split, values in raw.items():
        _check_every_row(values, where[split], label_column, lines.get(split))
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


def _texts(part: Dataset, where: str, text_column: str, lines: list[int | None] | None) -> list[str]:
    """The text of every row; numbers (a CSV column pandas read as int64, say) are written out as text."""
    feature = part.features[text_column]
    if not isinstance(feature, Value):
        raise HfnewsError(f"{where}: column {text_column!r} holds {feature}, not texts; name the text column")
    texts = part[text_column][:]  # [:] reads the column at once; iterating a Column reads row by row (~30 us a row)
    _check_every_row(texts, where, text_column, lines)
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


def _check_every_row(values: list, where: str, column: str, lines: list[int | None] | None) -> None:
    """Raise `HfnewsError` naming the first rows without a value: by line number (blank lines counted) for a file,
    else by row index."""
    empty = [row for row, value in enumerate(values) if value is None]
    if empty:
        if lines is not None and lines[empty[0]] is not None:
            shown = f"lines {', '.join(str(lines[row]) for row in empty[:_SHOWN])}"
        else:
            shown = f"rows {', '.join(str(row) for row in empty[:_SHOWN])}, counting from 0"
        raise HfnewsError(
            f"{where}: {len(empty):,} row(s) have no {column!r} ({shown}); fill them in or remove those rows"
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
