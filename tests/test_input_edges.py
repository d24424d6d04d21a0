"""Inputs at the edges (issue 19 §2, §3): each read exactly as written or refused in one `error:` line naming the file
and the line, in prediction and in training alike; the command line's mistakes and a finished run's folder.

The handed cases of `../shared/cases/` (`predict_tsv_quoted_titles`, `predict_cr_only`,
`labelled_header_only_validation`; `vectors_text_named_bin` is in test_vectors.py) are checked against an
independent reading of their bytes.
"""

import bz2
import gzip
import io
import json
import lzma
import runpy
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import SHARED_DATA, TINY_TITLES
from model_helpers import save_word_model
from training_helpers import TRAIN_SCRIPT, train, train_error, write_tiny_corpus

from hfnews.data.labelled_data import load_labelled_files
from hfnews.data.text_files import read_texts
from hfnews.errors import HfnewsError


CASES = SHARED_DATA.parent / "cases"
REPO = Path(__file__).resolve().parents[1]
requires_cases = pytest.mark.skipif(not CASES.is_dir(), reason=f"needs the input cases in {CASES} (see its README)")
LABELLED = [(title, {"b": "business", "t": "tech", "e": "fun", "m": "health"}[code]) for code, title in TINY_TITLES]


@pytest.fixture(scope="module")
def cnn_folder(tmp_path_factory) -> Path:
    return save_word_model(tmp_path_factory.mktemp("cnn"), "cnn")


def run_script(monkeypatch: pytest.MonkeyPatch, script: str, *args) -> None:
    monkeypatch.setattr(sys, "argv", [script, *map(str, args)])
    runpy.run_path(str(REPO / "scripts" / script), run_name="__main__")


