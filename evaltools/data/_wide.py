"""The DREAM wide layout's parameters, week window, observation windows and calendar tables.

Shared by :func:`~evaltools.data.read_dream` and :func:`~evaltools.data.iter_dream`:
the parameter checks, the ``weeks=`` window, the observation windows from
``obs_start``/``obs_end``, and one batch's monthly (``branche_YYYY_MM``,
``grad_YYYY_MM``) and yearly (``akYY``) columns as calendar tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac

from evaltools._validation import check_columns, check_option
from evaltools.data._load import as_code_strings
from evaltools.data._reading import ABSORBING
from evaltools.data._sources import CodeLookup
from evaltools.data.codes import CodeTable
from evaltools.data.contract import Source, check_week_parameter, check_weeks
from evaltools.data.weeks import EPOCH, dream_column, isoweek_to_index, weeks_in_year
from evaltools.exceptions import SpecificationError, WeekValueError

__all__ = [
    "MONTHLY_COLUMN",
    "YEARLY_COLUMN",
    "TEXT_COLUMN",
    "MONTHLY_TABLE",
    "YEARLY_TABLE",
    "check_parameters",
    "observation_windows",
    "week_window",
    "month_weeks",
    "year_weeks",
    "year_of",
    "monthly_table",
    "yearly_table",
    "grad_as",
]

_ISO = re.compile(r"^\s*([0-9]{4})-?W([0-9]{1,2})\s*$")


MONTHLY_COLUMN = re.compile(r"^(branche|grad)_([0-9]{4})_([0-9]{2})$")
YEARLY_COLUMN = re.compile(r"^ak([0-9]{2})$")
#: Columns of a DREAM CSV read as text (ids are added by the reader).
TEXT_COLUMN = re.compile(r"y_[0-9]{4}|branche_[0-9]{4}_[0-9]{2}|ak[0-9]{2}")
MONTHLY_TABLE = "dream_monthly"
YEARLY_TABLE = "dream_yearly"


def month_weeks(year: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last week index whose Thursday falls in each calendar month."""
    first = (np.asarray(year) - 1970) * 12 + (np.asarray(month) - 1)
    d0 = first.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    d1 = (first + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
    e = int(EPOCH.astype(np.int64))
    # week whose Thursday is >= d0: Thursday of week w is e + 7w + 3
    w0 = -((-(d0 - e - 3)) // 7)
    w1 = (d1 - e - 3) // 7
    return w0.astype(np.int32), w1.astype(np.int32)


def year_weeks(year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(year, dtype=np.int64)
    return isoweek_to_index(y, 1), isoweek_to_index(y, weeks_in_year(y))


def check_parameters(where: str, id_col: object, pivot: object, codes: object, absorbing: object) -> None:
    if not isinstance(id_col, str):
        raise SpecificationError(
            f"The 'id_col' parameter of {where} must be a column name (str). Got {id_col!r}."
        )
    if isinstance(pivot, bool) or not isinstance(pivot, (int, np.integer)) or not 0 <= int(pivot) <= 99:
        raise SpecificationError(
            f"The 'pivot' parameter of {where} must be an int in 0..99 (two-digit years >= pivot are 19YY). "
            f"Got {pivot!r} instead."
        )
    if codes is not None and not isinstance(codes, CodeTable):
        raise SpecificationError(
            f"The 'codes' parameter of {where} must be a CodeTable. Got {type(codes).__name__} instead."
        )
    check_option("absorbing", absorbing, ABSORBING, where)


def observation_windows(
    df: pd.DataFrame,
    obs: tuple[object, object],
    lo: int,
    hi: int,
    src: Source,
    shown: np.ndarray,
    id_col: str,
) -> tuple[np.ndarray, np.ndarray, bool, set[str]]:
    """obs_start and obs_end per row, whether obs_end was given, and the columns used."""
    cal = (lo, hi)
    cal_name = f"the file's weekly columns {dream_column(lo)[0]}..{dream_column(hi)[0]}"
    out, used, given_end = [], set(), False
    for name, value, default in (("obs_start", obs[0], lo), ("obs_end", obs[1], hi)):
        if value is None and name in df.columns:
            value = name
        if value is None:
            out.append(np.full(len(df), default, dtype=np.int32))
            continue
        given_end |= name == "obs_end"
        if isinstance(value, str):
            check_columns(df, [value], f"{src.where}({name}=...)")
            used.add(value)
            out.append(
                check_weeks(
                    df[value],
                    column=value,
                    source=src,
                    ids=shown,
                    id_name=id_col,
                    calendar=cal,
                    calendar_name=cal_name,
                )
            )
        else:
            v = check_week_parameter(value, name=name, where=src.where)
            check_weeks(
                np.array([v]), column=name, source=Source(src.where), calendar=cal, calendar_name=cal_name
            )
            out.append(np.full(len(df), v, dtype=np.int32))
    start, end = out
    bad = end < start
    if bad.any():
        i = np.flatnonzero(bad)[:3]
        ex = "; ".join(
            f"{loc} {id_col}={shown[j]!r} obs_start={start[j]} obs_end={end[j]}"
            for loc, j in zip(src.locate(i), i.tolist())
        )
        raise WeekValueError(
            f"{src.where}: obs_end is before obs_start in {int(bad.sum()):,} rows (e.g. {ex}). "
            "Both weeks are "
            "inclusive; fix the observation window."
        )
    return start, end, given_end, used


def _parse_week(value: object, name: str, where: str) -> int:
    if isinstance(value, str):
        m = _ISO.match(value)
        if m:
            y, w = int(m.group(1)), int(m.group(2))
            if 1 <= w <= int(weeks_in_year(np.array([y]))[0]):
                return int(isoweek_to_index(y, w))
        raise SpecificationError(
            f"{where}: weeks={name} {value!r} is not an ISO week such as '2008-W01' (or a week index)."
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise SpecificationError(
            f"{where}: weeks= must be a pair of ISO weeks ('2008-W01', '2014-W52') or week indices; "
            f"got {value!r} as the {name} week."
        )
    return int(value)


def week_window(weeks: object, where: str) -> tuple[int, int] | None:
    """``weeks=(first, last)`` as week indices (inclusive), or ``None``."""
    if weeks is None:
        return None
    if not isinstance(weeks, (tuple, list)) or len(weeks) != 2:
        raise SpecificationError(
            f"{where}: weeks= must be a pair (first, last), e.g. ('2008-W01', '2014-W52'). Got {weeks!r}."
        )
    a, b = _parse_week(weeks[0], "first", where), _parse_week(weeks[1], "last", where)
    if b < a:
        raise SpecificationError(f"{where}: weeks={tuple(weeks)!r} ends before it starts.")
    return a, b


def year_of(m: re.Match, pivot: int) -> int:
    yy = int(m.group(1))
    return 1900 + yy if yy >= pivot else 2000 + yy


def _is_numeric_source(values: Any) -> bool | None:
    """True/False when the column's type decides it, ``None`` for CSV text (decided by the values)."""
    if isinstance(values, pd.Series):
        return bool(pd.api.types.is_numeric_dtype(values.dtype))
    t = values.type
    if pa.types.is_dictionary(t):
        return None
    return bool(
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_null(t)
    )


def _grad(values: Any, name: str, lookup: CodeLookup) -> tuple[pd.Series | np.ndarray, bool]:
    """Employment degree: float64 when numeric, else code strings; and whether it is numeric."""
    numeric = _is_numeric_source(values)
    if numeric:
        if isinstance(values, pd.Series):
            return values.astype(np.float64).to_numpy(), True
        return np.asarray(
            pac.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        ), True
    if numeric is False:
        return lookup.strings(values, name), False
    s = lookup.strings(values, name)
    try:
        pac.cast(pa.array(list(s.dropna().unique()), type=pa.string()), pa.float64())
    except pa.ArrowInvalid:
        return s, False
    return s, True


def monthly_table(
    monthly: Mapping[str, re.Match], cols: Mapping[str, Any], pid: np.ndarray, lookup: CodeLookup, n: int
) -> tuple[pd.DataFrame, bool]:
    """One batch's ``dream_monthly`` rows, and whether its ``grad`` values are all numbers."""
    by_month: dict[tuple[int, int], dict[str, str]] = {}
    for c, m in monthly.items():
        by_month.setdefault((int(m.group(2)), int(m.group(3))), {})[m.group(1)] = c
    grads = {c: _grad(cols[c], c, lookup) for c, m in monthly.items() if m.group(1) == "grad"}
    numeric = all(v[1] for v in grads.values())
    typed = all(isinstance(v[0], np.ndarray) for v in grads.values())  # numbers by the column type
    parts = []
    for (y, mo), cs in sorted(by_month.items()):
        b = (
            lookup.strings(cols[cs["branche"]], cs["branche"])
            if "branche" in cs
            else pd.Series(pd.NA, index=range(n), dtype="string")
        )
        if "grad" in cs:
            g = pd.Series(grads[cs["grad"]][0])
            if not typed and g.dtype != "string":
                g = as_code_strings(g, where=lookup.where)
        else:
            g = pd.Series(np.nan if typed else pd.NA, index=range(n), dtype="float64" if typed else "string")
        keep = b.notna().to_numpy() | g.notna().to_numpy()
        w0, w1 = month_weeks(np.array([y]), np.array([mo]))
        k = int(keep.sum())
        parts.append(
            pd.DataFrame(
                {
                    "person_id": pid[keep],
                    "week": np.full(k, w0[0], np.int32),
                    "end_week": np.full(k, w1[0], np.int32),
                    "month": f"{y:04d}-{mo:02d}",
                    "branche": b.to_numpy()[keep],
                    "grad": g.to_numpy()[keep],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["branche"] = out["branche"].astype("string")
    out["grad"] = out["grad"].astype(np.float64 if typed else "string")
    return out.sort_values(["person_id", "week"], kind="stable", ignore_index=True), numeric


def grad_as(monthly: pd.DataFrame, numeric: bool, where: str) -> pd.DataFrame:
    """The monthly table with ``grad`` as float64 (``numeric``) or as code strings."""
    g = monthly["grad"]
    if numeric and g.dtype != np.float64:
        cells = g.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # pandas-stubs lack na_value=None
        vals = pac.cast(pa.array(cells, type=pa.string()), pa.float64())
        return monthly.assign(grad=vals.to_numpy(zero_copy_only=False).astype(np.float64))
    if not numeric and g.dtype != "string":
        return monthly.assign(grad=as_code_strings(g, where=where).astype("string").to_numpy())
    return monthly


def yearly_table(
    yearly: Mapping[str, re.Match], cols: Mapping[str, Any], pid: np.ndarray, lookup: CodeLookup, pivot: int
) -> pd.DataFrame:
    """One batch's ``dream_yearly`` rows."""
    parts = []
    for c, m in yearly.items():
        y = year_of(m, pivot)
        v = lookup.strings(cols[c], c)
        keep = v.notna().to_numpy()
        w0, w1 = year_weeks(np.array([y]))
        k = int(keep.sum())
        parts.append(
            pd.DataFrame(
                {
                    "person_id": pid[keep],
                    "week": np.full(k, w0[0], np.int32),
                    "end_week": np.full(k, w1[0], np.int32),
                    "year": np.full(k, y, np.int16),
                    "ak": v.to_numpy()[keep],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["ak"] = out["ak"].astype("string")
    return out.sort_values(["person_id", "week"], kind="stable", ignore_index=True)
