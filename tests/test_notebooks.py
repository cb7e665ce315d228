"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, as a reader would run it.

Each runs in its own folder, as Jupyter runs it, so that its relative paths (`../savedmodels`,
`../../shared/data`) mean what they mean for a reader; what it writes goes to the git-ignored
`notebooks/runs/`, and its committed outputs are left alone. `notebooks/execute.py` is the
same code path that refreshes the committed outputs.
"""

import json
import os
import pathlib
import sys

import pytest

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
sys.path.insert(0, str(NOTEBOOK_DIR))

import execute  # noqa: E402  (notebooks/execute.py)

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

# The switch each notebook's first code cell sets, with the full-size run one edit away.
SIZE_SWITCH = "FULL_SIZE = False"


def _code(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_the_notebooks_the_readme_links_exist():
    readme = (NOTEBOOK_DIR.parent / "README.md").read_text()
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README.md does not link {path.name}"
        assert path.name in (NOTEBOOK_DIR / "README.md").read_text(), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_is_executed_small_and_switchable(path):
    size = path.stat().st_size
    assert size <= execute.MAX_COMMITTED_BYTES, f"{path.name} is {size:,} bytes"
    notebook = json.loads(path.read_text())
    code = _code(notebook)
    assert SIZE_SWITCH in "".join(code[0]["source"]), f"{path.name}'s first code cell"
    for cell in code:
        # Committed after a full top-to-bottom run, not edited by hand afterwards.
        assert cell["execution_count"] is not None, "".join(cell["source"])[:80]
        for output in cell["outputs"]:
            assert output["output_type"] != "error", "".join(cell["source"])[:80]
    counts = [cell["execution_count"] for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name} was run out of order"
    pictures = [o for c in code for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert pictures, f"{path.name} shows no picture"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, request):
    env = {}
    if "KGAN_SHARED_DATA" in path.read_text():
        # Off kgan's machines such a notebook would download CIFAR-10; the test never does.
        env["KGAN_SHARED_DATA"] = os.path.abspath(request.getfixturevalue("shared_data"))
    notebook = execute.execute_notebook(path, env=env)
    outputs = [o for cell in _code(notebook) for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "no picture drawn"
