"""Shared spell rules: left-censoring at the panel start and "within N months" on weekly data.

Used by :func:`evaltools.indicators.first_contact_within`,
:func:`evaltools.indicators.cohort_self_support` and the synthetic calibration
(:func:`evaltools.synth.calibration.calibration_statistics`), so that the
indicator and the calibration targets follow one definition.

Left-censoring (``left_censoring="panel_start"``, the rule of
:class:`evaltools.selection.DynamicEvaluation`): a spell is left-censored when
it starts in the person's first observed week (``obs_start``) *and* that week
is the first week of the panel's window (``panel.meta["first_week"]`` when
recorded, else the smallest ``obs_start``).  A person whose ``obs_start`` is
later entered the population during the window (immigrants arriving, persons
turning 16); nothing precedes the entry, so a spell starting there is new.
``left_censoring="obs_start"`` is the older rule: every spell starting at
``obs_start`` is left-censored.

"Within N months" (:func:`month_weeks`): the start week is elapsed week 0 and
an event in week ``w`` is within N months of a spell starting in week ``s`` if
``0 <= w - s <= floor(N * 52 / 12)``, i.e. at most N average months of
52/12 = 4.33 weeks later.  Source: ``seeds_digest.md`` section 7.1 (R1, R2:
"cumulative incidence at 4.3 and 13 weeks" after the spell start week, for
seed 004's "within 1 month" and "within 3 months").  1 month = weeks 0-4,
3 months = weeks 0-13, 6 months = weeks 0-26, 9 months = weeks 0-39.  On
weekly data this is calendar-consistent: with weeks dated by their Thursday
(the DREAM week-to-month convention, ``dream_domain.md`` sections 1.2 and 5), week
``s + 4`` is 28 days after week ``s`` and so always within one calendar month
(28-31 days), week ``s + 5`` (35 days) never is; for 3 months, week ``s + 13``
(91 days) is within 3 calendar months for spells starting in March-November
and one or two days beyond it for starts in December-February (89-90 days).
The domain notes (``dream_domain.md`` section 2) do not give jobindsats' own
text for the timeliness measures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from evaltools._validation import check_option
from evaltools.data.panel import RegisterPanel
from evaltools.exceptions import SpecificationError

__all__ = [
    "LEFT_CENSORING",
    "WEEKS_PER_MONTH",
    "panel_first_week",
    "left_censored",
    "month_weeks",
    "check_months",
    "within_weeks",
]

#: Options of the ``left_censoring`` parameters.
LEFT_CENSORING = ("panel_start", "obs_start")
#: Average number of weeks in a calendar month.
WEEKS_PER_MONTH = 52 / 12


def panel_first_week(panel: RegisterPanel) -> int:
    """First week of the panel's window: ``meta["first_week"]`` if recorded, else the least ``obs_start``.

    Parameters
    ----------
    panel : RegisterPanel
        The panel.

    Returns
    -------
    int
        Week index.
    """
    first = int(panel.persons["obs_start"].min())
    fw = panel.meta.get("first_week")
    if isinstance(fw, int | np.integer) and not isinstance(fw, bool):
        first = min(first, int(fw))
    return first


def left_censored(
    panel: RegisterPanel,
    person_id: np.ndarray,
    start_week: np.ndarray,
    rule: str = "panel_start",
    where: str = "left_censored",
) -> tuple[np.ndarray, np.ndarray]:
    """Flag spells (or entry weeks) whose start is left-censored.

    Parameters
    ----------
    panel : RegisterPanel
        The panel (``persons`` with ``obs_start``; ``meta["first_week"]`` if recorded).
    person_id, start_week : ndarray
        Person and first week of each spell.
    rule : {"panel_start", "obs_start"}, default="panel_start"
        ``"panel_start"``: left-censored if the spell starts at the person's
        ``obs_start`` and that is the panel's first week.  ``"obs_start"``: every
        spell starting at ``obs_start`` is left-censored (the older rule).
    where : str
        Caller's name for error messages.

    Returns
    -------
    left : ndarray of bool
        Left-censored spells.
    at_entry : ndarray of bool
        Spells starting at the person's ``obs_start`` (``left`` is a subset);
        ``at_entry & ~left`` are spells starting at entry into the population, kept.
    """
    check_option("left_censoring", rule, LEFT_CENSORING, where)
    obs_start = (
        panel.persons.set_index("person_id")["obs_start"].reindex(np.asarray(person_id)).to_numpy(dtype=float)
    )
    at_entry = np.asarray(start_week, dtype=float) <= obs_start
    left = at_entry.copy()
    if rule == "panel_start":
        left &= obs_start <= panel_first_week(panel)
    return left, at_entry


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
