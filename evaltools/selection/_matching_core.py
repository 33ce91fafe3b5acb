"""Vectorised neighbour search used by :mod:`evaltools.selection.matching`.

All functions work on *transformed* coordinates ``Z`` in which the matching
metric is the squared Euclidean distance (covariates are standardised and, for
Mahalanobis matching, multiplied by the Cholesky factor of the weight matrix,
as R ``Matching`` does).  Matches are returned as flat, query-sorted arrays
``(query, pool, weight)`` -- a compressed sparse layout that avoids per-unit
Python loops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "knn_range_1d",
    "knn_with_ties",
    "knn_other_groups",
    "within_radius",
    "greedy_without_replacement",
    "pair_weights",
]

_CHUNK_ELEMENTS = 4_000_000


def _chunks(n_query: int, n_pool: int) -> list[slice]:
    step = max(1, _CHUNK_ELEMENTS // max(n_pool, 1))
    return [slice(s, min(s + step, n_query)) for s in range(0, n_query, step)]


def _sqdist(zq: np.ndarray, zp: np.ndarray, pool_sq: np.ndarray) -> np.ndarray:
    d = (zq * zq).sum(axis=1)[:, None] + pool_sq[None, :] - 2.0 * (zq @ zp.T)
    np.maximum(d, 0.0, out=d)
    return d


def _expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``repeat(arange(n), hi-lo)`` and positions ``lo[i]..hi[i]-1`` (flat)."""
    counts = hi - lo
    rows = np.repeat(np.arange(lo.size), counts)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    pos = starts + np.arange(counts.sum())
    return rows, pos


