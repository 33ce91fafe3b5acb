"""An attacker for published tables: the tightest bounds on every masked number.

:func:`audit` takes a protected release (or a set of tables suppressed one by
one) and computes, for every masked count and sum, the smallest and largest
value consistent with **every published number** of every linked table, the
additive relations between them (margins, hierarchies, common cells, months in
quarters), non-negativity and, for counts, integrality of the bounds.  This is
the linear-programming attack of the disclosure-control literature (the
"audit" of tau-Argus and sdcTable, ``ComputeIntervals`` of GaussSuppression):

1. values fixed by a single relation (differencing: a published total minus
   its published parts) or by a published zero total are propagated;
2. the remaining unknowns split into independent components; in each, a
   masked number is recovered exactly if and only if it lies in the row space
   of the published relations (a null-space test);
3. otherwise its bounds are two linear programs (HiGHS through
   :func:`scipy.optimize.linprog`; components with one free dimension are
   solved in closed form).

Under random rounding every published number gives an interval instead of an
equality and step 3 is solved with those interval constraints.

A masked count is *exact* if its bounds coincide and *narrow* if they are
closer than the protection interval of the rule (default: the threshold, 3
persons); a masked sum is exact if its bounds coincide, narrow if they are
closer than its p % protection.  Relations that are not linear equalities are
not used: the distinct persons of a quarter are at least those of its largest
month and at most their sum, and a cell's persons are at most its person-weeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from evaltools.exceptions import SpecificationError
from evaltools.reporting._cellsystem import CellSystem
from evaltools.reporting.summary import Summary

__all__ = ["audit", "AuditReport", "cell_bounds"]

_TOL = 1e-7


# ----------------------------------------------------------------------------------------------
# bounds of the masked cells of one block
# ----------------------------------------------------------------------------------------------
def _presolve(a: sparse.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Known flags and values of the variables fixed by singleton rows and zero rows (x >= 0)."""
    n = a.shape[1]
    known = np.zeros(n, dtype=bool)
    val = np.zeros(n)
    a = a.tocsr()
    for _ in range(n + 1):
        free = sparse.diags((~known).astype(float))
        af = a @ free
        af.eliminate_zeros()
        cnt = np.diff(af.indptr)
        r = y - a @ np.where(known, val, 0.0)
        new = False
        single = np.flatnonzero(cnt == 1)
        if len(single):
            cols = af.indices[af.indptr[single]]
            coef = af.data[af.indptr[single]]
            val[cols] = r[single] / coef
            known[cols] = True
            new = True
        zero = np.flatnonzero((cnt > 1) & (np.abs(r) <= _TOL * np.maximum(1.0, np.abs(y))))
        if len(zero):
            sub = af[zero]
            if (sub.data > 0).all():
                cols = np.unique(sub.indices)
                val[cols] = 0.0
                known[cols] = True
                new = True
        if not new:
            break
    return known, val


