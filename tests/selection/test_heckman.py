from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaltools.datasets.mroz import load
from evaltools.exceptions import (
    ConvergenceWarning,
    DataValidationError,
    MissingValueWarning,
    SpecificationError,
)
from evaltools.selection.heckman import ExclusionRestrictionWarning, Heckman, HeckmanResults

REFDIR = Path(__file__).resolve().parents[1] / "reference" / "selection"
TWO = json.loads((REFDIR / "mroz_heckman_twostep" / "expected.json").read_text())
ML = json.loads((REFDIR / "mroz_heckman_ml" / "expected.json").read_text())

OUT_F = "lwage ~ educ + exper + expersq"
SEL_F = "inlf ~ educ + exper + expersq + nwifeinc + age + kidslt6 + kidsge6"
XCOLS = ["educ", "exper", "expersq"]
ZCOLS = ["educ", "exper", "expersq", "nwifeinc", "age", "kidslt6", "kidsge6"]


@pytest.fixture(scope="module")
def mroz() -> pd.DataFrame:
    return load()


@pytest.fixture(scope="module")
def model(mroz: pd.DataFrame) -> Heckman:
    return Heckman.from_formula(OUT_F, SEL_F, mroz)


@pytest.fixture(scope="module")
def two(model: Heckman) -> HeckmanResults:
    return model.fit(method="twostep")


@pytest.fixture(scope="module")
def ml(model: Heckman) -> HeckmanResults:
    return model.fit(method="ml")



# --------------------------------------------------------------- two-step
def test_dataset_shape(mroz: pd.DataFrame) -> None:
    assert mroz.shape == (753, 22)
    assert int(mroz["inlf"].sum()) == 428
    assert mroz.loc[mroz.inlf == 0, "lwage"].isna().all()


@pytest.mark.parametrize("probit_cov", ["observed", "expected"])
def test_twostep_matches_r_oracle(model: Heckman, probit_cov: str) -> None:
    two = model.fit(method="twostep", probit_cov=probit_cov)
    ref = TWO["wooldridge_17_5" + ("_observed" if probit_cov == "observed" else "")]
    # The probit step is iterative on both sides (converged to ~1e-14); the rest is closed form,
    # so rtol 1e-8 applies.
    out = two.outcome_params.rename({"Intercept": "(Intercept)", "lambda": "imr"})
    np.testing.assert_allclose(out[list(ref["outcome"])], list(ref["outcome"].values()), rtol=1e-8)
    bse = two.bse.iloc[:5].to_numpy()
    np.testing.assert_allclose(bse, list(ref["outcome_se"].values()), rtol=1e-8)
    np.testing.assert_allclose(two.selection_params.to_numpy(), list(ref["selection"].values()), rtol=1e-8)
    np.testing.assert_allclose(two.bse.iloc[5:].to_numpy(), list(ref["selection_se"].values()), rtol=1e-8)
    np.testing.assert_allclose(two.cov_params().iloc[:5, :5].to_numpy(), np.array(ref["outcome_vcov"]),
                               rtol=1e-8, atol=1e-14)
    assert two.sigma == pytest.approx(ref["sigma"], rel=1e-8)
    assert two.rho == pytest.approx(ref["rho"], rel=1e-8)
    assert two.nobs == 753 and two.n_selected == 428 and two.n_dropped == 0
    if probit_cov == "expected":
        # micEcon heckit.Rout.save prints .305007 and .133626; its probit stops at glm's default
        # epsilon (1e-8), which moves the 6th decimal, hence atol 1.5e-6.
        assert two.bse["outcome:Intercept"] == pytest.approx(0.305007, abs=1.5e-6)
        assert two.bse["lambda"] == pytest.approx(0.133626, abs=1.5e-6)


