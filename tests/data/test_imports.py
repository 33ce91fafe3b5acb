"""The data layer's modules import in one direction: panel -> checks -> spells (no cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "evaltools" / "data"


def _runtime_imports(path: Path) -> set[str]:
    """Modules imported when the module runs (module level or inside functions), not under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip |= {id(n) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("checks.py", {"evaltools.data.panel"}),
        ("spells.py", {"evaltools.data.panel", "evaltools.data.checks"}),
    ],
)
def test_no_import_cycle_between_panel_checks_and_spells(module, forbidden):
    assert not (_runtime_imports(DATA / module) & forbidden)
