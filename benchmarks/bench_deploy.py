"""Deploying trained checkpoints: ONNX export, onnxruntime and int8 against torch, in bulk and served over HTTP.

    python benchmarks/bench_deploy.py --models runs/cnn runs/rnn runs/bert --repeats 3

For each checkpoint (trained on the dev corpus, so that its `test_predictions.jsonl` holds the test split):
1. export with `hfnews.inference.export.export_onnx(..., quantize="int8")`: seconds, and size on disk of the
   safetensors, `model.onnx` and `int8/model.onnx`;
2. test accuracy of torch, ONNX and int8 on the test split, labels that differ from torch's, max score difference;
3. bulk throughput (headlines/s, tokenization included, batch 64) of torch, ONNX and int8, one torch thread and one
   onnxruntime intra-op thread, alternating run by run (torch, onnx, int8, torch, ...), median of `--repeats`;
4. served throughput and latency: `scripts/serve.py --threads 1` for each backend, all three up at once, loaded in
   turn by `hfnews.inference.load_test.run_load` (16 clients, 8 headlines per request), `--repeats` rounds.

Prints the tables and writes them into BENCHMARKS.md as its "Deploy" section (the rest of the file is left alone).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from speed import machine, write_section

from hfnews.inference.backends import TorchClassifier
from hfnews.inference.export import export_onnx
from hfnews.inference.load_test import LoadResult, run_load
from hfnews.inference.onnx_backend import OnnxClassifier


ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Deploy"
BATCH_SIZE = 64  # issue 21's measurement; predict.py's default is 256
BULK_HEADLINES = 4000  # the test split repeated to about this many (CNN and RNN); BERT reads the split once
CLIENTS, TEXTS_PER_REQUEST = 16, 8


def test_split(folder: Path) -> tuple[list[str], list[str]]:
    """The texts and gold labels of the checkpoint's test split (its `test_predictions.jsonl`)."""
    records = [json.loads(line) for line in (folder / "test_predictions.jsonl").read_text().splitlines()]
    return [record["text"] for record in records], [record["gold"] for record in records]


