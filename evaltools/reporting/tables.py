"""One table formatter for every table a reader sees: counts as integers, numbers rounded.

Result summaries, indicator tables, suppressed tables and the plain tables of
the notebooks all go through :func:`format_frame`, so a count is never shown
as ``1552.0``, a share never as ``0.442246`` and a missing value never as
``<NA>``.  Exports for further processing (CSV, Excel, ``to_frame``) keep the
exact numbers; only displays are formatted.

Rules, column by column:

* booleans: ``yes`` / ``no``;
* integers, and float columns whose values are all whole numbers (counts
  after a merge or a mask): thousands separators, no decimals;
* other numbers, ``mode="adaptive"`` (tables for readers): ``digits``
  decimals when the column's largest absolute value is below 10, one decimal
  fewer per further digit before the point (none from 1,000 with the default
  ``digits=3``), and no trailing zeros shared by the whole column; a column
  whose values differ in scale by more than a factor 100 (means of several
  covariates) is rounded value by value with the same rule;
  ``mode="fixed"`` (coefficient tables): ``digits`` decimals, scientific
  notation for very small or very large values;
* missing values: ``na`` (an en dash by default); masked cells keep the
  disclosure marker.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["format_frame", "show_table", "FormattedTable", "html_table", "NA_MARKER", "add_intervals"]

#: Shown for a missing value in a formatted table.
NA_MARKER = "\u2013"


def _is_missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, (float, np.floating)) and math.isnan(float(v))


def _numeric(col: pd.Series) -> pd.Series | None:
    """The column as float if every non-missing value is a (non-boolean) number, else None."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return None
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.astype("Float64").astype(float)
    vals = [v for v in col.tolist() if not _is_missing(v)]
    if not vals or not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                           for v in vals):
        return None
    return pd.to_numeric(col.astype(object).where(col.notna(), np.nan), errors="coerce").astype(float)


def _is_boolean(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col.dtype):
        return True
    vals = [v for v in col.tolist() if not _is_missing(v)]
    return bool(vals) and all(isinstance(v, (bool, np.bool_)) for v in vals)


def _decimals(values: np.ndarray, digits: int) -> int:
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return digits
    m = float(finite.max())
    d = digits if m < 10 else max(0, digits - int(math.floor(math.log10(m))))
    # no trailing zeros: fewer decimals when they show every value exactly (8.1 rather than 8.100)
    for k in range(d):
        if np.all(np.abs(np.round(finite, k) - finite) <= 1e-9 * np.maximum(1.0, finite)):
            return k
    return d


def _fmt_fixed(x: float, digits: int) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 10 ** (-digits)):
        return f"{x:.{digits}e}"
    return f"{x:,.{digits}f}"


def format_column(
    col: pd.Series, *, digits: int = 3, mode: str = "adaptive", na: str = NA_MARKER
) -> pd.Series:
    """Format one column as strings (see the module docstring for the rules)."""
    if _is_boolean(col):
        return col.map(lambda v: na if _is_missing(v) else ("yes" if bool(v) else "no"))
    num = _numeric(col)
    if num is None:
        # text, or numbers mixed with text (a disclosure marker): format the numbers among the text
        is_num = col.map(lambda v: isinstance(v, (int, float, np.integer, np.floating))
                         and not isinstance(v, (bool, np.bool_)) and not _is_missing(v))
        if not is_num.any():
            return col.map(lambda v: na if _is_missing(v) else str(v))
        numbers = format_column(col[is_num].astype(float), digits=digits, mode=mode, na=na)
        rest = col[~is_num].map(lambda v: na if _is_missing(v) else str(v))
        return pd.concat([numbers, rest]).reindex(col.index)
    vals = num.to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    integral = (finite.size > 0 and bool(np.all(finite == np.round(finite)))
                and float(np.abs(finite).max()) < 1e15)
    if integral:
        return pd.Series(
            [na if math.isnan(v) else (f"{v:,.0f}" if math.isfinite(v) else str(v)) for v in vals],
            index=col.index,
        )
    if mode == "fixed":
        return pd.Series([na if math.isnan(v) else _fmt_fixed(v, digits) for v in vals], index=col.index)
    nonzero = np.abs(finite[finite != 0])
    if nonzero.size and float(nonzero.max()) >= 10 and float(nonzero.max()) / float(nonzero.min()) > 100:
        # values of different scales in one column (means of several covariates): round each on its own
        return pd.Series(
            [na if math.isnan(v) else _fmt_value(v, _value_decimals(v, digits)) for v in vals],
            index=col.index,
        )
    d = _decimals(vals, digits)
    return pd.Series([na if math.isnan(v) else _fmt_value(v, d) for v in vals], index=col.index)


def _value_decimals(v: float, digits: int) -> int:
    a = abs(v)
    if a == 0 or not math.isfinite(a):
        return 0
    return digits if a < 10 else max(0, digits - int(math.floor(math.log10(a))))


