"""Shared helpers of the duration tests."""

from __future__ import annotations

import numpy as np


def assert_score_matches_finite_differences(model, theta: np.ndarray, n_points: int, h: float = 1e-6) -> None:
    """The analytic score of a TimingOfEvents model equals central finite differences of its log L."""
    g = model.score(theta, n_points=n_points)
    num = np.array([(model.loglike(theta + e, n_points) - model.loglike(theta - e, n_points)) / (2 * h)
                    for e in np.eye(theta.size) * h])
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-4)


def two_point_theta(model) -> np.ndarray:
    """A two-point parameter vector for a model with three hazards (slopes 0.1)."""
    lay = model._layout(2)
    return lay.join([np.full(x.shape[1], 0.1) for x in model._design.X],
                    np.array([[-3.0, -4.0, -3.0], [-2.0, -3.5, -4.0]]), np.array([0.0, 0.3]))
