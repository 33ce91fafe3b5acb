"""Results object of :class:`evaltools.duration.cox.CoxPH`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._model.covariance import sandwich, score_meat
from evaltools._validation import check_option
from evaltools.duration import _cox_core as core
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.reporting.results import EstimationResults, TestResult, chi2_test

if TYPE_CHECKING:  # pragma: no cover
    from evaltools.duration.cox import CoxPH

__all__ = ["CoxResults", "TestResult", "assemble", "build_results"]


_chi2 = chi2_test  # internal name kept for modules that build Cox-type results


def _inv(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


class CoxResults(EstimationResults):
    """Results of a Cox proportional hazards fit (read-only).

    Attributes
    ----------
    params, bse, tvalues, pvalues : Series
        Log hazard ratios and their standard errors, z statistics and p-values
        (from the covariance chosen by ``cov_type``).
    hazard_ratios : Series
        ``exp(params)``.
    llf, llnull : float
        Log partial likelihood at the estimates and at zero.
    lr_test, wald_test, score_test : TestResult
        Likelihood-ratio, Wald (with the reported covariance) and score
        (log-rank) tests of all coefficients being zero.
    cov_naive : DataFrame
        Inverse information (equal to :meth:`cov_params` when ``cov_type="nonrobust"``).
    ties, cov_type : str
        Options used.
    n_events, n_persons, n_clusters, n_strata : int or None
        Counts (``n_persons`` is the number of distinct ``id`` values -- persons or spells, whichever
        the id is -- and needs ``id``; ``n_clusters`` needs ``cov_type="cluster"``).
    n_dropped, n_delayed_entry : int
        Rows dropped for missing values; persons (rows without ``id``) entering with ``start > 0``.
    converged : bool
        Whether Newton-Raphson converged to finite estimates.
    n_iter : int
        Newton iterations used.
    """

    model: CoxPH
    llf: float
    llnull: float
    lr_test: TestResult
    wald_test: TestResult
    score_test: TestResult
    cov_naive: pd.DataFrame
    ties: str
    cov_type: str
    cluster: str | None
    n_events: int
    n_persons: int | None
    n_clusters: int | None
    n_strata: int
    n_dropped: int
    n_delayed_entry: int
    converged: bool
    n_iter: int
    _state: dict[str, Any]

    @cached_property
    def hazard_ratios(self) -> pd.Series:
        """Hazard ratios ``exp(params)``."""
        return np.exp(self.params).rename("hazard_ratio")

    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        tab = self.to_frame(alpha)
        with np.errstate(over="ignore"):  # diverging coefficients (already warned about) give inf
            tab.insert(1, "hazard_ratio", np.exp(tab["estimate"]))
            tab["hr_lower"] = np.exp(tab["lower"])
            tab["hr_upper"] = np.exp(tab["upper"])
        return [tab]

    # -- baseline hazard and predictions ---------------------------------------
    @cached_property
    def baseline_cumulative_hazard(self) -> pd.DataFrame:
        """Baseline cumulative hazard at covariates = 0, by stratum, at every event time.

        The increments are Breslow's for ``ties="breslow"`` and Efron's
        (``sum_l (W/m) / (S0 - (l/m) D0)``) for ``ties="efron"``, as R
        ``basehaz(fit, centered=FALSE)``.

        Returns
        -------
        DataFrame
            Columns ``time`` and ``cumulative_hazard`` (plus ``stratum`` with strata).
        """
        st = self._state
        idx = st["index"]
        dlam = st["ev"].a * np.exp(-st["ev"].shift - st["mean"] @ self._params.to_numpy())
        cum = np.cumsum(dlam)
        gs = idx.group_stratum
        first = np.searchsorted(gs, gs, side="left")
        before = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
        out = pd.DataFrame({"time": idx.group_time, "cumulative_hazard": cum - before})
        if self.model.strata:
            labels = np.asarray(self.model.strata_labels, dtype=object)
            out.insert(0, "stratum", labels[gs])
        return out

    def _strata_of(self, data: Any, n: int) -> np.ndarray:
        model = self.model
        if not model.strata:
            return np.zeros(n, dtype=np.int64)
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                "Predictions from a stratified model need a DataFrame with the strata columns."
            )
        if len(model.strata) == 1:
            lab = [f"{model.strata[0]}={v}" for v in data[model.strata[0]]]
        else:
            lab = [
                ", ".join(f"{s}={v}" for s, v in zip(model.strata, row))
                for row in data[model.strata].itertuples(index=False)
            ]
        pos = {s: i for i, s in enumerate(model.strata_labels)}
        bad = [s for s in lab if s not in pos]
        if bad:
            raise DataValidationError(
                f"Predictions: {len(bad)} rows have strata not seen in the fit (e.g. {bad[:3]}); "
                f"known strata: {model.strata_labels}."
            )
        return np.array([pos[s] for s in lab], dtype=np.int64)

    def predict_partial_hazard(self, data: Any) -> pd.Series:
        """Relative hazard ``exp(x'beta)`` of each row of ``data`` (relative to covariates = 0).

        Parameters
        ----------
        data : DataFrame or array-like
            Covariates in the form the model was specified with.

        Returns
        -------
        Series
        """
        X = self.model._design(data)
        index = data.index if isinstance(data, pd.DataFrame) else None
        return pd.Series(np.exp(X @ self._params.to_numpy()), index=index, name="partial_hazard")

    def predict_cumulative_hazard(self, data: Any, times: Any = None) -> pd.DataFrame:
        """Cumulative hazard for fixed covariate profiles (covariates constant over time).

        Parameters
        ----------
        data : DataFrame or array-like
            One covariate profile per row (and its stratum for stratified models).
        times : array-like, optional
            Times to evaluate at; default: every event time.

        Returns
        -------
        DataFrame
            Index: times; one column per row of ``data``.
        """
        X = self.model._design(data)
        risk = np.exp(X @ self._params.to_numpy())
        strat = self._strata_of(data, len(X))
        bh = self.baseline_cumulative_hazard
        gs = self._state["index"].group_stratum
        t_all = bh["time"].to_numpy()
        if times is None:
            times = np.unique(t_all)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        out = np.empty((len(times), len(X)))
        for s in np.unique(strat):
            sel = gs == s
            ts, cs = t_all[sel], bh["cumulative_hazard"].to_numpy()[sel]
            pos = np.searchsorted(ts, times, side="right") - 1
            base = np.where(pos >= 0, cs[np.maximum(pos, 0)], 0.0)
            cols = strat == s
            out[:, cols] = base[:, None] * risk[cols][None, :]
        columns = data.index if isinstance(data, pd.DataFrame) else pd.RangeIndex(len(X))
        return pd.DataFrame(out, index=pd.Index(times, name="time"), columns=columns)

    def predict_survival(self, data: Any, times: Any = None) -> pd.DataFrame:
        """Survival ``exp(-H(t | x))`` for fixed covariate profiles (see :meth:`predict_cumulative_hazard`).

        Parameters
        ----------
        data : DataFrame or array-like
            One covariate profile per row.
        times : array-like, optional
            Times to evaluate at; default: every event time.

        Returns
        -------
        DataFrame
            Index: times; one column per row of ``data``.
        """
        cum = self.predict_cumulative_hazard(data, times)
        return pd.DataFrame(np.exp(-cum.to_numpy()), index=cum.index, columns=cum.columns)

    # -- residuals and proportional-hazards test ------------------------------
    def schoenfeld_residuals(self) -> pd.DataFrame:
        """Schoenfeld residuals of the event rows (R conventions; Efron averages the tied means).

        Returns
        -------
        DataFrame
            Indexed by the event rows' labels in the model data, with a ``time``
            column and one column per covariate, sorted by stratum and time.
        """
        st = self._state
        idx = st["index"]
        res = core.schoenfeld(st["X"], idx, st["ev"])
        rows = self.model._rows[np.flatnonzero(self.model._active)[idx.death_rows]]
        out = pd.DataFrame(res, columns=self._params.index, index=self.model.data.index[rows])
        out.insert(0, "time", idx.group_time[idx.death_group])
        return out

    def test_proportional_hazards(self, transform: str = "km") -> pd.DataFrame:
        """Grambsch-Therneau proportional-hazards test, as R ``cox.zph(fit, terms=FALSE)`` (survival >= 3.0).

        This is the score test of adding ``x * g(t)`` for each covariate (and all
        at once, ``GLOBAL``) at the fitted coefficients, using the full
        information matrix of the extended model -- the formula of survival 3.x,
        not the older approximation based on scaled Schoenfeld residuals.

        Parameters
        ----------
        transform : {"km", "identity", "rank", "log"}, default="km"
            Time transformation ``g``: ``"km"`` is one minus the left-continuous
            (unstratified, unweighted) Kaplan-Meier estimate, as in R.

        Returns
        -------
        DataFrame
            Columns ``chisq``, ``df``, ``pvalue``; one row per covariate plus ``GLOBAL``.
        """
        check_option(
            "transform", transform, ["km", "identity", "rank", "log"], "CoxResults.test_proportional_hazards"
        )
        st = self._state
        idx = st["index"]
        m = self.model
        start, stop, event = m._start, m._stop, m._event
        dtimes = stop[event]
        if transform == "identity":
            tt = dtimes
            gtimes = idx.group_time
        elif transform == "log":
            tt, gtimes = np.log(dtimes), np.log(idx.group_time)
        elif transform == "rank":
            all_rank = stats.rankdata(stop)
            tt = all_rank[event]
            lookup = pd.Series(all_rank, index=stop).groupby(level=0).first()
            gtimes = lookup.reindex(idx.group_time).to_numpy()
        else:
            u = np.unique(dtimes)
            n_risk = np.searchsorted(np.sort(start), u, side="left") - np.searchsorted(
                np.sort(stop), u, side="left"
            )
            d = np.bincount(np.searchsorted(u, dtimes), minlength=len(u))
            surv = np.cumprod(1.0 - d / n_risk)
            left = np.concatenate([[1.0], surv[:-1]])
            tt = 1.0 - left[np.searchsorted(u, dtimes)]
            gtimes = 1.0 - left[np.searchsorted(u, idx.group_time)]
        g = gtimes - tt.mean()
        u_g, imat = core.zph_score(st["X"], st["w"], idx, st["ev"], g)
        p = len(u_g)
        chisq = np.empty(p + 1)
        for j in range(p):
            kk = np.r_[np.arange(p), p + j]
            vec = np.zeros(p + 1)
            vec[-1] = u_g[j]
            chisq[j] = vec @ np.linalg.solve(imat[np.ix_(kk, kk)], vec)
        vec = np.concatenate([np.zeros(p), u_g])
        chisq[p] = vec @ np.linalg.solve(imat, vec)
        df = np.r_[np.ones(p, dtype=int), p]
        return pd.DataFrame(
            {"chisq": chisq, "df": df, "pvalue": stats.chi2.sf(chisq, df)},
            index=[*self._params.index, "GLOBAL"],
        )

    # -- plotting ---------------------------------------------------------------
    def plot(self, ax: Any = None, alpha: float = 0.05, *, title: str | None = None, **kwargs: Any) -> Any:
        """Plot hazard ratios with confidence intervals on a log scale.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        alpha : float, default=0.05
            One minus the confidence level.
        title : str, optional
            Axes title (default: the model and the number of events); ``""`` for none.
        **kwargs
            Passed to ``Axes.errorbar``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        from evaltools.reporting.plotting import plain_log_axis

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.4 * len(self._params) + 1.6))
        ci = np.exp(self.conf_int(alpha))
        hr = self.hazard_ratios
        y = np.arange(len(hr))[::-1]
        opts = {"fmt": "o", "color": "k", "capsize": 3, **kwargs}
        ax.errorbar(hr.to_numpy(), y, xerr=[hr - ci["lower"], ci["upper"] - hr], **opts)
        ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(list(hr.index))
        plain_log_axis(ax, "x")
        ax.set_xlabel(f"hazard ratio (multiplier of the hazard; {100 * (1 - alpha):g}% CI, log scale)")
        if title is None:
            title = f"Cox proportional hazards: hazard ratios ({self.n_events:,} events)"
        if title:
            ax.set_title(title)
        return ax


