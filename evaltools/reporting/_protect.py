"""Joint secondary suppression over linked tables.

Two stages, after primary suppression:

1. **Gaussian elimination** (the algorithm of Langsrud's GaussSuppression,
   Statistics Norway): rows are taken in order of preference to publish
   (forced rows, empty cells, then by decreasing person count, totals before
   their parts); a row is published unless its numbers, together with
   everything published so far, would determine a masked number exactly; then
   it is masked (secondary) and itself protected.  Block by block, the null
   space of the published relations is kept as an orthonormal basis ``N`` and
   updated by a Householder reflection per published cell, so a masked cell
   ``x`` is determined exactly iff ``x' N = 0``.
2. **Interval repair**: the attacker (:mod:`evaltools.reporting.audit`) bounds
   every masked number; for each one narrower than its protection interval a
   linear program finds the cheapest set of published cells whose suppression
   admits a perturbation ``d`` of the base cells with ``x0 + d >= 0`` (``x0``
   the true values), changing no other published number and moving the cell by
   the missing width (the attacker subproblem of Fischetti and Salazar, 2001,
   "Solving the cell suppression problem on tabular data with linear
   constraints", Management Science 47, 1008-1027).  Those cells are masked and
   the audit repeated until it finds nothing.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.linalg.blas import dger
from scipy.optimize import linprog

from evaltools.exceptions import DisclosureWarning
from evaltools.reporting._cellsystem import CellSystem
from evaltools.reporting.audit import cell_bounds

__all__ = ["gauss_secondary", "repair_intervals", "required_widths"]


class _Block:
    """Null-space state of one block."""

    def __init__(self, system: CellSystem, b: int, published: list[int]) -> None:
        self.base = np.flatnonzero(system.base_block == b)
        self.pos = {int(x): i for i, x in enumerate(self.base)}
        n = len(self.base)
        if published:
            a = system.incidence[published][:, self.base].toarray()
            _, s, vt = np.linalg.svd(a, full_matrices=True)
            tol = max(a.shape) * np.finfo(float).eps * (s[0] if len(s) else 1.0) * 10
            self.n_mat = np.asfortranarray(vt[int((s > tol).sum()) :].T)
        else:
            self.n_mat = np.asfortranarray(np.eye(n))
        self.prot: list[int] = []
        self.c_mat = np.zeros((0, self.n_mat.shape[1]), order="F")
        self.x2 = np.zeros(0)

    def local(self, system: CellSystem, cell: int) -> np.ndarray:
        inc = system.incidence
        return np.asarray([self.pos[int(j)] for j in inc.indices[inc.indptr[cell] : inc.indptr[cell + 1]]])

    def coords(self, loc: np.ndarray) -> np.ndarray:
        return self.n_mat[loc].sum(axis=0)

    def add_protected(self, cell: int, loc: np.ndarray) -> bool:
        v = self.coords(loc)
        self.prot.append(cell)
        self.c_mat = np.asfortranarray(np.vstack([self.c_mat, v[None, :]]))
        self.x2 = np.r_[self.x2, float(len(loc))]
        return float(v @ v) > 1e-10 * len(loc)

    def reveals(self, v: np.ndarray) -> bool:
        nv2 = float(v @ v)
        if not len(self.prot) or nv2 <= 1e-12:
            return False
        c2 = np.einsum("ij,ij->i", self.c_mat, self.c_mat)
        alive = c2 > 1e-10 * self.x2
        proj = self.c_mat[alive] @ v
        return bool(np.any(c2[alive] - proj**2 / nv2 <= 1e-9 * self.x2[alive]))

    def publish(self, v: np.ndarray) -> None:
        nv = float(np.linalg.norm(v))
        if nv <= 1e-6:
            return
        u = v / nv
        w = u.copy()
        w[0] += 1.0 if u[0] >= 0 else -1.0
        w /= np.linalg.norm(w)
        # in-place rank-one updates (BLAS dger) of column-major arrays; dropping the first column keeps them
        # column-major
        self.n_mat = dger(-2.0, self.n_mat @ w, w, a=self.n_mat, overwrite_a=1)[:, 1:]
        if self.c_mat.shape[0]:
            self.c_mat = dger(-2.0, self.c_mat @ w, w, a=self.c_mat, overwrite_a=1)[:, 1:]
        else:
            self.c_mat = self.c_mat[:, 1:]


def gauss_secondary(
    system: CellSystem, primary: np.ndarray, forced: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Secondary suppression by Gaussian elimination over all linked tables.

    Parameters
    ----------
    system : CellSystem
        The linked cells.
    primary : ndarray of bool
        Rows masked by the primary rule.
    forced : ndarray of bool
        Rows that are published whatever happens (implicitly empty rows).
    cost : ndarray
        Cost of masking each row (person count); higher is published first.

    Returns
    -------
    masked : ndarray of bool
        Primary and secondary rows.
    determined : ndarray of int
        Masked cells already determined by forced rows (cannot be protected by masking).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _gauss(system, primary, forced, cost)


def _gauss(
    system: CellSystem, primary: np.ndarray, forced: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    masked = primary.copy()
    blocks: dict[int, _Block] = {}
    published: dict[int, list[int]] = {}
    determined: list[int] = []

    def block(b: int) -> _Block:
        if b not in blocks:
            blocks[b] = _Block(system, b, published.get(b, []))
        return blocks[b]

    def protect_row(r: int) -> None:
        for c in system.row_cells[r]:
            b = int(system.cell_block[c])
            if b < 0:
                continue
            blk = block(b)
            if not blk.add_protected(int(c), blk.local(system, int(c))):
                determined.append(int(c))

    for r in np.flatnonzero(primary):
        protect_row(int(r))
    n_base = np.bincount(system.cell_row, weights=np.diff(system.incidence.indptr), minlength=system.n_rows)
    zero = (cost <= 0) & ~primary
    order = np.lexsort((-n_base, -cost, ~zero, ~forced))
    for r in order:
        if primary[r]:
            continue
        cells = system.row_cells[r]
        todo: list[tuple[int, np.ndarray | str | None, list[int]]] = []  # (block, v, cells) to publish
        ok = True
        by_block: dict[int, list[int]] = {}
        for c in cells:
            b = int(system.cell_block[c])
            if b >= 0:
                by_block.setdefault(b, []).append(int(c))
        for b, cs in by_block.items():
            if b not in blocks:
                todo.append((b, None, cs))
                continue
            blk = blocks[b]
            if len(cs) == 1:
                v = blk.coords(blk.local(system, cs[0]))
                if not forced[r] and blk.reveals(v):
                    ok = False
                    break
                todo.append((b, v, cs))
            else:  # several cells of one row in one block: apply them one after the other on a copy
                saved = (blk.n_mat.copy(order="F"), blk.c_mat.copy(order="F"))
                for c in cs:
                    v = blk.coords(blk.local(system, c))
                    if not forced[r] and blk.reveals(v):
                        ok = False
                        break
                    blk.publish(v)
                blk.n_mat, blk.c_mat = saved
                if not ok:
                    break
                todo.append((b, "multi", cs))
        if not ok:
            masked[r] = True
            protect_row(int(r))
            continue
        for b, pending, cs in todo:
            if pending is None:
                published.setdefault(b, []).extend(cs)
            elif isinstance(pending, str):
                blk = blocks[b]
                for c in cs:
                    blk.publish(blk.coords(blk.local(system, c)))
            else:
                blocks[b].publish(pending)
    return masked, np.asarray(sorted(set(determined)), dtype=np.int64)


def required_widths(system: CellSystem, cells: np.ndarray, width: float, extra: np.ndarray) -> np.ndarray:
    """Protection interval per cell: ``width`` for counts, ``extra`` (p % protection) or 0 for sums."""
    kinds = system.cell_kind()[cells]
    return np.where(kinds == "count", width, extra[cells])


def _exact_tol(value: np.ndarray) -> np.ndarray:
    return 1e-6 * np.maximum(1.0, np.abs(value))


def failing(
    system: CellSystem, masked: np.ndarray, width: float, extra: np.ndarray, cells: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masked cells that are exact or narrower than required, with their bounds."""
    if cells is None:
        cells = np.flatnonzero(masked[system.cell_row] & (system.cell_block >= 0))
    if not len(cells):
        return cells, np.zeros(0), np.zeros(0)
    lo, hi = cell_bounds(system, masked, cells)
    req = required_widths(system, cells, width, extra)
    wid = hi - lo
    bad = (wid <= _exact_tol(system.cell_value[cells])) | (wid < req - 1e-9)
    return cells[bad], lo[bad], hi[bad]


