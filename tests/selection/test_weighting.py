from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.datasets.nsw import load
from evaltools.exceptions import (
    DataValidationError,
    DroppedRowsWarning,
    ExtremeWeightWarning,
    SpecificationError,
)
from evaltools.selection.propensity import PropensityScore
from evaltools.selection.weighting import AIPW, IPW, WeightingResults

REF = json.loads(
    (
        Path(__file__).resolve().parents[1] / "reference" / "selection" / "nsw_ipw" / "expected.json"
    ).read_text()
)
PS = REF["meta"]["ps_covariates"]
OUT = REF["meta"]["outcome_covariates"]


def _prep(d: pd.DataFrame) -> pd.DataFrame:
    d = d.copy()
    for c in ("re74", "re75", "re78"):
        d[c] = d[c] / 1000
    d["u74"], d["u75"] = (d.re74 == 0) * 1.0, (d.re75 == 0) * 1.0
    d["age2"], d["age3"] = d.age**2 / 100, d.age**3 / 1000
    d["educ2"], d["educ_re74"] = d.educ**2, d.educ * d.re74
    return d


@pytest.fixture(scope="module")
def exp() -> pd.DataFrame:
    return _prep(load())


@pytest.fixture(scope="module")
def cps() -> pd.DataFrame:
    return _prep(load("cps"))


def _fits(d):
    return {
        "ipw_ate": IPW(d, outcome="re78", treatment="treat", covariates=PS).fit(),
        "ipw_att": IPW(d, outcome="re78", treatment="treat", covariates=PS, estimand="ATT").fit(),
        "aipw_ate": AIPW(d, outcome="re78", treatment="treat", covariates=PS, outcome_covariates=OUT).fit(),
    }


@pytest.mark.parametrize("key", ["ipw_ate", "ipw_att", "aipw_ate"])
def test_experimental_against_statsmodels(exp, key):
    r = _fits(exp)[key]
    ref = REF["experimental"][key]
    eff, pom0, pom1 = ref["closed_form_effect_pom0_pom1"]
    # closed-form estimates given the logit fit
    np.testing.assert_allclose(r.params.to_numpy(), [eff, pom1, pom0], rtol=1e-8)
    # statsmodels differentiates the moment conditions numerically (we use analytic derivatives): rtol 1e-5
    np.testing.assert_allclose(
        r.bse.to_numpy(), [ref["effect_se"], ref["pom1_se"], ref["pom0_se"]], rtol=1e-5
    )


def test_cps_point_estimates_against_statsmodels(cps):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtremeWeightWarning)
        fits = _fits(cps)
    for key, r in fits.items():
        eff, pom0, pom1 = REF["cps"][key]["closed_form_effect_pom0_pom1"]
        # extreme weights amplify the 1e-10-level differences of two Newton logit fits: rtol 1e-6
        np.testing.assert_allclose(r.params.to_numpy(), [eff, pom1, pom0], rtol=1e-6)
        assert np.isfinite(r.bse).all()


def test_cps_extreme_weights_warn_and_report(cps):
    with pytest.warns(ExtremeWeightWarning, match=r"effective sample size [\d.,]+ of 185"):
        r = IPW(cps, outcome="re78", treatment="treat", covariates=PS).fit()
    assert r.extreme_weights
    assert r.ess_treated < 0.1 * 185
    text = str(r.summary())
    assert "Effective sample sizes" in text and "extreme weights" in text


def test_trimming_counts_and_refit(cps):
    with pytest.warns(DroppedRowsWarning, match="propensity score outside"):
        r = IPW(cps, outcome="re78", treatment="treat", covariates=PS, estimand="ATE", trim=0.1).fit()
    full = PropensityScore(cps, treatment="treat", covariates=PS).fit().pscore
    keep = (full >= 0.1) & (full <= 0.9)
    t = cps.treat == 1
    assert r.n_trimmed_treated == int((~keep & t).sum())
    assert r.n_trimmed_control == int((~keep & ~t).sum())
    assert r.weights.isna().sum() == int((~keep).sum())
    assert r.nobs == int(keep.sum())
    assert "Trimmed to propensity scores in [0.1, 0.9]" in str(r.summary())
    # the propensity model is re-fitted on the kept units
    assert r.pscore.nobs == int(keep.sum())


