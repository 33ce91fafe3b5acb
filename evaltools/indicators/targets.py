"""Result targets in full-time persons and the target table (as in municipal employment plans).

A target names a code selection, a person selection and an age range; the table
compares the full-time persons of a baseline and an actual period with the
target level, with the same definition and disclosure control as
:func:`evaltools.indicators.fte`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltools._validation import check_option
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import week_label
from evaltools.exceptions import SpecificationError
from evaltools.indicators import _core
from evaltools.indicators import _dask as _dk
from evaltools.indicators import _linkage as lk
from evaltools.indicators._core import DEFAULT_AGE_BANDS, Context
from evaltools.indicators._table import IndicatorTable
from evaltools.indicators.fte import _context

__all__ = ["FTETarget", "target_table"]


@dataclass(frozen=True)
class FTETarget:
    """A result target in full-time persons (as in Herlev Kommune's Beskæftigelsesplan 2018).

    Parameters
    ----------
    name : str
        Label, e.g. ``"1.b A-dagpenge"``.
    target : float
        Target level in full-time persons.
    codes_where : mapping
        Code selection, e.g. ``{"benefit": "adagpenge"}``.
    persons_where : mapping, optional
        Person selection, e.g. ``{"municipality": "Herlev"}``.
    ages : (int, int), optional
        Age limits, e.g. ``(16, 29)`` for "under 30".  Default (16, 66).
    direction : {"at_most", "at_least"}, default="at_most"
        Whether the target is a ceiling (benefit volumes) or a floor.
    """

    name: str
    target: float
    codes_where: Mapping[str, object]
    persons_where: Mapping[str, object] | None = None
    ages: tuple[int, int] | None = (16, 66)
    direction: str = "at_most"


def _target_counts(
    panel: RegisterPanel, where: str, ctxs: Sequence[Sequence[Context]]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Person-weeks and persons per target and window, and the atoms of the target linkage.

    Returns ``counts`` of shape ``(n_targets, 2, 2)`` (window baseline/actual x
    person-weeks/persons) and the distinct non-zero target signatures of
    baseline rows, actual rows and persons (see :func:`_linkage.target_linkage`).
    """
    counts = np.zeros((len(ctxs), 2, 2))
    selected: dict[str, list[np.ndarray]] = {"baseline": [], "actual": []}
    arrays = None
    for i, pair in enumerate(ctxs):
        for k, (label, ctx) in enumerate(zip(("baseline", "actual"), pair)):
            tab = _core.tabulate(panel.states, ctx, panel.codes.codes, where)
            if arrays is None:
                arrays = _core.states_arrays(panel.states, ctx, panel.codes.codes, where)
            selected[label].append(_core.select_rows(*arrays, ctx))
            counts[i, k] = (tab["person_weeks"][0], tab["persons"][0])
    atoms = lk.target_atoms(selected, arrays[0] if arrays is not None else np.zeros(0, np.int64), len(ctxs),
                            len(ctxs[0][0].person_ids) if ctxs else 0)
    return counts, atoms


def target_table(
    panel: RegisterPanel,
    targets: Sequence[FTETarget],
    *,
    baseline: tuple[int, int],
    actual: tuple[int, int],
) -> IndicatorTable:
    """Target attainment table in full-time persons.

    Parameters
    ----------
    panel : RegisterPanel or DaskPanel
        Weekly register panel, in memory or partitioned by person (identical results).
    targets : sequence of FTETarget
        The targets.
    baseline, actual : (int, int)
        First and last week (inclusive) of the baseline and follow-up windows;
        full-time persons = person-weeks in the window / weeks in the window.

    Returns
    -------
    IndicatorTable
        One row per target: ``target``, ``baseline_fte``, ``required_change``
        (target minus baseline), ``required_pct``, ``actual_fte``,
        ``actual_change``, ``gap`` (actual minus target), ``attained`` and
        ``persons`` (distinct persons in the follow-up window).
    """
    panel = _dk.as_panel(panel)
    where = "target_table"
    names = [getattr(t, "name", None) for t in targets]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1}, key=str)[:3]
        raise SpecificationError(
            f"{where}: target names must be unique; repeated: {dup}. Rename the targets."
        )
    if len(targets) > 62:
        raise SpecificationError(
            f"{where}: at most 62 targets per table; got {len(targets)}. Split the table."
        )
    ctxs: list[list[Context]] = []
    for t in targets:
        if not isinstance(t, FTETarget):
            raise SpecificationError(f"{where}: targets must be FTETarget objects; got {type(t).__name__}.")
        check_option("direction", t.direction, ("at_most", "at_least"), "FTETarget")
        ctxs.append(
            [
                _context(
                    panel,
                    where,
                    by=(),
                    period=None,
                    window=win,
                    codes_where=t.codes_where,
                    persons_where=t.persons_where,
                    ages=t.ages,
                    age_bands=DEFAULT_AGE_BANDS,
                )
                for win in (baseline, actual)
            ]
        )
    if _dk.is_shell(panel):
        parts = _dk.map_panels(
            panel,
            _target_counts,
            where,
            per_part=lambda a, b: ([[_dk.slice_context(c, a, b) for c in pair] for pair in ctxs],),
        )
        counts = np.sum([q[0] for q in parts], axis=0)
        u0, u1, u2 = (np.unique(np.concatenate([q[1][k] for q in parts])) for k in range(3))
        atoms = (u0, u1, u2)
    else:
        counts, atoms = _target_counts(panel, where, ctxs)
    rows = []
    for t, pair, cnt in zip(targets, ctxs, counts):
        vals = {
            label: (float(cnt[k, 0]) / int(ctx.periods.n_weeks[0]), int(cnt[k, 1]))
            for k, (label, ctx) in enumerate(zip(("baseline", "actual"), pair))
        }
        b, a = vals["baseline"][0], vals["actual"][0]
        ok = a <= t.target if t.direction == "at_most" else a >= t.target
        rows.append(
            {
                "target_name": t.name,
                "target": float(t.target),
                "baseline_fte": b,
                "required_change": t.target - b,
                "required_pct": 100 * (t.target - b) / b if b else np.nan,
                "actual_fte": a,
                "actual_change": a - b,
                "gap": a - t.target,
                "attained": bool(ok),
                "persons": vals["actual"][1],
            }
        )
    data = pd.DataFrame(rows)
    notes = [
        "Full-time persons = person-weeks on the selected codes in the window / weeks in the window.",
        f"Baseline weeks {week_label(baseline[0])}..{week_label(baseline[1])}; follow-up weeks "
        f"{week_label(actual[0])}..{week_label(actual[1])}.",
        "A target is attained when the follow-up level is at or below (ceilings) or at or above (floors) it.",
    ]
    link = lk.target_linkage(panel, data, atoms, baseline, actual) if len(data) else None
    return IndicatorTable(
        data,
        keys=["target_name"],
        count_col="persons",
        layout=([], None),
        title="Target attainment (full-time persons)",
        footnotes=notes,
        linkage=link,
    )
