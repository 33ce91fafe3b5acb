"""Array kernels of the dynamic (elapsed-duration) evaluation: risk sets, logit, IPW/AIPW by band.

Everything here works on NumPy arrays of the stacked risk-set table (one row per
spell and elapsed week ``u``); :mod:`evaltools.selection.dynamic` builds that
table from a register panel and wraps the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaltools._model.binary import fit_binary
from evaltools._model.covariance import centred_cluster_covariance
from evaltools._model.intervals import last_at_or_before, person_week_key
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = [
    "elapsed_bands",
    "stack_elapsed",
    "last_interval",
    "logit_fit",
    "usable_columns",
    "band_design",
    "band_effect",
    "BandFit",
    "cluster_covariance",
    "ipcw_setup",
]

#: Name of the row covariate added by ``DynamicEvaluation(other_starts="covariate")``.
OTHER_START = "other_start"


def elapsed_bands(elapsed: Any, where: str = "DynamicEvaluation") -> list[tuple[int, int]]:
    """Normalise ``elapsed`` to a sorted list of inclusive, non-overlapping ``(first, last)`` week bands.

    Parameters
    ----------
    elapsed : range, list of int or list of (int, int)
        Elapsed weeks (one band per week) or bands of weeks.
    where : str, default="DynamicEvaluation"
        Name used in error messages.

    Returns
    -------
    list of (int, int)

    Raises
    ------
    SpecificationError
        If ``elapsed`` has another form, a band is empty or negative, or bands overlap.
    """
    if isinstance(elapsed, range) or (
        isinstance(elapsed, Sequence) and all(isinstance(v, int | np.integer) for v in elapsed)
    ):
        vals = sorted({int(v) for v in elapsed})
        out = [(v, v) for v in vals]
    elif isinstance(elapsed, Sequence) and all(isinstance(v, tuple) and len(v) == 2 for v in elapsed):
        out = [(int(a), int(b)) for a, b in elapsed]
    else:
        raise SpecificationError(
            f"The 'elapsed' parameter of {where} must be a range/list of weeks (one band per week) or a list "
            f"of (first, last) week bands, e.g. [(0, 4), (5, 13), (14, 26)]. Got {elapsed!r} instead."
        )
    if not out or any(a < 0 or b < a for a, b in out):
        raise SpecificationError(
            f"{where}: elapsed bands must be non-empty with 0 <= first <= last; got {out}."
        )
    flat = sorted(out)
    if any(flat[i + 1][0] <= flat[i][1] for i in range(len(flat) - 1)):
        raise SpecificationError(f"{where}: elapsed bands overlap: {flat}.")
    return flat


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
    pos = last_at_or_before(person_week_key(ev_pid, ev_start, uniq), person_week_key(pid, week, uniq))
    pos_c = np.maximum(pos, 0)
    found = (pos >= 0) & (ev_pid[pos_c] == pid)
    return found, ev_start[pos_c].astype(np.int64), ev_end[pos_c].astype(np.int64)


def logit_fit(
    x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *, maxiter: int = 50, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logit by Newton-Raphson (``w`` are frequency weights, e.g. bootstrap counts).

    When ``x`` has an intercept (a non-zero constant column), the other columns
    are centred at their weighted means and scaled to a maximum absolute value
    of one before the Newton steps, so that raw covariates with a large level
    and little variation (a birth year, a calendar year or week index) do not
    make the Hessian near-singular.  This is a reparametrisation: the fitted
    probabilities are those of the uncentred model, and ``beta`` is returned
    on the scale of ``x``.

    Parameters
    ----------
    x : array, shape (n, k)
        Design matrix (usually with an intercept column).
    t : array, shape (n,)
        Treatment indicator (0/1).
    w : array, shape (n,), optional
        Frequency weights.
    maxiter : int, default=50
        Maximum number of Newton steps.
    tol : float, default=1e-10
        Convergence tolerance on the Newton decrement (see
        :func:`evaltools._model.binary.fit_binary`).

    Returns
    -------
    (beta, p) : arrays
        Coefficients (on the scale of ``x``) and fitted probabilities.

    Raises
    ------
    DataValidationError
        If the fit does not converge or the fitted probabilities reach 0 or 1
        (separation).
    """
    fit = fit_binary(x, t, w, link="logit", max_iter=maxiter, tol=tol)
    if not fit.converged:
        err = DataValidationError(
            f"the propensity logit did not converge in {maxiter} iterations ({len(t):,} rows, "
            f"{int(np.sum(t)):,} treated). Use fewer covariates or wider elapsed-duration bands."
        )
        err.scaled_beta = fit.scaled_params  # type: ignore[attr-defined]
        raise err
    p = fit.fitted
    pw = p[np.asarray(w) > 0] if w is not None else p
    if np.any(pw > 1 - 1e-10) or np.any(pw < 1e-12):
        err = DataValidationError(
            "the propensity logit separates treated and controls (fitted probabilities of 0 or 1). "
            "Drop covariates that predict the treatment perfectly, or use wider elapsed-duration bands."
        )
        # coefficients on the scaled design (each column scaled to max |x| = 1): the separating columns
        # are the ones running off to large values
        err.scaled_beta = fit.scaled_params  # type: ignore[attr-defined]
        raise err
    return fit.params, p


