"""The layouts of split files and corpus files that hfnews reads, on hand-written rows.

Each layout is written here the way the code that makes it writes it (pandas `to_csv`'s quoting is the `csv` module's
`QUOTE_MINIMAL` with a doubled quote; one test uses pandas itself), then read back through `read_source` or
`load_news_corpus`.
"""

import codecs
import csv
import io
import itertools
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import corpus_line

from hfnews.data.corpus import load_news_corpus
from hfnews.data.rows import LABEL_NAMES, category_code
from hfnews.data.sources import KAGGLE_HEADER, MalformedRowError, read_source
from hfnews.data.split_files import LayoutOptions
from hfnews.errors import HfnewsError


REPO = Path(__file__).resolve().parents[1]
# (category, title): inner quotes, a title that begins with a quote pair, a title that is one quoted phrase, a lone
# quote, commas, apostrophes and non-ASCII letters; each category at least once.
ROWS = [
    ("b", 'Latest "Game Of Thrones" Trailer Beats Forecasts'),
    ("t", '"Girls" Meets Genesis as Apple unveils the iPhone'),
    ("e", "Beyoncé and Jay-Z: Café tour, tickets at €100"),
    ("m", "Ebola outbreak spreads, WHO says"),
    ("b", 'Stocks rally as the 5" screen sells'),
    ("e", "'Frozen' tops the box office again"),
    ("t", '"Noah"'),
    ("m", "Étude: café au lait «sain» selon l'OMS"),
]
SPLITS = {"train.txt": ROWS[:5], "valid.txt": ROWS[5:7], "test.txt": ROWS[7:]}
LINE_ENDS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r"}


def _quoted(field: str, separator: str = "\t") -> str:
    """One field as pandas `to_csv` writes it: quoted (inner quotes doubled) when it holds a quote or the separator."""
    return '"' + field.replace('"', '""') + '"' if '"' in field or separator in field else field


def _write_split_file(path: Path, rows, *, title_first, header, index, pandas, line_end, bom, label_names=False):
    lines = []
    names = ["TITLE", "CATEGORY"] if title_first else ["CATEGORY", "TITLE"]
    if header:
        lines.append([""] * index + (names if label_names else [name.lower() for name in names]))
    for number, (category, title) in enumerate(rows):
        label = LABEL_NAMES["btem".index(category)].upper() if label_names else category
        cells = [_quoted(title) if pandas else title, label]
        lines.append([str(number)] * index + (cells if title_first else cells[::-1]))
    text = "".join("\t".join(cells) + line_end for cells in lines)
    path.write_bytes(codecs.BOM_UTF8 * bom + text.encode("utf-8"))


def _pairs(rows, start=0, stop=None):
    columns = rows.columns
    return list(zip(columns["category"], columns["title"]))[start:stop]


def _split_pairs(rows):
    """(category, title) pairs of each split, in file order."""
    bounds = list(itertools.accumulate(rows.splits.values(), initial=0))
    return [_pairs(rows, start, stop) for start, stop in itertools.pairwise(bounds)]


@pytest.mark.parametrize(
    ("title_first", "header", "index", "pandas", "line_end", "bom", "label_names"),
    list(
        itertools.product([False, True], [False, True], [False, True], [False, True], LINE_ENDS, [False, True], [0, 1])
    ),
)
def test_every_split_file_layout_reads_back_the_titles_and_labels_written(
    tmp_path, title_first, header, index, pandas, line_end, bom, label_names
):
    for name, rows in SPLITS.items():
        layout = {"title_first": title_first, "header": header, "index": index, "pandas": pandas}
        _write_split_file(
            tmp_path / name, rows, **layout, line_end=LINE_ENDS[line_end], bom=bom, label_names=label_names
        )
    read = read_source(tmp_path)
    assert _split_pairs(read) == list(SPLITS.values())
    assert read.skipped == [] and read.rows_read == len(ROWS)
    columns = "index<TAB>" * index + ("title<TAB>category" if title_first else "category<TAB>title")
    notes = read.layout[0].split(", ")
    assert notes[0] == f"train.txt: {columns}" and line_end in notes
    assert ("header line" in notes) == header and ("UTF-8 BOM" in notes) == bom
    # Three titles of train.txt hold a quote; pandas wrapped them, and the reader says it took the wrapping off.
    assert ("3 title(s) un-quoted" in notes) == pandas