def _knn_1d(zq: np.ndarray, zp: np.ndarray, m: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(zp, kind="stable")
    sp = zp[order]
    n = sp.size
    pos = np.searchsorted(sp, zq)
    # the m nearest lie in the window [pos - m, pos + m)
    offs = np.arange(-m, m)
    win = pos[:, None] + offs[None, :]
    valid = (win >= 0) & (win < n)
    d = np.where(valid, (sp[np.clip(win, 0, n - 1)] - zq[:, None]) ** 2, np.inf)
    dm = np.partition(d, m - 1, axis=1)[:, m - 1]
    lim = dm + tol
    r = np.sqrt(lim) * (1 + 1e-12) + 1e-300
    lo = np.searchsorted(sp, zq - r, side="left")
    hi = np.searchsorted(sp, zq + r, side="right")
    rows, p = _expand_ranges(lo, hi)
    keep = (sp[p] - zq[rows]) ** 2 <= lim[rows]
    return rows[keep], order[p[keep]]


def _exact_bounds(
    sp: np.ndarray,
    q: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    inside: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Move ``[lo, hi)`` so that it is exactly the contiguous run of positions where ``inside`` holds.

    Equal pool values are all inside or all outside, so an edge moves by a whole tie set at a
    time: a range edge inside a large tie set (after rounding of the search bounds) is found in
    one step.
    """
    n = sp.size
    for _ in range(64):
        a = sp[np.maximum(lo - 1, 0)]
        grow_lo = (lo > 0) & inside(a, q)
        b = sp[np.minimum(lo, n - 1)]
        shrink_lo = (lo < hi) & ~inside(b, q)
        c = sp[np.minimum(hi, n - 1)]
        grow_hi = (hi < n) & inside(c, q)
        e = sp[np.maximum(hi - 1, 0)]
        shrink_hi = (hi > lo) & ~inside(e, q)
        if not (grow_lo.any() or shrink_lo.any() or grow_hi.any() or shrink_hi.any()):
            break
        lo = np.where(grow_lo, np.searchsorted(sp, a, side="left"), lo)
        lo = np.where(shrink_lo & ~grow_lo, np.searchsorted(sp, b, side="right"), lo)
        hi = np.where(grow_hi, np.searchsorted(sp, c, side="right"), hi)
        hi = np.where(shrink_hi & ~grow_hi, np.searchsorted(sp, e, side="left"), hi)
        hi = np.maximum(hi, lo)  # an empty range stays empty where its two edges met
    return lo, hi


def knn_range_1d(
    q: np.ndarray, sp: np.ndarray, m: int, tol: float, width: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Position ranges ``[lo, hi)`` in the sorted pool ``sp`` of the tie-inclusive ``m`` nearest units.

    The range holds every pool unit whose squared distance to ``q`` is at most
    the ``m``-th smallest squared distance plus ``tol``; with ``width`` it is
    intersected with ``|sp - q| <= width`` (nearest units among those within
    the caliper).  Sums over the matches can then be read off cumulative sums
    in O(1) per unit, even when tie sets are large.

    Parameters
    ----------
    q : ndarray of shape (n_query,)
        Query values.
    sp : ndarray of shape (n_pool,)
        Sorted pool values.
    m : int
        Number of neighbours.
    tol : float
        Tie tolerance on the squared distance.
    width : float, optional
        Caliper half-width.

    Returns
    -------
    lo, hi : ndarray of int
    """
    n = sp.size
    pos = np.searchsorted(sp, q)
    if width is not None:
        clo = np.searchsorted(sp, q - width, side="left")
        chi = np.searchsorted(sp, q + width, side="right")
        clo, chi = _exact_bounds(sp, q, clo, chi, lambda v, c: np.abs(v - c) <= width)
    offs = np.arange(-m, m)
    win = pos[:, None] + offs[None, :]
    valid = (win >= 0) & (win < n)
    if width is not None:
        valid &= (win >= clo[:, None]) & (win < chi[:, None])
    d = np.where(valid, (sp[np.clip(win, 0, n - 1)] - q[:, None]) ** 2, np.inf)
    dm = np.partition(d, m - 1, axis=1)[:, m - 1]
    # fewer than m eligible units: take all eligible ones
    dm = np.where(np.isfinite(dm), dm, np.where(np.isfinite(d), d, -np.inf).max(axis=1))
    lim = dm + tol
    r = np.sqrt(np.maximum(lim, 0.0))
    lo = np.searchsorted(sp, q - r, side="left")
    hi = np.searchsorted(sp, q + r, side="right")
    lo, hi = _exact_bounds(sp, q, lo, hi, lambda v, c: (v - c) ** 2 <= lim)
    if width is not None:
        lo, hi = np.maximum(lo, clo), np.minimum(hi, chi)
        hi = np.maximum(hi, lo)
    return lo, hi


def knn_with_ties(
    zq: np.ndarray,
    zp: np.ndarray,
    m: int,
    tol: float,
    caliper: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Find the ``m`` nearest pool units of every query unit, keeping ties.

    A pool unit is a match when its squared distance is at most the ``m``-th
    smallest squared distance plus ``tol`` (R ``Matching``'s
    ``distance.tolerance`` rule), so a query may get more than ``m`` matches.

    Parameters
    ----------
    zq, zp : ndarray of shape (n_query, k) and (n_pool, k)
        Transformed coordinates of query and pool units.
    m : int
        Number of neighbours (``m <= n_pool``).
    tol : float
        Tie tolerance on the squared distance.
    caliper : (vq, vp, width), optional
        Only pool units with ``|vq - vp| <= width`` on every column are
        eligible (the neighbours are the nearest *eligible* units, as in R
        ``Matching``'s C code); queries without eligible units get no match.

    Returns
    -------
    query, pool : ndarray of int
        Flat arrays of matched index pairs, sorted by query (and, within a
        query, by position for the 1-D search or pool index otherwise).
    """
    if zq.shape[0] == 0 or zp.shape[0] == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    if zq.shape[1] == 1 and (caliper is None or caliper[0].shape[1] == 1):
        q, p = _knn_1d(zq[:, 0], zp[:, 0], m, tol)
        if caliper is not None:
            # in 1-D the nearest eligible units are the nearest units that pass the caliper
            vq, vp, width = caliper
            ok = np.abs(vq[q, 0] - vp[p, 0]) <= width[0]
            q, p = q[ok], p[ok]
        return q, p
    pool_sq = (zp * zp).sum(axis=1)
    qs, ps = [], []
    for sl in _chunks(zq.shape[0], zp.shape[0]):
        d = _sqdist(zq[sl], zp, pool_sq)
        if caliper is not None:
            vq, vp, width = caliper
            for k in range(vq.shape[1]):
                d[np.abs(vq[sl, k][:, None] - vp[None, :, k]) > width[k]] = np.inf
        dm = np.partition(d, m - 1, axis=1)[:, m - 1]
        r, c = np.nonzero((d <= (dm + tol)[:, None]) & np.isfinite(d))
        qs.append(r + sl.start)
        ps.append(c)
    return np.concatenate(qs), np.concatenate(ps)


def _rank_within(q: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of pairs by (query, distance) and each pair's rank within its query in that order."""
    o = np.lexsort((d, q))
    qs = q[o]
    first = np.searchsorted(qs, qs, side="left")
    return o, np.arange(qs.size) - first


def _kth_within(q: np.ndarray, d: np.ndarray, m: int, n_query: int) -> np.ndarray:
    """Per query, the ``m``-th smallest of its pair distances ``d`` (the largest when it has fewer pairs)."""
    o, rank = _rank_within(q, d)
    kth = np.full(n_query, -np.inf)
    np.maximum.at(kth, q[o], np.where(rank < m, d[o], -np.inf))
    return kth


def knn_other_groups(
    zq: np.ndarray,
    zp: np.ndarray,
    m: int,
    tol: float,
    gq: np.ndarray,
    gp: np.ndarray,
    caliper: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`knn_with_ties` restricted, for every query, to pool units of another group.

    The ``m`` nearest pool units whose group code differs from the query's are
    found with the same tie rule (squared distance at most the ``m``-th
    smallest eligible one plus ``tol``); a query with fewer than ``m`` such
    units gets all of them.  The search asks :func:`knn_with_ties` for
    ``m + g`` neighbours, ``g`` the largest number of pool units sharing a
    query's group: at least ``m`` of those belong to other groups, so the
    ``m``-th nearest unit of another group and its ties are among them.

    Parameters
    ----------
    zq, zp : ndarray of shape (n_query, k) and (n_pool, k)
        Transformed coordinates of query and pool units.
    m : int
        Number of neighbours.
    tol : float
        Tie tolerance on the squared distance.
    gq, gp : ndarray of int
        Group codes of query and pool units (a query is never matched with a
        pool unit of its own group).
    caliper : (vq, vp, width), optional
        As in :func:`knn_with_ties`.

    Returns
    -------
    query, pool : ndarray of int
        Matched index pairs, sorted by query.
    own_nearest : ndarray of bool, shape (n_query,)
        Whether the query's unrestricted ``m`` nearest units (ties included)
        hold a unit of its own group, i.e. whether the restriction changed its
        matches.
    """
    n_query = zq.shape[0]
    none = np.zeros(n_query, dtype=bool)
    if n_query == 0 or zp.shape[0] == 0:
        e = np.empty(0, np.intp)
        return e, e, none
    codes, pool_code = np.unique(gp, return_inverse=True)
    per_group = np.bincount(pool_code, minlength=codes.size)
    at = np.clip(np.searchsorted(codes, gq), 0, codes.size - 1)
    own = np.where(codes[at] == gq, per_group[at], 0)
    g = int(own.max())
    if g == 0:
        q, p = knn_with_ties(zq, zp, min(m, zp.shape[0]), tol, caliper)
        return q, p, none
    if zq.shape[1] == 1 and caliper is None:
        return _other_groups_1d(zq[:, 0], zp[:, 0], m, tol, gq, gp, g)
    q, p = knn_with_ties(zq, zp, min(m + g, zp.shape[0]), tol, caliper)
    d = ((zq[q] - zp[p]) ** 2).sum(axis=1)
    same = gq[q] == gp[p]
    # unrestricted matches: within tol of the m-th nearest of all retrieved units
    lim_all = _kth_within(q, d, m, n_query)[q] + tol
    own_nearest = np.bincount(q[same & (d <= lim_all)], minlength=n_query) > 0
    q, p, d = q[~same], p[~same], d[~same]
    keep = d <= _kth_within(q, d, m, n_query)[q] + tol
    q, p = q[keep], p[keep]
    srt = np.lexsort((p, q))
    return q[srt], p[srt], own_nearest


def _run_within(
    sp: np.ndarray, q: np.ndarray, pos: np.ndarray, lim: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``[lo, hi)`` of the sorted pool ``sp`` with ``(sp - q) ** 2 <= lim``, by bisection.

    The squared distance does not rise up to the insertion point ``pos`` and does not fall after it, so
    the positions that qualify are one run around ``pos`` (empty when ``lim`` is ``-inf``).
    """
    n = sp.size
    # lo: the first position before pos from which on every position qualifies
    a, b = np.zeros_like(pos), pos.copy()
    while (a < b).any():
        mid = (a + b) // 2
        ok = (sp[np.minimum(mid, n - 1)] - q) ** 2 <= lim
        a, b = np.where((a < b) & ~ok, mid + 1, a), np.where((a < b) & ok, mid, b)
    lo = a
    # hi: the first position from pos on that does not qualify
    a, b = pos.copy(), np.full_like(pos, n)
    while (a < b).any():
        mid = (a + b) // 2
        ok = (sp[np.minimum(mid, n - 1)] - q) ** 2 <= lim
        a, b = np.where((a < b) & ok, mid + 1, a), np.where((a < b) & ~ok, mid, b)
    return lo, a


def _other_groups_1d(
    zq: np.ndarray, zp: np.ndarray, m: int, tol: float, gq: np.ndarray, gp: np.ndarray, g: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`knn_other_groups` for 1-D coordinates without a caliper, in time linear in the pairs.

    On the sorted pool the squared distance falls and then rises, so the ``m + g`` nearest units
    (``g`` the largest own-group count) lie in a window of ``2 (m + g)`` positions around the
    query's insertion point; that window holds the ``m``-th nearest unit overall and the ``m``-th
    nearest unit of another group.  The matches of a query are then the other-group units of one
    run of sorted positions (found by bisection).  Queries with the same run (ties) share one copy
    of its pool indices sorted by index, so the pairs come out sorted by (query, pool) without
    sorting them.
    """
    n = zp.size
    n_query = zq.size
    order = np.argsort(zp, kind="stable")
    sp = zp[order]
    width = min(m + g, n)
    pos = np.searchsorted(sp, zq)
    win = pos[:, None] + np.arange(-width, width)[None, :]
    valid = (win >= 0) & (win < n)
    win = np.clip(win, 0, n - 1)
    d = np.where(valid, (sp[win] - zq[:, None]) ** 2, np.inf)
    k_all = min(m, n) - 1
    lim_all = np.partition(d, k_all, axis=1)[:, k_all] + tol
    d[gp[order][win] == gq[:, None]] = np.inf
    k_other = min(m, d.shape[1]) - 1
    kth = np.partition(d, k_other, axis=1)[:, k_other]
    # fewer than m units of other groups: take them all (none: -inf, no match)
    kth = np.where(np.isfinite(kth), kth, np.where(np.isfinite(d), d, -np.inf).max(axis=1))
    lim = kth + tol
    # own-group candidates: is one of them among the unrestricted matches?
    by_group = np.argsort(gp, kind="stable")
    gs = gp[by_group]
    rows, at = _expand_ranges(np.searchsorted(gs, gq, side="left"), np.searchsorted(gs, gq, side="right"))
    own = by_group[at]
    near = (zq[rows] - zp[own]) ** 2 <= lim_all[rows]
    own_nearest = np.bincount(rows[near], minlength=n_query) > 0
    lo, hi = _run_within(sp, zq, pos, lim)
    key, which = np.unique(lo * (n + 1) + hi, return_inverse=True)
    ulo, uhi = key // (n + 1), key % (n + 1)
    seg, upos = _expand_ranges(ulo, uhi)
    idx_sorted = np.sort(seg * n + order[upos]) - seg * n
    start = (np.cumsum(uhi - ulo) - (uhi - ulo))[which.ravel()]
    rows, at = _expand_ranges(start, start + (hi - lo))
    p = idx_sorted[at]
    keep = gp[p] != gq[rows]
    return rows[keep], p[keep], own_nearest


def within_radius(zq: np.ndarray, zp: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pool units within Euclidean distance ``radius`` of each query unit.

    Returns
    -------
    query, pool : ndarray of int
        Matched index pairs sorted by query.
    dist : ndarray of float
        Euclidean distance of each pair.
    """
    if zq.shape[0] == 0 or zp.shape[0] == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0)
    if zq.shape[1] == 1:
        q, p = zq[:, 0], zp[:, 0]
        order = np.argsort(p, kind="stable")
        sp = p[order]
        lo = np.searchsorted(sp, q - radius, side="left")
        hi = np.searchsorted(sp, q + radius, side="right")
        rows, pos = _expand_ranges(lo, hi)
        dist = np.abs(sp[pos] - q[rows])
        keep = dist <= radius
        return rows[keep], order[pos[keep]], dist[keep]
    pool_sq = (zp * zp).sum(axis=1)
    qs, ps, ds = [], [], []
    for sl in _chunks(zq.shape[0], zp.shape[0]):
        d = _sqdist(zq[sl], zp, pool_sq)
        r, c = np.nonzero(d <= radius * radius)
        qs.append(r + sl.start)
        ps.append(c)
        ds.append(np.sqrt(d[r, c]))
    return np.concatenate(qs), np.concatenate(ps), np.concatenate(ds)


def greedy_without_replacement(
    zq: np.ndarray,
    zp: np.ndarray,
    m: int,
    order: np.ndarray,
    caliper: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
    own_nearest: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy nearest-neighbour matching without replacement.

    Query units are processed in ``order``; each takes its ``m`` nearest pool
    units that are still available (ties broken by pool position).  This is
    sequential by nature: the loop runs over query units, the distance
    computation for each is vectorised over the pool.

    A ``caliper`` ``(vq, vp, width)`` restricts each query to pool units with
    ``|vq - vp| <= width`` on every column; ``groups`` ``(gq, gp)`` (integer
    codes) to pool units of another group than the query's.  With ``groups``,
    a boolean array ``own_nearest`` of length ``n_query`` is set in place to
    whether one of the query's nearest available units (as many as it takes)
    belonged to its own group when its turn came.

    Returns
    -------
    query, pool : ndarray of int
        Matched pairs sorted by query.  Queries left without an available
        pool unit get no pairs.
    """
    n_pool = zp.shape[0]
    available = np.ones(n_pool, dtype=bool)
    n_left = n_pool
    qs: list[np.ndarray] = []
    ps: list[np.ndarray] = []
    for i in order:
        if n_left == 0:
            break
        d = ((zp - zq[i]) ** 2).sum(axis=1)
        d[~available] = np.inf
        if caliper is not None:
            vq, vp, width = caliper
            d[(np.abs(vp - vq[i]) > width).any(axis=1)] = np.inf
        k = min(m, n_left)
        if groups is not None:
            same = groups[1] == groups[0][i]
            if same.any():
                if own_nearest is not None:
                    d_k = np.partition(d, k - 1)[k - 1]
                    own_nearest[i] = bool(np.isfinite(d[same]).any() and (d[same] <= d_k).any())
                d[same] = np.inf
        idx = np.argpartition(d, k - 1)[:k] if k < n_pool else np.arange(n_pool)
        idx = idx[np.isfinite(d[idx])]
        idx = idx[np.lexsort((idx, d[idx]))][:k]
        available[idx] = False
        n_left -= idx.size
        qs.append(np.full(idx.size, i, dtype=np.intp))
        ps.append(idx.astype(np.intp))
    if not qs:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    q = np.concatenate(qs)
    p = np.concatenate(ps)
    srt = np.argsort(q, kind="stable")
    return q[srt], p[srt]


def pair_weights(query: np.ndarray, n_query: int, raw: np.ndarray | None = None) -> np.ndarray:
    """Normalise pair weights so that they sum to one within each query.

    Parameters
    ----------
    query : ndarray of int
        Query index of every pair.
    n_query : int
        Number of query units.
    raw : ndarray, optional
        Unnormalised weights (e.g. kernel values); equal weights when omitted.

    Returns
    -------
    ndarray
        Pair weights ``raw / sum(raw within query)``.
    """
    if raw is None:
        raw = np.ones(query.size)
    tot = np.bincount(query, weights=raw, minlength=n_query)
    return raw / tot[query]
