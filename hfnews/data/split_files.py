"""Reading a folder of split files, problem 50's `train.txt`, `valid.txt` and `test.txt`, in the layouts that people's
own code writes, detecting each file's layout and saying what was detected.

Public solutions of NLP 100 problem 50 write these files in many ways: `category<TAB>title` or `title<TAB>category`,
with or without a header line and pandas' index column, sometimes all 8 newsCorpora columns, through pandas `to_csv`
(which wraps every title holding `"` in quotes and doubles the inner ones) or by plain string joins, with Windows line
ends, a byte-order mark or a trailing blank line. Each file is read on its own:

- line ends LF, CRLF or CR, a UTF-8 BOM, blank lines anywhere and a missing final newline are all accepted;
- the separator is a tab, or a comma when no line holds a tab (a `to_csv` with the default separator);
- quoting is pandas' when a quoted field holds a doubled quote (`"Latest ""X"" Trailer"`), or when a quoted field runs
  over several lines: the official file never holds `""`, so a raw file (one split on tabs from `newsCorpora.csv`,
  where a title such as `"Girls" Meets Genesis` begins with a quote) is never decoded;
- a header line is a first line naming `category` (or `label`) and `title` (or `text`) in any case; it gives the
  columns' positions;
- without one, 2 columns are category and title in the order found by which column holds a category on (nearly)
  every row, 3 columns have pandas' integer index first, 8 are the newsCorpora columns and 9 add the index;
- labels are the codes `b`, `t`, `e`, `m` or the label names in any case; numbers are refused (which category is 0
  depends on the code that wrote them) unless `numeric_labels` maps them.

A title never holds a tab or a line break, so a quoted field over several lines is a record that pandas merged when it
read the corpus with CSV quoting: it is refused with its file and lines, or skipped and listed with `skip_malformed`.
Every detection can be overridden through `LayoutOptions`. Every row is kept (the files already hold the publishers
and the split their author chose).
"""

import codecs
import csv
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import HfnewsError
from .rows import CATEGORIES, COLUMNS, MalformedRowError, SourceRows, all_skipped_error, category_code, check_title


SPLIT_STEMS = {"train": ("train",), "validation": ("valid", "val", "dev"), "test": ("test",)}
EXTENSIONS = (".txt", ".tsv", ".csv")
COLUMN_ORDERS = ("category,title", "title,category")
QUOTINGS = ("pandas", "none")
_HEADER_NAMES = {"category": ("category", "label"), "title": ("title", "text")}
# A field in pandas' quoting whose text itself holds a quote: wrapped in quotes, every inner quote doubled.
_PANDAS_FIELD = re.compile(r'"(?:[^"]|"")*""(?:[^"]|"")*"')
_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class LayoutOptions:
    """Overrides of what is detected in split files; None means detect.

    Args:
        column_order (`str`, defaults to None): `category,title` or `title,category`, for files of 2 columns (3 with
            an index column).
        header (`bool`, defaults to None): whether the first line of each file is a header line.
        quoting (`str`, defaults to None): `pandas` decodes pandas' CSV quoting; `none` keeps every character.
        numeric_labels (`str` or a sequence of `str`, defaults to None): the category of label 0, 1, 2, ... in order,
            as codes or names (`b,t,e,m`); needed when the files hold numbers as labels. Kept as codes.

    Raises:
        HfnewsError: a value outside the choices, or a label name that names no category.
    """

    column_order: str | None = None
    header: bool | None = None
    quoting: str | None = None
    numeric_labels: str | Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.column_order is not None and self.column_order not in COLUMN_ORDERS:
            raise HfnewsError(f"column_order must be one of {', '.join(COLUMN_ORDERS)}, got {self.column_order!r}")
        if self.quoting is not None and self.quoting not in QUOTINGS:
            raise HfnewsError(f"quoting must be one of {', '.join(QUOTINGS)}, got {self.quoting!r}")
        if self.numeric_labels is not None:
            names = self.numeric_labels
            names = names.split(",") if isinstance(names, str) else list(names)
            codes = tuple(category_code(name) for name in names)
            if None in codes or len(set(codes)) != len(codes):
                raise HfnewsError(
                    f"numeric_labels must name distinct categories (codes {', '.join(CATEGORIES)} or their label "
                    f"names), got {','.join(names)!r}"
                )
            object.__setattr__(self, "numeric_labels", codes)

    def label(self, value: str) -> str | None:
        """The category code of a label cell, or None; numbers only through `numeric_labels`."""
        value = value.strip()
        if self.numeric_labels is not None and value.isdigit():
            return self.numeric_labels[int(value)] if int(value) < len(self.numeric_labels) else None
        return category_code(value)


