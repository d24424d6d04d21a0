"""Smoke tests of the benchmark scripts on tiny sizes: the stand-in corpus is exact, and each report prints its lines.

The timings themselves are not checked (they depend on the machine); the scripts are run for what they print.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DEV_CSV, KEPT_PUBLISHERS, requires_extra, requires_shared_data

from hfnews.data.download import OFFICIAL_CSV_SIZE
from hfnews.data.sources import read_source


SCRIPTS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(name: str, *args: str, env: dict | None = None) -> str:
    command = [sys.executable, str(SCRIPTS / f"{name}.py"), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@requires_shared_data
def test_stand_in_has_the_asked_rows_and_bytes_and_keeps_every_dev_row(tmp_path):
    bench = load_script("bench_prepare")
    path = tmp_path / "newsCorpora.csv"
    stand_in = bench.write_stand_in(DEV_CSV, path, 20_000)

    dev_lines = DEV_CSV.read_text(encoding="utf-8").splitlines()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert stand_in == {"rows": 20_000, "dev_rows": len(dev_lines), "generated_rows": 20_000 - len(dev_lines),
                        "bytes": bench.stand_in_size(20_000)}  # fmt: skip
    assert path.stat().st_size == round(20_000 * OFFICIAL_CSV_SIZE / bench.OFFICIAL_ROWS)
    assert len(lines) == 20_000
    ids = [int(line.split("\t")[0]) for line in lines]
    assert ids == sorted(set(ids))
    assert set(dev_lines) <= set(lines)
    generated = set(lines) - set(dev_lines)
    assert len(generated) == 20_000 - len(dev_lines)
    assert not {line.split("\t")[3] for line in generated} & set(KEPT_PUBLISHERS)
    rows = read_source(path)
    assert (rows.rows_read, len(rows)) == (20_000, 12_020)


def test_full_size_stand_in_is_one_byte_short_of_the_official_file():
    bench = load_script("bench_prepare")
    assert bench.OFFICIAL_SIZE == OFFICIAL_CSV_SIZE
    assert bench.stand_in_size(bench.OFFICIAL_ROWS) == OFFICIAL_CSV_SIZE - 1


@pytest.mark.slow
@requires_shared_data
def test_bench_prepare_reports_rows_splits_times_and_memory_and_cleans_up(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = run_script(
        "bench_prepare", "--rows", "20000", "--dev_csv", str(DEV_CSV), "--skip_script",
        env={**os.environ, "TMPDIR": str(scratch)},
    )  # fmt: skip
    assert "rows read: 20,000; kept (five publishers): 12,020" in out
    assert "split sizes: train 9,616, validation 1,202, test 1,202" in out
    for label in ("cold (first preparation)", "cached, second call, same process", "peak RSS of the cold preparation"):
        assert re.search(rf"{re.escape(label)}: +\d+(\.\d+)? ", out), out
    assert list(scratch.iterdir()) == []


@pytest.mark.slow
@requires_shared_data
def test_bench_overhead_reports_the_ratio_and_pipeline_throughput():
    out = run_script(
        "bench_overhead", "--source", str(DEV_CSV), "--max_train_samples", "64", "--max_eval_samples", "64",
        "--repeats", "1", "--threads", "1",
    )  # fmt: skip
    assert "64 training headlines, batch size 32, 1 epoch(s), adamw_torch" in out
    assert re.search(r"run 1 Trainer +\d+\.\d+ s", out), out
    assert re.search(r"run 1 hand loop +\d+\.\d+ s", out), out
    assert re.search(r"ratio \d+\.\d{3} \((within|ABOVE) the target 1\.25\)", out), out
    for name in ("CNN", "RNN"):
        assert re.search(rf"pipeline {name} .*: 64 validation headlines, batch_size 64, .* [\d,]+ headlines/s", out)


def test_report_summarises_seeds_as_mean_and_sample_deviation():
    report = load_script("report")
    runs = [
        {"eval_accuracy": 0.90, "eval_macro_f1": 0.80, "test_accuracy": 0.91, "test_macro_f1": 0.85,
         "wall_seconds": 10.0, "epochs": 5, "peak_rss_mib": 600},
        {"eval_accuracy": 0.92, "eval_macro_f1": 0.84, "test_accuracy": 0.93, "test_macro_f1": 0.87,
         "wall_seconds": 14.0, "epochs": 5, "peak_rss_mib": 610},
    ]  # fmt: skip
    row = report.summarise_runs("cnn", runs)
    assert row["seeds"] == 2
    assert abs(row["test_accuracy"] - 0.92) < 1e-12 and abs(row["wall_seconds"] - 12.0) < 1e-12
    # sample standard deviation of two values a, b is |a - b| / sqrt(2)
    assert abs(row["test_accuracy_std"] - 0.02 / 2**0.5) < 1e-12
    assert report._cell(row, "test_accuracy") == "0.9200 ± 0.0141"


def test_report_replaces_only_its_own_section(tmp_path):
    report = load_script("report")
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Speed\n\nkept\n")
    report.write_section(path, f"{report.SECTION_START}\n## Models\n\nfirst\n{report.SECTION_END}\n")
    report.write_section(path, f"{report.SECTION_START}\n## Models\n\nsecond\n{report.SECTION_END}\n")
    text = path.read_text()
    assert "## Speed\n\nkept" in text and "second" in text and "first" not in text
    assert text.count(report.SECTION_START) == 1


@pytest.mark.slow
@requires_shared_data
def test_bench_optim_prints_both_step_times_and_their_ratio_per_config():
    out = run_script("bench_optim", "--source", str(DEV_CSV), "tiny", "cnn")
    for config in ("tiny", "cnn"):
        match = re.search(rf"\| `{config}` \| (\d+\.\d) \| (\d+\.\d) \| (\d+\.\d\d) \|", out)
        assert match, out
        plain, fused, ratio = map(float, match.groups())
        assert ratio == pytest.approx(plain / fused, abs=0.02 + 0.05 * ratio)  # printed values are rounded


@pytest.mark.slow
@requires_extra("onnxscript", "onnx")
@requires_extra("fastapi", "serve")
def test_deploy_report_has_every_backend(tmp_path):
    import json

    from inference_helpers import HEADLINES, child_env
    from model_helpers import save_word_model

    folder = save_word_model(tmp_path / "cnn", "cnn")
    records = [{"text": text, "gold": "business"} for text in HEADLINES]
    (folder / "test_predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    report = tmp_path / "BENCHMARKS.md"
    output = run_script("bench_deploy", "--models", str(folder), "--repeats", "1", "--report", str(report),
                        env=child_env())  # fmt: skip
    assert output.startswith("## Deploy") and report.read_text().count("## Deploy") == 1
    for backend in ("torch", "onnx", "int8"):
        assert re.search(
            rf"^\| cnn \| 320 x 1 \| {backend} \| [\d,]+ \| \d+ \| \d+ \| \d+ \| [\d.]+ \|$", output, re.M
        )
