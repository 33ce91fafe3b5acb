"""Monte Carlo tests of the timing-of-events model (evaltools.duration.montecarlo)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaltools.duration.montecarlo import TRUE_PARAMS, ToEDGP, run_monte_carlo, simulate_toe

EFFECT = "exit:effect[1-13]"


def test_simulate_toe_is_reproducible_and_consistent():
    a = simulate_toe(3000, seed=5)
    pd.testing.assert_frame_equal(a, simulate_toe(3000, seed=5))
    tw = a["treatment_week"].to_numpy()
    treated = np.isfinite(tw)
    assert np.all(tw[treated] <= a["duration"].to_numpy()[treated])
    # exit and treatment never happen in the same week in this DGP
    assert not np.any(treated & (a["exit"].to_numpy() == 1) & (tw == a["duration"].to_numpy()))
    # selection on unobservables: the type with the high treatment hazard is treated far more often
    share = pd.Series(treated).groupby(a["type"]).mean()
    assert share[1] > share[0] + 0.3
    assert TRUE_PARAMS == ToEDGP().true_params() and TRUE_PARAMS[EFFECT] == 0.7


def _bounds(tab: pd.DataFrame, est: str, name: str) -> tuple[float, float, int]:
    row = tab.loc[(est, name)]
    return float(row["bias"]), float(row["sd"]), int(row["n_reps"])


def test_naive_model_is_biased_and_npmle_recovers_effect():
    reps = 6
    tab = run_monte_carlo(reps, 2000, seed=7, max_points=3)
    bias_naive, _, _ = _bounds(tab, "naive", EFFECT)
    assert bias_naive < -0.4  # selection on unobservables biases the one-point model towards zero
    assert tab.loc[("naive", EFFECT), "coverage"] <= 1 / reps
    bias, sd, n = _bounds(tab, "npmle", EFFECT)
    assert abs(bias) < 4 * sd / np.sqrt(n) + 0.05
    # coverage not significantly below 95%: binomial lower bound at the 0.1% level
    k_min = stats.binom.ppf(0.001, n, 0.95)
    assert tab.loc[("npmle", EFFECT), "coverage"] * n >= k_min
    assert set(tab.columns) >= {"true", "mean", "bias", "rmse", "mean_se", "sd", "coverage", "n_reps"}
    # the model average over the path: same checks, and its SEs include the between-fit spread
    bias, sd, n = _bounds(tab, "npmle_ma", EFFECT)
    assert abs(bias) < 4 * sd / np.sqrt(n) + 0.05
    assert tab.loc[("npmle_ma", EFFECT), "coverage"] * n >= k_min
    assert np.all(tab.xs("npmle_ma")["mean_se"] >= 0.9 * tab.xs("npmle")["mean_se"])


def test_path_bootstrap_estimator_in_the_monte_carlo():
    tab = run_monte_carlo(3, 800, seed=5, max_points=2, n_boot=6)
    boot, hess = tab.xs("npmle_boot"), tab.xs("npmle")
    pd.testing.assert_series_equal(boot["mean"], hess["mean"])  # same point estimates, other SEs
    assert np.all(np.isfinite(boot["mean_se"])) and np.all(boot["mean_se"] > 0)
    # the covariate coefficients are well identified: bootstrap and Hessian SEs agree roughly
    ratio = boot.loc["exit:x1", "mean_se"] / hess.loc["exit:x1", "mean_se"]
    assert 0.4 < ratio < 2.5


def test_parallel_runs_equal_serial_runs():
    serial = run_monte_carlo(2, 400, seed=3, n_jobs=1, max_points=2)
    parallel = run_monte_carlo(2, 400, seed=3, n_jobs=2, max_points=2)
    pd.testing.assert_frame_equal(serial, parallel)


@pytest.mark.slow
def test_monte_carlo_full_size():
    tab = run_monte_carlo(50, 5000, seed=2026, n_jobs=2, max_points=5)
    assert tab.loc[("naive", EFFECT), "coverage"] < 0.1
    for name in TRUE_PARAMS:
        bias, sd, n = _bounds(tab, "npmle", name)
        assert abs(bias) < 0.03 + 3 * sd / np.sqrt(n)
        assert tab.loc[("npmle", name), "coverage"] * n >= stats.binom.ppf(0.001, n, 0.95)


PROGRAMME_DGP = ToEDGP(programme_points=(-4.0, -2.8))


def test_two_treatment_dgp_parameters_and_draws():
    truth = PROGRAMME_DGP.true_params()
    assert truth["exit:programme[lock-in]"] == -0.5 and truth["exit:programme[post 1+]"] == 0.4
    assert "exit:treatment[1-13]" in truth and "exit:effect[1-13]" not in truth
    sp = simulate_toe(3000, seed=4, dgp=PROGRAMME_DGP)
    started = np.isfinite(sp["programme_week"].to_numpy())
    length = (sp["programme_end"] - sp["programme_week"]).to_numpy()[started]
    assert np.all((length >= 4) & (length <= 12))
    # the type with the high programme hazard (type 1) starts programmes far more often
    share = pd.Series(started).groupby(sp["type"]).mean()
    assert share[1] > share[0] + 0.2


@pytest.mark.slow
def test_monte_carlo_two_treatments_full_size():
    tab = run_monte_carlo(40, 5000, seed=2027, n_jobs=2, max_points=4, dgp=PROGRAMME_DGP)
    for name in PROGRAMME_DGP.true_params():
        bias, sd, n = _bounds(tab, "npmle", name)
        assert abs(bias) < 0.03 + 3 * sd / np.sqrt(n), name
        k_min = stats.binom.ppf(0.001, n, 0.95)
        assert tab.loc[("npmle", name), "coverage"] * n >= k_min, name


@pytest.mark.slow
def test_monte_carlo_inference_over_the_path_3000_persons():
    # 3,000 persons: the number of mass points is uncertain (AIC picks 2 in most replications, 3 in
    # some); the model average and the path bootstrap carry that uncertainty into the standard errors
    tab = run_monte_carlo(30, 3000, seed=2026, n_jobs=2, max_points=5, n_boot=19)
    for est in ("npmle_ma", "npmle_boot"):
        for name in TRUE_PARAMS:
            bias, sd, n = _bounds(tab, est, name)
            assert abs(bias) < 0.03 + 3 * sd / np.sqrt(n), (est, name)
            cov = tab.loc[(est, name), "coverage"] * n
            assert stats.binom.ppf(0.001, n, 0.95) <= cov <= n, (est, name)
    boot = tab.xs("npmle_boot")
    assert np.all(boot["mean_se"] >= 0.9 * tab.xs("npmle")["mean_se"])
