"""The notebooks in notebooks/ run from top to bottom without an error, and are committed
without outputs.

Each notebook is executed in a fresh ``python3`` kernel, from its own folder (so it finds
the project by walking up to results/manifest.yaml), with a small replication count and its
run folders in a temporary directory: nothing is written into the project. The kernel
imports this checkout's ``sim`` (PYTHONPATH is set to the project folder).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]   # long: skip with -m "not slow"

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "notebooks"
NAMES = ("01-quickstart", "02-legacy-vs-whistle", "03-what-buys-what", "04-sensitivity",
         "06-sensitivity", "07-inspection-campaign")
KERNEL = "python3"
CELL_TIMEOUT = 600          # seconds for any one cell; the whole set takes well under two minutes
ENVIRONMENT = {
    "GOVSIM_NOTEBOOK_REPLICATIONS": "2",
    "GOVSIM_NOTEBOOK_JOBS": "2",
}


def notebook_path(name: str) -> Path:
    return FOLDER / f"{name}.ipynb"


def test_the_notebooks_are_there() -> None:
    found = sorted(p.stem for p in FOLDER.glob("*.ipynb"))
    assert found == sorted(NAMES), f"notebooks/ holds {found}, expected {sorted(NAMES)}"


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name: str) -> None:
    nb = nbformat.read(notebook_path(name), as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4, f"{name}: nbformat {nb.nbformat}, expected 4"
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (f"{name}: code cells {dirty} have outputs or execution counts; clear them before "
                       "committing (Edit > Clear All Outputs, or jupyter nbconvert --clear-output --inplace)")


@pytest.fixture(scope="module")
def kernel() -> str:
    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        pytest.fail(f"no Jupyter kernel named {KERNEL!r}: install the test extra "
                    "(pip install -e '.[test]', which brings ipykernel) or register one with "
                    f"`python -m ipykernel install --user --name {KERNEL}`", pytrace=False)
    return KERNEL


def snapshot(root: Path) -> set[str]:
    """Every file and folder under the project, leaving out hidden folders and caches."""
    paths = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        here = Path(folder).relative_to(root)
        paths.update(str(here / name) for name in (*dirs, *files))
    return paths


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name: str, kernel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GOVSIM_NOTEBOOK_OUT", str(tmp_path / "runs"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))

    nb = nbformat.read(notebook_path(name), as_version=4)
    before = snapshot(ROOT)
    started = time.perf_counter()
    client = NotebookClient(nb, kernel_name=kernel, timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(FOLDER)}})
    client.execute()          # raises CellExecutionError, with the cell and traceback, on an error
    seconds = time.perf_counter() - started

    errors = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for out in cell.outputs if out.output_type == "error"]
    assert not errors, f"{name}: cells {errors} raised an error"
    written = sorted(snapshot(ROOT) - before)
    assert not written, f"{name} wrote into the project: {written[:10]}"
    print(f"{name}: {seconds:.1f} s")
