"""E-values (VanderWeele & Ding 2017) for risk, odds and hazard ratios and standardised differences.

The E-value of an observed risk ratio ``RR`` is the minimum strength of
association, on the risk-ratio scale, that an unmeasured confounder would
need to have with both the treatment and the outcome (conditional on the
measured covariates) to fully explain away the estimate:
``E = RR + sqrt(RR (RR - 1))`` for ``RR >= 1`` (``1 / RR`` is used below 1).
The E-value of a confidence interval applies the same formula to the limit
closer to the null (1 if the interval contains the null).

Other effect measures are first converted to the approximate risk-ratio scale
(VanderWeele & Ding 2017, Table; VanderWeele 2020):

* odds ratio, rare outcome: ``RR ~ OR``; common outcome: ``RR ~ sqrt(OR)``;
* hazard ratio, rare outcome (below about 15% at the end of follow-up):
  ``RR ~ HR``; common outcome:
  ``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1 / HR))``;
* standardised mean difference ``d`` (with standard error ``se``):
  ``RR ~ exp(0.91 d)``, interval ``exp(0.91 d -/+ 1.78 se)``.

:func:`evalue_from_results` applies the hazard-ratio version to the
log-hazard-ratio parameters of a fitted :class:`~evaltools.duration.CoxPH` or
:class:`~evaltools.duration.TimingOfEvents` model (exits from benefit are
common outcomes: ``rare=False``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._validation import check_option
from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import ReadOnlyMixin
from evaltools.reporting.summary import Summary

__all__ = ["EValueResults", "evalue", "evalue_from_results"]

_MEASURES = ("RR", "OR", "HR", "SMD")
_NAMES = {"RR": "risk ratio", "OR": "odds ratio", "HR": "hazard ratio", "SMD": "standardised mean difference"}


def _threshold(rr: np.ndarray) -> np.ndarray:
    """``RR + sqrt(RR (RR - 1))`` after mapping ``RR < 1`` to ``1 / RR``."""
    r = np.where(rr < 1, 1 / rr, rr)
    return r + np.sqrt(r * (r - 1))


def _to_rr(x: np.ndarray, measure: str, rare: bool | None) -> np.ndarray:
    if measure == "RR" or (measure in ("OR", "HR") and rare):
        return x
    if measure == "OR":
        return np.sqrt(x)
    if measure == "HR":
        return (1 - 0.5 ** np.sqrt(x)) / (1 - 0.5 ** np.sqrt(1 / x))
    return np.exp(0.91 * x)  # SMD


def _evalues(
    est: np.ndarray, lo: np.ndarray, hi: np.ndarray, true_rr: float
) -> tuple[np.ndarray, np.ndarray]:
    """E-values of the point estimates and of the interval limit closer to ``true_rr`` (RR scale)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        e_point = np.where(est == true_rr, 1.0, _threshold(est / true_rr))
        above = est > true_rr
        limit = np.where(above, lo, hi)
        crosses = np.where(above, limit <= true_rr, limit >= true_rr)
        e_ci = np.where(
            np.isnan(limit), np.nan, np.where(crosses | (est == true_rr), 1.0, _threshold(limit / true_rr))
        )
    return e_point, e_ci