def test_normalize_stabilize_and_given_pscore(exp):
    before = exp.copy()
    a = IPW(exp, outcome="re78", treatment="treat", covariates=PS).fit()
    with pytest.warns(DroppedRowsWarning, match="dropped 13 of 445 rows"):
        AIPW(exp, outcome="re78", treatment="treat", covariates=PS, trim=0.2).fit()
    pd.testing.assert_frame_equal(exp, before)
    with pytest.raises(AttributeError):
        a.estimate = 1.0
    s = IPW(exp, outcome="re78", treatment="treat", covariates=PS, stabilize=True).fit()
    np.testing.assert_allclose(a.params, s.params, rtol=1e-12)
    t = exp.treat == 1
    # stabilised ATE weights average about one in each arm
    assert abs(s.weights[t].mean() - 1) < 0.2 and abs(s.weights[~t].mean() - 1) < 0.2
    ht = IPW(exp, outcome="re78", treatment="treat", covariates=PS, normalize=False).fit()
    p = a.pscore.pscore.to_numpy()
    y, tt = exp.re78.to_numpy(), t.to_numpy()
    np.testing.assert_allclose(ht.params["POM1"], np.mean(tt * y / p), rtol=1e-12)
    np.testing.assert_allclose(ht.params["POM0"], np.mean((1 - tt) * y / (1 - p)), rtol=1e-12)
    ps = PropensityScore(exp, treatment="treat", covariates=PS).fit()
    g = IPW(exp, outcome="re78", treatment="treat", pscore=ps).fit()
    np.testing.assert_allclose(g.params, a.params, rtol=1e-12)
    np.testing.assert_allclose(g.bse, a.bse, rtol=1e-10)
    assert isinstance(g, WeightingResults)
    b = g.balance(PS[:4])
    assert b.adjusted and len(b.table) == 4


def test_ht_att_influence_function_against_numerical_sandwich(exp):
    # independent check of the stacked sandwich: jackknife-free numerical derivative of the moments
    r = IPW(
        exp,
        outcome="re78",
        treatment="treat",
        covariates=["age", "educ", "re75"],
        estimand="ATT",
        normalize=False,
    ).fit()
    import statsmodels.api as sm

    x = sm.add_constant(exp[["age", "educ", "re75"]]).to_numpy()
    t = exp.treat.to_numpy().astype(float)
    y = exp.re78.to_numpy()
    theta = np.concatenate([r.pscore.params.to_numpy(), [r.params["POM1"], r.params["POM0"]]])

    def moments(th):
        g, m1, m0 = th[:4], th[4], th[5]
        p = 1 / (1 + np.exp(-x @ g))
        return np.column_stack([(t - p)[:, None] * x, t * (y - m1), (1 - t) * p / (1 - p) * y - t * m0])

    n = len(y)
    psi = moments(theta)
    jac = np.empty((6, 6))
    for j in range(6):
        h = 1e-6 * max(1.0, abs(theta[j]))
        e = np.zeros(6)
        e[j] = h
        jac[:, j] = (moments(theta + e).mean(0) - moments(theta - e).mean(0)) / (2 * h)
    ainv = np.linalg.inv(jac)
    v = ainv @ (psi.T @ psi / n) @ ainv.T / n
    grad = np.zeros(6)
    grad[4], grad[5] = 1, -1
    np.testing.assert_allclose(r.bse["ATT"], np.sqrt(grad @ v @ grad), rtol=1e-5)


def test_aipw_sklearn_outcome_cross_fitted(exp):
    from sklearn.linear_model import LinearRegression

    ols = AIPW(exp, outcome="re78", treatment="treat", covariates=PS, outcome_covariates=OUT).fit()
    lr = LinearRegression()
    sk = AIPW(
        exp,
        outcome="re78",
        treatment="treat",
        covariates=PS,
        outcome_covariates=OUT,
        outcome_model=lr,
        n_folds=5,
    ).fit()
    assert not hasattr(lr, "coef_")
    assert abs(sk.estimate - ols.estimate) < 0.5 * ols.bse.iloc[0]
    assert "cross-fitted" in str(sk.summary())


