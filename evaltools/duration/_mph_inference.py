"""Inference for the timing-of-events model that accounts for choosing the number of mass points.

The Hessian standard errors of the fit picked by AIC treat the number of mass
points as known.  Two alternatives use the whole NPMLE path:

* **Person bootstrap of the path** (:func:`bootstrap_path`): persons are drawn
  with replacement; in every replicate each fit on the path is re-maximised
  (Newton from two starts: the full-sample estimate with that number of points,
  and the replicate's own fit with one point fewer plus a new point entering at a
  small mass, the better end point kept; :func:`replicate_path`) and the criterion
  picks the number of points again.  Warm starts alone can end in a local optimum
  whose log-likelihood is below that of the fit with one point fewer, which is
  never the maximum (the smaller fit plus a point of zero mass is feasible); the
  second start keeps every replicate's path non-decreasing in log L.  The covariance of the
  regression coefficients and treatment effects is formed from the selected
  replicate estimates, so it contains the variability of the choice.  By default
  it is robust to outlying replicates (:func:`robust_boot_cov`): an occasional
  replicate whose re-maximised path ends at a near-degenerate mass point (a
  small "stayer" type with an exit location far below the others) gives a
  treatment effect several standard deviations away, and the plain variance of
  the replicates is then dominated by a handful of such draws.  The standard
  errors are the interquartile ranges of the replicates divided by
  ``2 * Phi^{-1}(0.75) = 1.349`` (the bootstrap standard error used by
  Chernozhukov, Fernandez-Val & Melly 2013), and the correlations are the
  Gaussian-consistent transform ``2 sin(pi r_S / 6)`` of Spearman's rank
  correlation; ``scale="sd"`` gives the plain covariance of the replicates.
  Replicates run in parallel processes (``concurrent.futures``), each seeded from
  ``numpy.random.SeedSequence(seed).spawn(n_boot)``, so results do not depend on
  ``n_jobs``.
* **Model averaging** (:func:`model_average`): smoothed information-criterion
  weights ``w_M ~ exp(-IC_M / 2)`` (Buckland, Burnham & Augustin 1997), the
  averaged estimate ``sum_M w_M theta_M`` and the unconditional covariance
  ``sum_M w_M [V_M + (theta_M - theta_bar)(theta_M - theta_bar)']`` (Burnham &
  Anderson 2002, eq. 6.12, in matrix form).

Both return :class:`~evaltools.duration._mph_results.MPHResults` whose
parameters are the regression coefficients and effects common to all fits on
the path (mass points differ in number between fits and are not averaged or
bootstrapped; the table of the selected fit is kept for display).
"""

from __future__ import annotations

import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from evaltools.duration import _mph_core as core
from evaltools.exceptions import SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from evaltools.duration._mph_results import MPHPath, MPHResults

__all__ = ["bootstrap_path", "model_average", "replicate_path", "resample_design", "robust_boot_cov"]

_EXTRA = ("masspoints", "llf", "aic", "bic", "n_points", "n_persons", "n_rows", "hazards",
          "effect_params", "effect_groups", "treatments", "converged", "rank", "n_dropped_rows")


def _check_criterion(criterion: str, where: str) -> None:
    if criterion not in ("aic", "bic"):
        raise SpecificationError(f"The 'criterion' parameter of {where} must be a str among "
                                 "{'aic', 'bic'}. "
                                 f"Got {criterion!r} instead.")


def _common(res: MPHResults) -> list[str]:
    """Names of the parameters shared by every fit on the path (not mass points)."""
    mp = set(res.masspoint_params)
    return [n for n in res.params.index if n not in mp]


def _rebuild(res: MPHResults, params: pd.Series, cov: pd.DataFrame, label: str, notes: list[str],
             more: dict[str, Any] | None = None) -> MPHResults:
    from evaltools.duration._mph_results import MPHResults

    header = [(k, v) for k, v in res._header if k != "Covariance"] + [("Inference", label)]
    foot = [f for f in res._footnotes if not f.startswith(("Standard errors", "Sandwich", "The information"))]
    extra: dict[str, Any] = {k: getattr(res, k) for k in _EXTRA}
    extra["masspoint_params"] = []
    extra["inference"] = label
    extra.update(more or {})
    return MPHResults(params, cov, res.nobs, model=res.model, title=res._title, header=header,
                      footnotes=[*foot, *notes], extra=extra)