def build_results(
    model: CoxPH,
    *,
    beta: np.ndarray,
    ev: core.Evaluation,
    ev0: core.Evaluation,
    X: np.ndarray,
    w: np.ndarray,
    mean: np.ndarray,
    ties: str,
    cov_type: str,
    clusters: np.ndarray | None,
    cluster_name: str | None,
    converged: bool,
    n_iter: int,
    tol: float,
) -> CoxResults:
    """Assemble a :class:`CoxResults` from the converged evaluation (internal)."""
    idx = model._index
    if ev.info is None or ev0.info is None:
        raise RuntimeError("build_results needs evaluations with the information matrix (need_info=True).")
    cov_naive = _inv(ev.info)
    n_clusters = None
    if cov_type == "nonrobust":
        cov = cov_naive
    else:
        resid = core.score_residuals(X, idx, ev) * w[:, None]
        if cov_type == "robust":
            meat = score_meat(resid)
        else:
            if clusters is None:
                raise RuntimeError("build_results: cov_type='cluster' needs the cluster codes.")
            n_clusters = int(len(np.unique(clusters)))
            meat = score_meat(resid, clusters[model._active], int(clusters.max()) + 1)
        cov = sandwich(cov_naive, meat)
    return assemble(
        model,
        beta=beta,
        cov=cov,
        cov_naive=cov_naive,
        llf=ev.loglik,
        llnull=ev0.loglik,
        score0=ev0.score,
        info0=ev0.info,
        ties=ties,
        cov_type=cov_type,
        cluster_name=cluster_name,
        n_clusters=n_clusters,
        converged=converged,
        n_iter=n_iter,
        tol=tol,
        n_events=int(model._event.sum()),
        n_inactive=int((~model._active).sum()),
        state={"X": X, "w": w, "index": idx, "ev": ev, "mean": mean},
    )


