"""Thin, validated wrappers around :mod:`linearmodels` for panel, DiD and IV recipes.

Nothing here re-implements an estimator: every function checks the input in
the evaltools style (missing columns, duplicated entity-period rows, missing
values counted and reported), builds the arrays and calls ``linearmodels``.
Every recipe returns a :class:`~evaltools.selection.LinearModelsResults`: the
linearmodels numbers behind the evaltools results interface (``params``,
``bse``, ``conf_int()``, ``summary()``, ``to_frame()``, ``plot()``), with the
linearmodels object itself in ``.raw``.

Recipes
-------
* Municipality (or jobcentre) x period panel with two-way fixed effects:
  :func:`municipality_panel_ols` = ``PanelOLS(y, X, entity_effects=True,
  time_effects=True).fit(cov_type="clustered", cluster_entity=True)``.
* 2x2 difference-in-differences: :func:`twfe_did` with a 0/1 column
  ``treated_post = treated * post``.  With two periods and a balanced panel the
  coefficient equals the difference in mean changes between treated and
  control units.
* Event study: :func:`event_study` adds relative-time dummies
  ``rel_m<k>`` / ``rel_p<k>`` (k periods before / after first treatment,
  endpoints binned, ``reference`` period omitted) to a two-way fixed-effects
  regression; never-treated units have all dummies 0.
* Instrumental variables: :func:`iv_2sls` = ``IV2SLS(y, exog, endog,
  instruments).fit(cov_type=...)``.

Staggered adoption: with treatment starting at different times and effects
that vary over time or across cohorts, the two-way fixed-effects DiD and the
event-study regression above are biased (Goodman-Bacon 2021; Sun and Abraham
2021).  Use :class:`evaltools.selection.StaggeredDiD` (Callaway and Sant'Anna
2021, checked against R ``did``) for group-time effects and a
heterogeneity-robust event study; :func:`evaltools.selection.indicator_panel`
builds its municipality x period input from an indicator table.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._model.covariance import RENAMES, resolve_cov_type
from evaltools._validation import check_columns, check_option, raise_for_rows
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError
from evaltools.selection._panel_results import LinearModelsResults, wrap_linearmodels

__all__ = ["LinearModelsResults", "event_study", "iv_2sls", "municipality_panel_ols", "twfe_did"]

_CLUSTER = ["entity", "time", "both", "robust", "unadjusted"]


def _names(value: str | Sequence[str], name: str, where: str, allow_empty: bool = False) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise SpecificationError(f"{where}: {name!r} must be a column name or a list of column names.")
    if not value and not allow_empty:
        raise SpecificationError(f"{where}: {name!r} must name at least one column.")
    return list(value)


def _complete(data: pd.DataFrame, cols: list[str], where: str) -> tuple[pd.DataFrame, int]:
    """Keep the used columns of complete rows; warn with the count of dropped rows (returned too)."""
    sub = data[list(dict.fromkeys(cols))]
    miss = sub.isna().any(axis=1)
    n_miss = int(miss.sum())
    if n_miss:
        bad = [c for c in sub.columns if sub[c].isna().any()]
        warnings.warn(f"{where}: dropped {n_miss:,} of {len(sub):,} rows with missing values in {bad}.",
                      MissingValueWarning, stacklevel=3)
    return sub.loc[~miss.to_numpy()].copy(), n_miss


def _check_numeric(sub: pd.DataFrame, cols: list[str], where: str) -> None:
    for c in cols:
        if not (pd.api.types.is_numeric_dtype(sub[c]) or pd.api.types.is_bool_dtype(sub[c])):
            raise DataValidationError(f"{where}: column {c!r} has dtype {sub[c].dtype}; it must be numeric. "
                                      "Encode categories as 0/1 dummies.")


def municipality_panel_ols(
    data: pd.DataFrame,
    *,
    outcome: str,
    covariates: str | Sequence[str],
    entity: str = "municipality",
    time: str = "period",
    entity_effects: bool = True,
    time_effects: bool = True,
    cluster: str | None = "entity",
    add_constant: bool = True,
) -> LinearModelsResults:
    """Two-way fixed-effects panel regression via ``linearmodels.PanelOLS``.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per entity and period (not modified).
    outcome : str
        Outcome column.
    covariates : str or list of str
        Regressors (numeric).
    entity, time : str, default="municipality", "period"
        Entity and period columns; ``time`` must be numeric or datetime.
    entity_effects, time_effects : bool, default=True
        Absorb entity and/or period fixed effects.
    cluster : {"entity", "time", "both", "robust", "unadjusted"} or None, default="entity"
        Covariance: clustered by entity, by period, two-way, heteroskedasticity
        robust, or classical (``None`` = ``"unadjusted"``).
    add_constant : bool, default=True
        Include a constant ``const`` (linearmodels reports it as the mean
        level after removing the effects).

    Returns
    -------
    LinearModelsResults
        The linearmodels numbers (``params``, ``bse``, ``summary()`` ...); the
        ``PanelEffectsResults`` object is ``.raw``.

    Raises
    ------
    DataValidationError
        Missing columns, non-numeric columns, or more than one row for an
        entity-period pair.

    Warns
    -----
    MissingValueWarning
        Rows with missing values in the used columns are dropped (count in
        the message; ``results.nobs`` is the number used).
    """
    raw, n_dropped = _panel_fit(data, outcome=outcome, covariates=covariates, entity=entity, time=time,
                                entity_effects=entity_effects, time_effects=time_effects, cluster=cluster,
                                add_constant=add_constant, where="municipality_panel_ols")
    effects = [w for w, on in (("entity", entity_effects), ("period", time_effects)) if on]
    return _wrap_panel(raw, n_dropped, cluster=cluster, entity=entity, time=time,
                       title="Panel regression with " + (" and ".join(effects) + " fixed effects" if effects
                                                          else "no fixed effects"))


_COV_TEXT = {
    "entity": "clustered by {entity!r}",
    "time": "clustered by {time!r}",
    "both": "two-way clustered by {entity!r} and {time!r}",
    "robust": "heteroskedasticity-robust (White)",
    "unadjusted": "classical (homoskedastic)",
}


def _wrap_panel(raw: Any, n_dropped: int, *, cluster: str | None, entity: str, time: str, title: str,
                notes: Sequence[str] = ()) -> LinearModelsResults:
    kind = "unadjusted" if cluster is None else cluster
    return wrap_linearmodels(
        raw, estimator="PanelOLS", title=title, n_dropped=n_dropped,
        cov_text=_COV_TEXT[kind].format(entity=entity, time=time),
        header=[("Entities", int(raw.entity_info["total"])), ("Periods", int(raw.time_info["total"]))],
        notes=notes,
    )


def _panel_fit(
    data: pd.DataFrame,
    *,
    outcome: str,
    covariates: str | Sequence[str],
    entity: str,
    time: str,
    entity_effects: bool,
    time_effects: bool,
    cluster: str | None,
    add_constant: bool,
    where: str,
) -> tuple[Any, int]:
    """Validate, drop incomplete rows and fit ``PanelOLS``; return the raw results and rows dropped."""
    from linearmodels import PanelOLS

    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{where}: 'data' must be a pandas DataFrame.")
    xcols = _names(covariates, "covariates", where)
    check_option("cluster", "unadjusted" if cluster is None else cluster, _CLUSTER, where)
    cols = [entity, time, outcome, *xcols]
    check_columns(data, cols, where)
    if not (pd.api.types.is_numeric_dtype(data[time]) or pd.api.types.is_datetime64_any_dtype(data[time])):
        raise DataValidationError(
            f"{where}: the time column {time!r} has dtype {data[time].dtype}; linearmodels needs numeric "
            "or datetime periods. Convert it, e.g. with pd.to_datetime or a period number."
        )
    sub, n_dropped = _complete(data, cols, where)
    _check_numeric(sub, [outcome, *xcols], where)
    dup = sub.duplicated([entity, time], keep=False).to_numpy()
    raise_for_rows(
        sub, dup, rule=f"{where}: each ({entity!r}, {time!r}) pair must appear once",
        fix="Aggregate to one row per entity and period (or use a finer entity).", columns=[entity, time],
    )
    sub = sub.set_index([entity, time])
    X = sub[xcols].astype(float)
    if add_constant:
        X.insert(0, "const", 1.0)
    mod = PanelOLS(sub[outcome].astype(float), X, entity_effects=entity_effects, time_effects=time_effects)
    kind = "unadjusted" if cluster is None else cluster
    if kind in ("entity", "time", "both"):
        return mod.fit(cov_type="clustered", cluster_entity=kind in ("entity", "both"),
                       cluster_time=kind in ("time", "both")), n_dropped
    return mod.fit(cov_type=kind), n_dropped


def twfe_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    entity: str,
    time: str,
    covariates: str | Sequence[str] = (),
    cluster: str | None = "entity",
) -> LinearModelsResults:
    """Two-way fixed-effects difference-in-differences (2x2 or common timing).

    ``outcome ~ treatment + covariates + entity effects + period effects``
    with ``treatment`` the 0/1 indicator "treated unit in a post period"
    (``treated * post``).  A thin call of :func:`municipality_panel_ols`
    (no constant).  Not robust to staggered adoption with heterogeneous
    effects: see the module docstring for the packages to use then.

    Parameters
    ----------
    data : DataFrame
        Long panel (not modified).
    outcome : str
        Outcome column.
    treatment : str
        0/1 column, 1 for treated units in post-treatment periods.
    entity, time : str
        Entity and period columns.
    covariates : str or list of str, default=()
        Time-varying controls.
    cluster : {"entity", "time", "both", "robust", "unadjusted"} or None, default="entity"
        Covariance type.

    Returns
    -------
    LinearModelsResults
        The DiD estimate is ``results.params[treatment]``; the linearmodels
        object is ``.raw``.
    """
    where = "twfe_did"
    check_columns(data, [treatment], where, role="treatment")
    vals = pd.unique(data[treatment].dropna())
    if not set(np.asarray(vals, dtype=float).tolist()) <= {0.0, 1.0}:
        raise DataValidationError(f"{where}: the treatment column {treatment!r} must be 0/1 (treated unit in "
                                  f"a post period); found values {sorted(map(float, vals))[:5]}.")
    xcols = [treatment, *_names(covariates, "covariates", where, allow_empty=True)]
    raw, n_dropped = _panel_fit(data, outcome=outcome, covariates=xcols, entity=entity, time=time,
                                entity_effects=True, time_effects=True, cluster=cluster, add_constant=False,
                                where=where)
    return _wrap_panel(raw, n_dropped, cluster=cluster, entity=entity, time=time,
                       title="Two-way fixed-effects difference-in-differences",
                       notes=[f"DiD estimate: the coefficient on {treatment!r} (treated unit in a post "
                              f"period), with {entity!r} and {time!r} fixed effects; biased under staggered "
                              "adoption with heterogeneous effects (use StaggeredDiD)."])


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    entity: str,
    time: str,
    first_treated: str,
    leads: int = 4,
    lags: int = 4,
    reference: int = -1,
    covariates: str | Sequence[str] = (),
    cluster: str | None = "entity",
) -> LinearModelsResults:
    """Event-study regression with relative-time dummies and two-way fixed effects.

    Builds ``rel = time - first_treated`` and dummies ``rel_m<k>`` (k periods
    before) and ``rel_p<k>`` (k periods after, ``rel_p0`` = first treated
    period) for ``-leads <= rel <= lags``, binning ``rel < -leads`` into
    ``-leads`` and ``rel > lags`` into ``lags``, omitting ``reference``; then
    calls :func:`municipality_panel_ols` with entity and period effects.
    Units with a missing ``first_treated`` are never treated (all dummies 0).
    Under staggered adoption with heterogeneous effects the coefficients are
    contaminated (Sun and Abraham 2021); see the module docstring.

    Parameters
    ----------
    data : DataFrame
        Long panel with integer-valued periods (not modified).
    outcome, entity, time : str
        Outcome, entity and period columns.
    first_treated : str
        Period of first treatment of the entity (constant within entity;
        NaN for never-treated entities).
    leads, lags : int, default=4
        Window of relative periods (endpoints binned).
    reference : int, default=-1
        Omitted relative period.
    covariates : str or list of str, default=()
        Time-varying controls.
    cluster : {"entity", "time", "both", "robust", "unadjusted"} or None, default="entity"
        Covariance type.

    Returns
    -------
    LinearModelsResults
        Coefficients named ``rel_m<k>`` / ``rel_p<k>``; the linearmodels
        object is ``.raw``.
    """
    where = "event_study"
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{where}: 'data' must be a pandas DataFrame.")
    for name, v in (("leads", leads), ("lags", lags)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise SpecificationError(f"{where}: {name!r} must be a non-negative int; got {v!r}.")
    if not -leads <= reference <= lags:
        raise SpecificationError(f"{where}: reference={reference!r} must lie in [-leads, lags] = "
                                 f"[{-leads}, {lags}].")
    check_columns(data, [outcome, entity, time, first_treated], where)
    _check_numeric(data, [time, first_treated], where)
    ft = data.groupby(entity, sort=False)[first_treated].nunique(dropna=False)
    bad_ent = ft.index[ft.to_numpy() > 1]
    raise_for_rows(
        data, data[entity].isin(bad_ent).to_numpy(),
        rule=f"{where}: {first_treated!r} must be constant within each {entity!r}",
        fix="Give every entity a single first-treatment period (NaN if never treated).",
        columns=[entity, time, first_treated],
    )
    rel = (data[time] - data[first_treated]).clip(-leads, lags)
    frame = data.copy()
    names = []
    for k in range(-leads, lags + 1):
        if k == reference:
            continue
        name = f"rel_m{-k}" if k < 0 else f"rel_p{k}"
        if name in frame.columns:
            raise SpecificationError(f"{where}: the data already has a column {name!r}; rename it.")
        frame[name] = (rel == k).astype(float)      # NaN rel (never treated) -> 0
        names.append(name)
    xcols = [*names, *_names(covariates, "covariates", where, allow_empty=True)]
    raw, n_dropped = _panel_fit(frame, outcome=outcome, covariates=xcols, entity=entity, time=time,
                                entity_effects=True, time_effects=True, cluster=cluster, add_constant=False,
                                where=where)
    ref = f"rel_m{-reference}" if reference < 0 else f"rel_p{reference}"
    return _wrap_panel(raw, n_dropped, cluster=cluster, entity=entity, time=time,
                       title="Event study (two-way fixed effects)",
                       notes=[f"Relative-time dummies rel_m<k> / rel_p<k> for {-leads}..{lags} periods "
                              f"around {first_treated!r} (endpoints binned; {ref} omitted as the reference); "
                              "never-treated units have all dummies 0."])


def iv_2sls(
    data: pd.DataFrame,
    *,
    outcome: str,
    exog: str | Sequence[str] = (),
    endog: str | Sequence[str],
    instruments: str | Sequence[str],
    add_constant: bool = True,
    cov_type: str = "robust",
    cluster: str | None = None,
    debiased: bool = False,
) -> LinearModelsResults:
    """Two-stage least squares via ``linearmodels.IV2SLS``.

    Parameters
    ----------
    data : DataFrame
        The data (not modified).
    outcome : str
        Dependent variable.
    exog : str or list of str, default=()
        Exogenous regressors (a constant ``const`` is added unless
        ``add_constant=False``).
    endog : str or list of str
        Endogenous regressors.
    instruments : str or list of str
        Excluded instruments (at least as many as ``endog``).
    add_constant : bool, default=True
        Add a constant to the exogenous regressors.
    cov_type : {"nonrobust", "robust", "cluster"}, default="robust"
        Covariance estimator (``"cluster"`` requires ``cluster``); the old
        names ``"unadjusted"`` and ``"clustered"`` are accepted with a
        ``FutureWarning`` for one release.
    cluster : str, optional
        Cluster column for ``cov_type="cluster"``.
    debiased : bool, default=False
        linearmodels' small-sample correction (``n / (n - k)`` and t/F
        reference distributions); ``True`` reproduces Stata ``ivregress 2sls``
        / ``ivreg`` standard errors.

    Returns
    -------
    LinearModelsResults
        The linearmodels numbers; the ``IVResults`` object is ``.raw`` (first
        stages in ``.raw.first_stage``).
    """
    from linearmodels import IV2SLS

    where = "iv_2sls"
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{where}: 'data' must be a pandas DataFrame.")
    cov_type = resolve_cov_type(cov_type, where, renames=RENAMES["iv"], stacklevel=4)
    # linearmodels' names
    cov_type = {"nonrobust": "unadjusted", "cluster": "clustered"}.get(cov_type, cov_type)
    xc = _names(exog, "exog", where, allow_empty=True)
    en = _names(endog, "endog", where)
    zc = _names(instruments, "instruments", where)
    if len(zc) < len(en):
        raise SpecificationError(f"{where}: {len(en)} endogenous regressor(s) {en} need at least as many "
                                 f"excluded instruments; got {len(zc)} {zc}.")
    if set(zc) & set(xc + en):
        raise SpecificationError(f"{where}: instruments {sorted(set(zc) & set(xc + en))} also appear as "
                                 "regressors; an excluded instrument must not be a regressor.")
    if (cov_type == "clustered") != (cluster is not None):
        raise SpecificationError(f"{where}: pass cluster=<column> exactly when cov_type='cluster'.")
    cols = [outcome, *xc, *en, *zc] + ([cluster] if cluster else [])
    check_columns(data, cols, where)
    sub, n_dropped = _complete(data, cols, where)
    _check_numeric(sub, [outcome, *xc, *en, *zc], where)
    X = sub[xc].astype(float)
    if add_constant:
        X.insert(0, "const", 1.0)
    mod = IV2SLS(sub[outcome].astype(float), X if X.shape[1] else None, sub[en].astype(float),
                 sub[zc].astype(float))
    if cov_type == "clustered":
        raw = mod.fit(cov_type="clustered", clusters=pd.factorize(sub[cluster])[0], debiased=debiased)
        n_cl = int(sub[cluster].nunique())
        cov_text = f"clustered by {cluster!r} ({n_cl:,} clusters)"
    else:
        raw = mod.fit(cov_type=cov_type, debiased=debiased)
        cov_text = {"robust": "heteroskedasticity-robust (White)", "unadjusted": "classical (homoskedastic)"}[
            cov_type]
    return wrap_linearmodels(
        raw, estimator="IV2SLS", title="Two-stage least squares", n_dropped=n_dropped, cov_text=cov_text,
        header=[("Endogenous", ", ".join(en)), ("Instruments", ", ".join(zc))],
        notes=[f"Endogenous regressor(s) {en} instrumented by the excluded instrument(s) {zc}."],
    )
