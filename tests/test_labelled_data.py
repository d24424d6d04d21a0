"""Any labelled text data (`--train_file`/`--validation_file`/`--test_file`, `--dataset`), and `--push_to_hub`
checked before training.

The end-to-end runs train the tiny CNN for one step in-process on the hand-written headlines of `helpers.py`, written
in each input kind, and read the result back with `pipeline()`.
"""

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import transformers.trainer
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from helpers import TINY_TITLES
from transformers import TrainingArguments, pipeline

from hfnews.data.corpus import format_split_table
from hfnews.data.labelled_data import load_labelled_dataset, load_labelled_files
from hfnews.errors import HfnewsError
from hfnews.training.arguments import parse_train_args
from hfnews.training.hub import check_hub_access
from hfnews.training.run import run_training


REPO = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = REPO / "scripts" / "train.py"
TINY_CONFIG = REPO / "configs" / "tiny.yaml"
TEXTS = [title for _, title in TINY_TITLES]
CODES = [code for code, _ in TINY_TITLES]
WORDS = {"b": "business", "t": "tech", "e": "entertainment", "m": "health"}
NUMBERS = {"b": 1, "t": 2, "e": 3, "m": 4}  # AG News' own numbering starts at 1
EVAL_ROWS = slice(None, None, 4)  # 8 rows, two of each class


def write_csv(folder: Path, texts: list[str], labels: list) -> dict[str, Path]:
    files = {}
    for split, rows in (("train", slice(None)), ("validation", EVAL_ROWS), ("test", EVAL_ROWS)):
        files[split] = folder / f"{split}.csv"
        Dataset.from_dict({"text": texts[rows], "label": labels[rows]}).to_csv(str(files[split]), index=False)
    return files


def write_jsonl(folder: Path, texts: list[str], labels: list) -> dict[str, Path]:
    """JSON Lines with the column names of the sentence/category kind, so the column flags are needed."""
    files = {}
    for split, rows in (("train", slice(None)), ("validation", EVAL_ROWS), ("test", EVAL_ROWS)):
        files[split] = folder / f"{split}.jsonl"
        lines = (json.dumps({"sentence": t, "category": c}) for t, c in zip(texts[rows], labels[rows]))
        files[split].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files


def save_dataset(folder: Path, labels: list, feature=None) -> Path:
    features = Features({"text": Value("string"), "label": feature or Dataset.from_dict({"l": labels}).features["l"]})
    part = Dataset.from_dict({"text": TEXTS, "label": labels}, features=features)
    DatasetDict({"train": part, "validation": part.select(range(0, 32, 4)), "test": part.select(range(1, 32, 4))}
                ).save_to_disk(str(folder))  # fmt: skip
    return folder