def test_bad_input(exp):
    with pytest.raises(
        SpecificationError,
        match=r"The 'estimand' parameter of IPW must be a str among "
        r"\{'ATE', 'ATT'\}. Got 'ATC' instead.",
    ):
        IPW(exp, outcome="re78", treatment="treat", covariates=PS, estimand="ATC")
    with pytest.raises(SpecificationError, match="'trim'"):
        IPW(exp, outcome="re78", treatment="treat", covariates=PS, trim=0.7)
    with pytest.raises(SpecificationError, match="outcome_model"):
        AIPW(exp, outcome="re78", treatment="treat", covariates=PS, outcome_model="lasso")
    with pytest.raises(DataValidationError, match="binary"):
        IPW(exp.assign(tt=exp.treat * 2 + (exp.age > 30)), outcome="re78", treatment="tt", covariates=PS)
    with pytest.raises(DataValidationError, match="perfectly predict"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            IPW(
                exp.assign(z=exp.treat * 1.0), outcome="re78", treatment="treat", covariates=["z", "age"]
            ).fit()
    bad = exp.copy()
    bad.loc[4, "re78"] = np.nan
    for cls, kw in ((IPW, {}), (AIPW, {"outcome_covariates": OUT})):
        # the outcome is named as the outcome, and the suggested fix names its column
        with pytest.raises(DataValidationError, match=r"missing values \('re78': 1\) in the outcome.*"
                           r"dropna\(subset=\['re78'\]\)"):
            cls(bad, outcome="re78", treatment="treat", covariates=PS, **kw)
    other = exp.iloc[150:300]
    ps = PropensityScore(other, treatment="treat", covariates=["age"]).fit()
    with pytest.raises(DataValidationError, match="different index"):
        IPW(exp, outcome="re78", treatment="treat", pscore=ps)


def _dgp(rng, n=600):
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n)
    p = 1 / (1 + np.exp(-(-0.3 + 0.7 * x1 - 0.5 * x2)))
    t = rng.binomial(1, p)
    # heterogeneous effect 1 + x1: ATE = 1, ATT = 1 + E[x1 | T=1]
    y = 0.5 + x1 + x2 + (1 + x1) * t + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "t": t, "y": y})


def _att_truth():
    rng = np.random.default_rng(99)
    x1 = rng.normal(size=2_000_000)
    x2 = rng.binomial(1, 0.4, size=x1.size)
    p = 1 / (1 + np.exp(-(-0.3 + 0.7 * x1 - 0.5 * x2)))
    return 1 + np.sum(p * x1) / np.sum(p)


@pytest.mark.filterwarnings("ignore::evaltools.exceptions.ExtremeWeightWarning")
@pytest.mark.parametrize("cls,estimand", [(IPW, "ATE"), (IPW, "ATT"), (AIPW, "ATE"), (AIPW, "ATT")])
def test_monte_carlo_bias_and_coverage(cls, estimand):
    truth = 1.0 if estimand == "ATE" else _att_truth()
    rng = np.random.default_rng(7 + len(estimand) + (cls is AIPW))
    reps = 150
    est, cover = np.empty(reps), np.empty(reps, dtype=bool)
    for i in range(reps):
        r = cls(_dgp(rng), outcome="y", treatment="t", covariates=["x1", "x2"], estimand=estimand).fit()
        est[i] = r.estimate
        lo, hi = r.conf_int().iloc[0]
        cover[i] = lo <= truth <= hi
    mc_se = est.std(ddof=1) / np.sqrt(reps)
    assert abs(est.mean() - truth) < 4 * mc_se
    # nominal 0.95; MC SE of the coverage rate with 150 reps is 0.018
    assert 0.89 <= cover.mean() <= 0.995


