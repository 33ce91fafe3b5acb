"""The shared Newton driver, its convergence warning and the separation check."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import gammaln

from evaltools._model.optimize import diverging_coefficients, newton_maximize, solve_step, warn_not_converged
from evaltools.exceptions import ConvergenceWarning


def LLF(state: dict) -> float:  # noqa: N802 - a constant-like helper
    return state["llf"]


def _poisson(X, y):
    def evaluate(b):
        eta = X @ b
        mu = np.exp(eta)
        llf = float(y @ eta - mu.sum() - gammaln(y + 1).sum())
        return {"llf": llf, "score": X.T @ (y - mu), "info": (X * mu[:, None]).T @ X}

    def direction(st):
        step = solve_step(st["info"], st["score"])
        return step, float(step @ st["score"])

    return evaluate, direction


def test_newton_matches_statsmodels_poisson():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(500), rng.normal(size=(500, 2))])
    y = rng.poisson(np.exp(X @ [0.5, 0.3, -0.2]))
    evaluate, direction = _poisson(X, y)
    for criterion in ("decrement", "llf"):
        res = newton_maximize(evaluate, np.zeros(3), direction, max_iter=50, tol=1e-14, criterion=criterion,
                              llf=LLF)
        ref = sm.Poisson(y, X).fit(disp=0, method="newton", tol=1e-14)
        assert res.converged and not res.stalled
        np.testing.assert_allclose(res.params, ref.params, rtol=1e-9)
        np.testing.assert_allclose(res.state["llf"], ref.llf, rtol=1e-12)


def test_step_halving_keeps_the_likelihood_from_falling():
    # a one-parameter concave function whose full Newton step from far away overshoots
    def evaluate(b):
        return {"llf": float(-np.log(np.cosh(b[0]))), "b": b}

    def direction(st):
        b = st["b"][0]
        g, h = -np.tanh(b), 1 / np.cosh(b) ** 2
        return np.array([g / h]), float(g * g / h)

    seen = []

    def tracked(b):
        st = evaluate(b)
        seen.append(st["llf"])
        return st

    res = newton_maximize(tracked, np.array([3.0]), direction, max_iter=100, tol=1e-20, llf=LLF)
    assert res.converged and abs(res.params[0]) < 1e-8
    # plain Newton diverges from 3.0 on log cosh; with halving every accepted point is at least as good
    assert res.state["llf"] >= evaluate(np.array([3.0]))["llf"]


def test_no_direction_stops_with_stalled():
    res = newton_maximize(lambda b: {"llf": 0.0}, np.zeros(2), lambda st: None, max_iter=10, tol=1e-10,
                          llf=LLF)
    assert res.stalled and not res.converged and res.n_iter == 1


def test_failed_halving_can_stop_instead_of_accepting():
    def evaluate(b):
        return {"llf": -float(b @ b)}

    def uphill(st):  # a direction that always lowers the likelihood
        return np.ones(2), 1.0

    res = newton_maximize(evaluate, np.ones(2), uphill, max_iter=5, tol=1e-10, max_halvings=5,
                          accept_failed_halving=False, llf=LLF)
    assert res.stalled and np.array_equal(res.params, np.ones(2))


def test_convergence_warning_and_diverging_coefficients():
    with pytest.warns(ConvergenceWarning, match=r"M.fit: Newton-Raphson did not converge in 7 iterations"):
        warn_not_converged("M.fit", 7)
    names = ["a", "b", "c"]
    assert diverging_coefficients(np.array([1.0, 40.0, 0.5]), np.array([1e-9, 2.0, 1e-6]), names) == ["b"]
    assert diverging_coefficients(np.zeros(3), np.zeros(3), names) == []