def _null_space(a: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal null space of ``a`` (m x n) and a particular least-squares solution helper."""
    if a.shape[0] == 0:
        return np.eye(n), np.zeros((0, n))
    _, s, vt = np.linalg.svd(a, full_matrices=True)
    tol = max(a.shape) * np.finfo(float).eps * (s[0] if len(s) else 1.0) * 10
    rank = int((s > tol).sum())
    return vt[rank:].T, vt[:rank]


class _Bounder:
    """Min and max of linear functions over ``{x >= 0, row_lo <= A x <= row_hi}``.

    One HiGHS model per component, re-solved warm for every objective (through
    the HiGHS bindings bundled with SciPy when present; otherwise one
    :func:`scipy.optimize.linprog` call per bound).
    """

    def __init__(self, a: np.ndarray, row_lo: np.ndarray, row_hi: np.ndarray) -> None:
        self.a = sparse.csc_matrix(a)
        self.row_lo, self.row_hi = np.asarray(row_lo, float), np.asarray(row_hi, float)
        self.n = self.a.shape[1]
        self.h = None
        try:
            from scipy.optimize._highspy import _core as hc

            lp = hc.HighsLp()
            lp.num_col_, lp.num_row_ = self.n, self.a.shape[0]
            lp.col_cost_ = np.zeros(self.n)
            lp.col_lower_ = np.zeros(self.n)
            lp.col_upper_ = np.full(self.n, hc.kHighsInf)
            lp.row_lower_ = np.where(np.isfinite(self.row_lo), self.row_lo, -hc.kHighsInf)
            lp.row_upper_ = np.where(np.isfinite(self.row_hi), self.row_hi, hc.kHighsInf)
            lp.a_matrix_.format_ = hc.MatrixFormat.kColwise
            lp.a_matrix_.start_ = self.a.indptr
            lp.a_matrix_.index_ = self.a.indices
            lp.a_matrix_.value_ = self.a.data
            h = hc._Highs()
            h.setOptionValue("output_flag", False)
            h.passModel(lp)
            self.h, self.hc = h, hc
            self.idx = np.arange(self.n, dtype=np.int32)
        except (ImportError, AttributeError, TypeError):  # pragma: no cover - depends on the SciPy build
            self.h = None

    def _solve(self, c: np.ndarray, maximize: bool) -> float:
        if self.h is not None:
            hc = self.hc
            self.h.changeObjectiveSense(hc.ObjSense.kMaximize if maximize else hc.ObjSense.kMinimize)
            self.h.changeColsCost(self.n, self.idx, np.asarray(c, dtype=float))
            self.h.run()
            st = self.h.getModelStatus()
            if st == hc.HighsModelStatus.kOptimal:
                return float(self.h.getInfo().objective_function_value)
            if st == hc.HighsModelStatus.kUnbounded:
                return np.inf if maximize else -np.inf
        sign = -1.0 if maximize else 1.0
        eq = np.isclose(self.row_lo, self.row_hi)
        kw: dict[str, Any] = {}
        if eq.any():
            kw.update(A_eq=self.a[np.flatnonzero(eq)], b_eq=self.row_lo[eq])
        if (~eq).any():
            sub = self.a[np.flatnonzero(~eq)]
            kw.update(A_ub=sparse.vstack([sub, -sub]), b_ub=np.r_[self.row_hi[~eq], -self.row_lo[~eq]])
        res = linprog(sign * c, bounds=(0, None), method="highs", **kw)
        if res.status == 3:
            return np.inf if maximize else -np.inf
        if res.status != 0:
            raise SpecificationError(  # pragma: no cover - the true values are always feasible
                f"The audit linear program failed ({res.message}); the published numbers are inconsistent "
                "with the declared linkage."
            )
        return float(sign * res.fun)

    def bounds(self, c: np.ndarray) -> tuple[float, float]:
        return self._solve(c, False), self._solve(c, True)


_NO_RHS = "audit: equality constraints were given without their right-hand side."
_NO_BOUNDS = "audit: inequality constraints were given without their lower and upper bounds."


def _component_bounds(
    a_eq: np.ndarray | None,
    b_eq: np.ndarray | None,
    a_ub: np.ndarray | None,
    b_lo: np.ndarray | None,
    b_hi: np.ndarray | None,
    g: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``g @ x`` over ``{x >= 0, a_eq x = b_eq, b_lo <= a_ub x <= b_hi}`` per row of ``g``."""
    m, n = g.shape
    lo = np.zeros(m)
    hi = np.full(m, np.inf)
    if a_ub is None:
        if a_eq is None or a_eq.shape[0] == 0:
            return lo, hi  # unconstrained non-negative variables
        if b_eq is None:
            raise SpecificationError(_NO_RHS)
        nul, _ = _null_space(a_eq, n)
        x_p = np.linalg.lstsq(a_eq, b_eq, rcond=None)[0]
        gn = g @ nul if nul.shape[1] else np.zeros((m, 0))
        exact = np.linalg.norm(gn, axis=1) <= 1e-9 * np.maximum(1.0, np.linalg.norm(g, axis=1))
        lo[exact] = hi[exact] = g[exact] @ x_p
        todo = np.flatnonzero(~exact)
        if nul.shape[1] == 1 and len(todo):
            v = nul[:, 0]
            pos, neg = v > 1e-12, v < -1e-12
            t_lo = np.max(-x_p[pos] / v[pos]) if pos.any() else -np.inf
            t_hi = np.min(-x_p[neg] / v[neg]) if neg.any() else np.inf
            base = g[todo] @ x_p
            slope = gn[todo, 0]
            with np.errstate(invalid="ignore"):
                e1, e2 = base + slope * t_lo, base + slope * t_hi
            lo[todo], hi[todo] = np.minimum(e1, e2), np.maximum(e1, e2)
            return lo, hi
        if len(todo):
            bd = _Bounder(a_eq, b_eq, b_eq)
            for i in todo:
                lo[i], hi[i] = bd.bounds(g[i])
        return lo, hi
    if b_lo is None or b_hi is None:
        raise SpecificationError(_NO_BOUNDS)
    bd = _Bounder(a_ub, b_lo, b_hi)
    for j in range(m):
        lo[j], hi[j] = bd.bounds(g[j])
    return lo, hi


def cell_bounds(
    system: CellSystem,
    masked_rows: np.ndarray,
    cells: np.ndarray,
    *,
    rounding: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Attacker bounds of the given cells (every one must be in a masked row, or any cell when rounding).

    Parameters
    ----------
    system : CellSystem
        The linked cells.
    masked_rows : ndarray of bool
        Rows not published.
    cells : ndarray of int
        Cells to bound.
    rounding : (ndarray, ndarray), optional
        Lower and upper bound of every cell implied by its published rounded
        value; then every cell is a published interval and no row is masked.

    Returns
    -------
    lower, upper : ndarray
        Bounds in the units of the quantity (integer bounds for counts).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _cell_bounds(system, masked_rows, np.asarray(cells, dtype=np.int64), rounding)


def _cell_bounds(
    system: CellSystem,
    masked_rows: np.ndarray,
    cells: np.ndarray,
    rounding: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    lower = np.zeros(len(cells))
    upper = np.full(len(cells), np.inf)
    inc = system.incidence.tocsr()
    inc_c = inc.tocsc()
    pub = ~masked_rows[system.cell_row]
    blocks = system.cell_block[cells]
    for b in np.unique(blocks):
        if b < 0:
            continue
        sel = np.flatnonzero(blocks == b)
        base = np.flatnonzero(system.base_block == b)
        in_block = np.unique(inc_c[:, base].indices)
        g_all = inc[cells[sel]][:, base].toarray()
        if rounding is None:
            rows = in_block[pub[in_block]]
            a = inc[rows][:, base]
            y = system.cell_value[rows]
            known, val = _presolve(a, y)
            fixed = g_all[:, known] @ val[known]
            free = np.flatnonzero(~known)
            if len(free) == 0:
                lower[sel] = upper[sel] = fixed
                continue
            af = a[:, free].tocsr()
            r = y - a[:, known] @ val[known]
            keep = np.diff(af.indptr) > 0
            af, r = af[keep], r[keep]
            lo_b, hi_b = _split_components(af, r, None, None, None, g_all[:, free], len(free))
            lower[sel], upper[sel] = fixed + lo_b, fixed + hi_b
        else:
            a = inc[in_block][:, base]
            lo_b, hi_b = _split_components(
                None, None, a, rounding[0][in_block], rounding[1][in_block], g_all, len(base)
            )
            lower[sel], upper[sel] = lo_b, hi_b
    kinds = system.cell_kind()[cells]
    cnt = kinds == "count"
    lower[cnt] = np.ceil(lower[cnt] - 1e-6)
    upper[cnt] = np.floor(upper[cnt] + 1e-6)
    return lower, upper


def _split_components(
    a_eq: sparse.csr_matrix | None,
    b_eq: np.ndarray | None,
    a_ub: sparse.csr_matrix | None,
    b_lo: np.ndarray | None,
    b_hi: np.ndarray | None,
    g: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    a = a_eq if a_eq is not None else a_ub
    if a is None:
        raise SpecificationError("audit: a component split needs equality or inequality constraints.")
    m = a.shape[0]
    graph = sparse.bmat([[None, a], [a.T, None]], format="csr") if m else sparse.csr_matrix((n, n))
    _, comp = connected_components(graph, directed=False)
    var_comp = comp[m:] if m else comp
    row_comp = comp[:m]
    lo = np.zeros(g.shape[0])
    hi = np.zeros(g.shape[0])
    for k in np.unique(var_comp):
        v = np.flatnonzero(var_comp == k)
        gk = g[:, v]
        touch = np.flatnonzero(np.abs(gk).sum(axis=1) > 0)
        if not len(touch):
            continue
        r = np.flatnonzero(row_comp == k)
        ak = a[r][:, v].toarray()
        if a_eq is not None:
            if b_eq is None:
                raise SpecificationError(_NO_RHS)
            l_k, h_k = _component_bounds(ak, b_eq[r], None, None, None, gk[touch])
        else:
            if b_lo is None or b_hi is None:
                raise SpecificationError(_NO_BOUNDS)
            l_k, h_k = _component_bounds(None, None, ak, b_lo[r], b_hi[r], gk[touch])
        lo[touch] += l_k
        hi[touch] += h_k
    return lo, hi


# ----------------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditReport:
    """Tightest attacker bounds on every masked (or, under rounding, sensitive) number of a release.

    Attributes
    ----------
    cells : DataFrame
        One row per masked number: ``table``, ``row`` (position in the table),
        ``column``, ``quantity``, ``kind``, ``primary`` (sensitive by the rule),
        ``value`` (true, in the quantity's units), ``lower``, ``upper``,
        ``width``, ``required`` (protection interval), ``exact`` and ``narrow``.
    rule : str
        The rule in force.
    """

    cells: pd.DataFrame
    rule: str

    @property
    def n_exact(self) -> int:
        """Masked numbers recovered exactly."""
        return int(self.cells["exact"].sum())

    @property
    def n_narrow(self) -> int:
        """Masked numbers bounded within less than their protection interval (exact ones included)."""
        return int(self.cells["narrow"].sum())

    @property
    def ok(self) -> bool:
        """No masked number is exact or narrower than its protection interval."""
        return self.n_narrow == 0 and self.n_exact == 0

    def by_table(self) -> pd.DataFrame:
        """Counts of masked, exact and narrow numbers per table and quantity."""
        g = self.cells.groupby(["table", "quantity"], sort=False)
        return g.agg(masked=("exact", "size"), exact=("exact", "sum"), narrow=("narrow", "sum")).reset_index()

    def to_frame(self) -> pd.DataFrame:
        """The per-cell bounds (a copy)."""
        return self.cells.copy()

    def summary(self) -> Summary:
        """Summary: counts per table, and the rule."""
        notes = [
            self.rule,
            "Bounds: tightest values consistent with every published number, the additive relations "
            "between the linked tables and non-negativity (linear programming; integer bounds for counts).",
        ]
        return Summary(
            title="Disclosure audit",
            header=(
                ("Masked numbers", len(self.cells)),
                ("Recovered exactly", self.n_exact),
                ("Narrower than the protection interval", self.n_narrow),
            ),
            tables=[self.by_table().set_index(["table", "quantity"])],
            footnotes=notes,
        )

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return (
            f"<AuditReport: {len(self.cells)} masked numbers, {self.n_exact} exact, {self.n_narrow} narrow>"
        )


def audit(release: Any, *, tables: Sequence[str] | None = None) -> AuditReport:
    """Attack a protected release: tightest bounds on every masked number from all published numbers.

    Parameters
    ----------
    release : ProtectedRelease or Release
        A release after :meth:`Release.protect` (a :class:`Release` is protected
        first).  ``Release.protect(joint=False)`` gives the tables as each would
        be suppressed on its own, to see what linking them discloses.
    tables : sequence of str, optional
        Report only the masked numbers of these tables (all published numbers are
        still used by the attacker).

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> import pandas as pd
    >>> from evaltools.reporting import Release
    >>> t = pd.DataFrame({"muni": ["A", "B", "C"], "persons": [2, 10, 12]})
    >>> total = pd.DataFrame({"persons": [24]})
    >>> rel = Release().add(t, name="t", keys=["muni"], count_col="persons", family="demo")
    >>> rel = rel.add(total, name="total", keys=[], count_col="persons", family="demo")
    >>> report = audit(rel.protect())
    >>> report.ok, report.n_exact
    (True, 0)
    """
    from evaltools.reporting.release import ProtectedRelease, Release

    if isinstance(release, Release):
        release = release.protect()
    if not isinstance(release, ProtectedRelease):
        raise SpecificationError(
            f"audit: expected a ProtectedRelease (from Release.protect()) or a Release; got "
            f"{type(release).__name__}."
        )
    return release._audit(tables)