class EValueResults(ReadOnlyMixin):
    """E-values of one or more effect estimates (read-only).

    Attributes
    ----------
    table : DataFrame
        One row per estimate: ``estimate``, ``lower``, ``upper`` on the
        original scale, ``rr``, ``rr_lower``, ``rr_upper`` on the
        (approximate) risk-ratio scale, ``evalue`` (point estimate) and
        ``evalue_ci`` (interval limit closer to the null).
    measure : str
        ``"RR"``, ``"OR"``, ``"HR"`` or ``"SMD"``.
    rare : bool or None
        Rare-outcome assumption used for OR and HR.
    true : float
        The null value on the original scale (1, or 0 for SMD, by default).
    """

    def __init__(
        self, table: pd.DataFrame, *, measure: str, rare: bool | None, true: float, source: str = ""
    ) -> None:
        self.table = table
        self.measure = measure
        self.rare = rare
        self.true = true
        self.source = source
        self._freeze()

    def summary(self) -> Summary:
        """Summary with the E-value table and footnotes."""
        conv = {
            "RR": "",
            "OR": "odds ratios taken as risk ratios (rare outcome)"
            if self.rare
            else "odds ratios converted by RR = sqrt(OR) (common outcome)",
            "HR": "hazard ratios taken as risk ratios (rare outcome)"
            if self.rare
            else "hazard ratios converted by RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) (common outcome)",
            "SMD": "standardised differences converted by RR = exp(0.91 d), interval exp(0.91 d -/+ 1.78 se)",
        }[self.measure]
        foot = [
            "E-value (VanderWeele & Ding 2017): the minimum risk ratio that an unmeasured confounder would "
            "need with both the treatment and the outcome, beyond the measured covariates, to move the "
            f"estimate to {self.true:g}; evalue_ci does the same for the interval limit closer to "
            f"{self.true:g} (1 when the interval contains it).",
        ]
        if conv:
            foot.append(f"Scale: {conv}.")
        if self.source:
            foot.append(self.source)
        return Summary(
            title="E-values for unmeasured confounding",
            header=(("Measure", _NAMES[self.measure]),),
            tables=[self.table],
            footnotes=foot,
        )

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def evalue(
    estimate: Any,
    lower: Any = None,
    upper: Any = None,
    *,
    measure: str = "RR",
    rare: bool | None = None,
    se: Any = None,
    true: float | None = None,
) -> EValueResults:
    """E-values for an observed effect and its confidence interval.

    Parameters
    ----------
    estimate : float or array-like
        Point estimate(s) on the scale of ``measure`` (ratios, or the
        standardised difference for ``"SMD"``).
    lower, upper : float or array-like, optional
        Confidence limits (same scale); for ``"SMD"`` give ``se`` instead.
    measure : {"RR", "OR", "HR", "SMD"}, default="RR"
        Effect measure.
    rare : bool, optional
        Required for ``"OR"`` and ``"HR"``: whether the outcome is rare
        (below about 15%) at the end of follow-up, so that the ratio
        approximates a risk ratio.
    se : float or array-like, optional
        Standard error of a standardised difference (``"SMD"``).
    true : float, optional
        Null value to be explained away to (default 1; 0 for ``"SMD"``).

    Returns
    -------
    EValueResults

    References
    ----------
    VanderWeele, T. J. and Ding, P. (2017). Sensitivity analysis in
    observational research: introducing the E-value. Annals of Internal
    Medicine 167(4), 268-274.
    VanderWeele, T. J. (2020). Optimal approximate conversions of odds ratios
    and hazard ratios to risk ratios. Biometrics 76(3), 746-752.

    Examples
    --------
    >>> res = evalue(3.9, 1.8, 8.7)
    >>> res.table[["evalue", "evalue_ci"]].round(2).values.tolist()
    [[7.26, 3.0]]
    """
    where = "evalue"
    measure = check_option("measure", measure, _MEASURES, where)
    if measure in ("OR", "HR") and not isinstance(rare, bool):
        raise SpecificationError(
            f"{where}: measure={measure!r} needs rare=True or rare=False (is the outcome below about 15% "
            "at the end of follow-up?). Exits from benefit are common: use rare=False."
        )
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    if measure == "SMD":
        if lower is not None or upper is not None:
            raise SpecificationError(f"{where}: for measure='SMD' give se= instead of lower/upper.")
        t0 = 0.0 if true is None else float(true)
        if se is None:
            lo = hi = np.full(est.shape, np.nan)
        else:
            s = np.broadcast_to(np.asarray(se, dtype=float), est.shape)
            if np.any(~(s > 0)):
                raise SpecificationError(f"{where}: se must be positive; got {np.asarray(se)!r}.")
            z = stats.norm.ppf(0.975)
            lo, hi = est - z * s, est + z * s
    else:
        if se is not None:
            raise SpecificationError(f"{where}: se= is only used with measure='SMD'; give lower/upper.")
        if np.any(~np.isfinite(est)) or np.any(est <= 0):
            raise SpecificationError(f"{where}: ratio estimates must be positive and finite; got {est[:5]}.")
        t0 = 1.0 if true is None else float(true)
        lo = (
            np.full(est.shape, np.nan)
            if lower is None
            else np.broadcast_to(np.asarray(lower, float), est.shape)
        )
        hi = (
            np.full(est.shape, np.nan)
            if upper is None
            else np.broadcast_to(np.asarray(upper, float), est.shape)
        )
        if np.any(lo <= 0) or np.any(hi <= 0) or np.any(lo > est) or np.any(hi < est):
            raise SpecificationError(
                f"{where}: confidence limits must be positive with lower <= estimate <= upper; got "
                f"lower={lo[:3]}, estimate={est[:3]}, upper={hi[:3]}."
            )
        if t0 <= 0:
            raise SpecificationError(f"{where}: true must be a positive ratio; got {true!r}.")
    rr, rr_lo, rr_hi = (_to_rr(v, measure, rare) for v in (est, lo, hi))
    t_rr = float(_to_rr(np.array([t0]), measure, rare)[0])
    if measure == "SMD" and se is not None:
        rr_lo, rr_hi = np.exp(0.91 * est - 1.78 * s), np.exp(0.91 * est + 1.78 * s)
    e_point, e_ci = _evalues(rr, rr_lo, rr_hi, t_rr)
    tab = pd.DataFrame(
        {
            "estimate": est,
            "lower": lo,
            "upper": hi,
            "rr": rr,
            "rr_lower": rr_lo,
            "rr_upper": rr_hi,
            "evalue": e_point,
            "evalue_ci": e_ci,
        }
    )
    return EValueResults(tab, measure=measure, rare=rare if measure in ("OR", "HR") else None, true=t0)


