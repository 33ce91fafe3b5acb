"""Results object of :class:`evaltools.selection.AIPWSurvival`."""

from __future__ import annotations

import warnings
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltools.exceptions import ExtremeWeightWarning
from evaltools.reporting.results import EstimationResults
from evaltools.selection._dynamic_core import cluster_covariance
from evaltools.selection._survival_aipw_core import arm_curve
from evaltools.selection.weighting import _MAX_RELATIVE_WEIGHT, _MIN_ESS_FRACTION

if TYPE_CHECKING:  # pragma: no cover
    from evaltools.selection.survival_aipw import AIPWSurvival

__all__ = ["AIPWSurvivalResults", "build_results"]

_ARMS = ((1, "treated"), (0, "control"))


def _label(x: float) -> str:
    return f"{x:g}"


class AIPWSurvivalResults(EstimationResults):
    """Results of :class:`~evaltools.selection.AIPWSurvival` (read-only).

    Attributes
    ----------
    params : Series
        For each ``t`` in ``times``: ``surv_treated[t]``, ``surv_control[t]``
        (adjusted survival of each arm), ``surv_diff[t]`` (treated minus
        control) and ``surv_ratio[t]`` (treated over control); then
        ``rmst_treated``, ``rmst_control`` and ``rmst_diff`` up to ``tau``.
        Standard errors (:attr:`bse`) come from the influence function;
        intervals are Wald intervals on the reported scale.
    curves : DataFrame
        Adjusted survival of each arm (``arm``, ``time``, ``survival``) at the
        distinct observed times up to the horizon (computed on first access).
    influence : DataFrame
        Influence function of every parameter: derivative of the estimate with
        respect to each used row's frequency weight (for unit weights the
        estimate minus its limit is approximately their sum).
    pscore : Series
        Propensity score of each row (NaN for trimmed rows).
    weights : Series
        Treatment weight of each row in its own arm (NaN for trimmed rows).
    nuisance : dict of DataFrame
        Coefficient tables of the propensity, outcome and censoring models.
    times, tau, horizon : ndarray, float, float
        Reporting times, RMST horizon, and the largest time the curves are
        identified at (the smaller of the arms' largest observed times).
    counts : dict
        Units, treated, controls, events and censorings by arm, trimmed units,
        effective sample sizes, clusters.
    estimand : str
        ``"ATE"`` or ``"ATT"``.
    """

    model: AIPWSurvival
    influence: pd.DataFrame
    pscore: pd.Series
    weights: pd.Series
    nuisance: dict[str, pd.DataFrame]
    times: np.ndarray
    tau: float
    horizon: float
    counts: dict[str, Any]
    estimand: str
    known_nuisance: bool
    _curve_inputs: dict[int, tuple[Any, np.ndarray]]

    @cached_property
    def tvalues(self) -> pd.Series:
        """Z statistics of no effect (differences 0, ratios 1); NaN for the levels of each arm."""
        idx = self._params.index
        null = np.where(
            idx.str.contains("diff"), 0.0, np.where(idx.str.startswith("surv_ratio"), 1.0, np.nan)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((self._params - null) / self.bse).rename("stat")

    @cached_property
    def curves(self) -> pd.DataFrame:
        """Adjusted survival of each arm (``arm``, ``time``, ``survival``), computed on first access.

        Evaluated at the distinct observed times up to the horizon (at most
        1,000 of them, quantile-spaced beyond that).  The AIPTW curves are not
        forced to be monotone or inside [0, 1].
        """
        parts = [
            pd.DataFrame({"arm": arm, "time": grid, "survival": 1.0 - arm_curve(inp, grid)})
            for inp, grid, arm in ((*self._curve_inputs[a], arm) for a, arm in _ARMS)
        ]
        return pd.concat(parts, ignore_index=True)

    def effects(self, alpha: float = 0.05) -> pd.DataFrame:
        """Survival of each arm, difference and ratio by time, with standard errors and intervals.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level.

        Returns
        -------
        DataFrame
            Indexed by ``time``.
        """
        tab = self.to_frame(alpha)
        rows = []
        for x in self.times:
            lab = _label(x)
            row: dict[str, float] = {"time": float(x)}
            for q in ("surv_treated", "surv_control", "surv_diff", "surv_ratio"):
                est, se, lo, hi = tab.loc[f"{q}[{lab}]", ["estimate", "std_err", "lower", "upper"]].to_numpy(
                    dtype=float
                )
                row[q] = float(est)
                row[f"{q}_se"] = float(se)
                if q in ("surv_diff", "surv_ratio"):
                    row[f"{q}_lower"], row[f"{q}_upper"] = float(lo), float(hi)
            rows.append(row)
        cols = [
            "time",
            "surv_treated",
            "surv_treated_se",
            "surv_control",
            "surv_control_se",
            "surv_diff",
            "surv_diff_se",
            "surv_diff_lower",
            "surv_diff_upper",
            "surv_ratio",
            "surv_ratio_se",
            "surv_ratio_lower",
            "surv_ratio_upper",
        ]
        return pd.DataFrame(rows, columns=cols).set_index("time")

    def plot(
        self,
        ax: Any = None,
        *,
        ci: bool = True,
        alpha: float = 0.05,
        time_unit: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Adjusted survival curves of both arms with pointwise intervals at ``times``; returns the Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        ci : bool, default=True
            Draw ``1 - alpha`` intervals at the reporting times.
        alpha : float, default=0.05
            One minus the confidence level.
        time_unit : str, optional
            Unit of the duration for the axis label (e.g. ``"weeks"``).
        **kwargs
            Passed to ``Axes.step``.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ci_tab = self.conf_int(alpha)
        shift = 0.006 * self.tau  # the two arms' intervals side by side
        for k, (_, arm) in enumerate(_ARMS):
            c = self.curves[self.curves["arm"] == arm]
            x = np.r_[0.0, c["time"].to_numpy()]
            (line,) = ax.step(x, np.r_[1.0, c["survival"].to_numpy()], where="post", label=arm, **kwargs)
            if ci and len(self.times):
                keys = [f"surv_{arm}[{_label(t)}]" for t in self.times]
                est = self.params[keys].to_numpy()
                lo, hi = ci_tab.loc[keys, "lower"].to_numpy(), ci_tab.loc[keys, "upper"].to_numpy()
                ax.errorbar(
                    self.times + (k - 0.5) * shift,
                    est,
                    yerr=[est - lo, hi - est],
                    fmt="o",
                    ms=3,
                    capsize=3,
                    color=line.get_color(),
                )
        ax.axvline(self.tau, ls=":", color="grey", label=f"RMST horizon {self.tau:g}")
        unit = f" ({time_unit})" if time_unit else ""
        ax.set_xlabel(f"{self.model.duration}{unit}")
        ax.set_ylabel("survival probability")
        ax.set_title(
            f"Doubly robust (AIPTW) adjusted survival, {self.estimand}"
            + (f"; {int(100 * (1 - alpha))}% CIs" if ci and len(self.times) else "")
        )
        ax.legend()
        return ax


def _ess(w: np.ndarray, f: np.ndarray) -> float:
    return float((f * w).sum() ** 2 / (f * w * w).sum()) if (w > 0).any() else float("nan")


def build_results(
    model: AIPWSurvival,
    *,
    ps: dict[str, Any],
    keep: np.ndarray,
    arms: dict[int, dict[str, Any]],
    times: np.ndarray,
    tau: float,
    horizon: float,
    out: dict,
    cens: dict,
    clusters: np.ndarray | None,
    cluster: str | None,
    known_nuisance: bool,
) -> AIPWSurvivalResults:
    """Assemble :class:`AIPWSurvivalResults` from the per-arm estimates and influence functions."""
    names: list[str] = []
    est: list[float] = []
    cols: list[np.ndarray] = []
    a1, a0 = arms[1], arms[0]
    for k, x in enumerate(times):
        lab = _label(x)
        s1, s0 = a1["surv"][k], a0["surv"][k]
        i1, i0 = a1["inf_surv"][:, k], a0["inf_surv"][:, k]
        ratio = s1 / s0 if s0 != 0 else np.nan
        names += [f"surv_treated[{lab}]", f"surv_control[{lab}]", f"surv_diff[{lab}]", f"surv_ratio[{lab}]"]
        est += [s1, s0, s1 - s0, ratio]
        cols += [i1, i0, i1 - i0, (i1 - ratio * i0) / s0 if s0 != 0 else np.full_like(i1, np.nan)]
    names += ["rmst_treated", "rmst_control", "rmst_diff"]
    est += [a1["rmst"], a0["rmst"], a1["rmst"] - a0["rmst"]]
    cols += [a1["inf_rmst"], a0["inf_rmst"], a1["inf_rmst"] - a0["inf_rmst"]]
    infl = np.column_stack(cols)
    f = model._w[keep]
    if clusters is not None:
        cov = cluster_covariance(infl, clusters)
        n_clusters = int(clusters.max()) + 1
    else:
        cov = infl.T @ (infl * f[:, None])
        n_clusters = None
    idx = model._data.index
    t = model._t[keep]
    ev = model._event[keep]
    W = np.where(t, a1["W"], a0["W"])
    wfull = pd.Series(np.nan, index=idx, name="treatment_weight")
    wfull[keep] = W
    pfull = pd.Series(np.nan, index=idx, name="pscore")
    pfull[keep] = ps["p"][keep]
    ess = {arm: _ess(W[t == bool(a)], f[t == bool(a)]) for a, arm in _ARMS}
    counts = {
        "units": int(len(idx)),
        "used": int(keep.sum()),
        "treated": int(t.sum()),
        "controls": int((~t).sum()),
        "events_treated": int(ev[t].sum()),
        "events_control": int(ev[~t].sum()),
        "censored_treated": int((~ev[t]).sum()),
        "censored_control": int((~ev[~t]).sum()),
        "trimmed_treated": ps["n_trimmed_treated"],
        "trimmed_control": ps["n_trimmed_control"],
        "ess_treated": ess["treated"],
        "ess_control": ess["control"],
        "clusters": n_clusters,
    }
    msgs = []
    for a, arm in _ARMS:
        m = t == bool(a)
        wa = W[m]
        rel = float(wa.max() / np.average(wa, weights=f[m]))
        if rel > _MAX_RELATIVE_WEIGHT or ess[arm] < _MIN_ESS_FRACTION * f[m].sum():
            msgs.append(
                f"{arm}: max weight {rel:.1f} times the mean, ESS {ess[arm]:,.1f} of {f[m].sum():,.0f}"
            )
    if msgs:
        warnings.warn(
            f"AIPWSurvival: extreme treatment weights ({'; '.join(msgs)}). Trim (trim=0.1 or 'optimal') or "
            "revisit the propensity specification.",
            ExtremeWeightWarning,
            stacklevel=3,
        )
    nuis = _nuisance_tables(model, ps, out, cens)
    foot = _footnotes(model, ps, out, cens, counts, tau, known_nuisance, cluster)
    return AIPWSurvivalResults(
        pd.Series(est, index=names, dtype=float),
        pd.DataFrame(cov, index=names, columns=names),
        counts["used"],
        model=model,
        title=f"Doubly robust (AIPTW, AIPCW) survival-time treatment effects ({model.estimand})",
        header=(
            ("Treated", counts["treated"]),
            ("Controls", counts["controls"]),
            ("Events treated/control", f"{counts['events_treated']:,}/{counts['events_control']:,}"),
            ("RMST horizon tau", tau),
        )
        + ((("Clusters", n_clusters),) if n_clusters is not None else ()),
        footnotes=foot,
        extra={
            "_curve_inputs": {a: (arms[a]["inputs"], arms[a]["curve_time"]) for a, _ in _ARMS},
            "influence": pd.DataFrame(infl, index=idx[keep], columns=names),
            "pscore": pfull,
            "weights": wfull,
            "nuisance": nuis,
            "times": np.asarray(times, dtype=float),
            "tau": float(tau),
            "horizon": float(horizon),
            "counts": counts,
            "estimand": model.estimand,
            "known_nuisance": known_nuisance,
        },
    )


def _nuisance_tables(model: AIPWSurvival, ps: dict, out: dict, cens: dict) -> dict[str, pd.DataFrame]:
    tabs: dict[str, pd.DataFrame] = {}
    if ps.get("gamma") is not None:
        tabs["propensity"] = ps["gamma"].rename("coef").rename_axis("term").to_frame()
    for kind, fits in (("outcome", out), ("censoring", cens)):
        if fits[0] is None:
            continue
        if fits[0] is fits[1]:
            if fits[0].p:
                tabs[kind] = fits[0].coef_table()
        else:
            for a in (0, 1):
                if fits[a] is not None and fits[a].p and not fits[a].empty:
                    tabs[f"{kind}[{model.treatment}={a}]"] = fits[a].coef_table()
    return tabs


def _footnotes(
    model: AIPWSurvival,
    ps: dict,
    out: dict,
    cens: dict,
    counts: dict,
    tau: float,
    known_nuisance: bool,
    cluster: str | None,
) -> list[str]:
    oc = model.outcome_covariates
    om = (
        f"Cox model with {model.treatment!r} and {len(oc)} covariate(s)"
        if model.outcome_model == "cox"
        else f"one Cox model per arm on {len(oc)} covariate(s)"
    )
    if cens[0] is None:
        cm = "none needed (no censored rows)"
    elif model.censoring_model.startswith("km"):
        cm = "Kaplan-Meier of the censoring times" + (
            " per arm" if model.censoring_model.endswith("arm") else ""
        )
    else:
        k = len(model.censoring_covariates or ())
        cm = (f"Cox model on {k} covariate(s)" if k else "marginal Breslow (Nelson-Aalen) curve") + (
            " per arm" if model.censoring_model.endswith("arm") else ""
        )
    target = "all units" if model.estimand == "ATE" else "the treated"
    foot = [
        f"Estimand: {model.estimand} (survival of {model.duration!r} with event {model.event!r} over "
        f"{target}); RMST on [0, {tau:g}]; differences and ratios are treated vs control; stat and pvalue "
        "test no effect (difference 0, ratio 1).",
        f"Estimator: AIPTW with AIPCW censoring augmentation (Ozenne et al. 2020; riskRegression::ate "
        f"'AIPTW,AIPCW'); propensity: {ps['source']}; outcome: {om}; censoring: {cm}. Cox models use "
        "Breslow ties and the Breslow baseline hazard.",
        (
            "Standard errors: influence function treating the nuisance models as known (known_nuisance=True)."
            if known_nuisance
            else "Standard errors: influence function including the estimation of the nuisance models "
            "(held-fixed propensity scores excepted)."
        ),
        f"Effective sample sizes (Kish, treatment weights): treated {counts['ess_treated']:,.1f} of "
        f"{counts['treated']:,}, controls {counts['ess_control']:,.1f} of {counts['controls']:,}.",
        f"Trimmed: {counts['trimmed_treated']:,} treated and {counts['trimmed_control']:,} control units"
        + (
            f" (propensity outside [{ps['trim_bounds'][0]:.4g}, {ps['trim_bounds'][1]:.4g}]; all models "
            "re-fitted on the kept units)."
            if ps["trim_bounds"]
            else " (no trimming)."
        ),
    ]
    for kind, fits in (("outcome", out), ("censoring", cens)):
        for a in (0, 1):
            if fits[a] is not None and fits[a].empty and (a == 1 or fits[0] is not fits[1]):
                what = "exits" if kind == "outcome" else "censored rows"
                among = "the" if fits[0] is fits[1] else f"{model.treatment}={a}"
                const = "survival of 1" if kind == "outcome" else "G = 1"
                foot.append(f"No {what} among {among} units used: the {kind} model is a constant {const}.")
    if cluster is not None:
        foot.append(
            f"Standard errors clustered by {cluster!r} ({counts['clusters']:,} clusters; small-sample "
            "factor G/(G-1))."
        )
    if model.weights is not None:
        foot.append(f"Frequency weights from column {model.weights!r}.")
    return foot
