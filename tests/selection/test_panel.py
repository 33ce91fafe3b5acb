from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from linearmodels import IV2SLS, PanelOLS
from linearmodels.datasets import wage_panel

from evaltools.datasets.mroz import load as load_mroz
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError
from evaltools.selection.panel import event_study, iv_2sls, municipality_panel_ols, twfe_did


@pytest.fixture(scope="module")
def wp() -> pd.DataFrame:
    return wage_panel.load()


def _direct(wp: pd.DataFrame, **fit_kw: object) -> object:
    d = wp.set_index(["nr", "year"])
    X = d[["expersq", "union", "married"]].astype(float)
    X.insert(0, "const", 1.0)
    return PanelOLS(d.lwage, X, entity_effects=True, time_effects=True).fit(**fit_kw)


@pytest.mark.parametrize(
    ("cluster", "fit_kw"),
    [
        ("entity", {"cov_type": "clustered", "cluster_entity": True}),
        ("both", {"cov_type": "clustered", "cluster_entity": True, "cluster_time": True}),
        ("robust", {"cov_type": "robust"}),
        (None, {"cov_type": "unadjusted"}),
    ],
)
def test_panel_ols_is_linearmodels(wp: pd.DataFrame, cluster: str | None, fit_kw: dict) -> None:
    before = wp.copy()
    res = municipality_panel_ols(wp, outcome="lwage", covariates=["expersq", "union", "married"], entity="nr",
                                 time="year", cluster=cluster)
    ref = _direct(wp, **fit_kw)
    pd.testing.assert_series_equal(res.params, ref.params)
    np.testing.assert_allclose(res.bse, ref.std_errors, rtol=1e-12)
    # same reference distribution as linearmodels (t(df_resid): PanelOLS is debiased by default)
    np.testing.assert_allclose(res.pvalues, ref.pvalues, rtol=1e-10)
    np.testing.assert_allclose(res.conf_int(), ref.conf_int(), rtol=1e-10)
    np.testing.assert_allclose(res.conf_int(0.1), ref.conf_int(level=0.9), rtol=1e-10)
    assert res.nobs == 4360 and res.raw.nobs == 4360 and res.estimator == "PanelOLS"
    pd.testing.assert_frame_equal(wp, before)


def test_panel_results_interface(wp: pd.DataFrame) -> None:
    res = municipality_panel_ols(wp, outcome="lwage", covariates=["expersq", "union", "married"], entity="nr",
                                 time="year")
    text = res.summary().as_text()
    assert "clustered by 'nr'" in text and "Entities: 545" in text and "No rows dropped" in text
    assert "Confidence level: 90%" in res.summary(alpha=0.1).as_text()
    assert list(res.to_frame().columns) == ["estimate", "std_err", "stat", "pvalue", "lower", "upper"]
    assert "<table" in res._repr_html_()
    with pytest.warns(FutureWarning, match="std_errors is deprecated"):
        np.testing.assert_allclose(res.std_errors, res.bse)
    with pytest.raises(AttributeError, match="read-only"):
        res.raw = None


def test_panel_ols_published_wooldridge_14_4(wp: pd.DataFrame) -> None:
    # Wooldridge, Introductory Econometrics, Example 14.4 (WAGEPAN, fixed effects with year
    # dummies): expersq -.0052, married .047, union .080 (printed to 2-3 significant digits).
    res = municipality_panel_ols(wp, outcome="lwage", covariates=["expersq", "union", "married"], entity="nr",
                                 time="year", cluster=None)
    assert res.params["expersq"] == pytest.approx(-0.0052, abs=5e-5)
    assert res.params["married"] == pytest.approx(0.047, abs=5e-4)
    assert res.params["union"] == pytest.approx(0.080, abs=5e-4)


def test_panel_ols_errors(wp: pd.DataFrame) -> None:
    kw = {"outcome": "lwage", "covariates": ["union"], "entity": "nr", "time": "year"}
    with pytest.raises(DataValidationError, match=r"\['unionx'\].*not found"):
        municipality_panel_ols(wp, **{**kw, "covariates": ["unionx"]})
    dup = pd.concat([wp, wp.iloc[[0, 5]]])
    with pytest.raises(DataValidationError, match=r"each \('nr', 'year'\) pair must appear once; 4 of 4,362"):
        municipality_panel_ols(dup, **kw)
    with pytest.raises(SpecificationError, match="'cluster' parameter of municipality_panel_ols"):
        municipality_panel_ols(wp, **kw, cluster="person")
    with pytest.raises(DataValidationError, match="numeric or datetime periods"):
        municipality_panel_ols(wp.assign(year=wp.year.astype(str)), **kw)
    d = wp.copy()
    d.loc[[1, 2, 3], "union"] = np.nan
    with pytest.warns(MissingValueWarning, match="dropped 3 of 4,360 rows"):
        res = municipality_panel_ols(d, **kw)
    assert res.nobs == 4357 and res.n_dropped == 3 and "3 rows dropped" in str(res)


def _two_period_panel(rng: np.random.Generator, n: int = 200) -> pd.DataFrame:
    ent = np.repeat(np.arange(n), 2)
    per = np.tile([0, 1], n)
    treated = np.repeat(rng.random(n) < 0.4, 2)
    y = rng.normal(size=n)[ent] + 0.3 * per + 1.5 * treated * per + rng.normal(size=2 * n)
    return pd.DataFrame({"unit": ent, "t": per, "y": y, "d": (treated & (per == 1)).astype(int),
                         "g": treated.astype(int)})