def evalue_from_results(
    results: Any,
    terms: str | Sequence[str] | None = None,
    *,
    rare: bool,
    alpha: float = 0.05,
    true: float = 1.0,
) -> EValueResults:
    """E-values of hazard ratios estimated by a Cox or timing-of-events model.

    Parameters
    ----------
    results : CoxResults, MPHResults or any results with log-hazard-ratio ``params``
        Fitted results with ``params`` and ``conf_int(alpha)`` on the
        log-hazard-ratio scale (:class:`~evaltools.duration.CoxPH`,
        :class:`~evaltools.duration.TimingOfEvents`, :class:`~evaltools.duration.MixedPH`).
    terms : str or sequence of str, optional
        Parameters to evaluate; default: the treatment-effect parameters of a
        timing-of-events result, or every parameter of a Cox result.
    rare : bool
        Whether the exit is rare (below about 15%) by the end of follow-up;
        exits from benefit spells are common (``rare=False``).
    alpha : float, default=0.05
        One minus the confidence level of the intervals.
    true : float, default=1.0
        Hazard ratio to be explained away to.

    Returns
    -------
    EValueResults
        Indexed by term.

    Examples
    --------
    >>> from evaltools.datasets.rossi import load
    >>> from evaltools.duration import CoxPH
    >>> d = load()
    >>> d = d.assign(fin=(d["fin"] == "yes").astype(int), start=0)
    >>> fit = CoxPH(d, stop="week", event="arrest", covariates=["fin", "age", "prio"]).fit()
    >>> ev = evalue_from_results(fit, "prio", rare=False)
    >>> bool(ev.table.loc["prio", "evalue"] > 1)
    True
    """
    params = getattr(results, "params", None)
    if not isinstance(params, pd.Series) or not callable(getattr(results, "conf_int", None)):
        raise SpecificationError(
            "evalue_from_results: results must have a 'params' Series and a 'conf_int(alpha)' method on the "
            f"log-hazard-ratio scale (CoxPH or TimingOfEvents results); got {type(results).__name__}."
        )
    if not 0 < alpha < 1:
        raise SpecificationError(f"evalue_from_results: alpha must lie in (0, 1); got {alpha!r}.")
    if terms is None:
        eff = getattr(results, "effect_params", None)
        names = [n for v in eff.values() for n in v] if isinstance(eff, dict) and eff else list(params.index)
        names = [n for n in names if n not in set(getattr(results, "masspoint_params", []) or [])]
    else:
        names = [terms] if isinstance(terms, str) else list(terms)
    missing = [n for n in names if n not in params.index]
    if missing:
        raise SpecificationError(
            f"evalue_from_results: terms {missing} are not parameters of the results; parameters: "
            f"{list(params.index)[:10]}."
        )
    ci = results.conf_int(alpha).loc[names]
    b = params.loc[names].to_numpy(float)
    lo, hi = ci.iloc[:, 0].to_numpy(float), ci.iloc[:, 1].to_numpy(float)
    if np.any(~np.isfinite(lo)) or np.any(~np.isfinite(hi)):
        se = getattr(results, "bse", pd.Series(np.nan, index=params.index)).loc[names].to_numpy(float)
        q = stats.norm.ppf(1 - alpha / 2)
        lo, hi = b - q * se, b + q * se
    res = evalue(np.exp(b), np.exp(lo), np.exp(hi), measure="HR", rare=rare, true=true)
    tab = res.table.rename(columns={"estimate": "hazard_ratio"})
    tab.index = pd.Index(names, name="term")
    src = (
        f"Hazard ratios and {1 - alpha:.0%} intervals of {type(results).__name__} "
        f"(exp of the log-hazard-ratio parameters)."
    )
    return EValueResults(tab, measure="HR", rare=rare, true=float(true), source=src)
