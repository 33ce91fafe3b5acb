"""Municipal benchmarking: frame-condition adjustment, project DiD, regression to the mean, decomposition.

* :func:`benchmark`: actual vs expected level given structural frame
  conditions (*rammevilkår*), as in the jobindsats benchmark table Y30R21
  (actual level, expected level, difference, rank), with prediction intervals.
  When the units' person counts are known (``count_col``), every export of the
  per-unit table (``summary()``, printing, notebook display,
  :meth:`BenchmarkResults.unit_table`, :meth:`BenchmarkResults.plot`) masks
  units based on 1-3 persons; the regression then uses the other units only (see :func:`benchmark`).
* :func:`did`: difference-in-differences of project vs non-project municipalities
  (two-way fixed effects, standard errors clustered by municipality).
* :func:`regression_to_mean`: expected change of units selected for a bad
  baseline if nothing but regression to the mean happened.
* :func:`decompose_share_change`: change in a share split into within-person
  change, inflow and outflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from evaltools._model.names import renamed_arguments
from evaltools._validation import check_columns, check_option, warn_dropped
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.indicators._table import IndicatorTable
from evaltools.reporting.disclosure import MASK_MARKER, SuppressedTable, suppress
from evaltools.reporting.results import EstimationResults, check_alpha, level_label
from evaltools.reporting.summary import Summary

__all__ = [
    "BenchmarkResults",
    "DiDResults",
    "benchmark",
    "did",
    "regression_to_mean",
    "decompose_share_change",
]

RTM_NOTE = (
    "Units selected because of poor baseline results tend to improve even without any effect "
    "(regression to the mean); compare their change with regression_to_mean() or a comparison group."
)


def _complete(data: pd.DataFrame, cols: Sequence[str], where: str) -> pd.DataFrame:
    check_columns(data, list(cols), where)
    bad = data[list(cols)].isna().any(axis=1).to_numpy()
    warn_dropped(int(bad.sum()), len(data), f"missing values in {list(cols)}", where)
    return data.loc[~bad].reset_index(drop=True)


#: Per-unit columns that reveal a unit's actual outcome (masked for small units).
_REVEALING = ("actual", "difference", "outside", "rank", "raw_difference", "n_persons")


class BenchmarkResults(EstimationResults):
    """Frame-condition benchmark (coefficients as params; per-unit table in :attr:`table`).

    :attr:`table` holds the exact, **unsuppressed** per-unit numbers for analysis
    inside the secure environment.  Every export -- :meth:`summary`, ``str()``,
    the notebook display, :meth:`unit_table` and :meth:`plot` -- masks the units
    flagged in ``table["masked"]`` (1-3 persons, or masked in a linked table) unless
    ``suppress=False`` is passed explicitly.

    Attributes
    ----------
    table : DataFrame
        Per-unit table (exact): actual, expected, difference, prediction
        interval ``lower``/``upper`` at level ``1 - alpha``, rank, flags.
    alpha : float
        One minus the level of the prediction intervals in :attr:`table`.
    national_average, project_average : float
        Mean outcome of the units in the regression and of the project units.
    n_small_units : int
        Units masked for being based on few persons.
    project_masked : bool
        Whether the project average includes a masked unit (and is masked).
    disclosure_notes : tuple of str
        Footnotes on disclosure control.
    id_col, outcome, better : str
        Unit column, outcome column and the direction that is better.
    """

    table: pd.DataFrame
    n_small_units: int
    project_masked: bool
    disclosure_notes: tuple[str, ...]
    national_average: float
    project_average: float
    id_col: str
    outcome: str
    better: str
    alpha: float
    _input: pd.DataFrame
    _spec: dict[str, Any]

    def _table_at(self, alpha: float) -> pd.DataFrame:
        """:attr:`table` with the prediction intervals (and ``outside``) at level ``1 - alpha``."""
        t = self.table
        if alpha == self.alpha:
            return t
        q_fit, q_new = (self._ref().ppf(1 - a / 2) for a in (self.alpha, alpha))
        half = (t["upper"] - t["lower"]) / 2 * (q_new / q_fit)
        out = t.copy()
        out["lower"], out["upper"] = t["expected"] - half, t["expected"] + half
        out["outside"] = (out["actual"] < out["lower"]) | (out["actual"] > out["upper"])
        return out

    def unit_table(self, suppress: bool = True, alpha: float | None = None) -> SuppressedTable:
        """Per-unit table for export, with small units masked.

        Parameters
        ----------
        suppress : bool, default=True
            ``False`` returns the exact table with a
            :class:`~evaltools.exceptions.DisclosureWarning` and a footnote.
        alpha : float, optional
            One minus the level of the prediction intervals (default: the
            ``alpha`` of the fit).

        Returns
        -------
        SuppressedTable
            Masked cells are missing in ``.table`` and flagged in ``.mask``.
        """
        t = self._table_at(self.alpha if alpha is None else check_alpha(alpha, "BenchmarkResults.unit_table"))
        notes = list(self.disclosure_notes)
        if not suppress:
            return _suppress_off(t, notes, self._title)
        mask = pd.DataFrame(False, index=t.index, columns=t.columns)
        masked = t["masked"].to_numpy(dtype=bool)
        for c in _REVEALING:
            if c in t.columns:
                mask[c] = masked
        out = t.astype({c: object for c in mask.columns[mask.any()]}).mask(mask)
        n_pri = int(self.n_small_units)
        return SuppressedTable(
            out, mask, notes, title=self._title, n_primary=n_pri, n_secondary=int(masked.sum()) - n_pri
        )

    def summary(self, alpha: float | None = None, suppress: bool = True) -> Summary:
        """Summary: coefficients, the per-unit table (small units masked) and footnotes.

        Parameters
        ----------
        alpha : float, optional
            One minus the level of the coefficient intervals and of the per-unit
            prediction intervals (default: the ``alpha`` of the fit).
        suppress : bool, default=True
            ``False`` shows the exact per-unit table (with a
            :class:`~evaltools.exceptions.DisclosureWarning`).

        Returns
        -------
        Summary
        """
        alpha = self.alpha if alpha is None else check_alpha(alpha, "BenchmarkResults.summary")
        header = self._summary_header(alpha)
        fit_level, level = (f"= {level_label(a)} prediction interval" for a in (self.alpha, alpha))
        ut = self.unit_table(suppress=suppress, alpha=alpha)
        unit = ut.table.astype(object).where(~ut.mask, MASK_MARKER).set_index(self.id_col)
        masked_any = bool(ut.mask.to_numpy().any())
        if suppress and masked_any and self.project_masked:
            header = tuple((k, MASK_MARKER) if k == "Project average" else (k, v) for k, v in header)
        return Summary(
            title=self._title,
            header=header,
            tables=[self.to_frame(alpha), unit],
            footnotes=tuple(
                f.replace(fit_level, level) for f in (*self._footnotes, *ut.footnotes[len(self._footnotes) :])
            ),
        )

    def refit_without(self, units: Sequence[object], *, note: str = "") -> BenchmarkResults:
        """Re-estimate with further units masked (left out of the regression, averages and ranks).

        Parameters
        ----------
        units : sequence
            Unit ids to mask in addition to the small units.
        note : str, default=""
            Footnote to add (e.g. the disclosure rule of a release).

        Returns
        -------
        BenchmarkResults
        """
        extra = self._input[self.id_col].isin(list(units)).to_numpy()
        return _fit_benchmark(self._input, self._spec, extra, (note,) if note else ())

    def _refit(self, *, extra_masked: np.ndarray, rule: Any, note: str) -> BenchmarkResults:
        spec = dict(self._spec, threshold=int(rule.threshold))
        return _fit_benchmark(self._input, spec, np.asarray(extra_masked, dtype=bool), (note,))

    def plot(self, ax: Any = None, suppress: bool = True, **kwargs: Any) -> Any:
        """Caterpillar plot of actual minus expected with prediction intervals (returns the Axes).

        Masked units (see :meth:`unit_table`) are left out unless ``suppress=False``.
        """
        from evaltools.indicators.plots import plot_caterpillar

        return plot_caterpillar(self, ax=ax, suppress=suppress, **kwargs)


def _suppress_off(t: pd.DataFrame, notes: list[str], title: str) -> SuppressedTable:
    return suppress(t, count_col="n_persons", enabled=False, title=title, footnotes=notes)


class DiDResults(EstimationResults):
    """Difference-in-differences estimate (``params["did"]``) with the 2x2 table of means in :attr:`means`."""

    means: pd.DataFrame

    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        return [self.to_frame(alpha).loc[["did"]], self.means]


@renamed_arguments(id_col="id")
def benchmark(
    data: pd.DataFrame,
    *,
    outcome: str,
    frame_conditions: Sequence[str],
    id: str = "municipality",
    weights: str | None = None,
    model: str = "ols",
    better: str = "lower",
    project: str | Sequence[object] | None = None,
    selected_on_outcome: bool = False,
    alpha: float = 0.05,
    count_col: str | None = "persons",
    threshold: int = 3,
) -> BenchmarkResults:
    """Compare each unit's actual outcome with the level expected from its frame conditions.

    The expected level is the fitted value of a linear regression of the
    outcome on the frame conditions across units (the approach of the
    jobindsats/VIVE benchmark model; its published coefficients are not used).
    The interval is the regression prediction interval for a new observation
    with the unit's frame conditions.

    Parameters
    ----------
    data : DataFrame
        One row per unit (e.g. municipality) with the outcome and the frame conditions.
    outcome : str
        Outcome column (e.g. full-time persons on public support in % of the 16-66 population).
    frame_conditions : sequence of str
        Structural covariates (local unemployment, share non-Western, ...).
    id : str, default="municipality"
        Unit identifier.
    weights : str, optional
        Weight column (e.g. population); used for WLS and for the weighted national average.
    model : {"ols", "wls"}, default="ols"
        ``"wls"`` requires ``weights``.
    better : {"lower", "higher"}, default="lower"
        Direction of a good result; rank 1 is the unit furthest on the good side of its expectation.
    project : str or sequence, optional
        A boolean column, or a list of unit ids, marking project units (for the project average).
    selected_on_outcome : bool, default=False
        Set when the project units were chosen for poor results; adds the regression-to-the-mean note.
    alpha : float, default=0.05
        One minus the level of the prediction intervals.
    count_col : str or None, default="persons"
        Column with the number of persons behind each unit's outcome (e.g. the
        ``persons`` of an :class:`IndicatorTable` row).  Used when present; a
        name other than the default must exist.  ``None``, or no such column,
        means the outcomes are not person-based counts or rates (e.g. published
        population-level percentages); a footnote then says that no small-cell
        check was possible.
    threshold : int, default=3
        Units based on ``1 .. threshold`` persons (or a missing count) are
        masked in every export of the per-unit table.

    Notes
    -----
    Disclosure control: the coefficients, the residual variance (behind every
    prediction interval and standard error), the averages and the ranks are
    functions of all outcomes that enter the regression.  With the published
    frame conditions they give linear and quadratic equations in the units'
    outcomes (``X'y = X'X beta``, the residual sum of squares), from which a
    masked outcome can be solved, and ranks order it among the others.
    Therefore, when units are masked (``1 .. threshold`` persons, or a missing
    count), the regression, the national average and the ranks are computed on
    the *publishable* units only, and the masked units are predicted out of
    sample: their expected level and prediction interval depend only on their
    (public) frame conditions and the published coefficients.  Nothing published
    then depends on a masked unit's outcome, so no complementary units are
    needed; the project average is shown as masked when a project unit is
    masked.  (Rounding the coefficients instead would only turn exact recovery
    into a narrow interval.)  :meth:`BenchmarkResults.refit_without` re-estimates
    with further units masked (used by :class:`~evaltools.reporting.Release`
    when a unit's row is masked in a linked table).

    Returns
    -------
    BenchmarkResults
        ``params`` are the regression coefficients; ``table`` has, per unit:
        ``actual``, ``expected``, ``difference`` (actual - expected), ``lower``,
        ``upper`` (prediction interval), ``outside`` (actual outside the
        interval), ``rank`` (among the units in the regression; missing for
        masked units), ``raw_difference`` (actual - national average) and
        ``project``, plus ``n_persons`` (from ``count_col``, missing if not
        given), ``masked`` (masked in exports) and ``in_fit``;
        ``national_average``, ``project_average``, ``n_small_units``,
        ``project_masked`` and ``disclosure_notes`` are attributes.
        :attr:`BenchmarkResults.table` is exact (unsuppressed); use
        ``summary()`` or ``unit_table()`` to export.
    """
    where = "benchmark"
    check_option("model", model, ("ols", "wls"), where)
    check_option("better", better, ("lower", "higher"), where)
    if model == "wls" and weights is None:
        raise SpecificationError("benchmark: model='wls' needs weights=... (a column name).")
    fc = list(frame_conditions)
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 0:
        raise SpecificationError(f"benchmark: threshold must be a non-negative int; got {threshold!r}.")
    if count_col is not None and count_col != "persons":
        check_columns(data, [count_col], where, "count_col")
    use_counts = count_col is not None and count_col in data.columns
    cols = [id, outcome, *fc, *([weights] if weights else [])]
    d = _complete(data, cols, where)
    if d[id].duplicated().any():
        dup = d.loc[d[id].duplicated(), id].head(3).tolist()
        raise DataValidationError(
            f"benchmark: column {id!r} must identify one row per unit; duplicates: {dup}."
        )
    if project is None:
        proj = np.zeros(len(d), dtype=bool)
    elif isinstance(project, str):
        check_columns(d, [project], where)
        proj = d[project].astype(bool).to_numpy()
    else:
        proj = d[id].isin(list(project)).to_numpy()
    spec = dict(
        outcome=outcome,
        fc=fc,
        id_col=id,
        weights=weights,
        model=model,
        better=better,
        proj=proj,
        selected_on_outcome=selected_on_outcome,
        alpha=alpha,
        persons=d[count_col].to_numpy(float) if use_counts else None,
        threshold=int(threshold),
    )
    return _fit_benchmark(d, spec, np.zeros(len(d), dtype=bool), ())


def _fit_benchmark(
    d: pd.DataFrame, spec: dict[str, Any], extra: np.ndarray, release_notes: Sequence[str]
) -> BenchmarkResults:
    outcome, fc, id_col, weights = spec["outcome"], spec["fc"], spec["id_col"], spec["weights"]
    model, better, proj, alpha = spec["model"], spec["better"], spec["proj"], spec["alpha"]
    persons, threshold = spec["persons"], spec["threshold"]
    y = d[outcome].to_numpy(float)
    x = sm.add_constant(d[fc].to_numpy(float), has_constant="add")
    names = ["const", *fc]
    w = d[weights].to_numpy(float) if weights else None
    small = np.zeros(len(d), dtype=bool)
    if persons is not None:
        small = np.isnan(persons) | ((persons >= 1) & (persons <= threshold))
    masked = small | extra
    fit_rows = ~masked
    if fit_rows.sum() <= len(fc) + 1:
        raise DataValidationError(
            f"benchmark: {int(fit_rows.sum())} units can be used (of {len(d)}; {int(masked.sum())} masked "
            f"for disclosure control), too few for {len(fc)} frame conditions plus a constant."
        )
    if model == "wls" and w is not None:  # validated: "wls" requires weights
        fit = sm.WLS(y[fit_rows], x[fit_rows], weights=w[fit_rows]).fit()
        pred = fit.get_prediction(x, weights=w).summary_frame(alpha=alpha)
    else:
        fit = sm.OLS(y[fit_rows], x[fit_rows]).fit()
        pred = fit.get_prediction(x).summary_frame(alpha=alpha)
    expected = pred["mean"].to_numpy()
    national = (
        float(np.average(y[fit_rows], weights=w[fit_rows])) if w is not None else float(np.mean(y[fit_rows]))
    )
    diff = y - expected
    score = diff if better == "lower" else -diff
    rank = pd.Series(np.where(fit_rows, score, np.nan)).rank(method="min").astype("Int64").to_numpy()
    table = pd.DataFrame(
        {
            id_col: d[id_col].to_numpy(),
            "actual": y,
            "expected": expected,
            "difference": diff,
            "lower": pred["obs_ci_lower"].to_numpy(),
            "upper": pred["obs_ci_upper"].to_numpy(),
            "rank": rank,
            "raw_difference": y - national,
            "project": proj,
        }
    )
    table["outside"] = (y < table["lower"]) | (y > table["upper"])
    table["n_persons"] = persons if persons is not None else np.nan
    table["masked"] = masked
    table["in_fit"] = fit_rows
    project_masked = bool((masked & proj).any())
    n_fit = int(fit_rows.sum())
    if persons is None and not extra.any():
        disclosure = [
            "No person counts per unit (count_col): the per-unit outcomes were not checked for small cells. "
            "Pass count_col=... when the outcome is a count or rate from person-level data."
        ]
    elif masked.any():
        disclosure = [
            f"Units based on 1-{threshold} persons are masked ({int(small.sum())})"
            + (
                f", plus {int((extra & ~small).sum())} masked in linked tables"
                if (extra & ~small).any()
                else ""
            )
            + f"; the regression, the national average and the ranks use the {n_fit} other units only, so no "
            "published number depends on a masked outcome (masked units get the expected level and "
            "prediction interval of their frame conditions)"
            + ("; the project average is masked as it includes a masked unit." if project_masked else ".")
        ]
    else:
        disclosure = [f"No unit is based on 1-{threshold} persons; nothing is masked."]
    proj_avg = (
        (float(np.average(y[proj], weights=w[proj])) if w is not None else float(np.mean(y[proj])))
        if proj.any()
        else np.nan
    )
    notes = [
        f"Expected level: {model.upper()} regression of {outcome!r} on {fc} across {n_fit} units; interval "
        f"= {100 * (1 - alpha):g}% prediction interval.",
        f"Rank 1 = furthest {'below' if better == 'lower' else 'above'} its expected level "
        f"({better} is better).",
        "National average = "
        + ("weighted by " + repr(weights) if weights else "unweighted")
        + f" mean of the {n_fit} units in the regression, including project units; raw differences ignore "
        "frame conditions.",
    ]
    if spec["selected_on_outcome"]:
        notes.append(RTM_NOTE)
    params = pd.Series(fit.params, index=names)
    cov = pd.DataFrame(fit.cov_params(), index=names, columns=names)
    return BenchmarkResults(
        params,
        cov,
        n_fit,
        dist="t",
        df_resid=float(fit.df_resid),
        title="Benchmark against frame conditions",
        header=(
            ("R-squared", float(fit.rsquared)),
            ("National average", national),
            ("Project average", proj_avg),
        ),
        footnotes=notes,
        extra={
            "table": table,
            "n_small_units": int(small.sum()),
            "project_masked": project_masked,
            "disclosure_notes": (*notes, *disclosure, *release_notes),
            "national_average": national,
            "project_average": proj_avg,
            "id_col": id_col,
            "outcome": outcome,
            "better": better,
            "alpha": alpha,
            "_input": d,
            "_spec": spec,
        },
    )


def did(
    data: pd.DataFrame,
    *,
    outcome: str,
    treated: str,
    post: str,
    unit: str = "municipality",
    time: str = "period",
    weights: str | None = None,
    selected_on_outcome: bool = False,
) -> DiDResults:
    """Difference-in-differences of project vs non-project units with two-way fixed effects.

    Fits ``outcome ~ unit FE + time FE + did * (treated & post)`` by OLS (or WLS
    with ``weights``) with standard errors clustered by unit.  On a balanced
    panel with two periods the estimate equals the difference between the mean
    change of project units and of the other units (the comparison of Rambøll 2018,
    *I mål med integration*: +11 vs +7 percentage points).

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period.
    outcome : str
        Outcome column.
    treated : str
        Boolean column: the unit is a project unit (constant within unit).
    post : str
        Boolean column: the period is after the project start.
    unit, time : str
        Unit and period columns.
    weights : str, optional
        Weight column.
    selected_on_outcome : bool, default=False
        Set when project units were chosen for poor pre-period results; adds the
        regression-to-the-mean note (the parallel-trends assumption is then doubtful).

    Returns
    -------
    DiDResults
        ``params["did"]`` with clustered standard error, and ``means`` (2x2 table
        of mean outcomes with changes).
    """
    where = "did"
    cols = [unit, time, outcome, treated, post, *([weights] if weights else [])]
    d = _complete(data, cols, where)
    tr = d[treated].astype(bool)
    if (d.assign(_t=tr).groupby(unit)["_t"].nunique() > 1).any():
        raise DataValidationError(f"did: column {treated!r} must be constant within each {unit!r}.")
    if tr.all() or (~tr).all():
        raise DataValidationError("did: need both project and non-project units.")
    d = d.assign(_did=(tr & d[post].astype(bool)).astype(float))
    ud = pd.get_dummies(d[unit].astype("category"), prefix="u", drop_first=True, dtype=float)
    td = pd.get_dummies(d[time].astype("category"), prefix="t", drop_first=True, dtype=float)
    x = pd.concat([pd.Series(1.0, index=d.index, name="const"), d["_did"].rename("did"), ud, td], axis=1)
    y = d[outcome].to_numpy(float)
    groups = pd.factorize(d[unit])[0]
    mod = sm.WLS(y, x, weights=d[weights].to_numpy(float)) if weights else sm.OLS(y, x)
    fit = mod.fit(cov_type="cluster", cov_kwds={"groups": groups})
    n_cl = int(groups.max()) + 1
    means = (
        d.assign(_g=np.where(tr, "project", "other"), _p=np.where(d[post].astype(bool), "post", "pre"))
        .groupby(["_g", "_p"])[outcome]
        .mean()
        .unstack("_p")
        .reindex(columns=["pre", "post"])
    )
    means["change"] = means["post"] - means["pre"]
    means.index.name = None
    means.columns.name = None
    notes = [
        f"Two-way fixed effects ({unit} and {time}); did = coefficient on project x post.",
        f"Standard errors clustered on {unit} ({n_cl} clusters).",
    ]
    if selected_on_outcome:
        notes.append(RTM_NOTE)
    return DiDResults(
        fit.params,
        fit.cov_params(),
        len(d),
        dist="t",
        df_resid=float(n_cl - 1),
        title="Difference-in-differences: project vs other units",
        header=(("Clusters", n_cl), ("Project units", int(d.loc[tr, unit].nunique()))),
        footnotes=notes,
        extra={"means": means},
    )


@renamed_arguments(id_col="id")
def regression_to_mean(
    data: pd.DataFrame, *, baseline: str, followup: str, selected: str, id: str = "municipality"
) -> pd.DataFrame:
    """Expected follow-up of selected units from the baseline-followup relation of the other units.

    Regresses ``followup`` on ``baseline`` by OLS in the units *not* selected and
    predicts the selected units.  With no programme effect, a selected unit is
    expected to move from its baseline towards the mean by ``expected_change``;
    ``excess_change`` (actual minus expected change) is the part not explained
    by regression to the mean and common trends.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    baseline, followup : str
        Outcome before and after.
    selected : str
        Boolean column: unit selected (e.g. for poor baseline results).
    id : str, default="municipality"
        Unit identifier.

    Returns
    -------
    DataFrame
        Per selected unit: ``baseline``, ``followup``, ``expected_followup``,
        ``actual_change``, ``expected_change``, ``excess_change``; ``attrs`` holds
        ``slope`` and ``intercept``.
    """
    d = _complete(data, [id, baseline, followup, selected], "regression_to_mean")
    sel = d[selected].astype(bool).to_numpy()
    if sel.all() or (~sel).sum() < 3:
        raise DataValidationError("regression_to_mean: need at least 3 units that were not selected.")
    slope, intercept = np.polyfit(
        d.loc[~sel, baseline].to_numpy(float), d.loc[~sel, followup].to_numpy(float), 1
    )
    s = d.loc[sel]
    b, f = s[baseline].to_numpy(float), s[followup].to_numpy(float)
    exp_f = intercept + slope * b
    out = pd.DataFrame(
        {
            id: s[id].to_numpy(),
            "baseline": b,
            "followup": f,
            "expected_followup": exp_f,
            "actual_change": f - b,
            "expected_change": exp_f - b,
            "excess_change": f - exp_f,
        }
    )
    out.attrs.update(slope=float(slope), intercept=float(intercept))
    return out


@renamed_arguments(id_col="id")
def decompose_share_change(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    value_col: str,
    id: str = "person_id",
    by: Sequence[str] = (),
) -> IndicatorTable:
    """Split the change in a share between two dates into within-person change, inflow and outflow.

    The populations at the two dates are split into stayers ``S`` (in both),
    leavers ``L`` (only before) and entrants ``E`` (only after).  With ``s`` the
    share of ``value_col`` and ``n`` the counts, the change is exactly::

        s_after - s_before = within + inflow + outflow
        within  = s_S,after - s_S,before
        inflow  = n_E / (n_S + n_E) * (s_E - s_S,after)
        outflow = n_L / (n_S + n_L) * (s_S,before - s_L)

    ``composition = inflow + outflow`` (e.g. the job-ready share falls when fewer
    job-ready persons enter and more leave for self-support, as in Rambøll 2018).

    Parameters
    ----------
    before, after : DataFrame
        One row per person in the population at each date, with ``id``,
        ``value_col`` (0/1 or bool) and the ``by`` columns (taken from ``after``
        for stayers and entrants, from ``before`` for leavers).
    value_col : str
        Indicator column.
    id : str, default="person_id"
        Person identifier.
    by : sequence of str, default=()
        Groups (e.g. municipality).

    Returns
    -------
    IndicatorTable
        Per group: counts, the shares, ``change``, ``within``, ``inflow``,
        ``outflow`` and ``composition``.
    """
    where = "decompose_share_change"
    by = list(by)
    for nm, t in (("before", before), ("after", after)):
        check_columns(t, [id, value_col, *by], f"{where}({nm}=...)")
        if t[id].duplicated().any():
            raise DataValidationError(
                f"{where}: {nm} has duplicated {id!r}; one row per person is required."
            )
        if t[value_col].isna().any():
            raise DataValidationError(
                f"{where}: {nm}[{value_col!r}] is missing in {int(t[value_col].isna().sum())} rows."
            )
    b = before[[id, value_col, *by]].rename(columns={value_col: "v0"})
    a = after[[id, value_col, *by]].rename(columns={value_col: "v1"})
    m = b.merge(a, on=id, how="outer", suffixes=("_b", "_a"), indicator=True)
    for c in by:
        m[c] = m[f"{c}_a"].where(m["_merge"] != "left_only", m[f"{c}_b"])
    m["S"] = m["_merge"] == "both"
    m["L"] = m["_merge"] == "left_only"
    m["E"] = m["_merge"] == "right_only"
    m["v0"] = m["v0"].astype(float)
    m["v1"] = m["v1"].astype(float)
    g = m.assign(
        vS0=m["v0"].where(m["S"], 0.0),
        vS1=m["v1"].where(m["S"], 0.0),
        vL=m["v0"].where(m["L"], 0.0),
        vE=m["v1"].where(m["E"], 0.0),
    )
    keys = by if by else None
    agg_spec = {
        "n_stayers": ("S", "sum"),
        "n_leavers": ("L", "sum"),
        "n_entrants": ("E", "sum"),
        "a_S0": ("vS0", "sum"),
        "a_S1": ("vS1", "sum"),
        "a_L": ("vL", "sum"),
        "a_E": ("vE", "sum"),
    }
    agg = (
        g.groupby(keys, dropna=False).agg(**agg_spec).reset_index()
        if keys
        else pd.DataFrame({k: [g[c].sum()] for k, (c, _) in agg_spec.items()})
    )
    nS, nL, nE = (agg[c].to_numpy(float) for c in ("n_stayers", "n_leavers", "n_entrants"))
    with np.errstate(divide="ignore", invalid="ignore"):
        sS0 = agg["a_S0"] / nS
        sS1 = agg["a_S1"] / nS
        sL = agg["a_L"] / nL
        sE = agg["a_E"] / nE
        s0 = (agg["a_S0"] + agg["a_L"]) / (nS + nL)
        s1 = (agg["a_S1"] + agg["a_E"]) / (nS + nE)
        inflow = np.where(nE > 0, nE / (nS + nE) * (sE - sS1), 0.0)
        outflow = np.where(nL > 0, nL / (nS + nL) * (sS0 - sL), 0.0)
    out = agg[by].copy() if by else pd.DataFrame(index=agg.index)
    out["persons"] = (nS + nL + nE).astype(np.int64)
    for c in ("n_stayers", "n_leavers", "n_entrants"):
        out[c] = agg[c].astype(np.int64)
    out["share_before"] = s0
    out["share_after"] = s1
    out["share_stayers_before"] = sS0
    out["share_stayers_after"] = sS1
    out["share_leavers"] = sL
    out["share_entrants"] = sE
    out["change"] = s1 - s0
    out["within"] = sS1 - sS0
    out["inflow"] = inflow
    out["outflow"] = outflow
    out["composition"] = inflow + outflow
    notes = [
        "change = within (stayers' change) + inflow (entrants vs stayers) + outflow (stayers vs leavers); "
        "composition = inflow + outflow.",
    ]
    return IndicatorTable(
        out,
        keys=by,
        count_col="persons",
        layout=(by[:1], by[1] if len(by) > 1 else None),
        title="Decomposition of a change in a share",
        footnotes=notes,
        extra_counts=["n_stayers", "n_leavers", "n_entrants"],
    )
