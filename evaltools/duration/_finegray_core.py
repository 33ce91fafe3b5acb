"""Numerical engine of the Fine-Gray model: censoring weights, data expansion, variance terms.

Expansion (R ``survival::finegray``)
------------------------------------
Within a stratum, let ``G`` be the product-limit estimate of the censoring
distribution and (with delayed entry) ``H`` the reverse-time product-limit
estimate of the entry distribution, ``H(t) = prod_{e > t} (1 - d_e / n_e)``
over the distinct entry times ``e`` (``n_e`` rows with ``start <= e < stop``).
The breakpoints ``b_1 < ... < b_m`` are the censoring times (and, with delayed
entry, the entry times); interval ``k`` is ``(b_k, b_{k+1}]`` (the last one
ends at the stratum's largest time) and carries the probability
``p_k = G(b_k) H(b_k)`` (``p_0 = 1`` before ``b_1``).  A person whose last row
ends in a competing exit at ``T`` keeps that row, extended to the end of the
interval containing ``T``, and gets one extra row for every later interval that
contains an exit of the modelled type, with weight ``p_k / p_j`` (``j`` the
interval of ``T``).  The weights are the familiar ``G(t-) / G(T-)`` (times
``H(t-) / H(T-)`` with delayed entry).

Ties (``convention``)
---------------------
``"survival"`` (R ``finegray``): at a time where exits and censorings coincide
the exits come first, so exiting rows are not in the censoring risk set.
``"cmprsk"`` (R ``cmprsk::crr``): the ordinary reverse Kaplan-Meier, where rows
exiting at a censoring time are in its risk set.

Variance of Fine and Gray (1999)
--------------------------------
The term for the estimated censoring distribution, per person ``i`` (stratum
``g``): ``psi_i = sum_u q(u) / Y(u) dM_i(u)`` with ``dM_i(u) = dN_i(u) -
Y_i(u) dN(u) / Y(u)`` the censoring martingale increment (``Y`` the censoring
risk set) and ``q(u) = sum_{l: s_l > u} (w_l / D_l) G(s_l-) [C_1(u) - xbar_l
C_0(u)]``, the sum running over the (Efron pseudo-) exits ``l`` of the
modelled type after ``u`` with weight ``w_l``, risk-set denominator ``D_l`` and
mean ``xbar_l``; ``C_1(u) = sum_j r_j x_j / G(T_j-)`` and ``C_0`` (without
``x_j``) run over the competing exits ``j`` with ``T_j <= u``.  (``"cmprsk"``
uses ``s_l >= u`` and ``T_j < u``, the same as shifting censorings just
before tied exits; this is ``cmprsk::crr``'s formula.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from evaltools.duration import _cox_core as cox

__all__ = ["WeightCurve", "weight_curve", "expand", "censoring_term", "cif_variance_terms"]


@dataclass(frozen=True)
class WeightCurve:
    """Censoring (and entry) probability curve of one stratum.

    Attributes
    ----------
    ct : ndarray
        Interval ends ``b_1, ..., b_m, t_max`` (interval ``k`` is ``(ct[k-1], ct[k]]``).
    cp : ndarray
        Probability of each interval (``cp[0] = 1``), same length as ``ct``.
    cens_time, cens_d, cens_y : ndarray
        Distinct censoring times, censorings and censoring risk set at each.
    entry_zero : float
        Latest entry time at which everybody under observation had just
        entered (the entry distribution estimate is zero before it); NaN if none.
    """

    ct: np.ndarray
    cp: np.ndarray
    cens_time: np.ndarray
    cens_d: np.ndarray
    cens_y: np.ndarray
    entry_zero: float = np.nan

    def prob_before(self, t: np.ndarray) -> np.ndarray:
        """``G(t-) H(t-)``: probability of the interval containing ``t``."""
        return self.cp[np.minimum(np.searchsorted(self.ct, t, side="left"), len(self.ct) - 1)]


def _count_le(sorted_v: np.ndarray, t: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
    return np.searchsorted(sorted_v, t, side=side)


def weight_curve(
    start: np.ndarray,
    stop: np.ndarray,
    exited: np.ndarray,
    censored_last: np.ndarray,
    first: np.ndarray,
    *,
    convention: str,
    delay: bool,
) -> WeightCurve:
    """Censoring (and entry) probability curve of one stratum (unweighted, as R).

    Parameters
    ----------
    start, stop : ndarray
        Row intervals of the stratum.
    exited : ndarray of bool
        Row ends in an exit of any type.
    censored_last : ndarray of bool
        Row is the person's last row and ends censored.
    first : ndarray of bool
        Row is the person's first row.
    convention : {"survival", "cmprsk"}
        Tie rule (module docstring).
    delay : bool
        Include the entry distribution (delayed entry).

    Returns
    -------
    WeightCurve
    """
    s_sorted = np.sort(start)
    t_sorted = np.sort(stop)
    u, d = np.unique(stop[censored_last], return_counts=True)
    y = _count_le(s_sorted, u, "left") - _count_le(t_sorted, u, "left")
    if convention == "survival":
        ex_stop = np.sort(stop[exited])
        y = y - (_count_le(ex_stop, u, "right") - _count_le(ex_stop, u, "left"))
    g = np.cumprod(1.0 - d / y) if len(u) else np.zeros(0)
    if delay:
        e, de = np.unique(start[first], return_counts=True)
        ne = _count_le(s_sorted, e, "right") - _count_le(t_sorted, e, "right")
        # H(t) = prod_{e' > t} (1 - d_e'/n_e'): suffix products indexed by the number of entries <= t
        f = 1.0 - de / ne
        entry_zero = float(e[f == 0].max()) if (f[1:] == 0).any() else np.nan
        suffix = np.concatenate([np.cumprod(f[::-1])[::-1], [1.0]])
        b = np.union1d(u, e)
        g_pad = np.concatenate([[1.0], g])
        prob = suffix[np.searchsorted(e, b, side="right")] * g_pad[np.searchsorted(u, b, side="right")]
    else:
        b, prob, entry_zero = u, g, np.nan
    ct = np.concatenate([b, [stop.max()]])
    cp = np.concatenate([[1.0], prob])
    return WeightCurve(
        ct=ct, cp=cp, cens_time=u, cens_d=d.astype(float), cens_y=y.astype(float), entry_zero=entry_zero
    )


def expand(
    curve: WeightCurve,
    start: np.ndarray,
    stop: np.ndarray,
    competing_last: np.ndarray,
    cause_times: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expansion of one stratum's rows (positions local to the stratum).

    Parameters
    ----------
    curve : WeightCurve
    start, stop : ndarray
        Row intervals.
    competing_last : ndarray of bool
        Rows that are a person's last row ending in a competing exit.
    cause_times : ndarray
        Times of exits of the modelled type in the stratum.

    Returns
    -------
    row : ndarray of int
        Source row of each output row (original rows first, in order, then the extra rows).
    new_start, new_stop, factor : ndarray
        Output intervals and weight factors (1 for original rows).
    """
    ct, cp = curve.ct, curve.cp
    n = len(stop)
    new_stop = stop.astype(float).copy()
    comp = np.flatnonzero(competing_last)
    j = np.searchsorted(ct, stop[comp], side="left")
    new_stop[comp] = ct[j]
    # intervals holding an exit of the modelled type: k with ct[k-1] < t <= ct[k], k >= 1
    k_evt = np.searchsorted(ct, cause_times, side="left")
    kept = np.unique(k_evt[k_evt >= 1])
    pos = np.searchsorted(kept, j, side="right")
    n_add = len(kept) - pos
    rows_add = np.repeat(comp, n_add)
    first_add = np.repeat(np.cumsum(n_add) - n_add, n_add)
    kk = kept[np.repeat(pos, n_add) + (np.arange(len(rows_add)) - first_add)]
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.repeat(cp[j], n_add)
    row = np.concatenate([np.arange(n), rows_add])
    new_start = np.concatenate([start, ct[kk - 1]])
    new_stop = np.concatenate([new_stop, ct[kk]])
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.concatenate([np.ones(n), cp[kk] / base])
    return row, new_start, new_stop, factor


