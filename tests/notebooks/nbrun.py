"""Shared harness for the notebook tests: execute a curated notebook and read its key results.

Convention: every notebook in ``notebooks/`` has a cell tagged ``parameters``
(papermill style) and a final cell tagged ``key-results`` that calls
``evaltools.reporting.notebooks.record_key_results({...})`` with the numbers the
test asserts on. ``execute_notebook`` moves them into the executed notebook's
metadata (``nb.metadata["evaltools"]["key_results"]``); the rendered report
never shows them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
#: Text that must not appear in a rendered report (debug dumps, kernel paths, widget fallbacks, raw missing values).
FORBIDDEN = ("KEY-RESULTS", "IProgress not found", "/tmp/ipykernel", "<NA>")
WARNING_LINE = re.compile(r"\b\w+Warning: |<[\w.]+ (?:object )?at 0x[0-9a-f]+>|^Text\(", re.M)


def machinery_shown(nb: Any) -> list[str]:
    """What a reader of the rendered report should not see: stderr output, warnings, debug dumps."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or "key-results" in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i}: stderr output {out.get('text', '')[:120]!r}")
                continue
            texts = [out.get("text", "")] + [str(v) for k, v in out.get("data", {}).items() if k.startswith("text/")]
            for t in texts:
                found += [f"cell {i}: {s!r}" for s in FORBIDDEN if s in t]
                found += [f"cell {i}: {m.group(0)!r}" for m in WARNING_LINE.finditer(t)]
    return found


def run_notebook(name: str, tmp_path: Path, **parameters: Any) -> dict[str, Any]:
    """Execute ``notebooks/<name>`` (rendering HTML into ``tmp_path``) and return its key results."""
    pytest.importorskip("nbclient")
    from evaltools.reporting.notebooks import execute_notebook

    path = NOTEBOOKS / name
    assert path.is_file(), f"missing notebook {path}"
    html_path = tmp_path / f"{path.stem}.html"
    nb = execute_notebook(path, out_html=html_path, parameters=parameters or None, cwd=NOTEBOOKS)
    tagged = [c for c in nb.cells if "key-results" in c.get("metadata", {}).get("tags", [])]
    assert tagged, f"{name} has no cell tagged 'key-results'"
    key = nb.metadata.get("evaltools", {}).get("key_results")
    assert key is not None, f"{name}: the key-results cell recorded nothing (record_key_results)"
    # the report for readers: no machinery in the rendered output
    shown = machinery_shown(nb)
    assert not shown, f"{name}: the rendered report shows {shown}"
    assert nb.metadata["evaltools"].get("parameters"), f"{name}: no checked parameters recorded"
    return key
