"""Comparison groups for static evaluation designs on spell panels.

The "not yet treated" comparison of a static design draws reference weeks from
benefit spells before a person's first treatment start (Sianesi 2004; the
risk-set idea of Lechner 1999 and of the Danish register evaluations, e.g.
Rosholm & Svarer 2008): a placed person at week *s* is compared with persons
on benefit at comparable points of their spells who have not been placed yet.
:func:`sample_not_yet_treated` draws such person-weeks with equal probability
per at-risk week; :class:`~evaltools.selection.DynamicEvaluation` does the
same comparison week by week without sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltools._validation import check_columns
from evaltools.exceptions import SpecificationError

__all__ = ["NotYetTreatedDraws", "sample_not_yet_treated"]


@dataclass(frozen=True)
class NotYetTreatedDraws:
    """Reference weeks drawn from the not-yet-treated part of benefit spells.

    Attributes
    ----------
    data : DataFrame
        One row per kept draw: the spell's columns and ``week`` (the reference
        week), in draw order, with a fresh ``RangeIndex``.
    n_at_risk : int
        Spell-weeks at risk of being drawn (before the first treatment start).
    n_drawn : int
        Draws made (with replacement).
    n_busy : int
        Draws that fell inside another programme (``busy`` interval) and were discarded.
    n_repeated : int
        Draws of a person-week already drawn, discarded.
    """

    data: pd.DataFrame
    n_at_risk: int
    n_drawn: int
    n_busy: int
    n_repeated: int

    @property
    def counts(self) -> dict[str, int]:
        """The counts as a dict (for a table of the sample flow)."""
        return {"at_risk": self.n_at_risk, "drawn": self.n_drawn, "busy": self.n_busy,
                "repeated": self.n_repeated, "kept": len(self.data)}


def sample_not_yet_treated(
    spells: pd.DataFrame,
    first_start: pd.Series,
    *,
    n: int | None = None,
    per_treated: float | None = None,
    n_treated: int | None = None,
    busy: pd.DataFrame | None = None,
    seed: int | np.random.Generator | None = None,
    id: str = "person_id",
    start: str = "start_week",
    end: str = "end_week",
    busy_start: str = "act_week",
    busy_end: str = "act_end",
) -> NotYetTreatedDraws:
    """Draw reference weeks from benefit spells before each person's first treatment start.

    Every spell is cut at the week before the person's first start (spells of
    persons never treated are kept whole); a week of the remaining spell time
    is then drawn ``n`` times with replacement, each at-risk week with the same
    probability (a spell is drawn with probability proportional to its at-risk
    length, then a week uniformly inside it).  Draws inside a ``busy``
    interval of the same person (another programme running that week) are
    discarded, and so are repeats of a person-week already drawn; both are
    counted.

    Parameters
    ----------
    spells : DataFrame
        Benefit spells, one row per spell with ``id``, ``start`` and ``end``
        (inclusive week indices); other columns are carried along.  Not modified.
    first_start : Series
        First treatment start week, indexed by person id (persons absent: never treated).
    n : int, optional
        Number of draws.  Give either ``n`` or ``per_treated`` with ``n_treated``.
    per_treated, n_treated : float and int, optional
        Draw ``per_treated * max(n_treated, 1)`` times, but never more often
        than there are at-risk weeks.
    busy : DataFrame, optional
        Intervals ``[busy_start, busy_end]`` (inclusive) per person during which
        a week is not a valid reference week (e.g. all programme participations).
    seed : int or numpy Generator, optional
        Random numbers for the draw (the same seed gives the same draws).
    id, start, end : str
        Columns of ``spells``.
    busy_start, busy_end : str
        Columns of ``busy``.

    Returns
    -------
    NotYetTreatedDraws

    Raises
    ------
    SpecificationError
        If both or neither of ``n`` and ``per_treated`` are given, or a count is negative.
    DataValidationError
        If a named column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> spells = pd.DataFrame({"person_id": [1, 2], "start_week": [10, 10], "end_week": [19, 29]})
    >>> draws = sample_not_yet_treated(spells, pd.Series({1: 15}), n=50, seed=0)
    >>> draws.n_at_risk  # person 1: weeks 10-14 (placed in week 15); person 2: weeks 10-29
    25
    >>> bool(draws.data.query("person_id == 1")["week"].max() <= 14)
    True
    """
    where = "sample_not_yet_treated"
    check_columns(spells, [id, start, end], where=where)
    if (n is None) == (per_treated is None):
        raise SpecificationError(f"{where}: give either n= or per_treated= (with n_treated=); got n={n!r}, "
                                 f"per_treated={per_treated!r}.")
    sp = spells.copy()
    fp = sp[id].map(first_start)
    cut = np.minimum(sp[end].to_numpy(), fp.fillna(0).to_numpy() - 1)
    sp[end] = np.where(fp.notna().to_numpy(), cut, sp[end].to_numpy())
    sp = sp[sp[end] >= sp[start]]
    length = (sp[end] - sp[start] + 1).astype(float)
    n_at_risk = int(length.sum())
    if n is None:
        if n_treated is None or n_treated < 0 or per_treated is None or per_treated < 0:
            raise SpecificationError(f"{where}: per_treated= needs n_treated= (both non-negative); got "
                                     f"per_treated={per_treated!r}, n_treated={n_treated!r}.")
        n = min(int(per_treated * max(n_treated, 1)), n_at_risk)
    if n < 0:
        raise SpecificationError(f"{where}: n must be non-negative; got {n}.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if n_at_risk == 0 or n == 0:
        empty = sp.iloc[:0].assign(week=pd.Series(dtype="int64"))
        return NotYetTreatedDraws(empty.reset_index(drop=True), n_at_risk, 0, 0, 0)
    draw = sp.sample(n=n, replace=True, weights=length, random_state=rng).reset_index(drop=True)
    draw["week"] = draw[start] + np.floor(rng.random(len(draw)) * (draw[end] - draw[start] + 1)).astype(int)
    n_busy = 0
    if busy is not None:
        check_columns(busy, [id, busy_start, busy_end], where=where)
        inside = draw[[id, "week"]].reset_index().merge(busy[[id, busy_start, busy_end]], on=id)
        during = (inside[busy_start] <= inside["week"]) & (inside[busy_end] >= inside["week"])
        hit = inside.loc[during, "index"]
        is_busy = draw.index.isin(hit.unique())
        n_busy = int(is_busy.sum())
        draw = draw[~is_busy]
    kept = draw.drop_duplicates([id, "week"])
    n_repeated = len(draw) - len(kept)
    return NotYetTreatedDraws(kept.reset_index(drop=True), n_at_risk, n, n_busy, n_repeated)