def censoring_term(
    *,
    curves: list[WeightCurve],
    convention: str,
    person_stratum: np.ndarray,
    person_exit: np.ndarray,
    person_censored: np.ndarray,
    comp_person: np.ndarray,
    comp_r: np.ndarray,
    comp_x: np.ndarray,
    index: cox.RiskIndex,
    ev: cox.Evaluation,
) -> np.ndarray:
    """Fine-Gray censoring term ``psi`` (persons x p) on the Cox model's centred scale.

    Parameters
    ----------
    curves : list of WeightCurve
        One per stratum.
    convention : {"survival", "cmprsk"}
    person_stratum, person_exit, person_censored : ndarray
        Stratum, last time and censoring indicator of each person (no delayed entry).
    comp_person : ndarray of int
        Persons with a competing exit.
    comp_r, comp_x : ndarray
        Their relative risk and (centred) covariates at the exit, as in the fit.
    index, ev : RiskIndex, Evaluation
        The converged Cox fit on the expanded data.

    Returns
    -------
    ndarray (n_persons, p)
    """
    p = comp_x.shape[1]
    n_persons = len(person_exit)
    psi = np.zeros((n_persons, p))
    pg = index.pgroup
    s_time = index.group_time[pg]
    s_strat = index.group_stratum[pg]
    base = ev.mw / ev.den
    for g, curve in enumerate(curves):
        u = curve.cens_time
        if len(u) == 0:
            continue
        sel = s_strat == g
        sl, bl, xl = s_time[sel], base[sel], ev.xbar[sel]
        gl = curve.prob_before(sl) * bl
        o = np.argsort(sl, kind="stable")
        sl, gl, xl = sl[o], gl[o], xl[o]
        suf_a = np.concatenate([np.cumsum(gl[::-1])[::-1], [0.0]])
        suf_b = np.concatenate([np.cumsum((gl[:, None] * xl)[::-1], axis=0)[::-1], np.zeros((1, p))])
        side: Literal["left", "right"] = "right" if convention == "survival" else "left"
        lo = np.searchsorted(sl, u, side=side)
        A, B = suf_a[lo], suf_b[lo]
        csel = person_stratum[comp_person] == g
        tj = person_exit[comp_person[csel]]
        wj = comp_r[csel] / curve.prob_before(tj)
        oj = np.argsort(tj, kind="stable")
        tj, wj, xj = tj[oj], wj[oj], comp_x[csel][oj]
        c0 = np.concatenate([[0.0], np.cumsum(wj)])
        c1 = np.concatenate([np.zeros((1, p)), np.cumsum(wj[:, None] * xj, axis=0)])
        side_c: Literal["left", "right"] = "right" if convention == "survival" else "left"
        nc = np.searchsorted(tj, u, side=side_c)
        q = c1[nc] * A[:, None] - c0[nc][:, None] * B
        y, d = curve.cens_y, curve.cens_d
        comp_inc = np.concatenate([np.zeros((1, p)), np.cumsum(q * (d / y**2)[:, None], axis=0)])
        who = np.flatnonzero(person_stratum == g)
        te = person_exit[who]
        cen = person_censored[who]
        # persons at risk for censoring at u: exit > u, or exit == u and (censored or convention cmprsk)
        if convention == "survival":
            n_at = np.where(cen, np.searchsorted(u, te, side="right"), np.searchsorted(u, te, side="left"))
        else:
            n_at = np.searchsorted(u, te, side="right")
        term = -comp_inc[n_at]
        ci = np.flatnonzero(cen)
        ku = np.searchsorted(u, te[ci])
        term[ci] += q[ku] / y[ku][:, None]
        psi[who] = term
    return psi


def cif_variance_terms(index: cox.RiskIndex, ev: cox.Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """Per-group increments for the variance of a predicted cumulative hazard (R ``survfit.coxph``).

    Returns
    -------
    var_inc : ndarray (K,)
        ``sum_l w_l / D_l**2`` (Efron: over the pseudo-exits of the group), the
        variance increment of the baseline hazard on the fit's centred scale.
    xbar_inc : ndarray (K, p)
        ``sum_l w_l xbar_l / D_l``, the increment of ``int xbar dLambda``.
    """
    K = index.n_groups
    pg = index.pgroup
    var_inc = np.bincount(pg, ev.mw / ev.den**2, minlength=K)
    h = ev.mw / ev.den
    xbar_inc = np.stack(
        [np.bincount(pg, h * ev.xbar[:, j], minlength=K) for j in range(ev.xbar.shape[1])], axis=1
    )
    return var_inc, xbar_inc
