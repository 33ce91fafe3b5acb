"""Week indices and observation windows: missing values, integrality and range before any cast."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np
import pandas as pd

from evaltools.data.contract._base import Source, _as_object, _examples, _is_number, _kind, _numeric
from evaltools.data.weeks import isoweek_to_index, week_label
from evaltools.exceptions import SpecificationError, WeekValueError

__all__ = [
    "FIRST_WEEK",
    "LAST_WEEK",
    "format_week",
    "check_weeks",
    "check_integers",
    "check_week_parameter",
    "current_week",
]

#: First plausible week index (ISO week 1900-W01).
FIRST_WEEK = int(isoweek_to_index(1900, 1))
#: Last plausible week index (ISO week 2099-W52).
LAST_WEEK = int(isoweek_to_index(2099, 52))


_NUMBER = re.compile(r"\s*[-+]?[0-9]+(\.[0-9]*)?\s*")


# -- weeks ----------------------------------------------------------------------------
def format_week(value: object) -> str:
    """A week value for messages: the raw value, with its ISO label when it is a plausible index."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return repr(value)
    if np.isfinite(v) and v == round(v) and FIRST_WEEK <= v <= LAST_WEEK:
        return f"{int(v)} ({week_label(int(v))})"
    return repr(value)


def _week_error(
    source: Source,
    column: str,
    what: str,
    mask: np.ndarray,
    raw: np.ndarray,
    ids: np.ndarray | None,
    id_name: str | None,
    fix: str,
    formatted: bool = False,
) -> None:
    n = int(np.count_nonzero(mask))
    raise WeekValueError(
        f"{source.where}: column {column!r} {what} in {n:,} of {len(mask):,} rows "
        f"(e.g. {_examples(mask, source, column, raw, ids, id_name, formatted=formatted)}). {fix}"
    )


def _integral(
    values: Any, column: str, source: Source, ids: np.ndarray | None, id_name: str, noun: str
) -> tuple[np.ndarray, np.ndarray]:
    """int64 values after the missing/boolean/text/integrality checks, and the raw values for messages."""
    kind = _kind(values)
    if kind in ("bool", "object"):
        raw, miss = _as_object(values)
    else:
        raw = _numeric(values)
        miss = np.isnan(raw) if raw.dtype.kind == "f" else np.zeros(len(raw), bool)
    if kind == "bool":
        _week_error(
            source, column, "holds booleans", np.ones(len(raw), bool), raw, ids, id_name, f"Give {noun}."
        )
    v = raw
    if kind == "object":
        inferred = pd.api.types.infer_dtype(raw, skipna=True) if len(raw) else "empty"
        if inferred not in ("integer", "floating", "mixed-integer-float", "empty", "decimal"):
            is_num = np.array([x is None or _is_number(x) for x in raw], dtype=bool)
            # digit strings (a text column from a file) are not the culprits: point at the others
            numeric_text = np.array(
                [isinstance(x, str) and _NUMBER.fullmatch(x) is not None for x in raw], dtype=bool
            )
            bad = ~is_num & ~numeric_text
            if not bad.any():
                bad = ~is_num
            _week_error(
                source,
                column,
                "holds text or other values that are not numbers",
                bad,
                raw,
                ids,
                id_name,
                f"Give {noun} as integers (the column must be numeric, not text).",
            )
        if miss.any():
            _week_error(source, column, "is missing", miss, raw, ids, id_name, "Every row needs a value.")
        try:
            v = raw.astype(np.int64) if inferred == "integer" else raw.astype(np.float64)
        except OverflowError:
            v = raw.astype(np.float64)
    if v.dtype.kind == "f":
        if miss.any():
            _week_error(source, column, "is missing", miss, raw, ids, id_name, "Every row needs a value.")
        bad = ~np.isfinite(v) | (v != np.round(v))
        if bad.any():
            _week_error(
                source,
                column,
                f"holds non-integral {noun}",
                bad,
                raw,
                ids,
                id_name,
                f"{noun.capitalize()} are whole numbers; round or fix them before reading.",
            )
        big = np.abs(v) > 2.0**62
        v = np.where(big, np.sign(v) * 2.0**62, v).astype(np.int64)
    elif v.dtype.kind == "u":
        v = np.minimum(v, np.uint64(2**62)).astype(np.int64)
    return v.astype(np.int64), raw


