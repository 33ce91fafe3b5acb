"""cov_type vocabulary, sandwich and cluster sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools._model.covariance import (
    RENAMES,
    centred_cluster_covariance,
    cluster_sums,
    resolve_cov_type,
    sandwich,
    score_meat,
)
from evaltools.exceptions import SpecificationError


def test_resolve_cov_type_aliases_and_errors():
    assert resolve_cov_type("robust", "M.fit") == "robust"
    for table in RENAMES.values():
        for old, new in table.items():
            with pytest.warns(FutureWarning, match=f"M.fit: the cov_type value '{old}' is renamed '{new}'"):
                assert resolve_cov_type(old, "M.fit", renames=table) == new
    with pytest.raises(SpecificationError, match=r"The 'cov_type' parameter of M.fit must be a str among "
                       r"\{'nonrobust', 'robust', 'cluster'\}. Got 'naive' instead."):
        resolve_cov_type("naive", "M.fit")


def test_cluster_sums_and_meat_match_groupby():
    rng = np.random.default_rng(2)
    s = rng.normal(size=(50, 3))
    codes = rng.integers(0, 7, 50)
    ref = pd.DataFrame(s).groupby(codes).sum().to_numpy()
    np.testing.assert_allclose(cluster_sums(s, codes), ref, rtol=1e-12)
    np.testing.assert_allclose(score_meat(s, codes), ref.T @ ref, rtol=1e-12)
    np.testing.assert_allclose(score_meat(s), s.T @ s, rtol=1e-12)
    bread = np.linalg.inv(s.T @ s)
    np.testing.assert_allclose(sandwich(bread, score_meat(s), factor=2.0), 2 * bread @ (s.T @ s) @ bread)
    assert cluster_sums(np.zeros((4, 0)), np.array([0, 1, 1, 0])).shape == (2, 0)


def test_centred_cluster_covariance():
    rng = np.random.default_rng(3)
    infl = rng.normal(size=(40, 2))
    lab = np.repeat(list("abcdefghij"), 4)
    g = pd.DataFrame(infl).groupby(lab).sum().to_numpy()
    gc = g - g.mean(axis=0)
    np.testing.assert_allclose(centred_cluster_covariance(infl, lab), 10 / 9 * gc.T @ gc, rtol=1e-12)
    assert np.isnan(centred_cluster_covariance(infl, np.zeros(40))).all()