def test_twfe_did_equals_2x2_difference_in_means() -> None:
    df = _two_period_panel(np.random.default_rng(5))
    res = twfe_did(df, outcome="y", treatment="d", entity="unit", time="t")
    m = df.groupby(["g", "t"]).y.mean()
    did = (m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0])
    assert res.params["d"] == pytest.approx(did, rel=1e-10)
    with pytest.raises(DataValidationError, match="must be 0/1"):
        twfe_did(df.assign(d=df.d * 2), outcome="y", treatment="d", entity="unit", time="t")


def test_event_study_recovers_known_effects() -> None:
    rng = np.random.default_rng(3)
    n, periods = 120, 10
    ent = np.repeat(np.arange(n), periods)
    per = np.tile(np.arange(periods), n)
    first = np.where(rng.random(n) < 0.5, 5.0, np.nan)[ent]          # common timing, half never treated
    rel = per - first
    # effects grow for 3 periods and then stay flat, so the binned endpoint rel_p3 (rel >= 3) is exact
    effect = np.where(rel >= 0, 1.0 + 0.5 * np.minimum(np.nan_to_num(rel, nan=0.0), 3), 0.0)
    y = rng.normal(size=n)[ent] + 0.2 * per + effect
    df = pd.DataFrame({"id": ent, "t": per, "y": y, "first": first})
    res = event_study(df, outcome="y", entity="id", time="t", first_treated="first", leads=3, lags=3)
    # no noise beyond the fixed effects: coefficients equal the true dynamic effects
    truth = {"rel_m3": 0.0, "rel_m2": 0.0, "rel_p0": 1.0, "rel_p1": 1.5, "rel_p2": 2.0, "rel_p3": 2.5}
    for k, v in truth.items():
        assert res.params[k] == pytest.approx(v, abs=1e-9)
    assert "rel_m1" not in res.params.index
    bad = df.copy()
    bad.loc[0, "first"] = 4.0
    with pytest.raises(DataValidationError, match="must be constant within each 'id'"):
        event_study(bad, outcome="y", entity="id", time="t", first_treated="first")
    with pytest.raises(SpecificationError, match="reference"):
        event_study(df, outcome="y", entity="id", time="t", first_treated="first", leads=2, reference=-3)


def test_iv_2sls_is_linearmodels_and_wooldridge_15_1() -> None:
    m = load_mroz()
    w = m[m.inlf == 1]
    with pytest.warns(MissingValueWarning, match="dropped 325 of 753 rows"):
        res = iv_2sls(m, outcome="lwage", endog="educ", instruments="fatheduc", cov_type="nonrobust",
                      debiased=True)
    ref = IV2SLS(w.lwage, w.assign(const=1.0)[["const"]], w.educ, w.fatheduc).fit(cov_type="unadjusted",
                                                                                 debiased=True)
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.bse.to_numpy(), ref.std_errors.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.pvalues.to_numpy(), ref.pvalues.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(res.conf_int().to_numpy(), ref.conf_int().to_numpy(), rtol=1e-10)
    assert res.raw.first_stage is not None and res.estimator == "IV2SLS"
    # Wooldridge Example 15.1 (textbook: lwage = .441 + .059 educ, SEs (.446) (.035), n = 428),
    # printed to 3 decimals: half a unit of the last digit.  The SE of const (.446) needs the
    # small-sample correction (debiased=True); without it linearmodels gives .4451.
    np.testing.assert_allclose(res.params[["const", "educ"]], [0.441, 0.059], rtol=0, atol=5e-4)
    np.testing.assert_allclose(res.bse[["const", "educ"]], [0.446, 0.035], rtol=0, atol=5e-4)
    assert res.nobs == 428


def test_iv_2sls_errors() -> None:
    m = load_mroz()
    w = m[m.inlf == 1]
    with pytest.raises(SpecificationError, match="at least as many"):
        iv_2sls(w, outcome="lwage", endog=["educ", "exper"], instruments="fatheduc")
    with pytest.raises(SpecificationError, match="'cov_type' parameter of iv_2sls"):
        iv_2sls(w, outcome="lwage", endog="educ", instruments="fatheduc", cov_type="hc3")
    with pytest.raises(SpecificationError, match="cluster"):
        iv_2sls(w, outcome="lwage", endog="educ", instruments="fatheduc", cov_type="cluster")
    with pytest.raises(SpecificationError, match="must not be a regressor"):
        iv_2sls(w, outcome="lwage", exog="fatheduc", endog="educ", instruments="fatheduc")
    with pytest.raises(DataValidationError, match="not found"):
        iv_2sls(w, outcome="lwage", endog="educ", instruments="fathedu")
    kw = dict(outcome="lwage", exog=["exper"], endog="educ", instruments=["fatheduc", "motheduc"])
    res = iv_2sls(w, cov_type="cluster", cluster="city", **kw)
    assert res.cov_type == "clustered"  # linearmodels' name of the estimator
    for old, new in (("clustered", res), ("unadjusted", iv_2sls(w, cov_type="nonrobust", **kw))):
        with pytest.warns(FutureWarning, match=f"iv_2sls: the cov_type value '{old}' is renamed"):
            again = iv_2sls(w, cov_type=old, cluster="city" if old == "clustered" else None, **kw)
        np.testing.assert_array_equal(again.bse.to_numpy(), new.bse.to_numpy())
