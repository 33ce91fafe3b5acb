from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from evaltools.datasets.nsw import load  # noqa: E402
from evaltools.exceptions import DataValidationError, OverlapWarning, SpecificationError  # noqa: E402
from evaltools.selection.propensity import PropensityResults, PropensityScore, crump_alpha  # noqa: E402

REF = Path(__file__).resolve().parents[1] / "reference" / "selection" / "nsw_cps_psm"
DW = (
    "treat ~ age + I(age**2) + I(age**3) + educ + I(educ**2) + marr + nodegree + black + hisp + re74 + re75"
    " + u74 + u75 + I(educ*re74)"
)


@pytest.fixture(scope="module")
def cps() -> pd.DataFrame:
    d = load("cps")
    return d.assign(u74=(d.re74 == 0) * 1, u75=(d.re75 == 0) * 1)


@pytest.fixture(scope="module")
def cps_fit(cps) -> PropensityResults:
    return PropensityScore.from_formula(DW, cps).fit()


def test_logit_against_r_glm(cps_fit):
    ref = json.loads((REF / "expected.json").read_text())["glm"]
    # iterative ML: R glm (epsilon 1e-14) vs statsmodels Newton; rtol 1e-5 for coefficients and SEs
    np.testing.assert_allclose(cps_fit.params.to_numpy(), ref["coef"], rtol=1e-5)
    np.testing.assert_allclose(cps_fit.bse.to_numpy(), ref["se"], rtol=1e-5)
    np.testing.assert_allclose(cps_fit.llf, ref["loglik"], rtol=1e-10)
    ps = pd.read_csv(REF / "pscore.csv")["pscore"].to_numpy()
    np.testing.assert_allclose(cps_fit.pscore.to_numpy(), ps, rtol=1e-6)
    assert cps_fit.pscore.index.equals(load("cps").index)


def test_summary_and_read_only(cps_fit):
    text = str(cps_fit.summary())
    assert "Propensity score" in text and "logit" in text
    with pytest.raises(AttributeError):
        cps_fit.pscore = None


def test_common_support_and_trim(cps_fit):
    cs = cps_fit.common_support()
    assert list(cs.index) == ["treated", "control"]
    assert cs.loc["treated", "n"] == 185 and cs.loc["control", "n"] == 15992
    lo, hi = cs.attrs["overlap"]
    p, t = cps_fit.pscore.to_numpy(), cps_fit.treated.to_numpy()
    assert cs.loc["control", "n_below_overlap"] == int((p[~t] < lo).sum())
    tr = cps_fit.trim("crump", alpha=0.1)
    keep = (p >= 0.1) & (p <= 0.9)
    assert tr.keep.to_numpy().tolist() == keep.tolist()
    assert tr.n_dropped_treated == int((~keep & t).sum()) and tr.n_dropped_control == int((~keep & ~t).sum())
    assert "Crump" in tr.describe()
    mm = cps_fit.trim("minmax")
    assert mm.lower == pytest.approx(lo) and mm.upper == pytest.approx(hi)
    opt = cps_fit.trim("crump", alpha="optimal")
    assert 0 < opt.alpha < 0.5


def test_crump_alpha_solves_fixed_point():
    rng = np.random.default_rng(0)
    e = 1 / (1 + np.exp(-rng.normal(scale=2.5, size=5000)))
    a = crump_alpha(e)
    g = 1 / (e * (1 - e))
    gamma = 1 / (a * (1 - a))
    # gamma = 2 E[g | g <= gamma]
    np.testing.assert_allclose(gamma, 2 * g[g <= gamma].mean(), rtol=1e-10)
    # well-overlapping scores need no trimming
    assert crump_alpha(np.full(100, 0.5)) == 0.0


def test_probit_and_sklearn(cps):
    d = load()
    pr = PropensityScore(d, treatment="treat", covariates=["age", "educ", "re75"], method="probit").fit()
    assert pr.params.index.tolist() == ["Intercept", "age", "educ", "re75"]
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1e6, max_iter=2000)
    r = PropensityScore(d, treatment="treat", covariates=["age", "educ"], method=clf).fit()
    assert not hasattr(clf, "coef_")  # cloned, not fitted in place
    lg = PropensityScore(d, treatment="treat", covariates=["age", "educ"]).fit()
    np.testing.assert_allclose(r.pscore.to_numpy(), lg.pscore.to_numpy(), atol=1e-4)
    assert r.params.empty


def test_plot_overlap(cps_fit):
    import matplotlib.pyplot as plt

    ax = cps_fit.plot_overlap()
    assert ax.get_xlabel() == "propensity score"
    plt.close("all")


def test_perfect_separation_and_bad_input():
    d = load()
    with pytest.raises(DataValidationError, match="perfectly predict"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            PropensityScore(d.assign(z=d.treat * 2.0), treatment="treat", covariates=["z", "age"]).fit()
    with pytest.raises(SpecificationError, match=r"The 'method' parameter of PropensityScore must be"):
        PropensityScore(d, treatment="treat", covariates=["age"], method="lgit")
    with pytest.raises(DataValidationError, match="binary"):
        PropensityScore(d, treatment="age", covariates=["educ"])
    bad = d.copy()
    bad.loc[0, "age"] = np.nan
    with pytest.raises(DataValidationError, match=r"missing values \('age': 1"):
        PropensityScore(bad, treatment="treat", covariates=["age"])
    with pytest.raises(DataValidationError, match="missing values"):
        PropensityScore.from_formula("treat ~ age + educ", bad)
    with pytest.raises(DataValidationError, match="not numeric"):
        PropensityScore(d.assign(s="a"), treatment="treat", covariates=["s"])


def test_quasi_separation_warns():
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    d = pd.DataFrame({"t": (x > 0).astype(int), "w": x})
    d.loc[d.index[:3], "t"] = 1 - d.loc[d.index[:3], "t"]  # not complete separation
    d["w"] = np.where(d.w > 1.5, 40.0, d.w)  # a region where treatment is certain
    with pytest.warns(OverlapWarning, match="quasi-complete separation"):
        res = PropensityScore(d, treatment="t", covariates=["w"]).fit()
    assert res.n_extreme > 0
