"""Aalen-Johansen state-occupation probabilities with infinitesimal-jackknife standard errors.

Estimator (R ``survfit`` for multi-state data)
----------------------------------------------
At the distinct transition times ``t_1 < ... < t_K`` the transition matrix is
``T_k = I + dA_k`` with ``dA_k[j, l] = N_jl(t_k) / Y_j(t_k)`` (weighted
transitions over the weighted number at risk in state ``j``) and rows summing
to one; ``p(t_k) = p(t_{k-1}) T_k`` from the initial distribution ``p0``.

Standard errors
---------------
The infinitesimal jackknife (R's default): the derivative of ``p(t)`` with
respect to the weight of person ``i`` follows ``U_i(k) = U_i(k-1) T_k + c_i(k)``
with ``c_i(k) = p_j(t_{k-1}) / Y_j(t_k) (e_d - T_k[j, :])`` for a person at risk
in state ``j`` who moves to ``d`` (``d = j`` if not moving), and
``Var p_l(t) = sum_i w_i^2 U_il(t)^2``.  Iterating this over persons and
times costs ``O(n K S^2)``.  Here ``U_i(k) = a_i(k) P_k`` with
``P_k = T_{k0+1} ... T_k`` and ``a_i(k) = U_i(k0) + sum_{l <= k} c_i(l) P_l^{-1}``:
within a person's row (state fixed) ``a_i`` moves with a per-state cumulative
sum, so ``sum_i w_i^2 a_i a_i'`` at every time comes from range sums over rows
(difference arrays) and the cost is ``O(n S^2 + K S^3)``.  To keep rounding
errors small the products are restarted (``U`` materialised for everybody)
whenever the condition number of ``P`` would exceed ``COND_MAX``, and a
singular ``T_k`` (a state emptied at ``t_k``) is stepped through explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MSFit", "initial_distribution", "aalen_johansen_ms", "COND_MAX"]

#: Largest condition number of a segment's product of transition matrices (rounding ~ eps * COND_MAX**2).
COND_MAX = 1e2


@dataclass(frozen=True)
class MSFit:
    """Estimates at the transition times of one group."""

    time: np.ndarray  # (K,) transition times
    pstate: np.ndarray  # (K, S)
    var: np.ndarray  # (K, S) variance of pstate
    n_risk: np.ndarray  # (K, S) unweighted rows at risk per state
    n_trans: np.ndarray  # (K, S, S) unweighted transitions from -> to
    var0: float | np.ndarray  # variance of p0 from the initial influence


def initial_distribution(
    start: np.ndarray,
    stop: np.ndarray,
    frm: np.ndarray,
    status_any: np.ndarray,
    w: np.ndarray,
    pid: np.ndarray,
    n_persons: int,
    S: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Initial state distribution ``p0`` and its influence ``i0`` (R ``survfit``'s ``docurve2``).

    ``p0`` is the weighted distribution of the current state among the rows at
    risk at the first transition time ``t0`` (``start < t0 <= stop``); the
    influence is ``(1{state = j} - p0_j) / sum w`` for those persons, and zero
    when everyone starts in the same state.
    """
    t0 = stop[status_any].min() if status_any.any() else stop.max()
    at0 = (start < t0) & (stop >= t0)
    wsum = w[at0].sum()
    p0 = np.bincount(frm[at0], w[at0], minlength=S) / wsum
    i0 = np.zeros((n_persons, S))
    if (p0 < 1).all():
        who = pid[at0]
        i0[who] = (np.eye(S)[frm[at0]] - p0) / wsum
    return p0, i0


def _range_add(lo: np.ndarray, hi: np.ndarray, vals: np.ndarray, size: int) -> np.ndarray:
    """Add row ``i`` of ``vals`` (n, q) to bins ``lo[i] .. hi[i]`` (difference array); returns (size, q)."""
    q = int(np.prod(vals.shape[1:])) if vals.ndim > 1 else 1
    vals = vals.reshape(len(lo), q)
    d = np.empty((size + 1, q))
    for c in range(q):
        d[:, c] = np.bincount(lo, vals[:, c], minlength=size + 1) - np.bincount(
            hi + 1, vals[:, c], minlength=size + 1
        )
    return np.cumsum(d[:size], axis=0)


