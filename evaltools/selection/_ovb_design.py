"""The regression behind the omitted-variable-bias analysis: OLS by QR, partial R2 and benchmark groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import linalg

from evaltools.exceptions import DataValidationError, SpecificationError

_W = "ovb_sensitivity"


def _ols_terms(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """OLS by QR: coefficients, (X'X)^-1, residual variance and residual dof."""
    n, p = X.shape
    Q, R = np.linalg.qr(X, mode="reduced")
    d = np.abs(np.diag(R))
    if d.size == 0 or d.min() <= 1e-10 * d.max():
        raise DataValidationError(
            f"{_W}: the design matrix is rank deficient ({p} columns, {n:,} rows); drop collinear "
            "covariates (e.g. a dummy for every level, or a covariate constant in the data)."
        )
    coef = linalg.solve_triangular(R, Q.T @ y)
    resid = y - X @ coef
    dof = n - p
    if dof <= 1:
        raise DataValidationError(f"{_W}: only {dof} residual degrees of freedom ({n:,} rows, {p} columns).")
    rinv = linalg.solve_triangular(R, np.eye(p))
    return coef, rinv @ rinv.T, float(resid @ resid / dof), dof


def _partial_r2(coef: np.ndarray, xtx_inv: np.ndarray, s2: float, dof: int, idx: Sequence[int]) -> float:
    """Partial R2 of the block ``idx``: ``F p / (F p + dof)`` with ``F p = b' V^-1 b``."""
    ix = np.asarray(idx)
    b = coef[ix]
    v = s2 * xtx_inv[np.ix_(ix, ix)]
    fp = float(b @ np.linalg.solve(v, b))
    return fp / (fp + dof)


def _bench_groups(
    benchmark_covariates: Any, groups: Mapping[str, list[int]], names: list[str]
) -> list[tuple[str, list[int]]]:
    if benchmark_covariates is None:
        return []
    if isinstance(benchmark_covariates, str):
        items: list[tuple[str, Any]] = [(benchmark_covariates, [benchmark_covariates])]
    elif isinstance(benchmark_covariates, Mapping):
        items = [(str(k), [v] if isinstance(v, str) else list(v)) for k, v in benchmark_covariates.items()]
    else:
        items = []
        for b in benchmark_covariates:
            cols = [b] if isinstance(b, str) else list(b)
            items.append(("+".join(cols), cols))
    out = []
    for label, cols in items:
        idx: list[int] = []
        for c in cols:
            if c in groups:
                idx.extend(groups[c])
            elif c in names:
                idx.append(names.index(c))
            else:
                raise SpecificationError(
                    f"{_W}: benchmark covariate {c!r} is not a covariate of the regression; covariates: "
                    f"{sorted(groups)[:10]}."
                )
        out.append((label, sorted(set(idx))))
    return out


def fit_design(
    y: np.ndarray,
    X: np.ndarray,
    names: list[str],
    t_idx: int,
    groups: Mapping[str, list[int]],
    benchmark_covariates: Any,
) -> tuple[float, float, int, list[tuple[str, float, float]]]:
    """Estimate and SE of column ``t_idx``, residual dof, and per benchmark its label and partial R2s.

    The partial R2s are those with the treatment and with the outcome.
    """
    coef, xtx_inv, s2, dof = _ols_terms(y, X)
    est = float(coef[t_idx])
    se = float(np.sqrt(s2 * xtx_inv[t_idx, t_idx]))
    bench_idx = _bench_groups(benchmark_covariates, groups, names)
    bench: list[tuple[str, float, float]] = []
    if bench_idx:
        keep = [j for j in range(X.shape[1]) if j != t_idx]
        pos = {j: i for i, j in enumerate(keep)}
        c_d, inv_d, s2_d, dof_d = _ols_terms(X[:, t_idx], X[:, keep])
        for label, idx in bench_idx:
            if t_idx in idx:
                raise SpecificationError(f"{_W}: the treatment cannot be its own benchmark ({label!r}).")
            r2y = _partial_r2(coef, xtx_inv, s2, dof, idx)
            r2d = _partial_r2(c_d, inv_d, s2_d, dof_d, [pos[j] for j in idx])
            bench.append((label, r2d, r2y))
    return est, se, dof, bench
