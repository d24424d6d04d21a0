"""The benchmark report: every shipped config trained on the same split, against TF-IDF + logistic regression.

Numbers come from real runs: each model trains in a child process whose wall time and peak resident memory are read
from the operating system (`os.wait4`), and pipeline throughput is measured on the validation headlines. With several
seeds (the Trainer's `seed`: weight initialisation, dropout and batch order; the 80/10/10 split stays seed 0) every
score is reported as mean ± sample standard deviation, because one run per config overstates what a number means.

The report owns one section of BENCHMARKS.md, between `SECTION_START` and `SECTION_END`; other harnesses write their
own sections into the same file and are left alone.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import pipeline

from hfnews.data.corpus import load_news_corpus
from hfnews.errors import HfnewsError
from hfnews.evaluation.plots import plot_benchmark
from hfnews.models.loading import load_model, load_tokenizer
from hfnews.training.report import METRICS_FILE


BENCHMARK_MODELS = ("cnn", "rnn", "birnn", "cnn_vectors", "rnn_vectors", "birnn_vectors", "bert")
TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
RUN_FILE = "bench_run.json"


SECTION_START = "<!-- benchmarks/bench.py: start -->"
SECTION_END = "<!-- benchmarks/bench.py: end -->"
SCORES = ("eval_accuracy", "eval_macro_f1", "test_accuracy", "test_macro_f1", "wall_seconds")


def train_in_child(model: str, output_dir: Path, source: str | None, seed: int) -> dict:
    """Run `scripts/train.py --model MODEL --seed SEED` in a child process; its wall time and peak RSS."""
    command = [sys.executable, str(TRAIN_SCRIPT), "--model", model, "--output_dir", str(output_dir)]
    command += ["--seed", str(seed)]
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


def collect_run(run_dir: Path, run: dict) -> dict:
    """One run's scores: the best epoch's validation numbers and the test numbers of that checkpoint."""
    report = json.loads((run_dir / METRICS_FILE).read_text())
    best = max(report["history"], key=lambda row: row["eval_accuracy"]) if report["history"] else {}
    return {
        "eval_accuracy": best.get("eval_accuracy"),
        "eval_macro_f1": best.get("eval_macro_f1"),
        "test_accuracy": report["test"]["accuracy"],
        "test_macro_f1": report["test"]["macro_f1"],
        "epochs": len(report["history"]),
        **run,
    }


def summarise_runs(model: str, runs: list[dict]) -> dict:
    """Mean of every score over the seeds, with `<score>_std` the sample standard deviation (0 for one run)."""
    row = {"model": model, "seeds": len(runs), "epochs": runs[0]["epochs"], "peak_rss_mib": runs[0]["peak_rss_mib"]}
    for name in SCORES:
        values = [run[name] for run in runs]
        row[name] = statistics.fmean(values)
        row[f"{name}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return row


def _cell(row: dict, name: str, bold: bool = False) -> str:
    mean = f"**{row[name]:.4f}**" if bold else f"{row[name]:.4f}"
    return f"{mean} ± {row[f'{name}_std']:.4f}" if row["seeds"] > 1 else mean


def render_report(rows: list[dict], baseline: dict, machine: str, command: str, batch_size: int, sizes: str) -> str:
    header = (
        "| model | seeds | valid acc | valid macro-F1 | test acc | test macro-F1 | epochs | train wall (s) "
        f"| peak RSS (MiB) | pipeline (headlines/s, batch {batch_size}) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [header]
    for row in sorted(rows, key=lambda row: -row["test_accuracy"]):
        lines.append(
            f"| `{row['model']}` | {row['seeds']} | {_cell(row, 'eval_accuracy')} | {_cell(row, 'eval_macro_f1')} | "
            f"{_cell(row, 'test_accuracy', bold=True)} | {_cell(row, 'test_macro_f1')} | {row['epochs']} | "
            f"{row['wall_seconds']:.0f} | {row['peak_rss_mib']} | {row['pipeline_per_second']:,} |"
        )
    lines.append(
        f"| TF-IDF + logistic regression (chapter 6) | - | {baseline['eval_accuracy']:.4f} | "
        f"{baseline['eval_macro_f1']:.4f} | **{baseline['test_accuracy']:.4f}** | {baseline['test_macro_f1']:.4f} | "
        f"- | {baseline['wall_seconds']:.0f} | - | - |"
    )
    return (
        f"{SECTION_START}\n## Models\n\n"
        f"Written by `{command}`. Machine: {machine}.\n\n"
        f"Every model trains from its config in `configs/` on the same 80/10/10 split (seed 0): {sizes} headlines.\n"
        "The checkpoint is the epoch with the best validation accuracy; test numbers are that checkpoint's. With\n"
        "several seeds (the Trainer's `seed`: initial weights, dropout, batch order), scores are mean ± sample\n"
        "standard deviation over the seeds, wall time is the mean, and throughput is the first seed's checkpoint.\n"
        "Wall time covers the whole `scripts/train.py` run (start-up, per-epoch evaluation on train and validation,\n"
        "checkpoints, test, plots); peak RSS is that process's.\n\n"
        + "\n".join(lines)
        + f"\n\n![test accuracy per model](benchmarks.png)\n{SECTION_END}\n"
    )


def write_section(report: Path, section: str) -> None:
    """Put `section` (which starts with SECTION_START and ends with SECTION_END) into `report`, replacing the old one
    and keeping every other section; a new report starts with a `# Benchmarks` title."""
    text = report.read_text() if report.exists() else "# Benchmarks\n\n"
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        text = before + section.rstrip("\n") + rest.split(SECTION_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    report.write_text(text)


def run_benchmark(
    models: list[str],
    *,
    source: str | None,
    runs_dir: str | Path,
    report: str | Path,
    seeds: list[int] = (0,),
    retrain: bool = False,
    pipeline_batch_size: int = 64,
) -> list[dict]:
    """Train (or reuse) each model once per seed, measure it, and write the report's section and its chart.

    Runs go to `runs_dir/MODEL/seed-S`; a finished run (metrics and wall time recorded) is reused unless `retrain`.
    """
    if not seeds:
        raise HfnewsError("pass at least one seed")
    runs_dir = Path(runs_dir)
    dataset = load_news_corpus(source).dataset
    texts = list(dataset["validation"]["text"])
    rows = []
    for model in tqdm(models, desc="benchmark", unit="model"):
        runs = []
        for seed in seeds:
            run_dir = runs_dir / model / f"seed-{seed}"
            done = (run_dir / METRICS_FILE).exists() and (run_dir / RUN_FILE).exists()
            run = json.loads((run_dir / RUN_FILE).read_text()) if done and not retrain else None
            if run is None:
                run = train_in_child(model, run_dir, source, seed)
            runs.append(collect_run(run_dir, run))
        row = summarise_runs(model, runs)
        first = runs_dir / model / f"seed-{seeds[0]}"
        row["pipeline_per_second"] = round(pipeline_throughput(first, texts, pipeline_batch_size))
        rows.append(row)
        tqdm.write(
            f"{model}: test accuracy {row['test_accuracy']:.4f} ± {row['test_accuracy_std']:.4f} over "
            f"{len(seeds)} seed(s), {row['wall_seconds']:.0f}s per run"
        )
    baseline = tfidf_baseline(dataset)
    report = Path(report)
    command = "python benchmarks/bench.py" + (f" --source {source}" if source else "")
    if list(seeds) != [0]:
        command += " --seeds " + " ".join(map(str, seeds))
    sizes = " / ".join(f"{len(dataset[split]):,} {split}" for split in dataset)
    section = render_report(rows, baseline, machine_description(), command, pipeline_batch_size, sizes)
    write_section(report, section)
    plot_benchmark(rows, baseline, report.with_name("benchmarks.png"))
    (runs_dir / "benchmarks.json").write_text(json.dumps({"models": rows, "tfidf": baseline}, indent=2))
    print(section)
    return rows