def aalen_johansen_ms(
    start: np.ndarray,
    stop: np.ndarray,
    pid: np.ndarray,
    frm: np.ndarray,
    to: np.ndarray,
    w: np.ndarray,
    S: int,
    p0: np.ndarray,
    i0: np.ndarray,
    *,
    se: bool = True,
) -> MSFit:
    """Aalen-Johansen estimate and infinitesimal-jackknife variance for one group.

    Parameters
    ----------
    start, stop : ndarray
        Row intervals, sorted by person then start; rows of a person are contiguous.
    pid : ndarray of int
        Person index ``0..n_persons-1`` of each row.
    frm : ndarray of int
        State occupied during the row.
    to : ndarray of int
        State entered at ``stop`` (``-1``: none; a move to ``frm`` counts as none).
    w : ndarray
        Person weights (constant within a person), per row.
    S : int
        Number of states.
    p0, i0 : ndarray
        Initial distribution and influence (see :func:`initial_distribution`).
    se : bool, default=True
        Compute the variance.

    Returns
    -------
    MSFit
    """
    n_p = i0.shape[0]
    moves = (to >= 0) & (to != frm)
    tau = np.unique(stop[moves])
    K = len(tau)
    lo = np.searchsorted(tau, start, side="right")
    hi = np.searchsorted(tau, stop, side="right") - 1
    act = lo <= hi
    # weighted and unweighted numbers at risk per (time, state) from difference arrays
    key_lo = frm[act] * (K + 1) + lo[act]
    key_hi = frm[act] * (K + 1) + hi[act] + 1
    size = S * (K + 1)
    dy = np.bincount(key_lo, w[act], minlength=size) - np.bincount(key_hi, w[act], minlength=size)
    dn = np.bincount(key_lo, minlength=size) - np.bincount(key_hi, minlength=size)
    Y = np.cumsum(dy.reshape(S, K + 1), axis=1)[:, :K].T
    NR = np.cumsum(dn.reshape(S, K + 1), axis=1)[:, :K].T.astype(np.int64)
    mk = hi[moves]
    tkey = (mk * S + frm[moves]) * S + to[moves]
    N = np.bincount(tkey, w[moves], minlength=K * S * S).reshape(K, S, S)
    NT = np.bincount(tkey, minlength=K * S * S).reshape(K, S, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        dA = np.where(Y[:, :, None] > 0, N / Y[:, :, None], 0.0)
    idx = np.arange(S)
    dA[:, idx, idx] = -dA.sum(axis=2)
    T = dA + np.eye(S)
    p = np.empty((K, S))
    prev = np.empty((K, S))
    cur = p0.astype(float).copy()
    for k in range(K):
        prev[k] = cur
        cur = cur @ T[k]
        p[k] = cur
    if not se:
        return MSFit(tau, p, np.full((K, S), np.nan), NR, NT, np.nan)
    w_p = np.zeros(n_p)
    w_p[pid] = w
    w2 = w_p**2
    var0 = (w2[:, None] * i0**2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(Y > 0, prev / Y, 0.0)  # p_j(t_{k-1}) / Y_j(t_k)
    var = np.empty((K, S))
    U = i0.copy()
    rows_act = np.flatnonzero(act)
    k = 0
    while k < K:
        Ps, Qs = [], []
        P, Q = np.eye(S), np.eye(S)
        k1 = k
        while k1 < K:
            c = np.linalg.cond(T[k1])
            if not np.isfinite(c) or c > COND_MAX:
                break
            Pn, Qn = P @ T[k1], np.linalg.solve(T[k1], Q)
            if np.abs(Pn).sum(axis=0).max() * np.abs(Qn).sum(axis=0).max() > COND_MAX:
                break
            P, Q = Pn, Qn
            Ps.append(P)
            Qs.append(Q)
            k1 += 1
        if k1 == k:  # ill-conditioned or singular step: update every person explicitly
            U = U @ T[k]
            r = rows_act[(lo[rows_act] <= k) & (hi[rows_act] >= k)]
            j = frm[r]
            d = np.where(moves[r] & (hi[r] == k), to[r], j)
            np.add.at(U, pid[r], scale[k, j][:, None] * (np.eye(S)[d] - T[k][j]))
            var[k] = (w2[:, None] * U**2).sum(axis=0)
            k += 1
            continue
        U = _segment(
            k,
            k1 - 1,
            np.array(Ps),
            np.array(Qs),
            U,
            var,
            lo,
            hi,
            frm,
            to,
            moves,
            pid,
            w2,
            dA,
            scale,
            rows_act,
            S,
        )
        k = k1
    return MSFit(tau, p, var, NR, NT, var0)


def _segment(
    ka: int,
    kb: int,
    P: np.ndarray,
    Q: np.ndarray,
    U: np.ndarray,
    var: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    frm: np.ndarray,
    to: np.ndarray,
    moves: np.ndarray,
    pid: np.ndarray,
    w2: np.ndarray,
    dA: np.ndarray,
    scale: np.ndarray,
    rows_act: np.ndarray,
    S: int,
) -> np.ndarray:
    """Variances at transition times ``ka..kb`` (one segment); returns ``U`` at ``kb``."""
    L = kb - ka + 1
    eye = np.eye(S)
    # g[m, j, :] = scale_j (-dA[j, :]) Q_m ; G = cumulative sum with a zero row in front
    g = np.einsum("mj,mjl,mlc->mjc", scale[ka : kb + 1], -dA[ka : kb + 1], Q)
    G = np.concatenate([np.zeros((1, S, S)), np.cumsum(g, axis=0)])  # G[i] = sum over the first i steps
    r = rows_act[(lo[rows_act] <= kb) & (hi[rows_act] >= ka)]
    j = frm[r]
    a = np.maximum(lo[r], ka) - ka  # local window [a, b] (inclusive)
    ends = hi[r] <= kb
    b = np.minimum(hi[r], kb) - ka
    mu = np.zeros((len(r), S))
    mv = np.flatnonzero(moves[r] & ends)
    if len(mv):
        m = b[mv]
        jj = j[mv]
        mu[mv] = scale[ka + m, jj][:, None] * np.einsum("rl,rlc->rc", eye[to[r[mv]]] - eye[jj], Q[m])
    contrib = G[b + 1, j] - G[a, j] + mu
    # exclusive cumulative sum of contributions within person (rows are sorted by person, start)
    pr = pid[r]
    cs = np.cumsum(contrib, axis=0)
    first = np.r_[True, pr[1:] != pr[:-1]]
    start_idx = np.maximum.accumulate(np.where(first, np.arange(len(r)), 0))
    excl = cs - contrib - (cs[start_idx] - contrib[start_idx])
    bvec = U[pr] + excl - G[a, j]
    wr = w2[pr]
    # at-risk windows [a, (b - 1 if the row ends in the segment else b)], value b_r + G_j(k);
    # bins are (state, time)
    a_end = np.where(ends, b - 1, b)
    ok = a <= a_end
    lo_k, hi_k = j[ok] * L + a[ok], j[ok] * L + a_end[ok]
    bb, wo = bvec[ok], wr[ok]
    SW = _range_add(lo_k, hi_k, wo, S * L).reshape(S, L)
    SB = _range_add(lo_k, hi_k, wo[:, None] * bb, S * L).reshape(S, L, S)
    SA = _range_add(lo_k, hi_k, wo[:, None, None] * bb[:, :, None] * bb[:, None, :], S * L).reshape(
        S, L, S, S
    )
    # constant windows: after a row ends (value v_r) until the person's next row starts; before the first row
    nxt_same = np.r_[pr[1:] == pr[:-1], False]
    nxt_a = np.r_[a[1:], 0]
    c_end = np.where(nxt_same, nxt_a - 1, L - 1)
    v = bvec + G[b + 1, j] + mu
    cc = ends & (b <= c_end)
    c_lo, c_hi, c_val, c_w = [b[cc]], [c_end[cc]], [v[cc]], [wr[cc]]
    # persons: before their first active row in the segment (or the whole segment without one)
    has = np.zeros(len(U), bool)
    has[pr] = True
    first_a = np.full(len(U), L)
    first_a[pr[first]] = a[first]
    pre = np.flatnonzero((np.abs(U).sum(axis=1) > 0) & (first_a > 0))
    c_lo.append(np.zeros(len(pre), dtype=np.int64))
    c_hi.append(first_a[pre] - 1)
    c_val.append(U[pre])
    c_w.append(w2[pre])
    c_lo_a, c_hi_a = np.concatenate(c_lo), np.concatenate(c_hi)
    c_val_a, c_w_a = np.concatenate(c_val), np.concatenate(c_w)
    couter = c_w_a[:, None, None] * c_val_a[:, :, None] * c_val_a[:, None, :]
    SC = _range_add(c_lo_a, c_hi_a, couter, L).reshape(L, S, S)
    Gk = G[1:]  # (L, S, S): G_j at each local time
    M = SC.copy()
    M += np.einsum("jmab->mab", SA)
    M += np.einsum("jma,mjb->mab", SB, Gk)
    M += np.einsum("mja,jmb->mab", Gk, SB)
    M += np.einsum("jm,mja,mjb->mab", SW, Gk, Gk)
    var[ka : kb + 1] = np.einsum("mab,mac,mcb->mb", P, M, P)
    # U at the end of the segment
    tot = np.zeros_like(U)
    np.add.at(tot, pr, contrib)
    return (U + tot) @ P[-1]