@dataclass
class _Record:
    """One row of a file: its first and last physical line, and its fields or why it cannot be read."""

    first: int
    last: int
    fields: list[str] | None = None
    error: str | None = None


@dataclass
class _Layout:
    """Where a file's columns are; `columns` maps newsCorpora column names to positions."""

    width: int
    columns: dict[str, int]
    header: bool
    description: str


def split_file_paths(folder: Path) -> dict[str, Path]:
    """The train, validation and test files of `folder`: `train`, `valid`/`val`/`dev` and `test`, each with the
    extension `.txt`, `.tsv` or `.csv` (names in any case).

    Raises:
        HfnewsError: a split's file is missing, or several files name the same split.
    """
    files = {path.name.lower(): path for path in folder.iterdir() if path.is_file()}
    found = {}
    for split, stems in SPLIT_STEMS.items():
        names = [stem + extension for stem in stems for extension in EXTENSIONS]
        matches = [files[name] for name in names if name in files]
        if not matches:
            raise HfnewsError(
                f"{folder} is a folder but not one of split files: no {split} file (one of {', '.join(names)})"
            )
        if len(matches) > 1:
            raise HfnewsError(f"{folder} holds several {split} files ({', '.join(p.name for p in matches)}); keep one")
        found[split] = matches[0]
    return found


def read_split_folder(folder: Path, options: LayoutOptions, skip_malformed: bool) -> SourceRows:
    """Read the train, validation and test files of `folder` (see the module docstring for the layouts); they fix the
    split, so their order is kept.

    Raises:
        MalformedRowError: a row that cannot be read (unless `skip_malformed`, which lists it in `skipped`).
        HfnewsError: a file whose layout cannot be told (with the option that settles it), numeric labels without
            `numeric_labels`, or a file left without rows.
    """
    rows = SourceRows(splits={})
    for split, path in split_file_paths(folder).items():
        before, skipped_before = len(rows), len(rows.skipped)
        _read_split_file(path, options, skip_malformed, rows)
        rows.splits[split] = len(rows) - before
        if not rows.splits[split]:
            if len(rows.skipped) > skipped_before:
                raise all_skipped_error(str(path), rows.skipped[skipped_before:])
            raise HfnewsError(f"{path} holds no rows")
    return rows


def _read_split_file(path: Path, options: LayoutOptions, skip_malformed: bool, rows: SourceRows) -> None:
    data = path.read_bytes()
    bom = data.startswith(codecs.BOM_UTF8)
    data = data[len(codecs.BOM_UTF8) :] if bom else data
    lines = _decoded_lines(data)
    separator = "\t" if any(line is not None and "\t" in line for line in lines) else ","
    pandas = options.quoting == "pandas" if options.quoting is not None else _looks_pandas_quoted(lines, separator)
    records = _records(lines, separator, pandas)
    readable = [record for record in records if record.fields is not None]
    # With no readable row there is no layout to find: each row then raises its own error or is skipped.
    layout = _layout(path, readable, separator, options) if readable else None
    unquoted, labels = 0, Counter()
    for record in records[1:] if layout is not None and layout.header else records:
        try:
            title, label = _row(record, layout, options, str(path), rows)
        except MalformedRowError as error:
            rows.skip(error, skip_malformed)
            continue
        rows.rows_read += 1
        # pandas quotes exactly the fields holding a quote or the separator (a title holds no line break)
        unquoted += pandas and ('"' in title or separator in title)
        labels["number" if label.isdigit() else "name" if len(label) > 1 else "code"] += 1
    if layout is None:
        return
    blank = sum(1 for line in lines if line is not None and not line.strip())
    notes = {
        f"{path.name}: {layout.description}": True,
        "header line": layout.header,
        _line_ends(data): True,
        "UTF-8 BOM": bom,
        f"{blank} blank line(s)": blank > 0,
        f"pandas quoting, {unquoted} title(s) un-quoted": pandas,
        "label names": labels["name"] > 0,
        f"numeric labels mapped by --numeric_labels {','.join(options.numeric_labels or ())}": labels["number"] > 0,
    }
    rows.layout.append(", ".join(note for note, applies in notes.items() if applies))


