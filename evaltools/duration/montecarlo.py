"""Monte Carlo harness for the timing-of-events model.

:func:`simulate_toe` draws weekly spells from a compact timing-of-events DGP
with selection on unobservables: a discrete joint distribution of the exit and
treatment frailties (negatively correlated by default, so persons with low
exit rates are treated more often), piecewise-constant baselines and a
treatment effect on the exit hazard that varies with time since treatment.
Weekly transitions follow the grouped-time model that
:class:`~evaltools.duration.mph.TimingOfEvents` estimates with
``timing="interval"``: in a week with total hazard ``H`` a transition happens
with probability ``1 - exp(-H)`` and is transition ``j`` with probability ``h_j/H``.

:func:`run_monte_carlo` replicates the DGP (in parallel processes, seeds from
``numpy.random.SeedSequence.spawn``) and compares a model ignoring the
heterogeneity (one mass point) with the NPMLE model (mass points chosen by AIC).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.exceptions import SpecificationError

__all__ = ["ToEDGP", "simulate_toe", "toe_model", "run_monte_carlo", "TRUE_PARAMS"]


@dataclass(frozen=True)
class ToEDGP:
    """Parameters of the timing-of-events data-generating process (weekly).

    Attributes
    ----------
    horizon : int
        Administrative censoring week.
    baseline_bands : tuple of int
        Breakpoints of the elapsed-duration bands.
    exit_baseline, treatment_baseline : tuple of float
        Log-baseline shifts per band (first band 0).
    effect_bands : tuple of int
        Breakpoints of the weeks-since-treatment bands.
    effects : tuple of float
        True log hazard ratios of the exit hazard per effect band.
    beta_exit, beta_treatment : float
        Coefficients of the standard normal covariate ``x1``.
    points : tuple of (float, float)
        Mass-point locations ``(v_exit, v_treatment)``.
    probs : tuple of float
        Mass-point probabilities.
    programme_points : tuple of float
        Log-intercepts of a second treatment, a *programme* with a duration,
        per mass point (empty: no programme).  Like the first treatment it is
        a competing transition in its week; it lasts ``programme_weeks``
        weeks (lock-in) and then has a permanent post-programme effect.
    programme_baseline : tuple of float
        Log-baseline shifts of the programme hazard per band.
    beta_programme : float
        Coefficient of ``x1`` in the programme hazard.
    programme_weeks : tuple of (int, int)
        Range of programme durations (uniform, inclusive).
    lockin, post : float
        True log hazard ratios of the exit hazard in and after the programme.
    """

    horizon: int = 104
    baseline_bands: tuple[int, ...] = (13, 26)
    exit_baseline: tuple[float, ...] = (0.0, -0.3, -0.6)
    treatment_baseline: tuple[float, ...] = (0.0, 0.3, 0.0)
    effect_bands: tuple[int, ...] = (13,)
    effects: tuple[float, ...] = (0.7, 0.2)
    beta_exit: float = 0.5
    beta_treatment: float = 0.3
    points: tuple[tuple[float, float], ...] = field(default=((-2.0, -4.2), (-3.4, -2.6)))
    probs: tuple[float, ...] = (0.5, 0.5)
    programme_points: tuple[float, ...] = ()
    programme_baseline: tuple[float, ...] = (0.0, -0.2, -0.4)
    beta_programme: float = -0.3
    programme_weeks: tuple[int, int] = (4, 12)
    lockin: float = -0.5
    post: float = 0.4

    @property
    def has_programme(self) -> bool:
        """Whether the DGP has the second (programme) treatment."""
        return len(self.programme_points) > 0

    def true_params(self) -> dict[str, float]:
        """True values under the parameter names of :class:`TimingOfEvents`.

        With a programme the model has two treatments (``treated`` given as a
        list), so the effect names are ``exit:treatment[...]`` and
        ``exit:programme[lock-in]`` / ``exit:programme[post 1+]``.
        """
        from evaltools.duration._mph_rows import band_labels

        tag = "treatment" if self.has_programme else "effect"
        out = {f"exit:{tag}[{lab}]": e for lab, e in zip(band_labels(list(self.effect_bands)), self.effects)}
        if self.has_programme:
            out["exit:programme[lock-in]"] = self.lockin
            out["exit:programme[post 1+]"] = self.post
            out["programme:x1"] = self.beta_programme
        out["exit:x1"] = self.beta_exit
        out["treatment:x1"] = self.beta_treatment
        return out


TRUE_PARAMS = ToEDGP().true_params()


def simulate_toe(n_persons: int, seed: int | np.random.SeedSequence | None = None,
                 dgp: ToEDGP | None = None) -> pd.DataFrame:
    """Simulate one spell per person from the timing-of-events DGP.

    Parameters
    ----------
    n_persons : int
        Number of persons.
    seed : int or SeedSequence, optional
        Random seed.
    dgp : ToEDGP, optional
        DGP parameters (default :class:`ToEDGP()`).

    Returns
    -------
    DataFrame
        ``id, duration`` (last observed week), ``exit`` (1 = exit in that week),
        ``treatment_week`` (NaN if untreated), ``x1`` and the true ``type``;
        with a programme also ``programme_week`` and ``programme_end`` (last
        lock-in week; the start is a transition in its week, the lock-in runs
        from the next week, as :func:`build_toe_rows` with ``effect_from="next_week"``).
    """
    dgp = dgp or ToEDGP()
    if len(dgp.points) != len(dgp.probs) or not np.isclose(sum(dgp.probs), 1.0):
        raise SpecificationError("ToEDGP: 'points' and 'probs' must have equal length and probs sum to 1.")
    if dgp.has_programme and len(dgp.programme_points) != len(dgp.probs):
        raise SpecificationError("ToEDGP: 'programme_points' needs one location per mass point.")
    rng = np.random.default_rng(seed)
    n = int(n_persons)
    x1 = rng.standard_normal(n)
    typ = rng.choice(len(dgp.probs), size=n, p=np.asarray(dgp.probs))
    pts = np.asarray(dgp.points, dtype=float)
    ve, vp = pts[typ, 0], pts[typ, 1]
    bb = np.asarray(dgp.baseline_bands)
    eb = np.asarray(dgp.effect_bands)
    ae, ap, eff = (np.asarray(dgp.exit_baseline), np.asarray(dgp.treatment_baseline), np.asarray(dgp.effects))
    duration = np.full(n, dgp.horizon)
    exited = np.zeros(n, bool)
    tweek = np.full(n, np.nan)
    pweek = np.full(n, np.nan)
    pend = np.full(n, np.nan)
    prog = dgp.has_programme
    vq = np.asarray(dgp.programme_points, dtype=float)[typ] if prog else np.zeros(n)
    aq = np.asarray(dgp.programme_baseline, dtype=float)
    plen = rng.integers(dgp.programme_weeks[0], dgp.programme_weeks[1] + 1, size=n) if prog else np.zeros(n)
    active = np.ones(n, bool)
    for week in range(1, dgp.horizon + 1):
        band = int(np.searchsorted(bb, week - 1, side="right"))
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        treated = np.isfinite(tweek[idx])
        since = week - np.where(treated, tweek[idx], week)
        ebnd = np.searchsorted(eb, since - 1, side="right")
        le = ve[idx] + ae[band] + dgp.beta_exit * x1[idx] + np.where(treated, eff[ebnd], 0.0)
        p_on = np.isfinite(pweek[idx])
        if prog:
            in_prog = p_on & (week <= pend[idx])
            le = le + np.where(in_prog, dgp.lockin, np.where(p_on, dgp.post, 0.0))
        he = np.exp(le)
        hp = np.where(treated, 0.0, np.exp(vp[idx] + ap[band] + dgp.beta_treatment * x1[idx]))
        hq = (np.where(p_on, 0.0, np.exp(vq[idx] + aq[band] + dgp.beta_programme * x1[idx])) if prog
              else np.zeros(idx.size))
        H = he + hp + hq
        u = rng.random(idx.size)
        trans = u < -np.expm1(-H)
        u2 = rng.random(idx.size) * H
        is_exit = trans & (u2 < he)
        is_treat = trans & ~is_exit & (u2 < he + hp)
        is_prog = trans & ~is_exit & ~is_treat
        ex_i = idx[is_exit]
        exited[ex_i] = True
        duration[ex_i] = week
        active[ex_i] = False
        tweek[idx[is_treat]] = week
        pweek[idx[is_prog]] = week
        pend[idx[is_prog]] = week + plen[idx[is_prog]]
    out = pd.DataFrame({"id": np.arange(n), "duration": duration, "exit": exited.astype(np.int8),
                        "treatment_week": tweek, "x1": x1, "type": typ})
    if prog:
        out["programme_week"] = pweek
        out["programme_end"] = pend
    return out


def toe_model(spells: pd.DataFrame, dgp: ToEDGP) -> Any:
    """The correctly specified :class:`~evaltools.duration.mph.TimingOfEvents` model for ``dgp``."""
    from evaltools.duration.mph import TimingOfEvents, build_toe_rows

    if not dgp.has_programme:
        rows = build_toe_rows(spells, id="id", duration="duration", exit="exit",
                              treatment_week="treatment_week", baseline_bands=dgp.baseline_bands,
                              effect_bands=dgp.effect_bands, covariates=["x1"])
        return TimingOfEvents(rows, id="id", duration="duration", event="event", treated="treated",
                              baseline_band="band", effect_band="effect_band", exit_covariates=["x1"],
                              treatment_covariates=["x1"])
    end = spells["programme_end"]
    sp = spells.assign(programme_end=end.where(end <= spells["duration"]))
    rows = build_toe_rows(sp, id="id", duration="duration", exit="exit",
                          treatment_week={"treatment": "treatment_week", "programme": "programme_week"},
                          treatment_end={"programme": "programme_end"}, baseline_bands=dgp.baseline_bands,
                          effect_bands={"treatment": dgp.effect_bands}, covariates=["x1"])
    return TimingOfEvents(rows, id="id", duration="duration", event="event",
                          treated=["treated_treatment", "treated_programme"],
                          treatment=["treatment", "programme"], baseline_band="band",
                          effect_band=["effect_band_treatment", "effect_band_programme"],
                          exit_covariates=["x1"], treatment_covariates=["x1"],
                          at_risk={"exit": "at_risk_exit"} if "at_risk_exit" in rows else None)


def _fit_rep(seed: np.random.SeedSequence, n_persons: int, max_points: int, dgp: ToEDGP,
             names: Sequence[str], multistart: int = 1, n_boot: int = 0) -> dict[str, np.ndarray]:
    spells = simulate_toe(n_persons, seed, dgp)
    model = toe_model(spells, dgp)
    fit_seed = int(seed.generate_state(1)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = model.fit(max_points=max_points, multistart=multistart, seed=fit_seed)
        fits = [("naive", path[1]), ("npmle", path.best("aic")), ("npmle_ma", path.model_average("aic"))]
        if n_boot:
            fits.append(("npmle_boot", path.bootstrap(n_boot=n_boot, seed=fit_seed)))
    out = {}
    for label, res in fits:
        out[label] = np.array([[res.params[k], res.bse[k]] for k in names])
    out["points"] = np.array([path.best("aic").n_points])
    return out


def run_monte_carlo(n_reps: int, n_persons: int, seed: int = 0, n_jobs: int = 1, *, max_points: int = 4,
                    dgp: ToEDGP | None = None, alpha: float = 0.05, multistart: int = 1,
                    n_boot: int = 0) -> pd.DataFrame:
    """Replicate the DGP and summarise the naive and NPMLE estimators.

    Estimators: ``naive`` (one point), ``npmle`` (AIC-selected fit, Hessian
    standard errors), ``npmle_ma`` (AIC model average over the path,
    :meth:`MPHPath.model_average`) and, with ``n_boot > 0``, ``npmle_boot``
    (AIC-selected fit with person-bootstrap standard errors of the whole path,
    :meth:`MPHPath.bootstrap`).

    Parameters
    ----------
    n_reps : int
        Number of replications.
    n_persons : int
        Persons per replication.
    seed : int, default=0
        Root seed; replication ``r`` uses ``SeedSequence(seed).spawn(n_reps)[r]``,
        so results do not depend on ``n_jobs``.
    n_jobs : int, default=1
        Worker processes (``concurrent.futures``); 1 runs in-process.
    max_points : int, default=4
        Largest number of mass points on the NPMLE path (selected by AIC).
    dgp : ToEDGP, optional
        DGP parameters.
    alpha : float, default=0.05
        One minus the nominal coverage of the Wald intervals.
    multistart : int, default=1
        Passed to :meth:`TimingOfEvents.fit`.
    n_boot : int, default=0
        Bootstrap replicates per Monte Carlo replication (0: no bootstrap estimator).

    Returns
    -------
    DataFrame
        Indexed by ``(estimator, parameter)`` with columns ``true, mean, bias,
        rmse, mean_se, sd, coverage, n_reps``; ``attrs["points"]`` holds the
        selected numbers of points.
    """
    dgp = dgp or ToEDGP()
    truth = dgp.true_params()
    names = list(truth)
    seeds = np.random.SeedSequence(seed).spawn(int(n_reps))
    args = [(s, n_persons, max_points, dgp, names, multistart, n_boot) for s in seeds]
    if n_jobs == 1:
        reps = [_fit_rep(*a) for a in args]
    else:
        with ProcessPoolExecutor(max_workers=n_jobs) as ex:
            reps = list(ex.map(_fit_rep, *zip(*args)))
    z = stats.norm.ppf(1 - alpha / 2)
    true = np.array([truth[k] for k in names])
    rows = []
    for est in [k for k in reps[0] if k != "points"]:
        arr = np.stack([r[est] for r in reps])  # (R, K, 2)
        b, se = arr[:, :, 0], arr[:, :, 1]
        cover = np.abs(b - true) <= z * se
        for k, name in enumerate(names):
            bk = b[:, k]
            rows.append({"estimator": est, "parameter": name, "true": true[k], "mean": bk.mean(),
                         "bias": bk.mean() - true[k], "rmse": np.sqrt(np.mean((bk - true[k]) ** 2)),
                         "mean_se": np.nanmean(se[:, k]), "sd": bk.std(ddof=1) if len(reps) > 1 else np.nan,
                         "coverage": cover[:, k].mean(), "n_reps": len(reps)})
    table = pd.DataFrame(rows).set_index(["estimator", "parameter"])
    table.attrs["points"] = [int(r["points"][0]) for r in reps]
    return table
