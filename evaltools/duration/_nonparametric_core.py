"""Vectorised computations behind Kaplan-Meier, Nelson-Aalen and Aalen-Johansen.

Every function works on one group: arrays of entry times, exit (stop) times,
cause codes (0 = censored) and weights.  Risk sets follow R ``survival``: a row
with ``(entry, stop]`` is at risk at time ``t`` iff ``entry < t <= stop``.
Counts at all distinct exit times come from ``bincount`` and cumulative sums
(one sort, no per-person loop).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["RiskTable", "risk_table", "km_greenwood", "nelson_aalen", "aalen_johansen", "conf_band"]


class RiskTable(NamedTuple):
    """Counts at the distinct exit times of one group."""

    time: np.ndarray  # distinct exit times (sorted)
    n_risk: np.ndarray  # weighted number at risk just before each time
    n_event: np.ndarray  # (J, K) weighted events by cause 1..K
    n_censor: np.ndarray  # weighted censorings
    n_enter: np.ndarray  # weighted entries counted in n_risk for the first time at each time
    first: np.ndarray  # index of the first time at which each row is at risk
    last: np.ndarray  # index of each row's exit time


def risk_table(
    entry: np.ndarray, stop: np.ndarray, cause: np.ndarray, weight: np.ndarray, n_causes: int
) -> RiskTable:
    """Tabulate risk sets and event counts at the distinct exit times.

    Parameters
    ----------
    entry, stop : ndarray
        Interval bounds with ``entry < stop``.
    cause : ndarray of int
        0 for censored rows, ``1..n_causes`` for the exit type.
    weight : ndarray
        Case weights.
    n_causes : int
        Number of exit types.

    Returns
    -------
    RiskTable
    """
    time = np.unique(stop)
    J = len(time)
    last = np.searchsorted(time, stop)
    first = np.searchsorted(time, entry, side="right")
    enter = np.bincount(first, weights=weight, minlength=J + 1)[:J]
    leave = np.bincount(last, weights=weight, minlength=J)
    n_risk = np.cumsum(enter) - np.concatenate(([0.0], np.cumsum(leave)[:-1]))
    n_event = np.zeros((J, n_causes))
    for k in range(1, n_causes + 1):
        sel = cause == k
        n_event[:, k - 1] = np.bincount(last[sel], weights=weight[sel], minlength=J)
    cens = cause == 0
    n_censor = np.bincount(last[cens], weights=weight[cens], minlength=J)
    return RiskTable(time, n_risk, n_event, n_censor, enter, first, last)


def km_greenwood(tab: RiskTable) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival and the Greenwood standard error of ``-log S``.

    Returns
    -------
    surv, se_logsurv : ndarray
        ``se_logsurv`` is ``sqrt(sum d / (Y (Y - d)))`` (R ``survfit``'s ``std.err``);
        NaN once the survival reaches zero.
    """
    d = tab.n_event.sum(axis=1)
    y = tab.n_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(d > 0, 1.0 - d / np.where(y > 0, y, 1.0), 1.0)
        surv = np.cumprod(factor)
        term = np.where(d > 0, d / (y * (y - d)), 0.0)
    var = np.cumsum(term)
    se = np.sqrt(var)
    se[~np.isfinite(se)] = np.nan
    return surv, se


def nelson_aalen(tab: RiskTable) -> tuple[np.ndarray, np.ndarray]:
    """Nelson-Aalen cumulative hazard and its standard error (``sqrt(sum d / Y**2)``)."""
    d = tab.n_event.sum(axis=1)
    y = tab.n_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(d > 0, d / y, 0.0)
        v = np.where(d > 0, d / y**2, 0.0)
    return np.cumsum(h), np.sqrt(np.cumsum(v))


def _range_sum(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, J: int) -> np.ndarray:
    """Sum ``values[i]`` over rows with ``lo[i] <= j < hi[i]``, for every ``j < J``."""
    diff = np.bincount(lo, weights=values, minlength=J + 1)[: J + 1]
    diff = diff - np.bincount(hi, weights=values, minlength=J + 1)[: J + 1]
    return np.cumsum(diff)[:J]


def _finished_sum(values: np.ndarray, last: np.ndarray, J: int) -> np.ndarray:
    """Sum ``values[i]`` over rows with ``last[i] <= j``, for every ``j < J``."""
    return np.cumsum(np.bincount(last, weights=values, minlength=J))


