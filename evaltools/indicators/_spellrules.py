"""Shared spell rule "within N months" on weekly data.

Used by :func:`evaltools.indicators.first_contact_within`,
:func:`evaltools.indicators.cohort_self_support` and the synthetic calibration
(:func:`evaltools.synth.calibration.calibration_statistics`), so that the
indicator and the calibration targets follow one definition.

Left-censoring at the panel start is :func:`evaltools.data.left_censored`,
the rule shared with :class:`evaltools.selection.DynamicEvaluation`.

"Within N months" (:func:`month_weeks`): the start week is elapsed week 0 and
an event in week ``w`` is within N months of a spell starting in week ``s`` if
``0 <= w - s <= floor(N * 52 / 12)``, i.e. at most N average months of
52/12 = 4.33 weeks later: the "within 1 month" and "within 3 months" of
Beskæftigelsesregion Nordjylland (2010), Figs. 1-2, read as cumulative
incidence at 4.3 and 13 weeks after the spell start week.  1 month = weeks 0-4,
3 months = weeks 0-13, 6 months = weeks 0-26, 9 months = weeks 0-39.  On
weekly data this is calendar-consistent: with weeks dated by their Thursday
(the DREAM week-to-month convention), week
``s + 4`` is 28 days after week ``s`` and so always within one calendar month
(28-31 days), week ``s + 5`` (35 days) never is; for 3 months, week ``s + 13``
(91 days) is within 3 calendar months for spells starting in March-November
and one or two days beyond it for starts in December-February (89-90 days).
jobindsats.dk's own definition of the timeliness measures may differ in
how it dates a month.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from evaltools.exceptions import SpecificationError

__all__ = ["WEEKS_PER_MONTH", "month_weeks", "check_months", "within_weeks"]

#: Average number of weeks in a calendar month.
WEEKS_PER_MONTH = 52 / 12


def month_weeks(months: float) -> int:
    """Last elapsed week (start week = 0) counted as within ``months`` months: ``floor(months * 52 / 12)``.

    Parameters
    ----------
    months : float
        Number of months (positive).

    Returns
    -------
    int
        E.g. 4 for 1 month, 13 for 3 months, 26 for 6 months, 39 for 9 months.
    """
    return int(math.floor(float(months) * WEEKS_PER_MONTH + 1e-9))


def check_months(months: Sequence[float], where: str) -> list[float]:
    """Validate month horizons (positive numbers); return them as floats."""
    try:
        out = [float(m) for m in months]
    except (TypeError, ValueError):
        out = []
    if not out or min(out) <= 0 or not all(math.isfinite(m) for m in out):
        raise SpecificationError(
            f"{where}: months must be a non-empty sequence of positive numbers of months; got {months!r}. "
            "Use e.g. months=(1, 3)."
        )
    return out


def within_weeks(start: np.ndarray, event: np.ndarray, end: np.ndarray, last_elapsed: int) -> np.ndarray:
    """Event in elapsed weeks ``0 .. last_elapsed`` of the spell and not after the spell's last week.

    Parameters
    ----------
    start, end : ndarray
        First and last week of each spell.
    event : ndarray
        Week of the first event on or after ``start`` (NaN if none).
    last_elapsed : int
        Last elapsed week counted (:func:`month_weeks` for month horizons).

    Returns
    -------
    ndarray of bool
    """
    ev = np.asarray(event, dtype=float)
    s = np.asarray(start, dtype=float)
    with np.errstate(invalid="ignore"):
        return (ev >= s) & (ev - s <= last_elapsed) & (ev <= np.asarray(end, dtype=float))
