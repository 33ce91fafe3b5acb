"""Numerical engine of the Cox model on ``(start, stop]`` counting-process data.

Risk sets
---------
Event groups are the distinct ``(stratum, event time)`` pairs, sorted by stratum
then time.  A row with interval ``(s, t]`` in stratum ``g`` is at risk at event
time ``u`` of stratum ``g`` iff ``s < u <= t``; the groups it is at risk in are
therefore a contiguous range ``lo .. hi`` found once with ``searchsorted``.
Sums over risk sets at every event group then come from two ``np.bincount``
calls and reverse cumulative sums (a difference array), and sums over the
event groups a row is at risk in come from prefix sums of per-group terms.
Every likelihood evaluation costs ``O(n p^2)`` whatever the number of distinct
event times; there is no loop over persons or event times.

Ties
----
Efron's approximation (R ``survival`` conventions): with ``m`` tied deaths of
total weight ``W`` at a time, the ``l``-th of ``m`` pseudo-deaths
(``l = 0..m-1``) has weight ``W/m`` and risk-set denominator
``S0 - (l/m) D0`` where ``D0`` is the weighted risk of the tied deaths.
Breslow's method is the same with every ``l/m`` replaced by 0.  All pseudo-deaths
are processed as one vector of length ``n_events``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from evaltools.exceptions import EvaltoolsError

__all__ = ["RiskIndex", "build_index", "evaluate", "Evaluation", "range_cumsum", "group_sums"]


@dataclass(frozen=True)
class RiskIndex:
    """Precomputed risk-set structure (rows restricted to those ever at risk).

    Attributes
    ----------
    lo, hi : ndarray of int
        First and last event group each active row is at risk in (inclusive).
    n_groups : int
        Number of event groups (distinct stratum x event time).
    group_time, group_stratum : ndarray
        Event time and stratum code of each group.
    death_rows : ndarray of int
        Positions (in the active arrays) of rows with an event, sorted by group.
    death_group : ndarray of int
        Group of each death row.
    m : ndarray of int
        Number of deaths in each group.
    pgroup : ndarray of int
        Group of each pseudo-death (same length and order as ``death_rows``).
    rank : ndarray of float
        ``l / m`` of each pseudo-death (Efron fraction before applying the tie rule).
    """

    lo: np.ndarray
    hi: np.ndarray
    n_groups: int
    group_time: np.ndarray
    group_stratum: np.ndarray
    death_rows: np.ndarray
    death_group: np.ndarray
    m: np.ndarray
    pgroup: np.ndarray
    rank: np.ndarray
    diff: sparse.csr_matrix


def build_index(
    start: np.ndarray, stop: np.ndarray, event: np.ndarray, stratum: np.ndarray
) -> tuple[RiskIndex, np.ndarray]:
    """Build the risk-set index.

    Parameters
    ----------
    start, stop : ndarray of float
        Interval bounds (``start < stop``).
    event : ndarray of bool
        Event at ``stop``.
    stratum : ndarray of int
        Stratum codes ``0..S-1``.

    Returns
    -------
    index : RiskIndex
        Index over the active rows.
    active : ndarray of bool
        Rows that are at risk at one or more event times (the others do not enter
        the partial likelihood).
    """
    stratum = stratum.astype(np.int64)
    ev_times = np.unique(stop[event])
    n_t = len(ev_times) + 1
    dkey = stratum[event] * n_t + np.searchsorted(ev_times, stop[event])
    gkeys = np.unique(dkey)
    lo_key = stratum * n_t + np.searchsorted(ev_times, start, side="right")
    hi_key = stratum * n_t + np.searchsorted(ev_times, stop, side="right") - 1
    lo = np.searchsorted(gkeys, lo_key, side="left")
    hi = np.searchsorted(gkeys, hi_key, side="right") - 1
    active = lo <= hi
    lo, hi = lo[active], hi[active]
    ev_a = event[active]
    death_pos = np.flatnonzero(ev_a)
    dgroup = hi[death_pos]  # a death row is at risk at its own stop time, its last group
    order = np.argsort(dgroup, kind="stable")
    death_pos, dgroup = death_pos[order], dgroup[order]
    m = np.bincount(dgroup, minlength=len(gkeys))
    first = np.concatenate([[0], np.cumsum(m)[:-1]])
    rank = (np.arange(len(dgroup)) - first[dgroup]) / m[dgroup]
    # difference-array operator: +1 at row hi_i, -1 at row lo_i - 1 (row K collects lo_i = 0)
    K = len(gkeys)
    n_a = len(lo)
    rows = np.concatenate([hi, np.where(lo > 0, lo - 1, K)])
    cols = np.concatenate([np.arange(n_a), np.arange(n_a)])
    vals = np.concatenate([np.ones(n_a), -np.ones(n_a)])
    diff = sparse.csr_matrix((vals, (rows, cols)), shape=(K + 1, n_a))
    index = RiskIndex(
        lo=lo,
        hi=hi,
        n_groups=len(gkeys),
        group_time=ev_times[gkeys % n_t],
        group_stratum=gkeys // n_t,
        death_rows=death_pos,
        death_group=dgroup,
        m=m,
        pgroup=dgroup,
        rank=rank,
        diff=diff,
    )
    return index, active


def group_sums(v: np.ndarray, index: RiskIndex) -> np.ndarray:
    """Sum ``v`` (n, or n x q) over the risk set of every event group.

    Uses reverse cumulative sums of a difference array built by one sparse
    product with the +-1 indicator ``index.diff``:
    ``S(k) = sum_{hi_i >= k} v_i - sum_{lo_i > k} v_i``.
    """
    d = index.diff @ v.reshape(len(v), -1)
    out = d[:-1][::-1].cumsum(axis=0)[::-1]
    return out if v.ndim == 2 else out[:, 0]


def range_cumsum(c: np.ndarray, index: RiskIndex) -> np.ndarray:
    """For each active row, sum the per-group values ``c`` (K, or K x q) over its groups ``lo..hi``."""
    cum = np.concatenate([np.zeros((1,) + c.shape[1:]), np.cumsum(c, axis=0)])
    return cum[index.hi + 1] - cum[index.lo]


@dataclass
class Evaluation:
    """Partial likelihood and its derivatives at one coefficient vector."""

    loglik: float
    score: np.ndarray
    info: np.ndarray | None
    eta: np.ndarray
    shift: float
    r: np.ndarray
    S0: np.ndarray
    D0: np.ndarray
    frac: np.ndarray
    den: np.ndarray
    mw: np.ndarray
    xbar: np.ndarray
    a: np.ndarray
    af: np.ndarray

    @property
    def information(self) -> np.ndarray:
        """The information matrix; an error if the evaluation was made with ``need_info=False``."""
        if self.info is None:
            raise EvaltoolsError("internal error: the Cox information matrix was not computed "
                                 "(evaluate was called with need_info=False).")
        return self.info


def evaluate(
    beta: np.ndarray, X: np.ndarray, w: np.ndarray, index: RiskIndex, efron: bool, need_info: bool = True
) -> Evaluation:
    """Evaluate the log partial likelihood, score and information at ``beta``.

    Parameters
    ----------
    beta : ndarray (p,)
        Coefficients.
    X : ndarray (n, p)
        Covariates of the active rows (centred for numerical stability).
    w : ndarray (n,)
        Case weights.
    index : RiskIndex
        Risk-set index.
    efron : bool
        Efron (True) or Breslow (False) ties.
    need_info : bool, default=True
        Compute the information matrix.

    Returns
    -------
    Evaluation
    """
    eta = X @ beta
    shift = float(eta.max()) if len(eta) else 0.0
    r = np.exp(eta - shift)
    wr = w * r
    K = index.n_groups
    dr = index.death_rows
    V = np.empty((len(wr), X.shape[1] + 1))
    V[:, 0] = wr
    np.multiply(X, wr[:, None], out=V[:, 1:])
    S = group_sums(V, index)
    S0, S1 = S[:, 0], S[:, 1:]
    del V
    D0 = np.bincount(index.death_group, wr[dr], minlength=K)
    wd = w[dr]
    D1 = (
        np.stack(
            [np.bincount(index.death_group, wd * r[dr] * X[dr, j], minlength=K) for j in range(X.shape[1])],
            axis=1,
        )
        if X.shape[1]
        else np.zeros((K, 0))
    )
    W = np.bincount(index.death_group, wd, minlength=K)
    pg = index.pgroup
    frac = index.rank if efron else np.zeros_like(index.rank)
    den = S0[pg] - frac * D0[pg]
    mw = (W / index.m)[pg]
    xbar = (S1[pg] - frac[:, None] * D1[pg]) / den[:, None]
    loglik = float(wd @ (eta[dr] - shift) - mw @ np.log(den))
    score = wd @ X[dr] - mw @ xbar
    a = np.bincount(pg, mw / den, minlength=K)
    af = np.bincount(pg, mw * frac / den, minlength=K)
    info = None
    if need_info:
        A = range_cumsum(a, index)
        info = (X * (wr * A)[:, None]).T @ X
        info -= (X[dr] * (wd * r[dr] * af[index.death_group])[:, None]).T @ X[dr]
        info -= (xbar * mw[:, None]).T @ xbar
    return Evaluation(
        loglik=loglik,
        score=score,
        info=info,
        eta=eta,
        shift=shift,
        r=r,
        S0=S0,
        D0=D0,
        frac=frac,
        den=den,
        mw=mw,
        xbar=xbar,
        a=a,
        af=af,
    )


def score_residuals(X: np.ndarray, index: RiskIndex, ev: Evaluation) -> np.ndarray:
    """Unweighted score (Lin-Wei) residuals of the active rows, as in R ``residuals(fit, "score")``.

    For row ``i``: ``delta_i (x_i - mean_l xbar_kl) - r_i sum_{k, l} h_kl (1 - f_l delta_ik) (x_i - xbar_kl)``
    with ``h_kl = (W_k/m_k) / den_kl``.
    """
    K, p = index.n_groups, X.shape[1]
    pg, dr, dg = index.pgroup, index.death_rows, index.death_group
    h = ev.mw / ev.den
    xh = np.stack([np.bincount(pg, h * ev.xbar[:, j], minlength=K) for j in range(p)], axis=1)
    xhf = np.stack([np.bincount(pg, h * ev.frac * ev.xbar[:, j], minlength=K) for j in range(p)], axis=1)
    # bincount with weights is float64 (the stubs type it as an integer array)
    xbar_mean: np.ndarray = np.stack([np.bincount(pg, ev.xbar[:, j], minlength=K) for j in range(p)], axis=1)
    xbar_mean /= index.m[:, None]
    H = range_cumsum(ev.a, index)
    XH = range_cumsum(xh, index)
    res = -ev.r[:, None] * (X * H[:, None] - XH)
    res[dr] += X[dr] - xbar_mean[dg]
    res[dr] += ev.r[dr, None] * (X[dr] * ev.af[dg, None] - xhf[dg])
    return res


def schoenfeld(X: np.ndarray, index: RiskIndex, ev: Evaluation) -> np.ndarray:
    """Schoenfeld residuals of the death rows (in ``index.death_rows`` order), R conventions."""
    K, p = index.n_groups, X.shape[1]
    # bincount with weights is float64 (the stubs type it as an integer array)
    xbar_mean: np.ndarray = np.stack(
        [np.bincount(index.pgroup, ev.xbar[:, j], minlength=K) for j in range(p)], axis=1)
    xbar_mean /= index.m[:, None]
    return X[index.death_rows] - xbar_mean[index.death_group]


def zph_score(
    X: np.ndarray, w: np.ndarray, index: RiskIndex, ev: Evaluation, g: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Score and information of the model extended by ``x * g(t)`` at ``gamma = 0``.

    Parameters
    ----------
    g : ndarray (K,)
        Centred transformed time of every event group.

    Returns
    -------
    u : ndarray (p,)
        Score for the ``x * g(t)`` terms.
    imat : ndarray (2p, 2p)
        Information of the extended model.
    """
    p = X.shape[1]
    dr, dg, pg = index.death_rows, index.death_group, index.pgroup
    wr = w * ev.r
    blocks = []
    for power in range(3):
        gp = g**power
        A = range_cumsum(ev.a * gp, index)
        m = (X * (wr * A)[:, None]).T @ X
        m -= (X[dr] * (wr[dr] * (ev.af * gp)[dg])[:, None]).T @ X[dr]
        m -= (ev.xbar * (ev.mw * gp[pg])[:, None]).T @ ev.xbar
        blocks.append(m)
    imat = np.block([[blocks[0], blocks[1]], [blocks[1], blocks[2]]])
    u = (w[dr] * g[dg]) @ X[dr] - (ev.mw * g[pg]) @ ev.xbar
    return u, imat.reshape(2 * p, 2 * p)