def aalen_johansen(
    tab: RiskTable, cause: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aalen-Johansen state probabilities with infinitesimal-jackknife standard errors.

    The variance is ``sum_i (w_i U_i(t))**2`` where ``U_i`` is the derivative of
    the estimate with respect to the case weight of row ``i`` (R ``survfit``
    multi-state default).  It is computed in ``O(n + J)`` from range sums.

    Returns
    -------
    surv, se_surv : ndarray of shape (J,)
        Event-free probability and its standard error.
    cif, se_cif : ndarray of shape (J, K)
        Cumulative incidence per cause and standard errors.
    """
    J, K = tab.n_event.shape
    d = tab.n_event.sum(axis=1)
    y = tab.n_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(d > 0, d / y, 0.0)
        hk = np.where(d[:, None] > 0, tab.n_event / y[:, None], 0.0)
        c = np.where(y > d, 1.0 / (y - d), np.nan)
    surv = np.cumprod(1.0 - h)
    s_prev = np.concatenate(([1.0], surv[:-1]))
    # Where everyone at risk exits (S drops to 0) the weight derivatives of S vanish; c = 0 there
    # reproduces R's recursion (standard errors of S become 0, the incidences stay finite).
    c = np.where(np.isfinite(c), c, 0.0)
    B = np.cumsum(h * c)
    Bpad = np.concatenate(([0.0], B))
    a, s = tab.first, tab.last
    evt = cause > 0
    w2 = weight**2
    Bb = Bpad[a]  # B just before the row enters
    G = np.where(evt, c[s], 0.0) - (B[s] - Bb)
    # -- event-free probability: sum_i w_i^2 g_ij^2 ---------------------------------
    r1 = _range_sum(w2, a, s, J)
    r2 = _range_sum(w2 * Bb, a, s, J)
    r3 = _range_sum(w2 * Bb**2, a, s, J)
    sg = r1 * B**2 - 2 * B * r2 + r3 + _finished_sum(w2 * G**2, s, J)
    se_surv = surv * np.sqrt(np.clip(sg, 0, None))
    # -- cumulative incidences ------------------------------------------------------
    cif = np.cumsum(s_prev[:, None] * hk, axis=0)
    se_cif = np.empty((J, K))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_y = np.where(y > 0, 1.0 / y, 0.0)
    for k in range(K):
        inc = s_prev * hk[:, k]
        F = cif[:, k]
        P1 = np.cumsum(inc * np.concatenate(([0.0], B[:-1])))
        P2 = np.cumsum(inc * inv_y)
        A = P1 - P2
        pad = lambda v: np.concatenate(([0.0], v))  # noqa: E731 - value just before index 0
        q = -pad(P1)[a] + Bb * pad(F)[a] + pad(P2)[a]
        dk = (cause == k + 1).astype(float)
        m = A[s] - Bb * F[s] + q + dk * s_prev[s] * inv_y[s] + G * F[s]
        first_part = (
            _range_sum(w2, a, s, J) * A**2
            + F**2 * r3
            + _range_sum(w2 * q**2, a, s, J)
            - 2 * A * F * r2
            + 2 * A * _range_sum(w2 * q, a, s, J)
            - 2 * F * _range_sum(w2 * Bb * q, a, s, J)
        )
        second = (
            _finished_sum(w2 * m**2, s, J)
            - 2 * F * _finished_sum(w2 * m * G, s, J)
            + F**2 * _finished_sum(w2 * G**2, s, J)
        )
        se_cif[:, k] = np.sqrt(np.clip(first_part + second, 0, None))
    return surv, se_surv, cif, se_cif


def conf_band(
    est: np.ndarray, se_log: np.ndarray, conf_type: str, z: float, upper_bound: float | None = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise confidence limits as in R ``survfit`` (``survival:::survfit_confint``).

    Parameters
    ----------
    est : ndarray
        Estimates (survival or probability).
    se_log : ndarray
        Standard error of ``log(est)`` (``std.err`` in R).
    conf_type : {"log", "log-log", "plain"}
        Transformation.
    z : float
        Normal quantile.
    upper_bound : float or None
        Upper clip for ``"log"`` and ``"plain"`` (1 for probabilities, None for hazards).

    Returns
    -------
    lower, upper : ndarray
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # R: a zero standard error gives a degenerate interval on the log and plain scales, NA on log-log
        ok = (est > 0) & np.isfinite(se_log)
        if conf_type == "log":
            lo = np.exp(np.log(est) - z * se_log)
            hi = np.exp(np.log(est) + z * se_log)
        elif conf_type == "log-log":
            ok &= (est < 1) & (se_log > 0)
            xx = np.log(-np.log(est))
            s2 = se_log / np.log(est)
            lo = np.exp(-np.exp(xx - z * s2))
            hi = np.exp(-np.exp(xx + z * s2))
        else:  # plain
            ok = (est >= 0) & np.isfinite(se_log)
            lo = np.clip(est - z * se_log * est, 0, None)
            hi = est + z * se_log * est
    if upper_bound is not None:
        hi = np.minimum(hi, upper_bound)
    lo = np.where(ok, lo, np.nan)
    hi = np.where(ok, hi, np.nan)
    return lo, hi
