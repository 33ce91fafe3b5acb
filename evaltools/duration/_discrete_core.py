"""Numerics of the discrete-time (grouped-time) hazard models.

The linear index of row ``i`` is ``alpha[g_i] + x_i' beta``: one baseline
parameter per duration group (week or band) plus covariate effects.  The
information matrix has a diagonal baseline block, so Newton / Fisher-scoring
steps eliminate the baseline by a Schur complement: each iteration costs
``O(n p^2)`` whatever the number of baseline periods, and the design matrix
with period dummies is never built.  Rows are sorted by baseline group once;
group sums use ``np.add.reduceat``.

The same code fits row-level data (``trials = 1``) and collapsed cells
(``trials`` = person-periods, ``events`` = exits per cell): the binomial
likelihood of a cell is the product of its rows' Bernoulli likelihoods up to a
constant, so estimates and information are identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, special

from evaltools._model.optimize import newton_maximize, warn_not_converged

__all__ = ["Design", "Fit", "LINKS", "fit_binomial", "fit_multinomial", "link_mean"]

LINKS = ("logit", "cloglog")


@dataclass(frozen=True)
class Design:
    """Rows (or cells) sorted by baseline group.

    Attributes
    ----------
    g : ndarray of int
        Baseline group per row, sorted ascending.
    starts : ndarray of int
        First row of each group (for ``np.add.reduceat``); every group is non-empty.
    X : ndarray (n, p)
        Covariates (may have ``p = 0``).
    trials, events : ndarray
        Person-periods and exits per row; ``events`` is ``(n,)`` or ``(n, K)`` for multinomial.
    """

    g: np.ndarray
    starts: np.ndarray
    X: np.ndarray
    trials: np.ndarray
    events: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of baseline parameters."""
        return len(self.starts)

    def gsum(self, v: np.ndarray) -> np.ndarray:
        """Sum ``v`` (1-d or 2-d along axis 0) within baseline groups."""
        return np.add.reduceat(v, self.starts, axis=0)


@dataclass(frozen=True)
class Fit:
    """Estimates, inverse information and diagnostics."""

    params: np.ndarray
    cov: np.ndarray
    llf: float
    n_iter: int
    converged: bool
    mu: np.ndarray
    score_factor: np.ndarray


def link_mean(eta: np.ndarray, link: str) -> np.ndarray:
    """Hazard (probability of exit in the period) for a linear index."""
    if link == "logit":
        return special.expit(eta)
    return -np.expm1(-np.exp(np.minimum(eta, 700.0)))