# kind -> (tmp folder) -> (arguments naming the data, the label names the model must predict)
INPUT_KINDS = {
    "csv files, string labels": lambda tmp: (
        (lambda f: ["--train_file", f["train"], "--validation_file", f["validation"], "--test_file", f["test"]])(
            write_csv(tmp, TEXTS, [WORDS[c] for c in CODES])
        ),
        ["business", "entertainment", "health", "tech"],
    ),
    "json lines files, named columns": lambda tmp: (
        (
            lambda f: [
                "--train_file",
                f["train"],
                "--validation_file",
                f["validation"],
                "--test_file",
                f["test"],
                "--text_column_name",
                "sentence",
                "--label_column_name",
                "category",
            ]
        )(write_jsonl(tmp, TEXTS, CODES)),  # fmt: skip
        ["b", "e", "m", "t"],
    ),
    "dataset, string labels": lambda tmp: (["--dataset", save_dataset(tmp / "data", CODES)], ["b", "e", "m", "t"]),
    "dataset, integer labels": lambda tmp: (
        ["--dataset", save_dataset(tmp / "data", [NUMBERS[c] for c in CODES])],
        ["1", "2", "3", "4"],
    ),
}


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_one_epoch_on_each_input_kind_gives_a_pipeline_with_the_data_s_label_names(kind, tmp_path, one_thread):
    data_args, names = INPUT_KINDS[kind](tmp_path)
    output_dir = tmp_path / "out"
    args = ["--config", TINY_CONFIG, *data_args, "--min_frequency", "1", "--output_dir", output_dir,
            "--save_strategy", "no", "--load_best_model_at_end", "false"]  # fmt: skip
    _, model_args, data, training_args = parse_train_args(list(map(str, args)))
    report = run_training(model_args, data, training_args)

    assert report.label_names == names
    assert (report.data["train"], report.data["validation"], report.data["test"]) == (32, 8, 8)
    assert len(report.confusion_matrix) == len(names) and sum(map(sum, report.confusion_matrix)) == 8
    assert {f"f1_{name}" for name in names} <= report.test.keys()
    classifier = pipeline("text-classification", model=str(output_dir))
    assert classifier.model.config.id2label == dict(enumerate(names))
    scores = classifier(TEXTS[:3], top_k=None)
    assert all({score["label"] for score in row} == set(names) for row in scores)
    assert all(sum(score["score"] for score in row) == pytest.approx(1.0, abs=1e-5) for row in scores)
    assert (output_dir / "confusion_matrix.png").is_file() and (output_dir / "README.md").is_file()


# ---------------------------------------------------------------------------------------------------------------
# Labels from the data.


def test_string_labels_become_their_sorted_set_and_integers_their_sorted_values_by_name(tmp_path):
    strings = load_labelled_dataset(save_dataset(tmp_path / "s", CODES))
    assert strings["train"].features["label"].names == ["b", "e", "m", "t"]
    assert strings["train"].features["label"].int2str(strings["train"]["label"][:]) == CODES
    numbers = load_labelled_dataset(save_dataset(tmp_path / "n", [NUMBERS[c] * 10 for c in CODES]))
    assert numbers["train"].features["label"].names == ["10", "20", "30", "40"]
    assert numbers["test"]["label"][:] == [[0, 1, 2, 3]["btem".index(c)] for c in CODES[1::4]]


def test_a_class_label_keeps_its_names_in_its_order(tmp_path):
    order = ["m", "t", "e", "b"]  # not sorted: the ClassLabel's own order is kept
    path = save_dataset(tmp_path / "d", [order.index(c) for c in CODES], ClassLabel(names=order))
    dataset = load_labelled_dataset(path)
    assert dataset["train"].features["label"].names == order
    assert dataset["validation"]["label"][:] == [order.index(c) for c in CODES[::4]]


def test_a_label_that_train_lacks_is_one_error_naming_it(tmp_path):
    files = write_csv(tmp_path, TEXTS, [WORDS[c] for c in CODES])
    files["test"].write_text("text,label\nSome headline,sports\nOther headline,business\n", encoding="utf-8")
    with pytest.raises(HfnewsError, match=r"test.csv has 1 label\(s\) that no train row has: 'sports' \(1 rows\)"):
        load_labelled_files(files["train"], files["validation"], files["test"])