def _feasible_point(system: CellSystem, b: int) -> np.ndarray:
    """Non-negative base values reproducing every cell of block ``b`` (the true data are one)."""
    base = np.flatnonzero(system.base_block == b)
    cells = np.flatnonzero(system.cell_block == b)
    a = system.incidence[cells][:, base]
    res = linprog(
        np.zeros(len(base)), A_eq=a, b_eq=system.cell_value[cells], bounds=(0, None), method="highs"
    )
    if res.status != 0:
        raise RuntimeError(  # pragma: no cover - the true values are always feasible
            f"The cells of block {b} are inconsistent ({res.message}); check the linkage of the tables."
        )
    return res.x


def repair_intervals(
    system: CellSystem,
    masked: np.ndarray,
    forced: np.ndarray,
    cost: np.ndarray,
    width: float,
    extra: np.ndarray,
    *,
    max_rounds: int = 25,
) -> tuple[np.ndarray, np.ndarray]:
    """Mask further rows until no masked number is exact or narrower than its protection interval.

    Returns the new row mask and the cells that could not be protected (empty when the audit is clean).
    """
    masked = masked.copy()
    x0_cache: dict[int, np.ndarray] = {}
    cells = None
    bad = np.zeros(0, dtype=np.int64)
    for _ in range(max_rounds):
        bad, lo, hi = failing(system, masked, width, extra, cells)
        if not len(bad):
            return masked, bad
        before = masked.copy()
        stuck = []
        for c, lo_c, _hi_c in zip(bad, lo, hi):
            if masked[system.cell_row[c]] and _still_failing(system, masked, width, extra, int(c)):
                rows = _complement(system, masked, forced, cost, width, extra, int(c), lo_c, x0_cache)
                if rows is None:
                    stuck.append(int(c))
                else:
                    masked[rows] = True
        changed = np.flatnonzero(masked & ~before)
        if not len(changed):
            break
        blocks = np.unique(system.cell_block[np.concatenate([system.row_cells[r] for r in changed])])
        cells = np.flatnonzero(masked[system.cell_row] & np.isin(system.cell_block, blocks))
        cells = np.union1d(cells, np.asarray(stuck, dtype=np.int64))
    bad, _, _ = failing(system, masked, width, extra)
    if len(bad):
        warnings.warn(
            f"{len(bad)} masked number(s) could not be protected to the required interval (they are "
            "determined "
            "by published empty cells or forced rows); aggregate the tables.",
            DisclosureWarning,
            stacklevel=3,
        )
    return masked, bad


