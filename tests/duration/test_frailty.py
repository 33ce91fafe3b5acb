"""Tests of the discrete-time hazard with gamma frailty (evaltools.duration.frailty)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from evaltools.datasets.rossi import load_person_weeks
from evaltools.duration.frailty import GammaFrailtyHazard, GammaFrailtyResults
from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError

REF = Path(__file__).parents[1] / "reference" / "duration" / "mph_gamma_frailty_rossi"
COVS = ["fin1", "age", "prio", "employed"]


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    pw = load_person_weeks()
    return pw.assign(band=pd.cut(pw["stop"], [0, 13, 26, 39, 52], labels=["1-13", "14-26", "27-39", "40-52"]),
                     duration=pw["stop"] - pw["start"], fin1=(pw["fin"] == "yes").astype(float))


@pytest.fixture(scope="module")
def model(rossi) -> GammaFrailtyHazard:
    return GammaFrailtyHazard(rossi, id="id", duration="duration", event="event", covariates=COVS,
                              baseline_band="band")


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((REF / "expected.json").read_text())


def test_matches_independent_r_implementation(model, expected):
    names = list(expected["params"])
    est = np.array([expected["params"][k][0] for k in names])
    se = np.array([expected["params"][k][1] for k in names])
    # the likelihood itself, at R's estimates
    np.testing.assert_allclose(model.loglike(est), expected["loglike"], rtol=1e-10)
    res = model.fit()
    assert isinstance(res, GammaFrailtyResults) and list(res.params.index) == names
    np.testing.assert_allclose(res.llf, expected["loglike"], rtol=1e-9)
    # flat likelihood in log s2; R's optim stops ~1e-10 below the optimum (see PROVENANCE.md)
    np.testing.assert_allclose(res.params.to_numpy(), est, rtol=1e-4)
    # R's optimHess differentiates a finite-difference gradient (see PROVENANCE.md)
    np.testing.assert_allclose(res.bse.to_numpy(), se, rtol=5e-3)
    lr, p = res.lr_test.statistic, res.lr_test.pvalue
    np.testing.assert_allclose(res.llf - lr / 2, expected["loglike_no_frailty"], rtol=1e-7)
    np.testing.assert_allclose(p, 0.5 * stats.chi2.sf(lr, 1))
    assert res.frailty_var == pytest.approx(np.exp(res.params["log_frailty_var"]))
    assert "gamma frailty" in str(res)
    assert res.lr_test.df == 1
    with pytest.warns(FutureWarning, match="loglike is deprecated"):
        assert res.loglike == res.llf


def test_closed_form_equals_numerical_integration_over_the_frailty(model):
    theta = np.r_[-4.0, 0.5, 0.4, 0.8, -0.3, -0.05, 0.08, -1.2, np.log(0.8)]
    s2 = np.exp(theta[-1])
    X, pid, ev = model._X, model._pid, model._ev
    e = np.exp(X @ theta[:-1])
    lls = []
    for person in (0, 1, 5, 20, 100):
        rows = np.flatnonzero(pid == person)
        cum = np.sum(e[rows[:-1]])
        last = e[rows[-1]]

        def integrand(nu, cum=cum, last=last, d=ev[rows[-1]]):
            surv = np.exp(-nu * cum)
            lik = surv * -np.expm1(-nu * last) if d else surv * np.exp(-nu * last)
            return lik * stats.gamma.pdf(nu, a=1 / s2, scale=s2)

        lls.append(np.log(integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]))
    sub = GammaFrailtyHazard(
        pd.DataFrame({"id": pid, "duration": model._t, "event": ev.astype(int),
                      **{f"c{k}": X[:, k] for k in range(1, X.shape[1])}}).loc[lambda d: d["id"].isin(
                          [0, 1, 5, 20, 100])],
        id="id", duration="duration", event="event", covariates=[f"c{k}" for k in range(1, X.shape[1])])
    np.testing.assert_allclose(sub.loglike(theta), np.sum(lls), rtol=1e-9)


def test_gradient_matches_finite_differences(model):
    theta = np.r_[-4.0, 0.5, 0.4, 0.8, -0.3, -0.05, 0.08, -1.2, np.log(0.8)]
    _, g = model.loglike_and_score(theta)
    num = np.array([(model.loglike(theta + h) - model.loglike(theta - h)) / 2e-6 for h in np.eye(9) * 1e-6])
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-4)
    # tiny frailty variance: gradient of the cloglog limit stays accurate (series branch)
    theta[-1] = np.log(1e-7)
    _, g = model.loglike_and_score(theta)
    num = np.array([(model.loglike(theta + h) - model.loglike(theta - h)) / 2e-6 for h in np.eye(9) * 1e-6])
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-4)


def test_collapsed_rows_give_the_same_likelihood(rossi):
    # rows of several weeks with constant covariates (interval in the last week) = person-weeks
    cols = ["id", "duration", "event", "fin1", "age", "prio"]
    pw = rossi[cols]
    collapsed = pw.groupby("id", as_index=False).agg(duration=("duration", "sum"), event=("event", "max"),
                                                     fin1=("fin1", "first"), age=("age", "first"),
                                                     prio=("prio", "first"))
    a = GammaFrailtyHazard(pw, id="id", duration="duration", event="event", covariates=cols[3:])
    b = GammaFrailtyHazard(collapsed, id="id", duration="duration", event="event", covariates=cols[3:])
    theta = np.array([-4.0, -0.3, -0.05, 0.08, np.log(0.6)])
    np.testing.assert_allclose(a.loglike(theta), b.loglike(theta), rtol=1e-12)
    np.testing.assert_allclose(a.loglike_and_score(theta)[1], b.loglike_and_score(theta)[1], rtol=1e-10)


def test_validation(rossi):
    small = rossi[rossi["id"] <= 20].copy()
    bad = small.copy()
    bad.loc[bad.index[0], "event"] = 1
    with pytest.raises(DataValidationError, match="may be 1 only in a person's last row"):
        GammaFrailtyHazard(bad, id="id", duration="duration", event="event")
    with pytest.raises(DataValidationError, match="must be 0 or 1"):
        GammaFrailtyHazard(small.assign(event=2), id="id", duration="duration", event="event")
    with pytest.raises(DataValidationError, match="not found"):
        GammaFrailtyHazard(small, id="id", duration="duration", event="event", covariates=["nope"])
    miss = small.copy()
    miss.loc[miss.index[3], "age"] = np.nan
    with pytest.warns(DroppedRowsWarning, match="dropped"):
        m = GammaFrailtyHazard(miss, id="id", duration="duration", event="event", covariates=["age"])
    assert m.n_persons == small["id"].nunique() - 1
    with pytest.raises(SpecificationError, match="start_var"):
        m.fit(start_var=-1)
