"""The teaching notebooks: committed clean, and every one runs top to bottom (CI executes them).

Execution uses nbclient with the `python3` kernel, which must resolve to this interpreter (the
.venv); cwd is notebooks/, as in JupyterLab. Parameters are injected papermill-style: a cell
tagged `injected-parameters` goes right after the cell tagged `parameters`. The notebooks share
one run dir (a small world built once by notebooks/lab.py): `$SLMLAB_NB_RUN_DIR` when
set (reuse a warm cache between local runs), else a fresh temporary dir per test session, so CI
tests the build path too. Executed copies (with outputs) go to test-artifacts/notebooks/.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "notebooks"
TIMEOUT_S = 300  # per notebook (the budget for one notebook on 2 cores)
CELL_TIMEOUT_S = 240
TIMES: dict[str, float] = {}


def _ids(paths):
    return [p.stem for p in paths]


def _parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "each notebook needs exactly one cell tagged 'parameters'"
    return tagged[0]


def inject_parameters(nb, params: dict) -> None:
    """Papermill's convention: overrides in a cell tagged injected-parameters after `parameters`."""
    src = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(src)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(_parameters_index(nb) + 1, cell)


# ------------------------------------------------------------------ static checks (fast)


def test_notebooks_exist_in_pipeline_order():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_clean_and_follows_the_style(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:  # no outputs in git: keeps the repo small and diffs readable
        assert c.outputs == [] and c.execution_count is None, f"{path.name}: clear outputs"
    _parameters_index(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for prev, cell in zip(nb.cells, nb.cells[1:]):  # every code cell follows an explanation
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
            assert prev.cell_type == "markdown" or prev.source.strip().startswith("#"), \
                f"{path.name}: code cell without a heading before it: {cell.source[:60]!r}"
    joined = "\n".join(c.source for c in code)
    assert "import slmlab" in joined or "from slmlab" in joined
    assert "notebook_support" not in joined, f"{path.name}: the helpers are notebooks/lab.py now"
    for c in code:  # notebooks import the package and never redefine its code
        src = "\n".join(l for l in c.source.splitlines() if not l.lstrip().startswith(("%", "!")))
        tree = ast.parse(src)
        defs = [n.name for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not defs, f"{path.name} defines {defs}: put code in slmlab and import it"
        assert len(c.source.splitlines()) <= 25, f"{path.name}: keep cells short"


# ------------------------------------------------------------------ execution


@pytest.fixture(scope="session")
def kernel_name() -> str:
    """'python3', checked to start this interpreter (install a kernelspec in the venv if not)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        argv0 = spec.argv[0]
    except NoSuchKernel:
        argv0 = None
    # jupyter_client replaces a bare 'python' by sys.executable when it launches the kernel
    if argv0 not in ("python", "python3", sys.executable):
        import subprocess

        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix",
                        "--name", "python3"], check=True, capture_output=True)
    return "python3"


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> str:
    return os.environ.get("SLMLAB_NB_RUN_DIR") or str(tmp_path_factory.mktemp("nb-run"))


def _execute(nb, kernel_name: str, timeout: int = TIMEOUT_S):
    from nbclient import NotebookClient

    env_small = {"TQDM_DISABLE": "1"}  # no progress bars in the executed copies
    old = {k: os.environ.get(k) for k in env_small}
    os.environ.update(env_small)
    try:
        client = NotebookClient(nb, kernel_name=kernel_name, timeout=CELL_TIMEOUT_S,
                                resources={"metadata": {"path": str(NB_DIR)}})
        t0 = time.perf_counter()
        client.execute()
        return time.perf_counter() - t0
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.e2e
def test_kernel_runs_this_interpreter(kernel_name):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys, os; print(sys.prefix); print(os.getcwd())")]
    _execute(nb, kernel_name, timeout=60)
    prefix, cwd = nb.cells[0].outputs[0]["text"].split()
    assert Path(prefix).resolve() == Path(sys.prefix).resolve()
    assert Path(cwd).resolve() == NB_DIR.resolve()


@pytest.mark.e2e
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_top_to_bottom(path, kernel_name, run_dir):
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, {"RUN_DIR": run_dir})
    try:
        seconds = _execute(nb, kernel_name)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, ARTIFACTS / path.name)  # executed copy, for a look at the outputs
    TIMES[path.stem] = seconds  # a figure to read, not a test: a slow machine is not a bug
    (ARTIFACTS / "times.json").write_text(json.dumps(TIMES, indent=1))
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in shown), \
        f"{path.name} shows no plotly figure"