def script_error(monkeypatch, capsys, script: str, *args) -> str:
    """The one `error:` line of a script that must refuse its input (exit status 2, no traceback)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_script(monkeypatch, script, *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def predicted_rows(monkeypatch, cnn_folder: Path, input_file: Path, tmp_path: Path, *extra: str) -> list[dict]:
    output = tmp_path / "predictions.jsonl"
    run_script(monkeypatch, "predict.py", "--model", cnn_folder, "--input_file", input_file, "--output_file",
               output, *extra)  # fmt: skip
    return [json.loads(line) for line in output.read_text(encoding="utf-8").split("\n")[:-1]]


# ---------------------------------------------------------------------------------------------------------------
# The handed cases.


@requires_cases
def test_case_predict_tsv_quoted_titles_reads_each_title_as_written(monkeypatch, cnn_folder, tmp_path):
    case = CASES / "predict_tsv_quoted_titles" / "headlines.tsv"
    lines = case.read_bytes().decode("utf-8").split("\n")
    expected = [line.rstrip("\r").split("\t")[1] for line in lines[1:] if line]
    assert len(expected) == 14 and expected[0].startswith('"Girls" Meets Genesis')
    rows = predicted_rows(monkeypatch, cnn_folder, case, tmp_path)
    assert [row["text"] for row in rows] == expected
    # The same file as training data reads the same titles: one reader for both.
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text("text\tlabel\n" + "".join(f"{text}\t{i % 2}\n" for i, text in enumerate(expected)))
    assert load_labelled_files(labelled, labelled, labelled)["train"]["text"] == expected


@requires_cases
def test_case_predict_cr_only_gives_one_prediction_per_headline(monkeypatch, cnn_folder, tmp_path):
    case = CASES / "predict_cr_only" / "headlines.txt"
    expected = [line for line in case.read_bytes().decode("utf-8").split("\r") if line]
    assert len(expected) == 12 and "\n" not in "".join(expected)
    rows = predicted_rows(monkeypatch, cnn_folder, case, tmp_path)
    assert [row["text"] for row in rows] == expected


@requires_cases
def test_case_labelled_header_only_validation_is_one_error_naming_the_file(monkeypatch, capsys, tmp_path):
    folder = CASES / "labelled_header_only_validation"
    line = train_error(monkeypatch, capsys, "--model", "tiny", "--train_file", folder / "train.csv",
                       "--validation_file", folder / "validation.csv", "--output_dir", tmp_path / "out")  # fmt: skip
    assert "validation.csv" in line and "empty" in line and "train.csv" not in line


# ---------------------------------------------------------------------------------------------------------------
# Every text format, in prediction and training: line ends, encodings, numbers as text, empty files.


def labelled_file(folder: Path, name: str, newline: str, rows=LABELLED) -> Path:
    path = folder / name
    if name.endswith(".jsonl"):
        lines = [json.dumps({"text": text, "label": label}) for text, label in rows]
    else:
        separator = "\t" if name.endswith(".tsv") else ","
        lines = [f"text{separator}label", *(f"{text.replace(',', '')}{separator}{label}" for text, label in rows)]
    path.write_bytes(newline.join(lines).encode("utf-8") + newline.encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("name", ["rows.csv", "rows.tsv", "rows.jsonl", "rows.txt"])
def test_every_line_end_reads_the_same_rows_for_prediction_and_training(tmp_path, name, newline):
    if name.endswith(".txt"):
        path = tmp_path / name
        path.write_bytes(newline.join(text for text, _ in LABELLED).encode() + newline.encode())
        assert read_texts(path) == [text for text, _ in LABELLED]
        return
    path = labelled_file(tmp_path, name, newline)
    texts = [
        json.loads(json.dumps(text)).replace(",", "") if not name.endswith(".jsonl") else text for text, _ in LABELLED
    ]
    assert read_texts(path) == texts
    dataset = load_labelled_files(path, path, path)
    assert dataset["train"]["text"] == texts
    names = dataset["train"].features["label"].names
    assert [names[label] for label in dataset["train"]["label"]] == [label for _, label in LABELLED]


@pytest.mark.parametrize(
    ("encode", "message"),
    [
        (lambda text: text.encode("utf-16"), r"is UTF-16 text .*save it as UTF-8"),
        (lambda text: text.encode("utf-16-le"), r"is UTF-16 text .*save it as UTF-8"),  # no byte-order mark
        (lambda text: codecs_cp932(text), r"line 3: not UTF-8 text .*Shift-JIS/cp932"),
        (lambda text: zipped(text), r"is a zip archive \(an \.xlsx/\.docx file is one\), not a text file"),
        (lambda text: gzip.compress(text.encode()), r"is gzip-compressed, not a text file: .*decompress it"),
        (lambda text: bz2.compress(text.encode()), r"is bzip2-compressed, not a text file"),
        (lambda text: lzma.compress(text.encode()), r"is xz-compressed, not a text file"),
        (lambda text: text.encode().replace(b"Fed", b"F\x00d"), r"holds NUL bytes, so it is binary"),
    ],
    ids=["utf-16", "utf-16-le-no-bom", "cp932", "zip", "gzip", "bzip2", "xz", "nul"],
)
def test_a_file_that_is_not_utf8_is_one_error_naming_the_encoding(tmp_path, encode, message):
    text = "text,label\nFed holds rates,b\n日経平均が上昇,b\nApple unveils iPhone,t\n"
    path = tmp_path / "rows.csv"
    path.write_bytes(encode(text))
    for read in (read_texts, load_labelled_files):
        with pytest.raises(HfnewsError, match=rf"rows\.csv.*{message}"):
            read(path)


def codecs_cp932(text: str) -> bytes:
    return text.encode("cp932")


def zipped(text: str) -> bytes:
    """`text` as the one member of a zip archive, as an .xlsx workbook is a zip of XML files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("rows.csv", text)
    return buffer.getvalue()


def test_a_text_column_of_numbers_stays_text_and_row_numbers_count_blank_lines(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("text,label\n007,a\n0.50,b\n\n1e3,a\n42,b\n")
    dataset = load_labelled_files(path, path, path)
    assert dataset["train"]["text"] == ["007", "0.50", "1e3", "42"]
    missing = tmp_path / "missing.csv"
    missing.write_text("text,label\nfirst,a\n\n\nfourth,\n")
    with pytest.raises(HfnewsError, match=r"missing\.csv: 1 row\(s\) have no 'label' \(lines 5\)"):
        load_labelled_files(missing)


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty: it holds no header and no rows"), ("\n\n", "is empty"), ("text,label\n", "no rows: it is empty")],
    ids=["empty", "blank-lines", "header-only"],
)
@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_an_empty_labelled_file_is_one_error_naming_it(tmp_path, content, message, split):
    files = {name: labelled_file(tmp_path, f"{name}.csv", "\n") for name in ("train", "validation", "test")}
    files[split].write_text(content)
    with pytest.raises(HfnewsError, match=rf"{split}\.csv .*{message}"):
        load_labelled_files(files["train"], files["validation"], files["test"])