@pytest.mark.parametrize(("index", "header", "pandas"), list(itertools.product([0, 1], [False, True], [False, True])))
def test_split_files_with_all_8_corpus_columns_keep_the_columns(tmp_path, index, header, pandas):
    publishers = ["Reuters", "Daily Mail"]
    for name, rows in SPLITS.items():
        lines = ["\t".join([""] * index + [column.upper() for column in KAGGLE_HEADER.split(",")]) + "\n"] * header
        for number, (category, title) in enumerate(rows):
            line = corpus_line(number + 1, category, _quoted(title) if pandas else title, publishers[number % 2])
            lines.append(f"{number}\t" * index + line)
        (tmp_path / name).write_text("".join(lines), encoding="utf-8")
    read = read_source(tmp_path)
    assert _split_pairs(read) == list(SPLITS.values())
    assert read.columns["id"][:3] == [1, 2, 3] and read.columns["publisher"][:2] == publishers
    assert read.columns["timestamp"][0] == 1394470370001
    assert read.layout[0].startswith("train.txt: " + "index, " * index + "8 newsCorpora columns")


def test_files_written_by_pandas_to_csv_read_back_exactly(tmp_path):
    pandas = pytest.importorskip("pandas")
    for number, (name, rows) in enumerate(SPLITS.items()):
        frame = pandas.DataFrame(rows, columns=["category", "title"])
        # Three of the ways public solutions call it: index and header, header only, neither (title first).
        if number == 0:
            frame.to_csv(tmp_path / name, sep="\t")
        elif number == 1:
            frame.to_csv(tmp_path / name, sep="\t", index=False, lineterminator="\r\n")
        else:
            frame[["title", "category"]].to_csv(tmp_path / name, sep="\t", index=False, header=False)
    assert _split_pairs(read_source(tmp_path)) == list(SPLITS.values())


def test_comma_separated_split_files_are_read_as_csv(tmp_path):
    for name, rows in SPLITS.items():
        lines = ["category,title"] + [f"{category},{_quoted(title, ',')}" for category, title in rows]
        (tmp_path / name.replace(".txt", ".csv")).write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_source(tmp_path)
    assert _split_pairs(read) == list(SPLITS.values())
    assert read.layout[0].startswith("train.csv: category,title (comma-separated), header line")


def test_blank_lines_anywhere_cr_line_ends_and_no_final_newline(tmp_path):
    for name, rows in SPLITS.items():
        body = "\r\r".join(f"{category}\t{title}" for category, title in rows)
        (tmp_path / name).write_bytes(("\r \r" + body).encode("utf-8"))  # blank lines first and between, none at end
    read = read_source(tmp_path)
    assert _split_pairs(read) == list(SPLITS.values())
    assert "CR, no final newline" in read.layout[0] and "6 blank line(s)" in read.layout[0]


@pytest.mark.parametrize("names", [("train.tsv", "val.tsv", "test.tsv"), ("Train.csv", "dev.txt", "test.txt")])
def test_validation_file_may_be_named_val_or_dev_with_any_extension(tmp_path, names):
    for name, rows in zip(names, SPLITS.values()):
        (tmp_path / name).write_text("".join(f"{c}\t{t}\n" for c, t in rows), encoding="utf-8")
    assert _split_pairs(read_source(tmp_path)) == list(SPLITS.values())


def test_two_files_for_one_split_or_none_are_clear_errors(tmp_path):
    for name in ("train.txt", "valid.txt", "dev.tsv", "test.txt"):
        (tmp_path / name).write_text("b\tA title\n", encoding="utf-8")
    with pytest.raises(HfnewsError, match=r"several validation files \(valid.txt, dev.tsv\); keep one"):
        read_source(tmp_path)
    (tmp_path / "test.txt").unlink()
    (tmp_path / "dev.tsv").unlink()
    with pytest.raises(HfnewsError, match="no test file"):
        read_source(tmp_path)


