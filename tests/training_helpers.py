"""In-process training on the hand-written headlines, for tests of what a run writes and of its options."""

import contextlib
import io
from pathlib import Path

from helpers import KEPT_PUBLISHERS, TINY_TITLES, corpus_line

from hfnews.arguments import parse_train_args
from hfnews.report import TrainingReport
from hfnews.training import run_training


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
