"""Monte Carlo check of FineGray on the Fine and Gray (1999) design (known subdistribution hazard ratios).

The cumulative incidence of exit 1 is ``F1(t | x) = 1 - (1 - p (1 - exp(-t)))^exp(x'beta1)``, which is
a proportional subdistribution hazards model with log ratios ``beta1``; exit 2 happens to the others at
an exponential time with rate ``exp(x'beta2)``; censoring is uniform.  The delayed-entry variant
observes half of the persons from time 0 and the others only if still in the spell at an entry time
``L ~ U(0, 0.5)`` (left truncation, as a stock plus a late inflow), for which the censoring weights
include the entry distribution (Geskus 2011).  Checked: bias and 95% CI coverage of the log
subdistribution hazard ratios and of the predicted cumulative incidence at t = 1 for x = 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.duration import FineGray

BETA1 = np.array([0.5, -0.4])
BETA2 = np.array([-0.3, 0.5])
P_CAUSE1 = 0.4


def simulate(n: int, rng: np.random.Generator, *, truncate: bool = False) -> pd.DataFrame:
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)])
    r1 = np.exp(x @ BETA1)
    f1_inf = 1 - (1 - P_CAUSE1) ** r1  # P(exit 1 | x)
    cause1 = rng.random(n) < f1_inf
    v = rng.random(n)
    t1 = -np.log(1 - (1 - (1 - v * f1_inf) ** (1 / r1)) / P_CAUSE1)  # inverse of F1(t | x) / F1(inf | x)
    t2 = rng.exponential(1 / np.exp(x @ BETA2))
    t = np.where(cause1, t1, t2)
    cens = rng.uniform(0, 4, n)
    d = pd.DataFrame(
        {
            "id": np.arange(n),
            "time": np.minimum(t, cens),
            "exit": np.where(t <= cens, np.where(cause1, 1, 2), 0),
            "x1": x[:, 0],
            "x2": x[:, 1],
        }
    )
    if truncate:
        d["entry"] = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 0.5, n))
        d = d[d["time"] > d["entry"]].reset_index(drop=True)
    return d


#: profile and time for the check of the predicted cumulative incidence; truth F1(1 | x = 0) = p (1 - e^-1)
CIF_PROFILE = pd.DataFrame({"x1": [0.0], "x2": [0.0]})
CIF_TRUE = P_CAUSE1 * (1 - np.exp(-1.0))


def _run(reps: int, n: int, truncate: bool, cov_types: tuple[str, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    cif_hit = np.empty(reps, dtype=bool)
    cif_est = np.empty(reps)
    est = np.empty((reps, 2))
    cover = {c: np.empty((reps, 2), dtype=bool) for c in cov_types}
    kw = {"start": "entry", "id": "id"} if truncate else {}
    for r in range(reps):
        model = FineGray(
            simulate(n, rng, truncate=truncate),
            covariates=["x1", "x2"],
            cause=1,
            event="exit",
            stop="time",
            **kw,
        )
        assert model.delay == truncate
        for c in cov_types:
            res = model.fit(cov_type=c)
            est[r] = res.params.to_numpy()
            ci = res.conf_int().to_numpy()
            cover[c][r] = (ci[:, 0] <= BETA1) & (BETA1 <= ci[:, 1])
        pred = res.predict_cumulative_incidence(CIF_PROFILE, times=[1.0]).iloc[0]
        cif_est[r] = pred["cif"]
        cif_hit[r] = pred["lower"] <= CIF_TRUE <= pred["upper"]
    bias = est.mean(axis=0) - BETA1
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(reps)
    # bias within 4 Monte Carlo standard errors (plus 0.01 for the O(1/events) small-sample bias of
    # Cox-type fits)
    assert np.all(np.abs(bias) < 4 * mc_se + 0.01), (bias, mc_se)
    tol = 4 * np.sqrt(0.95 * 0.05 / reps)  # coverage within 4 binomial standard errors of 0.95
    for c, hits in cover.items():
        rate = hits.mean(axis=0)
        assert np.all(np.abs(rate - 0.95) < tol), (c, rate)
    assert abs(cif_est.mean() - CIF_TRUE) < 4 * cif_est.std(ddof=1) / np.sqrt(reps) + 0.005
    assert abs(cif_hit.mean() - 0.95) < tol, cif_hit.mean()


@pytest.mark.parametrize(
    "reps, n",
    [pytest.param(150, 400, id="small"), pytest.param(2000, 1000, id="large", marks=pytest.mark.slow)],
)
def test_right_censored_bias_and_coverage(reps, n):
    _run(reps, n, truncate=False, cov_types=("cluster", "fine-gray"), seed=20261202)


@pytest.mark.parametrize(
    "reps, n",
    [pytest.param(150, 600, id="small"), pytest.param(2000, 1500, id="large", marks=pytest.mark.slow)],
)
def test_left_truncated_bias_and_coverage(reps, n):
    _run(reps, n, truncate=True, cov_types=("cluster",), seed=20261203)