def test_label_names_in_any_case_and_common_spellings():
    assert [category_code(name) for name in LABEL_NAMES] == ["b", "t", "e", "m"]
    spellings = ["B", "Business", "Science and Technology", "science & technology", "Sci/Tech", "HEALTH", " e "]
    assert [category_code(value) for value in spellings] == ["b", "b", "t", "t", "t", "m", "e"]
    assert category_code("sports") is None and category_code("0") is None


def test_numeric_labels_are_one_error_naming_the_option_that_maps_them(tmp_path):
    for name, rows in SPLITS.items():
        (tmp_path / name).write_text("".join(f"{'btem'.index(c)}\t{t}\n" for c, t in rows), encoding="utf-8")
    with pytest.raises(HfnewsError) as error:
        read_source(tmp_path)
    message = str(error.value)
    assert "\n" not in message and "labels are numbers (0, 1" in message and "--numeric_labels b,t,e,m" in message
    read = read_source(tmp_path, layout=LayoutOptions(numeric_labels="b,t,e,m"))
    assert _split_pairs(read) == list(SPLITS.values())
    assert "numeric labels mapped by --numeric_labels b,t,e,m" in read.layout[0]
    shuffled = read_source(tmp_path, layout=LayoutOptions(numeric_labels=["health", "business", "t", "e"]))
    assert _pairs(shuffled)[:2] == [("m", ROWS[0][1]), ("b", ROWS[1][1])]
    with pytest.raises(HfnewsError, match="numeric_labels must name distinct categories"):
        LayoutOptions(numeric_labels="b,b,e,m")


def _merged_pandas_file(path: Path) -> None:
    """What pandas writes after reading a raw file with CSV quoting: the title that opened a quote swallowed the
    following lines up to the next quote, and `to_csv` wrote that record back quoted, over those lines."""
    path.write_text(
        'b\tFirst title\ne\t"Unclosed quote in a title\nm\tA swallowed title\nt\tLast swallowed"\nb\tAfter it\n'
        'e\t"Latest ""X"" Trailer"\n',
        encoding="utf-8",
    )


def test_a_record_that_pandas_merged_is_refused_with_file_and_lines_or_skipped(tmp_path):
    _merged_pandas_file(tmp_path / "train.txt")
    for name in ("valid.txt", "test.txt"):
        (tmp_path / name).write_text("b\tA title\n", encoding="utf-8")
    with pytest.raises(
        MalformedRowError, match=rf"{tmp_path / 'train.txt'}, line 2: a quoted title runs over lines 2-4"
    ):
        read_source(tmp_path)
    read = read_source(tmp_path, skip_malformed=True)
    assert _pairs(read, 0, 3) == [("b", "First title"), ("b", "After it"), ("e", 'Latest "X" Trailer')]
    assert len(read.skipped) == 1 and "lines 2-4" in read.skipped[0]


def test_the_merged_record_alone_also_tells_pandas_quoting(tmp_path):
    (tmp_path / "train.txt").write_text('b\tFirst title\ne\t"Swallows\nm\tthe next line"\n', encoding="utf-8")
    (tmp_path / "valid.txt").write_text('e\t"Girls" Meets Genesis\n', encoding="utf-8")  # raw: a real leading quote
    (tmp_path / "test.txt").write_text('e\t"Unclosed quote kept as written\n', encoding="utf-8")
    read = read_source(tmp_path, skip_malformed=True)
    assert _pairs(read) == [
        ("b", "First title"),
        ("e", '"Girls" Meets Genesis'),
        ("e", '"Unclosed quote kept as written'),
    ]
    assert "lines 2-3" in read.skipped[0]


