"""The notebook tour runs top to bottom with this checkout's code (it cannot go stale)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("torch")  # the tour trains two small codecs

TOUR = Path(__file__).resolve().parents[1] / "examples" / "tour.ipynb"


def test_tour_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    root = str(TOUR.parents[1])
    # The kernel must import this checkout (not an installed copy), without threads fighting.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(TOUR, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": root}})  # fmt: skip
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "R(D=0.05, C=0.90) = 0.594894 bits" in text  # the closed form, as in the README
    assert "0.6 nats" in text or "0.6000 nats" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # the R(D) curves, the theory map and two overlay figures
