"""Where rows come from, and value helpers shared by the contract modules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["Source"]


# -- where rows come from ----------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """Where a batch of rows comes from, for messages.

    Parameters
    ----------
    where : str
        The public function, e.g. ``"read_dream"``.
    name : str, default="DataFrame"
        File path or ``"DataFrame"``.
    first_line : int, optional
        File line number of the batch's first data row (2 for the first batch
        of a CSV with a header; blank lines are not counted).  ``None`` for
        DataFrames: rows are then named by position (``row 0`` is the first).
    """

    where: str
    name: str = "DataFrame"
    first_line: int | None = None

    def locate(self, positions: Iterable[int]) -> list[str]:
        """``"line 5"`` (files) or ``"row 3"`` (DataFrames) for batch positions."""
        if self.first_line is None:
            return [f"row {int(i)}" for i in positions]
        return [f"line {int(i) + self.first_line}" for i in positions]


def _py(x: object) -> object:
    return x.item() if isinstance(x, np.generic) else x


def _examples(
    mask: np.ndarray,
    source: Source,
    column: str,
    raw: np.ndarray,
    ids: np.ndarray | None = None,
    id_name: str | None = None,
    n: int = 3,
    formatted: bool = False,
) -> str:
    """``"row 3 PNR='0101' obs_end=nan; ..."`` for the first ``n`` rows in ``mask``.

    Values are shown with ``repr`` (so text, numbers and NaN stay apart) unless
    ``formatted`` says ``raw`` holds display strings already.
    """
    pos = np.flatnonzero(mask)
    shown = pos[:n]
    loc = source.locate(shown)
    parts = []
    for lo, i in zip(loc, shown.tolist()):
        who = f" {id_name}={_py(ids[i])!r}" if ids is not None and id_name and id_name != column else ""
        val = raw[i] if formatted else repr(_py(raw[i]))
        parts.append(f"{lo}{who} {column}={val}")
    return "; ".join(parts) + ("; ..." if len(pos) > n else "")


def _as_object(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Values as an object array with None for missing, and the missing mask."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pandas()
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    obj = s.astype(object).to_numpy()
    miss = np.asarray(pd.isna(obj), dtype=bool)
    if miss.any():
        obj = obj.copy()
        obj[miss] = None
    return obj, miss


def _kind(values: Any) -> str:
    """'bool', 'int', 'uint', 'float' or 'object' for an array-like column."""
    dt = getattr(values, "dtype", None)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        t = values.type
        if pa.types.is_boolean(t):
            return "bool"
        if pa.types.is_signed_integer(t):
            return "int"
        if pa.types.is_unsigned_integer(t):
            return "uint"
        if pa.types.is_floating(t):
            return "float"
        return "object"
    if dt is None:
        return "object"
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_unsigned_integer_dtype(dt):
        return "uint"
    if pd.api.types.is_integer_dtype(dt):
        return "int"
    if pd.api.types.is_float_dtype(dt):
        return "float"
    return "object"


def _numeric(values: Any) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pandas()
    if isinstance(values, pd.Series):
        if values.hasnans:
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return values.to_numpy()
    return np.asarray(values)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, (bool, np.bool_))
