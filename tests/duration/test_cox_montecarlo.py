"""Small Monte Carlo check of CoxPH with a time-varying treatment and delayed entry (known truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.duration.cox import CoxPH

BETA_X, BETA_T = 0.5, -0.7


def simulate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Exponential baseline 0.2; treatment switches on at tau ~ Exp(0.25); entry ~ U(0, 1); censoring at 8.

    Two rows per treated person: (entry, tau] untreated and (tau, T] treated.  Persons whose exit comes
    before their entry time are never observed (left truncation), as in register inflow samples.
    """
    x = rng.normal(size=n)
    tau = rng.exponential(1 / 0.25, size=n)
    rate0 = 0.2 * np.exp(BETA_X * x)
    rate1 = rate0 * np.exp(BETA_T)
    e0 = rng.exponential(1 / rate0)
    t = np.where(e0 < tau, e0, tau + rng.exponential(1 / rate1))
    cens = 8.0
    event = (t <= cens).astype(int)
    t = np.minimum(t, cens)
    entry = rng.uniform(0, 1, size=n)
    keep = t > entry
    x, tau, t, event, entry = x[keep], tau[keep], t[keep], event[keep], entry[keep]
    ids = np.arange(len(x))
    switch = (tau > entry) & (tau < t)
    treated_at_entry = tau <= entry
    pre = pd.DataFrame(
        {
            "id": ids,
            "start": entry,
            "stop": np.where(switch, tau, t),
            "event": np.where(switch, 0, event),
            "x": x,
            "treat": treated_at_entry.astype(float),
        }
    )
    post = pd.DataFrame(
        {
            "id": ids[switch],
            "start": tau[switch],
            "stop": t[switch],
            "event": event[switch],
            "x": x[switch],
            "treat": 1.0,
        }
    )
    return pd.concat([pre, post], ignore_index=True)


@pytest.mark.parametrize(
    "reps, n",
    [pytest.param(60, 400, id="small"), pytest.param(2000, 2000, id="large", marks=pytest.mark.slow)],
)
def test_bias_and_coverage(reps, n):
    rng = np.random.default_rng(20261123)
    est = np.empty((reps, 2))
    cover = np.empty((reps, 2), dtype=bool)
    truth = np.array([BETA_X, BETA_T])
    for r in range(reps):
        res = CoxPH(simulate(n, rng), covariates=["x", "treat"], id="id").fit(cov_type="cluster")
        est[r] = res.params.to_numpy()
        ci = res.conf_int().to_numpy()
        cover[r] = (ci[:, 0] <= truth) & (truth <= ci[:, 1])
    bias = est.mean(axis=0) - truth
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(bias) < 4 * mc_se + 0.01), (bias, mc_se)
    # coverage within 4 binomial standard errors of 0.95
    cov_rate = cover.mean(axis=0)
    assert np.all(np.abs(cov_rate - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps)), cov_rate
