"""Shared validation helpers that build error messages in the evaltools style.

Messages name the parameter or column, the offending value or count, a few
example ids, and the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError

__all__ = [
    "check_option",
    "check_columns",
    "check_kwargs",
    "format_examples",
    "raise_for_rows",
    "warn_dropped",
]


def as_list(x: str | Sequence[str] | None) -> list[str]:
    """A column argument as a list: ``None`` -> ``[]``, ``"a"`` -> ``["a"]``, a sequence -> its list."""
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def check_option(name: str, value: Any, options: Iterable[Any], where: str) -> Any:
    """Check that ``value`` is one of ``options``.

    Parameters
    ----------
    name : str
        Parameter name, e.g. ``"ties"``.
    value : Any
        The value given by the user.
    options : iterable
        The allowed values.
    where : str
        The function or method, e.g. ``"CoxPH.fit"``.

    Returns
    -------
    Any
        ``value`` unchanged.

    Raises
    ------
    SpecificationError
        In the scikit-learn message form, listing every valid option.
    """
    opts = list(options)
    if value not in opts:
        kind = type(opts[0]).__name__ if opts else "value"
        shown = "{" + ", ".join(repr(o) for o in opts) + "}"
        raise SpecificationError(
            f"The {name!r} parameter of {where} must be a {kind} among {shown}. Got {value!r} instead."
        )
    return value


def check_kwargs(kwargs: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    """Reject unknown keyword arguments, listing the valid names."""
    allowed = sorted(allowed)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise SpecificationError(
            f"{where} got unexpected keyword argument(s) {unknown}. Valid names: {allowed}."
        )


def check_columns(data: pd.DataFrame, columns: Sequence[str], where: str, role: str = "") -> None:
    """Check that every name in ``columns`` is a column of ``data``.

    Raises
    ------
    DataValidationError
        Naming the missing columns and the columns that do exist.
    """
    missing = [c for c in columns if c not in data.columns]
    if missing:
        have = list(map(str, data.columns[:15]))
        more = "" if data.shape[1] <= 15 else f" (and {data.shape[1] - 15} more)"
        what = f" ({role})" if role else ""
        near = [
            f"{c!r} for {m!r}"
            for m in missing
            for c in map(str, data.columns)
            if "".join(c.split()).lower() == "".join(str(m).split()).lower()
        ]
        hint = f" Near misses (case or spaces): {', '.join(near[:5])}." if near else ""
        raise DataValidationError(
            f"{where}: column(s) {missing}{what} not found in the data. "
            f"Available columns: {have}{more}.{hint} Pass the right name or rename the column."
        )


def format_examples(
    frame: pd.DataFrame, mask: np.ndarray | pd.Series, columns: Sequence[str], n: int = 3
) -> str:
    """Format the first ``n`` offending rows as ``col=value col=value; ...``."""
    sub = frame.loc[np.asarray(mask, dtype=bool), list(columns)].head(n)
    parts = [" ".join(f"{c}={row[c]}" for c in columns) for _, row in sub.iterrows()]
    return "; ".join(parts) + ("; ..." if int(np.asarray(mask, dtype=bool).sum()) > n else "")


def raise_for_rows(
    frame: pd.DataFrame,
    mask: np.ndarray | pd.Series,
    *,
    rule: str,
    fix: str,
    columns: Sequence[str],
    n_examples: int = 3,
) -> None:
    """Raise :class:`DataValidationError` if any row in ``mask`` violates ``rule``.

    Parameters
    ----------
    frame : DataFrame
        The data being validated.
    mask : array of bool
        True for violating rows.
    rule : str
        The rule in words, e.g. ``"column 'stop' must be greater than 'start' in every row"``.
    fix : str
        What the user should do.
    columns : sequence of str
        Columns shown for the example rows (usually id and time).
    n_examples : int, default=3
        Number of example rows to show.
    """
    mask = np.asarray(mask, dtype=bool)
    n_bad = int(mask.sum())
    if n_bad == 0:
        return
    examples = format_examples(frame, mask, columns, n_examples)
    raise DataValidationError(
        f"{rule}; {n_bad:,} of {len(frame):,} rows violate this ({examples}). {fix}"
    )


def warn_dropped(n_dropped: int, n_total: int, reason: str, where: str, stacklevel: int = 3) -> None:
    """Issue a :class:`DroppedRowsWarning` with the count of removed rows (no-op for 0)."""
    if n_dropped:
        warnings.warn(
            f"{where}: dropped {n_dropped:,} of {n_total:,} rows ({reason}).",
            DroppedRowsWarning,
            stacklevel=stacklevel,
        )
