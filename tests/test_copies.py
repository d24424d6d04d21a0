"""Marked copies cannot drift, as transformers' `utils/check_copies.py` keeps its model files in step.

The configuration and modeling files ship next to checkpoints as remote code, so each must stand alone and the CNN
files repeat code of the RNN files. Every repeated definition carries a mark on the line before it,

    # Copied from hfnews.models.modeling_news_rnn.NewsRNNForSequenceClassification with RNN->CNN,rnn->cnn

and must equal its source (a module-level function or class, or a method `Class.name`) after the replacements,
applied in order. Whole definitions are compared, docstrings and comments included.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[1]
COPIED_FROM = re.compile(r"^ *# Copied from (?P<target>[\w.]+)(?: with (?P<replace>\S+->\S+(?:,\S+->\S+)*))?\s*$")


def definitions(path: Path) -> dict[str, ast.AST]:
    """Every function and class of a file, by dotted name within it (`Class.method`)."""
    found = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found[prefix + node.name] = node
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(path.read_text(encoding="utf-8")).body, "")
    return found


def source_of(lines: list[str], node: ast.AST) -> str:
    """A definition's text from its first decorator to its last line, without its indentation."""
    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    return textwrap.dedent("".join(lines[first - 1 : node.end_lineno]))


def resolve(target: str, root: Path) -> tuple[Path, str]:
    """`pkg.module.Name.method` -> (root/pkg/module.py, "Name.method"): the longest prefix that is a file."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        path = root.joinpath(*parts[:cut]).with_suffix(".py")
        if path.is_file():
            return path, ".".join(parts[cut:])
    raise AssertionError(f"no module file under {root} for {target}")


def check_copies(path: Path, root: Path) -> tuple[int, list[str]]:
    """The number of marked copies in `path`, and one line per copy that differs from its source or lost it."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = {}
    for node in definitions(path).values():
        starts[min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])] = node
    marks, problems = 0, []
    for number, line in enumerate(lines, start=1):
        match = COPIED_FROM.match(line)
        if match is None:
            continue
        marks += 1
        where = f"{path.name}:{number}"
        copy = starts.get(number + 1)
        if copy is None:
            problems.append(f"{where}: the mark is not on the line before a def or class")
            continue
        source_path, name = resolve(match["target"], root)
        source = definitions(source_path).get(name)
        if source is None:
            problems.append(f"{where}: {match['target']} does not exist")
            continue
        expected = source_of(source_path.read_text(encoding="utf-8").splitlines(keepends=True), source)
        for pair in match["replace"].split(",") if match["replace"] else ():
            old, new = pair.split("->")
            expected = expected.replace(old, new)
        if source_of(lines, copy) != expected:
            problems.append(f"{where}: {copy.name} differs from {match['target']} after the replacements")
    return marks, problems


@pytest.mark.parametrize(
    ("path", "least_marks"),
    [("hfnews/models/modeling_news_cnn.py", 3), ("hfnews/models/configuration_news_cnn.py", 1)],
    ids=["modeling", "configuration"],
)
def test_marked_copies_equal_their_source(path, least_marks):
    marks, problems = check_copies(REPO / path, REPO)
    assert marks >= least_marks  # the marks are found at all
    assert problems == []


def test_no_other_package_file_has_marks_left_unchecked():
    checked = {"modeling_news_cnn.py", "configuration_news_cnn.py"}
    for path in sorted((REPO / "hfnews").rglob("*.py")):
        if path.name not in checked:
            assert check_copies(path, REPO) == (0, []), path


SOURCE = '''\
class RNNThing:
    def size(self) -> int:
        """The rnn's size."""
        return self.rnn.size

    @classmethod
    def build(cls):
        return cls()


def helper(value):
    return value + 1
'''
COPY = '''\
class CNNThing:
    # Copied from pkg.source.RNNThing.size with RNN->CNN,rnn->cnn
    def size(self) -> int:
        """The cnn's size."""
        return self.cnn.size

    # Copied from pkg.source.RNNThing.build
    @classmethod
    def build(cls):
        return cls()


# Copied from pkg.source.helper
def helper(value):
    return value + 1
'''


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (None, None),
        (
            ("return self.cnn.size", "return self.cnn.size + 1"),
            "copy.py:2: size differs from pkg.source.RNNThing.size",
        ),
        (('"""The cnn', '"""The CNN'), "copy.py:2: size differs"),  # docstrings count
        (("return cls()", "return cls(0)"), "copy.py:7: build differs from pkg.source.RNNThing.build"),
        (("value + 1", "value + 2"), "copy.py:13: helper differs"),
        (("pkg.source.helper", "pkg.source.gone"), "copy.py:13: pkg.source.gone does not exist"),
        (("# Copied from pkg.source.helper\n", "# Copied from pkg.source.helper\n\n"), "copy.py:13: the mark is not"),
    ],
    ids=["in-step", "code", "docstring", "decorated", "function", "missing-source", "detached-mark"],
)
def test_check_copies_reports_a_drifted_copy(tmp_path, edit, problem):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "source.py").write_text(SOURCE)
    copy = tmp_path / "pkg" / "copy.py"
    copy.write_text(COPY if edit is None else COPY.replace(*edit))
    marks, problems = check_copies(copy, tmp_path)
    assert marks == 3
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(problem), problems
