"""In-process training on the hand-written headlines, for tests of what a run writes and of its options."""

import contextlib
import io
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import KEPT_PUBLISHERS, TINY_TITLES, corpus_line

from hfnews.inference.prediction import classify
from hfnews.models.loading import load_model, load_tokenizer
from hfnews.training.arguments import parse_train_args
from hfnews.training.report import TrainingReport
from hfnews.training.run import run_training


TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train.py"


def write_tiny_corpus(path: Path, copies: int = 3) -> Path:
    """`copies` times the hand-written headlines as a newsCorpora.csv (3 copies: 76/10/10 rows after the split)."""
    rows = TINY_TITLES * copies
    lines = (corpus_line(i + 1, category, title, KEPT_PUBLISHERS[i % 5]) for i, (category, title) in enumerate(rows))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def train_tiny(source: Path, output_dir: Path, *args: str) -> tuple[TrainingReport, str]:
    """`scripts/train.py --model tiny` on `source`, in-process on the CPU without trackers (unless `args` say so);
    returns the report and what the run printed. The corpus is prepared in `$HFNEWS_CACHE`."""
    command = ["--model", "tiny", "--source", str(source), "--output_dir", str(output_dir), "--use_cpu"]
    _, model_args, data_args, training_args = parse_train_args([*command, "--report_to", "none", *args])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        report = run_training(model_args, data_args, training_args)
    return report, printed.getvalue()


def train(monkeypatch: pytest.MonkeyPatch, *args) -> None:
    """`scripts/train.py ARGS` run in this process as `__main__`, the way a user runs it."""
    monkeypatch.setattr(sys, "argv", [str(TRAIN_SCRIPT), *map(str, args)])
    runpy.run_path(str(TRAIN_SCRIPT), run_name="__main__")


def train_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args) -> str:
    """Run the script expecting a user error; return its one `error:` line after checking exit status 2."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        train(monkeypatch, *args)
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    error_lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, stderr
    assert stderr.rstrip().endswith(error_lines[0])
    return error_lines[0]


def assert_predictions_are_the_checkpoints(output_dir: Path, test_texts: list[str]) -> list[dict]:
    """Every record of test_predictions.jsonl holds the probabilities the saved checkpoint gives its own text, and
    the file's accuracy is metrics.json's."""
    records = [json.loads(line) for line in (output_dir / "test_predictions.jsonl").read_text().split("\n")[:-1]]
    assert [record["text"] for record in records] == test_texts
    model, tokenizer = load_model(str(output_dir)), load_tokenizer(str(output_dir))
    scores = classify(model, tokenizer, test_texts, batch_size=4, progress=False)
    for record, row in zip(records, scores.tolist()):
        names = list(model.config.id2label.values())
        assert list(record["probabilities"].values()) == pytest.approx(row, abs=1e-5), record["text"]
        assert record["predicted"] == names[int(np.argmax(row))]
    metrics = json.loads((output_dir / "metrics.json").read_text())
    accuracy = np.mean([record["predicted"] == record["gold"] for record in records])
    assert accuracy == pytest.approx(metrics["test"]["accuracy"], abs=1e-9)
    return records