def _binomial_terms(
    eta: np.ndarray, d: Design, link: str
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Log-likelihood, score factor ``u`` (d llf / d eta), Fisher weight ``W`` and mean."""
    y, m = d.events, d.trials
    if link == "logit":
        mu = special.expit(eta)
        llf = float(np.sum(-y * np.logaddexp(0.0, -eta) - (m - y) * np.logaddexp(0.0, eta)))
        u = y - m * mu
        W = m * mu * (1.0 - mu)
    else:
        e = np.exp(np.minimum(eta, 700.0))
        mu = -np.expm1(-e)
        log_mu = np.log(np.where(mu > 0, mu, np.finfo(float).tiny))
        llf = float(np.sum(y * log_mu - (m - y) * e))
        r = np.where(mu > 0, e / np.where(mu > 0, mu, 1.0), 1.0)  # (d mu / d eta) / (mu (1 - mu)) = e / mu
        u = (y - m * mu) * r
        W = m * e * r * np.exp(-e)  # m (d mu / d eta)^2 / (mu (1 - mu))
    return llf, u, W, mu


def _schur_solve(
    D: np.ndarray, C: np.ndarray, H: np.ndarray, ga: np.ndarray, gb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``[[diag(D), C], [C', H]] [da; db] = [ga; gb]`` by eliminating the diagonal block."""
    Dinv = 1.0 / D
    if H.shape[0]:
        S = H - C.T @ (Dinv[:, None] * C)
        db = linalg.solve(S, gb - C.T @ (Dinv * ga), assume_a="pos")
        da = Dinv * (ga - C @ db)
    else:
        db = np.zeros(0)
        da = Dinv * ga
    return da, db


def block_inverse(D: np.ndarray, C: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Inverse of ``[[diag(D), C], [C', H]]`` via the Schur complement."""
    Dinv = 1.0 / D
    B = len(D)
    p = H.shape[0]
    out = np.empty((B + p, B + p))
    if p:
        S = H - C.T @ (Dinv[:, None] * C)
        Sinv = linalg.inv(S)
        DC = Dinv[:, None] * C
        out[B:, B:] = Sinv
        out[:B, B:] = -DC @ Sinv
        out[B:, :B] = out[:B, B:].T
        out[:B, :B] = np.diag(Dinv) + DC @ Sinv @ DC.T
    else:
        out[:, :] = np.diag(Dinv)
    return out


def information(d: Design, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks ``(D, C, H)`` of the Fisher information for weights ``W``."""
    D = d.gsum(W)
    if d.X.shape[1]:
        WX = W[:, None] * d.X
        C = d.gsum(WX)
        H = d.X.T @ WX
    else:
        C = np.zeros((len(D), 0))
        H = np.zeros((0, 0))
    return D, C, H


def fit_binomial(
    d: Design,
    link: str,
    start: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-14,
    where: str = "DiscreteHazard.fit",
) -> Fit:
    """Maximise the binomial likelihood by Fisher scoring with step halving.

    Parameters
    ----------
    d : Design
        Sorted rows or cells.
    link : {"logit", "cloglog"}
        Link function (Fisher scoring equals Newton for the canonical logit link).
    start : ndarray
        Starting values ``[alpha, beta]``.
    max_iter : int
        Maximum iterations.
    tol : float
        Convergence tolerance on the Newton decrement ``g' H^{-1} g``.
    where : str
        Name used in warnings.

    Returns
    -------
    Fit
    """
    B = d.n_groups
    theta = start.astype(float).copy()

    def evaluate(th: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        eta = th[:B][d.g] + (d.X @ th[B:] if d.X.shape[1] else 0.0)
        llf, u, W, mu = _binomial_terms(eta, d, link)
        return llf, u, W, mu, eta

    def direction(state: tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:  # noqa: E501
        _, u, W, _, _ = state
        ga = d.gsum(u)
        gb = d.X.T @ u if d.X.shape[1] else np.zeros(0)
        da, db = _schur_solve(*information(d, W), ga, gb)
        step = np.concatenate([da, db])
        return step, float(step @ np.concatenate([ga, gb]))

    # stop at tol, or when the decrement stalls at the rounding-noise floor
    res = newton_maximize(evaluate, theta, direction, max_iter=max_iter, tol=tol, stall_floor=1e-10,
                          max_halvings=39, llf=lambda st: st[0])
    theta, (llf, u, W, mu, _), it, converged = res.params, res.state, res.n_iter, res.converged
    if not converged:
        warn_not_converged(where, max_iter, f" (Fisher scoring; last log-likelihood {llf:.6f})", stacklevel=4)
    D, C, H = information(d, W)
    cov = block_inverse(D, C, H)
    return Fit(theta, cov, llf, it, converged, mu, u)


# -- multinomial (cause-specific competing exits) ------------------------------------------------
def _multinomial_terms(eta: np.ndarray, d: Design) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, score factors ``y_k - m mu_k`` and probabilities for ``eta`` of shape (n, K)."""
    zeros = np.zeros((eta.shape[0], 1))
    lse = special.logsumexp(np.hstack([zeros, eta]), axis=1)
    logp = eta - lse[:, None]
    mu = np.exp(logp)
    y, m = d.events, d.trials
    llf = float(np.sum(y * logp) + np.sum((m - y.sum(axis=1)) * (-lse)))
    return llf, y - m[:, None] * mu, mu


def fit_multinomial(
    d: Design,
    start: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-14,
    where: str = "MultinomialHazard.fit",
) -> Fit:
    """Newton-Raphson for the multinomial-logit hazard (parameters stacked by cause).

    Parameters
    ----------
    d : Design
        Sorted rows or cells; ``events`` has one column per cause.
    start : ndarray of shape (K, B + p)
        Starting values.
    max_iter, tol : int, float
        Iteration controls.
    where : str
        Name used in warnings.

    Returns
    -------
    Fit
        ``params`` and ``cov`` are stacked cause by cause, each ``[alpha, beta]``.
    """
    K = d.events.shape[1]
    B, p = d.n_groups, d.X.shape[1]
    q = B + p
    theta = start.astype(float).reshape(K, q).copy()

    def evaluate(th: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = th[:, :B][:, d.g].T + (d.X @ th[:, B:].T if p else 0.0)
        return _multinomial_terms(eta, d)

    def hessian(mu: np.ndarray) -> np.ndarray:
        Hfull = np.zeros((K * q, K * q))
        for k in range(K):
            for j in range(k, K):
                Wkj = d.trials * mu[:, k] * ((k == j) - mu[:, j])
                Dk, Ck, Hk = information(d, Wkj)
                blk = np.zeros((q, q))
                blk[:B, :B] = np.diag(Dk)
                blk[:B, B:] = Ck
                blk[B:, :B] = Ck.T
                blk[B:, B:] = Hk
                Hfull[k * q : (k + 1) * q, j * q : (j + 1) * q] = blk
                Hfull[j * q : (j + 1) * q, k * q : (k + 1) * q] = blk.T
        return Hfull

    def direction(state: tuple[float, np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:
        _, U, mu = state
        grad = np.concatenate([np.concatenate([d.gsum(U[:, k]), d.X.T @ U[:, k]]) for k in range(K)])
        step = linalg.solve(hessian(mu), grad, assume_a="pos")
        return step, float(step @ grad)

    # stop at tol, or when the decrement stalls at the rounding-noise floor
    res = newton_maximize(lambda th: evaluate(th.reshape(K, q)), theta.ravel(), direction, max_iter=max_iter,
                          tol=tol, stall_floor=1e-10, max_halvings=39, llf=lambda st: st[0])
    theta, (llf, U, mu), it, converged = res.params.reshape(K, q), res.state, res.n_iter, res.converged
    if not converged:
        warn_not_converged(where, max_iter, f" (last log-likelihood {llf:.6f})", stacklevel=4)
    cov = linalg.inv(hessian(mu))
    return Fit(theta.ravel(), cov, llf, it, converged, mu, U)