def _fmt_value(v: float, d: int) -> str:
    if not math.isfinite(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:,.{d}f}"


def format_frame(
    data: pd.DataFrame,
    *,
    digits: int = 3,
    mode: str = "adaptive",
    mask: pd.DataFrame | None = None,
    mask_marker: str = "..",
    na: str = NA_MARKER,
) -> pd.DataFrame:
    """Format every cell of a table as a string for display.

    Parameters
    ----------
    data : DataFrame
        The table (not modified).
    digits : int, default=3
        Decimals for values below 10 (``mode="adaptive"``) or for all values
        (``mode="fixed"``).
    mode : {"adaptive", "fixed"}, default="adaptive"
        Rounding rule for non-integral numbers (module docstring).
    mask : DataFrame of bool, optional
        Cells to show as ``mask_marker`` (small-cell suppression).
    mask_marker : str, default=".."
        Text of a masked cell.
    na : str, default="\u2013"
        Text of a missing value.

    Returns
    -------
    DataFrame
        Same shape and labels, every cell a string.
    """
    out = pd.DataFrame(index=data.index)
    for j, name in enumerate(data.columns):
        col = data.iloc[:, j]
        if mask is not None:
            col = col.where(~mask.iloc[:, j].to_numpy(bool))
        f = format_column(col, digits=digits, mode=mode, na=na)
        if mask is not None:
            f = f.where(~mask.iloc[:, j].to_numpy(bool), mask_marker)
        out[name] = f.to_numpy()
    out.columns = data.columns
    return out


def _numeric_columns(data: pd.DataFrame) -> list[bool]:
    return [(_numeric(data.iloc[:, j]) is not None) and not _is_boolean(data.iloc[:, j])
            for j in range(data.shape[1])]


