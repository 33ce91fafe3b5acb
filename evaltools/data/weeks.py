"""ISO-week arithmetic for weekly register data.

evaltools stores a week as a single integer, the **week index**: the number of
ISO weeks since ISO week 1990-W01 (which starts on Monday 1 January 1990).
Consecutive weeks differ by exactly one, across year ends and ISO week-53
years (1992, 1998, 2004, 2009, 2015, 2020, 2026, ...), so durations are simple
differences.  All functions are vectorised over numpy arrays.

DREAM column names ``y_YYWW`` use a two-digit year with a pivot at 90
(``91``-``99`` -> 1991-1999, ``00``-``89`` -> 2000-2089).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from evaltools.exceptions import DataValidationError

__all__ = [
    "EPOCH",
    "DREAM_COLUMN",
    "isoweek_to_index",
    "index_to_isoweek",
    "weeks_in_year",
    "week_label",
    "week_monday",
    "week_month",
    "decimal_year",
    "dream_column",
    "parse_dream_columns",
]

#: Monday of ISO week 1990-W01; week index 0.
EPOCH = np.datetime64("1990-01-01", "D")
_EPOCH_DAYS = int(EPOCH.astype(np.int64))
#: Regular expression for a DREAM weekly column.
DREAM_COLUMN = re.compile(r"y_([0-9]{2})([0-9]{2})")


def _monday_of_week1(year: npt.ArrayLike) -> np.ndarray:
    """Day number (days since 1970-01-01) of the Monday of ISO week 1 of ``year``."""
    y = np.asarray(year, dtype=np.int64)
    jan4 = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) + 3
    weekday = (jan4 + 3) % 7  # Monday = 0 (1970-01-01 was a Thursday)
    return jan4 - weekday


def weeks_in_year(year: npt.ArrayLike) -> np.ndarray:
    """Number of ISO weeks (52 or 53) in each ``year``."""
    y = np.asarray(year, dtype=np.int64)
    return ((_monday_of_week1(y + 1) - _monday_of_week1(y)) // 7).astype(np.int64)


def isoweek_to_index(year: npt.ArrayLike, week: npt.ArrayLike, *, validate: bool = True) -> np.ndarray:
    """Convert ISO (year, week) pairs to week indices.

    Parameters
    ----------
    year, week : array_like of int
        ISO year and ISO week number (1-53).
    validate : bool, default=True
        Raise if a week number does not exist in its year (e.g. week 53 of 2019).

    Returns
    -------
    ndarray of int32
        Weeks since 1990-W01.
    """
    y = np.asarray(year, dtype=np.int64)
    w = np.asarray(week, dtype=np.int64)
    if validate:
        bad = (w < 1) | (w > weeks_in_year(y))
        if np.any(bad):
            yb, wb = np.broadcast_arrays(y, w)
            ex = ", ".join(f"{a}-W{b:02d}" for a, b in zip(yb[bad][:3], wb[bad][:3]))
            raise DataValidationError(
                f"{int(bad.sum())} ISO week(s) do not exist (e.g. {ex}); ISO years have 52 or 53 weeks "
                "(53 only in years such as 2004, 2009, 2015, 2020, 2026). Check the week numbers."
            )
    days = _monday_of_week1(y) + 7 * (w - 1)
    return ((days - _EPOCH_DAYS) // 7).astype(np.int32)


def week_monday(index: npt.ArrayLike) -> np.ndarray:
    """Monday (``datetime64[D]``) of each week index."""
    idx = np.asarray(index, dtype=np.int64)
    return (EPOCH + 7 * idx).astype("datetime64[D]")


def index_to_isoweek(index: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert week indices to ISO (year, week) arrays."""
    thursday = week_monday(index) + 3
    year = thursday.astype("datetime64[Y]").astype(np.int64) + 1970
    week = (thursday.astype(np.int64) - _monday_of_week1(year)) // 7 + 1
    return year.astype(np.int32), week.astype(np.int32)


def week_label(index: npt.ArrayLike) -> np.ndarray:
    """ISO labels such as ``"2019-W05"`` for week indices."""
    y, w = index_to_isoweek(index)
    return np.char.add(np.char.add(y.astype(str), "-W"), np.char.zfill(w.astype(str), 2))


def week_month(index: npt.ArrayLike) -> np.ndarray:
    """Calendar month (``datetime64[M]``) of each week, taken at its Thursday (DREAMtoolsR rule)."""
    return (week_monday(index) + 3).astype("datetime64[M]")


def decimal_year(index: npt.ArrayLike) -> np.ndarray:
    """Calendar time of week indices in years: ISO year plus the share of the ISO year elapsed.

    ISO week ``w`` of an ISO year with ``W`` weeks (52 or 53) is
    ``year + (w - 1) / W``: week 1 starts the year exactly, so
    ``decimal_year(i) >= 2010`` selects the weeks of ISO year 2010 on, and the
    value never reaches the next year.  Use it for ages and calendar-time
    covariates at a reference week (``decimal_year(week) - birth_year``) and
    for period filters by year.

    Parameters
    ----------
    index : array_like of int
        Week indices (weeks since 1990-W01).

    Returns
    -------
    ndarray of float64
        Same shape as ``index``.

    Examples
    --------
    >>> decimal_year(isoweek_to_index([2008, 2008, 2009], [1, 27, 53])).round(4).tolist()
    [2008.0, 2008.5, 2009.9811]
    """
    y, w = index_to_isoweek(index)
    return y.astype(np.float64) + (w.astype(np.float64) - 1.0) / weeks_in_year(y)


def dream_column(index: npt.ArrayLike) -> list[str]:
    """DREAM column names ``y_YYWW`` for week indices."""
    y, w = index_to_isoweek(np.atleast_1d(index))
    return [f"y_{yy % 100:02d}{ww:02d}" for yy, ww in zip(y.tolist(), w.tolist())]


def parse_dream_columns(columns: list[str], *, pivot: int = 90) -> dict[str, int]:
    """Map DREAM weekly column names to week indices.

    Parameters
    ----------
    columns : list of str
        Column names; those not matching ``y_YYWW`` exactly are ignored (see
        :func:`evaltools.data.contract.check_column_names` for near misses).
    pivot : int, default=90
        Two-digit years ``>= pivot`` are 19YY, the others 20YY.

    Returns
    -------
    dict
        ``{column: week_index}`` in the order given.

    Raises
    ------
    DataValidationError
        If a column names a week that does not exist (e.g. ``y_1953``).
    """
    names, years, weeks = [], [], []
    for c in columns:
        m = DREAM_COLUMN.fullmatch(str(c))
        if m:
            yy, ww = int(m.group(1)), int(m.group(2))
            names.append(c)
            years.append(1900 + yy if yy >= pivot else 2000 + yy)
            weeks.append(ww)
    if not names:
        return {}
    y = np.asarray(years)
    w = np.asarray(weeks)
    bad = (w < 1) | (w > weeks_in_year(y))
    if bad.any():
        ex = [n for n, b in zip(names, bad) if b][:5]
        raise DataValidationError(
            f"{int(bad.sum())} DREAM week column(s) name a week that does not exist: {ex}. "
            "ISO years have 52 weeks, or 53 in long years (e.g. 2004, 2009, 2015, 2020). "
            "Rename or drop these columns."
        )
    idx = isoweek_to_index(y, w, validate=False)
    return dict(zip(names, idx.tolist()))
