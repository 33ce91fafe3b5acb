"""One missing-value policy and one from_formula for the estimators that take covariates."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools._model.data import resolve_missing
from evaltools.datasets.nsw import load
from evaltools.datasets.rossi import load_person_weeks
from evaltools.duration.frailty import GammaFrailtyHazard
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError
from evaltools.selection import AIPW, IPW, Matching
from evaltools.selection.survival import IPWSurvival

VETERAN = Path(__file__).resolve().parents[1] / "reference" / "selection" / "survival_veteran"


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    return load()


def test_resolve_missing_drop_and_raise():
    d = pd.DataFrame({"y": [1.0, np.nan, 3.0, 4.0], "x": [1.0, 2.0, np.nan, 4.0]})
    roles = {"outcome": ["y"], "covariates": ["x"]}
    msg = (r"M: missing values \('y': 1\) in the outcome; \('x': 1\) in the covariates; 2 of 4 rows, "
           r"e.g. index \['1', '2'\].*dropna\(subset=\['y', 'x'\]\)")
    with pytest.raises(DataValidationError, match=msg):
        resolve_missing(d, roles, missing="raise", where="M")
    with pytest.warns(MissingValueWarning, match="M: dropped 2 of 4 rows"):
        keep = resolve_missing(d, roles, missing="drop", where="M")
    np.testing.assert_array_equal(keep, [True, False, False, True])
    assert resolve_missing(d.fillna(0), roles, missing="raise", where="M").all()
    with pytest.raises(SpecificationError, match="'missing' parameter of M"):
        resolve_missing(d, roles, missing="omit", where="M")


@pytest.mark.parametrize("cls", [IPW, AIPW, Matching])
def test_from_formula_equals_the_expanded_columns(nsw, cls):
    d = nsw.assign(age2=nsw["age"] ** 2, educ_cat=pd.cut(nsw["educ"], [0, 9, 11, 20]).astype(str))
    dummies = pd.get_dummies(d["educ_cat"], prefix="educ_cat", drop_first=True, dtype=float)
    explicit = pd.concat([d, dummies], axis=1)
    cols = ["age", "age2", *dummies.columns, "re75"]
    a = cls.from_formula("re78 ~ age + I(age**2) + C(educ_cat) + re75", d, treatment="treat").fit()
    b = cls(explicit, outcome="re78", treatment="treat", covariates=cols).fit()
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(a.bse.to_numpy(), b.bse.to_numpy(), rtol=1e-8)
    assert "age" in nsw and nsw.columns.tolist() == load().columns.tolist()  # the caller's frame untouched


def test_from_formula_errors(nsw):
    with pytest.raises(SpecificationError, match="'outcome' is given by the formula's left-hand side"):
        IPW.from_formula("re78 ~ age", nsw, outcome="re78", treatment="treat")
    with pytest.raises(SpecificationError, match="'covariates' are given by the formula"):
        IPW.from_formula("re78 ~ age", nsw, treatment="treat", covariates=["age"])
    with pytest.raises(SpecificationError, match="must be one-sided"):
        GammaFrailtyHazard.from_formula("event ~ age", nsw, id="id", duration="d", event="e")
    with pytest.raises(SpecificationError, match="cannot parse"):
        IPW.from_formula("re78 ~ age +", nsw, treatment="treat")


def test_ipw_survival_from_formula():
    d = pd.read_csv(VETERAN / "veteran.csv").assign(arm=lambda x: (x["trt"] == 2).astype(int))
    d["prior10"] = (d["prior"] == 10).astype(int)
    a = IPWSurvival.from_formula("~ karno + age + C(celltype)", d, duration="time", event="status",
                                 treatment="arm").fit(tau=200, n_boot=0, progress=False)
    dummies = pd.get_dummies(d["celltype"], prefix="celltype", drop_first=True, dtype=float)
    explicit = pd.concat([d, dummies], axis=1)
    b = IPWSurvival(explicit, duration="time", event="status", treatment="arm",
                    covariates=["karno", "age", *dummies.columns]).fit(tau=200, n_boot=0, progress=False)
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)


def test_gamma_frailty_from_formula():
    pw = load_person_weeks()
    pw = pw.assign(duration=pw["stop"] - pw["start"], fin1=(pw["fin"] == "yes").astype(float))
    pw = pw[pw["id"] <= 150]
    kw = dict(id="id", duration="duration", event="event")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = GammaFrailtyHazard.from_formula("~ fin1 + age + prio", pw, **kw).fit()
        b = GammaFrailtyHazard(pw, covariates=["fin1", "age", "prio"], **kw).fit()
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)
    with pytest.warns(FutureWarning, match="use .llf"):
        assert a.llf == b.llf == b.loglike


def test_from_formula_keeps_the_spec(nsw):
    m = IPW.from_formula("re78 ~ age + C(black)", nsw, treatment="treat")
    assert m.formula == "re78 ~ age + C(black)" and m.covariates == ["age", "C(black)[T.1]"]
    new = m._formula_spec.get_model_matrix(nsw.iloc[:5])
    assert list(new.columns) == ["Intercept", "age", "C(black)[T.1]"]


def _rossi_with_groups():
    pw = load_person_weeks()
    pw = pw[pw["id"] <= 200].copy()
    pw["grp"] = np.where(pw["age"] < 21, "young", np.where(pw["age"] < 30, "mid", "old"))
    return pw


def test_cox_from_formula_passes_the_design_as_exog():
    from evaltools.duration.cox import CoxPH

    pw = _rossi_with_groups()
    a = CoxPH.from_formula("~ prio + C(grp)", pw, id="id").fit()
    explicit = pw.assign(old=(pw["grp"] == "old") * 1.0, young=(pw["grp"] == "young") * 1.0)
    b = CoxPH(explicit, covariates=["prio", "old", "young"], id="id").fit()
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)
    assert list(a.params.index) == ["prio", "C(grp)[T.old]", "C(grp)[T.young]"]  # "mid" is the reference
    new = pd.DataFrame({"prio": [1.0, 2.0, 0.0], "grp": ["young", None, "mid"]}, index=[5, 6, 7])
    hazard = a.predict_partial_hazard(new)
    assert hazard.index.tolist() == [5, 6, 7] and np.isnan(hazard[6])  # a missing category stays missing
    np.testing.assert_allclose(hazard[[5, 7]].to_numpy(), b.predict_partial_hazard(
        pd.DataFrame({"prio": [1.0, 0.0], "old": [0.0, 0.0], "young": [1.0, 0.0]})).to_numpy(), rtol=1e-10)
    with pytest.raises(SpecificationError, match=r"one-sided.*Name the start, stop and event columns"):
        CoxPH.from_formula("event ~ prio", pw)
    with pytest.raises(SpecificationError, match=r"unexpected keyword argument\(s\) \['covariates'\]"):
        CoxPH.from_formula("~ prio", pw, covariates=["prio"])


def test_a_missing_category_is_a_missing_value_not_the_reference_level():
    from evaltools.duration.cox import CoxPH

    pw = _rossi_with_groups()
    gaps = pw.assign(grp=pw["grp"].where(pw["id"] % 17 != 0))
    n_missing = int(gaps["grp"].isna().sum())
    with pytest.warns(MissingValueWarning, match=f"dropped {n_missing:,} of {len(pw):,} rows"):
        a = CoxPH.from_formula("~ prio + C(grp)", gaps, id="id").fit()
    b = CoxPH.from_formula("~ prio + C(grp)", gaps.dropna(subset=["grp"]), id="id").fit()
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)
    ps_gaps = load().assign(grp=lambda d: np.where(d["age"] < 25, "a", "b"))
    ps_gaps.loc[ps_gaps.index[:3], "grp"] = None
    with pytest.raises(DataValidationError, match="missing values"):
        IPW.from_formula("re78 ~ age + C(grp)", ps_gaps, treatment="treat").fit()


def test_propensity_from_formula_keeps_the_formula_intercept(nsw):
    from evaltools.selection import PropensityScore

    a = PropensityScore.from_formula("treat ~ age + educ", nsw).fit()
    b = PropensityScore(nsw, treatment="treat", covariates=["age", "educ"]).fit()
    pd.testing.assert_series_equal(a.params, b.params, rtol=1e-10)
    c = PropensityScore.from_formula("treat ~ age + educ - 1", nsw).fit()
    assert list(c.params.index) == ["age", "educ"]
    with pytest.raises(SpecificationError, match=r"unexpected keyword argument\(s\) \['treatment'\]"):
        PropensityScore.from_formula("treat ~ age", nsw, treatment="treat")