def test_twostep_published_wooldridge(two: HeckmanResults) -> None:
    # Stata 'heckman, twostep' (observed-information probit, the default), printed to 6-7
    # decimals: compare to half a unit of the last printed digit.
    p = two.outcome_params
    np.testing.assert_allclose(p[["Intercept", "educ", "exper", "expersq", "lambda"]],
                               [-0.578103, 0.109066, 0.043887, -0.000859, 0.032262], rtol=0, atol=5e-7)
    np.testing.assert_allclose(two.bse.iloc[:5], [0.3050062, 0.015523, 0.0162611, 0.0004389, 0.1336246],
                               rtol=0, atol=5e-7)
    assert two.sigma == pytest.approx(0.663629, abs=5e-7)
    # Stata prints rho = .04861 (= lambda / sigma = .0486143); micEcon's .0486137 differs in the
    # 7th decimal, so compare with Stata's printed precision.
    assert two.rho == pytest.approx(0.04861, abs=5e-6)
    assert two.lambda_ == pytest.approx(0.032262, abs=5e-7)
    # first-step probit as printed in the anchors (5 decimals; 0.036005 was printed .03601, so
    # allow one unit of the last digit)
    np.testing.assert_allclose(
        two.selection_params[["Intercept", "nwifeinc", "educ", "exper", "expersq", "age", "kidslt6",
                              "kidsge6"]],
        [0.27008, -0.01202, 0.13090, 0.12335, -0.00189, -0.05285, -0.86833, 0.03601], rtol=0, atol=1e-5)


def test_twostep_greene(mroz: pd.DataFrame) -> None:
    d = mroz.assign(kids=((mroz.kidslt6 + mroz.kidsge6) > 0).astype(int), agesq=mroz.age**2)
    model = Heckman.from_formula("wage ~ exper + expersq + educ + city",
                                 "inlf ~ age + agesq + faminc + kids + educ", d)
    for cov, key in (("observed", "greene_22_8_observed"), ("expected", "greene_22_8")):
        res = model.fit(probit_cov=cov)
        ref = TWO[key]
        np.testing.assert_allclose(res.params.iloc[:6], list(ref["outcome"].values()), rtol=1e-8)
        np.testing.assert_allclose(res.bse.iloc[:6], list(ref["outcome_se"].values()), rtol=1e-8)
        assert res.sigma == pytest.approx(ref["sigma"], rel=1e-8)
    # micEcon's published SEs use glm's (expected-information) probit covariance: res is "expected"
    # Greene / micEcon print educ .417019 (.100255), lambda -1.097587 (1.265848), sigma 3.20006,
    # rho -.34299.  Mroz87 rounds wage/faminc differently from Wooldridge's file, which moves the
    # estimates in the 5th significant digit (see PROVENANCE.md), hence rtol 1e-4 here.
    assert res.params["outcome:educ"] == pytest.approx(0.417019, rel=1e-4)
    assert res.params["lambda"] == pytest.approx(-1.097587, rel=1e-4)
    assert res.bse["outcome:educ"] == pytest.approx(0.100255, rel=1e-5)
    assert res.bse["lambda"] == pytest.approx(1.265848, rel=1e-5)
    assert res.sigma == pytest.approx(3.20006, rel=1e-5)
    assert res.rho == pytest.approx(-0.34299, rel=1e-4)


def test_array_api_equals_formula(mroz: pd.DataFrame, two: HeckmanResults) -> None:
    res = Heckman(mroz, outcome="lwage", selection="inlf", outcome_covariates=XCOLS,
                  selection_covariates=ZCOLS).fit()
    np.testing.assert_allclose(res.params.to_numpy(), two.params.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.bse.to_numpy(), two.bse.to_numpy(), rtol=1e-12)
    assert "outcome:const" in res.params.index


