"""Input validation, options, invariances and presentation of FineGray."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from evaltools.duration import FineGray
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

matplotlib.use("Agg")


def _spells(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.integers(0, 2, n)
    t1 = rng.exponential(1 / (0.3 * np.exp(0.5 * x)))
    t2 = rng.exponential(1 / 0.2, n)
    c = rng.uniform(0, 8, n)
    t = np.minimum.reduce([t1, t2, c])
    exit_ = np.select([t == t1, t == t2], ["job", "education"], "none")
    return pd.DataFrame({"pid": np.arange(n), "time": np.ceil(t * 4) / 4, "exit": exit_, "x": x, "g": g})


def _split(d: pd.DataFrame) -> pd.DataFrame:
    """Split every spell at integer times (rows (start, stop]; the exit on the last row)."""
    rows = []
    for r in d.itertuples(index=False):
        cuts = np.r_[0.0, np.arange(1.0, np.ceil(r.time)), r.time]
        cuts = np.unique(cuts[cuts <= r.time])
        k = len(cuts) - 1
        rows.append(
            pd.DataFrame(
                {
                    "pid": r.pid,
                    "start": cuts[:-1],
                    "stop": cuts[1:],
                    "exit": ["none"] * (k - 1) + [r.exit],
                    "x": r.x,
                    "g": r.g,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


KW = {"cause": "job", "event": "exit", "censored": "none"}


@pytest.fixture(scope="module")
def spells() -> pd.DataFrame:
    return _spells()


@pytest.fixture(scope="module")
def split(spells) -> pd.DataFrame:
    return _split(spells)


def test_splitting_spells_changes_nothing(spells, split):
    a = FineGray(spells, covariates=["x", "g"], stop="time", **KW).fit(cov_type="fine-gray")
    b = FineGray(split, covariates=["x", "g"], start="start", stop="stop", id="pid", **KW).fit(
        cov_type="fine-gray"
    )
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10)
    assert not b.model.delay
    # on split rows "robust" (per row) differs from clustering on persons
    r = FineGray(split, covariates=["x", "g"], start="start", stop="stop", id="pid", **KW).fit(
        cov_type="robust"
    )
    assert not np.allclose(r.bse, b.bse, rtol=1e-3)


def test_data_not_mutated_and_results_read_only(spells):
    before = spells.copy()
    res = FineGray(spells, covariates=["x"], stop="time", **KW).fit()
    pd.testing.assert_frame_equal(spells, before)
    with pytest.raises(AttributeError, match="read-only"):
        res.params = None
    p = res.params
    p.iloc[0] = 99.0
    assert res.params.iloc[0] != 99.0


def test_cause_not_in_data(spells):
    with pytest.raises(
        SpecificationError, match=r"cause='work' does not occur in column 'exit'.*'education'"
    ):
        FineGray(spells, covariates=["x"], stop="time", cause="work", event="exit", censored="none")


def test_start_needs_id(split):
    with pytest.raises(SpecificationError, match="need a person identifier: pass id="):
        FineGray(split, covariates=["x"], start="start", stop="stop", **KW)


def test_gap_overlap_and_exit_not_last(split):
    gap = split.copy()
    i = gap.index[(gap["pid"] == 5)][1]
    gap.loc[i, "start"] += 0.1
    with pytest.raises(DataValidationError, match=r"must be contiguous.*1 of .* rows.*pid=5"):
        FineGray(gap, covariates=["x"], start="start", stop="stop", id="pid", **KW)
    ov = split.copy()
    ov.loc[i, "start"] -= 0.1
    with pytest.raises(DataValidationError, match=r"must not overlap.*pid=5"):
        FineGray(ov, covariates=["x"], start="start", stop="stop", id="pid", **KW)
    early = split.copy()
    j = early.index[early["pid"] == 5][0]
    early.loc[j, "exit"] = "job"
    with pytest.raises(DataValidationError, match=r"exit must be on the last row"):
        FineGray(early, covariates=["x"], start="start", stop="stop", id="pid", **KW)


def test_bad_times_and_weights(spells, split):
    with pytest.raises(DataValidationError, match=r"'time' must be positive.*1 of 300"):
        FineGray(
            spells.assign(time=np.r_[0.0, spells["time"].to_numpy()[1:]]), covariates=["x"], stop="time", **KW
        )
    bad = split.copy()
    bad.loc[0, "stop"] = bad.loc[0, "start"]
    with pytest.raises(DataValidationError, match=r"must be greater than 'start'"):
        FineGray(bad, covariates=["x"], start="start", stop="stop", id="pid", **KW)
    with pytest.raises(DataValidationError, match=r"weights column 'w' must be finite and > 0.*1 of 300"):
        FineGray(spells.assign(w=np.r_[-1.0, np.ones(299)]), covariates=["x"], stop="time", weights="w", **KW)
    with pytest.raises(DataValidationError, match=r"column 'time' must be numeric"):
        FineGray(spells.assign(time=spells["time"].astype(str)), covariates=["x"], stop="time", **KW)


def test_strata_must_be_constant_within_person(split):
    bad = split.copy()
    who = bad["pid"].value_counts().idxmax()  # a person with several rows
    i = bad.index[bad["pid"] == who][0]
    bad.loc[i, "g"] = 1 - bad.loc[i, "g"]
    with pytest.raises(
        DataValidationError, match=rf"strata \['g'\] must be constant within each 'pid'.*pid={who}"
    ):
        FineGray(bad, covariates=["x"], start="start", stop="stop", id="pid", strata="g", **KW)


def test_missing_values_drop_whole_persons(split):
    d = split.copy()
    i = d.index[d["pid"] == 9][0]
    d.loc[i, "x"] = np.nan
    n9 = int((d["pid"] == 9).sum())
    with pytest.warns(MissingValueWarning, match=rf"dropped {n9} of .* rows.*1 persons"):
        m = FineGray(d, covariates=["x"], start="start", stop="stop", id="pid", **KW)
    assert m.n_dropped == n9
    res = m.fit()
    assert f"{n9} of {len(d):,} rows dropped" in str(res.summary())
    ref = FineGray(d[d["pid"] != 9], covariates=["x"], start="start", stop="stop", id="pid", **KW).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)


def test_options_rejected(spells):
    m = FineGray(spells, covariates=["x"], stop="time", **KW)
    with pytest.raises(SpecificationError, match=r"'cov_type' parameter of FineGray.fit must be a str among"):
        m.fit(cov_type="sandwich")
    with pytest.raises(SpecificationError, match=r"'ties' parameter"):
        m.fit(ties="exact")
    with pytest.raises(SpecificationError, match="only used with cov_type='cluster'"):
        m.fit(cov_type="robust", cluster="g")
    with pytest.raises(SpecificationError, match=r"'convention' parameter of FineGray"):
        FineGray(spells, covariates=["x"], stop="time", convention="R", **KW)
    with pytest.raises(SpecificationError, match=r"unexpected keyword argument\(s\) \['entry'\]"):
        FineGray.from_formula("~ x", spells, stop="time", entry="t0", **KW)
    with pytest.raises(SpecificationError, match="one-sided"):
        FineGray.from_formula("time ~ x", spells, stop="time", **KW)
    with pytest.raises(SpecificationError, match="exactly one of 'covariates'"):
        FineGray(spells, stop="time", **KW)


def test_fine_gray_variance_needs_no_weights_or_delay(spells, split):
    with pytest.raises(SpecificationError, match=r"cov_type='fine-gray' is not available with case weights"):
        FineGray(spells.assign(w=2.0), covariates=["x"], stop="time", weights="w", **KW).fit(
            cov_type="fine-gray"
        )
    late = split[split["start"] >= np.where(split["pid"] % 4 == 0, 1.0, 0.0)]
    m = FineGray(late, covariates=["x"], start="start", stop="stop", id="pid", **KW)
    assert m.delay
    with pytest.raises(SpecificationError, match="not available with delayed entry"):
        m.fit(cov_type="fine-gray")


def test_cluster_column_and_counts(spells):
    d = spells.assign(team=spells["pid"] // 10)
    res = FineGray(d, covariates=["x"], stop="time", **KW).fit(cov_type="cluster", cluster="team")
    assert res.n_clusters == 30
    assert "clustered on 'team' (30 clusters)" in str(res.summary())
    assert res.n_events + res.n_competing + res.n_censored == res.n_persons == 300
    assert res.competing == ["education"]


def test_constant_covariate_message(spells):
    with pytest.raises(SpecificationError, match=r"FineGray: covariate\(s\) \['c'\] are constant"):
        FineGray(spells.assign(c=1.0), covariates=["x", "c"], stop="time", **KW).fit()


def test_weights_scale_invariance(spells):
    a = FineGray(spells, covariates=["x"], stop="time", **KW).fit()
    b = FineGray(spells.assign(w=3.0), covariates=["x"], stop="time", weights="w", **KW).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)


def test_presentation(spells):
    res = FineGray.from_formula("~ x + C(g)", spells, stop="time", **KW).fit()
    tab = res.to_frame(alpha=0.1)
    assert list(tab.columns) == ["estimate", "std_err", "stat", "pvalue", "lower", "upper"]
    assert (tab["upper"] - tab["lower"] < res.to_frame()["upper"] - res.to_frame()["lower"]).all()
    text = str(res.summary(alpha=0.1))
    assert "Fine-Gray" in text and "G(t-)/G(T-)" in text
    assert "<table" in res._repr_html_()
    np.testing.assert_allclose(res.hazard_ratios, np.exp(res.params))
    ax = res.plot()
    assert ax.get_title() and ax.get_xlabel() == "Time (time)" and "'job'" in ax.get_ylabel()
    ax2 = res.plot(data=pd.DataFrame({"x": [0.0, 1.0], "g": [0, 1]}, index=["a", "b"]), ci=False)
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["a", "b"]
    assert res.wald_test.df == 2 and 0 <= res.wald_test.pvalue <= 1
    assert repr(res).startswith("<FineGrayResults: cause 'job'")


def test_predictions(spells):
    res = FineGray(spells, covariates=["x"], stop="time", strata="g", **KW).fit()
    new = pd.DataFrame({"x": [0.0, 0.0], "g": [0, 1]})
    pred = res.predict_cumulative_incidence(new, times=[0.0, 1.0, 3.0, 100.0], conf_type="log-log")
    assert list(pred["stratum"].unique()) == ["g=0", "g=1"]
    first = pred[pred["time"] == 0.0]
    assert (first["cif"] == 0).all() and (first["lower"] == 0).all()
    for _, p in pred.groupby("profile"):
        assert np.all(np.diff(p["cif"]) >= 0)
        assert np.all((p["lower"] <= p["cif"] + 1e-15) & (p["cif"] <= p["upper"] + 1e-15))
    bh = res.baseline_cumulative_hazard
    assert set(bh["stratum"]) == {"g=0", "g=1"}
    with pytest.raises(DataValidationError, match="strata not seen in the fit"):
        res.predict_cumulative_incidence(pd.DataFrame({"x": [0.0], "g": [5]}))
    with pytest.raises(SpecificationError, match="'conf_type' parameter"):
        res.predict_cumulative_incidence(new, conf_type="logit")
    with pytest.raises(SpecificationError, match="'times' must be finite"):
        res.predict_cumulative_incidence(new, times=[np.nan])


def test_no_modelled_exit_in_a_stratum_still_fits(spells):
    d = spells.assign(g=np.where(spells["exit"] == "job", 0, spells["g"]))
    d.loc[d["exit"] != "job", "g"] = np.where(d.loc[d["exit"] != "job", "pid"] % 2 == 0, 0, 1)
    d.loc[d["g"] == 1, "exit"] = np.where(
        d.loc[d["g"] == 1, "exit"] == "job", "none", d.loc[d["g"] == 1, "exit"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = FineGray(d, covariates=["x"], stop="time", strata="g", **KW).fit()
    assert np.isfinite(res.params).all()


def test_entry_distribution_zero_is_explained():
    """A person entering and leaving before anybody else enters: the entry distribution estimate is 0."""
    d = pd.DataFrame(
        {
            "pid": [0, 1, 2, 3, 4, 5],
            "start": [0.1, 0.5, 0.5, 0.6, 0.7, 0.5],
            "stop": [0.2, 1.0, 2.0, 1.5, 3.0, 2.5],
            "exit": ["education", "job", "none", "job", "education", "job"],
            "x": [0.1, 0.4, -0.2, 0.3, -1.0, 0.8],
        }
    )
    with pytest.raises(
        DataValidationError, match=r"at entry time 0.5 everybody under observation.*pid=\[0\]"
    ):
        FineGray(d, covariates=["x"], start="start", stop="stop", id="pid", **KW)
    res = FineGray(d[d["pid"] != 0], covariates=["x"], start="start", stop="stop", id="pid", **KW).fit()
    assert np.isfinite(res.params).all()
