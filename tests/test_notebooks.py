"""Every tutorial notebook runs, on short horizons, and is stored without outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# The "parameters" cell of each notebook, replaced by short horizons for the test suite.
SHORT = {
    "01_quickstart": "DAYS = 10\nSEED = 7",
    "02_tuning_hub_capacity": (
        "DAYS = 7\nREPLICATIONS = 2\nN_TRIALS = 8\nCONFIRM_REPLICATIONS = 3\n"
        "INDIFFERENCE = 0.5\nSEED = 0\nEXECUTOR = 'serial'"
    ),
    "03_passenger_station": "DAYS = 1\nSEED = 7",
    "04_border_and_disruptions": "DAYS = 14\nSEED = 7",
    "05_rail_vs_road": "DAYS = 21\nSEED = 7",
}


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_has_short_parameters() -> None:
    assert [p.stem for p in notebooks()] == sorted(SHORT)


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebook_runs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "one cell tagged 'parameters'"
    params[0].source = SHORT[path.stem]
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=240,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    images = sum(
        "image/png" in o.get("data", {})
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert images >= (0 if path.stem == "03_passenger_station" else 2), "figures were drawn"
