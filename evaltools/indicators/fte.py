"""Full-time persons (*fuldtidspersoner*) and the volume indicators built on them.

Definition (jobindsats.dk, "Info om målingen", measure MM14, *fuldtidspersoner*):
the full-time persons of a group in a period are the weeks each person spent on
the selected codes in the period divided by the number of weeks in the period,
summed over persons.  A week belongs to the period that contains its Thursday,
so every week is counted in exactly one month, quarter, half-year or year.
Within one benefit there is no overlap (DREAM stores one code per week); full-
time persons of different benefits can be added.

The population denominator is the *average* population of the group in the
period: observed person-weeks (inside ``obs_start .. obs_end``) of persons whose
age is within ``ages`` divided by the weeks in the period.  Age in a week is the
ISO year of the week minus ``birth_year`` (age reached during that year), so
age, and therefore membership of the 16-66 population, changes at ISO year
boundaries only.  States rows are counted under the same age rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_option
from evaltools.data.panel import RegisterPanel
from evaltools.data.spells import build_spells
from evaltools.exceptions import SpecificationError
from evaltools.indicators import _core
from evaltools.indicators import _dask as _dk
from evaltools.indicators import _linkage as lk
from evaltools.indicators._core import DEFAULT_AGE_BANDS, Context
from evaltools.indicators._table import IndicatorTable

__all__ = [
    "fte",
    "fte_dask",
    "activation_rate",
    "company_oriented_share",
    "tool_mix_by_duration",
]

_AGE_NOTE = "Ages {a}-{b}: age = ISO year of the week minus birth year."


def _layout(by: Sequence[str]) -> tuple[list[str], str | None]:
    by = list(by)
    return (by[:1], by[1] if len(by) > 1 else None)


def _chunks(states: pd.DataFrame, partitions: int | None) -> list[pd.DataFrame]:
    if not partitions or partitions <= 1 or len(states) == 0:
        return [states]
    pid = states["person_id"].to_numpy()
    cuts = np.linspace(0, len(pid), partitions + 1).astype(np.int64)[1:-1]
    # move each cut to the first row of a person so that no person is split
    cuts = np.searchsorted(pid, pid[np.minimum(cuts, len(pid) - 1)], side="left")
    bounds = np.unique(np.r_[0, cuts, len(pid)])
    return [states.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _run(panel: RegisterPanel, ctx: Context, where: str, partitions: int | None) -> dict[str, np.ndarray]:
    if _dk.is_shell(panel):
        return _dk.tabulate(panel, ctx, where)
    codes = panel.codes.codes
    parts = _chunks(panel.states, partitions)
    if len(parts) == 1:
        return _core.tabulate(parts[0], ctx, codes, where)
    import dask

    tasks = [dask.delayed(_core.tabulate)(p, ctx, codes, where) for p in parts]
    results = dask.compute(*tasks, scheduler="threads")
    return {k: np.sum([r[k] for r in results], axis=0) for k in results[0]}


def _frame(ctx: Context, tab: Mapping[str, np.ndarray], pop: np.ndarray | None) -> pd.DataFrame:
    out = _core.cell_frame(ctx)
    out["persons"] = tab["persons"]
    out["person_weeks"] = tab["person_weeks"]
    out["fte"] = tab["person_weeks"] / out["weeks"].to_numpy()
    if pop is not None:
        out["population"] = pop
        with np.errstate(divide="ignore", invalid="ignore"):
            out["share_pop"] = np.where(pop > 0, out["fte"].to_numpy() / pop, np.nan)
    return out


def _context(panel: RegisterPanel, where: str, **kw: Any) -> Context:
    return _core.make_context(panel, where=where, **kw)


def _fte_notes(ctx: Context, codes_where: Mapping[str, object] | None) -> list[str]:
    sel = (
        "codes with " + ", ".join(f"{k}={v!r}" for k, v in codes_where.items())
        if codes_where
        else ("all codes except censoring codes")
    )
    notes = [
        "Full-time persons = weeks on the selected codes in the period / weeks in the period, summed over "
        "persons (jobindsats definition); a week belongs to the period containing its Thursday.",
        f"Selected states: {sel}.",
    ]
    if ctx.ages is not None:
        notes.append(
            _AGE_NOTE.format(a=ctx.ages[0], b=ctx.ages[1]) + " The population is the average number "
            "of observed persons in that age range in the period."
        )
    return notes


def fte(
    panel: RegisterPanel,
    *,
    by: Sequence[str] = ("benefit",),
    period: str | None = "month",
    window: tuple[int, int] | None = None,
    codes_where: Mapping[str, object] | None = None,
    persons_where: Mapping[str, object] | None = None,
    ages: tuple[int, int] | None = (16, 66),
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS,
    partitions: int | None = None,
) -> IndicatorTable:
    """Full-time persons by group and period, with population shares.

    Parameters
    ----------
    panel : RegisterPanel or DaskPanel
        Weekly register panel, in memory or partitioned by person
        (:func:`evaltools.data.dask.partition_panel`; computed partition by
        partition with identical results, see :mod:`evaltools.indicators._dask`).
    by : sequence of str, default=("benefit",)
        Grouping columns: code-table columns (``"benefit"``, ``"activation"``,
        ``"company_oriented"``, ``"public_support"``, ``"state"`` for the code
        itself), person columns (``"municipality"``, ``"origin"``, ``"sex"``, ...)
        and ``"age_group"`` (bands from ``age_bands``, time-varying).
    period : {"week", "month", "quarter", "half_year", "year"} or None, default="month"
        Period unit; ``None`` makes the whole window one period.
    window : (int, int), optional
        First and last week index (inclusive); default the panel's week range.
        Periods cut by the window are counted over their weeks inside it.
    codes_where : mapping, optional
        Code selection passed to ``panel.codes.codes_where``, e.g.
        ``{"public_support": True}`` for total public support; default: every
        code except censoring codes.
    persons_where : mapping, optional
        Person selection ``{column: value or list}``, applied to numerator and population.
    ages : (int, int) or None, default=(16, 66)
        Age limits (inclusive) for both the counts and the population; ``None``
        disables them (then ``birth_year`` is not needed).
    age_bands : sequence of float, default=(16, 25, 30, 40, 50, 60, 67)
        Band edges ``[a, b)`` for ``by="age_group"``.
    partitions : int, optional
        Split the states by person into this many partitions and aggregate them
        in parallel with dask (threads).  Results are identical.

    Returns
    -------
    IndicatorTable
        Columns: the ``by`` columns, ``period``, ``weeks`` (weeks in the period),
        ``persons`` (distinct persons with at least one counted week; the basis
        for suppression), ``person_weeks``, ``fte``, ``population`` (average
        population of the person-level groups) and ``share_pop`` (``fte /
        population``).  Every combination of observed levels appears (zeros included).
    """
    panel = _dk.as_panel(panel)
    where = "fte"
    ctx = _context(
        panel,
        where,
        by=by,
        period=period,
        window=window,
        codes_where=codes_where,
        persons_where=persons_where,
        ages=ages,
        age_bands=age_bands,
    )
    tab = _run(panel, ctx, where, partitions)
    pop = _core.population(panel, ctx)
    data = _frame(ctx, tab, pop)
    link = lk.states_linkage(
        panel, ctx, persons_where, lk.fte_measures(ctx, True), ratios={"share_pop": (["fte"], "population")}
    )
    return IndicatorTable(
        data,
        keys=[*by, "period"],
        count_col="persons",
        layout=_layout(by),
        title="Full-time persons",
        footnotes=_fte_notes(ctx, codes_where),
        linkage=link,
    )


def fte_dask(
    states: Any,
    persons: pd.DataFrame,
    *,
    codes: Any = None,
    by: Sequence[str] = ("benefit",),
    period: str | None = "month",
    window: tuple[int, int] | None = None,
    codes_where: Mapping[str, object] | None = None,
    persons_where: Mapping[str, object] | None = None,
    ages: tuple[int, int] | None = (16, 66),
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS,
    scheduler: str = "threads",
) -> IndicatorTable:
    """Full-time persons from a dask DataFrame of states partitioned by person.

    Parameters
    ----------
    states : dask.dataframe.DataFrame
        Sparse states (``person_id``, ``week``, ``state``) where every person's rows
        lie in one partition (e.g. written sorted by ``person_id``).  Only one
        partition is in memory per worker.
    persons : DataFrame
        The person table (in memory).
    codes : CodeTable, optional
        Code table; default :func:`evaltools.data.codes.default_codes`.
    by, period, window, codes_where, persons_where, ages, age_bands
        As in :func:`fte`.
    scheduler : str, default="threads"
        Dask scheduler used for ``compute``.

    Returns
    -------
    IndicatorTable
        Same as :func:`fte`.

    Raises
    ------
    DataValidationError
        If a person's rows are spread over more than one partition.
    """
    import dask

    from evaltools.data.codes import default_codes
    from evaltools.exceptions import DataValidationError

    codes = codes if codes is not None else default_codes()
    empty = pd.DataFrame(
        {
            "person_id": np.zeros(0, np.int64),
            "week": np.zeros(0, np.int32),
            "state": pd.Categorical([], categories=list(codes.codes)),
        }
    )
    shell = RegisterPanel(states=empty, persons=persons, codes=codes)
    where = "fte_dask"
    ctx = _context(
        shell,
        where,
        by=by,
        period=period,
        window=window,
        codes_where=codes_where,
        persons_where=persons_where,
        ages=ages,
        age_bands=age_bands,
    )
    code_list = codes.codes

    def part(df: pd.DataFrame) -> tuple[dict[str, np.ndarray], int, int]:
        if "person_id" not in df.columns:
            df = df.reset_index()
        df = df.sort_values(["person_id", "week"], kind="stable")
        pid = df["person_id"].to_numpy(np.int64)
        rng = (int(pid.min()), int(pid.max())) if len(pid) else (0, -1)
        return _core.tabulate(df, ctx, code_list, where), *rng

    tasks = [dask.delayed(part)(d) for d in states.to_delayed()]
    results = dask.compute(*tasks, scheduler=scheduler)
    ranges = sorted((r[1], r[2]) for r in results if r[2] >= r[1])
    for (_, hi), (lo, _) in zip(ranges[:-1], ranges[1:]):
        if lo <= hi:
            raise DataValidationError(
                "fte_dask: the rows of some persons are spread over several partitions (person_id ranges "
                f"overlap around person_id {lo}). Repartition by person (e.g. set_index('person_id'))."
            )
    tab = {k: np.sum([r[0][k] for r in results], axis=0) for k in ("person_weeks", "persons")}
    pop = _core.population(shell, ctx)
    data = _frame(ctx, tab, pop)
    link = lk.states_linkage(
        shell, ctx, persons_where, lk.fte_measures(ctx, True), ratios={"share_pop": (["fte"], "population")}
    )
    return IndicatorTable(
        data,
        keys=[*by, "period"],
        count_col="persons",
        layout=_layout(by),
        title="Full-time persons",
        footnotes=_fte_notes(ctx, codes_where),
        linkage=link,
    )


def _restricted(ctx: Context, mask: np.ndarray) -> Context:
    from dataclasses import replace

    return replace(ctx, code_ok=ctx.code_ok & mask)


def _activation_mask(panel: RegisterPanel, types: Sequence[str] | None) -> np.ndarray:
    act = panel.codes.table["activation"].to_numpy()
    if types is None:
        return act != "none"
    return np.isin(act, list(types))


def _company_mask(panel: RegisterPanel, company: Sequence[str] | None) -> np.ndarray:
    if company is None:
        return panel.codes.table["company_oriented"].to_numpy(bool)
    return _activation_mask(panel, company)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def activation_rate(
    panel: RegisterPanel,
    *,
    by: Sequence[str] = ("benefit",),
    period: str | None = "month",
    window: tuple[int, int] | None = None,
    codes_where: Mapping[str, object] | None = None,
    persons_where: Mapping[str, object] | None = None,
    ages: tuple[int, int] | None = (16, 66),
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS,
    partitions: int | None = None,
) -> IndicatorTable:
    """Activation rate: full-time activated persons / full-time persons on the benefit.

    The denominator counts every selected week (passive and activated); the
    numerator counts weeks whose code has ``activation != "none"``.  This is the
    conventional *aktiveringsgrad* (full-time activated as a share of full-time
    recipients; the jobindsats.dk wording of the measure is not reproduced here).

    Parameters
    ----------
    panel, by, period, window, codes_where, persons_where, ages, age_bands, partitions
        As in :func:`fte`.

    Returns
    -------
    IndicatorTable
        Columns: keys, ``weeks``, ``persons`` (recipients), ``persons_activated``,
        ``fte``, ``fte_activated`` and ``activation_rate``.  Rows are masked on
        export when either person count is ``1 .. threshold``.
    """
    panel = _dk.as_panel(panel)
    where = "activation_rate"
    ctx = _context(
        panel,
        where,
        by=by,
        period=period,
        window=window,
        codes_where=codes_where,
        persons_where=persons_where,
        ages=ages,
        age_bands=age_bands,
    )
    den = _run(panel, ctx, where, partitions)
    num = _run(panel, _restricted(ctx, _activation_mask(panel, None)), where, partitions)
    data = _frame(ctx, den, None).drop(columns="person_weeks")
    data["persons_activated"] = num["persons"]
    data["fte_activated"] = num["person_weeks"] / data["weeks"].to_numpy()
    data["activation_rate"] = _ratio(data["fte_activated"].to_numpy(), data["fte"].to_numpy())
    notes = _fte_notes(ctx, codes_where) + [
        "Activation rate = full-time persons in activation (codes with activation other than 'none') / "
        "full-time persons on the selected codes."
    ]
    act = ctx.code_ok & _activation_mask(panel, None)
    fte_m = lk.Measure("person_weeks", "magnitude", scale="weeks")
    link = lk.states_linkage(
        panel,
        ctx,
        persons_where,
        {
            "persons": (lk.PERSONS, None),
            "persons_activated": (lk.PERSONS, act),
            "fte": (fte_m, None),
            "fte_activated": (fte_m, act),
        },
        ratios={"activation_rate": (["fte_activated"], "fte")},
    )
    return IndicatorTable(
        data,
        keys=[*by, "period"],
        count_col="persons",
        layout=_layout(by),
        title="Activation rate",
        footnotes=notes,
        extra_counts=["persons_activated"],
        linkage=link,
    )


def company_oriented_share(
    panel: RegisterPanel,
    *,
    by: Sequence[str] = ("benefit",),
    definition: str = "fte",
    company: Sequence[str] | None = None,
    period: str | None = "month",
    window: tuple[int, int] | None = None,
    codes_where: Mapping[str, object] | None = None,
    persons_where: Mapping[str, object] | None = None,
    ages: tuple[int, int] | None = (16, 66),
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS,
    partitions: int | None = None,
) -> IndicatorTable:
    """Share in company-oriented activation, in either definition used in the seeds.

    Parameters
    ----------
    panel, by, period, window, codes_where, persons_where, ages, age_bands, partitions
        As in :func:`fte`.
    definition : {"fte", "participants"}, default="fte"
        ``"fte"`` (Beskæftigelsesregion Nordjylland 2010, Fig. 3): full-time persons in company-oriented
        activation / full-time persons in all activation.  ``"participants"``
        (Rambøll 2018, *I mål med integration*, measure 3): distinct persons with at least one week of
        company-oriented activation in the period / distinct persons with at
        least one week on the selected codes in the period.
    company : sequence of str, optional
        Activation types counted as company-oriented.  Default: the code table's
        ``company_oriented`` flag (wage subsidy, internships and company
        centres).  Beskæftigelsesregion Nordjylland (2010) uses ``("loentilskud", "virksomhedspraktik")``.

    Returns
    -------
    IndicatorTable
        Keys, ``weeks``, denominator and numerator persons and volumes, and ``share``.
    """
    panel = _dk.as_panel(panel)
    where = "company_oriented_share"
    check_option("definition", definition, ("fte", "participants"), where)
    ctx = _context(
        panel,
        where,
        by=by,
        period=period,
        window=window,
        codes_where=codes_where,
        persons_where=persons_where,
        ages=ages,
        age_bands=age_bands,
    )
    comp = _company_mask(panel, company)
    num = _run(panel, _restricted(ctx, comp), where, partitions)
    what = "the code table's company_oriented flag" if company is None else f"activation in {list(company)}"
    if definition == "fte":
        den = _run(panel, _restricted(ctx, _activation_mask(panel, None)), where, partitions)
        data = (
            _frame(ctx, den, None)
            .drop(columns="person_weeks")
            .rename(columns={"persons": "persons", "fte": "fte_activation"})
        )
        data["persons_company"] = num["persons"]
        data["fte_company"] = num["person_weeks"] / data["weeks"].to_numpy()
        data["share"] = _ratio(data["fte_company"].to_numpy(), data["fte_activation"].to_numpy())
        note = (
            f"Company-oriented share = full-time persons in company-oriented activation ({what}) / "
            "full-time persons in all activation (as in Beskæftigelsesregion Nordjylland 2010)."
        )
    else:
        den = _run(panel, ctx, where, partitions)
        data = _core.cell_frame(ctx)
        data["persons"] = den["persons"]
        data["persons_company"] = num["persons"]
        data["share"] = _ratio(num["persons"].astype(float), den["persons"].astype(float))
        note = (
            f"Company-oriented share = persons with at least one week of company-oriented activation "
            f"({what}) in the period / persons with at least one week on the selected codes in the period "
            "(as in Rambøll 2018, I mål med integration)."
        )
    company_codes = ctx.code_ok & comp
    fte_m = lk.Measure("person_weeks", "magnitude", scale="weeks")
    if definition == "fte":
        act = ctx.code_ok & _activation_mask(panel, None)
        meas = {
            "persons": (lk.PERSONS, act),
            "persons_company": (lk.PERSONS, company_codes),
            "fte_activation": (fte_m, act),
            "fte_company": (fte_m, company_codes),
        }
        ratios = {"share": (["fte_company"], "fte_activation")}
    else:
        meas = {"persons": (lk.PERSONS, None), "persons_company": (lk.PERSONS, company_codes)}
        ratios = {"share": (["persons_company"], "persons")}
    return IndicatorTable(
        data,
        keys=[*by, "period"],
        count_col="persons",
        layout=_layout(by),
        title=f"Share in company-oriented activation ({definition})",
        footnotes=_fte_notes(ctx, codes_where) + [note],
        extra_counts=["persons_company"],
        linkage=lk.states_linkage(panel, ctx, persons_where, meas, ratios=ratios),
    )


def _tool_mix_counts(
    panel: RegisterPanel, edges: np.ndarray, gap_rule: str | int, where: str, ctx: Context
) -> tuple[np.ndarray, np.ndarray]:
    """Person-weeks and distinct persons per (cell, duration band) of one panel (or partition)."""
    codes = panel.codes.codes
    pidx, week, scode = _core.states_arrays(panel.states, ctx, codes, where)
    ok = _activation_mask(panel, None)[scode] & _core.select_rows(pidx, week, scode, ctx)
    pidx, week, scode = pidx[ok], week[ok], scode[ok]
    ben_of_code = panel.codes.table["benefit"].to_numpy(dtype=object)
    rows = pd.DataFrame(
        {
            "person_id": ctx.person_ids[pidx],
            "benefit": ben_of_code[scode],
            "week": week,
            "_row": np.arange(len(pidx)),
        }
    )
    spells = build_spells(panel, benefit=sorted(set(rows["benefit"])) or None, gap_rule=gap_rule)
    spells = spells.assign(
        benefit=spells["benefit"].astype(str), start_week=spells["start_week"].astype(np.int64)
    )
    m = pd.merge_asof(
        rows.sort_values("week", kind="stable"),
        spells[["person_id", "benefit", "start_week"]].sort_values("start_week", kind="stable"),
        left_on="week",
        right_on="start_week",
        by=["person_id", "benefit"],
        direction="backward",
    ).sort_values("_row")
    elapsed = week - m["start_week"].to_numpy(dtype=np.int64)
    key = _core.row_keys(pidx, week, scode, ctx)
    band = np.searchsorted(edges, elapsed, side="right") - 1
    n_band = len(edges) - 1
    keep = (key >= 0) & (band < n_band)
    key = key[keep] + band[keep].astype(np.int64) * ctx.n_keys
    pidx = pidx[keep]
    order = np.lexsort((key, pidx))
    key, pidx = key[order], pidx[order]
    k = ctx.n_keys * n_band
    pw = np.bincount(key, minlength=k).astype(float)
    pair = pd.unique(key * np.int64(len(ctx.person_ids)) + pidx)
    persons = np.bincount(pair // np.int64(len(ctx.person_ids)), minlength=k)
    return pw, persons


def tool_mix_by_duration(
    panel: RegisterPanel,
    *,
    by: Sequence[str] = ("benefit",),
    duration_bands: Sequence[float] = (0, 13, 26, 52, np.inf),
    gap_rule: str | int = "any_week",
    period: str | None = None,
    window: tuple[int, int] | None = None,
    codes_where: Mapping[str, object] | None = None,
    persons_where: Mapping[str, object] | None = None,
    ages: tuple[int, int] | None = (16, 66),
) -> IndicatorTable:
    """Tool mix of activation (full-time persons by activation type) by elapsed benefit duration.

    The elapsed duration of a week is the number of weeks since the start of the
    person's current spell on the same benefit (week 0 is the first week).  Spells
    come from :func:`evaltools.data.spells.build_spells` with ``gap_rule`` (passive
    and activated weeks of a benefit belong to the same spell).  Spells already
    running at the person's first observed week start there (left-censored).

    Parameters
    ----------
    panel, by, period, window, codes_where, persons_where, ages
        As in :func:`fte` (``by`` must not contain ``"activation"``).
    duration_bands : sequence of float, default=(0, 13, 26, 52, inf)
        Band edges ``[a, b)`` in elapsed weeks.
    gap_rule : {"any_week", "calendar_month"} or int, default="any_week"
        Spell rule of :func:`evaltools.data.spells.build_spells`.

    Returns
    -------
    IndicatorTable
        Keys (``by``, ``duration``, ``activation``, ``period``), ``persons``,
        ``fte`` and ``share`` (of all activation full-time persons of the group,
        duration band and period).
    """
    panel = _dk.as_panel(panel)
    where = "tool_mix_by_duration"
    if "activation" in by:
        raise SpecificationError(
            f"{where}: 'activation' is always a column of the result; remove it from by."
        )
    edges = np.asarray(duration_bands, dtype=float)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0) or edges[0] != 0:
        raise SpecificationError(f"{where}: duration_bands must start at 0 and increase; got {list(edges)}.")
    act_dim = _core.make_dims(panel, ["activation"], where)[0]
    act_dim = _core.restrict_levels(act_dim, _activation_mask(panel, None))
    ctx = _context(
        panel,
        where,
        by=by,
        period=period,
        window=None,
        codes_where=codes_where,
        persons_where=persons_where,
        ages=ages,
        age_bands=DEFAULT_AGE_BANDS,
        extra_dims=[act_dim],
    )
    if window is not None:
        from dataclasses import replace

        ctx = replace(ctx, periods=_core.make_periods(int(window[0]), int(window[1]), period, where))
        ctx.iso_year = _core.index_to_isoweek(np.arange(window[0], window[1] + 1))[0].astype(np.int64)
    if _dk.is_shell(panel):
        parts = _dk.map_panels(
            panel,
            _tool_mix_counts,
            edges,
            gap_rule,
            where,
            per_part=lambda a, b: (_dk.slice_context(ctx, a, b),),
        )
        pw, persons = (np.sum([q[i] for q in parts], axis=0) for i in range(2))
    else:
        pw, persons = _tool_mix_counts(panel, edges, gap_rule, where, ctx)
    cells = _core.cell_frame(ctx)
    labels = _core.band_labels(edges)
    data = pd.concat([cells.assign(duration=lab) for lab in labels], ignore_index=True)
    data["persons"] = persons
    data["fte"] = pw / data["weeks"].to_numpy()
    keys = [*by, "duration", "activation", "period"]
    data = data[[*keys, "weeks", "persons", "fte"]]
    tot = data.groupby([*by, "duration", "period"], sort=False, dropna=False)["fte"].transform("sum")
    data["share"] = _ratio(data["fte"].to_numpy(), tot.to_numpy())
    notes = [
        "Tool mix = full-time persons in each activation type / full-time persons in all activation, within "
        "group, elapsed-duration band and period.",
        f"Elapsed duration = weeks since the start of the benefit spell (gap rule {gap_rule!r}); spells "
        "running at the first observed week start there.",
    ]
    elapsed = lk.Dim(
        "interval",
        columns=(("duration", lk.band_subsets(edges, labels)),),
        filter=lk.interval(0, edges[-1] - 1),
    )
    link = lk.states_linkage(
        panel,
        ctx,
        persons_where,
        {
            "persons": (lk.PERSONS, None),
            "fte": (lk.Measure("person_weeks", "magnitude", scale="weeks"), None),
        },
        extra={f"elapsed[{gap_rule!r}]": elapsed},
    )
    return IndicatorTable(
        data,
        keys=keys,
        count_col="persons",
        layout=(["duration"], "activation"),
        title="Tool mix by elapsed duration",
        footnotes=notes,
        linkage=link,
    )