def test_fewer_than_two_classes_empty_cells_and_float_labels_are_clear_errors(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("text,label\n" + "".join(f"title {i},pos\n" for i in range(20)), encoding="utf-8")
    with pytest.raises(HfnewsError, match="1 distinct label.*at least 2"):
        load_labelled_files(one)
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\na,1\nb,\nc,0\nd,1\n", encoding="utf-8")
    with pytest.raises(HfnewsError, match=r"1 row\(s\) have no 'label' \(lines 3\)"):
        load_labelled_files(empty)
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("text,label\na,1\nb,0\n,1\nd,0\n", encoding="utf-8")
    with pytest.raises(HfnewsError, match=r"no_text.csv: 1 row\(s\) have no 'text' \(lines 4\)"):
        load_labelled_files(no_text)
    junk = tmp_path / "junk.json"
    junk.write_text("text\tlabel\nnot json\t1\n", encoding="utf-8")
    with pytest.raises(HfnewsError, match="junk.json line 1: not JSON"):
        load_labelled_files(junk)
    floats = tmp_path / "floats.jsonl"
    floats.write_text("".join(json.dumps({"text": f"t{i}", "label": i / 2}) + "\n" for i in range(8)))
    with pytest.raises(HfnewsError, match="holds Value\\('float64'\\); labels must be"):
        load_labelled_files(floats)


def test_a_missing_column_names_the_columns_there_and_the_flags(tmp_path):
    files = write_jsonl(tmp_path, TEXTS, CODES)
    with pytest.raises(HfnewsError, match="lacks the column.* text, label; it has sentence, category.*--text_column"):
        load_labelled_files(files["train"])


def test_tsv_is_read_unquoted_so_a_title_that_begins_with_a_quote_stays_as_written(tmp_path):
    """SST-2's layout: `sentence<TAB>label` with a header, integer labels, quotes kept as they are."""
    lines = ["sentence\tlabel", '"Girls" meets Genesis in new film\t1', "NA\t0", *(f"{t}\t{i % 2}" for i, t in
             enumerate(TEXTS))]  # fmt: skip
    path = tmp_path / "train.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset = load_labelled_files(path, text_column="sentence", seed=1)
    texts = {text for split in dataset.values() for text in split["text"][:]}
    assert {'"Girls" meets Genesis in new film', "NA"} <= texts and len(texts) == 34
    assert dataset["train"].features["label"].names == ["0", "1"]


# ---------------------------------------------------------------------------------------------------------------
# Splits taken off train.


def test_a_missing_validation_file_is_split_off_train_with_the_seed_and_said_so(tmp_path, caplog):
    files = write_csv(tmp_path, TEXTS, [WORDS[c] for c in CODES])
    with caplog.at_level(logging.INFO, logger="hfnews.data.labelled_data"):
        dataset = load_labelled_files(files["train"], test_file=files["test"], seed=3)
    assert "validation: 4 rows split off train (seed 3, stratified by label)" in caplog.text
    assert (len(dataset["train"]), len(dataset["validation"]), len(dataset["test"])) == (28, 4, 8)
    assert sorted(dataset["train"]["text"][:] + dataset["validation"]["text"][:]) == sorted(TEXTS)
    assert sorted(dataset["validation"]["label"][:]) == [0, 1, 2, 3]  # stratified: one of each class
    table = [line.split() for line in format_split_table(dataset).splitlines()]
    assert table == [["split", "business", "entertainment", "health", "tech", "total"], ["train", *"7777", "28"],
                     ["validation", *"1111", "4"], ["test", *"2222", "8"]]  # fmt: skip
    assert format_split_table(dataset) in caplog.text
    again = load_labelled_files(files["train"], test_file=files["test"], seed=3)
    other = load_labelled_files(files["train"], test_file=files["test"], seed=4)
    assert again["validation"]["text"][:] == dataset["validation"]["text"][:] != other["validation"]["text"][:]


def test_both_missing_splits_come_off_train_and_an_unlabelled_test_split_counts_as_missing(tmp_path, caplog):
    """GLUE's saved SST-2 has a test split whose labels are all -1."""
    part = Dataset.from_dict(
        {"sentence": TEXTS, "label": [i % 2 for i in range(32)], "idx": list(range(32))},
        features=Features({"sentence": Value("string"), "label": ClassLabel(names=["negative", "positive"]),
                           "idx": Value("int32")}),
    )  # fmt: skip
    hidden = part.select(range(6)).map(lambda row: {"label": -1})
    DatasetDict({"train": part, "test": hidden}).save_to_disk(str(tmp_path / "glue"))
    with caplog.at_level(logging.INFO, logger="hfnews.data.labelled_data"):
        dataset = load_labelled_dataset(tmp_path / "glue", text_column="sentence")
    assert "no row has a label" in caplog.text and "test: 3 rows split off train" in caplog.text
    assert [len(dataset[s]) for s in ("train", "validation", "test")] == [26, 3, 3]
    assert dataset["train"].column_names == ["text", "label"]
    assert dataset["train"].features["label"].names == ["negative", "positive"]


# ---------------------------------------------------------------------------------------------------------------
# Arguments.


BAD_DATA_ARGUMENTS = {
    "two inputs": (["--source", "x.csv", "--train_file", "{csv}"], "pass only one of --source, --dataset and"),
    "validation without train": (["--validation_file", "{csv}"], "need a --train_file"),
    "unknown suffix": (["--train_file", "{tmp}/train.xlsx"], "must end in .csv, .tsv, .jsonl, .json"),
    "absent file": (["--train_file", "{tmp}/absent.csv"], "absent.csv: no such file"),
    "columns of the UCI corpus": (["--text_column_name", "sentence"], "apply to --train_file or --dataset"),
    "same column twice": (["--train_file", "{csv}", "--label_column_name", "text"], "are both 'text'"),
    "stories of other data": (["--train_file", "{csv}", "--group_by", "story"], "STORY clusters; not --train_file"),
}


@pytest.mark.parametrize("case", BAD_DATA_ARGUMENTS)
def test_bad_data_arguments_are_one_clear_error(case, tmp_path):
    csv_file = write_csv(tmp_path, TEXTS, CODES)["train"]
    args, expected = BAD_DATA_ARGUMENTS[case]
    args = [arg.format(csv=csv_file, tmp=tmp_path) for arg in args]
    with pytest.raises(HfnewsError, match=expected):
        parse_train_args(["--config", str(TINY_CONFIG), "--output_dir", str(tmp_path / "out"), *args])


# ---------------------------------------------------------------------------------------------------------------
# --push_to_hub without the Hub.


def test_push_to_hub_offline_fails_at_once_and_a_hub_that_never_answers_fails_after_the_timeout(tmp_path, monkeypatch):
    args = TrainingArguments(output_dir=str(tmp_path), push_to_hub=True, hub_token="hf_not_a_real_token")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(HfnewsError, match="cannot reach the Hub.*OfflineModeIsEnabled.*or drop --push_to_hub"):
        check_hub_access(args)
    silent = SimpleNamespace(whoami=lambda token=None: time.sleep(30))
    monkeypatch.setattr(transformers.trainer, "hf_api", lambda: silent)
    started = time.monotonic()
    with pytest.raises(HfnewsError, match="did not answer within 0.2s"):
        check_hub_access(args, timeout=0.2)
    assert time.monotonic() - started < 5
    check_hub_access(TrainingArguments(output_dir=str(tmp_path)))  # no push: the Hub is never asked


@pytest.mark.slow
@pytest.mark.parametrize(
    ("offline", "token", "reason"),
    [("1", "hf_not_a_real_token", "OfflineModeIsEnabled"), ("0", "", "LocalTokenNotFoundError")],
    ids=["offline", "no-token"],
)
def test_push_to_hub_without_the_hub_ends_scripts_train_before_training_with_one_error_line(
    offline, token, reason, tmp_path
):
    files = write_csv(tmp_path, TEXTS, CODES)
    home = tmp_path / "hf-home"  # no saved token there
    env = {**os.environ, "HF_HUB_OFFLINE": offline, "HF_TOKEN": token, "HF_HOME": str(home), "OMP_NUM_THREADS": "1",
           "HFNEWS_CACHE": str(tmp_path / "cache")}  # fmt: skip
    env.pop("HF_TOKEN_PATH", None)
    output_dir = tmp_path / "out"
    command = [sys.executable, str(TRAIN_SCRIPT), "--config", str(TINY_CONFIG), "--train_file", str(files["train"]),
               "--output_dir", str(output_dir), "--push_to_hub", "--hub_model_id", "someone/name"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == done.stderr.strip().splitlines()[-1]
    assert reason in errors[0]
    assert "Traceback" not in done.stderr and "epoch" not in done.stdout and not output_dir.exists()
