"""Results object of :class:`evaltools.duration.finegray.FineGray`."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._validation import check_option
from evaltools.duration import _finegray_core as core
from evaltools.duration._cox_results import CoxResults, TestResult
from evaltools.duration._nonparametric_core import conf_band
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.reporting.results import EstimationResults

if TYPE_CHECKING:  # pragma: no cover
    from evaltools.duration.finegray import FineGray

__all__ = ["FineGrayResults", "build_results"]

_CONF_TYPES = ("log", "log-log", "plain")


class FineGrayResults(EstimationResults):
    """Results of a Fine-Gray fit (read-only).

    Attributes
    ----------
    params, bse, tvalues, pvalues : Series
        Log subdistribution hazard ratios, their standard errors (from
        ``cov_type``), z statistics and p-values.
    hazard_ratios : Series
        Subdistribution hazard ratios ``exp(params)``.
    llf, llnull : float
        Weighted log partial (pseudo-) likelihood at the estimates and at zero.
    wald_test : TestResult
        Wald test of all coefficients being zero with the reported covariance.
    cov_naive : DataFrame
        Inverse information of the weighted fit.
    cause, competing : object, list
        Modelled exit type and the competing exit types.
    n_events, n_competing, n_censored, n_persons, n_expanded : int
        Exits of the modelled type, competing exits, persons without an exit,
        persons, and rows of the expanded data.
    ties, cov_type, convention : str
        Options used.
    n_clusters : int or None
        Clusters (with ``cov_type="cluster"``).
    converged : bool
    n_iter : int
    """

    model: FineGray
    llf: float
    llnull: float
    wald_test: TestResult
    cov_naive: pd.DataFrame
    cause: Any
    competing: list[Any]
    n_events: int
    n_competing: int
    n_censored: int
    n_persons: int
    n_expanded: int
    n_clusters: int | None
    ties: str
    cov_type: str
    convention: str
    converged: bool
    n_iter: int
    _cox: CoxResults

    @cached_property
    def hazard_ratios(self) -> pd.Series:
        """Subdistribution hazard ratios ``exp(params)``."""
        return np.exp(self.params).rename("subdistribution_hazard_ratio")

    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        tab = self.to_frame(alpha)
        with np.errstate(over="ignore"):
            tab.insert(1, "shr", np.exp(tab["estimate"]))
            tab["shr_lower"] = np.exp(tab["lower"])
            tab["shr_upper"] = np.exp(tab["upper"])
        return [tab]

    # -- baseline and predictions ---------------------------------------------------
    @cached_property
    def _increments(self) -> dict[str, np.ndarray]:
        st = self._cox._state
        idx, ev, mean = st["index"], st["ev"], st["mean"]
        beta = self._params.to_numpy()
        c = np.exp(-ev.shift - mean @ beta)
        var_inc, xbar_inc = core.cif_variance_terms(idx, ev)
        return {
            "time": idx.group_time,
            "stratum": idx.group_stratum,
            "dlam": ev.a * c,
            "dvar": var_inc * c**2,
            "dxbar": (xbar_inc + np.outer(ev.a, mean)) * c,
        }

    @cached_property
    def baseline_cumulative_hazard(self) -> pd.DataFrame:
        """Baseline cumulative subdistribution hazard (covariates 0) by stratum at every exit time.

        Returns
        -------
        DataFrame
            Columns ``time`` and ``cumulative_hazard`` (plus ``stratum`` with strata).
        """
        inc = self._increments
        cum = np.cumsum(inc["dlam"])
        gs = inc["stratum"]
        first = np.searchsorted(gs, gs, side="left")
        before = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
        out = pd.DataFrame({"time": inc["time"], "cumulative_hazard": cum - before})
        if self.model.strata:
            out.insert(0, "stratum", np.asarray(self.model.strata_labels, dtype=object)[gs])
        return out

    def _strata_of(self, data: Any, n: int) -> np.ndarray:
        model = self.model
        if not model.strata:
            return np.zeros(n, dtype=np.int64)
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                "FineGrayResults.predict_cumulative_incidence: a stratified model needs a DataFrame with the "
                f"strata columns {model.strata}."
            )
        missing = [s for s in model.strata if s not in data.columns]
        if missing:
            raise DataValidationError(
                f"FineGrayResults.predict_cumulative_incidence: strata column(s) {missing} not in the data."
            )
        if len(model.strata) == 1:
            lab = [f"{model.strata[0]}={v}" for v in data[model.strata[0]]]
        else:
            lab = [
                ", ".join(f"{s}={v}" for s, v in zip(model.strata, row))
                for row in data[model.strata].itertuples(index=False)
            ]
        pos = {s: i for i, s in enumerate(model.strata_labels)}
        bad = sorted({s for s in lab if s not in pos})
        if bad:
            raise DataValidationError(
                f"FineGrayResults.predict_cumulative_incidence: {len(bad)} strata not seen in the fit "
                f"(e.g. {bad[:3]}); known strata: {model.strata_labels}."
            )
        return np.array([pos[s] for s in lab], dtype=np.int64)

    def _curves(
        self, X: np.ndarray, strata: np.ndarray, times: np.ndarray | None, z: float, conf_type: str
    ) -> list[pd.DataFrame]:
        inc = self._increments
        beta = self._params.to_numpy()
        V = self._cov.to_numpy()
        out = []
        for i in range(len(X)):
            sel = inc["stratum"] == strata[i]
            gt = inc["time"][sel]
            lam = np.cumsum(inc["dlam"][sel])
            var0 = np.cumsum(inc["dvar"][sel])
            xb = np.cumsum(inc["dxbar"][sel], axis=0)
            at = gt if times is None else times
            pos = np.searchsorted(gt, at, side="right") - 1
            ok = pos >= 0
            pc = np.maximum(pos, 0)
            L = np.where(ok, lam[pc], 0.0)
            v0 = np.where(ok, var0[pc], 0.0)
            dt = L[:, None] * X[i] - np.where(ok[:, None], xb[pc], 0.0)
            risk = np.exp(X[i] @ beta)
            H = L * risk
            var_h = (v0 + np.einsum("tj,jk,tk->t", dt, V, dt)) * risk**2
            se_h = np.sqrt(np.clip(var_h, 0, None))
            surv = np.exp(-H)
            with np.errstate(divide="ignore", invalid="ignore"):
                s_lo, s_hi = conf_band(surv, se_h, conf_type, z)
            out.append(
                pd.DataFrame(
                    {
                        "time": at,
                        "cif": 1.0 - surv,
                        "std_err": surv * se_h,
                        "lower": np.where(H > 0, 1.0 - s_hi, 0.0),
                        "upper": np.where(H > 0, 1.0 - s_lo, 0.0),
                        "cumulative_hazard": H,
                        "se_cumulative_hazard": se_h,
                    }
                )
            )
        return out

    def predict_cumulative_incidence(
        self, data: Any, times: Any = None, *, alpha: float = 0.05, conf_type: str = "log"
    ) -> pd.DataFrame:
        """Predicted cumulative incidence of the modelled exit for fixed covariate profiles.

        ``CIF(t | x) = 1 - exp(-Lambda_0(t) exp(x'beta))``.  The standard error
        of the cumulative subdistribution hazard is the one of R
        ``survfit.coxph`` (baseline variance plus ``d(t)' V d(t)`` with the
        reported covariance ``V``); the interval is built on the scale of
        ``1 - CIF`` as R does (``conf_type``) and transformed back.

        Parameters
        ----------
        data : DataFrame or array-like
            One covariate profile per row (with the strata columns for stratified models).
        times : array-like, optional
            Times to evaluate at; default: every exit time of the profile's stratum.
        alpha : float, default=0.05
            One minus the confidence level.
        conf_type : {"log", "log-log", "plain"}, default="log"
            Transformation of ``1 - CIF`` for the interval (R ``conf.type``).

        Returns
        -------
        DataFrame
            Long table: ``profile`` (the row label of ``data``), ``time``, ``cif``,
            ``std_err`` (of the CIF), ``lower``, ``upper``, ``cumulative_hazard``,
            ``se_cumulative_hazard``.

        Examples
        --------
        >>> import pandas as pd
        >>> from evaltools.duration import FineGray
        >>> d = pd.DataFrame({"t": [2, 3, 3, 5, 6, 7, 8, 9], "exit": [1, 2, 1, 0, 1, 2, 0, 1],
        ...                   "x": [0.5, 0.1, 1.2, -0.3, 0.8, -1.0, 0.2, -0.6]})
        >>> res = FineGray(d, covariates=["x"], cause=1, event="exit", stop="t").fit()
        >>> pred = res.predict_cumulative_incidence(pd.DataFrame({"x": [0.0]}), times=[4, 9])
        >>> pred["cif"].round(3).tolist()
        [0.098, 0.748]
        """
        where = "FineGrayResults.predict_cumulative_incidence"
        check_option("conf_type", conf_type, _CONF_TYPES, where)
        if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
            raise SpecificationError(
                f"The 'alpha' parameter of {where} must be a float in (0, 1). Got {alpha!r}."
            )
        X = self.model._design(data)
        strata = self._strata_of(data, len(X))
        at = None if times is None else np.atleast_1d(np.asarray(times, dtype=float))
        if at is not None and not np.isfinite(at).all():
            raise SpecificationError(f"{where}: 'times' must be finite numbers; got {times!r}.")
        z = float(stats.norm.ppf(1 - alpha / 2))
        labels = list(data.index) if isinstance(data, pd.DataFrame) else list(range(len(X)))
        parts = self._curves(X, strata, at, z, conf_type)
        for lab, part, s in zip(labels, parts, strata):
            part.insert(0, "profile", lab)
            if self.model.strata:
                part.insert(1, "stratum", self.model.strata_labels[s])
        return pd.concat(parts, ignore_index=True)

    def plot(
        self,
        ax: Any = None,
        data: Any = None,
        *,
        alpha: float = 0.05,
        ci: bool = True,
        conf_type: str = "log",
        **kwargs: Any,
    ) -> Any:
        """Plot predicted cumulative incidence curves with pointwise confidence bands.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        data : DataFrame or array-like, optional
            Covariate profiles, one curve each (see :meth:`predict_cumulative_incidence`).
            Default: the mean of every covariate over the rows used (R's default
            curve), in each stratum.
        alpha : float, default=0.05
            One minus the confidence level of the bands.
        ci : bool, default=True
            Shade the pointwise bands.
        conf_type : {"log", "log-log", "plain"}, default="log"
            Interval transformation.
        **kwargs
            Passed to ``Axes.step``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if data is None:
            mean = self.model._X.mean(axis=0)
            n_s = max(len(self.model.strata_labels), 1)
            X = np.tile(mean, (n_s, 1))
            strata = np.arange(n_s)
            names = self.model.strata_labels or ["mean covariates"]
            check_option("conf_type", conf_type, _CONF_TYPES, "FineGrayResults.plot")
            z = float(stats.norm.ppf(1 - alpha / 2))
            curves = self._curves(X, strata, None, z, conf_type)
        else:
            tab = self.predict_cumulative_incidence(data, alpha=alpha, conf_type=conf_type)
            names = [str(v) for v in pd.unique(tab["profile"])]
            curves = [g for _, g in tab.groupby("profile", sort=False)]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for name, cur in zip(names, curves):
            t = np.r_[0.0, cur["time"].to_numpy()]
            (line,) = ax.step(t, np.r_[0.0, cur["cif"].to_numpy()], where="post", label=name, **kwargs)
            if ci:
                ax.fill_between(
                    t,
                    np.r_[0.0, cur["lower"].to_numpy()],
                    np.r_[0.0, cur["upper"].to_numpy()],
                    step="post",
                    alpha=0.2,
                    color=line.get_color(),
                    linewidth=0,
                )
        ax.set_xlabel(f"Time ({self.model.stop})")
        ax.set_ylabel(f"Cumulative incidence of {self.cause!r}")
        ax.set_title(
            f"Fine-Gray cumulative incidence, {100 * (1 - alpha):g}% pointwise CI"
            if ci
            else "Fine-Gray cumulative incidence"
        )
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return (
            f"<FineGrayResults: cause {self.cause!r}, {len(self._params)} parameters, "
            f"{self.n_persons:,} persons, {self.n_events:,} exits>"
        )


def build_results(
    model: FineGray,
    *,
    cox_res: CoxResults,
    cov: np.ndarray,
    ties: str,
    cov_type: str,
    cluster_name: str | None,
    n_clusters: int | None,
) -> FineGrayResults:
    """Assemble :class:`FineGrayResults` from the weighted Cox fit (internal)."""
    names = model.exog_names
    params = cox_res.params
    beta = params.to_numpy()
    p = len(beta)
    try:
        wald = float(beta @ np.linalg.solve(cov, beta))
    except np.linalg.LinAlgError:
        wald = np.nan
    n_events = model.n_exit_by_type[model.cause]
    n_comp = sum(model.n_exit_by_type[c] for c in model.competing)
    n_cens = int(model.n_persons - n_events - n_comp)
    comp_txt = ", ".join(repr(c) for c in model.competing) or "none"
    weights_txt = "G(t-)/G(T-) x H(t-)/H(T-)" if model.delay else "G(t-)/G(T-)"
    notes = [
        f"Fine-Gray subdistribution hazards for exit type {model.cause!r} (competing: {comp_txt}): persons "
        f"with a competing exit at T stay in the risk set with weight {weights_txt}; weighted Cox partial "
        f"likelihood on {model.n_expanded:,} expanded (start, stop] rows (as R survival::finegray + coxph).",
        "Censoring distribution G: product-limit estimate"
        + (" per stratum" if model.strata else "")
        + (
            "; exits at a censoring time are counted before it (R finegray)."
            if model.convention == "survival"
            else "; exits at a censoring time are in its risk set (ordinary reverse Kaplan-Meier, "
            "cmprsk::crr)."
        ),
        f"Tied exit times handled with {'Efron' if ties == 'efron' else 'Breslow'}'s approximation.",
    ]
    if cov_type == "nonrobust":
        notes.append(
            "Standard errors from the inverse information of the weighted fit (treat the weights as known; "
            "usually too small)."
        )
    elif cov_type == "robust":
        notes.append("Robust (Lin-Wei sandwich) standard errors with every input row as its own cluster.")
    elif cov_type == "cluster":
        notes.append(
            f"Standard errors clustered on {cluster_name!r} ({n_clusters:,} clusters), Lin-Wei sandwich "
            "(as R coxph(..., cluster=)); the estimation of G is not accounted for."
        )
    else:
        notes.append(
            f"Fine and Gray (1999) standard errors: person-level sandwich ({model.n_persons:,} persons) "
            "plus the "
            "term for estimating the censoring distribution (as cmprsk::crr)."
        )
    if model.strata:
        notes.append(
            f"Stratified by {model.strata} ({len(model.strata_labels)} strata with separate baseline "
            "subdistribution hazards and censoring distributions)."
        )
    if model.weights:
        notes.append(f"Case weights from column {model.weights!r} multiply the censoring weights.")
    if model.delay:
        notes.append(
            f"{model.n_delayed_entry:,} persons enter after the earliest entry time (delayed entry / left "
            "truncation); the entry distribution H enters the weights (Geskus 2011)."
        )
    if model.n_dropped:
        notes.append(
            f"{model.n_dropped:,} of {model.n_total:,} rows dropped because of missing values "
            f"({model.dropped_columns})."
        )
    else:
        notes.append(f"No rows dropped ({model.n_total:,} rows used).")
    if not cox_res.converged:
        notes.append(f"WARNING: not converged after {cox_res.n_iter} Newton iterations; see the warning.")
    header = [
        ("Model", "Fine-Gray subdistribution hazards"),
        ("Exit type modelled", str(model.cause)),
        ("No. persons", model.n_persons),
        ("No. exits (modelled)", n_events),
        ("No. competing exits", n_comp),
        ("No. censored", n_cens),
        ("Expanded rows", model.n_expanded),
        ("Log pseudo-likelihood", cox_res.llf),
        ("Covariance", cov_type),
        ("Iterations", cox_res.n_iter),
    ]
    extra = {
        "llf": cox_res.llf,
        "llnull": cox_res.llnull,
        "wald_test": TestResult(wald, p, float(stats.chi2.sf(wald, p)) if np.isfinite(wald) else np.nan),
        "cov_naive": cox_res.cov_naive,
        "cause": model.cause,
        "competing": list(model.competing),
        "n_events": n_events,
        "n_competing": n_comp,
        "n_censored": n_cens,
        "n_persons": model.n_persons,
        "n_expanded": model.n_expanded,
        "n_clusters": n_clusters,
        "ties": ties,
        "cov_type": cov_type,
        "convention": model.convention,
        "converged": cox_res.converged,
        "n_iter": cox_res.n_iter,
        "_cox": cox_res,
    }
    return FineGrayResults(
        params.rename("coef"),
        pd.DataFrame(cov, index=names, columns=names),
        model.nobs,
        model=model,
        title="Fine-Gray competing-risks regression",
        header=header,
        footnotes=notes,
        extra=extra,
    )
