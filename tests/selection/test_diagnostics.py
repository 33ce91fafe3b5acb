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
    ecdf_balance,
    ks_pvalue,
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


# -- distributional balance (KS, eCDF, eQQ) against R Matching::MatchBalance --------------------------------
DIST = ["ks", "ecdf_mean", "ecdf_median", "ecdf_max", "eqq_mean", "eqq_median", "eqq_max"]


def _nan_close(got, ref, rtol=1e-10):
    # jsonlite writes NA as "NA"
    ref = np.array([np.nan if v in (None, "NA") else v for v in ref], dtype=float)
    np.testing.assert_allclose(np.asarray(got, dtype=float), ref, rtol=rtol, atol=1e-14, equal_nan=True)


def test_ks_and_ecdf_against_r_matchbalance(nsw):
    r = Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=4).fit()
    assert len(r.matches) == REF["n_pairs"]
    tab = r.balance(ks=True, sd_denominator="treated").table
    for when in ("before", "after"):
        for k in DIST[1:]:
            _nan_close(tab[f"{k}_{when}"], REF[f"{k}_{when}"])
        # MatchBalance reports KS only for covariates with three or more distinct values
        cont = np.array([v not in (None, "NA") for v in REF[f"ks_{when}"]])
        _nan_close(tab[f"ks_{when}"].to_numpy()[cont], np.array(REF[f"ks_{when}"], dtype=object)[cont])
        _nan_close(tab[f"ks_pvalue_{when}"], REF[f"ks_pvalue_{when}"])
        np.testing.assert_allclose(tab[f"ks_{when}"], tab[f"ecdf_max_{when}"], rtol=0)
    # the SMD columns are unchanged by ks=True
    np.testing.assert_allclose(tab["smd_after"] * 100, REF["sdiff_after"], rtol=1e-10, atol=1e-12)


def test_weighted_ecdf_against_r(nsw):
    w = np.asarray(REF["ipw_weights"], dtype=float)
    tab = ecdf_balance(nsw, "treat", X, weights=w)
    for k in ("mean", "median", "max"):
        np.testing.assert_allclose(tab[f"ecdf_{k}_after"], REF[f"weighted_ecdf_{k}"], rtol=1e-10)
    assert tab["eqq_mean_after"].isna().all()
    # equal weights reproduce the unweighted statistics; the ESS p-value then equals the asymptotic one
    eq = ecdf_balance(nsw, "treat", X, weights=np.ones(len(nsw)))
    np.testing.assert_allclose(eq["ks_after"], eq["ks_before"], rtol=1e-14)
    np.testing.assert_allclose(eq["ks_pvalue_after"], eq["ks_pvalue_before"], rtol=1e-12, equal_nan=True)


def test_exact_ks_pvalue_with_ties_against_r(nsw):
    ex = REF["exact_subsample"]
    sub = pd.concat([nsw[nsw.treat == 1].iloc[-60:], nsw[nsw.treat == 0].iloc[-100:]])
    tab = ecdf_balance(sub, "treat", ex["covariates"])
    np.testing.assert_allclose(tab["ks_before"], ex["statistic"], rtol=1e-12)
    np.testing.assert_allclose(tab["ks_pvalue_before"], ex["p_value"], rtol=1e-10)
    from scipy import stats

    # no ties: scipy's exact two-sided KS agrees
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=40), rng.normal(0.5, 1, size=50)
    d = ks_pvalue(stats.ks_2samp(a, b).statistic, 40, 50, pooled=np.r_[a, b])
    assert d == pytest.approx(stats.ks_2samp(a, b, method="exact").pvalue, rel=1e-8)


def test_weighted_ks_pvalue_size_monte_carlo():
    """Under balance, the ESS-based weighted KS p-value rejects at about the nominal rate."""
    rng = np.random.default_rng(7)
    reps, rej = 400, 0
    for _ in range(reps):
        x = rng.normal(size=600)
        t = rng.random(600) < 0.4
        w = rng.uniform(0.5, 2.0, size=600)
        p = ecdf_balance(pd.DataFrame({"t": t.astype(int), "x": x}), "t", ["x"], weights=w)["ks_pvalue_after"]
        rej += float(p.iloc[0]) < 0.05
    se = np.sqrt(0.05 * 0.95 / reps)
    assert abs(rej / reps - 0.05) < 3 * se + 0.01  # asymptotic test, slightly conservative in finite samples


def test_ecdf_balance_bad_input(nsw):
    with pytest.raises(SpecificationError, match="matches"):
        fake = type("M", (), {"unit_weights": pd.Series(1.0, index=nsw.index)})()
        balance_table(nsw, "treat", X, matched=fake, ks=True)
    with pytest.raises(SpecificationError, match="pooled"):
        ks_pvalue(0.2, 10, 10, exact=True)
