"""Tests of the inference over the NPMLE path (evaltools.duration._mph_inference)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaltools.duration._mph_inference import bootstrap_path, robust_boot_cov
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
