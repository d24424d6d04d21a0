import functools
import http.server
import subprocess
import sys
import threading
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from helpers import DEV_CSV, DEV_ZIP, corpus_line, requires_shared_data

from hfnews.data import corpus as data
from hfnews.data import sources
from hfnews.data.corpus import LABEL_NAMES, count_title_leakage, load_news_corpus, save_corpus
from hfnews.data.download import ChecksumError
from hfnews.data.sources import MalformedRowError
from hfnews.errors import HfnewsError


REPO = Path(__file__).resolve().parents[1]


def _texts(dataset, split):
    return list(zip(dataset[split]["text"], dataset[split]["label"]))


def test_load_news_corpus_tiny_splits_80_10_10_with_class_labels(tiny_csv):
    corpus = load_news_corpus(tiny_csv)
    dataset = corpus.dataset
    assert {name: len(dataset[name]) for name in dataset} == {"train": 32, "validation": 4, "test": 4}
    assert corpus.rows_read == 48 and not corpus.from_cache
    assert dataset["train"].features["label"].names == list(LABEL_NAMES)
    assert dataset["train"].column_names[:2] == ["text", "label"]
    assert {"id", "publisher", "story", "url", "hostname", "timestamp"} <= set(dataset["train"].column_names)
    # Only the five publishers are kept, and no row is lost or duplicated across splits.
    ids = [i for split in dataset for i in dataset[split]["id"]]
    assert sorted(ids) == list(range(1, 41))
    assert "Los Angeles Times" not in {p for split in dataset for p in dataset[split]["publisher"]}


def test_load_news_corpus_same_seed_same_split_other_seed_other_split(tiny_csv, tmp_path):
    first = load_news_corpus(tiny_csv, seed=3, cache_dir=tmp_path / "a").dataset
    again = load_news_corpus(tiny_csv, seed=3, cache_dir=tmp_path / "b").dataset
    other = load_news_corpus(tiny_csv, seed=4, cache_dir=tmp_path / "a").dataset
    assert first["train"]["id"] == again["train"]["id"]
    assert first["train"]["id"] != other["train"]["id"]


def test_load_news_corpus_label_ids_follow_btem(tiny_csv):
    dataset = load_news_corpus(tiny_csv).dataset
    by_title = {text: label for split in dataset for text, label in _texts(dataset, split)}
    assert by_title["Oil prices fall on weak demand from China"] == 0
    assert by_title["NASA probe sends new images of Mars"] == 1
    assert by_title["Kanye West album tops the chart"] == 2
    assert by_title["Measles cases rise as vaccine rates drop"] == 3


def test_load_news_corpus_reuses_cache_keyed_by_content_and_options(tiny_csv):
    assert not load_news_corpus(tiny_csv).from_cache
    assert load_news_corpus(tiny_csv).from_cache
    assert not load_news_corpus(tiny_csv, seed=1).from_cache
    with open(tiny_csv, "a", encoding="utf-8") as stream:
        stream.write(corpus_line(999, "m", "A new row changes the content", "Reuters"))
    changed = load_news_corpus(tiny_csv)
    assert not changed.from_cache
    assert sum(len(changed.dataset[s]) for s in changed.dataset) == 41


def test_quote_leading_titles_are_kept_verbatim(tmp_path):
    lines = [corpus_line(i, "e", f'"Quoted" headline number {i}', "Daily Mail") for i in range(1, 11)]
    lines[3] = corpus_line(4, "e", '"Unclosed quote spans nothing', "Daily Mail")
    path = tmp_path / "newsCorpora.csv"
    path.write_text("".join(lines), encoding="utf-8")
    dataset = load_news_corpus(path).dataset
    titles = {t for split in dataset for t in dataset[split]["text"]}
    assert len(titles) == 10 and '"Unclosed quote spans nothing' in titles


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("7\tOnly three\tfields\n", "3 tab-separated fields, expected 8"),
        (corpus_line(7, "x", "Bad category", "Reuters"), "unknown category 'x'"),
        (corpus_line(7, "b", "Bad id", "Reuters").replace("7\t", "7a\t", 1), "ID '7a' is not a number"),
        (corpus_line(7, "b", "Bad time", "Reuters").rstrip("\n") + "x\n", "is not a number"),
    ],
)
def test_malformed_row_names_file_line_and_problem(tiny_csv, line, message):
    rows = tiny_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    rows.insert(5, line)
    tiny_csv.write_text("".join(rows), encoding="utf-8")
    with pytest.raises(MalformedRowError, match=rf"{tiny_csv}, line 6: .*{message}"):
        load_news_corpus(tiny_csv)
    skipped = load_news_corpus(tiny_csv, skip_malformed=True)
    assert len(skipped.skipped) == 1 and "line 6" in skipped.skipped[0]
    assert sum(len(skipped.dataset[s]) for s in skipped.dataset) == 40


