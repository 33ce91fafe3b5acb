"""Numerical core of :class:`evaltools.selection.StaggeredDiD` (Callaway and Sant'Anna 2021).

Arrays only: a balanced panel of ``n`` units and ``T`` periods (outcomes ``y``
of shape ``(n, T)``, covariates ``x`` of shape ``(n, T, k)`` with an intercept
column, time-invariant weights ``w`` and first-treatment periods ``g``, 0 for
never treated).  Every group-time cell is a two-period, two-group DiD computed
with the panel estimators of Sant'Anna and Zhao (2020) as implemented in R
``DRDID`` (``drdid_panel``, ``std_ipw_did_panel``, ``reg_did_panel``); the cell
influence functions are rescaled by ``n / n_cell`` and stacked into an
``(n, cells)`` matrix, so that ``se = sqrt(sum(IF**2)) / n`` is a standard error
clustered by unit.  Aggregation and the multiplier bootstrap follow R ``did``
(``compute.aggte``, ``mboot``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from evaltools.exceptions import ConvergenceWarning, OverlapWarning, SpecificationError

__all__ = [
    "CellFit",
    "Design",
    "aggregate",
    "bootstrap_draws",
    "estimate_cells",
    "sup_t",
]

_SMALL_SE = np.sqrt(np.finfo(float).eps) * 10
_EPS = np.finfo(float).eps
_IQR_NORMAL = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)


@dataclass(frozen=True)
class Design:
    """Balanced panel arrays (rows sorted by unit; period columns in ascending order)."""

    y: np.ndarray  # (n, T)
    x: np.ndarray  # (n, T, k), first column the intercept
    w: np.ndarray  # (n,)
    g: np.ndarray  # (n,) first-treatment period, 0 = never treated
    times: np.ndarray  # (T,) ascending
    groups: np.ndarray  # treated groups for which ATT(g, t) are estimated


@dataclass
class CellFit:
    """Group-time ATTs and their stacked influence functions."""

    group: np.ndarray
    time: np.ndarray
    base: np.ndarray
    att: np.ndarray
    inf: np.ndarray  # (n, cells)
    n_treated: np.ndarray
    n_control: np.ndarray
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- nuisance models
def _logit_irls(d: np.ndarray, x: np.ndarray, w: np.ndarray, max_iter: int, tol: float):
    """Weighted logit by IRLS exactly as R ``glm.fit`` (same start, same deviance criterion).

    Returns fitted probabilities, the ``(k, k)`` covariance ``(X'WX)^-1`` from the last
    iteration's working weights (what ``vcov(glm)`` reports) and a convergence flag.
    """
    mu = (w * d + 0.5) / (w + 1.0)
    eta = np.log(mu / (1.0 - mu))
    x = np.asarray(x, dtype=float)

    def deviance(m: np.ndarray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(d > 0, d * np.log(d / m), 0.0)
            b = np.where(d < 1, (1 - d) * np.log((1 - d) / (1 - m)), 0.0)
        return float(2 * np.sum(w * (a + b)))

    if max_iter < 1:
        raise SpecificationError(f"The propensity IRLS needs max_iter >= 1; got {max_iter}.")
    dev_old = deviance(mu)
    converged = False
    xtwx = np.zeros((x.shape[1], x.shape[1]))
    for _ in range(max_iter):
        var = mu * (1.0 - mu)
        z = eta + (d - mu) / var
        ww = w * var
        xtwx = (x * ww[:, None]).T @ x
        try:
            beta = np.linalg.solve(xtwx, (x * ww[:, None]).T @ z)
        except np.linalg.LinAlgError:  # separation: working weights collapse to 0
            break
        eta = x @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return mu, np.linalg.pinv(xtwx) if not converged else np.linalg.inv(xtwx), converged


def _wls(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, bool]:
    """Weighted least squares coefficients; flag False when ``X'WX`` is numerically singular."""
    xtwx = (x * w[:, None]).T @ x
    if xtwx.size == 0 or 1.0 / np.linalg.cond(xtwx, 1) < _EPS:
        return np.full(x.shape[1], np.nan), False
    return np.linalg.solve(xtwx, (x * w[:, None]).T @ y), True


# ----------------------------------------------------------------------------- 2x2 estimators
def _drdid_panel(dy, d, x, w, ps, ps_cov):
    """Locally efficient DR DiD (Sant'Anna and Zhao 2020, eq. 3.1); influence function per unit."""
    n = len(d)
    beta, _ = _wls(dy[d == 0], x[d == 0], w[d == 0])
    out = x @ beta
    w_t = w * d
    w_c = w * ps * (1 - d) / (1 - ps)
    att_t = w_t * (dy - out)
    att_c = w_c * (dy - out)
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    w_ols = w * (1 - d)
    xpx_inv = np.linalg.inv((w_ols[:, None] * x).T @ x / n)
    lin_ols = (w_ols * (dy - out))[:, None] * x @ xpx_inv
    lin_ps = (w * (d - ps))[:, None] * x @ (ps_cov * n)
    inf_t = (att_t - w_t * eta_t - lin_ols @ (w_t[:, None] * x).mean(axis=0)) / w_t.mean()
    m2 = (w_c * (dy - out - eta_c))[:, None] * x
    inf_c = (
        att_c - w_c * eta_c + lin_ps @ m2.mean(axis=0) - lin_ols @ (w_c[:, None] * x).mean(axis=0)
    ) / w_c.mean()
    return eta_t - eta_c, inf_t - inf_c


def _ipw_did_panel(dy, d, x, w, ps, ps_cov):
    """Normalised (Hajek) IPW DiD of Abadie (2005) as ``DRDID::std_ipw_did_panel``."""
    n = len(d)
    w_t = w * d
    w_c = w * ps * (1 - d) / (1 - ps)
    att_t = w_t * dy
    att_c = w_c * dy
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    lin_ps = (w * (d - ps))[:, None] * x @ (ps_cov * n)
    inf_t = (att_t - w_t * eta_t) / w_t.mean()
    m2 = ((w_c * (dy - eta_c))[:, None] * x).mean(axis=0)
    inf_c = (att_c - w_c * eta_c + lin_ps @ m2) / w_c.mean()
    return eta_t - eta_c, inf_t - inf_c


def _reg_did_panel(dy, d, x, w):
    """Outcome-regression DiD (Heckman, Ichimura and Todd 1997) as ``DRDID::reg_did_panel``."""
    n = len(d)
    beta, _ = _wls(dy[d == 0], x[d == 0], w[d == 0])
    out = x @ beta
    w_t = w * d
    eta_t = (w_t * dy).mean() / w_t.mean()
    eta_c = (w_t * out).mean() / w_t.mean()
    w_ols = w * (1 - d)
    xpx_inv = np.linalg.inv((w_ols[:, None] * x).T @ x / n)
    lin_ols = (w_ols * (dy - out))[:, None] * x @ xpx_inv
    inf_t = (w_t * dy - w_t * eta_t) / w_t.mean()
    inf_c = (w_t * out - w_t * eta_c + lin_ols @ (w_t[:, None] * x).mean(axis=0)) / w_t.mean()
    return eta_t - eta_c, inf_t - inf_c


# ----------------------------------------------------------------------------- group-time cells
def estimate_cells(
    design: Design,
    *,
    method: str,
    control_group: str,
    base_period: str,
    anticipation: float,
    max_iter: int = 25,
    tol: float = 1e-8,
) -> CellFit:
    """Estimate every ATT(g, t) (the loop of R ``did::compute.att_gt``, panel case)."""
    y, x, w, g, times = design.y, design.x, design.w, design.g, design.times
    n, n_t = y.shape
    varying = base_period == "varying"
    cells_t = range(1, n_t) if varying else range(n_t)
    groups, ts, bases, atts, n1s, n0s, infs = [], [], [], [], [], [], []
    notes: list[str] = []
    for gval in design.groups:
        is_g = g == gval
        pre_idx = np.flatnonzero(times + anticipation < gval)
        for ti in cells_t:
            cur = times[ti]
            if varying:
                base = ti - 1 if gval > cur else pre_idx[-1]
            else:
                base = pre_idx[-1]
            if control_group == "never":
                is_c = g == 0
            else:
                later = times[max(ti, base)]
                is_c = (g == 0) | ((g > later + anticipation) & ~is_g)
            groups.append(gval)
            ts.append(cur)
            bases.append(times[base])
            if not varying and base == ti:
                atts.append(0.0)
                n1s.append(int(is_g.sum()))
                n0s.append(int(is_c.sum()))
                infs.append(np.zeros(n))
                continue
            sel = is_g | is_c
            d = is_g[sel].astype(float)
            dy = y[sel, ti] - y[sel, base]
            xs = x[sel, min(ti, base), :]
            ws = w[sel]
            n1s.append(int(d.sum()))
            n0s.append(int((1 - d).sum()))
            att, inf = _cell(dy, d, xs, ws, method, max_iter, tol, gval, cur, notes)
            atts.append(att)
            full = np.zeros(n)
            full[sel] = inf * (n / sel.sum())
            infs.append(full)
    return CellFit(
        group=np.asarray(groups, dtype=float),
        time=np.asarray(ts, dtype=float),
        base=np.asarray(bases, dtype=float),
        att=np.asarray(atts, dtype=float),
        inf=np.column_stack(infs) if infs else np.zeros((n, 0)),
        n_treated=np.asarray(n1s),
        n_control=np.asarray(n0s),
        notes=notes,
    )


def _cell(dy, d, x, w, method, max_iter, tol, gval, cur, notes):
    """One 2x2 DiD; NaN with a warning when it cannot be estimated (as R did does)."""
    n = len(d)
    nan = (np.nan, np.full(n, np.nan))
    if x.shape[1] > 1:  # covariates constant within this comparison carry no information (R: aliased)
        varies = np.r_[True, np.ptp(x[:, 1:], axis=0) > 0]
        x = x[:, varies]
    if d.sum() == 0 or d.sum() == n:
        notes.append(f"ATT({gval:g},{cur:g}): no {'controls' if d.sum() == n else 'treated units'}")
        warnings.warn(
            f"StaggeredDiD: ATT({gval:g},{cur:g}) not estimated: no "
            f"{'comparison units' if d.sum() == n else 'treated units'}.",
            OverlapWarning,
            stacklevel=4,
        )
        return nan
    ps = ps_cov = None
    if method in ("dr", "ipw"):
        ps, ps_cov, conv = _logit_irls(d, x, w, max_iter, tol)
        if not conv:
            warnings.warn(
                f"StaggeredDiD: propensity logit for ATT({gval:g},{cur:g}) did not converge in "
                f"{max_iter} iterations.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if np.max(ps) >= 0.999:
            notes.append(f"ATT({gval:g},{cur:g}): overlap violated (max propensity score {np.max(ps):.4f})")
            warnings.warn(
                f"StaggeredDiD: overlap condition violated for group {gval:g} in period "
                f"{cur:g} (a propensity score >= 0.999); ATT set to NaN.",
                OverlapWarning,
                stacklevel=4,
            )
            return nan
        ps = np.minimum(ps, 1 - 1e-16)
    if method in ("dr", "reg"):
        xc = x[d == 0]
        xtx = xc.T @ xc
        if 1.0 / np.linalg.cond(xtx, 1) < _EPS:
            notes.append(f"ATT({gval:g},{cur:g}): too few comparison units for the outcome regression")
            warnings.warn(
                f"StaggeredDiD: not enough comparison units for group {gval:g} in period "
                f"{cur:g} to run the outcome regression ({int(n - d.sum())} units, "
                f"{x.shape[1]} coefficients); ATT set to NaN.",
                OverlapWarning,
                stacklevel=4,
            )
            return nan
    if method == "dr":
        return _drdid_panel(dy, d, x, w, ps, ps_cov)
    if method == "ipw":
        return _ipw_did_panel(dy, d, x, w, ps, ps_cov)
    return _reg_did_panel(dy, d, x, w)


def cell_se(inf: np.ndarray) -> np.ndarray:
    """Influence-function standard errors ``sqrt(sum IF^2) / n``; tiny values become NaN."""
    n = inf.shape[0]
    se = np.sqrt(np.sum(inf**2, axis=0)) / n
    return np.where(se <= _SMALL_SE, np.nan, se)


# ----------------------------------------------------------------------------- aggregation
def _wif(keep: np.ndarray, pg: np.ndarray, w: np.ndarray, g: np.ndarray, cell_group: np.ndarray):
    """Influence function of the estimated aggregation weights (R ``did:::wif``), ``(n, len(keep))``."""
    ind = w[:, None] * (g[:, None] == cell_group[keep][None, :]) - pg[keep][None, :]
    s = pg[keep].sum()
    return ind / s - ind.sum(axis=1, keepdims=True) * (pg[keep] / s**2)[None, :]


def aggregate(
    kind: str,
    cells: CellFit,
    design: Design,
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: float | None = None,
) -> dict:
    """Aggregate ATT(g, t) as R ``did::compute.aggte`` (analytic influence functions).

    Returns a dict with ``labels`` (event times, groups or periods), ``att``,
    ``inf`` (``(n, len(labels))``), ``overall_att``, ``overall_inf``.
    """
    att, inf = cells.att, cells.inf
    cg, ct = cells.group, cells.time
    w, g = design.w, design.g
    groups = np.unique(cg)
    pgg = np.array([np.mean(w * (g == gv)) for gv in groups])
    pg = pgg[np.searchsorted(groups, cg)]
    post = (cg <= ct) & (ct <= cg + max_e)
    if kind == "simple":
        keep = np.flatnonzero(post)
        wts = pg[keep] / pg[keep].sum()
        overall = float(np.sum(att[keep] * wts))
        oinf = inf[:, keep] @ wts + _wif(keep, pg, w, g, cg) @ att[keep]
        return {
            "labels": np.array([]),
            "att": np.array([]),
            "inf": np.zeros((inf.shape[0], 0)),
            "overall_att": overall,
            "overall_inf": oinf,
        }
    if kind == "group":
        atts, infs = [], []
        for gv in groups:
            k = np.flatnonzero((cg == gv) & post)
            atts.append(float(np.mean(att[k])) if len(k) else np.nan)
            infs.append(
                inf[:, k] @ np.full(len(k), 1.0 / len(k)) if len(k) else np.full(inf.shape[0], np.nan)
            )
        atts_a = np.asarray(atts)
        inf_g = np.column_stack(infs)
        keep = np.arange(len(groups))
        wts = pgg / pgg.sum()
        overall = float(np.sum(atts_a * wts))
        oinf = inf_g @ wts + _wif(keep, pgg, w, g, groups) @ atts_a
        return {"labels": groups, "att": atts_a, "inf": inf_g, "overall_att": overall, "overall_inf": oinf}
    if kind == "dynamic":
        e_all = ct - cg
        include = np.ones(len(att), dtype=bool)
        eseq = np.unique(e_all)
        if balance_e is not None:
            t_first, t_last = ct.min(), ct.max()
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - t_last + t_first)]
            include = (t_last - cg) >= balance_e
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        atts, infs = [], []
        for e in eseq:
            k = np.flatnonzero((e_all == e) & include)
            wts = pg[k] / pg[k].sum()
            atts.append(float(np.sum(att[k] * wts)))
            infs.append(inf[:, k] @ wts + _wif(k, pg, w, g, cg) @ att[k])
        atts_a = np.asarray(atts)
        inf_e = np.column_stack(infs) if infs else np.zeros((inf.shape[0], 0))
        pos = eseq >= 0
        overall = float(np.mean(atts_a[pos])) if pos.any() else np.nan
        oinf = inf_e[:, pos].mean(axis=1) if pos.any() else np.full(inf.shape[0], np.nan)
        return {"labels": eseq, "att": atts_a, "inf": inf_e, "overall_att": overall, "overall_inf": oinf}
    # calendar
    tcal = np.unique(ct)
    tcal = tcal[tcal >= cg.min()]
    atts, infs = [], []
    for tv in tcal:
        k = np.flatnonzero((ct == tv) & (cg <= ct))
        wts = pg[k] / pg[k].sum()
        atts.append(float(np.sum(att[k] * wts)))
        infs.append(inf[:, k] @ wts + _wif(k, pg, w, g, cg) @ att[k])
    atts_a = np.asarray(atts)
    inf_t = np.column_stack(infs)
    overall = float(np.mean(atts_a))
    return {
        "labels": tcal,
        "att": atts_a,
        "inf": inf_t,
        "overall_att": overall,
        "overall_inf": inf_t.mean(axis=1),
    }


