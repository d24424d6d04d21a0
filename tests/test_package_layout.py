"""The package shows the pipeline (issue 20): subpackages by stage, imports pointing one way, no cycle.

Read from the source with `ast` (every `import`, also inside functions), not by importing it.
"""

import ast
from pathlib import Path

import pytest


PACKAGE = Path(__file__).resolve().parents[1] / "hfnews"
# The stages in the order data flows; a module may import its own stage and the stages before it.
STAGES = ["data", "models", "evaluation", "training", "inference", "tuning"]
BASE = {"errors", "cli", "integrity"}  # below every stage
TOP_LEVEL = BASE | {"__init__", "registration"}
# `import hfnews` installs the Auto-class hooks (registration), which load the models and, once transformers loads
# its pipelines, the truncating pipeline: the one place that reaches forward, lazily and on purpose.
HOOKS = {("registration", "models"), ("registration", "inference"), ("models", "registration")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(part for part in parts if part != "__init__") or "__init__"


def hfnews_imports(path: Path) -> set[str]:
    """The hfnews modules `path` imports, as dotted names below `hfnews` (`data.rows`)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "hfnews":
                target = node.module.split(".")[1:]
            else:
                continue
            names = [alias.name for alias in node.names]
            for name in names:  # `from . import x` imports a module x
                candidate = [*target, name]
                if (PACKAGE.joinpath(*candidate).with_suffix(".py")).is_file():
                    found.add(".".join(candidate))
                    break
            else:
                found.add(".".join(target) or "__init__")
        elif isinstance(node, ast.Import):
            found |= {alias.name[len("hfnews.") :] for alias in node.names if alias.name.startswith("hfnews.")}
    return found


def stage(module: str) -> str:
    return module.split(".")[0]


def rank(module: str) -> int:
    first = stage(module)
    return -1 if first in TOP_LEVEL else STAGES.index(first)


SOURCES = {
    module_name(path): path
    for path in PACKAGE.rglob("*.py")
    if "news_metric" not in path.parts and not path.name.startswith(("modeling_", "configuration_"))
}


def test_at_most_eight_modules_stay_at_the_top_and_each_stage_says_what_it_holds():
    top = sorted(path.stem for path in PACKAGE.glob("*.py"))
    assert len(top) <= 8 and set(top) <= TOP_LEVEL, top
    for name in STAGES:
        docstring = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert docstring and "import" in docstring, name  # what it holds and what it may import


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_imports_point_down_the_pipeline(module):
    for imported in hfnews_imports(SOURCES[module]):
        if (stage(module), stage(imported)) in HOOKS or stage(module) == "__init__":
            continue
        assert rank(imported) <= rank(module), f"{module} imports {imported}, a later stage"
        if stage(module) in BASE:
            assert stage(imported) in BASE, f"{module} (below every stage) imports {imported}"


def test_no_import_cycle_between_modules():
    graph = {module: {name for name in hfnews_imports(path) if name in SOURCES} for module, path in SOURCES.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph[module]):
            if (stage(module), stage(imported)) in HOOKS:
                continue
            assert state.get(imported) != 1, "import cycle: " + " -> ".join([*path, module, imported])
            if imported not in state:
                visit(imported, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