def model_average(path: MPHPath, criterion: str = "aic") -> MPHResults:
    """Average the fits on the path with smoothed information-criterion weights.

    Parameters
    ----------
    path : MPHPath
        The NPMLE path.
    criterion : {"aic", "bic"}, default="aic"
        Criterion of the weights ``w_M ~ exp(-IC_M / 2)``.

    Returns
    -------
    MPHResults
        Averaged regression coefficients and effects with the unconditional
        covariance; ``masspoints`` is the table of the fit the criterion selects.
    """
    _check_criterion(criterion, "MPHPath.model_average")
    ic = path.path[criterion].to_numpy(float)
    w = np.exp(-(ic - ic.min()) / 2)
    w /= w.sum()
    best = path.results[int(np.argmin(ic))]
    names = _common(best)
    est = np.stack([r.params[names].to_numpy() for r in path.results])  # (K, p)
    bar = w @ est
    cov = np.zeros((len(names), len(names)))
    for wk, r, e in zip(w, path.results, est):
        d = e - bar
        cov += wk * (r.cov_params().loc[names, names].to_numpy() + np.outer(d, d))
    wtxt = ", ".join(f"{int(m)}: {x:.3f}" for m, x in zip(path.path.index, w))
    notes = [f"Model average over the NPMLE path with smoothed {criterion.upper()} weights (points: weight) "
             f"{wtxt}; unconditional covariance sum_M w_M [V_M + (b_M - b)(b_M - b)'] (Burnham & Anderson "
             "2002), so the standard errors include the uncertainty of the number of mass points.",
             f"The mass-point table is that of the {best.n_points}-point fit selected by "
             f"{criterion.upper()}."]
    return _rebuild(best, pd.Series(bar, index=names), pd.DataFrame(cov, index=names, columns=names),
                    f"model average ({criterion.upper()} weights)", notes,
                    {"weights": pd.Series(w, index=path.path.index)})


def resample_design(design: core.Design, persons: np.ndarray) -> core.Design:
    """Design of the persons ``persons`` (indices, repeats allowed), each a new person."""
    lens = np.diff(np.r_[design.starts, design.pid.shape[0]])
    ln = lens[persons]
    first = np.repeat(design.starts[persons], ln)
    within = np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln)
    rows = first + within
    pid = np.repeat(np.arange(persons.size), ln)
    return core.make_design(pid, design.t[rows], design.event[rows], design.risk[rows],
                            tuple(np.ascontiguousarray(x[rows]) for x in design.X), design.interval)


