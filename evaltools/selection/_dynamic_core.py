"""Array kernels of the dynamic (elapsed-duration) evaluation: risk sets, logit, IPW/AIPW by band.

Everything here works on NumPy arrays of the stacked risk-set table (one row per
spell and elapsed week ``u``); :mod:`evaltools.selection.dynamic` builds that
table from a register panel and wraps the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaltools.exceptions import DataValidationError

__all__ = ["stack_elapsed", "last_interval", "logit_fit", "band_effect", "BandFit", "cluster_covariance"]


def stack_elapsed(duration: np.ndarray, elapsed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand spells into (spell row, elapsed week ``u``) pairs without a Python loop.

    Parameters
    ----------
    duration : array of int
        Spell durations in weeks (a spell of duration ``d`` is on benefit at ``u = 0..d-1``).
    elapsed : array of int
        Sorted, unique elapsed weeks of interest (``>= 0``).

    Returns
    -------
    (rows, u) : arrays
        ``rows`` indexes the spells, ``u`` the elapsed week, for every ``u`` in
        ``elapsed`` with ``u < duration``.
    """
    elapsed = np.asarray(elapsed, dtype=np.int64)
    n_u = np.searchsorted(elapsed, np.asarray(duration, dtype=np.int64), side="left")
    rows = np.repeat(np.arange(len(duration)), n_u)
    first = np.repeat(np.cumsum(n_u) - n_u, n_u)
    pos = np.arange(len(rows)) - first
    return rows, elapsed[pos]


