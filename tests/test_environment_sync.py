"""environment.yml must list every dependency of pyproject.toml (core and extras) with the same bound."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name where they differ.
CONDA_NAME = {"dask[dataframe]": "dask"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith("evaltools")]
    out = {}
    for r in reqs:
        name, spec = _split(r)
        out[CONDA_NAME.get(name, name)] = spec
    return out


def _conda_requirements() -> dict[str, str]:
    out = {}
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        if in_deps and line.strip().startswith("- "):
            name, spec = _split(line.strip()[2:])
            out[name] = spec
    return out


def test_every_pyproject_dependency_is_in_environment_yml() -> None:
    py = _pyproject_requirements()
    conda = _conda_requirements()
    missing = sorted(set(py) - set(conda))
    assert not missing, f"environment.yml lacks {missing}"
    differing = {k: (py[k], conda[k]) for k in py if py[k] != conda[k]}
    assert not differing, f"version bounds differ (pyproject, conda): {differing}"


def test_environment_yml_has_nothing_extra() -> None:
    py = _pyproject_requirements()
    conda = _conda_requirements()
    extra = sorted(set(conda) - set(py) - {"python", "pip"})
    assert not extra, f"environment.yml lists packages pyproject does not: {extra}"


def test_python_bound_matches() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert _conda_requirements()["python"] == data["project"]["requires-python"]