def check_weeks(
    values: Any,
    *,
    column: str,
    source: Source,
    ids: np.ndarray | None = None,
    id_name: str = "person_id",
    calendar: tuple[int, int] | None = None,
    calendar_name: str = "",
) -> np.ndarray:
    """Check week indices (or window bounds) and return them as int32.

    Parameters
    ----------
    values : Series, ndarray or pyarrow Array
        Week indices of one batch.
    column : str
        Column name, for messages.
    source : Source
        Function and file, for messages.
    ids : ndarray, optional
        Person id of each row, shown in the examples.
    id_name : str, default="person_id"
        Name of the id in the examples.
    calendar : (int, int), optional
        The data's own first and last week: values outside are an error.
    calendar_name : str
        What the calendar is, e.g. ``"the file's weekly columns y_0801..y_1252"``.

    Returns
    -------
    ndarray of int32

    Raises
    ------
    WeekValueError
        Missing, boolean, text, non-integral or out-of-range values; the
        message shows the raw values.
    """
    iv, raw = _integral(values, column, source, ids, id_name, "week indices")
    out = (iv < FIRST_WEEK) | (iv > LAST_WEEK)
    if out.any():
        _week_error(
            source,
            column,
            f"holds weeks outside the plausible range {FIRST_WEEK}..{LAST_WEEK} "
            f"({week_label(FIRST_WEEK)}..{week_label(LAST_WEEK)})",
            out,
            raw,
            ids,
            id_name,
            "Week indices count ISO weeks since 1990-W01; check the unit (weeks, not days or YYYYWW).",
        )
    if calendar is not None:
        lo, hi = calendar
        outside = (iv < lo) | (iv > hi)
        if outside.any():
            shown = np.full(len(iv), "", dtype=object)
            shown[outside] = [format_week(x) for x in iv[outside].tolist()]
            _week_error(
                source,
                column,
                f"holds weeks outside {calendar_name or 'the data calendar'} "
                f"({format_week(lo)}..{format_week(hi)})",
                outside,
                shown,
                ids,
                id_name,
                "Weeks outside the data would count as observed weeks without a code; keep the window "
                "inside the data's weeks.",
                formatted=True,
            )
    return iv.astype(np.int32)


def check_integers(
    values: Any,
    *,
    column: str,
    source: Source,
    bounds: tuple[int, int],
    noun: str,
    ids: np.ndarray | None = None,
    id_name: str = "person_id",
) -> np.ndarray:
    """Integral values inside ``bounds`` (inclusive), e.g. ISO years or ISO week numbers; int64."""
    iv, raw = _integral(values, column, source, ids, id_name, noun)
    out = (iv < bounds[0]) | (iv > bounds[1])
    if out.any():
        _week_error(
            source,
            column,
            f"holds {noun} outside {bounds[0]}..{bounds[1]}",
            out,
            raw,
            ids,
            id_name,
            f"Fix the {noun}.",
        )
    return iv


def check_week_parameter(value: object, *, name: str, where: str) -> int | None:
    """An int week parameter (``obs_start=...``): ``None``, or an integral week in the plausible range."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise SpecificationError(
            f"The {name!r} parameter of {where} must be an int week index (or None). Got {value!r} instead."
        )
    return int(check_weeks(np.array([value]), column=name, source=Source(where))[0])


def current_week(today: _dt.date | None = None) -> int:
    """Week index of the ISO week containing ``today`` (default: the system date)."""
    d = today or _dt.date.today()
    y, w, _ = d.isocalendar()
    return int(isoweek_to_index(y, w))