def _exclusive_sets(xb: np.ndarray) -> list[list[int]]:
    """Sets of 0/1 columns that are never 1 together (hand-coded indicators of one categorical).

    The exclusivity graph (an edge where two columns are never both 1) is split
    into connected components; components of two or more columns in which every
    pair is exclusive are returned (others are left alone).
    """
    k = xb.shape[1]
    if k < 2:
        return []
    excl = (xb.T @ xb) == 0
    np.fill_diagonal(excl, False)
    seen = np.zeros(k, bool)
    out: list[list[int]] = []
    for i in range(k):
        if seen[i] or not excl[i].any():
            continue
        comp, todo = [], [i]
        seen[i] = True
        while todo:
            j = todo.pop()
            comp.append(j)
            for n in np.flatnonzero(excl[j] & ~seen):
                seen[n] = True
                todo.append(int(n))
        comp.sort()
        sub = excl[np.ix_(comp, comp)]
        if sub.sum() == len(comp) * (len(comp) - 1):
            out.append(comp)
    return out


def usable_columns(
    x: np.ndarray, t: np.ndarray, f: np.ndarray | None = None, groups: Sequence[Sequence[int]] = ()
) -> np.ndarray:
    """Columns of one band's design that the propensity logit can use without separation by a level.

    Columns without variation are dropped.  Binary (0/1) columns are handled
    as the levels of categoricals: ``groups`` lists the column positions of the
    dummies of each categorical (coded with an omitted reference level, so the
    columns of a group are never 1 together); further sets of 0/1 columns that
    are never 1 together in the band are detected and treated the same way
    (hand-coded indicators such as ``type_low``/``type_high``); every other 0/1
    column is a group of its own (its reference level is 0).  Within a group a
    level is *live* when it has treated and controls.  Dummies of levels that
    are not live are dropped, i.e. those levels are merged into the reference
    level.  If the merged reference cell then has no treated or no controls
    (e.g. no person of the reference level is treated in the band), the
    design would separate treated and controls through the implied reference
    indicator; the most common live level becomes the band's reference instead
    (its dummy is dropped too).  Whenever the merged reference cell has both
    treated and controls the result equals the plain rule "a 0/1 column needs
    both values among the treated and among the controls".

    Parameters
    ----------
    x : array, shape (n, k)
        Stored covariates of the band's rows (without the intercept).
    t : array of bool, shape (n,)
        Treated rows.
    f : array, shape (n,), optional
        Frequency weights; rows with ``f == 0`` are ignored in the counts.
    groups : sequence of sequences of int, default=()
        Column positions of the dummies of each categorical covariate.

    Returns
    -------
    ndarray of bool, shape (k,)
        Columns to keep.
    """
    t = np.asarray(t, dtype=bool)
    # max - min is exactly 0 for a constant column; its std can round to 1e-16 and let it through
    keep = np.ptp(x, axis=0) > 0 if len(x) else np.zeros(x.shape[1], bool)
    live = np.ones(len(t), bool) if f is None else np.asarray(f) > 0
    binary = np.all((x == 0) | (x == 1), axis=0)
    declared = [[int(j) for j in g if binary[j]] for g in groups]
    declared = [g for g in declared if g]
    in_group = np.zeros(x.shape[1], bool)
    for g in declared:
        in_group[g] = True
    rest = np.flatnonzero(binary & keep & ~in_group)
    found = [[int(rest[j]) for j in c] for c in _exclusive_sets(x[np.ix_(live, rest)])]
    for g in found:
        in_group[g] = True
    singles = [[int(j)] for j in np.flatnonzero(binary & ~in_group)]
    n1, n0 = int((t & live).sum()), int((~t & live).sum())
    s1 = x[t & live].sum(axis=0)
    s0 = x[~t & live].sum(axis=0)
    for g in declared + found + singles:
        a1, a0 = s1[g], s0[g]
        level_live = (a1 > 0) & (a0 > 0)
        ref1 = n1 - a1[level_live].sum()  # reference cell merged with the levels that are not live
        ref0 = n0 - a0[level_live].sum()
        if (ref1 <= 0 or ref0 <= 0) and level_live.any():
            level_live[int(np.argmax(np.where(level_live, a1 + a0, -1)))] = False
        keep[g] &= level_live
    return keep