def test_a_csv_title_with_a_lone_quote_is_refused_rather_than_merged(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text('text,label\n"Girls" Meets Genesis,e\nnext,b\n')
    with pytest.raises(HfnewsError, match=r"rows\.csv line 2: not valid CSV"):
        read_texts(path)


# ---------------------------------------------------------------------------------------------------------------
# Long texts: bounded memory, the cut said.


def test_a_megabyte_line_is_cut_and_said_in_predict(monkeypatch, cnn_folder, tmp_path, caplog):
    path = tmp_path / "long.txt"
    huge = "stocks rally " * 400_000  # 5 MB on one line
    path.write_text(f"Fed holds rates\n{huge}\n")
    with caplog.at_level("INFO"):
        rows = predicted_rows(monkeypatch, cnn_folder, path, tmp_path)
    assert len(rows) == 2 and rows[1]["text"] == huge
    assert "1 of 2 text(s) longer than 256 tokens" in caplog.text


def test_a_megabyte_title_in_training_is_read_cut_and_said(monkeypatch, tmp_path, caplog, one_thread):
    monkeypatch.setenv("HFNEWS_CACHE", str(tmp_path / "cache"))
    huge = "stocks rally " * 100_000 + "zebra " * 5  # 1.2 MB; "zebra" only after the 256 words the model reads
    path = labelled_file(tmp_path, "train.csv", "\n", [*LABELLED, (huge, "business")])
    with caplog.at_level("INFO"):
        train(monkeypatch, "--model", "tiny", "--train_file", path, "--output_dir", tmp_path / "out", "--use_cpu",
              "--report_to", "none")  # fmt: skip
    assert "text(s) longer than 256 tokens: each read to its first 256" in caplog.text
    assert json.loads((tmp_path / "out" / "tokenizer_config.json").read_text())["model_max_length"] == 256
    # The vocabulary counts the words the model reads, not the rest of the line (which split whole took 640 MB).
    vocabulary = json.loads((tmp_path / "out" / "tokenizer.json").read_text())["model"]["vocab"]
    assert "stocks" in vocabulary and "zebra" not in vocabulary


# ---------------------------------------------------------------------------------------------------------------
# The command line.


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        (
            "train.py",
            ["--model", "tiny", "--epochs", "3"],
            "unknown argument --epochs (did you mean --num_train_epochs?)",
        ),
        ("predict.py", ["--model", "x", "--texts", "a", "--epochs", "3"], "unknown argument --epochs"),
        ("problem81.py", ["--epochs", "3"], "unknown argument --epochs"),
        ("prepare_data.py", ["--output_dir", "x", "--sed", "1"], "unknown argument --sed (did you mean --seed?)"),
        (
            "tune.py",
            ["--model", "cnn", "--output_dir", "x", "--learning_rte", "1"],
            "unknown argument --learning_rte (did you mean --learning_rate?)",
        ),
    ],
)
def test_an_unknown_flag_is_one_error_line_naming_the_closest(monkeypatch, capsys, script, args, expected):
    assert expected in script_error(monkeypatch, capsys, script, *args)


def test_a_finished_run_is_never_replaced_silently(monkeypatch, capsys, tmp_path, one_thread):
    monkeypatch.setenv("HFNEWS_CACHE", str(tmp_path / "cache"))
    source = write_tiny_corpus(tmp_path / "news.csv")
    out = tmp_path / "out"
    command = ["--model", "tiny", "--source", source, "--output_dir", out, "--use_cpu", "--report_to", "none"]
    train(monkeypatch, *command)
    weights = (out / "model.safetensors").read_bytes()
    line = train_error(monkeypatch, capsys, *command, "--learning_rate", "0.5")
    assert f"{out} already holds a trained run" in line and "--overwrite_output_dir true" in line
    assert (out / "model.safetensors").read_bytes() == weights
    train(monkeypatch, *command, "--learning_rate", "0.5", "--overwrite_output_dir", "true")
    assert (out / "model.safetensors").read_bytes() != weights
    assert len(list(out.glob("checkpoint-*"))) == 1  # the old run's checkpoints went with it


def test_a_loss_that_becomes_nan_stops_the_run_with_its_cause(monkeypatch, capsys, tmp_path, one_thread):
    monkeypatch.setenv("HFNEWS_CACHE", str(tmp_path / "cache"))
    source = write_tiny_corpus(tmp_path / "news.csv")
    out = tmp_path / "out"
    line = train_error(monkeypatch, capsys, "--model", "tiny", "--source", source, "--output_dir", out, "--use_cpu",
                       "--optim", "sgd", "--learning_rate", "1e30", "--max_grad_norm", "0")  # fmt: skip
    assert "became nan" in line or "became inf" in line
    assert "diverged" in line and "--learning_rate too high" in line
    assert not (out / "model.safetensors").exists() and not list(out.glob("checkpoint-*"))
    assert TRAIN_SCRIPT.is_file()
