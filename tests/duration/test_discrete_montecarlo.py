"""Monte Carlo checks of DiscreteHazard: bias and CI coverage with known truth.

DGP: grouped-time proportional hazards (cloglog) per person-week, baseline
``-2.5 + 0.03 t`` for weeks 1..20 (censored after week 20), a randomised
treatment with effect 0.4 and a time-varying covariate with effect 0.3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.duration.discrete import DiscreteHazard

TRUTH = {"treat": 0.4, "z": 0.3}
T = 20


def _simulate(rng: np.random.Generator, n: int) -> pd.DataFrame:
    treat = rng.integers(0, 2, n)
    z0 = rng.normal(size=n)
    t = np.arange(1, T + 1)
    z = z0[:, None] + 0.5 * rng.normal(size=(n, T))  # time-varying covariate
    eta = -2.5 + 0.03 * t[None, :] + TRUTH["treat"] * treat[:, None] + TRUTH["z"] * z
    exits = rng.random((n, T)) < -np.expm1(-np.exp(eta))
    first = np.where(exits.any(axis=1), exits.argmax(axis=1) + 1, T)
    at_risk = t[None, :] <= first[:, None]
    pid, week = np.nonzero(at_risk)
    return pd.DataFrame(
        {
            "id": pid,
            "week": week + 1,
            "treat": treat[pid],
            "z": z[pid, week],
            "event": exits[pid, week].astype(int),
        }
    )


def _run(reps: int, n: int, seed: int, cov_type: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    est, cover = [], []
    for _ in range(reps):
        d = _simulate(rng, n)
        res = DiscreteHazard(
            d, covariates=["treat", "z"], duration="week", event="event", link="cloglog", id="id"
        ).fit(cov_type=cov_type)
        ci = res.conf_int()
        est.append(res.params[["treat", "z"]].to_numpy())
        cover.append([(ci.loc[k, "lower"] <= v <= ci.loc[k, "upper"]) for k, v in TRUTH.items()])
    return np.array(est), np.array(cover, dtype=float)


def _check(est: np.ndarray, cover: np.ndarray) -> None:
    reps = len(est)
    truth = np.array(list(TRUTH.values()))
    bias = est.mean(axis=0) - truth
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(bias) < 3.5 * mc_se + 0.01), (bias, mc_se)
    cov_se = np.sqrt(0.95 * 0.05 / reps)
    assert np.all(np.abs(cover.mean(axis=0) - 0.95) < 3.5 * cov_se), cover.mean(axis=0)


@pytest.mark.parametrize("cov_type", ["nonrobust", "cluster"])
def test_montecarlo_small(cov_type: str) -> None:
    est, cover = _run(reps=120, n=800, seed=20261123, cov_type=cov_type)
    _check(est, cover)


@pytest.mark.slow
def test_montecarlo_large() -> None:
    est, cover = _run(reps=1000, n=3000, seed=7, cov_type="nonrobust")
    _check(est, cover)