def _still_failing(system: CellSystem, masked: np.ndarray, width: float, extra: np.ndarray, c: int) -> bool:
    bad, _, _ = failing(system, masked, width, extra, np.asarray([c]))
    return bool(len(bad))


def _complement(
    system: CellSystem,
    masked: np.ndarray,
    forced: np.ndarray,
    cost: np.ndarray,
    width: float,
    extra: np.ndarray,
    c: int,
    lo_c: float,
    x0_cache: dict[int, np.ndarray],
) -> np.ndarray | None:
    """Rows to mask so that cell ``c`` can move up by the missing width (one linear program)."""
    b = int(system.cell_block[c])
    if b not in x0_cache:
        x0_cache[b] = _feasible_point(system, b)
    x0 = x0_cache[b]
    base = np.flatnonzero(system.base_block == b)
    n = len(base)
    cells = np.flatnonzero(system.cell_block == b)
    rows = system.cell_row[cells]
    pub = ~masked[rows]
    fix = cells[pub & forced[rows]]
    cand = cells[pub & ~forced[rows]]
    inc = system.incidence
    a_c = inc[[c]][:, base]
    a_f = inc[fix][:, base]
    a_k = inc[cand][:, base]
    v = system.cell_value[c]
    req = float(required_widths(system, np.asarray([c]), width, extra)[0])
    is_count = system.cell_kind()[c] == "count"
    delta = (lo_c + req - v) if is_count else max(req, 1.0)
    delta = max(delta, 1.0 if is_count else 1e-3 * max(1.0, abs(v)))
    m = len(cand)
    w = 1.0 + np.maximum(cost[system.cell_row[cand]], 0.0)
    obj = np.r_[np.zeros(n), w]
    eye = sparse.identity(m, format="csr")
    a_ub = sparse.vstack([sparse.hstack([a_k, -eye]), sparse.hstack([-a_k, -eye])]).tocsr()
    b_ub = np.zeros(2 * m)
    a_eq = sparse.vstack(
        [
            sparse.hstack([a_c, sparse.csr_matrix((1, m))]),
            sparse.hstack([a_f, sparse.csr_matrix((len(fix), m))]),
        ]
    ).tocsr()
    b_eq = np.r_[delta, np.zeros(len(fix))]
    bounds = [(-x0[i], None) for i in range(n)] + [(0, None)] * m
    res = linprog(obj, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        return None
    u = res.x[n:]
    return np.unique(system.cell_row[cand[u > 1e-7]])
