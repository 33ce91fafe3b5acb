"""Progress bars for long work: tqdm's plain text bar, in a terminal and in notebooks alike.

``tqdm.auto`` picks the widget bar inside Jupyter and warns ("IProgress not
found") when ipywidgets is missing; widgets also do not survive rendering a
notebook to a static report.  The plain bar works everywhere: in a terminal it
writes to standard error, inside a Jupyter kernel to the cell's standard
output, where the rendered report shows its final state (steps done, elapsed
time).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar"]


def _in_kernel() -> bool:
    return "ipykernel" in sys.modules and type(sys.stdout).__module__.startswith("ipykernel")


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    leave: bool = True,
) -> Any:
    """A tqdm bar (disabled unless ``enabled``) that needs no widgets.

    Parameters
    ----------
    iterable : iterable, optional
        Items to iterate over.
    total : int, optional
        Number of steps (when updating by hand).
    desc : str, default=""
        Label in front of the bar.
    unit : str, default="it"
        Name of one step.
    enabled : bool, default=True
        False returns a silent bar with the same interface.
    leave : bool, default=True
        Keep the finished bar on screen.

    Returns
    -------
    tqdm.tqdm
    """
    from tqdm import tqdm

    kernel = _in_kernel()
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        leave=leave,
        file=sys.stdout if kernel else None,
        ncols=100 if kernel else None,
        mininterval=1.0 if kernel else 0.1,
    )