def _decoded_lines(data: bytes) -> list[str | None]:
    """Split on LF, CRLF or CR (a title holds none of them, and no UTF-8 sequence holds their bytes); a line that is
    not UTF-8 becomes None. A final line end ends the last line and starts no new one."""
    raw_lines = _LINE_END.split(data)
    if raw_lines and not raw_lines[-1]:
        raw_lines.pop()
    lines: list[str | None] = []
    for raw in raw_lines:
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(None)
    return lines


def _line_ends(data: bytes) -> str:
    crlf = data.count(b"\r\n")
    counts = {"LF": data.count(b"\n") - crlf, "CRLF": crlf, "CR": data.count(b"\r") - crlf}
    kinds = "+".join(name for name, count in counts.items() if count) or "one line"
    return kinds if not data or data.endswith((b"\n", b"\r")) else f"{kinds}, no final newline"


def _looks_pandas_quoted(lines: list[str | None], separator: str) -> bool:
    """A comma-separated file is CSV; a tab-separated one is pandas-quoted when a quoted field holds a doubled quote
    (never in the official file) or a quoted field runs over several lines and parses as one CSV record."""
    if separator == ",":
        return True
    for line in lines:
        if line is not None and '""' in line and any(_PANDAS_FIELD.fullmatch(f) for f in line.split(separator)):
            return True
    odd = [number for number, line in enumerate(lines) if line is not None and line.count('"') % 2]
    return any(_parse_csv(lines[start : end + 1], separator)[0] is not None for start, end in zip(odd, odd[1:]))


def _parse_csv(lines: list[str | None], separator: str) -> tuple[list[str] | None, str | None]:
    """The fields of `lines` read as one CSV record (strict: a quote closes a field only before a separator)."""
    if None in lines:
        return None, "bytes that are not UTF-8"
    try:
        records = list(csv.reader((line + "\n" for line in lines), delimiter=separator, strict=True))
    except csv.Error as error:
        return None, f"quoting that is not CSV ({error})"
    return (records[0], None) if len(records) == 1 else (None, "quoting that is not CSV")


def _records(lines: list[str | None], separator: str, pandas: bool) -> list[_Record]:
    """The file's rows in order, blank lines left out. With pandas quoting a line with an odd number of quotes opens
    a quoted field that the next such line closes; a field that spans lines is a merged record."""
    records = []
    number = 0
    while number < len(lines):
        line, first = lines[number], number + 1
        number += 1
        if line is None:
            records.append(_Record(first, first, error="bytes that are not UTF-8"))
            continue
        if not line.strip():
            continue
        if not pandas:
            records.append(_Record(first, first, line.split(separator)))
            continue
        last = first
        if line.count('"') % 2:
            odd = (n for n in range(first, len(lines)) if lines[n] is not None and lines[n].count('"') % 2)
            last = next(odd, first - 1) + 1
        fields, error = _parse_csv(lines[first - 1 : last], separator)
        if fields is None or last == first:
            records.append(_Record(first, first, fields, error and f"a line with {error}"))
            continue
        records.append(
            _Record(
                first,
                last,
                error=f"a quoted title runs over lines {first}-{last}: a record that pandas merged from several lines "
                "(a title never holds a line break); --skip_malformed skips it",
            )
        )
        number = last
    return records


