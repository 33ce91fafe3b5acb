"""Shared harness for the notebook tests: execute a curated notebook and read its key results.

Convention: every notebook in ``notebooks/`` has a cell tagged ``parameters``
(papermill style) and a final cell tagged ``key-results`` that prints one line
``KEY-RESULTS {json}`` with the numbers the test asserts on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MARKER = "KEY-RESULTS "


def run_notebook(name: str, tmp_path: Path, **parameters: Any) -> dict[str, Any]:
    """Execute ``notebooks/<name>`` (rendering HTML into ``tmp_path``) and return its key results."""
    pytest.importorskip("nbclient")
    from evaltools.reporting.notebooks import execute_notebook

    path = NOTEBOOKS / name
    assert path.is_file(), f"missing notebook {path}"
    nb = execute_notebook(path, out_html=tmp_path / f"{path.stem}.html", parameters=parameters or None,
                          cwd=NOTEBOOKS)
    tagged = [c for c in nb.cells if "key-results" in c.get("metadata", {}).get("tags", [])]
    assert tagged, f"{name} has no cell tagged 'key-results'"
    for out in tagged[-1].get("outputs", []):
        text = out.get("text", "")
        for line in text.splitlines():
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
    raise AssertionError(f"{name}: the key-results cell printed no line starting with {MARKER!r}")