# --------------------------------------------------------------------- ML
def test_ml_matches_r_oracle(ml: HeckmanResults) -> None:
    assert ml.llf == pytest.approx(ML["llf"], rel=1e-10)
    np.testing.assert_allclose(ml.params.to_numpy(), list(ML["params"].values()), rtol=1e-6, atol=1e-9)
    # evaltools' Hessian is analytic, R's a central difference of the analytic gradient (~3e-8
    # apart); rtol 1e-6.
    np.testing.assert_allclose(ml.bse.to_numpy(), list(ML["bse"].values()), rtol=1e-6)
    anc = ml.ancillary
    np.testing.assert_allclose(anc["estimate"], [ML["rho"], ML["sigma"], ML["lambda"]], rtol=1e-6)
    np.testing.assert_allclose(anc["std_err"], [ML["rho_se"], ML["sigma_se"], ML["lambda_se"]], rtol=1e-6)
    assert ml.lr_test.statistic == pytest.approx(ML["lr_stat"], rel=1e-6)
    assert ml.converged


def test_ml_analytic_derivatives() -> None:
    # well-scaled simulated covariates so that central differences are accurate to ~1e-8
    df = _simulate(np.random.default_rng(2), 300, rho=0.4, sigma=1.3).assign(x2=lambda d: d.x * d.w)
    model = Heckman(df, outcome="y", selection="s", outcome_covariates=["x", "x2"],
                    selection_covariates=["x", "x2", "w"])
    th = np.array([0.9, 0.4, -0.1, 0.2, 0.5, 0.1, 0.8, 0.3, 0.2])
    f, g, H = model._loglik_derivs(th, 2)
    eps = 1e-5

    def central(j: int, what: int) -> np.ndarray:
        e = np.zeros(th.size)
        e[j] = eps
        return (model._loglik_derivs(th + e)[what] - model._loglik_derivs(th - e)[what]) / (2 * eps)

    np.testing.assert_allclose(g, [central(j, 0) for j in range(th.size)], rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(H, np.array([central(j, 1) for j in range(th.size)]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)


def test_ml_published_stata(ml: HeckmanResults) -> None:
    # Stata prints 7 significant digits but stops at its default convergence tolerance, slightly
    # short of the exact maximum (const differs by 1e-6): rtol 2e-5 / atol 1e-6 covers both.
    assert ml.llf == pytest.approx(-832.8851, abs=5e-5)
    p, b = ml.params, ml.bse
    np.testing.assert_allclose(
        p[["outcome:educ", "outcome:exper", "outcome:expersq", "outcome:Intercept", "athrho", "lnsigma"]],
        [0.1083502, 0.0428369, -0.0008374, -0.5526973, 0.026614, -0.4103809], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(
        b[["outcome:educ", "outcome:exper", "outcome:expersq", "outcome:Intercept", "athrho"]],
        [0.0148607, 0.0148785, 0.0004175, 0.2603784, 0.147182], rtol=2e-5, atol=1e-7)
    assert ml.lambda_ == pytest.approx(0.0176515, abs=1e-6)
    assert ml.rho == pytest.approx(0.0266078, abs=1e-6)
    assert ml.sigma == pytest.approx(0.6633975, abs=1e-6)
    assert ml.lr_test.pvalue == pytest.approx(0.8577, abs=5e-5)


def test_summary_and_read_only(ml: HeckmanResults, two: HeckmanResults) -> None:
    text = str(ml)
    assert "LR test of independent equations" in text and "athrho" in text and "rho" in text
    assert "corrected covariance" in str(two)
    with pytest.raises(AttributeError):
        ml.rho = 0.5  # type: ignore[misc]
    assert "<HeckmanResults" in repr(ml)
    assert two.llf is None and ml.llf is not None
    assert ml.lr_test is not None and ml.lr_test.df == 1 and two.lr_test is None


def test_summary_alpha_reaches_the_ancillary_table(ml: HeckmanResults) -> None:
    coef, anc = ml.summary(alpha=0.1).tables
    np.testing.assert_allclose(coef[["lower", "upper"]], ml.conf_int(0.1), rtol=1e-12)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(anc["upper"] - anc["estimate"], z * ml.ancillary["std_err"], rtol=1e-12)
    np.testing.assert_allclose(ml.summary().tables[1], ml.ancillary, rtol=1e-12)  # default level unchanged


# ------------------------------------------------------------ input checks
def test_does_not_mutate(mroz: pd.DataFrame) -> None:
    before = mroz.copy()
    Heckman.from_formula(OUT_F, SEL_F, mroz).fit()
    pd.testing.assert_frame_equal(mroz, before)


def test_non_binary_selection(mroz: pd.DataFrame) -> None:
    d = mroz.copy()
    d.loc[[3, 7], "inlf"] = 2
    with pytest.raises(DataValidationError, match=r"'inlf' must be 0 or 1.*2 of 753 rows"):
        Heckman(d, outcome="lwage", selection="inlf", outcome_covariates=XCOLS, selection_covariates=ZCOLS)


def test_selection_without_both_values(mroz: pd.DataFrame) -> None:
    d = mroz[mroz.inlf == 1]
    with pytest.raises(DataValidationError, match="both values 0 and 1"):
        Heckman(d, outcome="lwage", selection="inlf", outcome_covariates=XCOLS, selection_covariates=ZCOLS)


def test_missing_column(mroz: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"\['kids'\].*not found"):
        Heckman(mroz, outcome="lwage", selection="inlf", outcome_covariates=XCOLS,
                selection_covariates=[*ZCOLS, "kids"])
    with pytest.raises(DataValidationError, match="not found"):
        Heckman.from_formula(OUT_F, "inlf ~ educ + kids", mroz)


def test_bad_options(model: Heckman, mroz: pd.DataFrame) -> None:
    with pytest.raises(SpecificationError, match=r"'method' parameter of Heckman.fit must be a str among "
                                                 r"\{'twostep', 'ml'\}. Got 'mle' instead"):
        model.fit(method="mle")
    with pytest.raises(SpecificationError, match="'probit_cov' parameter"):
        model.fit(probit_cov="oim")
    with pytest.raises(SpecificationError, match="unexpected keyword"):
        model.fit(tol=1e-3)
    with pytest.raises(SpecificationError, match="two-sided"):
        Heckman.from_formula("~ educ", SEL_F, mroz)
    with pytest.raises(SpecificationError, match="list of column names"):
        Heckman(mroz, outcome="lwage", selection="inlf", outcome_covariates=[], selection_covariates=ZCOLS)


def test_missing_values_dropped_with_count(mroz: pd.DataFrame) -> None:
    d = mroz.copy()
    d.loc[[0, 1, 2], "educ"] = np.nan          # selected rows, used in both equations
    d.loc[500:503, "nwifeinc"] = np.nan        # selection covariate
    with pytest.warns(MissingValueWarning, match="dropped 7 of 753 rows"):
        res = Heckman(d, outcome="lwage", selection="inlf", outcome_covariates=XCOLS,
                      selection_covariates=ZCOLS).fit()
    assert res.nobs == 746 and res.n_dropped == 7
    assert "7 rows with missing values were dropped" in str(res)
    # a selected row with a missing outcome only is dropped and counted
    d2 = mroz.copy()
    d2.loc[0, "lwage"] = np.nan
    with pytest.warns(MissingValueWarning, match="dropped 1 of 753 selected rows"):
        m = Heckman(d2, outcome="lwage", selection="inlf", outcome_covariates=XCOLS,
                    selection_covariates=ZCOLS)
    assert m.nobs == 752 and m.n_dropped == 1


def test_exclusion_restriction_warning(mroz: pd.DataFrame) -> None:
    with pytest.warns(ExclusionRestrictionWarning, match="exclusion"):
        Heckman(mroz, outcome="lwage", selection="inlf", outcome_covariates=XCOLS, selection_covariates=XCOLS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Heckman(mroz, outcome="lwage", selection="inlf", outcome_covariates=XCOLS, selection_covariates=ZCOLS)


def test_collinear_and_non_numeric(mroz: pd.DataFrame) -> None:
    d = mroz.assign(educ2=mroz.educ * 2.0, name="x")
    with pytest.raises(DataValidationError, match="collinear"):
        Heckman(d, outcome="lwage", selection="inlf", outcome_covariates=[*XCOLS, "educ2"],
                selection_covariates=ZCOLS)
    with pytest.raises(DataValidationError, match="must be numeric"):
        Heckman(d, outcome="lwage", selection="inlf", outcome_covariates=[*XCOLS, "name"],
                selection_covariates=ZCOLS)


def test_boolean_selection(mroz: pd.DataFrame, two: HeckmanResults) -> None:
    d = mroz.assign(inlf=mroz.inlf.astype(bool))
    res = Heckman(d, outcome="lwage", selection="inlf", outcome_covariates=XCOLS,
                  selection_covariates=ZCOLS).fit()
    np.testing.assert_allclose(res.params.to_numpy(), two.params.to_numpy(), rtol=1e-12)


def test_ml_boundary_rho_warns() -> None:
    # rho = 0.99 with 100 rows: the likelihood increases towards rho = 1 (no interior maximum)
    d = _simulate(np.random.default_rng(1), 100, rho=0.99, sigma=1.0)
    m = Heckman(d, outcome="y", selection="s", outcome_covariates=["x"], selection_covariates=["x", "w"])
    with pytest.warns(ConvergenceWarning, match="boundary"):
        res = m.fit(method="ml")
    assert not res.converged and res.bse.isna().all()
    assert "converged: False" in str(res)


# ------------------------------------------------------------- Monte Carlo
def _simulate(rng: np.random.Generator, n: int, rho: float, sigma: float) -> pd.DataFrame:
    x = rng.normal(size=n)
    w = rng.normal(size=n)                     # excluded from the outcome equation
    u = rng.normal(size=n)
    e = sigma * (rho * u + np.sqrt(1 - rho**2) * rng.normal(size=n))
    s = (0.3 + 0.5 * x + 1.0 * w + u > 0).astype(int)
    y = np.where(s == 1, 1.0 + 0.5 * x + e, np.nan)
    return pd.DataFrame({"y": y, "s": s, "x": x, "w": w})


def _monte_carlo(reps: int, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    rho, sigma, beta = 0.6, 1.5, 0.5
    est: dict[str, list[tuple[float, float, float]]] = {"twostep": [], "ml": [], "ml_rho": []}
    for _ in range(reps):
        m = Heckman(_simulate(rng, n, rho, sigma), outcome="y", selection="s", outcome_covariates=["x"],
                    selection_covariates=["x", "w"])
        for meth in ("twostep", "ml"):
            r = m.fit(method=meth)
            ci = r.conf_int().loc["outcome:x"]
            est[meth].append((r.params["outcome:x"], ci["lower"], ci["upper"]))
        anc = r.ancillary.loc["rho"]
        est["ml_rho"].append((anc["estimate"], anc["lower"], anc["upper"]))
    truth = {"twostep": beta, "ml": beta, "ml_rho": rho}
    return {k: (np.array(v), truth[k]) for k, v in est.items()}


def _check_mc(results: dict, reps: int) -> None:
    for _name, (arr, truth) in results.items():
        mc_se = arr[:, 0].std(ddof=1) / np.sqrt(reps)
        assert abs(arr[:, 0].mean() - truth) < 4 * mc_se + 1e-3
        cover = np.mean((arr[:, 1] <= truth) & (truth <= arr[:, 2]))
        assert abs(cover - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps)


def test_monte_carlo_small() -> None:
    reps = 40
    _check_mc(_monte_carlo(reps, 1500, seed=20261123), reps)


@pytest.mark.slow
def test_monte_carlo_large() -> None:
    reps = 500
    _check_mc(_monte_carlo(reps, 2000, seed=7), reps)