def _layout(path: Path, records: list[_Record], separator: str, options: LayoutOptions) -> _Layout:
    """Find the columns from the header line or, without one, from the number of fields and the labels' column."""
    named = None if options.header is False else _header_columns(records[0].fields)
    header = named is not None or bool(options.header)
    body = records[1:] if header else records
    width = len(records[0].fields) if header else Counter(len(r.fields) for r in body).most_common(1)[0][0]
    body = [r.fields for r in body if len(r.fields) == width]
    shown, kind = ("<TAB>", "tab") if separator == "\t" else (",", "comma")
    if named is not None and options.column_order is None:
        columns = named
    elif width in (8, 9) and _leading_index(body, width - 8):
        columns = {name: position + width - 8 for position, name in enumerate(COLUMNS)}
    elif width in (2, 3) and _leading_index(body, width - 2):
        pair = (width - 2, width - 1)
        if options.column_order is not None:
            first = pair[0] if options.column_order == "category,title" else pair[1]
        else:
            first = _category_column(path, body, pair, options)
        columns = {"category": first, "title": pair[1] if first == pair[0] else pair[0]}
    else:
        raise HfnewsError(
            f"{path}: {width} fields per line ({kind}-separated); expected "
            "category and title in either order, optionally after pandas' index column, or the 8 newsCorpora "
            "columns, or a header line naming CATEGORY and TITLE"
        )
    _refuse_numeric_labels(path, body, columns["category"], options)
    roles = ["column"] * width
    for name, position in columns.items():
        roles[position] = name
    if roles[0] == "column":
        roles[0] = "index"
    if all(name in columns for name in COLUMNS):
        description = ("index, " if width > 8 else "") + "8 newsCorpora columns"
    else:
        description = shown.join(roles)
    return _Layout(width, columns, header, description + ("" if kind == "tab" else " (comma-separated)"))


def _header_columns(fields: list[str]) -> dict[str, int] | None:
    """Positions of the named columns when `fields` is a header line naming a category and a title column."""
    names = [field.strip().lower() for field in fields]
    columns = {name: names.index(name) for name in COLUMNS if name in names}
    for column, aliases in _HEADER_NAMES.items():
        position = next((names.index(alias) for alias in aliases if alias in names), None)
        if position is None:
            return None
        columns[column] = position
    return columns


def _leading_index(body: list[list[str]], leading: int) -> bool:
    """Whether the `leading` columns before the known ones (none, or one) can be pandas' integer index."""
    return leading == 0 or (leading == 1 and all(fields[0].strip().isdigit() for fields in body))


def _category_column(path: Path, body: list[list[str]], pair: tuple[int, int], options: LayoutOptions) -> int:
    """The column of `pair` that holds a category on most rows (a few malformed rows must not hide the layout)."""
    counts = [sum(options.label(fields[column]) is not None for fields in body) for column in pair]
    if max(counts) * 2 > len(body) and counts[0] != counts[1]:
        return pair[counts.index(max(counts))]
    for column in pair:
        _refuse_numeric_labels(path, body, column, options)
    raise HfnewsError(
        f"{path}: cannot tell which column holds the category ({counts[0]} and {counts[1]} of {len(body)} rows hold "
        "one); pass --column_order category,title or --column_order title,category"
    )


def _refuse_numeric_labels(path: Path, body: list[list[str]], column: int, options: LayoutOptions) -> None:
    values = sorted({fields[column].strip() for fields in body}, key=lambda value: (len(value), value))
    if options.numeric_labels is None and body and all(value.isdigit() for value in values):
        raise HfnewsError(
            f"{path}: the labels are numbers ({', '.join(values[:6])}), which do not say which category each stands "
            "for; pass --numeric_labels with the category of 0, 1, 2, ... in order, e.g. --numeric_labels b,t,e,m"
        )


def _row(
    record: _Record, layout: _Layout | None, options: LayoutOptions, where: str, rows: SourceRows
) -> tuple[str, str]:
    """Check one record and append it to `rows`; return its title and its label as written (`layout` is None only
    when no row of the file is readable, so `record` holds an error)."""

    def bad(what: str) -> MalformedRowError:
        return MalformedRowError(f"{where}, line {record.first}: {what}")

    if record.error is not None:
        raise bad(record.error)
    fields = record.fields
    if len(fields) != layout.width:
        raise bad(f"{len(fields)} fields, expected {layout.width} ({layout.description})")
    label = fields[layout.columns["category"]].strip()
    category = options.label(label)
    if category is None:
        raise bad(f"unknown category {label!r}, expected one of {', '.join(CATEGORIES)} or a label name")
    title = fields[layout.columns["title"]]
    check_title(title, where, record.first)
    values = {name: fields[position] for name, position in layout.columns.items()}
    for name in ("id", "timestamp"):
        if name in values and not values[name].strip().isdigit():
            raise bad(f"{name} {values[name]!r} is not a number")
        if name in values:
            values[name] = int(values[name])
    values.update(title=title, category=category)
    for name in COLUMNS:
        rows.columns[name].append(values.get(name))
    return title, label