def band_design(
    x: np.ndarray, u: np.ndarray, keep: np.ndarray, wide: bool, center: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One band's logit design: intercept, the kept columns and (wide bands) ``u``, centred.

    Parameters
    ----------
    x : array, shape (n, k)
        Stored covariates.
    u : array, shape (n,)
        Elapsed week of each row.
    keep : array of bool, shape (k,)
        Columns to use (:func:`usable_columns`).
    wide : bool
        Add ``u`` as a regressor (bands wider than one week).
    center : array, optional
        Column means to subtract (those of the band's estimation rows, so that
        other rows, e.g. the hazard rows of the censoring model, get the same
        design); computed from ``x`` when omitted.

    Returns
    -------
    (design, center) : arrays
        The design with the intercept in column 0, and the centre used.
        Centring is a reparametrisation (the intercept absorbs it) that keeps
        raw covariates such as birth or calendar years well conditioned.
    """
    k = int(np.count_nonzero(keep))
    out = np.empty((len(x), 1 + k + int(wide)))
    out[:, 0] = 1.0
    out[:, 1 : 1 + k] = x[:, keep]
    if wide:
        out[:, -1] = u
    c = out[:, 1:].mean(axis=0) if center is None else np.asarray(center, dtype=float)
    out[:, 1:] -= c
    return out, c


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
    pscore: np.ndarray,
    pscore_correction: bool = True,
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
        Add the propensity-estimation term to the influence function (IPW
        and AIPW; AIPW always includes the outcome-regression term), so the
        standard errors are those of the stacked estimating equations.
    pscore : array
        Fitted probabilities of the band's propensity logit
        (``logit_fit(x, t, freq)``; the caller fits it once and reuses it).

    Returns
    -------
    BandFit
        ``influence`` is per row (unweighted by ``freq``), in sum form.
    """
    f = np.ones(len(t)) if freq is None else np.asarray(freq, dtype=float)
    tb = t.astype(bool)
    p = np.asarray(pscore, dtype=float)
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
        # estimated outcome regression: d est / d coef = -mean_T x + sum_C w x / sum_C w, and
        # coef-hat - coef = (X_C' X_C)^-1 sum_C x r (as the stacked estimating equations of AIPW)
        d_coef = -(x * f[:, None])[tb].sum(axis=0) / n1 + (x * (f * wc)[:, None]).sum(axis=0) / sw
        xtx = (x[c] * f[c][:, None]).T @ x[c]
        infl = infl + np.where(~tb, (x @ np.linalg.solve(xtx, d_coef)) * r, 0.0)
        resid0 = r - b  # the control term's residual, for the propensity-estimation term below
    else:
        mu0 = float((f * wc * y).sum() / sw)
        est = mu1 - mu0
        infl = np.where(tb, (y - mu1) / n1, -wc * (y - mu0) / sw)
        resid0 = y - mu0
    if pscore_correction:
        # d est / d gamma = -sum_C w x resid0 / sum_C w ; gamma-hat - gamma = H^-1 sum x (t - p)
        d = -(x * (f * wc * resid0)[:, None]).sum(axis=0) / sw
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


cluster_covariance = centred_cluster_covariance


def ipcw_setup(
    ss: np.ndarray,
    rows: np.ndarray,
    pid: np.ndarray,
    w: np.ndarray,
    tw: np.ndarray,
    hp: np.ndarray,
    hw: np.ndarray,
) -> dict[str, np.ndarray]:
    """Fixed parts of the controls' IPCW outcome: positions of their weeks among the hazard rows.

    Parameters
    ----------
    ss : array of bool, shape (m, horizon)
        Self-supporting in each week of the horizon, for the ``m`` control rows.
    rows : array of int, shape (m,)
        Positions of the control rows in the risk-set table.
    pid, w : arrays, shape (m,)
        Person and calendar week (at ``u``) of the control rows.
    tw : array, shape (m,)
        Week of the person's first treatment start (``inf`` if never).
    hp, hw : arrays
        Person and week of the hazard rows, sorted by person and week.

    Returns
    -------
    dict
        ``rows``, ``ss``, ``uncensored`` (not treated yet in the week),
        ``pos_t`` (last hazard row at or before each week of the horizon) and
        ``pos_w`` (last hazard row at or before ``w``).
    """
    horizon = ss.shape[1]
    if np.any((hp[1:] < hp[:-1]) | ((hp[1:] == hp[:-1]) & (hw[1:] <= hw[:-1]))):
        raise DataValidationError("internal error: hazard rows are not sorted by person and week.")
    weeks = w[:, None] + np.arange(horizon)[None, :]
    pid_f = np.repeat(pid, horizon)
    return {
        "rows": rows,
        "ss": ss,
        "uncensored": tw[:, None] > weeks,
        "pos_t": _last_pos(hp, hw, pid_f, weeks.ravel()).reshape(weeks.shape),
        "pos_w": _last_pos(hp, hw, pid, w),
    }


def _last_pos(hp: np.ndarray, hw: np.ndarray, pid: np.ndarray, week: np.ndarray) -> np.ndarray:
    """Position of the last hazard row of ``pid`` with week <= ``week`` (rows sorted by person, week)."""
    uniq = np.unique(np.concatenate([hp, pid]))
    return last_at_or_before(person_week_key(hp, hw, uniq), person_week_key(pid, week, uniq))
