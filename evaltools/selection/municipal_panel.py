"""Unit x period panels for DiD estimators, built from evaltools indicator tables.

:func:`indicator_panel` turns an indicator table (e.g. :func:`evaltools.indicators.fte`
or :func:`evaltools.indicators.cohort_self_support` by municipality and quarter) into
the long panel that :class:`~evaltools.selection.StaggeredDiD` and the two-way
fixed-effects recipes in :mod:`evaltools.selection.panel` take: one row per unit and
period, an integer period index ``t`` (1, 2, ... in calendar order) and, given the
periods in which units adopted a reform, the first treated period ``first_treated``
(0 for units that never adopt within the panel).

Suppressed cells are handled explicitly.  An exported indicator masks cells based on
1-3 persons (and complementary cells); a masked cell carries no number and is never
read as zero.  ``masked="error"`` (the default) stops with the count and examples;
``masked="drop"`` removes every unit with a masked cell, with a warning that counts
units and cells (the staggered estimator needs a balanced panel).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, check_option, format_examples
from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError
from evaltools.indicators._table import IndicatorTable
from evaltools.reporting.disclosure import SuppressedTable

__all__ = ["indicator_panel"]

_W = "indicator_panel"
_MASKED = ("error", "drop")


def indicator_panel(
    table: IndicatorTable | SuppressedTable | pd.DataFrame,
    *,
    value: str,
    unit: str = "municipality",
    time: str = "period",
    adoption: Mapping[Any, Any] | pd.Series | None = None,
    masked: str = "error",
    suppress: bool = True,
    threshold: int = 3,
) -> pd.DataFrame:
    """Long unit x period panel of one indicator, with masked cells handled explicitly.

    Parameters
    ----------
    table : IndicatorTable, SuppressedTable or DataFrame
        An indicator by ``unit`` and ``time`` (no other key columns: filter or
        aggregate them first).  An :class:`~evaltools.indicators.IndicatorTable` is
        suppressed first (unless ``suppress=False``); for a
        :class:`~evaltools.reporting.SuppressedTable` its mask is used; in a plain
        DataFrame a missing ``value`` counts as masked.
    value : str
        Indicator column, e.g. ``"share"`` or ``"fte"``.
    unit, time : str, default="municipality", "period"
        Unit and period columns.  Period labels must sort in calendar order (the
        evaltools labels ``"2012-Q3"``, ``"2012-03"``, ``"2012"`` do).
    adoption : mapping or Series, optional
        Period label in which each unit adopted the reform (missing or absent: never
        within the data).  Adds ``first_treated``: the period index of adoption, 0 for
        never; a label after the last period also gives 0 (treated after the window), one
        before the first period gives 1 (already treated; StaggeredDiD drops such units).
    masked : {"error", "drop"}, default="error"
        What to do with suppressed (masked) cells: raise, or drop every unit that has one
        (counted in a warning).
    suppress : bool, default=True
        For an IndicatorTable: use the suppressed export (masked cells unknown, as outside
        the secure environment); ``False`` uses the exact numbers of ``table.data``.
    threshold : int, default=3
        Suppression threshold for an IndicatorTable (cells with 1..threshold persons).

    Returns
    -------
    DataFrame
        Columns ``unit``, ``time`` (the label), ``t`` (1, 2, ... in label order),
        ``value``, the table's person count when present, and ``first_treated`` if
        ``adoption`` is given; one row per unit and period.  ``attrs["periods"]`` lists
        the labels in order and ``attrs["dropped_units"]`` the units removed.

    Raises
    ------
    DataValidationError
        Masked cells with ``masked="error"``, duplicated unit-period rows, or an
        adoption label that is not a period of the table but lies inside its range.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaltools.selection import indicator_panel
    >>> tab = pd.DataFrame({"municipality": ["A", "A", "B", "B"], "period": ["2012-Q1", "2012-Q2"] * 2,
    ...                     "share": [0.2, 0.3, 0.4, 0.5]})
    >>> indicator_panel(tab, value="share", adoption={"A": "2012-Q2"})[["municipality", "t", "first_treated"]]
      municipality  t  first_treated
    0            A  1              2
    1            A  2              2
    2            B  1              0
    3            B  2              0
    """
    check_option("masked", masked, _MASKED, _W)
    count_col = None
    if isinstance(table, IndicatorTable):
        count_col = table.count_col
        if suppress:
            st = table.suppressed(threshold=threshold)
            frame, mask = st.table, st.mask
        else:
            frame = table.data
            mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    elif isinstance(table, SuppressedTable):
        frame, mask = table.table, table.mask
    elif isinstance(table, pd.DataFrame):
        frame = table
        mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    else:
        raise SpecificationError(
            f"{_W}: 'table' must be an IndicatorTable, SuppressedTable or DataFrame; "
            f"got {type(table).__name__}."
        )
    check_columns(frame, [unit, time, value], _W)
    keep_cols = [unit, time, value] + ([count_col] if count_col and count_col in frame.columns else [])
    out = frame[keep_cols].copy().reset_index(drop=True)
    is_masked = (
        mask[value].to_numpy(dtype=bool) if value in mask.columns else np.zeros(len(frame), dtype=bool)
    ) | out[value].isna().to_numpy()
    dup = out.duplicated([unit, time], keep=False).to_numpy()
    if dup.any():
        others = [c for c in frame.columns if c not in keep_cols]
        raise DataValidationError(
            f"{_W}: each ({unit}, {time}) pair must occur once; {int(dup.sum()):,} rows share a pair "
            f"({format_examples(out, dup, [unit, time])}). The table has further columns {others[:6]}: "
            "filter it to one level of the other keys (or aggregate) first."
        )
    dropped: list[Any] = []
    if is_masked.any():
        if masked == "error":
            raise DataValidationError(
                f"{_W}: {int(is_masked.sum()):,} of {len(out):,} cells of {value!r} are suppressed (masked) "
                f"or missing ({format_examples(out, is_masked, [unit, time])}); they are unknown, not zero. "
                "Pass masked='drop' to drop the units that have one, use larger units or periods, or "
                "(inside the secure environment) suppress=False."
            )
        bad_units = pd.unique(out.loc[is_masked, unit])
        drop = out[unit].isin(bad_units).to_numpy()
        warnings.warn(
            f"{_W}: dropped {len(bad_units):,} units ({int(drop.sum()):,} rows) with "
            f"{int(is_masked.sum()):,} suppressed or missing cells of {value!r} "
            f"(e.g. {', '.join(map(str, bad_units[:3]))}).",
            DroppedRowsWarning,
            stacklevel=2,
        )
        dropped = list(bad_units)
        out = out.loc[~drop].reset_index(drop=True)
    periods = sorted(pd.unique(frame[time]).tolist())
    index = {p: i + 1 for i, p in enumerate(periods)}
    out["t"] = out[time].map(index).astype(int)
    if adoption is not None:
        adopt = pd.Series(adoption, dtype=object) if not isinstance(adoption, pd.Series) else adoption
        first = out[unit].map(adopt)

        def code(label: Any) -> int:
            if label is None or (isinstance(label, float) and np.isnan(label)) or pd.isna(label):
                return 0
            if label in index:
                return index[label]
            try:
                if label > periods[-1]:
                    return 0
                if label < periods[0]:
                    return (
                        1  # adopted before the panel: treated in the first period (dropped by StaggeredDiD)
                    )
            except TypeError:
                pass
            raise DataValidationError(
                f"{_W}: adoption period {label!r} is not a period of the table (periods "
                f"{periods[0]}..{periods[-1]}). Give adoption in the table's period labels."
            )

        out["first_treated"] = first.map(code).astype(int)
    out = out.sort_values([unit, "t"], kind="stable").reset_index(drop=True)
    out.attrs["periods"] = periods
    out.attrs["dropped_units"] = dropped
    return out