def last_interval(
    ev_pid: np.ndarray, ev_start: np.ndarray, ev_end: np.ndarray, pid: np.ndarray, week: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The latest interval of each query person that starts at or before ``week``.

    Parameters
    ----------
    ev_pid, ev_start, ev_end : arrays
        Intervals, sorted by ``(ev_pid, ev_start)``.
    pid, week : arrays
        Queries.

    Returns
    -------
    (found, start, end) : arrays
        ``found`` is False where the person has no interval starting by ``week``.
    """
    if len(ev_pid) == 0:
        z = np.zeros(len(pid), dtype=np.int64)
        return np.zeros(len(pid), bool), z, z
    uniq = np.unique(np.concatenate([ev_pid, pid]))
    ek = (np.searchsorted(uniq, ev_pid).astype(np.int64) << 32) + (ev_start.astype(np.int64) + 2**31)
    qk = (np.searchsorted(uniq, pid).astype(np.int64) << 32) + (week.astype(np.int64) + 2**31)
    pos = np.searchsorted(ek, qk, side="right") - 1
    pos_c = np.maximum(pos, 0)
    found = (pos >= 0) & (ev_pid[pos_c] == pid)
    return found, ev_start[pos_c].astype(np.int64), ev_end[pos_c].astype(np.int64)


def logit_fit(
    x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *, maxiter: int = 50, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logit by Newton-Raphson (``w`` are frequency weights, e.g. bootstrap counts).

    Returns
    -------
    (beta, p) : arrays
        Coefficients and fitted probabilities.

    Raises
    ------
    DataValidationError
        If the fit does not converge or the fitted probabilities reach 0 or 1
        (separation).
    """
    w = np.ones(len(t)) if w is None else np.asarray(w, dtype=float)
    scale = np.where(np.ptp(x, axis=0) > 0, np.abs(x).max(axis=0), 1.0)
    scale = np.where(scale > 0, scale, 1.0)
    xs = x / scale
    beta = np.zeros(x.shape[1])
    tw = t * w
    ll_old = -np.inf
    for _ in range(maxiter):
        eta = np.clip(xs @ beta, -35, 35)
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = xs.T @ (tw - w * p)
        hess = (xs * (w * p * (1 - p))[:, None]).T @ xs
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        beta = beta + step
        eta = np.clip(xs @ beta, -35, 35)
        ll = float(np.sum(tw * eta - w * np.logaddexp(0, eta)))
        if np.max(np.abs(step)) < tol**0.5 or abs(ll - ll_old) < tol * (abs(ll) + 1):
            break
        ll_old = ll
    else:
        raise DataValidationError(
            f"the propensity logit did not converge in {maxiter} iterations ({len(t):,} rows, "
            f"{int(t.sum()):,} treated). Use fewer covariates or wider elapsed-duration bands."
        )
    beta = beta / scale
    eta = np.clip(x @ beta, -35, 35)
    p = 1.0 / (1.0 + np.exp(-eta))
    if np.any(p[w > 0] > 1 - 1e-10) or np.any(p[w > 0] < 1e-12):
        raise DataValidationError(
            "the propensity logit separates treated and controls (fitted probabilities of 0 or 1). "
            "Drop covariates that predict the treatment perfectly, or use wider elapsed-duration bands."
        )
    return beta, p


@dataclass
class BandFit:
    """Estimate of one elapsed-duration band (``influence`` sums to ``estimate - truth`` to first order)."""

    estimate: float
    mean_treated: float
    mean_control: float
    n_treated: int
    n_controls: int
    ess_controls: float
    influence: np.ndarray
    weights: np.ndarray
    pscore: np.ndarray


def band_effect(
    x: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    *,
    estimator: str,
    freq: np.ndarray | None = None,
    pscore_correction: bool = True,
    pscore: np.ndarray | None = None,
) -> BandFit:
    """ATT of one band by IPW (Hajek odds weights) or AIPW (outcome regression on controls).

    Parameters
    ----------
    x : array
        Design matrix with an intercept column.
    t, y : arrays
        Treatment indicator (0/1) and outcome.
    estimator : {"ipw", "aipw"}
        Estimator.
    freq : array, optional
        Frequency weights (bootstrap multiplicities).
    pscore_correction : bool, default=True
        Add the propensity-estimation term to the IPW influence function.
    pscore : array, optional
        Fitted probabilities of this very logit (``logit_fit(x, t, freq)``), when
        already computed; skips the re-fit.

    Returns
    -------
    BandFit
        ``influence`` is per row (unweighted by ``freq``), in sum form.
    """
    f = np.ones(len(t)) if freq is None else np.asarray(freq, dtype=float)
    tb = t.astype(bool)
    p = logit_fit(x, t.astype(float), f)[1] if pscore is None else np.asarray(pscore, dtype=float)
    odds = p / (1 - p)
    wc = np.where(tb, 0.0, odds)
    n1 = float(f[tb].sum())
    sw = float((f * wc).sum())
    mu1 = float((f * y)[tb].sum() / n1)
    if estimator == "aipw":
        c = ~tb & (f > 0)
        xc = x[c] * np.sqrt(f[c])[:, None]
        coef = np.linalg.lstsq(xc, y[c] * np.sqrt(f[c]), rcond=None)[0]
        m0 = x @ coef
        r = y - m0
        a = float((f * r)[tb].sum() / n1)
        b = float((f * wc * r).sum() / sw)
        est = a - b
        mu0 = mu1 - est
        infl = np.where(tb, (r - a) / n1, -wc * (r - b) / sw)
    else:
        mu0 = float((f * wc * y).sum() / sw)
        est = mu1 - mu0
        infl = np.where(tb, (y - mu1) / n1, -wc * (y - mu0) / sw)
        if pscore_correction:
            # d est / d gamma = -sum_C w x (y - mu0) / sum_C w ; gamma-hat - gamma = H^-1 sum x (t - p)
            d = -(x * (f * wc * (y - mu0))[:, None]).sum(axis=0) / sw
            hess = (x * (f * p * (1 - p))[:, None]).T @ x
            g = np.linalg.solve(hess, d)
            infl = infl + (x @ g) * (t - p)
    wsum = f * wc
    ess = float(wsum.sum() ** 2 / (f * wc**2).sum()) if sw > 0 else 0.0
    return BandFit(
        estimate=float(est),
        mean_treated=mu1,
        mean_control=float(mu0),
        n_treated=int(round(n1)),
        n_controls=int(round(f[~tb].sum())),
        ess_controls=ess,
        influence=infl,
        weights=np.where(tb, 1.0, wc),
        pscore=p,
    )


def cluster_covariance(infl: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Covariance of sum-form influence functions clustered by ``cluster`` (small-sample factor G/(G-1)).

    Parameters
    ----------
    infl : array, shape (n,) or (n, k)
        Influence-function contributions of each row to ``k`` estimates (sum form:
        ``estimate - truth ~= infl.sum(axis=0)``).
    cluster : array, shape (n,)
        Cluster labels (persons).

    Returns
    -------
    ndarray, shape (k, k)
        ``G/(G-1) sum_g (s_g - mean s)(s_g - mean s)'`` over the cluster sums ``s_g``
        (NaN with fewer than two clusters).
    """
    m = np.asarray(infl, dtype=float)
    m = m[:, None] if m.ndim == 1 else m
    _, inv = np.unique(np.asarray(cluster), return_inverse=True)
    g = int(inv.max()) + 1 if len(inv) else 0
    if g < 2:
        return np.full((m.shape[1], m.shape[1]), np.nan)
    s = np.zeros((g, m.shape[1]))
    np.add.at(s, inv.ravel(), m)
    sc = s - s.mean(axis=0)
    return g / (g - 1) * sc.T @ sc