def throughput(classifier, texts: list[str]) -> float:
    """Headlines per second of one `top_labels` call over `texts`."""
    start = time.perf_counter()
    classifier.top_labels(texts, batch_size=BATCH_SIZE)
    return len(texts) / (time.perf_counter() - start)


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    """`scripts/serve.py --threads 1 --port 0` on `folder`; returns the process and its URL once it serves."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "serve.py"), "--model", str(folder), "--port", "0", "--threads", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    for line in process.stdout:
        if line.startswith("serving"):
            return process, line.split()[-1]
    raise RuntimeError(f"serve.py on {folder} exited with {process.wait()}")


def bench_model(folder: Path, work: Path, repeats: int) -> dict:
    texts, gold = test_split(folder)
    start = time.perf_counter()
    result = export_onnx(str(folder), work / f"{folder.name}-onnx", quantize="int8")
    export_seconds = time.perf_counter() - start
    sides = {
        "torch": TorchClassifier(str(folder)),
        "onnx": OnnxClassifier(result.output_dir, threads=1),
        "int8": OnnxClassifier(result.quantized_dir, threads=1),
    }
    labels = {name: [best for (best,) in side.top_labels(texts)] for name, side in sides.items()}
    row = {
        "model": folder.name,
        "export_s": export_seconds,
        "size_mib": {
            "torch": (folder / "model.safetensors").stat().st_size / 2**20,
            "onnx": (result.output_dir / "model.onnx").stat().st_size / 2**20,
            "int8": (result.quantized_dir / "model.onnx").stat().st_size / 2**20,
        },
        "accuracy": {
            name: statistics.mean(lab == g for (lab, _), g in zip(pairs, gold)) for name, pairs in labels.items()
        },
        "changed": {name: sum(a[0] != b[0] for a, b in zip(pairs, labels["torch"])) for name, pairs in labels.items()},
        "score_diff": {
            name: max(abs(a[1] - b[1]) for a, b in zip(pairs, labels["torch"])) for name, pairs in labels.items()
        },
        "test_rows": len(texts),
    }
    bulk = texts * max(1, BULK_HEADLINES // len(texts)) if folder.name != "bert" else texts
    rates = {name: [] for name in sides}
    for _ in range(repeats):
        for name, side in sides.items():
            rates[name].append(throughput(side, bulk))
    row["bulk"] = {name: statistics.median(values) for name, values in rates.items()}
    row["bulk_rows"] = len(bulk)
    servers = {name: start_server(folder if name == "torch" else side.folder) for name, side in sides.items()}
    requests = 20 if folder.name != "bert" else 6
    served = {name: [] for name in sides}
    try:
        for _ in range(repeats):
            for name, (_, url) in servers.items():
                load = run_load(url, texts, CLIENTS, requests, TEXTS_PER_REQUEST, timeout_s=600)
                assert not load.failures, load.failures[:3]
                served[name].append(load)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()
    row["served"] = {}
    for name, loads in served.items():
        latencies = [ms for load in loads for ms in load.latencies_ms]
        pooled = LoadResult(0, [], 1.0, latencies, TEXTS_PER_REQUEST)
        row["served"][name] = {
            "rate": statistics.median(load.headlines_per_second for load in loads),
            **{f"p{q}": pooled.percentile(q) for q in (50, 90, 99)},
        }
    row["served_requests"] = CLIENTS * requests
    return row


def render(rows: list[dict], repeats: int, command: str) -> str:
    lines = [
        SECTION,
        "",
        f"Written by `{command}`. Machine: {machine()}; onnxruntime with one intra-op thread, torch with one thread "
        f"(`torch.set_num_threads(1)`, `serve.py --threads 1`). Torch, ONNX and int8 runs alternate run by run and "
        f"each figure is the median of {repeats}; the machine is shared with other jobs, so read the ratios measured "
        "side by side rather than the absolute figures. Accuracy is on each checkpoint's dev-corpus test split.",
        "",
        "| model | export (s) | size torch / onnx / int8 (MiB) | test acc torch / onnx / int8 | labels changed "
        "onnx / int8 | max score diff onnx / int8 |",
        "|---|---:|---|---|---|---|",
    ]
    for r in rows:
        size, acc, changed, diff = r["size_mib"], r["accuracy"], r["changed"], r["score_diff"]
        lines.append(
            f"| {r['model']} | {r['export_s']:.1f} | {size['torch']:.2f} / {size['onnx']:.2f} / {size['int8']:.2f} | "
            f"{acc['torch']:.4f} / {acc['onnx']:.4f} / {acc['int8']:.4f} | {changed['onnx']} / {changed['int8']} of "
            f"{r['test_rows']:,} | {diff['onnx']:.1e} / {diff['int8']:.1e} |"
        )
    lines += [
        "",
        f"Bulk: headlines/s of `top_labels` (tokenization included), batch {BATCH_SIZE}.",
        "",
        "| model | headlines | torch | onnx | int8 | onnx / torch | int8 / torch |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        b = r["bulk"]
        lines.append(
            f"| {r['model']} | {r['bulk_rows']:,} | {b['torch']:,.0f} | {b['onnx']:,.0f} | {b['int8']:,.0f} | "
            f"{b['onnx'] / b['torch']:.2f} | {b['int8'] / b['torch']:.2f} |"
        )
    lines += [
        "",
        f"Served: `scripts/serve.py` on loopback, {CLIENTS} concurrent clients, {TEXTS_PER_REQUEST} headlines per "
        "request; headlines/s and request latency percentiles (ms, pooled over the rounds).",
        "",
        "| model | requests | backend | headlines/s | p50 | p90 | p99 | vs torch |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        for name, s in r["served"].items():
            ratio = s["rate"] / r["served"]["torch"]["rate"]
            lines.append(
                f"| {r['model']} | {r['served_requests']} x {repeats} | {name} | {s['rate']:,.0f} | {s['p50']:.0f} | "
                f"{s['p90']:.0f} | {s['p99']:.0f} | {ratio:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True, help="checkpoint folders trained on the dev corpus")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side (the median counts)")
    parser.add_argument("--report", default=str(ROOT / "BENCHMARKS.md"), help="Markdown file to write into")
    cli = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as work:
        rows = [bench_model(Path(folder), Path(work), cli.repeats) for folder in cli.models]
    section = render(rows, cli.repeats, "python benchmarks/bench_deploy.py " + " ".join(sys.argv[1:]))
    print(section)
    write_section(Path(cli.report), section, SECTION)


if __name__ == "__main__":
    main()
