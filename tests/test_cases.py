"""Each input case of `../shared/cases/` read as its README says it must be.

The cases hold real rows of `../shared/data/newsCorpora-dev.csv` rewritten in each layout, so the right result is
checked against that file rather than against rows copied here: every (category, title) read must be a row of it
exactly as written there, and every row of the case must be read.
"""

import codecs
import csv
import functools
from pathlib import Path

import pytest
from helpers import DEV_CSV, SHARED_DATA, requires_shared_data

from hfnews.data.corpus import load_news_corpus
from hfnews.data.rows import CATEGORIES
from hfnews.data.sources import read_source


CASES = SHARED_DATA.parent / "cases"
NLP100_CASES = ["nlp100_pandas_quoted", "nlp100_crlf", "nlp100_title_first", "nlp100_header", "nlp100_index_column"]
NLP100_CASES += ["nlp100_trailing_blank"]

requires_cases = pytest.mark.skipif(not CASES.is_dir(), reason=f"needs the input cases in {CASES} (see its README)")
pytestmark = [requires_cases, requires_shared_data]


@functools.cache
def _dev_rows() -> dict[int, list[str]]:
    """The rows of the development file by ID, split on tabs as the official format says."""
    with open(DEV_CSV, encoding="utf-8") as stream:
        return {int(fields[0]): fields for fields in (line.rstrip("\n").split("\t") for line in stream)}


def _rows_in_case(folder: Path) -> dict[str, int]:
    """Rows per split file of a case: its non-blank lines less a header line (a line naming the columns)."""
    counts = {}
    for name, split in (("train.txt", "train"), ("valid.txt", "validation"), ("test.txt", "test")):
        lines = [line for line in (folder / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        counts[split] = len(lines) - (lines[0].split("\t")[-1].upper() == "TITLE")
    return counts


@pytest.mark.parametrize("case", NLP100_CASES)
def test_nlp100_case_reads_every_row_as_written_in_the_corpus(case):
    dev_pairs = {(fields[4], fields[1]) for fields in _dev_rows().values()}
    rows = read_source(CASES / case)
    assert rows.splits == _rows_in_case(CASES / case) and rows.skipped == []
    read = list(zip(rows.columns["category"], rows.columns["title"]))
    assert set(read) <= dev_pairs, "a title or a label was changed on the way"
    assert any('"' in title for _, title in read), "the case holds titles with quotes; they must come back with them"


def test_every_nlp100_case_gives_the_same_dataset_dict():
    first = load_news_corpus(CASES / NLP100_CASES[0]).dataset
    expected = [
        (CATEGORIES[label], text) for split in first.values() for label, text in zip(split["label"], split["text"])
    ]
    for case in NLP100_CASES[1:]:
        rows = read_source(CASES / case)
        assert list(zip(rows.columns["category"], rows.columns["title"])) == expected
        assert rows.splits == {split: len(first[split]) for split in first}


def test_corpus_with_byte_order_mark_reads_the_same_rows_as_without(tmp_path):
    case = CASES / "corpus_bom" / "newsCorpora.csv"
    assert case.read_bytes().startswith(codecs.BOM_UTF8)
    plain = tmp_path / "newsCorpora.csv"
    plain.write_bytes(case.read_bytes().removeprefix(codecs.BOM_UTF8))
    read = read_source(case)
    assert read.columns == read_source(plain).columns and read.rows_read == len(read) > 0
    dev = _dev_rows()
    assert read.columns["title"] == [dev[row_id][1] for row_id in read.columns["id"]]


def test_kaggle_csv_reads_the_same_rows_as_the_official_layout(tmp_path):
    case = CASES / "kaggle_csv" / "uci-news-aggregator.csv"
    with open(case, encoding="utf-8", newline="") as stream:
        ids = [int(record[0]) for record in list(csv.reader(stream))[1:]]
    dev = _dev_rows()
    # The same rows in the official tab-separated layout, taken from the development file by ID.
    official = tmp_path / "newsCorpora.csv"
    official.write_text("".join("\t".join(dev[row_id]) + "\n" for row_id in ids), encoding="utf-8")
    read = read_source(case)
    assert read.columns == read_source(official).columns and read.rows_read == len(ids) > 0


def test_kaggle_csv_saved_through_a_spreadsheet_reads_its_rows_and_says_the_timestamps_are_rounded(tmp_path):
    case = CASES / "kaggle_csv" / "uci-news-aggregator.csv"
    with open(case, encoding="utf-8", newline="") as stream:
        records = list(csv.reader(stream))
    # What a spreadsheet writes back: TIMESTAMP as a rounded number in scientific notation.
    for record in records[1:]:
        record[7] = f"{float(record[7]):.2E}"
    spreadsheet = tmp_path / "uci-news-aggregator.csv"
    with open(spreadsheet, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, lineterminator="\r\n").writerows(records)
    original, saved = read_source(case), read_source(spreadsheet)
    for column in ("id", "title", "category", "publisher", "story"):
        assert saved.columns[column] == original.columns[column]
    assert saved.columns["timestamp"] == [int(float(f"{value:.2E}")) for value in original.columns["timestamp"]]
    (note,) = [line for line in saved.layout if "TIMESTAMP" in line]
    assert f"{len(records) - 1:,} TIMESTAMP value(s) in a spreadsheet's rounded notation" in note
    assert "not exact" in note
