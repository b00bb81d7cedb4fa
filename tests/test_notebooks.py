"""The study notebooks (docs/notebooks/) are committed without outputs, and run top to bottom in a
real Jupyter kernel: the `python3` kernel of ipykernel, started with this interpreter, so that
they import the villanueva under test. Whatever a notebook writes goes to a temporary directory."""

import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "docs" / "notebooks"
CELL_TIMEOUT = 600  # seconds for one cell: generous, for a machine busy with other work

# Appended to the executed copy only: the kernel must run in this test's environment (a kernel
# spec elsewhere on the Jupyter path could start another Python, without this villanueva).
SAME_PYTHON = f"import sys\nassert sys.prefix == {sys.prefix!r}, sys.prefix"


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_four_notebooks_are_there():
    assert [path.name for path in notebook_paths()] == [
        "01-bigram-to-mlp.ipynb",
        "02-four-fixes.ipynb",
        "03-deeper-nets.ipynb",
        "04-names-by-region.ipynb",
    ]


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda path: path.stem)
def test_notebook_is_stripped_and_runs(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for number, cell in enumerate(code, 1):
        assert cell.outputs == [], f"{path.name}: code cell {number} has outputs; strip them"
        assert cell.execution_count is None, f"{path.name}: code cell {number} has an execution count"

    notebook.cells.append(nbformat.v4.new_code_cell(SAME_PYTHON))
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    seconds = time.perf_counter() - start
    print(f"{path.name}: executed in {seconds:.1f} s")

    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors

    # A cell that ends by showing one of a diagnosis's figures must show a picture, not
    # `<Figure size ...>` (a matplotlib Figure displays as PNG only under `%matplotlib inline`).
    for cell in notebook.cells:
        if cell.cell_type == "code" and "figures[" in cell.source.splitlines()[-1]:
            kinds = {kind for output in cell.outputs for kind in output.get("data", {})}
            assert "image/png" in kinds, f"{path.name}: no picture from {cell.source.splitlines()[-1]!r}"
