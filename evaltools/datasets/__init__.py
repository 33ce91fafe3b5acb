"""Small public datasets used in examples and reference tests.

Each dataset lives in its own sub-package with a ``DESCR`` (citation, licence,
provenance) and a ``load()`` function returning a DataFrame, e.g.
``from evaltools.datasets.rossi import load``.  :func:`available` lists them.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["available", "load"]


def available() -> list[str]:
    """Names of the bundled datasets."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def load(name: str):  # noqa: ANN201 - returns whatever the dataset's load() returns (a DataFrame)
    """Load a bundled dataset by name (see :func:`available`)."""
    names = available()
    if name not in names:
        from evaltools.exceptions import SpecificationError

        raise SpecificationError(f"Unknown dataset {name!r}. Available datasets: {names}.")
    return importlib.import_module(f"evaltools.datasets.{name}").load()