def test_every_row_skipped_is_an_error_showing_the_first_skipped_lines(tmp_path, tiny_csv):
    tiny_csv.write_text("".join(f"{i}\tno other field\n" for i in range(1, 6)), encoding="utf-8")
    with pytest.raises(HfnewsError) as error:
        load_news_corpus(tiny_csv, skip_malformed=True)
    message = str(error.value)
    assert message.startswith(
        f"every row of {tiny_csv} was skipped as malformed (5 row(s)); the first: {tiny_csv}, line 1"
    )
    assert "line 3" in message and "line 4" not in message and "no row of the publishers" not in message
    folder = tmp_path / "split"
    folder.mkdir()
    _merged_pandas_file(folder / "train.txt")
    (folder / "valid.txt").write_text("b\tA title\n", encoding="utf-8")
    (folder / "test.txt").write_text('e\t"Never closed\n\nm\t"Open ""again\n', encoding="utf-8")
    with pytest.raises(HfnewsError, match=rf"every row of {folder / 'test.txt'} was skipped as malformed \(2 row"):
        load_news_corpus(folder, skip_malformed=True, quoting="pandas")


def test_overrides_settle_what_detection_cannot_tell(tmp_path):
    # Titles that are themselves category codes: either column could hold the category.
    for name in SPLITS:
        (tmp_path / name).write_text("b\tE\nt\tm\n", encoding="utf-8")
    with pytest.raises(HfnewsError, match="cannot tell which column holds the category.*--column_order"):
        read_source(tmp_path)
    assert _pairs(read_source(tmp_path, layout=LayoutOptions(column_order="title,category")), 0, 2) == [
        ("e", "b"),
        ("m", "t"),
    ]
    # A header line with names that are not recognised, and a raw title that really holds doubled quotes.
    for name in SPLITS:
        (tmp_path / name).write_text('klasse\tschlagzeile\nb\t"Stocks ""rally"""\ne\tFilm\nm\tFlu\n', encoding="utf-8")
    with pytest.raises(MalformedRowError, match="line 1: unknown category 'klasse'"):
        read_source(tmp_path)
    assert _pairs(read_source(tmp_path, layout=LayoutOptions(header=True)), 0, 1) == [("b", 'Stocks "rally"')]
    kept = read_source(tmp_path, layout=LayoutOptions(header=True, quoting="none"))
    assert _pairs(kept, 0, 1) == [("b", '"Stocks ""rally"""')]
    with pytest.raises(HfnewsError, match="quoting must be one of pandas, none"):
        LayoutOptions(quoting="csv")
    with pytest.raises(HfnewsError, match="describe a folder of split files"):
        read_source(tmp_path / "train.txt", layout=LayoutOptions(header=True))


def test_layout_options_are_part_of_the_cache_key(tmp_path):
    for name in SPLITS:
        (tmp_path / name).write_text('b\t"Stocks ""rally"""\n', encoding="utf-8")
    decoded = load_news_corpus(tmp_path)
    kept = load_news_corpus(tmp_path, quoting="none")
    assert not kept.from_cache and load_news_corpus(tmp_path, quoting="none").from_cache
    assert decoded.dataset["train"]["text"] == ['Stocks "rally"'] and kept.dataset["train"]["text"] == [
        '"Stocks ""rally"""'
    ]
    assert load_news_corpus(tmp_path).layout == decoded.layout  # the layout is reported from the cache too


# --- the corpus file ----------------------------------------------------------------------------------------------


def _corpus_rows(tiny_csv: Path) -> dict:
    return read_source(tiny_csv).columns


@pytest.mark.parametrize("change", ["crlf", "bom", "blank lines"])
def test_newscorpora_with_crlf_bom_or_blank_lines_reads_the_same_rows(tiny_csv, tmp_path, change):
    clean = _corpus_rows(tiny_csv)
    text = tiny_csv.read_text(encoding="utf-8")
    changed = {
        "crlf": text.replace("\n", "\r\n").encode("utf-8"),
        "bom": codecs.BOM_UTF8 + text.encode("utf-8"),
        "blank lines": ("\n" + text.replace("\n", "\n\n", 5) + "\n \n").encode("utf-8"),
    }[change]
    path = tmp_path / "changed" / "newsCorpora.csv"
    path.parent.mkdir()
    path.write_bytes(changed)
    assert read_source(path).columns == clean