def _prepare(data: pd.DataFrame, mask: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Show a non-default index as leading columns; align the mask by position."""
    # an unnamed integer index is row numbering (also after sorting or filtering): not shown
    plain = data.index.nlevels == 1 and data.index.name is None and pd.api.types.is_integer_dtype(data.index)
    if plain:
        shown = data.reset_index(drop=True)
    else:
        shown = data.reset_index()
        if data.index.nlevels == 1 and data.index.name is None:
            shown = shown.rename(columns={shown.columns[0]: ""})  # row labels without a header
    if mask is None:
        return shown, None
    m = pd.DataFrame(np.asarray(mask, dtype=bool), columns=range(mask.shape[1]))
    extra = shown.shape[1] - m.shape[1]
    if extra:
        lead = pd.DataFrame(False, index=m.index, columns=[f"_i{k}" for k in range(extra)])
        m = pd.concat([lead, m], axis=1)
    m.columns = shown.columns
    return shown, m


def html_table(
    data: pd.DataFrame,
    *,
    title: str = "",
    footnotes: Sequence[str] = (),
    digits: int = 3,
    mode: str = "adaptive",
    mask: pd.DataFrame | None = None,
    mask_marker: str = "..",
) -> str:
    """HTML rendering of a table (numbers right-aligned), with a title and footnotes.

    A non-default index is shown as leading columns.
    """
    shown, mask = _prepare(data, mask)
    text = format_frame(shown, digits=digits, mode=mode, mask=mask, mask_marker=mask_marker)
    num = _numeric_columns(shown)
    head = "".join(
        f"<th class='{'num' if n else 'txt'}'>{html.escape(str(c))}</th>" for c, n in zip(shown.columns, num)
    )
    body = "".join(
        "<tr>" + "".join(
            f"<td class='{'num' if n else 'txt'}'>{html.escape(v)}</td>" for v, n in zip(row, num)
        ) + "</tr>"
        for row in text.itertuples(index=False, name=None)
    )
    cap = f"<div class='evaltools-caption'>{html.escape(title)}</div>" if title else ""
    notes = "".join(f"<div class='evaltools-notes'>{html.escape(f)}</div>" for f in footnotes)
    style = "<style>.evaltools-table td.num,.evaltools-table th.num{text-align:right}" \
            ".evaltools-table td.txt,.evaltools-table th.txt{text-align:left}</style>"
    return (
        f"<div class='evaltools-tablewrap'>{style}{cap}<table class='evaltools-table'>"
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{notes}</div>"
    )


def text_table(
    data: pd.DataFrame,
    *,
    title: str = "",
    footnotes: Sequence[str] = (),
    digits: int = 3,
    mode: str = "adaptive",
    mask: pd.DataFrame | None = None,
    mask_marker: str = "..",
) -> str:
    """Plain-text rendering of a table (same rules as :func:`html_table`)."""
    shown, mask = _prepare(data, mask)
    text = format_frame(shown, digits=digits, mode=mode, mask=mask, mask_marker=mask_marker)
    num = _numeric_columns(shown)
    cols = [str(c) for c in shown.columns]
    widths = [max([len(c)] + [len(v) for v in text.iloc[:, j]]) for j, c in enumerate(cols)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, num)).rstrip()

    rows = [line(r) for r in text.itertuples(index=False, name=None)]
    lines = ([title] if title else []) + [line(cols)] + rows
    return "\n".join(lines + list(footnotes))


class FormattedTable:
    """A table shown to readers: rounded numbers, integer counts, title and footnotes.

    Created by :func:`show_table`; :meth:`to_frame` returns the exact numbers.
    """

    def __init__(self, data: pd.DataFrame, *, title: str = "", footnotes: Sequence[str] = (),
                 digits: int = 3, mode: str = "adaptive") -> None:
        self._data = data.copy()
        self.title = title
        self.footnotes = tuple(footnotes)
        self.digits = digits
        self.mode = mode

    def to_frame(self) -> pd.DataFrame:
        """The exact table (a copy)."""
        return self._data.copy()

    def _repr_html_(self) -> str:
        return html_table(self._data, title=self.title, footnotes=self.footnotes, digits=self.digits,
                          mode=self.mode)

    def __str__(self) -> str:
        return text_table(self._data, title=self.title, footnotes=self.footnotes, digits=self.digits,
                          mode=self.mode)

    def __repr__(self) -> str:
        return f"<FormattedTable {self.title!r}: {self._data.shape[0]} rows x {self._data.shape[1]} columns>"


def show_table(
    data: pd.DataFrame | pd.Series,
    *,
    title: str = "",
    footnotes: Sequence[str] = (),
    digits: int = 3,
    mode: str = "adaptive",
    columns: Any = None,
) -> FormattedTable:
    """Wrap a table for display to readers (the notebooks' tables go through it).

    Parameters
    ----------
    data : DataFrame or Series
        The table; a Series becomes one column.
    title : str, default=""
        Caption above the table.
    footnotes : sequence of str, default=()
        Notes below the table.
    digits : int, default=3
        Decimals for values below 10 (see :func:`format_frame`).
    mode : {"adaptive", "fixed"}, default="adaptive"
        Rounding rule.
    columns : mapping, optional
        Renames columns for display (``{"n_treated": "placed persons"}``).

    Returns
    -------
    FormattedTable

    Examples
    --------
    >>> t = show_table(pd.DataFrame({"persons": [1552.0, 12.0], "share": [0.442246, 0.1]}))
    >>> print(t)
    persons  share
      1,552  0.442
         12  0.100
    """
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if columns:
        frame = frame.rename(columns=dict(columns))
    return FormattedTable(frame, title=title, footnotes=footnotes, digits=digits, mode=mode)


def add_intervals(
    data: pd.DataFrame,
    *,
    estimate: str = "estimate",
    se: str = "se",
    alpha: float = 0.05,
    exp: bool = False,
    lower: str = "lower",
    upper: str = "upper",
) -> pd.DataFrame:
    """Add normal-approximation confidence limits to a table of estimates and standard errors.

    For rows collected from several results (one estimate and standard error
    each); a single results object has ``conf_int()``.  The limits are
    ``estimate -/+ z se`` with ``z`` the ``1 - alpha/2`` normal quantile, and
    ``exp(...)`` of those with ``exp=True`` (hazard or odds ratios from log
    ratios).  A missing standard error gives missing limits.

    Parameters
    ----------
    data : DataFrame
        The table (not modified).
    estimate, se : str, default="estimate", "se"
        Columns of the estimate and its standard error.
    alpha : float, default=0.05
        One minus the confidence level.
    exp : bool, default=False
        Exponentiate the limits (the estimate column is left as it is).
    lower, upper : str, default="lower", "upper"
        Names of the new columns.

    Returns
    -------
    DataFrame
        A copy with the two columns added (or replaced).

    Raises
    ------
    SpecificationError
        If ``alpha`` is not in (0, 1) or a column is missing.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.5, 1.0], "se": [0.1, float("nan")]})
    >>> add_intervals(t).round(4).to_dict("list")
    {'estimate': [0.5, 1.0], 'se': [0.1, nan], 'lower': [0.304, nan], 'upper': [0.696, nan]}
    """
    from scipy import stats

    from evaltools.exceptions import SpecificationError

    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise SpecificationError(f"add_intervals: alpha must be a number in (0, 1); got {alpha!r}.")
    missing = [c for c in (estimate, se) if c not in data.columns]
    if missing:
        raise SpecificationError(
            f"add_intervals: column(s) {missing} not in the table; its columns are "
            f"{list(map(str, data.columns))}. "
            "Name them with estimate= and se=."
        )
    z = float(stats.norm.ppf(1 - alpha / 2))
    b = pd.to_numeric(data[estimate], errors="coerce").astype(float)
    s = pd.to_numeric(data[se], errors="coerce").astype(float)
    out = data.copy()
    lo, hi = b - z * s, b + z * s
    out[lower], out[upper] = (np.exp(lo), np.exp(hi)) if exp else (lo, hi)
    return out
