"""Input validation, options, invariances and presentation of CoxPH."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from evaltools.datasets.heart import load as load_heart
from evaltools.duration.cox import CoxPH, CoxResults
from evaltools.exceptions import (
    ConvergenceWarning,
    DataValidationError,
    MissingValueWarning,
    SpecificationError,
)

matplotlib.use("Agg")
HEART_X = ["age", "year", "surgery", "transplant"]


@pytest.fixture()
def heart() -> pd.DataFrame:
    return load_heart()


def test_stop_not_after_start(heart):
    bad = heart.copy()
    bad.loc[[3, 5], "stop"] = bad.loc[[3, 5], "start"]
    with pytest.raises(
        DataValidationError, match=r"'stop' must be greater than 'start'.*2 of 172 rows.*id=3"
    ):
        CoxPH(bad, covariates=HEART_X, id="id")


def test_overlapping_intervals(heart):
    bad = heart.copy()
    bad.loc[5, "start"] = 20.0  # id 4: rows (0, 36] and (20, 39]
    with pytest.raises(DataValidationError, match=r"must not overlap.*1 of 172 rows.*id=4"):
        CoxPH(bad, covariates=HEART_X, id="id")
    CoxPH(bad, covariates=HEART_X)  # without id the rows are independent intervals


def test_event_not_on_last_row(heart):
    bad = heart.copy()
    bad.loc[4, "event"] = 1  # id 4 row (0, 36] is followed by (36, 39]
    with pytest.raises(DataValidationError, match=r"event must be on the last row.*recurrent=True"):
        CoxPH(bad, covariates=HEART_X, id="id")
    res = CoxPH(bad, covariates=HEART_X, id="id", recurrent=True).fit()
    assert res.n_events == int(heart["event"].sum()) + 1


@pytest.mark.parametrize("value", [2, -1, 0.5])
def test_non_binary_event(heart, value):
    bad = heart.copy()
    bad["event"] = bad["event"].astype(float)
    bad.loc[0, "event"] = value
    with pytest.raises(DataValidationError, match=r"'event' must be 0 or 1.*1 of 172"):
        CoxPH(bad, covariates=HEART_X)


def test_string_event_and_bool_event(heart):
    with pytest.raises(DataValidationError, match="must be 0/1 or bool"):
        CoxPH(heart.assign(event=heart["event"].map({0: "no", 1: "yes"})), covariates=HEART_X)
    a = CoxPH(heart.assign(event=heart["event"] == 1), covariates=HEART_X).fit()
    b = CoxPH(heart, covariates=HEART_X).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)


def test_no_events(heart):
    with pytest.raises(DataValidationError, match="no events"):
        CoxPH(heart.assign(event=0), covariates=HEART_X)


def test_weights_must_be_positive(heart):
    with pytest.raises(DataValidationError, match=r"weights column 'w' must be finite and > 0.*1 of 172"):
        CoxPH(heart.assign(w=np.r_[0.0, np.ones(171)]), covariates=HEART_X, weights="w")


def test_missing_values_dropped_with_count(heart):
    miss = heart.copy()
    miss.loc[[0, 1, 2], "age"] = np.nan
    miss.loc[10, "stop"] = np.nan
    with pytest.warns(MissingValueWarning, match=r"dropped 4 of 172 rows.*'stop': 1, 'age': 3"):
        model = CoxPH(miss, covariates=HEART_X, id="id")
    res = model.fit()
    assert res.n_dropped == 4 and res.nobs == 168
    assert any("4 of 172 rows dropped" in f for f in res.summary().footnotes)
    ref = CoxPH(heart.drop(index=[0, 1, 2, 10]), covariates=HEART_X, id="id").fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)


def test_formula_missing_values_counted(heart):
    miss = heart.copy()
    miss.loc[[0, 1], "year"] = np.nan
    with pytest.warns(MissingValueWarning, match="dropped 2 of 172"):
        res = CoxPH.from_formula("~ age + year + surgery + transplant", miss, id="id").fit()
    assert res.n_dropped == 2


def test_constant_and_collinear_covariates(heart):
    with pytest.raises(SpecificationError, match=r"\['one'\] are constant"):
        CoxPH(heart.assign(one=1.0), covariates=["age", "one"])
    with pytest.raises(SpecificationError, match=r"'age2' is a linear combination of \['age', 'year'\]"):
        CoxPH(heart.assign(age2=2 * heart["age"] - heart["year"]), covariates=["age", "year", "age2"])
    with pytest.raises(SpecificationError, match="constant within every stratum"):
        CoxPH(heart, covariates=["age", "surgery"], strata="surgery")
    with pytest.raises(SpecificationError, match="linear combination"):
        CoxPH.from_formula("~ 0 + C(surgery) + age", heart)


def test_separation_warns_naming_covariate(heart):
    # 'sep' is 1 exactly on the rows with the latest stop times among events -> monotone likelihood
    d = heart.copy()
    rng = np.random.default_rng(0)
    d["noise"] = rng.normal(size=len(d))
    d["sep"] = (d["event"] == 1).astype(float)
    with pytest.warns(ConvergenceWarning, match=r"\['sep'\] keep growing"):
        res = CoxPH(d, covariates=["noise", "sep"]).fit()
    assert not res.converged
    assert any("not converged" in f for f in res.summary().footnotes)


def test_max_iter_warning(heart):
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        res = CoxPH(heart, covariates=HEART_X).fit(max_iter=1)
    assert not res.converged


def test_option_errors(heart):
    model = CoxPH(heart, covariates=HEART_X, id="id")
    with pytest.raises(SpecificationError) as e:
        model.fit(ties="efrn")
    assert str(e.value) == (
        "The 'ties' parameter of CoxPH.fit must be a str among {'efron', 'breslow'}. Got 'efrn' instead."
    )
    with pytest.raises(SpecificationError, match="'cov_type' parameter"):
        model.fit(cov_type="hc1")
    with pytest.raises(SpecificationError, match="only used with cov_type='cluster'"):
        model.fit(cluster="id")
    with pytest.raises(SpecificationError, match="needs a cluster column"):
        CoxPH(heart, covariates=HEART_X).fit(cov_type="cluster")
    with pytest.raises(SpecificationError, match="max_iter"):
        model.fit(max_iter=0)
    with pytest.raises(SpecificationError, match="tol"):
        model.fit(tol=-1.0)
    with pytest.raises(TypeError):
        model.fit("efron")  # keyword-only
    with pytest.raises(SpecificationError, match="unexpected keyword"):
        CoxPH.from_formula("~ age", heart, clusters="id")
    with pytest.raises(SpecificationError, match="one-sided"):
        CoxPH.from_formula("event ~ age", heart)
    with pytest.raises(SpecificationError, match="exactly one of"):
        CoxPH(heart)
    with pytest.raises(SpecificationError, match="not numeric"):
        CoxPH(heart.assign(s=heart["surgery"].astype(str)), covariates=["age", "s"])
    with pytest.raises(DataValidationError, match=r"\['nope'\].*not found"):
        CoxPH(heart, covariates=HEART_X, id="nope")


def test_cluster_column_other_than_id(heart):
    model = CoxPH(heart, covariates=HEART_X, id="id")
    a = model.fit(cov_type="cluster")
    b = model.fit(cov_type="cluster", cluster="id")
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-14)
    grp = model.fit(cov_type="cluster", cluster="surgery")
    assert grp.n_clusters == 2
    with pytest.raises(DataValidationError, match="cluster column 'c' has 1 missing"):
        CoxPH(heart.assign(c=np.r_[np.nan, np.ones(171)]), covariates=HEART_X).fit(
            cov_type="cluster", cluster="c"
        )


def test_no_mutation_and_read_only(heart):
    before = heart.copy()
    model = CoxPH(heart, covariates=HEART_X, id="id")
    state = {k: v for k, v in vars(model).items() if isinstance(v, (int, float, str))}
    r1 = model.fit(ties="breslow", cov_type="cluster")
    r2 = model.fit()
    pd.testing.assert_frame_equal(heart, before)
    assert {k: v for k, v in vars(model).items() if isinstance(v, (int, float, str))} == state
    assert r1 is not r2 and r1.ties == "breslow" and r2.ties == "efron"
    with pytest.raises(AttributeError, match="read-only"):
        r2.llf = 0.0
    assert isinstance(r2, CoxResults)


def test_invariances(heart):
    base = CoxPH(heart, covariates=HEART_X, id="id").fit()
    # row order does not matter
    perm = heart.sample(frac=1.0, random_state=1)
    np.testing.assert_allclose(CoxPH(perm, covariates=HEART_X, id="id").fit().params, base.params, rtol=1e-10)
    # splitting an interval at a non-event time changes nothing
    row = heart.iloc[[0]]  # (0, 50], event at 50
    a = row.assign(stop=20.5, event=0)
    b = row.assign(start=20.5)
    split = pd.concat([a, b, heart.iloc[1:]], ignore_index=True)
    res = CoxPH(split, covariates=HEART_X, id="id").fit(cov_type="cluster")
    np.testing.assert_allclose(res.params, base.params, rtol=1e-10)
    np.testing.assert_allclose(
        res.bse, CoxPH(heart, covariates=HEART_X, id="id").fit(cov_type="cluster").bse, rtol=1e-10
    )
    # integer case weights equal duplicated rows (Breslow; under Efron a weighted death is one death, as in R)
    w = np.where(np.arange(len(heart)) % 4 == 0, 2.0, 1.0)
    dup = pd.concat([heart, heart[w == 2]], ignore_index=True)
    wfit = CoxPH(heart.assign(w=w), covariates=HEART_X, weights="w").fit(ties="breslow")
    dfit = CoxPH(dup, covariates=HEART_X).fit(ties="breslow")
    np.testing.assert_allclose(wfit.params, dfit.params, rtol=1e-9)
    np.testing.assert_allclose(wfit.bse, dfit.bse, rtol=1e-9)
    # exog array == covariate columns
    ex = CoxPH(heart, exog=heart[HEART_X].to_numpy()).fit()
    np.testing.assert_allclose(ex.params.to_numpy(), base.params.to_numpy(), rtol=1e-12)
    assert list(ex.params.index) == ["x0", "x1", "x2", "x3"]


def test_no_ties_efron_equals_breslow():
    rng = np.random.default_rng(3)
    n = 200
    d = pd.DataFrame(
        {
            "start": 0.0,
            "stop": rng.exponential(size=n),
            "event": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
        }
    )
    m = CoxPH(d, covariates=["x"])
    np.testing.assert_allclose(m.fit().params, m.fit(ties="breslow").params, rtol=1e-12)


def test_summary_and_presentation(heart):
    res = CoxPH(heart, covariates=HEART_X, id="id").fit(cov_type="cluster")
    text = str(res)
    assert "Efron's approximation" in text
    assert "clustered on 'id' (103 clusters)" in text
    assert "No rows dropped" in text
    assert "start < t <= stop" in text
    assert "hazard_ratio" in text
    assert "<table" in res._repr_html_()
    np.testing.assert_allclose(res.hazard_ratios, np.exp(res.params))
    frame = res.to_frame()
    assert list(frame.columns) == ["estimate", "std_err", "stat", "pvalue", "lower", "upper"]
    assert res.lr_test.df == 4 and 0 <= res.lr_test.pvalue <= 1
    tab = res.summary(alpha=0.1).tables[0]  # hazard ratios at the requested level
    np.testing.assert_allclose(tab[["hr_lower", "hr_upper"]], np.exp(res.conf_int(0.1)), rtol=1e-12)
    np.testing.assert_allclose(tab["hazard_ratio"], res.hazard_ratios, rtol=1e-12)
    assert res.n_persons == 103
    assert res.n_delayed_entry == 0
    ax = res.plot()
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == HEART_X
    import matplotlib.pyplot as plt

    plt.close("all")


def test_delayed_entry_footnote(heart):
    late = heart.copy()
    late.loc[late["id"] == 1, "start"] = 5.0
    res = CoxPH(late, covariates=HEART_X, id="id").fit()
    assert res.n_delayed_entry == 1
    assert any("1 persons enter late" in f for f in res.summary().footnotes)


def test_predictions_shapes(heart):
    res = CoxPH(heart, covariates=HEART_X, id="id").fit()
    new = heart[HEART_X].head(3)
    s = res.predict_survival(new, times=[0.5, 10, 100, 5000])
    assert s.shape == (4, 3)
    assert np.all(np.diff(s.to_numpy(), axis=0) <= 0)
    assert np.all(s.iloc[0] == 1.0)  # before the first event time
    ph = res.predict_partial_hazard(new)
    np.testing.assert_allclose(ph, np.exp(new.to_numpy() @ res.params.to_numpy()))
    with pytest.raises(SpecificationError, match="'transform' parameter"):
        res.test_proportional_hazards(transform="loglog")
    assert len(res.test_proportional_hazards(transform="rank")) == 5
    assert len(res.test_proportional_hazards(transform="log")) == 5


def test_no_warnings_on_clean_fit(heart):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CoxPH(heart, covariates=HEART_X, id="id").fit(cov_type="cluster")


def test_multi_column_strata_and_stratified_prediction(heart):
    d = heart.assign(old=(heart["age"] > 0).astype(int))
    a = CoxPH(d, covariates=["year", "transplant"], strata=["surgery", "old"]).fit()
    combo = d.assign(s=d["surgery"] * 2 + d["old"])
    b = CoxPH(combo, covariates=["year", "transplant"], strata="s").fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    assert a.n_strata == 4
    assert a.baseline_cumulative_hazard["stratum"].iloc[0] == "surgery=0, old=0"
    s = a.predict_survival(d.head(2), times=[100.0])
    assert s.shape == (1, 2)
    with pytest.raises(DataValidationError, match="strata not seen in the fit"):
        a.predict_survival(d.head(1).assign(old=7), times=[100.0])


def test_cov_type_naive_is_an_alias_of_nonrobust(heart):
    model = CoxPH(heart, covariates=HEART_X, id="id")
    new = model.fit(cov_type="nonrobust")
    with pytest.warns(FutureWarning, match="'naive' is renamed 'nonrobust'"):
        old = model.fit(cov_type="naive")
    pd.testing.assert_series_equal(old.params, new.params)
    pd.testing.assert_series_equal(old.bse, new.bse)
    assert old.cov_type == new.cov_type == "nonrobust"