def _kaggle_text(rows: list[list[str]], line_end: str = "\r\n") -> str:
    """Kaggle's layout: comma-separated under the upper-case header, CSV quoting (pandas wrote it)."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator=line_end)
    writer.writerow(KAGGLE_HEADER.split(","))
    writer.writerows(rows)
    return stream.getvalue()


def _tab_rows_with_tricky_titles(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    lines = [corpus_line(i + 1, c, t, ["Reuters", "Daily Mail", "Other"][i % 3]) for i, (c, t) in enumerate(ROWS)]
    path = tmp_path / "newsCorpora.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path, [line.rstrip("\n").split("\t") for line in lines]


def test_kaggle_csv_gives_exactly_the_rows_of_the_tab_separated_layout(tmp_path):
    tab, rows = _tab_rows_with_tricky_titles(tmp_path)
    kaggle = tmp_path / "uci-news-aggregator.csv"
    kaggle.write_text(_kaggle_text(rows), encoding="utf-8")
    assert read_source(kaggle).columns == read_source(tab).columns
    archive = tmp_path / "archive.zip"  # Kaggle's download: found inside a zip by its header, whatever its name
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "not the corpus")
        zf.writestr("data/news.csv", _kaggle_text(rows, "\n"))
    assert read_source(archive).columns == read_source(tab).columns
    assert load_news_corpus(archive).dataset["train"]["text"] == load_news_corpus(tab).dataset["train"]["text"]


def test_kaggle_row_that_pandas_merged_is_refused_or_skipped(tmp_path):
    _, rows = _tab_rows_with_tricky_titles(tmp_path)
    rows[1][1] = "Unclosed quote\t...\n5\tswallowed title"
    kaggle = tmp_path / "uci-news-aggregator.csv"
    kaggle.write_text(_kaggle_text(rows), encoding="utf-8")
    with pytest.raises(MalformedRowError, match=rf"{kaggle}, line 3: a title holding a tab or a line break"):
        read_source(kaggle)
    read = read_source(kaggle, skip_malformed=True)
    assert len(read.skipped) == 1 and read.columns["id"] == [1, 4, 5, 7, 8]  # row 2 skipped; 3 and 6 not kept


# --- scripts/prepare_data.py ----------------------------------------------------------------------------------------


@pytest.mark.slow  # starts a fresh interpreter
def test_prepare_data_runs_without_importing_torch_or_transformers(tiny_csv, tmp_path):
    # The real script on a real source, in a fresh interpreter: `import hfnews` is lazy (hfnews.registration),
    # so preparing the corpus must not pull in the model stack at any point, from parsing to saving.
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['prepare_data.py', '--source', {str(tiny_csv)!r}, '--output_dir', {str(tmp_path / 'out')!r}]\n"
        f"runpy.run_path({str(REPO / 'scripts' / 'prepare_data.py')!r}, run_name='__main__')\n"
        "print(sorted(name for name in ('torch', 'transformers') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "dataset_dict.json").is_file()


def test_prepare_data_parses_every_layout_option_and_the_label_names_alias():
    parse_args = runpy.run_path(str(REPO / "scripts" / "prepare_data.py"))["parse_args"]
    options = ["--output_dir", "o", "--skip_malformed", "--header", "false", "--column_order", "title,category",
               "--quoting", "pandas", "--seed", "3"]  # fmt: skip
    expected = {
        "output_dir": "o",
        "source": None,
        "seed": 3,
        "group_by": "none",
        "skip_malformed": True,
        "column_order": "title,category",
        "header": False,
        "quoting": "pandas",
        "numeric_labels": "b,t,e,m",
    }
    for flag in ("--numeric_labels", "--label_names"):  # --label_names: the name issue 10 gives the option
        assert vars(parse_args([*options, flag, "b,t,e,m"])) == expected
