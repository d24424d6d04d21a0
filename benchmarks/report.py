"""The benchmark report: every shipped config trained on the same split, against TF-IDF + logistic regression.

Numbers come from real runs: each model trains in a child process whose wall time and peak resident memory are read
from the operating system (`os.wait4`), and pipeline throughput is measured on the validation headlines.
"""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import pipeline

from hfnews.data import load_news_corpus
from hfnews.errors import HfnewsError
from hfnews.factory import load_model, load_tokenizer
from hfnews.plots import plot_benchmark
from hfnews.training import METRICS_FILE


BENCHMARK_MODELS = ("cnn", "rnn", "birnn", "cnn_vectors", "rnn_vectors", "birnn_vectors", "bert")
TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
RUN_FILE = "bench_run.json"


def train_in_child(model: str, output_dir: Path, source: str | None) -> dict:
    """Run `scripts/train.py --model MODEL` in a child process; its wall time and peak RSS."""
    command = [sys.executable, str(TRAIN_SCRIPT), "--model", model, "--output_dir", str(output_dir)]
    if source is not None:
        command += ["--source", source]
    command += ["--disable_tqdm", "true"]
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(output_dir / "train.log", "w") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise HfnewsError(f"training {model} failed; see {output_dir / 'train.log'}")
    run = {"wall_seconds": round(seconds, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024)}
    (output_dir / RUN_FILE).write_text(json.dumps(run))
    return run


def pipeline_throughput(checkpoint: Path, texts: list[str], batch_size: int) -> float:
    """Headlines per second through `pipeline("text-classification")`, after one warm-up batch."""
    classifier = pipeline(
        "text-classification", model=load_model(str(checkpoint)), tokenizer=load_tokenizer(str(checkpoint))
    )
    classifier(texts[:batch_size], batch_size=batch_size)
    started = time.perf_counter()
    classifier(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - started)


def tfidf_baseline(dataset) -> dict:
    """Chapter 6's reference: TF-IDF of word uni- and bigrams with logistic regression (scikit-learn)."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score, f1_score
    except ImportError:
        raise HfnewsError("the TF-IDF baseline needs scikit-learn: pip install 'hfnews[tune]'") from None
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    features = vectorizer.fit_transform(dataset["train"]["text"])
    classifier = LogisticRegression(C=10.0, max_iter=2000).fit(features, dataset["train"]["label"])
    seconds = time.perf_counter() - started
    scores = {"wall_seconds": round(seconds, 1)}
    for split, prefix in (("validation", "eval"), ("test", "test")):
        predicted = classifier.predict(vectorizer.transform(dataset[split]["text"]))
        scores[f"{prefix}_accuracy"] = accuracy_score(dataset[split]["label"], predicted)
        scores[f"{prefix}_macro_f1"] = f1_score(dataset[split]["label"], predicted, average="macro")
    return scores


def machine_description() -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, {gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__}, torch threads {torch.get_num_threads()}"
    )


def collect_row(model: str, run_dir: Path, run: dict, texts: list[str], batch_size: int) -> dict:
    report = json.loads((run_dir / METRICS_FILE).read_text())
    best = max(report["history"], key=lambda row: row["eval_accuracy"]) if report["history"] else {}
    return {
        "model": model,
        "eval_accuracy": best.get("eval_accuracy"),
        "eval_macro_f1": best.get("eval_macro_f1"),
        "test_accuracy": report["test"]["accuracy"],
        "test_macro_f1": report["test"]["macro_f1"],
        "epochs": len(report["history"]),
        **run,
        "pipeline_per_second": round(pipeline_throughput(run_dir, texts, batch_size)),
    }


def render_report(rows: list[dict], baseline: dict, machine: str, command: str, batch_size: int, sizes: str) -> str:
    header = (
        "| model | valid acc | valid macro-F1 | test acc | test macro-F1 | epochs | train wall (s) | peak RSS (MiB) "
        f"| pipeline (headlines/s, batch {batch_size}) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [header]
    for row in sorted(rows, key=lambda row: -row["test_accuracy"]):
        lines.append(
            f"| `{row['model']}` | {row['eval_accuracy']:.4f} | {row['eval_macro_f1']:.4f} | "
            f"**{row['test_accuracy']:.4f}** | {row['test_macro_f1']:.4f} | {row['epochs']} | "
            f"{row['wall_seconds']:.0f} | {row['peak_rss_mib']} | {row['pipeline_per_second']:,} |"
        )
    lines.append(
        f"| TF-IDF + logistic regression (chapter 6) | {baseline['eval_accuracy']:.4f} | "
        f"{baseline['eval_macro_f1']:.4f} | **{baseline['test_accuracy']:.4f}** | {baseline['test_macro_f1']:.4f} | "
        f"- | {baseline['wall_seconds']:.0f} | - | - |"
    )
    return (
        "# Benchmarks\n\n"
        f"Written by `{command}`. Machine: {machine}.\n\n"
        f"Every model trains from its config in `configs/` on the same 80/10/10 split (seed 0): {sizes} headlines.\n"
        "The checkpoint is the epoch with the best validation accuracy; test numbers are that checkpoint's.\n"
        "Wall time covers the whole `scripts/train.py` run (start-up, per-epoch evaluation on train and validation,\n"
        "checkpoints, test, plots); peak RSS is that process's.\n\n"
        + "\n".join(lines)
        + "\n\n![test accuracy per model](benchmarks.png)\n"
    )


def run_benchmark(
    models: list[str],
    *,
    source: str | None,
    runs_dir: str | Path,
    report: str | Path,
    retrain: bool = False,
    pipeline_batch_size: int = 64,
) -> list[dict]:
    """Train (or reuse) each model, measure it, and write the Markdown report and its chart."""
    runs_dir = Path(runs_dir)
    dataset = load_news_corpus(source).dataset
    texts = list(dataset["validation"]["text"])
    rows = []
    for model in tqdm(models, desc="benchmark", unit="model"):
        run_dir = runs_dir / model
        done = (run_dir / METRICS_FILE).exists() and (run_dir / RUN_FILE).exists()
        run = json.loads((run_dir / RUN_FILE).read_text()) if done and not retrain else None
        if run is None:
            run = train_in_child(model, run_dir, source)
        rows.append(collect_row(model, run_dir, run, texts, pipeline_batch_size))
        tqdm.write(f"{model}: test accuracy {rows[-1]['test_accuracy']:.4f} in {run['wall_seconds']:.0f}s")
    baseline = tfidf_baseline(dataset)
    report = Path(report)
    command = "python benchmarks/bench.py" + (f" --source {source}" if source else "")
    sizes = " / ".join(f"{len(dataset[split]):,} {split}" for split in dataset)
    report.write_text(render_report(rows, baseline, machine_description(), command, pipeline_batch_size, sizes))
    plot_benchmark(rows, baseline, report.with_name("benchmarks.png"))
    (runs_dir / "benchmarks.json").write_text(json.dumps({"models": rows, "tfidf": baseline}, indent=2))
    print(report.read_text())
    return rows
