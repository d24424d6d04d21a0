"""What a row of the News Aggregator corpus is, shared by every reader: its columns, its four categories and the
spellings accepted for them, the kept publishers, and the checks a row must pass.

The columns, codes and names are those of the archive's `readme.txt` (UCI data set 359): `b` business, `t` science and
technology, `e` entertainment, `m` health.
"""

import re
from dataclasses import dataclass, field

from ..errors import HfnewsError


CATEGORIES = ("b", "t", "e", "m")
LABEL_NAMES = ("business", "science_and_technology", "entertainment", "health")
PUBLISHERS = ("Reuters", "Huffington Post", "Businessweek", "Contactmusic.com", "Daily Mail")
COLUMNS = ("id", "title", "url", "publisher", "category", "story", "hostname", "timestamp")

# Spellings seen for the four categories, after `_spelling` (lower case, `&` read as `and`, other separators `_`).
_CODE_OF_SPELLING = {
    **{code: code for code in CATEGORIES},
    **dict(zip(LABEL_NAMES, CATEGORIES)),
    "science_technology": "t",
    "sci_tech": "t",
}


class MalformedRowError(HfnewsError):
    """A row of a source file that cannot be read as the corpus format says."""


@dataclass
class SourceRows:
    """Columns of the rows kept from a source, plus what was skipped.

    `splits` is set when the source already fixes the split (the NLP 100 text files); it maps split name to the
    number of leading rows that belong to it, in `train`, `validation`, `test` order. `layout` holds one line per file
    saying how it was read (columns, header, line ends, quoting), for the run's output.
    """

    columns: dict[str, list] = field(default_factory=lambda: {name: [] for name in COLUMNS})
    skipped: list[str] = field(default_factory=list)
    rows_read: int = 0
    splits: dict[str, int] | None = None
    layout: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["title"])

    def skip(self, error: MalformedRowError, skip_malformed: bool) -> None:
        """Record a malformed row as skipped when `skip_malformed`, else raise `error` (the `--skip_malformed` rule
        every reader follows)."""
        if not skip_malformed:
            raise error
        self.skipped.append(str(error))


def _spelling(value: str) -> str:
    return re.sub(r"[^a-z]+", "_", value.strip().lower().replace("&", " and ")).strip("_")


def category_code(value: str) -> str | None:
    """The code (`b`, `t`, `e`, `m`) that `value` names, in any case: a code, a label name such as `health`, or an
    obvious spelling of one (`Science and Technology`, `science & technology`, `sci/tech`); None when it names none."""
    return _CODE_OF_SPELLING.get(_spelling(value))


def check_category(category: str, where: str, number: int) -> None:
    """Raise `MalformedRowError` unless `category` is one of the codes exactly (the official file's own form)."""
    if category not in CATEGORIES:
        raise MalformedRowError(
            f"{where}, line {number}: unknown category {category!r}, expected one of {', '.join(CATEGORIES)}"
        )


def check_corpus_fields(fields: list[str], where: str, number: int, separated: str = "tab-separated") -> None:
    """Check one row of the 8 newsCorpora columns: their count, a numeric ID and timestamp, a category code
    (`separated` names the separator in the message)."""

    def bad(what: str) -> MalformedRowError:
        return MalformedRowError(f"{where}, line {number}: {what}")

    if len(fields) != len(COLUMNS):
        raise bad(f"{len(fields)} {separated} fields, expected {len(COLUMNS)} ({' '.join(COLUMNS)})")
    if not fields[0].isdigit():
        raise bad(f"ID {fields[0]!r} is not a number")
    check_category(fields[4], where, number)
    if not fields[7].isdigit():
        raise bad(f"timestamp {fields[7]!r} is not a number")


def check_title(title: str, where: str, number: int) -> None:
    """A title is one line without tabs; one holding a tab or a line break is several lines of the original
    file that a CSV reader merged (a quote opened at the start of a title swallowed the lines up to the next quote)."""
    if any(char in title for char in "\t\r\n"):
        raise MalformedRowError(
            f"{where}, line {number}: a title holding a tab or a line break, {title[:60]!r}...: a record that pandas "
            "merged from several lines of the original file; --skip_malformed skips it"
        )


def all_skipped_error(where: str, skipped: list[str], shown: int = 3) -> HfnewsError:
    """The error for a source whose every row was skipped as malformed: how many, and the first `shown` of them."""
    first = " | ".join(skipped[:shown])
    return HfnewsError(f"every row of {where} was skipped as malformed ({len(skipped)} row(s)); the first: {first}")
