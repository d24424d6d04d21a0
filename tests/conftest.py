"""Fixtures every test gets: offline Hugging Face libraries and a per-test cache; shared helpers live in helpers.py."""

import os
from pathlib import Path

import pytest
from helpers import KEPT_PUBLISHERS, TINY_TITLES, corpus_line


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test's prepared corpora and downloads out of the user's cache and out of other tests."""
    cache = tmp_path_factory.mktemp("hfnews-cache")
    monkeypatch.setenv("HFNEWS_CACHE", str(cache))
    monkeypatch.delenv("HFNEWS_SOURCE", raising=False)
    return cache


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """A newsCorpora.csv with 40 rows of the five kept publishers and 8 rows of others."""
    lines = [
        corpus_line(i + 1, category, title, KEPT_PUBLISHERS[i % 5])
        for i, (category, title) in enumerate(TINY_TITLES + TINY_TITLES[:8])
    ]
    lines += [corpus_line(100 + i, "b", f"Other publisher headline {i}", "Los Angeles Times") for i in range(8)]
    path = tmp_path / "newsCorpora.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def one_thread():
    """In-process training on one torch thread, as each training subprocess of the tests gets: on a busy 2-core
    machine two threads per process wait on each other, and one thread gives the same numbers on every machine."""
    import torch  # here, so that tests that never train do not pay for importing torch through conftest

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
