"""The one logit/probit against statsmodels, with weights and badly scaled covariates."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from evaltools._model.binary import binary_hessian, binary_score_obs, fit_binary


@pytest.fixture(scope="module")
def design():
    rng = np.random.default_rng(4)
    n = 1500
    X = np.column_stack([np.ones(n), rng.normal(1980, 8, n), rng.integers(0, 2, n)])  # a birth year
    eta = -0.2 + 0.04 * (X[:, 1] - 1980) + 0.6 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_matches_statsmodels(design, link):
    X, y = design
    ref = (sm.Logit if link == "logit" else sm.Probit)(y, X).fit(disp=0, method="newton", tol=1e-13)
    fit = fit_binary(X, y, link=link)
    assert fit.converged
    # iterative ML: both at the optimum to the tolerance of the Newton steps
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(fit.cov, ref.cov_params(), rtol=1e-7)
    np.testing.assert_allclose(fit.llf, ref.llf, rtol=1e-12)
    np.testing.assert_allclose(binary_score_obs(fit.params, X, y, link), ref.model.score_obs(ref.params),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(binary_hessian(fit.params, X, y, link), ref.model.hessian(ref.params),
                               rtol=1e-7)


def test_frequency_weights_equal_repeated_rows(design):
    X, y = design
    w = np.tile([1.0, 2.0, 3.0], len(y) // 3)
    rep = np.repeat(np.arange(len(y)), w.astype(int))
    a = fit_binary(X, y, w)
    b = fit_binary(X[rep], y[rep])
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-8)


def test_standardisation_is_a_reparametrisation(design):
    X, y = design
    a = fit_binary(X, y, standardize=True)
    b = fit_binary(X, y, standardize=False)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-7)
    np.testing.assert_allclose(a.fitted, b.fitted, rtol=1e-9)


def test_separation_shows_in_the_scaled_coefficients():
    x = np.linspace(-1, 1, 200)
    X = np.column_stack([np.ones(200), x])
    y = (x > 0).astype(float)
    with np.errstate(over="ignore"):
        fit = fit_binary(X, y, max_iter=30)
    # complete separation: the slope on the scaled design runs off, the fitted probabilities reach 0 and 1
    assert fit.scaled_params[0] == 0.0 and fit.scaled_params[1] > 50
    assert np.allclose(fit.fitted, y, atol=1e-6)