def test_non_utf8_bytes_are_an_error_or_skipped(tiny_csv):
    with open(tiny_csv, "ab") as stream:
        stream.write(corpus_line(200, "b", "Caf\u00e9", "Reuters").encode("latin-1"))
    with pytest.raises(MalformedRowError, match="line 49: bytes that are not UTF-8"):
        load_news_corpus(tiny_csv)
    assert load_news_corpus(tiny_csv, skip_malformed=True).skipped[0].endswith("bytes that are not UTF-8 at byte 7")


def test_source_without_kept_publishers_is_an_error(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text(corpus_line(1, "b", "Elsewhere", "Los Angeles Times"), encoding="utf-8")
    with pytest.raises(ValueError, match="no row of the publishers"):
        load_news_corpus(path)


def test_missing_source_and_archive_without_csv_are_clear_errors(tmp_path):
    with pytest.raises(HfnewsError, match="corpus source not found"):
        load_news_corpus(tmp_path / "absent.zip")
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
        zf.writestr("__MACOSX/._newsCorpora.csv", "resource fork, not the corpus")
    with pytest.raises(HfnewsError, match="holds no newsCorpora.csv"):
        load_news_corpus(archive)


def test_zip_is_read_in_place_ignoring_macosx(tiny_csv, tmp_path):
    archive = tmp_path / "NewsAggregatorDataset.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("__MACOSX/._newsCorpora.csv", b"\x00\x05\x16\x07 not text")
        zf.write(tiny_csv, "newsCorpora.csv")
    from_zip = load_news_corpus(archive).dataset
    from_csv = load_news_corpus(tiny_csv).dataset
    assert all(from_zip[s].to_dict() == from_csv[s].to_dict() for s in data.SPLITS)
    assert not (tmp_path / "newsCorpora.csv").exists() or tiny_csv == tmp_path / "newsCorpora.csv"


def test_official_size_file_with_wrong_digest_is_rejected(tiny_csv, monkeypatch):
    monkeypatch.setattr(sources, "OFFICIAL_CSV_SIZE", tiny_csv.stat().st_size)
    with pytest.raises(ChecksumError, match="has the official size but SHA-256"):
        load_news_corpus(tiny_csv)


def test_group_by_story_keeps_each_story_in_one_split(tiny_csv, tmp_path):
    # 20 stories of 2 titles each, so every split gets whole stories (the 7 of tiny_csv leave test empty).
    lines = tiny_csv.read_text(encoding="utf-8").splitlines(keepends=True)[:40]
    source = tmp_path / "stories" / "newsCorpora.csv"
    source.parent.mkdir()
    fields = [line.split("\t") for line in lines]
    source.write_text("".join("\t".join([*f[:5], f"story{i % 20}", *f[6:]]) for i, f in enumerate(fields)))
    dataset = load_news_corpus(source, group_by="story").dataset
    assert all(len(split) for split in dataset.values())
    stories = {split: set(dataset[split]["story"]) for split in dataset}
    assert not stories["train"] & stories["validation"]
    assert not stories["train"] & stories["test"]
    assert not stories["validation"] & stories["test"]
    with pytest.raises(ValueError, match="group_by must be one of"):
        load_news_corpus(tiny_csv, group_by="publisher")


def test_save_corpus_writes_nlp100_files_that_read_back_as_a_source(tiny_csv, tmp_path):
    dataset = load_news_corpus(tiny_csv).dataset
    out = save_corpus(dataset, tmp_path / "prepared")
    train_lines = (out / "nlp100" / "train.txt").read_text(encoding="utf-8").splitlines()
    assert len(train_lines) == 32
    assert train_lines[0] == f"{'btem'[dataset['train'][0]['label']]}\t{dataset['train'][0]['text']}"
    again = load_news_corpus(out / "nlp100").dataset
    assert all(_texts(again, s) == _texts(dataset, s) for s in data.SPLITS)
    assert data.load_prepared_corpus(out)["test"]["text"] == dataset["test"]["text"]


def test_load_prepared_corpus_rejects_folders_without_the_columns(tmp_path, tiny_csv):
    with pytest.raises(HfnewsError, match="is not a prepared corpus"):
        data.load_prepared_corpus(tmp_path)
    dataset = load_news_corpus(tiny_csv).dataset.rename_column("text", "title")
    dataset.save_to_disk(str(tmp_path / "renamed"))
    with pytest.raises(ValueError, match="lacks the column"):
        data.load_prepared_corpus(tmp_path / "renamed")


def test_split_indices_partition_every_row():
    parts = data.split_indices(101, seed=0)
    assert [len(parts[s]) for s in data.SPLITS] == [80, 10, 11]
    assert sorted(i for s in data.SPLITS for i in parts[s]) == list(range(101))


# --- the real development rows in ../shared/data -------------------------------------------------------------------


@requires_shared_data
def test_real_dev_csv_counts():
    corpus = load_news_corpus(DEV_CSV)
    dataset = corpus.dataset
    assert corpus.rows_read == 18159
    assert [len(dataset[s]) for s in data.SPLITS] == [9616, 1202, 1202]
    counts = Counter(label for s in data.SPLITS for label in dataset[s]["label"])
    assert {LABEL_NAMES[k][0]: v for k, v in counts.items()} == {"b": 5061, "e": 4773, "s": 1373, "h": 813}
    leaks = count_title_leakage(dataset)
    assert 0 < leaks["validation"] < 1202 and 0 < leaks["test"] < 1202


@requires_shared_data
def test_real_dev_zip_and_csv_give_the_same_dataset_dict():
    from_zip = load_news_corpus(DEV_ZIP).dataset
    from_csv = load_news_corpus(DEV_CSV).dataset
    for split in data.SPLITS:
        assert from_zip[split]["id"] == from_csv[split]["id"]
        assert from_zip[split]["text"] == from_csv[split]["text"]


@requires_shared_data
def test_real_dev_csv_split_is_deterministic_and_pinned(tmp_path):
    first = load_news_corpus(DEV_CSV, cache_dir=tmp_path / "one").dataset
    second = load_news_corpus(DEV_CSV, cache_dir=tmp_path / "two").dataset
    assert first["test"]["id"] == second["test"]["id"]
    # Pinned: a change of shuffle would silently change every reported number.
    assert first["test"]["id"][:3] == [329619, 224724, 189506]


@requires_shared_data
def test_download_from_local_http_server_gives_the_same_corpus(tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(DEV_ZIP.parent))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{DEV_ZIP.name}"
        downloaded = load_news_corpus(url, cache_dir=tmp_path).dataset
    finally:
        server.shutdown()
        server.server_close()
    assert list((tmp_path / "downloads").iterdir())
    assert downloaded["train"]["id"] == load_news_corpus(DEV_CSV).dataset["train"]["id"]


@pytest.mark.slow
@requires_shared_data
def test_prepare_data_script_prints_counts_and_one_line_errors(tmp_path):
    script = [sys.executable, str(REPO / "scripts" / "prepare_data.py")]
    done = subprocess.run(
        [*script, "--source", str(DEV_CSV), "--output_dir", str(tmp_path / "out")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "9,616" in done.stdout and "titles also in train, verbatim: validation" in done.stdout
    assert (tmp_path / "out" / "nlp100" / "valid.txt").exists()
    failed = subprocess.run(
        [*script, "--source", str(tmp_path / "none.csv"), "--output_dir", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [f"error: corpus source not found: {tmp_path / 'none.csv'}"]
