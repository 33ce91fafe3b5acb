"""Tests of the inference over the NPMLE path (evaltools.duration._mph_inference)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaltools.duration import _mph_core as core
from evaltools.duration._mph_inference import bootstrap_path, replicate_path, resample_design, robust_boot_cov
from evaltools.duration.montecarlo import ToEDGP, simulate_toe, toe_model
from evaltools.exceptions import SpecificationError

COV = np.array([[1.0, 0.6, -0.2], [0.6, 4.0, 0.3], [-0.2, 0.3, 0.25]])


def test_robust_cov_is_consistent_for_normal_draws():
    rng = np.random.default_rng(3)
    draws = rng.multivariate_normal([0.5, -1.0, 2.0], COV, size=40_000)
    got = robust_boot_cov(draws)
    sd = np.sqrt(np.diag(COV))
    np.testing.assert_allclose(np.sqrt(np.diag(got)), sd, rtol=0.03)
    np.testing.assert_allclose(got / np.outer(sd, sd), COV / np.outer(sd, sd), atol=0.03)


def test_robust_cov_ignores_a_few_outlying_replicates():
    rng = np.random.default_rng(4)
    draws = rng.multivariate_normal(np.zeros(3), COV, size=199)
    clean = robust_boot_cov(draws)
    bad = draws.copy()
    bad[:3, 0] = [40.0, 55.0, -60.0]  # three degenerate replicates
    plain = np.cov(bad, rowvar=False)
    robust = robust_boot_cov(bad)
    assert plain[0, 0] > 20 * COV[0, 0]  # the plain variance is dominated by them
    np.testing.assert_allclose(np.sqrt(np.diag(robust)), np.sqrt(np.diag(clean)), rtol=0.1)
    # the scale is the interquartile range over 2 * Phi^-1(0.75)
    q25, q75 = np.quantile(bad, [0.25, 0.75], axis=0)
    np.testing.assert_allclose(np.sqrt(np.diag(robust)), (q75 - q25) / (2 * stats.norm.ppf(0.75)), rtol=1e-12)


def test_robust_cov_is_positive_semidefinite_and_checks_shape():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((30, 2))
    # nearly collinear columns and a column of ties: rank correlations need not form a PSD matrix
    draws = np.column_stack([z[:, 0], z[:, 0] + 1e-3 * z[:, 1], -z[:, 0] + 0.5 * z[:, 1], np.round(z[:, 1])])
    got = robust_boot_cov(draws)
    np.testing.assert_allclose(got, got.T, atol=1e-14)
    assert np.linalg.eigvalsh(got).min() > -1e-10
    const = robust_boot_cov(np.column_stack([z[:, 0], np.ones(30)]))
    assert const[1, 1] == 0 and const[0, 1] == 0
    with pytest.raises(SpecificationError, match="B >= 2"):
        robust_boot_cov(np.ones((1, 3)))


@pytest.fixture(scope="module")
def small_path():
    dgp = ToEDGP()
    return toe_model(simulate_toe(800, seed=21, dgp=dgp), dgp).fit(max_points=2, seed=2)


def test_bootstrap_scale_option(small_path):
    robust = bootstrap_path(small_path, n_boot=6, seed=4)
    plain = bootstrap_path(small_path, n_boot=6, seed=4, scale="sd")
    np.testing.assert_array_equal(robust.boot_params.to_numpy(), plain.boot_params.to_numpy())
    np.testing.assert_allclose(robust.cov_params().to_numpy(), robust_boot_cov(robust.boot_params.to_numpy()),
                               rtol=1e-12)
    np.testing.assert_allclose(plain.bse.to_numpy(), plain.boot_params.std(ddof=1).to_numpy(), rtol=1e-12)
    assert "interquartile" in str(robust.summary()) and "interquartile" not in str(plain.summary())
    # MPHPath.bootstrap uses the robust covariance
    np.testing.assert_allclose(small_path.bootstrap(n_boot=6, seed=4).bse.to_numpy(), robust.bse.to_numpy())
    with pytest.raises(SpecificationError, match="'scale'"):
        bootstrap_path(small_path, n_boot=6, scale="mad")


def test_replicate_paths_never_decrease_and_beat_warm_starts():
    # adding a point with zero mass reproduces the previous fit, so maximised log L is non-decreasing
    # in the number of points; warm starts at the full-sample estimates alone can end below that
    warm_drops = []
    for n, seed in [(1000, 31), (1500, 33), (1200, 35)]:
        dgp = ToEDGP()
        model = toe_model(simulate_toe(n, seed=seed, dgp=dgp), dgp)
        path = model.fit(max_points=4, seed=seed)
        starts = [(r.n_points, model._to_scaled(r.params.to_numpy(), r.n_points)) for r in path]
        d = model._sdesign
        for b in range(4):
            rng = np.random.default_rng([seed, b])
            design = resample_design(d, rng.integers(0, d.n_persons, d.n_persons))
            warm = np.array([core.maximise(th0, design, model._layout(M), polish=False, gtol=1e-5)[1]
                             for M, th0 in starts])
            fits = replicate_path(model, starts, design, rng)
            ll = np.array([f[1] for f in fits])
            assert [f[0] for f in fits] == list(path.path.index)  # no replicate path stops early here
            assert np.all(np.diff(ll) >= -1e-3)
            assert np.all(ll >= warm[:len(ll)] - 1e-6)  # the better of the two starts is kept
            for M, llM, th in fits:
                np.testing.assert_allclose(core.loglik(th, design, model._layout(M)), llM, rtol=1e-12)
            warm_drops.append(np.diff(warm).min())
    assert min(warm_drops) < -0.1  # the designs contain a replicate where warm starts alone fail


def test_bootstrap_reports_monotone_replicate_paths(small_path):
    boot = bootstrap_path(small_path, n_boot=5, seed=8)
    L = boot.boot_llf
    assert list(L.columns) == list(small_path.path.index) and len(L) == 5
    diffs = np.diff(L.to_numpy(), axis=1)
    assert np.all(diffs[np.isfinite(diffs)] >= -1e-3)
    assert np.all(np.isfinite(L.iloc[:, 0]))
    best = np.nanargmin(-2 * L.to_numpy() + 2 * small_path.path["n_params"].to_numpy()[None, :], axis=1)
    np.testing.assert_array_equal(boot.boot_points, L.columns.to_numpy()[best])  # AIC on the replicate path