def robust_boot_cov(draws: np.ndarray) -> np.ndarray:
    """Outlier-robust covariance of bootstrap replicate estimates.

    Parameters
    ----------
    draws : ndarray of shape (B, p)
        Replicate estimates (finite).

    Returns
    -------
    ndarray of shape (p, p)
        ``D R D`` with ``D`` the interquartile ranges divided by
        ``2 * Phi^{-1}(0.75)`` (the standard deviation for normal draws) and
        ``R = 2 sin(pi r_S / 6)`` from Spearman's rank correlations ``r_S``
        (the Pearson correlation for bivariate normal draws), projected on the
        positive semi-definite correlation matrices by clipping negative
        eigenvalues.
    """
    from scipy import stats

    x = np.asarray(draws, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise SpecificationError(f"robust_boot_cov needs a (B, p) array with B >= 2; got shape {x.shape}.")
    q25, q75 = np.quantile(x, [0.25, 0.75], axis=0)
    scale = (q75 - q25) / (2 * stats.norm.ppf(0.75))
    ranks = np.apply_along_axis(stats.rankdata, 0, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        rs = np.atleast_2d(np.corrcoef(ranks, rowvar=False))
    rs = np.where(np.isfinite(rs), rs, 0.0)
    corr = 2 * np.sin(np.pi * rs / 6)
    np.fill_diagonal(corr, 1.0)
    w, v = np.linalg.eigh(corr)
    if w.min() < 0:
        corr = (v * np.clip(w, 0, None)) @ v.T
        d = np.sqrt(np.clip(np.diag(corr), 1e-300, None))
        corr = corr / np.outer(d, d)
    return corr * np.outer(scale, scale)


_WORKER: dict[str, Any] = {}


def _init_worker(model: Any, starts: list[tuple[int, np.ndarray]], criterion: str) -> None:
    _WORKER.update(model=model, starts=starts, criterion=criterion)


_N_CANDIDATES = 64  # random locations searched for the point that enters a replicate's path
_N_ENTER = 4  # of which the ones with the largest directional derivative are tried with optimised mass
_DROP_TOL = 1e-3  # a replicate's path stops where the next fit ends this far below the previous one


def _enter_start(model: Any, design: core.Design, theta: np.ndarray, M: int, rng: np.random.Generator
                 ) -> np.ndarray | None:
    """Start with ``M + 1`` points from the replicate's own ``M``-point fit (``None``: no candidate gains).

    Random locations in the box of the current points widened by 3 are ranked by the
    directional derivative; the best ``_N_ENTER`` enter with the mass that maximises the
    log-likelihood along the mixing direction, and the start with the highest log-likelihood
    is returned.  Its log-likelihood is at least that of the ``M``-point fit (up to the
    smallest entering mass), so the ``M + 1``-point fit started there cannot end below it.
    """
    lay = model._layout(M)
    V = lay.split(theta)[1]
    lo, hi = V.min(axis=0) - 3.0, V.max(axis=0) + 3.0
    cand = lo + (hi - lo) * rng.random((_N_CANDIDATES, design.n_hazards))
    D = core.directional_derivative(theta, design, lay, cand)
    pos = np.flatnonzero(D > 0)
    if pos.size == 0:
        return None
    top = pos[np.argsort(-D[pos])][:_N_ENTER]
    starts = core.enter_points(theta, design, lay, cand[top])
    return max(starts, key=lambda s: s[1])[0]


def replicate_path(model: Any, starts: list[tuple[int, np.ndarray]], design: core.Design,
                   rng: np.random.Generator) -> list[tuple[int, float, np.ndarray]]:
    """Re-maximise the NPMLE path on a resampled design, keeping it non-decreasing in log L.

    Every fit is started twice: at the full-sample estimate with the same number of points
    (the warm start) and at the replicate's own previous fit with a new point entering at a
    small mass (:func:`_enter_start`); the better end point is kept.  Adding a point with zero
    mass reproduces the previous fit, so the maximised log-likelihood cannot decrease along
    the path; a fit that still ends more than ``_DROP_TOL`` below its predecessor is a local
    optimum and the replicate's path stops there.

    Parameters
    ----------
    model : TimingOfEvents
        The model (its layouts and scaled design).
    starts : list of (int, ndarray)
        ``(number of points, scaled parameter vector)`` of the full-sample path, in order.
    design : Design
        The replicate's design (:func:`resample_design`).
    rng : numpy.random.Generator
        Source of the candidate locations.

    Returns
    -------
    list of (int, float, ndarray)
        ``(points, log-likelihood, scaled parameters)`` of the fits on the replicate's path.
    """
    fits: list[tuple[int, float, np.ndarray]] = []
    for M, th0 in starts:
        lay = model._layout(M)
        th, ll, _, _ = core.maximise(th0, design, lay, polish=False, gtol=1e-5)
        if fits:
            prev_M, prev_ll, prev_th = fits[-1]
            th1 = _enter_start(model, design, prev_th, prev_M, rng) if prev_M == M - 1 else None
            if th1 is not None:
                th2, ll2, _, _ = core.maximise(th1, design, lay, polish=False, gtol=1e-5)
                if np.isfinite(ll2) and not ll2 <= ll:
                    th, ll = th2, ll2
            if not ll >= prev_ll - _DROP_TOL:
                break
        fits.append((M, float(ll), th))
    return fits


def _replicate(seed: np.random.SeedSequence) -> tuple[int, np.ndarray, np.ndarray]:
    """One bootstrap replicate: re-maximise the path, select by the criterion.

    Returns the selected number of points, its regression coefficients (original scale) and
    the log-likelihoods of the replicate's path (NaN after a stop).
    """
    from threadpoolctl import threadpool_limits

    model, starts, criterion = _WORKER["model"], _WORKER["starts"], _WORKER["criterion"]
    d = model._sdesign
    rng = np.random.default_rng(seed)
    design = resample_design(d, rng.integers(0, d.n_persons, d.n_persons))
    pen = 2.0 if criterion == "aic" else float(np.log(d.n_persons))
    lls = np.full(len(starts), np.nan)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = replicate_path(model, starts, design, rng)
    best: tuple[float, int, np.ndarray] | None = None
    for k, (M, ll, th) in enumerate(fits):
        lls[k] = ll
        ic = -2.0 * ll + pen * model._layout(M).size
        if np.isfinite(ic) and (best is None or ic < best[0]):
            best = (ic, M, th)
    if best is None:  # pragma: no cover - every fit failed
        return 0, np.full(model._layout(1).n_beta, np.nan), lls
    _, M, th = best
    return M, model._to_original(th, M)[: model._layout(M).n_beta], lls


def bootstrap_path(path: MPHPath, *, n_boot: int = 199, criterion: str = "aic", seed: int | None = 0,
                   n_jobs: int = 1, progress: bool = False, scale: str = "iqr") -> MPHResults:
    """Person (cluster) bootstrap of the NPMLE path with selection in every replicate.

    Parameters
    ----------
    path : MPHPath
        The NPMLE path of a :class:`~evaltools.duration.mph.TimingOfEvents` fit.
    n_boot : int, default=199
        Bootstrap replicates.
    criterion : {"aic", "bic"}, default="aic"
        Criterion that selects the number of mass points (in the sample and in
        every replicate).
    seed : int, optional
        Root seed; replicate ``b`` uses ``SeedSequence(seed).spawn(n_boot)[b]``.
    n_jobs : int, default=1
        Worker processes; 1 runs in-process.
    progress : bool, default=False
        Show a progress bar over the replicates.
    scale : {"iqr", "sd"}, default="iqr"
        Covariance of the replicate estimates: ``"iqr"`` the outlier-robust
        :func:`robust_boot_cov` (what :meth:`MPHPath.bootstrap` and
        ``fit(inference="bootstrap")`` use), ``"sd"`` the plain sample
        covariance.

    Returns
    -------
    MPHResults
        The fit selected by ``criterion`` with the bootstrap covariance of the
        regression coefficients and effects; ``boot_points`` holds the number of
        points selected in each replicate, ``boot_params`` the replicate
        estimates and ``boot_llf`` the log-likelihoods of every replicate's path
        (replicates x points, NaN after a path stopped; see :func:`replicate_path`).
    """
    from evaltools._progress import progress_bar

    _check_criterion(criterion, "MPHPath.bootstrap")
    if scale not in ("iqr", "sd"):
        raise SpecificationError("The 'scale' parameter of MPHPath.bootstrap must be a str among "
                                 f"{{'iqr', 'sd'}}. Got {scale!r} instead.")
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 2:
        raise SpecificationError(f"The 'n_boot' parameter of MPHPath.bootstrap must be an int >= 2. "
                                 f"Got {n_boot!r} instead.")
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise SpecificationError(f"The 'n_jobs' parameter of MPHPath.bootstrap must be an int >= 1. "
                                 f"Got {n_jobs!r} instead.")
    best = path.best(criterion, inference="hessian")
    model = best.model
    starts = [(r.n_points, model._to_scaled(r.params.to_numpy(), r.n_points)) for r in path.results]
    seeds = np.random.SeedSequence(seed).spawn(int(n_boot))
    out: list[tuple[int, np.ndarray, np.ndarray] | None] = [None] * len(seeds)
    bar = progress_bar(total=len(seeds), enabled=progress, desc="path bootstrap", unit="replicate")
    if n_jobs == 1:
        _init_worker(model, starts, criterion)
        try:
            for b, s in enumerate(seeds):
                out[b] = _replicate(s)
                bar.update(1)
        finally:
            _WORKER.clear()
    else:
        with ProcessPoolExecutor(max_workers=int(n_jobs), initializer=_init_worker,
                                 initargs=(model, starts, criterion)) as ex:
            futs = {ex.submit(_replicate, s): b for b, s in enumerate(seeds)}
            for f in as_completed(futs):
                out[futs[f]] = f.result()
                bar.update(1)
    bar.close()
    names = _common(best)
    nb = model._layout(best.n_points).n_beta
    if names != list(best.params.index[:nb]):  # pragma: no cover - layout invariant
        raise SpecificationError("MPHPath.bootstrap: unexpected parameter layout.")
    draws = np.stack([o[1] for o in out if o is not None])
    pts = np.array([o[0] for o in out if o is not None])
    llf = pd.DataFrame(np.stack([o[2] for o in out if o is not None]), columns=pd.Index(
        [M for M, _ in starts], name="points"))
    stopped = int(llf.isna().any(axis=1).sum())
    ok = np.all(np.isfinite(draws), axis=1)
    if scale == "iqr":
        cov = robust_boot_cov(draws[ok]) if ok.sum() >= 2 else np.full((nb, nb), np.nan)
        how = ("standard errors are the interquartile ranges of the replicate estimates / 1.349, "
               "correlations 2 sin(pi r_S / 6) from Spearman's r_S (robust to outlying replicates)")
    else:
        cov = np.cov(draws[ok], rowvar=False, ddof=1).reshape(nb, nb)
        how = "covariance of the replicate estimates"
    counts = pd.Series(pts[ok]).value_counts().sort_index()
    ptxt = ", ".join(f"{int(cast(int, k))}: {int(v)}" for k, v in counts.items())  # labels: point counts
    notes = [f"Person bootstrap of the NPMLE path ({int(ok.sum())} of {len(seeds)} replicates usable): "
             "in every replicate each fit on the path is re-maximised from the full-sample estimate and "
             "from the replicate's previous fit with a new point at a small mass (the better is kept, so "
             f"the replicate's log-likelihood does not decrease along its path) and {criterion.upper()} "
             "selects the number of points again, so the standard errors include the uncertainty of that "
             f"choice; {how}. Points selected (points: replicates) {ptxt}."]
    if stopped:
        notes.append(f"{stopped} replicate path(s) stopped early: a fit ended more than {_DROP_TOL:g} below "
                     "the previous one (a local optimum).")
    params = best.params[names]
    return _rebuild(best, params, pd.DataFrame(cov, index=names, columns=names),
                    f"person bootstrap of the path, {criterion.upper()} per replicate "
                    f"(B={int(ok.sum())})", notes,
                    {"boot_points": pts, "boot_params": pd.DataFrame(draws, columns=names),
                     "boot_llf": llf})
