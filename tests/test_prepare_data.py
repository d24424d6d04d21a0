"""scripts/prepare_data.py from the cache: an output folder that already holds the cached corpus is checked and kept,
a damaged or missing one is copied again from the entry, and neither imports `datasets`; the block reader of
`newsCorpora.csv` gives what reading line by line gives."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DAMAGES, KEPT_PUBLISHERS, corpus_line

from hfnews.data import sources
from hfnews.data.corpus import count_title_leakage, format_split_table, load_news_corpus, load_prepared_corpus
from hfnews.data.corpus_cache import CorpusOptions, copy_saved_corpus, locate_corpus, read_report
from hfnews.data.sources import read_source
from hfnews.errors import HfnewsError


REPO = Path(__file__).resolve().parents[1]
# Runs the real script in this interpreter, then says which heavy libraries it loaded.
RUN_SCRIPT = """import runpy, sys
sys.argv = ["prepare_data.py", *sys.argv[1:]]
runpy.run_path({script!r}, run_name="__main__")
print(sorted(name for name in ("datasets", "torch", "transformers") if name in sys.modules))
"""


def run_script(source: Path, output_dir: Path) -> tuple[list[str], list[str]]:
    """stdout of scripts/prepare_data.py in a fresh interpreter, and the heavy modules it imported."""
    code = RUN_SCRIPT.format(script=str(REPO / "scripts" / "prepare_data.py"))
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{code}", "--source", str(source),
         "--output_dir", str(output_dir)], capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    *printed, imported = done.stdout.splitlines()
    return printed, json.loads(imported.replace("'", '"'))


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.slow  # spawns the script three times
def test_cache_hit_keeps_an_intact_output_and_recopies_a_damaged_one_without_datasets(tiny_csv, tmp_path):
    out = tmp_path / "out"
    cold, imported = run_script(tiny_csv, out)
    assert "datasets" in imported and cold[-1] == f"prepared corpus saved to {out}"
    written = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()}
    expected = files_of(out)

    cached, imported = run_script(tiny_csv, out)
    assert imported == []  # neither datasets nor the model stack
    assert cached == [*cold[:-1], f"reused cached corpus saved to {out}"]  # the same table and leakage counts
    assert {path: path.stat().st_mtime_ns for path in written} == written  # nothing rewritten

    (arrow,) = out.glob("train/data-*.arrow")
    DAMAGES["truncated"](arrow)
    (out / "nlp100" / "test.txt").unlink()
    again, imported = run_script(tiny_csv, out)
    assert imported == [] and again == cached
    assert files_of(out) == expected
    assert load_prepared_corpus(out)["train"].num_rows == 32


@pytest.mark.parametrize("damage", [*DAMAGES, "same size, other bytes"])
def test_copy_saved_corpus_trusts_only_files_with_the_recorded_checksum(tiny_csv, tmp_path, damage):
    corpus = load_news_corpus(tiny_csv)
    entry = locate_corpus(CorpusOptions(tiny_csv))
    out = tmp_path / "out"
    assert copy_saved_corpus(entry.folder, out) == len(files_of(entry.folder / "dataset"))
    assert files_of(out) == files_of(entry.folder / "dataset")
    assert copy_saved_corpus(entry.folder, out) == 0  # intact: nothing copied
    (arrow,) = out.glob("train/data-*.arrow")
    if damage in DAMAGES:
        DAMAGES[damage](arrow)
    else:
        data = bytearray(arrow.read_bytes())
        data[-1] ^= 0xFF
        arrow.write_bytes(bytes(data))
    assert copy_saved_corpus(entry.folder, out) == 1
    assert load_prepared_corpus(out)["train"]["text"][:] == corpus.dataset["train"]["text"][:]


def test_cache_entry_records_the_printed_summary(tiny_csv):
    dataset = load_news_corpus(tiny_csv).dataset
    report = read_report(locate_corpus(CorpusOptions(tiny_csv)).folder)
    assert report["split_table"] == format_split_table(dataset)
    assert report["leakage"] == count_title_leakage(dataset)
    assert list(report["leakage"]) == ["validation", "test"]
    assert report["rows_read"] == 48 and report["skipped"] == []


def test_corpus_options_check_group_by_before_the_layout_options(tiny_csv):
    with pytest.raises(HfnewsError, match="group_by must be one of none, story, got 'topic'"):
        CorpusOptions(tiny_csv, group_by="topic", quoting="unknown")
    with pytest.raises(HfnewsError, match="quoting"):
        CorpusOptions(tiny_csv, quoting="unknown")


# --- reading newsCorpora.csv in blocks ---------------------------------------------------------------------------


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    """90 rows of kept and other publishers; a CRLF row, a blank line and a non-ASCII title fall in later blocks."""
    publishers = [*KEPT_PUBLISHERS, "Los Angeles Times", "Reuters UK"]
    lines = [corpus_line(i, "btem"[i % 4], f"Headline number {i}", publishers[i % 7]) for i in range(1, 91)]
    lines[40] = lines[40].replace("\n", "\r\n")
    lines[60] = "\n"
    lines[70] = corpus_line(71, "e", "Beyoncé à Paris", "Daily Mail")
    path = tmp_path / "newsCorpora.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


def test_block_reader_gives_what_the_line_reader_gives(mixed_csv, monkeypatch):
    whole = read_source(mixed_csv)  # one block
    monkeypatch.setattr(sources, "_BLOCK", 500)  # ~6 lines a block: most blocks regular, some read line by line
    blocks = read_source(mixed_csv)
    assert blocks.columns == whole.columns and blocks.rows_read == whole.rows_read == 89
    assert len(whole) == sum(i % 7 < 5 for i in range(1, 91))  # the five kept publishers (line 61 was not one)
    assert "Beyoncé à Paris" in whole.columns["title"]


def test_block_reader_names_the_line_of_a_bad_row_in_a_later_block(mixed_csv, monkeypatch):
    text = mixed_csv.read_text(encoding="utf-8").replace("\t1394470370080\n", "\t139447037x080\n")  # row 80
    mixed_csv.write_text(text, encoding="utf-8")
    monkeypatch.setattr(sources, "_BLOCK", 500)
    with pytest.raises(sources.MalformedRowError, match=r"newsCorpora.csv, line 80: timestamp '139447037x080' is not"):
        read_source(mixed_csv)
    skipped = read_source(mixed_csv, skip_malformed=True)
    assert skipped.rows_read == 88 and len(skipped.skipped) == 1


def test_a_corpus_whose_split_leaves_a_split_empty_is_one_error(tmp_path):
    # 3 kept rows: 80/10/10 leaves validation empty, which nothing could train or score on.
    titles = ["Fed holds rates", "Apple unveils iPhone", "Ebola outbreak spreads"]
    source = tmp_path / "newsCorpora.csv"
    source.write_text("".join(corpus_line(i + 1, "b", title, KEPT_PUBLISHERS[0]) for i, title in enumerate(titles)))
    with pytest.raises(HfnewsError, match=r"leaves validation empty \(train 2, validation 0, test 1 rows\)"):
        load_news_corpus(source, cache_dir=tmp_path / "cache")
