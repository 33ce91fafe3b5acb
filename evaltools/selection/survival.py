"""Treatment effects on survival-time outcomes by inverse-probability weighting (``stteffects ipw`` analogue).

:class:`IPWSurvival` (and the one-call :func:`ipw_survival`) estimates, for a
binary treatment and a right-censored duration outcome (e.g. weeks from a
programme decision until self-support):

* the IPW-weighted Kaplan-Meier curve of each arm -- ATE weights ``1/e`` and
  ``1/(1-e)``, ATT weights ``1`` and ``e/(1-e)`` with ``e`` the propensity score
  (a logit on ``covariates``, a fitted :class:`~evaltools.selection.PropensityResults`
  or a column of known scores);
* the restricted mean survival time (RMST) of each arm up to ``tau`` -- the
  area under the weighted Kaplan-Meier step function on ``[0, tau]`` -- and its
  difference (treated minus control: the effect on the expected number of weeks
  still in the state during the first ``tau`` weeks);
* survival probabilities and their differences at chosen ``times``.

Censoring is handled by the product-limit estimator within each weighted arm, so
it must be independent of the duration given the arm in the re-weighted
population (e.g. administrative end of follow-up).  Stata's ``stteffects ipw``
instead fits a parametric censoring model and targets the (unrestricted) mean
survival time; the RMST is the nonparametric counterpart that stays identified
when follow-up ends before everybody has left the state.

Standard errors come from a seeded nonparametric bootstrap over persons (or
over the ``cluster`` column, e.g. ``person_id`` for several spells per person)
that re-fits the propensity logit in every replication, so the uncertainty of
the estimated weights is included.  Pointwise intervals of the curves use the
bootstrap standard errors; the Greenwood intervals of an ordinary weighted
Kaplan-Meier would treat the weights as frequencies and are not used.

Examples
--------
>>> from evaltools.selection.survival import ipw_survival
>>> res = ipw_survival(df, duration="weeks", event="exit", treatment="treated",
...                    covariates=["age", "history"], tau=104, times=[26, 52], seed=1)  # doctest: +SKIP
>>> res.params["rmst_diff"]  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._model.data import FormulaMixin
from evaltools._validation import check_columns, check_option, warn_dropped
from evaltools.duration import _nonparametric_core as core
from evaltools.duration.nonparametric import KaplanMeier
from evaltools.exceptions import DataValidationError, ExtremeWeightWarning, SpecificationError
from evaltools.reporting.results import EstimationResults
from evaltools.selection._dynamic_core import logit_fit
from evaltools.selection.diagnostics import _binary_treatment
from evaltools.selection.propensity import PropensityResults, PropensityScore, check_trim, crump_alpha
from evaltools.selection.weighting import _MAX_RELATIVE_WEIGHT, _MIN_ESS_FRACTION

__all__ = ["IPWSurvival", "IPWSurvivalResults", "ipw_survival", "rmst"]

_W = "IPWSurvival"
_ESTIMANDS = ("ATE", "ATT")
_CONF_TYPES = ("log-log", "log", "plain")


def rmst(time: np.ndarray, surv: np.ndarray, tau: float) -> float:
    """Restricted mean survival time: area under a right-continuous survival step function on ``[0, tau]``.

    Parameters
    ----------
    time : array
        Sorted distinct times at which the curve is evaluated (e.g. the
        ``time`` column of a Kaplan-Meier table); ``S = 1`` before the first time.
    surv : array
        Survival at ``time`` (the value holds until the next time; after the
        last time it is held constant).
    tau : float
        Upper limit of the integral (> 0).

    Returns
    -------
    float
        ``sum_j S(t_j) (min(t_{j+1}, tau) - t_j)`` over the steps below ``tau``.

    Examples
    --------
    >>> rmst(np.array([2.0, 5.0]), np.array([0.5, 0.25]), 6.0)
    3.75
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(surv, dtype=float)
    if not tau > 0:
        raise SpecificationError(f"rmst: tau must be positive; got {tau!r}.")
    below = t < tau
    knots = np.concatenate(([0.0], t[below], [float(tau)]))
    heights = np.concatenate(([1.0], s[below]))
    return float(np.sum(heights * np.diff(knots)))