def assemble(
    model: CoxPH,
    *,
    beta: np.ndarray,
    cov: np.ndarray,
    cov_naive: np.ndarray,
    llf: float,
    llnull: float,
    score0: np.ndarray,
    info0: np.ndarray,
    ties: str,
    cov_type: str,
    cluster_name: str | None,
    n_clusters: int | None,
    converged: bool,
    n_iter: int,
    tol: float,
    n_events: int,
    n_inactive: int,
    state: dict[str, Any],
    cls: type[CoxResults] = CoxResults,
    label: str = "Cox PH (counting process)",
    method_notes: Sequence[str] = (),
    header_extra: Sequence[tuple[str, object]] = (),
    fields_extra: dict[str, Any] | None = None,
) -> CoxResults:
    """Tests, summary header and notes and the results object from the fitted quantities (internal).

    ``model`` supplies the options and counts (``exog_names``, ``strata``,
    ``strata_labels``, ``weights``, ``id``, ``nobs``, ``n_total``,
    ``n_dropped``, ``dropped_columns``, ``n_persons``, ``n_delayed_entry``,
    ``n_gaps``); ``state`` is what the baseline hazard and predictions read
    (``index`` with ``group_time`` and ``group_stratum``, ``ev`` with ``a``
    and ``shift``, and ``mean``).  ``cls``, ``label``, ``method_notes``,
    ``header_extra`` and ``fields_extra`` let a variant of the estimator
    (e.g. the partitioned fit) add its own facts.
    """
    names = model.exog_names
    p = len(beta)
    score_stat = float(score0 @ np.linalg.solve(info0, score0))
    try:
        wald_stat = float(beta @ np.linalg.solve(cov, beta))
    except np.linalg.LinAlgError:  # e.g. fewer clusters than coefficients
        wald_stat = np.nan
    params = pd.Series(beta, index=names, name="coef")
    cov_df = pd.DataFrame(cov, index=names, columns=names)
    tie_words = {"efron": "Efron's approximation", "breslow": "Breslow's approximation"}[ties]
    notes = [
        "Cox partial likelihood on (start, stop] data: a row is at risk at event time t iff "
        "start < t <= stop; "
        f"tied event times handled with {tie_words}.",
        *method_notes,
    ]
    if cov_type == "nonrobust":
        notes.append("Standard errors from the inverse information matrix (model-based, not robust).")
    elif cov_type == "robust":
        notes.append("Robust (Lin-Wei sandwich) standard errors treating every row as its own cluster.")
    else:
        notes.append(
            f"Standard errors clustered on {cluster_name!r} ({n_clusters:,} clusters), "
            "Lin-Wei sandwich from score residuals (as R coxph(..., cluster=))."
        )
    if model.strata:
        notes.append(
            f"Stratified by {model.strata} ({len(model.strata_labels)} strata with separate "
            "baseline hazards)."
        )
    if model.weights:
        notes.append(f"Case weights from column {model.weights!r}.")
    if model.n_dropped:
        notes.append(
            f"{model.n_dropped:,} of {model.n_total:,} rows dropped because of missing values "
            f"({model.dropped_columns})."
        )
    else:
        notes.append(f"No rows dropped ({model.n_total:,} rows used).")
    who = "persons" if model.id else "rows"
    if model.n_delayed_entry:
        notes.append(
            f"{model.n_delayed_entry:,} {who} enter late (first start > 0); they join risk sets only "
            "after their start (delayed entry / left truncation)."
        )
    if model.id and model.n_gaps:
        notes.append(
            f"{model.n_gaps:,} gaps between consecutive intervals of the same {model.id!r}: "
            "not at risk during gaps."
        )
    if n_inactive:
        notes.append(f"{n_inactive:,} rows are at risk at no event time and do not affect the estimates.")
    if not converged:
        notes.append(
            f"WARNING: not converged after {n_iter} Newton iterations (tol={tol:g}); see the warning."
        )
    header = [
        ("Model", label),
        ("Ties", ties),
        ("No. events", n_events),
        (f"No. ids ({model.id})" if model.id else "No. ids",
         model.n_persons if model.n_persons is not None else "n/a (no id)"),
        ("Log partial likelihood", llf),
        ("LR test (df)", f"{2 * (llf - llnull):.3f} ({p})"),
        ("Covariance", cov_type),
        ("Iterations", n_iter),
        *header_extra,
    ]
    extra = {
        "llf": llf,
        "llnull": llnull,
        "lr_test": chi2_test(2 * (llf - llnull), p),
        "wald_test": chi2_test(wald_stat, p),
        "score_test": chi2_test(score_stat, p),
        "cov_naive": pd.DataFrame(cov_naive, index=names, columns=names),
        "ties": ties,
        "cov_type": cov_type,
        "cluster": cluster_name,
        "n_events": n_events,
        "n_persons": model.n_persons,
        "n_clusters": n_clusters,
        "n_strata": max(len(model.strata_labels), 1),
        "n_dropped": model.n_dropped,
        "n_delayed_entry": model.n_delayed_entry,
        "converged": converged,
        "n_iter": n_iter,
        "_state": state,
        **(fields_extra or {}),
    }
    return cls(
        params,
        cov_df,
        model.nobs,
        model=model,
        title="Cox proportional hazards regression",
        header=header,
        footnotes=notes,
        extra=extra,
    )