# ----------------------------------------------------------------------------- multiplier bootstrap
def bootstrap_draws(inf: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """``sqrt(n) * mean_i(U_i * IF_i)`` for ``n_boot`` Rademacher draws ``U`` (R ``did::mboot``).

    The draws are generated in blocks from ``numpy.random.default_rng(seed)`` so that memory stays
    bounded for many units; the same seed gives the same multipliers for any ``inf``.
    """
    n, k = inf.shape
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, k))
    clean = np.nan_to_num(inf)
    block = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    for start in range(0, n_boot, block):
        stop = min(n_boot, start + block)
        u = rng.integers(0, 2, size=(stop - start, n), dtype=np.int8).astype(float) * 2 - 1
        out[start:stop] = u @ clean / n
    out *= np.sqrt(n)
    out[:, np.isnan(inf).any(axis=0)] = np.nan
    return out


def sup_t(draws: np.ndarray, n: int, alpha: float) -> tuple[np.ndarray, float]:
    """Bootstrap standard errors (IQR / 1.349) and the sup-t critical value for level ``1 - alpha``.

    Degenerate columns (all draws zero, e.g. the reference cells of a universal base period)
    get NaN standard errors and do not enter the critical value.
    """
    ok = ~np.isnan(draws).any(axis=0) & (np.sum(draws**2, axis=0) > _SMALL_SE)
    se = np.full(draws.shape[1], np.nan)
    if not ok.any():
        return se, np.nan
    b = draws[:, ok]
    q75 = np.quantile(b, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(b, 0.25, axis=0, method="inverted_cdf")
    sigma = (q75 - q25) / _IQR_NORMAL
    sigma = np.where(sigma <= _SMALL_SE, np.nan, sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.nanmax(np.abs(b / sigma[None, :]), axis=1)
    t = t[np.isfinite(t)]
    crit = float(np.quantile(t, 1 - alpha, method="inverted_cdf")) if len(t) else np.nan
    se[ok] = sigma / np.sqrt(n)
    return se, crit
