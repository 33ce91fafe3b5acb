from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from evaltools.datasets.nsw import load  # noqa: E402
from evaltools.exceptions import DataValidationError, SpecificationError  # noqa: E402
from evaltools.selection.diagnostics import (  # noqa: E402
    BalanceTable,
    balance_table,
    plot_overlap,
    weighted_mean_var,
)
from evaltools.selection.matching import Matching  # noqa: E402

REF = json.loads(
    (
        Path(__file__).resolve().parents[1] / "reference" / "selection" / "nsw_balance" / "expected.json"
    ).read_text()
)
X = REF["covariates"]


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    d = load()
    return d.assign(u74=(d.re74 == 0) * 1, u75=(d.re75 == 0) * 1, y=d.re78 / 1000)


def test_balance_against_r_matchbalance(nsw):
    r = Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=4).fit()
    tab = balance_table(nsw, "treat", X, matched=r, sd_denominator="treated").table
    # MatchBalance sdiff = 100 * (mean_T - mean_C) / sd_T
    np.testing.assert_allclose(tab["smd_before"] * 100, REF["sdiff_before"], rtol=1e-10)
    np.testing.assert_allclose(tab["smd_after"] * 100, REF["sdiff_after"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tab["var_ratio_before"], REF["var_ratio_before"], rtol=1e-10)
    np.testing.assert_allclose(tab["mean_treated_after"], REF["mean_treated_after"], rtol=1e-10)
    np.testing.assert_allclose(tab["mean_control_after"], REF["mean_control_after"], rtol=1e-10)


def test_smd_and_variance_ratio_by_hand():
    d = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0, 0], "x": [1.0, 2.0, 3.0, 0.0, 1.0, 1.0, 2.0]})
    tab = balance_table(d, "t", ["x"]).table.loc["x"]
    v1, v0 = np.var([1, 2, 3], ddof=1), np.var([0, 1, 1, 2], ddof=1)
    assert tab["smd_before"] == pytest.approx((2 - 1) / np.sqrt((v1 + v0) / 2), rel=1e-12)
    assert tab["var_ratio_before"] == pytest.approx(v1 / v0, rel=1e-12)
    # frequency-like weights: duplicating a control changes its arm's mean
    w = np.array([1, 1, 1, 1, 1, 1, 3.0])
    after = balance_table(d, "t", ["x"], weights=w).table.loc["x"]
    assert after["mean_control_after"] == pytest.approx((0 + 1 + 1 + 6) / 6, rel=1e-12)
    m, v = weighted_mean_var(np.array([[1.0], [2.0], [3.0]]), np.ones(3))
    assert v[0] == pytest.approx(1.0)


def test_love_plot_and_overlap(nsw):
    import matplotlib.pyplot as plt

    r = Matching(nsw, outcome="y", treatment="treat", covariates=X).fit()
    b = r.balance()
    assert isinstance(b, BalanceTable)
    ax = b.love_plot()
    assert len(ax.get_yticklabels()) == len(X)
    assert b.n_imbalanced >= 0 and "smd_after" in repr(b)
    ax2 = plot_overlap(np.linspace(0.01, 0.99, 445), nsw.treat)
    assert ax2.get_xlabel() == "propensity score"
    plt.close("all")


def test_bad_input(nsw):
    with pytest.raises(SpecificationError, match="either 'weights' or 'matched'"):
        balance_table(nsw, "treat", X, weights=np.ones(445), matched=object())
    with pytest.raises(SpecificationError, match="sd_denominator"):
        balance_table(nsw, "treat", X, sd_denominator="both")
    with pytest.raises(DataValidationError, match="one value per row"):
        balance_table(nsw, "treat", X, weights=np.ones(3))
    with pytest.raises(DataValidationError, match="non-negative"):
        balance_table(nsw, "treat", X, weights=-np.ones(445))
    with pytest.raises(DataValidationError, match="must be binary"):
        balance_table(nsw, "educ", ["age"])
    bad = nsw.copy()
    bad.loc[2, "age"] = np.nan
    with pytest.raises(DataValidationError, match="covariates must not be missing"):
        balance_table(bad, "treat", ["age"])
    with pytest.raises(DataValidationError, match="not found"):
        balance_table(nsw, "treat", ["nope"])


def test_constant_covariate_is_balanced_exactly():
    """A covariate constant in the data (local unemployment in one municipality): SMD 0, variance ratio NaN.

    Its weighted means round (7.300000000000001) and its variance to about 1e-31, which gave an SMD of -0.09.
    """
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"t": rng.integers(0, 2, 1000), "c": 7.3, "x": rng.normal(size=1000)})
    for kw in ({}, {"weights": rng.random(1000)}):
        tab = balance_table(d, treatment="t", covariates=["c", "x"], **kw).table
        smd = [c for c in tab.columns if c.startswith("smd")]
        vr = [c for c in tab.columns if c.startswith("var_ratio")]
        assert (tab.loc["c", smd] == 0).all() and tab.loc["c", vr].isna().all()
        assert (tab.loc["c", [c for c in tab.columns if c.startswith("mean")]] == 7.3).all()
        assert (tab.loc["x", smd].abs() > 0).all()