# ---------------------------------------------------------------------------------------------
# cluster-robust standard errors
def test_cluster_se_against_statsmodels_wls(exp):
    """Known scores (a scikit-learn model): Hajek IPW = WLS of y on (1, T); clustered SE = statsmodels'."""
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression

    d = exp.reset_index(drop=True).assign(grp=lambda x: x.index // 4)
    r = IPW(d, outcome="re78", treatment="treat", covariates=PS,
            method=LogisticRegression(C=1e6, max_iter=5000)).fit(cluster="grp")
    p = r.pscore.pscore.to_numpy()
    t = d["treat"].to_numpy(float)
    w = t / p + (1 - t) / (1 - p)
    wls = sm.WLS(d["re78"], sm.add_constant(t), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": d["grp"], "use_correction": False}
    )
    g = d["grp"].nunique()
    np.testing.assert_allclose(r.params["ATE"], wls.params.iloc[1], rtol=1e-10)
    np.testing.assert_allclose(r.bse["ATE"], wls.bse.iloc[1] * np.sqrt(g / (g - 1)), rtol=1e-10)
    assert r.n_clusters == g and "clustered by 'grp'" in str(r.summary())


@pytest.mark.parametrize("cls", [IPW, AIPW])
def test_cluster_se_of_duplicated_rows(exp, cls):
    """Every row twice, clustered by the original row: the SE of the original data, not 1/sqrt(2) of it."""
    kw = dict(outcome="re78", treatment="treat", covariates=PS)
    if cls is AIPW:
        kw["outcome_covariates"] = OUT
    d = exp.reset_index(drop=True).assign(row=lambda x: x.index)
    one = cls(d, **kw).fit()
    two = pd.concat([d, d], ignore_index=True)
    n = len(d)
    clustered = cls(two, **kw).fit(cluster="row")
    naive = cls(two, **kw).fit()
    np.testing.assert_allclose(clustered.params, one.params, rtol=1e-8)
    np.testing.assert_allclose(clustered.bse, one.bse * np.sqrt(n / (n - 1)), rtol=1e-6)
    np.testing.assert_allclose(naive.bse, one.bse / np.sqrt(2), rtol=1e-6)
    # singleton clusters: the robust covariance times n / (n - 1)
    single = cls(d, **kw).fit(cluster="row")
    np.testing.assert_allclose(single.cov_params().to_numpy(), one.cov_params().to_numpy() * n / (n - 1),
                               rtol=1e-10)


def test_cluster_bad_input(exp):
    d = exp.reset_index(drop=True)
    with pytest.raises(DataValidationError, match=r"\['nope'\] \(cluster\) not found"):
        IPW(d, outcome="re78", treatment="treat", covariates=PS).fit(cluster="nope")
    bad = d.assign(g=np.where(d.index < 5, np.nan, 1.0))
    with pytest.raises(DataValidationError, match="5 missing"):
        IPW(bad, outcome="re78", treatment="treat", covariates=PS).fit(cluster="g")
    with pytest.raises(DataValidationError, match="at least two"):
        IPW(d.assign(g=1), outcome="re78", treatment="treat", covariates=PS).fit(cluster="g")


@pytest.mark.parametrize("cls", [IPW, AIPW])
def test_cluster_in_init_is_accepted_with_a_future_warning(exp, cls):
    kw = dict(outcome="re78", treatment="treat", covariates=PS)
    if cls is AIPW:
        kw["outcome_covariates"] = OUT
    d = exp.reset_index(drop=True).assign(grp=lambda x: x.index // 4)
    new = cls(d, **kw).fit(cluster="grp")
    with pytest.warns(FutureWarning, match=r"cluster is a fit argument.*fit\(cluster='grp'\)"):
        old = cls(d, cluster="grp", **kw).fit()
    pd.testing.assert_series_equal(old.params, new.params)
    pd.testing.assert_series_equal(old.bse, new.bse)
    assert old.n_clusters == new.n_clusters == d["grp"].nunique()


def _clustered_dgp(rng, persons: int = 150, rows: int = 4) -> pd.DataFrame:
    """Persons with several rows, a person-level covariate and treatment, a person effect; ATE = ATT = 1."""
    g = np.repeat(np.arange(persons), rows)
    a = rng.normal(size=persons)
    x = a[g]
    t = (rng.random(persons) < 1 / (1 + np.exp(-0.5 * a)))[g].astype(int)
    y = 1.0 * t + x + 2.0 * rng.normal(size=persons)[g] + rng.normal(size=g.size)
    return pd.DataFrame({"g": g, "x": x, "t": t, "y": y})


@pytest.mark.parametrize("cls", [IPW, AIPW])
def test_monte_carlo_cluster_coverage(cls):
    """Rows correlated within persons: clustered intervals keep nominal coverage, row-level ones do not."""
    rng = np.random.default_rng(31 + (cls is AIPW))
    reps = 200
    cover = {"cluster": np.empty(reps, bool), "rows": np.empty(reps, bool)}
    for i in range(reps):
        d = _clustered_dgp(rng)
        for kind, kw in (("cluster", {"cluster": "g"}), ("rows", {})):
            lo, hi = cls(d, outcome="y", treatment="t", covariates=["x"]).fit(**kw).conf_int().iloc[0]
            cover[kind][i] = lo <= 1.0 <= hi
    # nominal 0.95; MC SE of the coverage rate with 200 reps is 0.015
    assert 0.91 <= cover["cluster"].mean() <= 0.99, cover["cluster"].mean()
    rows_cov, cl_cov = cover["rows"].mean(), cover["cluster"].mean()
    assert rows_cov < cl_cov - 0.1, (rows_cov, cl_cov)
