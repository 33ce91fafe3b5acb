"""The one logit and probit of the package (propensity scores, selection equations, dynamic designs).

:func:`fit_binary` maximises the (frequency-)weighted binary likelihood with
the shared Newton driver.  When the design has an intercept (a non-zero
constant column) the other columns are centred at their weighted means and
scaled to a maximum absolute value of one before the Newton steps, so that
raw covariates with a large level and little variation (a birth year, a
calendar week index) do not make the Hessian near-singular.  This is a
reparametrisation: the fitted probabilities are those of the uncentred model,
and the coefficients and their covariance are returned on the scale of ``X``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special, stats
from scipy.special import log_ndtr

from evaltools._model.optimize import newton_maximize, solve_step

__all__ = ["BinaryFit", "binary_hessian", "binary_mean", "binary_score_obs", "fit_binary"]

Link = Literal["logit", "probit"]


@dataclass(frozen=True)
class BinaryFit:
    """Estimates of :func:`fit_binary`.

    Attributes
    ----------
    params : ndarray, shape (k,)
        Coefficients on the scale of ``X``.
    cov : ndarray, shape (k, k)
        Inverse observed information on the scale of ``X``.
    llf : float
        Log-likelihood.
    converged : bool
        Whether the Newton decrement fell below ``tol`` within ``max_iter``.
    n_iter : int
        Newton iterations.
    fitted : ndarray, shape (n,)
        Fitted probabilities.
    scaled_params : ndarray, shape (k,)
        Coefficients on the centred and scaled design (zero for constant
        columns): the separating columns are the ones with large values.
    """

    params: np.ndarray
    cov: np.ndarray
    llf: float
    converged: bool
    n_iter: int
    fitted: np.ndarray
    scaled_params: np.ndarray


def binary_mean(eta: np.ndarray, link: Link) -> np.ndarray:
    """``P(y = 1)`` for a linear index ``eta``."""
    return special.expit(eta) if link == "logit" else special.ndtr(eta)


def _terms(
    eta: np.ndarray, y: np.ndarray, w: np.ndarray, link: Link
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, score factor ``d llf_i / d eta_i`` and observed weight ``-d2 llf_i / d eta_i^2``."""
    if link == "logit":
        p = special.expit(eta)
        llf = float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))
        return llf, w * (y - p), w * p * (1.0 - p)
    q = 2.0 * y - 1.0
    qe = q * eta
    lcdf = log_ndtr(qe)
    m = np.exp(stats.norm.logpdf(qe) - lcdf)  # phi(q eta) / Phi(q eta)
    return float(np.sum(w * lcdf)), w * q * m, w * m * (m + qe)


def binary_score_obs(params: np.ndarray, X: np.ndarray, y: np.ndarray, link: Link) -> np.ndarray:
    """Score contributions ``d llf_i / d params``, shape (n, k)."""
    _, u, _ = _terms(X @ params, np.asarray(y, float), np.ones(len(y)), link)
    return u[:, None] * X


def binary_hessian(params: np.ndarray, X: np.ndarray, y: np.ndarray, link: Link) -> np.ndarray:
    """Hessian of the log-likelihood (negative definite), shape (k, k)."""
    _, _, W = _terms(X @ params, np.asarray(y, float), np.ones(len(y)), link)
    return -(X * W[:, None]).T @ X


def fit_binary(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None = None,
    *,
    link: Link = "logit",
    max_iter: int = 100,
    tol: float = 1e-14,
    standardize: bool = True,
) -> BinaryFit:
    """Weighted logit or probit by Newton-Raphson with step halving.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Design matrix (usually with an intercept column).
    y : ndarray, shape (n,)
        Outcome (0/1).
    w : ndarray, shape (n,), optional
        Frequency weights (e.g. bootstrap counts).
    link : {"logit", "probit"}, default="logit"
        Link function.
    max_iter : int, default=100
        Maximum number of Newton steps.
    tol : float, default=1e-14
        Tolerance on the Newton decrement ``g' H^{-1} g`` (an absolute
        log-likelihood scale); a decrement stalled below ``1e-10`` at the
        rounding-noise floor also counts as converged.
    standardize : bool, default=True
        Centre and scale the non-constant columns when there is an intercept.

    Returns
    -------
    BinaryFit
        ``converged`` is False when ``max_iter`` was reached; the caller
        decides whether that is an error (see also ``scaled_params``).
    """
    x = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    k = x.shape[1]
    varies = np.ptp(x, axis=0) > 0 if len(x) else np.zeros(k, bool)
    const = np.flatnonzero(~varies & (np.abs(x[:1]).max(axis=0) > 0)) if len(x) else np.array([], int)
    shift = np.zeros(k)
    if standardize and len(const) and varies.any():
        sw = w.sum()
        shift = np.where(varies, (w @ x) / sw if sw > 0 else x.mean(axis=0), 0.0)
    xc = x - shift
    scale = np.ones(k)
    if standardize:
        scale = np.where(varies, np.abs(xc).max(axis=0) if len(x) else 1.0, 1.0)
        scale = np.where(scale > 0, scale, 1.0)
    xs = xc / scale

    def evaluate(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        return _terms(xs @ b, y, w, link)

    def direction(state: tuple[float, np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:
        _, u, W = state
        g = xs.T @ u
        step = solve_step((xs * W[:, None]).T @ xs, g)
        return step, float(step @ g)

    res = newton_maximize(evaluate, np.zeros(k), direction, max_iter=max_iter, tol=tol, stall_floor=1e-10,
                          llf=lambda st: st[0])
    b = res.params
    llf, _, W = res.state
    info_s = (xs * W[:, None]).T @ xs
    try:
        cov_s = np.linalg.inv(info_s)
    except np.linalg.LinAlgError:
        cov_s = np.full((k, k), np.nan)
    # x b = xs b_s with b = b_s / scale and the intercept absorbing -shift @ b: a linear map b = J b_s
    J = np.diag(1.0 / scale)
    if len(const):
        J[const[0], :] -= (shift / scale) / x[0, const[0]]
    params = J @ b
    cov = J @ cov_s @ J.T
    fitted = binary_mean(xs @ b, link)
    return BinaryFit(params, cov, llf, res.converged, res.n_iter, fitted, np.where(varies, b, 0.0))
