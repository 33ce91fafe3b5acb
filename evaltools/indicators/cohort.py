"""Cohort and stock shares: self-support, job-ready share, timeliness of first contact.

These are the person-level shares of the Danish source reports:

* :func:`cohort_self_support`: share in self-support or ordinary education at
  an evaluation week among persons at most N weeks after their first week on an
  entry benefit (Rambøll 2018, *I mål med integration*, measure 1);
* :func:`job_ready_share`: share assessed job-ready among recipients of a benefit
  (Rambøll 2018, measure 2);
* :func:`first_contact_within`: share of new benefit spells with a first
  interview or offer within 1 and 3 months (Beskæftigelsesregion Nordjylland 2010,
  Figs. 1-2).

Left-censoring and the "within N months" rule are shared with the synthetic
calibration (:mod:`evaltools.indicators._spellrules`): a spell (or first entry
week) is left-censored only if it starts in the person's first observed week
and that week is the panel's first week; persons entering the population
during the window (immigrants, persons turning 16) start new spells at entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_option
from evaltools.data.panel import RegisterPanel
from evaltools.data.spells import LEFT_CENSORING, build_spells, left_censored
from evaltools.data.weeks import index_to_isoweek, week_label
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.indicators import _core
from evaltools.indicators import _dask as _dk
from evaltools.indicators import _linkage as lk
from evaltools.indicators._core import DEFAULT_AGE_BANDS
from evaltools.indicators._spellrules import check_months, month_weeks, within_weeks
from evaltools.indicators._table import IndicatorTable

__all__ = ["cohort_self_support", "job_ready_share", "first_contact_within"]


def _eval_weeks(
    panel: RegisterPanel, at: Sequence[int] | None, period: str, window: tuple[int, int] | None, where: str
) -> tuple[np.ndarray, list[str]]:
    if at is not None:
        w = np.unique(np.asarray(list(at), dtype=np.int64))
        return w, list(week_label(w))
    lo, hi = window if window is not None else panel.week_range
    p = _core.make_periods(int(lo), int(hi), period, where)
    return p.last.astype(np.int64), list(p.labels)


def _group_cols(
    frame: pd.DataFrame,
    panel: RegisterPanel,
    by: Sequence[str],
    age: np.ndarray | None,
    age_bands: Sequence[float],
    where: str,
) -> list[str]:
    cols = []
    for name in by:
        if name == "age_group":
            if age is None:
                raise SpecificationError(f"{where}: grouping by 'age_group' needs 'birth_year'.")
            edges = np.asarray(age_bands, dtype=float)
            b = np.searchsorted(edges, age, side="right") - 1
            labels = np.asarray(_core.band_labels(edges) + ["outside"], dtype=object)
            b = np.where((b < 0) | (b >= len(edges) - 1), len(edges) - 1, b)
            frame["age_group"] = labels[b]
        elif name in panel.persons.columns and name not in ("person_id", "obs_start", "obs_end"):
            if name not in frame.columns:
                frame[name] = (
                    panel.persons.set_index("person_id")[name].reindex(frame["person_id"]).to_numpy()
                )
        elif name != "benefit" or "benefit" not in frame.columns:
            raise SpecificationError(
                f"{where}: cannot group by {name!r}. Use person columns {list(panel.persons.columns[3:])} or "
                "'age_group'."
            )
        cols.append(name)
    return cols


def _ages(panel: RegisterPanel, person_ids: np.ndarray, weeks: np.ndarray, where: str) -> np.ndarray:
    if "birth_year" not in panel.persons.columns:
        raise DataValidationError(
            f"{where}: age limits need column 'birth_year' in panel.persons. Add it or pass ages=None."
        )
    by_ = panel.persons.set_index("person_id")["birth_year"].reindex(person_ids).to_numpy(dtype=float)
    return index_to_isoweek(weeks)[0].astype(float) - by_


def _state_at(panel: RegisterPanel, pid: np.ndarray, week: np.ndarray) -> np.ndarray:
    """Code (str) of each person at each week, or None where no code is registered."""
    st = panel.states
    sub = st[st["week"].isin(np.unique(week)) & st["person_id"].isin(np.unique(pid))]
    look = pd.DataFrame({"person_id": pid, "week": week})
    m = look.merge(sub.astype({"state": str}), on=["person_id", "week"], how="left")
    return m["state"].to_numpy(dtype=object)


def _cohort_counts(
    panel: RegisterPanel,
    weeks: np.ndarray,
    labels: list[str],
    entry: list[str],
    edu: list[str],
    max_since_entry: int,
    ages: tuple[int, int] | None,
    persons_where: Mapping[str, object] | None,
    by: Sequence[str],
    age_bands: Sequence[float],
    left_censoring: str | None,
    where: str,
) -> tuple[pd.DataFrame, list[str], dict[str, int]]:
    """Cohort counts per group and evaluation week of one panel (or partition), and the footnote counts."""
    ben = pd.Series(panel.codes.mapping("benefit"))
    cen = pd.Series(panel.codes.mapping("censoring"))
    st = panel.states
    is_entry = st["state"].astype(str).map(ben).isin(entry).to_numpy()
    first = st.loc[is_entry, ["person_id", "week"]].drop_duplicates("person_id")  # sorted: first week
    persons = panel.persons.set_index("person_id")
    ok_p = _core.person_filter(panel.persons, persons_where, where)
    first = first[first["person_id"].isin(panel.persons.loc[ok_p, "person_id"])]
    if left_censoring is None:
        left = np.zeros(len(first), dtype=bool)
        at_entry = left
    else:
        left, at_entry = left_censored(
            panel, first["person_id"].to_numpy(), first["week"].to_numpy(), left_censoring, where
        )
    n_left_persons, n_entry_kept = int(left.sum()), int((at_entry & ~left).sum())
    cens_first = pd.Series(left, index=first["person_id"].to_numpy())
    n_c, n_t = len(first), len(weeks)
    grid = pd.DataFrame(
        {
            "person_id": np.repeat(first["person_id"].to_numpy(), n_t),
            "entry": np.repeat(first["week"].to_numpy(np.int64), n_t),
            "week": np.tile(weeks, n_c),
            "period": np.tile(np.asarray(labels, dtype=object), n_c),
        }
    )
    t = grid["week"].to_numpy()
    e = grid["entry"].to_numpy()
    lo = persons["obs_start"].reindex(grid["person_id"]).to_numpy()
    hi = persons["obs_end"].reindex(grid["person_id"]).to_numpy()
    keep = (e <= t) & (t - e <= max_since_entry) & (lo <= t) & (t <= hi)
    left_rows = keep & cens_first.reindex(grid["person_id"]).to_numpy(dtype=bool)
    n_left_rows = int(left_rows.sum())
    keep &= ~left_rows
    age = None
    if ages is not None or "age_group" in by:
        age = _ages(panel, grid["person_id"].to_numpy(), t, where)
        if ages is not None:
            keep &= (age >= ages[0]) & (age <= ages[1])
    grid = grid[keep].reset_index(drop=True)
    age = age[keep] if age is not None else None
    state = _state_at(panel, grid["person_id"].to_numpy(), grid["week"].to_numpy())
    has = pd.notna(state)
    s_str = np.where(has, state, "")
    censored = has & pd.Series(s_str).map(cen).eq(True).to_numpy()
    n_cens = int(censored.sum())
    grid["self_support"] = ~has
    grid["education"] = has & pd.Series(s_str).map(ben).isin(edu).to_numpy()
    grid, age = grid[~censored], (age[~censored] if age is not None else None)
    cols = _group_cols(grid, panel, by, age, age_bands, where)
    agg = (
        grid.groupby([*cols, "period", "week"], dropna=False, observed=True)
        .agg(
            persons=("person_id", "size"),
            n_self_support=("self_support", "sum"),
            n_education=("education", "sum"),
        )
        .reset_index()
    )
    counts = {
        "n_left_persons": n_left_persons,
        "n_entry_kept": n_entry_kept,
        "n_left_rows": n_left_rows,
        "n_cens": n_cens,
    }
    return agg, cols, counts


def cohort_self_support(
    panel: RegisterPanel,
    *,
    entry_benefit: str | Sequence[str] = "integrationsydelse",
    max_since_entry: int = 156,
    at: Sequence[int] | None = None,
    period: str = "quarter",
    window: tuple[int, int] | None = None,
    by: Sequence[str] = ("municipality",),
    education_benefit: str | Sequence[str] | None = "su",
    ages: tuple[int, int] | None = (18, 64),
    persons_where: Mapping[str, object] | None = None,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS,
    left_censoring: str | None = "panel_start",
) -> IndicatorTable:
    """Share of an entry cohort in self-support or ordinary education at evaluation weeks.

    Population at evaluation week ``t``: persons whose first week on
    ``entry_benefit`` (over the whole panel) is at most ``max_since_entry`` weeks
    before ``t`` (and not after it), who are observed at ``t``
    (``obs_start <= t <= obs_end``), within ``ages`` at ``t`` and not in a
    censoring state at ``t``.  Self-support = no registered code at ``t``;
    ordinary education = a code of ``education_benefit`` at ``t``.

    A person whose first observed week on ``entry_benefit`` is left-censored
    (``left_censoring="panel_start"``: it is the person's ``obs_start`` and the
    panel's first week, so the person may have entered earlier) has an unknown
    time since entry and is left out of every evaluation week at most
    ``max_since_entry`` weeks after it (later weeks exclude the person anyway).
    Persons entering the population during the window (refugees starting
    integrationsydelse in their arrival week) are kept.  The counts are in the
    footnotes.

    Parameters
    ----------
    panel : RegisterPanel or DaskPanel
        Weekly register panel, in memory or partitioned by person (identical results).
    entry_benefit : str or sequence of str, default="integrationsydelse"
        Benefit group(s) whose first week defines entry.
    max_since_entry : int, default=156
        Largest number of weeks since entry (156 weeks ~ 36 months, the rule of Rambøll 2018).
    at : sequence of int, optional
        Evaluation weeks.  Default: the last week of each ``period`` in ``window``
        (Rambøll 2018 evaluates at the last week of the quarter).
    period : str, default="quarter"
        Period unit for the default evaluation weeks.
    window : (int, int), optional
        Weeks spanned by the default evaluation periods (default: the panel range).
    by : sequence of str, default=("municipality",)
        Person columns and/or ``"age_group"`` (age at ``t``).
    education_benefit : str or sequence of str or None, default="su"
        Benefit group(s) counted as ordinary education; ``None`` counts self-support only.
    ages : (int, int) or None, default=(18, 64)
        Age limits at ``t`` (age = ISO year minus birth year).
    persons_where : mapping, optional
        Person selection, e.g. ``{"origin": "non_western"}``.
    age_bands : sequence of float
        Edges for ``by="age_group"``.
    left_censoring : {"panel_start", "obs_start"} or None, default="panel_start"
        Which first entry weeks are left-censored: ``"panel_start"`` (at the
        person's ``obs_start`` and the panel's first week), ``"obs_start"``
        (every first entry week at ``obs_start``, also arrivals; the older
        spell rule) or ``None`` (none: the first observed week is taken as the
        entry week, the behaviour before this option existed).

    Returns
    -------
    IndicatorTable
        Keys, ``week`` (evaluation week), ``persons`` (cohort size),
        ``n_self_support``, ``n_education``, ``share`` (either),
        ``share_self_support`` and ``share_education``.
    """
    panel = _dk.as_panel(panel)
    where = "cohort_self_support"
    weeks, labels = _eval_weeks(panel, at, period, window, where)
    entry = [entry_benefit] if isinstance(entry_benefit, str) else list(entry_benefit)
    edu = (
        []
        if education_benefit is None
        else ([education_benefit] if isinstance(education_benefit, str) else list(education_benefit))
    )
    args: tuple[Any, ...] = (
        weeks, labels, entry, edu, max_since_entry, ages, persons_where, by, age_bands, left_censoring, where
    )
    if _dk.is_shell(panel):
        parts = _dk.map_panels(panel, _cohort_counts, *args)
        cols = parts[0][1]
        agg = _dk.add_tables([q[0] for q in parts], [*cols, "period", "week"], dropna=False, observed=True)
        tally = {k: sum(q[2][k] for q in parts) for k in parts[0][2]}
    else:
        agg, cols, tally = _cohort_counts(panel, *args)
    n_left_persons, n_entry_kept = tally["n_left_persons"], tally["n_entry_kept"]
    n_left_rows, n_cens = tally["n_left_rows"], tally["n_cens"]
    n = agg["persons"].to_numpy(float)
    agg["share"] = (agg["n_self_support"] + agg["n_education"]) / n
    agg["share_self_support"] = agg["n_self_support"] / n
    agg["share_education"] = agg["n_education"] / n
    agg["period"] = agg["period"].astype(str)
    notes = [
        f"Cohort: persons at most {max_since_entry} weeks after their first week on {entry}, observed at the "
        "evaluation week" + (f", aged {ages[0]}-{ages[1]}" if ages else "") + ".",
        "Self-support = no registered code in the evaluation week; ordinary education = a code of "
        f"{edu or 'no group'}.",
        f"{n_cens:,} person-weeks in a censoring state (emigrated, died, out of population) were left out.",
        _left_note(left_censoring, n_left_persons, n_left_rows, n_entry_kept, entry),
    ]
    counts = ("persons", "n_self_support", "n_education")
    link = _stock_linkage(
        panel,
        f"cohort[{entry},{max_since_entry},{edu},{left_censoring}]",
        agg,
        cols,
        persons_where,
        age_bands,
        ages,
        weeks,
        counts,
        {
            "share": (["n_self_support", "n_education"], "persons"),
            "share_self_support": (["n_self_support"], "persons"),
            "share_education": (["n_education"], "persons"),
        },
    )
    return IndicatorTable(
        agg,
        keys=[*cols, "period", "week"],
        count_col="persons",
        layout=(cols[:1], cols[1] if len(cols) > 1 else None),
        title="Share in self-support or ordinary education",
        footnotes=notes,
        extra_counts=["n_self_support", "n_education"],
        linkage=link,
    )


def _stock_linkage(
    panel: RegisterPanel,
    family: str,
    agg: pd.DataFrame,
    cols: Sequence[str],
    persons_where: Mapping[str, object] | None,
    age_bands: Sequence[float],
    ages: tuple[int, int] | None,
    weeks: np.ndarray,
    counts: Sequence[str],
    ratios: Mapping[str, tuple[list[str], str]],
) -> lk.Linkage:
    """Linkage of a table of persons counted at evaluation weeks (additive over person groups and ages)."""
    dims = lk.group_dims(panel, agg, cols, persons_where, age_bands, ages)
    dims["week"] = lk.Dim("set", columns=(("week", None),), universe=tuple(int(w) for w in weeks))
    meas = {c: lk.Measure(c, "count", additive=("person.*", "age")) for c in counts}
    return lk.Linkage(f"{family}@{lk.fingerprint(panel)}", dims, meas, zeros=True, ratios=ratios)


def _left_note(rule: str | None, n_persons: int, n_rows: int, n_entry: int, entry: list[str]) -> str:
    if rule is None:
        return (
            "No left-censoring (left_censoring=None): a first week on "
            f"{entry} at the start of observation is taken as the entry week."
        )
    what = (
        "at the person's first observed week that is also the panel's first week (already on the benefit "
        "when observation began)"
        if rule == "panel_start"
        else "at the person's first observed week"
    )
    return (
        f"Left-censored entry (left_censoring={rule!r}): {n_persons:,} persons with a first week on {entry} "
        f"{what} have an unknown time since entry and were left out ({n_rows:,} person-weeks within "
        f"the cohort window); {n_entry:,} persons whose first week is their entry into the population "
        "during the window were kept."
    )


def _job_ready_counts(
    panel: RegisterPanel,
    weeks: np.ndarray,
    labels: list[str],
    bens: list[str],
    rd: list[str],
    assessment: str,
    category_col: str,
    ages: tuple[int, int] | None,
    persons_where: Mapping[str, object] | None,
    by: Sequence[str],
    age_bands: Sequence[float],
    where: str,
) -> tuple[pd.DataFrame, list[str]]:
    """Recipients, job-ready and unassessed counts per group and evaluation week of a panel (or partition)."""
    ev = panel.events[assessment]
    codes = panel.codes.codes_where(benefit=bens)
    st = panel.states
    ok_p = panel.persons.loc[_core.person_filter(panel.persons, persons_where, where), "person_id"]
    rec = st[st["week"].isin(weeks) & st["state"].astype(str).isin(codes) & st["person_id"].isin(ok_p)]
    rec = rec[["person_id", "week"]].copy()
    rec["week"] = rec["week"].astype(np.int64)
    rec["period"] = np.asarray(labels, dtype=object)[np.searchsorted(weeks, rec["week"].to_numpy())]
    age = None
    if ages is not None or "age_group" in by:
        age = _ages(panel, rec["person_id"].to_numpy(), rec["week"].to_numpy(), where)
        if ages is not None:
            keep = (age >= ages[0]) & (age <= ages[1])
            rec, age = rec[keep], age[keep]
    e = ev[["person_id", "week", category_col]].rename(columns={"week": "a_week", category_col: "_cat"})
    e = e.assign(a_week=e["a_week"].astype(np.int64)).sort_values("a_week", kind="stable")
    rec = rec.reset_index(drop=True)
    rec["_row"] = np.arange(len(rec))
    m = pd.merge_asof(
        rec.sort_values("week", kind="stable"),
        e,
        left_on="week",
        right_on="a_week",
        by="person_id",
        direction="backward",
    ).sort_values("_row")
    rec["ready"] = m["_cat"].isin(rd).to_numpy()
    rec["unassessed"] = m["_cat"].isna().to_numpy()
    cols = _group_cols(rec, panel, by, age, age_bands, where)
    agg = (
        rec.groupby([*cols, "period", "week"], dropna=False, observed=True)
        .agg(persons=("person_id", "size"), n_ready=("ready", "sum"), n_unassessed=("unassessed", "sum"))
        .reset_index()
    )
    return agg, cols


def job_ready_share(
    panel: RegisterPanel,
    *,
    benefit: str | Sequence[str] = "integrationsydelse",
    assessment: str = "assessment",
    category_col: str = "category",
    ready: str | Sequence[str] = "jobparat",
    at: Sequence[int] | None = None,
    period: str = "month",
    window: tuple[int, int] | None = None,
    by: Sequence[str] = ("municipality",),
    ages: tuple[int, int] | None = None,
    persons_where: Mapping[str, object] | None = None,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS,
) -> IndicatorTable:
    """Share of benefit recipients whose latest assessment is job-ready.

    Population at evaluation week ``t``: persons with a code of ``benefit`` in
    week ``t``.  Their category is the one of the latest assessment event with
    ``week <= t`` (events table ``panel.events[assessment]``, column
    ``category_col``).  Recipients never assessed count in the denominator as not
    job-ready and are reported in ``n_unassessed``.

    Parameters
    ----------
    panel : RegisterPanel or DaskPanel
        Weekly register panel, in memory or partitioned by person (identical results).
    benefit : str or sequence of str, default="integrationsydelse"
        Benefit group(s) defining recipients.
    assessment : str, default="assessment"
        Name of the events table with assessments.
    category_col : str, default="category"
        Column of the events table with the assessed category.
    ready : str or sequence of str, default="jobparat"
        Categories counted as job-ready (e.g. ``"jobparat"`` or match group 1).
    at, period, window, by, ages, persons_where, age_bands
        As in :func:`cohort_self_support` (default evaluation week: last week of each month).

    Returns
    -------
    IndicatorTable
        Keys, ``week``, ``persons`` (recipients), ``n_ready``, ``n_unassessed`` and ``share``.
    """
    panel = _dk.as_panel(panel)
    where = "job_ready_share"
    if assessment not in panel.events:
        raise DataValidationError(
            f"{where}: the panel has no events table {assessment!r} (tables: {list(panel.events)}). "
            "Add assessment events (person_id, week, end_week, category) or pass assessment=...."
        )
    ev = panel.events[assessment]
    if category_col not in ev.columns:
        raise DataValidationError(
            f"{where}: events[{assessment!r}] has no column {category_col!r} (columns: {list(ev.columns)})."
        )
    weeks, labels = _eval_weeks(panel, at, period, window, where)
    bens = [benefit] if isinstance(benefit, str) else list(benefit)
    rd = [ready] if isinstance(ready, str) else list(ready)
    args: tuple[Any, ...] = (weeks, labels, bens, rd, assessment, category_col, ages, persons_where, by)
    args = (*args, age_bands, where)
    if _dk.is_shell(panel):
        parts = _dk.map_panels(panel, _job_ready_counts, *args)
        cols = parts[0][1]
        agg = _dk.add_tables([q[0] for q in parts], [*cols, "period", "week"], dropna=False, observed=True)
    else:
        agg, cols = _job_ready_counts(panel, *args)
    agg["share"] = agg["n_ready"] / agg["persons"]
    notes = [
        f"Job-ready share = recipients of {bens} in the evaluation week whose latest assessment up to then "
        f"is in {rd} / all recipients that week.",
        f"Recipients without any assessment so far are not job-ready ({int(agg['n_unassessed'].sum()):,} "
        "person-weeks).",
    ]
    link = _stock_linkage(
        panel,
        f"job_ready[{bens},{assessment},{category_col},{rd}]",
        agg,
        cols,
        persons_where,
        age_bands,
        ages,
        weeks,
        ("persons", "n_ready", "n_unassessed"),
        {"share": (["n_ready"], "persons")},
    )
    return IndicatorTable(
        agg,
        keys=[*cols, "period", "week"],
        count_col="persons",
        layout=(cols[:1], cols[1] if len(cols) > 1 else None),
        title="Job-ready share",
        footnotes=notes,
        extra_counts=["n_ready"],
        linkage=link,
    )


def _first_contact_counts(
    panel: RegisterPanel,
    bens: list[str],
    gap_rule: str | int,
    left_censoring: str,
    lo: int,
    hi: int,
    per: _core.Periods,
    event: str,
    persons_where: Mapping[str, object] | None,
    by: Sequence[str],
    age_bands: Sequence[float],
    hz: list[Any],
    last_elapsed: Mapping[Any, int],
    where: str,
) -> tuple[pd.DataFrame, list[str], int, int, dict[Any, int]]:
    """Spells, persons and spells with an event within each horizon, per group, of a panel or partition."""
    sp = build_spells(panel, benefit=bens, gap_rule=gap_rule)
    left, at_entry = left_censored(
        panel, sp["person_id"].to_numpy(), sp["start_week"].to_numpy(), left_censoring, where
    )
    sp = sp.assign(benefit=sp["benefit"].astype(str))
    in_win = sp["start_week"].between(lo, hi).to_numpy()
    n_left = int((left & in_win).sum())
    n_entry = int((at_entry & ~left & in_win).sum())
    sp = sp[~left & in_win]
    ok_p = panel.persons.loc[_core.person_filter(panel.persons, persons_where, where), "person_id"]
    sp = sp[sp["person_id"].isin(ok_p)].reset_index(drop=True)
    sp["period"] = np.asarray(per.labels, dtype=object)[per.of(sp["start_week"].to_numpy())]
    ev = panel.events[event][["person_id", "week"]].rename(columns={"week": "ev_week"})
    ev = ev.assign(ev_week=ev["ev_week"].astype(np.int64)).sort_values("ev_week", kind="stable")
    sp["_row"] = np.arange(len(sp))
    by_start = sp.assign(start_week=sp["start_week"].astype(np.int64))
    m = pd.merge_asof(
        by_start.sort_values("start_week", kind="stable"),
        ev,
        left_on="start_week",
        right_on="ev_week",
        by="person_id",
        direction="forward",
    ).sort_values("_row")
    ev_week = m["ev_week"].to_numpy(dtype=float)
    obs_end = panel.persons.set_index("person_id")["obs_end"].reindex(sp["person_id"]).to_numpy()
    age = None
    if "age_group" in by:
        age = _ages(panel, sp["person_id"].to_numpy(), sp["start_week"].to_numpy(), where)
    cols = _group_cols(sp, panel, by, age, age_bands, where)
    parts = []
    n_short = {}
    start = sp["start_week"].to_numpy()
    end = sp["end_week"].to_numpy()
    for h in hz:
        followed = start + last_elapsed[h] <= obs_end
        n_short[h] = int((~followed).sum())
        within = within_weeks(start, ev_week, end, last_elapsed[h])
        d = sp.loc[followed, [*cols, "period", "person_id"]].copy()
        d["within"] = within[followed]
        d["horizon"] = h
        parts.append(d)
    d = pd.concat(parts, ignore_index=True)
    agg = (
        d.groupby([*cols, "period", "horizon"], dropna=False, sort=True)
        .agg(spells=("within", "size"), persons=("person_id", "nunique"), n_within=("within", "sum"))
        .reset_index()
    )
    return agg, cols, n_left, n_entry, n_short


def first_contact_within(
    panel: RegisterPanel,
    *,
    event: str = "interview",
    months: Sequence[float] | None = None,
    horizons: Sequence[int] | None = None,
    benefit: str | Sequence[str] = ("adagpenge", "kontanthjaelp", "starthjaelp"),
    by: Sequence[str] = ("benefit",),
    period: str = "half_year",
    window: tuple[int, int] | None = None,
    gap_rule: str | int = "any_week",
    left_censoring: str = "panel_start",
    persons_where: Mapping[str, object] | None = None,
    age_bands: Sequence[float] = (0, 30, np.inf),
) -> IndicatorTable:
    """Share of new benefit spells with a first event (interview, offer) within N months of the start.

    **Within N months** (the default, ``months=(1, 3)``, Beskæftigelsesregion Nordjylland
    2010, Figs. 1-2):
    the spell's first week is elapsed week 0 and the first event must lie in
    elapsed weeks ``0 .. floor(N * 52 / 12)``: weeks 0-4 for 1 month, 0-13 for
    3 months (0-26 for 6, 0-39 for 9), and not after the spell's last week.
    ("cumulative incidence at 4.3 and 13 weeks").  With ISO weeks dated by their Thursday (the DREAM
    week-to-month convention) week ``start + 4`` is always within one calendar
    month of the start week and ``start + 5`` never is; for 3 months, week
    ``start + 13`` (91 days) can exceed the calendar span by one or two days
    for starts in December-February.  The synthetic calibration
    (:func:`evaltools.synth.calibration_statistics`, targets R1/R2) uses the
    same rule (:mod:`evaltools.indicators._spellrules`).

    **Within h weeks** (``horizons=(h, ...)``, instead of ``months``): the
    first event lies in weeks ``start .. start + h - 1`` (h weeks including the
    start week).  ``horizons=(5, 14)`` equals ``months=(1, 3)``.

    Only events in ``panel.events[event]`` with ``week >= start`` are
    considered, so an event of an earlier spell never counts.  New spells are
    the spells of ``benefit`` starting in ``window``.  Left-censored spells
    (``left_censoring="panel_start"``: starting in the person's first observed
    week when that is the panel's first week) are not known to be new and are
    left out; spells starting at a later ``obs_start`` start at the person's
    entry into the population (immigrants, persons turning 16) and are kept.
    Both counts are in the footnotes.  A spell enters the denominator for a
    horizon only if the person is observed through its last counted week.

    Parameters
    ----------
    panel : RegisterPanel or DaskPanel
        Panel with the events table ``event`` (in memory or partitioned by person).
    event : str, default="interview"
        Events table name (``"interview"``, ``"offer"``, ``"activation"``, ...).
    months : sequence of float, optional
        Horizons in months (default ``(1, 3)`` when ``horizons`` is not given).
    horizons : sequence of int, optional
        Horizons in weeks instead of months (mutually exclusive with ``months``).
    benefit : str or sequence of str
        Benefit groups whose spells are followed.
    by : sequence of str, default=("benefit",)
        ``"benefit"``, person columns and/or ``"age_group"`` (age at spell start,
        bands from ``age_bands``; default under 30 / 30 and over).
    period : str, default="half_year"
        Period of the spell start (Beskæftigelsesregion Nordjylland 2010 uses January-June).
    window : (int, int), optional
        Spell-start weeks included (default: the panel range).
    gap_rule : {"any_week", "calendar_month"} or int, default="any_week"
        Spell rule of :func:`evaltools.data.spells.build_spells`.
    left_censoring : {"panel_start", "obs_start"}, default="panel_start"
        ``"obs_start"`` leaves out every spell starting at the person's
        ``obs_start`` (the older rule, for panels whose late ``obs_start`` does
        not mean entry into the population).
    persons_where : mapping, optional
        Person selection.
    age_bands : sequence of float, default=(0, 30, inf)
        Edges for ``by="age_group"``.

    Returns
    -------
    IndicatorTable
        Keys (``by``, ``period``, ``horizon``: the number of months, or of
        weeks with ``horizons``), ``spells`` (followed for the full horizon),
        ``persons`` (distinct persons among them), ``n_within`` and ``share``.

    Raises
    ------
    SpecificationError
        Both ``months`` and ``horizons`` given, non-positive horizons or an
        unknown ``left_censoring``.
    DataValidationError
        The panel has no events table ``event``.
    """
    panel = _dk.as_panel(panel)
    where = "first_contact_within"
    if event not in panel.events:
        raise DataValidationError(
            f"{where}: the panel has no events table {event!r} (tables: {list(panel.events)})."
        )
    if months is not None and horizons is not None:
        raise SpecificationError(
            f"{where}: give months=... or horizons=... (weeks), not both; got months={list(months)} and "
            f"horizons={list(horizons)}."
        )
    hz: list[int | float]
    if horizons is not None:
        hz = [int(h) for h in horizons]
        if not hz or min(hz) < 1:
            raise SpecificationError(
                f"{where}: horizons must be positive numbers of weeks; got {list(horizons)}."
            )
        unit = "weeks"
        last_elapsed = {h: h - 1 for h in hz}
    else:
        ms = check_months((1, 3) if months is None else months, where)
        hz = [int(m) if float(m).is_integer() else m for m in ms]
        unit = "months"
        last_elapsed = {h: month_weeks(h) for h in hz}
    check_option("left_censoring", left_censoring, LEFT_CENSORING, where)
    bens = [benefit] if isinstance(benefit, str) else list(benefit)
    lo, hi = window if window is not None else panel.week_range
    per = _core.make_periods(int(lo), int(hi), period, where)
    args: tuple[Any, ...] = (bens, gap_rule, left_censoring, lo, hi, per, event, persons_where, by, age_bands)
    args = (*args, hz, last_elapsed, where)
    if _dk.is_shell(panel):
        parts = _dk.map_panels(panel, _first_contact_counts, *args)
        cols = parts[0][1]
        agg = _dk.add_tables([q[0] for q in parts], [*cols, "period", "horizon"], dropna=False, sort=True)
        n_left, n_entry = sum(q[2] for q in parts), sum(q[3] for q in parts)
        n_short = {h: sum(q[4][h] for q in parts) for h in hz}
    else:
        agg, cols, n_left, n_entry, n_short = _first_contact_counts(panel, *args)
    agg["share"] = agg["n_within"] / agg["spells"]
    rule_text = (
        "already running in the panel's first week, the person's first observed week"
        if left_censoring == "panel_start"
        else "starting in the person's first observed week"
    )
    if unit == "months":
        defn = (
            f"First {event} within N months = in elapsed weeks 0 .. floor(N x 52/12) of the spell "
            "(start week = 0; "
            + ", ".join(f"{h} month{'s' if h != 1 else ''}: weeks 0-{last_elapsed[h]}" for h in hz)
            + "), not after the spell end."
        )
    else:
        defn = (
            f"First {event} within h weeks = in weeks start .. start + h - 1, not after the spell end "
            f"(horizons {hz} weeks)."
        )
    notes = [
        f"New spells of {bens} (build_spells, gap rule {gap_rule!r}); {n_left:,} left-censored spells "
        f"({rule_text}) were left out as not known to be new; {n_entry:,} spells starting at the person's "
        f"entry into the population during the window were kept (left_censoring={left_censoring!r}).",
        defn,
        "Spells not observed for the full horizon were left out of that horizon: "
        + ", ".join(f"{n:,} at {h} {unit}" for h, n in n_short.items())
        + ".",
    ]
    dims = lk.group_dims(panel, agg, [c for c in cols if c != "benefit"], persons_where, age_bands, None)
    all_bens = tuple(pd.unique(panel.codes.table["benefit"].astype(object)))
    dims["benefit"] = lk.Dim(
        "set",
        columns=(("benefit", None),) if "benefit" in cols else (),
        filter=frozenset(bens),
        universe=tuple(dict.fromkeys([*all_bens, *bens])),
    )
    dims["start_week"] = lk.Dim(
        "interval",
        columns=(
            ("period", {lab: ((int(a), int(b)),) for lab, a, b in zip(per.labels, per.first, per.last)}),
        ),
        filter=((int(lo), int(hi)),),
    )
    dims["horizon"] = lk.Dim("set", columns=(("horizon", None),), universe=tuple(hz))
    spell_add = ("person.*", "age", "benefit", "start_week")
    link = lk.Linkage(
        f"first_contact[{event},{gap_rule!r},{left_censoring},{unit}]@{lk.fingerprint(panel)}",
        dims,
        {
            "spells": lk.Measure("spells", "count", additive=spell_add),
            "n_within": lk.Measure("n_within", "count", additive=spell_add),
            "persons": lk.Measure("persons", "count", additive=("person.*",)),
        },
        zeros=True,
        ratios={"share": (["n_within"], "spells")},
    )
    return IndicatorTable(
        agg,
        keys=[*cols, "period", "horizon"],
        count_col="persons",
        layout=(cols[:1], cols[1] if len(cols) > 1 else None),
        title=f"First {event} within N {unit} of spell start",
        footnotes=notes,
        extra_counts=["n_within"],
        linkage=link,
    )