def _km(time: np.ndarray, event: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Kaplan-Meier (the same kernel as :class:`~evaltools.duration.KaplanMeier`)."""
    tab = core.risk_table(np.zeros(len(time)), time, event.astype(np.int64), weight, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv, _ = core.km_greenwood(tab)
    return tab.time, _exhausted(surv, tab.n_risk, tab.n_event[:, 0])


def _exhausted(surv: np.ndarray, n_risk: np.ndarray, n_event: np.ndarray) -> np.ndarray:
    """Exact 0 once all (weighted) units at risk exit (with non-integer weights 1 - d/Y rounds to +-1e-16)."""
    gone = np.cumsum(n_event >= n_risk * (1 - 1e-12)) > 0
    return np.where(gone, 0.0, surv)


def _at(time: np.ndarray, surv: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Right-continuous lookup with ``S = 1`` before the first time and the last value held after it."""
    idx = np.searchsorted(time, at, side="right") - 1
    return np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)


class IPWSurvival(FormulaMixin):
    """IPW-weighted Kaplan-Meier curves, RMST and survival differences for a binary treatment.

    Parameters
    ----------
    data : DataFrame
        One row per unit (person or spell).  Never modified.
    duration : str
        Column of positive exit or censoring times.
    event : str
        0/1 or bool column: 1 = the exit of interest was observed, 0 = censored.
    treatment : str
        Binary (0/1 or bool) treatment column.
    covariates : sequence of str, optional
        Numeric covariates of a logit propensity model (fitted with
        :class:`~evaltools.selection.PropensityScore`; an intercept is added).
    pscore : PropensityResults or str, optional
        Instead of ``covariates``: a fitted propensity model on the same data
        (a logit is re-fitted in each bootstrap replication; probit and
        classifier scores are held fixed), or the name of a column of known
        propensity scores (held fixed).
    estimand : {"ATE", "ATT"}, default="ATE"
        ATE weights ``1/e`` (treated) and ``1/(1-e)`` (controls); ATT weights
        ``1`` and ``e/(1-e)``.
    trim : float or "optimal", optional
        Drop units with propensity scores outside ``[trim, 1 - trim]``
        (``"optimal"``: Crump et al. 2009) and re-fit the propensity model on the
        kept units; counts are warned about and reported.
    cluster : str, optional
        Column identifying the bootstrap resampling unit (default: each row).

    Notes
    -----
    Rows with missing values raise a :class:`~evaltools.exceptions.DataValidationError`
    (nothing is dropped silently).  Weights are scale-free within an arm, so
    Hajek normalisation and stabilisation do not change any estimate.
    """

    _formula_lhs = None

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        duration: str,
        event: str,
        treatment: str,
        covariates: Sequence[str] | None = None,
        pscore: PropensityResults | str | None = None,
        estimand: str = "ATE",
        trim: float | str | None = None,
        cluster: str | None = None,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{_W}: data must be a pandas DataFrame; got {type(data).__name__}.")
        self.estimand = check_option("estimand", estimand, _ESTIMANDS, _W)
        check_columns(data, [duration, event, treatment], _W, "duration/event/treatment")
        if (pscore is None) == (not covariates):
            raise SpecificationError(
                f"{_W}: pass exactly one of 'covariates' (logit propensity model) and 'pscore' "
                "(PropensityResults or a column of known propensity scores)."
            )
        check_trim(trim, _W)
        self.duration, self.event, self.treatment = duration, event, treatment
        self.covariates = list(covariates) if covariates else []
        self.trim, self.cluster = trim, cluster
        cols = [duration, event] + ([pscore] if isinstance(pscore, str) else [])
        cols += [cluster] if cluster is not None else []
        check_columns(data, cols + self.covariates, _W)
        nan = data[cols + self.covariates].isna()
        if nan.to_numpy().any():
            rows = nan.any(axis=1).to_numpy()
            per = {c: int(n) for c, n in nan.sum().items() if n}
            raise DataValidationError(
                f"{_W}: {int(rows.sum()):,} of {len(data):,} rows have missing values ({per}; e.g. index "
                f"{list(map(str, data.index[rows][:3]))}). Drop or impute them first."
            )
        self._t = _binary_treatment(data, treatment, _W)
        dur = data[duration]
        if not pd.api.types.is_numeric_dtype(dur):
            raise DataValidationError(f"{_W}: duration column {duration!r} must be numeric; got {dur.dtype}.")
        self._time = dur.to_numpy(dtype=float)
        bad = ~(self._time > 0) | ~np.isfinite(self._time)
        if bad.any():
            raise DataValidationError(
                f"{_W}: {int(bad.sum()):,} rows have a non-positive or infinite {duration!r} (e.g. index "
                f"{list(map(str, data.index[bad][:3]))}); durations must be > 0 (add 0.5 or 1 to same-week "
                "exits if the clock starts at 0)."
            )
        ev = data[event]
        ok = ev.isin([0, 1, True, False]).to_numpy()
        if not ok.all():
            raise DataValidationError(
                f"{_W}: event column {event!r} must be 0/1 or bool; {int((~ok).sum()):,} rows are not "
                f"(e.g. values {ev[~ok].unique()[:3].tolist()})."
            )
        self._event = ev.to_numpy().astype(bool)
        if isinstance(pscore, PropensityResults) and not pscore.pscore.index.equals(data.index):
            raise DataValidationError(
                f"{_W}: the PropensityResults were fitted on data with a different index; fit the "
                "propensity model on the same DataFrame."
            )
        if pscore is not None and not isinstance(pscore, PropensityResults | str):
            raise SpecificationError(
                f"{_W}: 'pscore' must be a PropensityResults or a column name; got {type(pscore).__name__}."
            )
        if isinstance(pscore, str):
            p = data[pscore].to_numpy(dtype=float)
            out = ~((p > 0) & (p < 1))
            if out.any():
                raise DataValidationError(
                    f"{_W}: {int(out.sum()):,} known propensity scores in {pscore!r} are outside (0, 1) "
                    f"(e.g. {p[out][:3].tolist()})."
                )
        self._pscore_given = pscore
        self._data = data
        self._unit = (
            np.unique(data[cluster].to_numpy(), return_inverse=True)[1]
            if cluster is not None
            else np.arange(len(data))
        )

    # -- propensity and weights -------------------------------------------------------
    def _propensity(self) -> dict[str, Any]:
        """Scores, kept mask, design for bootstrap re-fits (None = held fixed) and trimming info."""
        data, given = self._data, self._pscore_given
        t = self._t
        res: PropensityResults | None = None
        if isinstance(given, str):
            p = data[given].to_numpy(dtype=float)
            design, source = None, f"known propensity scores from column {given!r} (held fixed)"
        else:
            res = (
                given
                if given is not None
                else PropensityScore(data, treatment=self.treatment, covariates=self.covariates).fit()
            )
            p = res.pscore.to_numpy()
            logit = res.method == "logit"
            design = res.model._x.to_numpy(dtype=float) if logit else None
            source = f"{res.method} propensity model on {len(res.model.covariates)} covariate column(s)" + (
                "" if logit else " (scores held fixed in the bootstrap)"
            )
        keep = np.ones(len(p), dtype=bool)
        info: dict[str, Any] = {"n_trimmed_treated": 0, "n_trimmed_control": 0, "trim_bounds": None}
        if self.trim is not None:
            a = crump_alpha(np.clip(p, 1e-12, 1 - 1e-12)) if self.trim == "optimal" else float(self.trim)
            keep = (p >= a) & (p <= 1 - a)
            info = {
                "n_trimmed_treated": int((~keep & t).sum()),
                "n_trimmed_control": int((~keep & ~t).sum()),
                "trim_bounds": (a, 1 - a),
            }
            if not (keep & t).any() or not (keep & ~t).any():
                raise DataValidationError(
                    f"{_W}: trimming to [{a:.4g}, {1 - a:.4g}] leaves no treated or no control units."
                )
            warn_dropped(
                int((~keep).sum()), len(p), f"propensity score outside [{a:.4g}, {1 - a:.4g}]", _W, 4
            )
            if (~keep).any() and design is not None:
                _, p_kept = logit_fit(design[keep], t[keep].astype(float))
                p = p.copy()
                p[keep] = p_kept
        bad = keep & ((p <= 0) | (p >= 1))
        if bad.any():
            raise DataValidationError(
                f"{_W}: {int(bad.sum()):,} units have a propensity score of exactly 0 or 1 (infinite "
                "weights); trim (trim=0.1 or 'optimal') or change the propensity specification."
            )
        return {"p": p, "keep": keep, "design": design, "source": source, "results": res, **info}

    def _weights(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.estimand == "ATE":
            return np.where(t, 1.0 / p, 1.0 / (1.0 - p))
        return np.where(t, 1.0, p / (1.0 - p))

    def _estimates(
        self, time: np.ndarray, event: np.ndarray, t: np.ndarray, w: np.ndarray, tau: float, times: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Parameter vector (RMST 1, 0, diff; then S1, S0, diff at each time) and the two curves."""
        curves = [_km(time[t == arm], event[t == arm], w[t == arm]) for arm in (True, False)]
        r1, r0 = (rmst(c[0], c[1], tau) for c in curves)
        out = [r1, r0, r1 - r0]
        s1, s0 = (_at(c[0], c[1], times) for c in curves)
        for a, b in zip(s1, s0, strict=True):
            out += [a, b, a - b]
        return np.array(out), curves

    # -- fit ---------------------------------------------------------------------------
    def fit(
        self,
        *,
        tau: float | None = None,
        times: Sequence[float] = (),
        n_boot: int = 200,
        seed: int | None = None,
        progress: bool = False,
        alpha: float = 0.05,
        conf_type: str = "log-log",
    ) -> IPWSurvivalResults:
        """Estimate the weighted curves, the RMST difference and survival differences.

        Parameters
        ----------
        tau : float, optional
            RMST horizon; default the smaller of the two arms' largest observed
            times (as R ``survRM2``).  It may not exceed that value.
        times : sequence of float, default=()
            Times at which survival and its difference are reported (each
            ``<=`` the smaller largest observed time).
        n_boot : int, default=200
            Bootstrap replications (0: no standard errors).
        seed : int, optional
            Seed of ``numpy.random.default_rng`` for the bootstrap.
        progress : bool, default=False
            tqdm progress bar over the replications.
        alpha : float, default=0.05
            One minus the confidence level of the pointwise curve intervals.
        conf_type : {"log-log", "log", "plain"}, default="log-log"
            Scale of the pointwise curve intervals (bootstrap SE, delta method).

        Returns
        -------
        IPWSurvivalResults
        """
        check_option("conf_type", conf_type, _CONF_TYPES, f"{_W}.fit")
        if not 0 < alpha < 1:
            raise SpecificationError(f"{_W}.fit: alpha must be in (0, 1); got {alpha!r}.")
        if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0 or n_boot == 1:
            raise SpecificationError(f"{_W}.fit: n_boot must be 0 or an int >= 2; got {n_boot!r}.")
        ps = self._propensity()
        keep = ps["keep"]
        time, event, t = self._time[keep], self._event[keep], self._t[keep]
        p = ps["p"][keep]
        w = self._weights(p, t)
        horizon = min(time[t].max(), time[~t].max())
        tau = float(horizon if tau is None else tau)
        times_a = np.asarray(list(times), dtype=float).ravel()
        if not 0 < tau <= horizon or np.any(times_a < 0) or np.any(times_a > horizon):
            raise SpecificationError(
                f"{_W}.fit: tau ({tau:g}) must be in (0, {horizon:g}] and times ({times_a.tolist()}) in "
                f"[0, {horizon:g}], the smaller of the two arms' largest observed {self.duration!r}; the "
                "weighted curves are not defined beyond it."
            )
        est, curves = self._estimates(time, event, t, w, tau, times_a)
        names = ["rmst_treated", "rmst_control", "rmst_diff"]
        for x in times_a:
            lab = f"{x:g}"
            names += [f"surv_treated[{lab}]", f"surv_control[{lab}]", f"surv_diff[{lab}]"]
        reps = curve_reps = None
        n_used = 0
        if n_boot:
            reps, curve_reps = self._bootstrap(ps, keep, tau, times_a, curves, n_boot, seed, progress)
            n_used = len(reps)
            cov = np.cov(reps, rowvar=False) if n_used > 1 else np.full((len(est), len(est)), np.nan)
        else:
            cov = np.full((len(est), len(est)), np.nan)
        params = pd.Series(est, index=names)
        cov_df = pd.DataFrame(np.atleast_2d(cov), index=names, columns=names)
        table = self._curve_table(time, event, t, w, curves, curve_reps, conf_type, alpha)
        return IPWSurvivalResults(
            self, params, cov_df, ps, w, table, tau, times_a, reps, n_boot, n_used, seed, conf_type, alpha
        )

    def _bootstrap(
        self,
        ps: dict[str, Any],
        keep: np.ndarray,
        tau: float,
        times_a: np.ndarray,
        curves: list[tuple[np.ndarray, np.ndarray]],
        n_boot: int,
        seed: int | None,
        progress: bool,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Replications of the parameters and of each arm's curve at its own event times."""
        rng = np.random.default_rng(seed)
        unit = np.unique(self._unit[keep], return_inverse=True)[1]
        n_units = int(unit.max()) + 1
        time, event, t = self._time[keep], self._event[keep], self._t[keep]
        design = None if ps["design"] is None else ps["design"][keep]
        p_fixed = ps["p"][keep]
        it: Any = range(n_boot)
        if progress:
            from evaltools._progress import progress_bar

            it = progress_bar(it, desc=f"{_W} bootstrap", unit="rep", leave=False)
        reps: list[np.ndarray] = []
        creps: list[list[np.ndarray]] = [[], []]
        for _ in it:
            f = np.bincount(rng.integers(0, n_units, n_units), minlength=n_units)[unit].astype(float)
            live = f > 0
            tl = t[live]
            if tl.all() or not tl.any():
                continue
            if design is not None:
                try:
                    _, p = logit_fit(design[live], tl.astype(float), f[live])
                except DataValidationError:
                    continue
            else:
                p = p_fixed[live]
            w = self._weights(p, tl) * f[live]
            e, cb = self._estimates(time[live], event[live], tl, w, tau, times_a)
            reps.append(e)
            for k in (0, 1):
                creps[k].append(_at(cb[k][0], cb[k][1], curves[k][0]))
        return np.array(reps).reshape(len(reps), -1), [np.array(c) for c in creps]

    def _curve_table(
        self,
        time: np.ndarray,
        event: np.ndarray,
        t: np.ndarray,
        w: np.ndarray,
        curves: list[tuple[np.ndarray, np.ndarray]],
        curve_reps: list[np.ndarray] | None,
        conf_type: str,
        alpha: float,
    ) -> pd.DataFrame:
        """Weighted curves through :class:`~evaltools.duration.KaplanMeier`, with bootstrap SEs and limits."""
        frame = pd.DataFrame({"time": time, "event": event.astype(int), "arm": np.where(t, 1, 0), "w": w})
        with np.errstate(divide="ignore", invalid="ignore"):  # naive Greenwood terms are not used
            km = KaplanMeier(frame, duration="time", event="event", group="arm", weights="w").fit()
        tab = km.survival_function.drop(columns=["std_err", "lower", "upper"])
        tab["arm"] = tab["arm"].map({1: "treated", 0: "control"})
        z = float(stats.norm.ppf(1 - alpha / 2))
        parts = []
        for k, arm in enumerate(("treated", "control")):
            sub = tab[tab["arm"] == arm].copy()
            sub["survival"] = _exhausted(
                sub["survival"].to_numpy(), sub["n_risk"].to_numpy(float), sub["n_event"].to_numpy(float)
            )
            if curve_reps is not None and len(curve_reps[k]) > 1:
                se = curve_reps[k].std(axis=0, ddof=1)
            else:
                se = np.full(len(sub), np.nan)
            s = sub["survival"].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = core.conf_band(s, se / s, conf_type, z)
            sub["std_err"], sub["lower"], sub["upper"] = se, lo, hi
            parts.append(sub)
        return pd.concat(parts, ignore_index=True)


class IPWSurvivalResults(EstimationResults):
    """Results of :class:`IPWSurvival` (read-only).

    Attributes
    ----------
    params : Series
        ``rmst_treated``, ``rmst_control``, ``rmst_diff`` and, for each ``t`` in
        ``times``, ``surv_treated[t]``, ``surv_control[t]``, ``surv_diff[t]``.
    curves : DataFrame
        Weighted Kaplan-Meier curves: ``arm``, ``time``, ``n_risk``, ``n_event``,
        ``n_censor`` (weighted), ``survival``, bootstrap ``std_err``, ``lower``, ``upper``.
    weights : Series
        IPW weight of each row of the data (NaN for trimmed rows).
    pscore : Series
        Propensity score of each kept row (NaN for trimmed rows).
    tau : float
        RMST horizon.
    counts : dict
        Units, treated, controls, events by arm, trimmed units, effective sample
        sizes, bootstrap replications requested and used.
    bootstrap : ndarray or None
        Bootstrap replications of ``params`` (rows).
    times : sequence of float
        Reporting times of the survival differences.
    estimand : str
        ``"ATE"`` or ``"ATT"``.
    propensity : PropensityResults or None
        The fitted propensity model (None for given scores).
    """

    curves: pd.DataFrame
    weights: pd.Series
    pscore: pd.Series
    tau: float
    times: Any
    counts: dict[str, Any]
    bootstrap: np.ndarray | None
    estimand: str
    propensity: Any

    def __init__(self, model, params, cov, ps, w, table, tau, times, reps, n_boot, n_used, seed, ct, alpha):
        keep = ps["keep"]
        t = model._t[keep]
        ev = model._event[keep]
        idx = model._data.index
        wfull = np.full(len(idx), np.nan)
        wfull[keep] = w
        pfull = np.full(len(idx), np.nan)
        pfull[keep] = ps["p"][keep]
        ess = {
            arm: float(w[m].sum() ** 2 / (w[m] ** 2).sum()) for arm, m in (("treated", t), ("control", ~t))
        }
        counts = {
            "units": int(len(idx)),
            "used": int(keep.sum()),
            "treated": int(t.sum()),
            "controls": int((~t).sum()),
            "events_treated": int(ev[t].sum()),
            "events_control": int(ev[~t].sum()),
            "trimmed_treated": ps["n_trimmed_treated"],
            "trimmed_control": ps["n_trimmed_control"],
            "ess_treated": ess["treated"],
            "ess_control": ess["control"],
            "n_boot": int(n_boot),
            "n_boot_used": int(n_used),
        }
        msgs = []
        for arm, m in (("treated", t), ("control", ~t)):
            rel = float(w[m].max() / w[m].mean())
            if rel > _MAX_RELATIVE_WEIGHT or ess[arm] < _MIN_ESS_FRACTION * m.sum():
                msgs.append(
                    f"{arm}: max weight {rel:.1f} times the mean, ESS {ess[arm]:,.1f} of {int(m.sum()):,}"
                )
        if msgs:
            warnings.warn(
                f"{_W}: extreme weights ({'; '.join(msgs)}). Trim (trim=0.1 or 'optimal') or revisit the "
                "propensity specification.",
                ExtremeWeightWarning,
                stacklevel=3,
            )
        wdesc = "1/e (treated) and 1/(1-e) (controls)" if model.estimand == "ATE" else "1 and e/(1-e)"
        foot = [
            f"Estimand: {model.estimand} on the survival curve of {model.duration!r} "
            f"(event {model.event!r}); "
            f"RMST = area under the weighted Kaplan-Meier curve on [0, {tau:g}]; differences are treated "
            "minus control.",
            f"Weights: {wdesc}; propensity e from a {ps['source']}.",
            f"Effective sample sizes (Kish): treated {ess['treated']:,.1f} of {counts['treated']:,}, "
            f"controls {ess['control']:,.1f} of {counts['controls']:,}.",
            f"Trimmed: {counts['trimmed_treated']:,} treated and {counts['trimmed_control']:,} control units"
            + (
                f" (propensity outside [{ps['trim_bounds'][0]:.4g}, {ps['trim_bounds'][1]:.4g}])."
                if ps["trim_bounds"]
                else " (no trimming)."
            ),
            (
                f"Standard errors: nonparametric bootstrap over "
                f"{'persons/rows' if model.cluster is None else repr(model.cluster)} ({n_used} of {n_boot} "
                f"replications usable, seed={seed}); the propensity model is re-fitted in each replication."
                if n_boot
                else "No standard errors (n_boot=0)."
            ),
            "Censoring is assumed independent of the duration within each weighted arm.",
        ]
        super().__init__(
            params,
            cov,
            counts["used"],
            model=model,
            title=f"IPW survival-time treatment effects ({model.estimand})",
            header=(
                ("Treated", counts["treated"]),
                ("Controls", counts["controls"]),
                ("Events treated/control", f"{counts['events_treated']}/{counts['events_control']}"),
                ("Horizon tau", tau),
            ),
            footnotes=foot,
            extra={
                "curves": table,
                "weights": pd.Series(wfull, index=idx, name="ipw_weight"),
                "pscore": pd.Series(pfull, index=idx, name="pscore"),
                "tau": tau,
                "times": times,
                "counts": counts,
                "bootstrap": reps,
                "estimand": model.estimand,
                "propensity": ps["results"],
            },
        )

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Weighted survival of each arm at given times (index ``time``; columns ``treated``, ``control``)."""
        at = np.asarray(times, dtype=float).ravel()
        out = {}
        for arm in ("treated", "control"):
            c = self.curves[self.curves["arm"] == arm]
            v = _at(c["time"].to_numpy(), c["survival"].to_numpy(), at)
            out[arm] = np.where(at > c["time"].max(), np.nan, v)
        return pd.DataFrame(out, index=pd.Index(at, name="time"))

    def plot(self, ax: Any = None, *, ci: bool = True, time_unit: str = "weeks", title: str | None = None,
             **kwargs: Any) -> Any:
        """Weighted Kaplan-Meier curves by arm with bootstrap bands and the RMST horizon; returns the Axes.

        ``time_unit`` names the unit of the duration column in the x label; ``title`` replaces the
        default title ("" for none).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.2))
        for arm in ("treated", "control"):
            c = self.curves[self.curves["arm"] == arm]
            x = np.r_[0.0, c["time"].to_numpy()]
            (line,) = ax.step(x, np.r_[1.0, c["survival"].to_numpy()], where="post", label=arm, **kwargs)
            if ci and c["lower"].notna().any():
                ax.fill_between(
                    x,
                    np.r_[1.0, c["lower"].to_numpy()],
                    np.r_[1.0, c["upper"].to_numpy()],
                    step="post",
                    alpha=0.2,
                    color=line.get_color(),
                )
        ax.axvline(self.tau, ls=":", color="grey", label=f"tau = {self.tau:g}")
        ax.set_xlabel(f"{self.model.duration} ({time_unit})" if time_unit else self.model.duration)
        ax.set_ylabel(f"survival probability ({self.estimand}-weighted)")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="best")
        title = f"IPW-weighted survival by arm ({self.estimand})" if title is None else title
        if title:
            ax.set_title(title)
        return ax


def ipw_survival(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    treatment: str,
    covariates: Sequence[str] | None = None,
    pscore: PropensityResults | str | None = None,
    estimand: str = "ATE",
    tau: float | None = None,
    times: Sequence[float] = (),
    trim: float | str | None = None,
    cluster: str | None = None,
    n_boot: int = 200,
    seed: int | None = None,
    progress: bool = False,
    alpha: float = 0.05,
    conf_type: str = "log-log",
) -> IPWSurvivalResults:
    """One call of ``IPWSurvival(...).fit(...)``; see :class:`IPWSurvival` and :meth:`IPWSurvival.fit`."""
    model = IPWSurvival(
        data,
        duration=duration,
        event=event,
        treatment=treatment,
        covariates=covariates,
        pscore=pscore,
        estimand=estimand,
        trim=trim,
        cluster=cluster,
    )
    return model.fit(
        tau=tau, times=times, n_boot=n_boot, seed=seed, progress=progress, alpha=alpha, conf_type=conf_type
    )
