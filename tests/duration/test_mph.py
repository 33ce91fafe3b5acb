"""Tests of the mixed proportional hazards / timing-of-events model (evaltools.duration.mph)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.duration import _mph_core as core
from evaltools.duration.montecarlo import ToEDGP, simulate_toe, toe_model
from evaltools.duration.mph import MPHPath, MPHResults, TimingOfEvents, band_labels, build_toe_rows
from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError

from .conftest import assert_score_matches_finite_differences, two_point_theta

REF = Path(__file__).parents[1] / "reference" / "duration" / "mph_glm"


@pytest.fixture(scope="module")
def ref_rows() -> tuple[pd.DataFrame, dict]:
    spells = pd.read_csv(REF / "spells.csv")
    rows = build_toe_rows(spells, id="id", duration="duration", exit="exit", treatment_week="treatment_week",
                          entry="entry", baseline_bands=[13, 26], effect_bands=[13], covariates=["x1"])
    return rows, json.loads((REF / "expected.json").read_text())


@pytest.fixture(scope="module")
def sim_model() -> TimingOfEvents:
    spells = simulate_toe(1500, seed=11)
    rows = build_toe_rows(spells, id="id", duration="duration", exit="exit", treatment_week="treatment_week",
                          baseline_bands=[13, 26], effect_bands=[13], covariates=["x1"])
    return TimingOfEvents(rows, id="id", duration="duration", event="event", treated="treated",
                          baseline_band="band", effect_band="effect_band", exit_covariates=["x1"],
                          treatment_covariates=["x1"])


@pytest.fixture(scope="module")
def sim_path(sim_model: TimingOfEvents) -> MPHPath:
    return sim_model.fit(max_points=3, seed=3)


def _toe(rows: pd.DataFrame, **kw) -> TimingOfEvents:
    args = dict(id="id", duration="duration", event="event", treated="treated", baseline_band="band",
                effect_band="effect_band", exit_covariates=["x1"], treatment_covariates=["x1"])
    args.update(kw)
    return TimingOfEvents(rows, **args)


# -- external reference (R glm) ---------------------------------------------------------------
def test_build_rows_reproduce_r_person_weeks(ref_rows):
    rows, exp = ref_rows
    assert int(rows["duration"].sum()) == exp["n_person_weeks"]


def test_exact_timing_one_point_matches_r_poisson_glms(ref_rows):
    rows, exp = ref_rows
    res = _toe(rows, timing="exact").fit(max_points=1)[1]
    ref = exp["exact_toe"]
    np.testing.assert_allclose(res.llf, ref["loglike"], rtol=1e-8)
    names = list(ref["params"])
    est = np.array([ref["params"][k][0] for k in names])
    se = np.array([ref["params"][k][1] for k in names])
    np.testing.assert_allclose(res.params[names].to_numpy(), est, rtol=1e-8)
    # observed information of a canonical-link Poisson GLM = R's expected information
    np.testing.assert_allclose(res.bse[names].to_numpy(), se, rtol=1e-6)
    assert set(res.params.index) == set(names)


def test_interval_timing_one_point_matches_r_cloglog_glm(ref_rows):
    rows, exp = ref_rows
    tv = rows.assign(post13=((rows["treated"] == 1) & (rows["effect_band"] == "1-13")).astype(float),
                     post14=((rows["treated"] == 1) & (rows["effect_band"] == "14+")).astype(float),
                     event=rows["event"].where(rows["event"] == "exit"))
    model = TimingOfEvents(tv, id="id", duration="duration", event="event", baseline_band="band",
                           exit_covariates=["x1", "post13", "post14"])
    res = model.fit(max_points=1)[1]
    ref = exp["interval_exit_only"]
    np.testing.assert_allclose(res.llf, ref["loglike"], rtol=1e-8)
    names = list(ref["params"])
    np.testing.assert_allclose(res.params[names].to_numpy(), [ref["params"][k][0] for k in names], rtol=1e-8)
    # R side: optimHess (finite differences of the analytic gradient) of the observed information
    np.testing.assert_allclose(res.bse[names].to_numpy(), [ref["params"][k][1] for k in names], rtol=1e-6)


def test_effect_varying_with_covariate_matches_r_poisson_glm(ref_rows):
    rows, exp = ref_rows
    res = _toe(rows, timing="exact", effect_covariates=["x1"]).fit(max_points=1)[1]
    ref = exp["exact_exit_effect_by_x1"]["params"]
    names = list(ref)
    assert "exit:effect*x1" in names
    np.testing.assert_allclose(res.params[names].to_numpy(), [ref[k][0] for k in names], rtol=1e-8)
    np.testing.assert_allclose(res.bse[names].to_numpy(), [ref[k][1] for k in names], rtol=1e-6)
    # the treatment hazard is unaffected by the exit-hazard interaction (separable likelihood)
    base = exp["exact_toe"]["params"]
    np.testing.assert_allclose(res.params["treatment:x1"], base["treatment:x1"][0], rtol=1e-8)


# -- internal consistency --------------------------------------------------------------------
@pytest.mark.parametrize("interval", [True, False])
def test_analytic_gradient_matches_finite_differences(sim_model, interval):
    d0 = sim_model._design
    d = core.make_design(d0.pid, d0.t, d0.event, d0.risk, d0.X, interval)
    lay = sim_model._layout(3)
    rng = np.random.default_rng(5)
    betas, V, a = lay.split(rng.normal(scale=0.3, size=lay.size))
    theta = lay.join(betas, V - 3.0, a)
    ll, g = core.loglik_grad(theta, d, lay)
    h = 1e-6
    num = np.array([(core.loglik(theta + e, d, lay) - core.loglik(theta - e, d, lay)) / (2 * h)
                    for e in np.eye(theta.size) * h])
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(ll, core.loglik(theta, d, lay), rtol=1e-12)
    np.testing.assert_allclose(core.person_scores(theta, d, lay).sum(axis=0), g, rtol=1e-9, atol=1e-8)


def test_competing_exits_gradient_and_fit():
    spells = simulate_toe(600, seed=2)
    rng = np.random.default_rng(0)
    dest = np.where(rng.random(len(spells)) < 0.4, "education", "job")
    spells["dest"] = np.where(spells["exit"] == 1, dest, None)
    rows = build_toe_rows(spells, id="id", duration="duration", exit="dest", treatment_week="treatment_week",
                          baseline_bands=[13], effect_bands=[13], covariates=["x1"])
    model = _toe(rows, exits=["job", "education"])
    assert model.hazards == ("job", "education", "treatment")
    assert_score_matches_finite_differences(model, two_point_theta(model), 2)
    res = model.fit(max_points=1)[1]
    assert {"job:effect[1-13]", "education:effect[14+]", "treatment:x1"} <= set(res.params.index)
    assert np.all(np.isfinite(res.bse))


def test_path_is_monotone_and_criteria_are_consistent(sim_path):
    path = sim_path.path
    assert list(path.index) == list(range(1, len(path) + 1))
    assert np.all(np.diff(path["llf"].to_numpy()) > 0)
    n = sim_path[1].n_persons
    np.testing.assert_allclose(path["aic"], -2 * path["llf"] + 2 * path["n_params"])
    np.testing.assert_allclose(path["bic"], -2 * path["llf"] + np.log(n) * path["n_params"])
    assert path.loc[1, "n_params"] == 10 and (len(path) < 2 or path.loc[2, "n_params"] == 13)
    for res in sim_path:
        np.testing.assert_allclose(res.masspoints["prob"].sum(), 1.0)
    assert sim_path.best("aic").aic == path["aic"].min()
    assert sim_path.best("bic").bic == path["bic"].min()
    assert isinstance(sim_path.stop_reason, str) and "NPMLE path" in str(sim_path)


@pytest.mark.parametrize("n, seed, programme", [(800, 41, False), (1500, 42, False), (1000, 43, True)])
def test_path_never_falls_below_the_previous_fit(n, seed, programme):
    dgp = ToEDGP(programme_points=(-4.0, -2.8)) if programme else ToEDGP()
    model = toe_model(simulate_toe(n, seed=seed, dgp=dgp), dgp)
    path = model.fit(max_points=4, seed=seed)
    assert "local optimum" not in path.stop_reason
    assert np.all(np.diff(path.path["llf"].to_numpy()) >= 1e-3)  # each added point gains at least tol
    J = len(model.hazards)
    for prev in path.results[:-1]:
        # the previous fit plus a point of (numerically) zero mass is feasible with one point more
        M = prev.n_points
        lay = model._layout(M)
        betas, V, a = lay.split(prev.params.to_numpy())
        padded = model._layout(M + 1).join(betas, np.vstack([V, V[:1] - 2.0]), np.r_[a, -40.0])
        assert padded.size == lay.size + J + 1
        np.testing.assert_allclose(model.loglike(padded, M + 1), prev.llf, rtol=1e-12)
        assert path[M + 1].llf >= prev.llf


def test_heterogeneity_is_detected_and_effect_recovered(sim_path):
    # the DGP has two well-separated types; one point is rejected by AIC and the naive effect is biased
    best = sim_path.best("aic")
    assert best.n_points >= 2
    eff = best.params["exit:effect[1-13]"]
    assert abs(eff - 0.7) < 3 * best.bse["exit:effect[1-13]"]
    assert sim_path[1].params["exit:effect[1-13]"] < eff - 0.3


def test_fit_is_reproducible_with_a_seed(sim_model, sim_path):
    again = sim_model.fit(max_points=2, seed=3)
    pd.testing.assert_frame_equal(again.path, sim_path.path.iloc[:2])


def test_covariance_options(ref_rows):
    rows, _ = ref_rows
    model = _toe(rows.iloc[:3000])
    r_h = model.fit(max_points=1)[1]
    r_o = model.fit(max_points=1, cov_type="opg")[1]
    r_s = model.fit(max_points=1, cov_type="cluster", cluster="id")[1]
    pd.testing.assert_series_equal(r_h.params, r_o.params)
    # correctly specified one-point model: the three estimates agree to within sampling noise
    assert np.all(np.abs(np.log(r_o.bse / r_h.bse)) < 0.35)
    assert np.all(np.abs(np.log(r_s.bse / r_h.bse)) < 0.35)
    assert any("clustered by person" in f for f in r_s.summary().footnotes)
    assert any("outer product" in f for f in r_o.summary().footnotes)
    with pytest.raises(SpecificationError, match="person clustering"):
        model.fit(max_points=1, cov_type="cluster", cluster="x1")
    r_r = model.fit(max_points=1, cov_type="robust")[1]
    pd.testing.assert_series_equal(r_r.bse, r_s.bse)
    for old, new, kw in (("hessian", r_h, {}), ("sandwich", r_s, {"cluster": "id"})):
        with pytest.warns(FutureWarning, match=f"cov_type value '{old}' is renamed"):
            r_old = model.fit(max_points=1, cov_type=old, **kw)[1]
        pd.testing.assert_series_equal(r_old.params, new.params)
        pd.testing.assert_series_equal(r_old.bse, new.bse)
    with pytest.warns(FutureWarning, match="'maxiter' is renamed 'max_iter'"):
        r_m = model.fit(max_points=1, maxiter=5000)[1]
    pd.testing.assert_series_equal(r_m.bse, r_h.bse)
    args = dict(id="id", duration="duration", event="event", treated="treated", baseline_band="band",
                effect_band="effect_band", exit_covariates=["x1"], treatment_covariates=["x1"])
    with pytest.warns(FutureWarning, match="TimingOfEvents: the parameter 'rows' is renamed 'data'"):
        r_rows = TimingOfEvents(rows=rows.iloc[:3000], **args).fit(max_points=1)[1]
    pd.testing.assert_series_equal(r_rows.params, r_h.params)


def test_results_presentation(sim_path, tmp_path):
    res = sim_path.best("aic")
    assert isinstance(res, MPHResults)
    text = str(res)
    assert "interval (weekly grouped) timing" in text and "mass point" in text
    assert "v_treatment" in text and "exit:effect[1-13]" in text
    eff = res.effects()
    assert list(eff.index) == ["1-13", "14+"]
    with pytest.raises(AttributeError, match="read-only"):
        res.llf = 0.0
    with pytest.warns(FutureWarning, match="loglike is deprecated"):
        assert res.loglike == res.llf
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert ax.get_xlabel() == "effect band (weeks since treatment)"
    assert "<table" in res._repr_html_()
    assert "<MPHPath" in repr(sim_path)


# -- row building ------------------------------------------------------------------------------
def test_build_toe_rows_small_example():
    spells = pd.DataFrame({"pid": [1, 2, 3, 4], "dur": [30, 5, 8, 6], "ex": [1, 0, 1, 1],
                           "tw": [3, np.nan, 8, 2], "entry": [0, 2, 0, 0], "age": [30, 40, 50, 60]})
    before = spells.copy()
    rows = build_toe_rows(spells, id="pid", duration="dur", exit="ex", treatment_week="tw", entry="entry",
                          baseline_bands=[13], effect_bands=[4], covariates=["age"])
    pd.testing.assert_frame_equal(spells, before)
    p1 = rows[rows["pid"] == 1]
    assert p1[["start", "stop"]].to_numpy().tolist() == [[0, 3], [3, 7], [7, 13], [13, 30]]
    assert p1["treated"].tolist() == [0, 1, 1, 1]
    assert p1["event"].tolist() == ["treatment", None, None, "exit"]
    assert p1["band"].astype(str).tolist() == ["1-13", "1-13", "1-13", "14+"]
    assert p1["effect_band"].astype(str).tolist() == ["nan", "1-4", "5+", "5+"]
    p2 = rows[rows["pid"] == 2]
    assert p2[["start", "stop"]].to_numpy().tolist() == [[2, 5]] and p2["event"].isna().all()
    # treatment in the exit week is not effective: the spell ends with an untreated exit
    p3 = rows[rows["pid"] == 3]
    assert p3["treated"].tolist() == [0] and p3["event"].tolist() == ["exit"]
    assert rows.groupby("pid")["duration"].sum().tolist() == [30, 3, 8, 6]
    assert band_labels([13, 26]) == ["1-13", "14-26", "27+"]


def test_build_toe_rows_validation():
    spells = pd.DataFrame({"id": [1, 2], "d": [5, 0], "e": [1, 0]})
    with pytest.raises(DataValidationError, match=r"column 'd' must be a whole number.*1 of 2 rows"):
        build_toe_rows(spells, id="id", duration="d", exit="e")
    with pytest.raises(SpecificationError, match="baseline_bands"):
        build_toe_rows(spells.iloc[:1], id="id", duration="d", exit="e", baseline_bands=[13, 5])
    bad = pd.DataFrame({"id": [1], "d": [5], "e": [1], "t": [9]})
    with pytest.raises(DataValidationError, match="column 't' must be a week"):
        build_toe_rows(bad, id="id", duration="d", exit="e", treatment_week="t")
    with pytest.raises(DataValidationError, match="not found"):
        build_toe_rows(bad, id="id", duration="dd", exit="e")


# -- model validation ----------------------------------------------------------------------------
def test_model_validation_messages(ref_rows):
    rows, _ = ref_rows
    small = rows.iloc[:500]
    with pytest.raises(SpecificationError, match=r"The 'timing' parameter of TimingOfEvents must be a str "
                       r"among \{'interval', 'exact'\}. Got 'exat' instead."):
        _toe(small, timing="exat")
    with pytest.raises(SpecificationError, match="'cov_type' parameter of TimingOfEvents.fit"):
        _toe(small).fit(cov_type="robst")
    with pytest.raises(SpecificationError, match="'max_points' parameter"):
        _toe(small).fit(max_points=0)
    bad = small.assign(event=small["event"].replace({"exit": "job"}))
    with pytest.raises(DataValidationError, match=r"column 'event' must hold one of \['exit', 'treatment'\]"):
        _toe(bad)
    bad = small.copy()
    bad.loc[bad.index[bad["treated"] == 1][:2], "event"] = "treatment"
    with pytest.raises(DataValidationError,
                       match="the transition 'treatment' cannot end a row in which its hazard is not at "
                             "risk"):
        _toe(bad)
    bad = small.assign(duration=small["duration"] + 0.5)
    with pytest.raises(DataValidationError, match="whole number of weeks"):
        _toe(bad)
    _toe(bad, timing="exact")  # fractional durations are fine with exact timing
    with pytest.raises(DataValidationError, match="not found"):
        _toe(small, exit_covariates=["age"])


def test_missing_covariates_drop_whole_persons(ref_rows):
    rows, _ = ref_rows
    small = rows.iloc[:800].copy()
    before = small.copy()
    first_id = small["id"].iloc[0]
    small.loc[small.index[0], "x1"] = np.nan
    with pytest.warns(DroppedRowsWarning, match="1 persons"):
        model = _toe(small)
    pd.testing.assert_frame_equal(small.drop(columns="x1"), before.drop(columns="x1"))
    assert model.n_dropped_rows == int((small["id"] == first_id).sum())
    assert model.n_persons == small["id"].nunique() - 1
    res = model.fit(max_points=1)[1]
    assert any("were dropped" in f for f in res.summary().footnotes)


def test_from_formula_equals_column_interface(ref_rows):
    rows, _ = ref_rows
    small = rows.iloc[:2000].assign(grp=np.where(rows["x1"].iloc[:2000] > 0, "hi", "lo"))
    kw = dict(id="id", duration="duration", event="event", treated="treated", baseline_band="band",
              effect_band="effect_band")
    a = TimingOfEvents.from_formula("~ x1 + C(grp)", small, **kw).fit(max_points=1)[1]
    b = _toe(small.assign(g=(small["grp"] == "lo").astype(float)), exit_covariates=["x1", "g"],
             treatment_covariates=["x1", "g"]).fit(max_points=1)[1]
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)
    assert "exit:C(grp)[T.lo]" in a.params.index and "treatment:x1" in a.params.index
    with pytest.raises(SpecificationError, match="through the formulas"):
        TimingOfEvents.from_formula("~ x1", small, exit_covariates=["x1"], **kw)


# -- analytic Hessian, Newton and inference over the path ---------------------------------------
@pytest.mark.parametrize("interval", [True, False])
@pytest.mark.parametrize("n_points", [1, 3])
def test_analytic_hessian_matches_finite_differences(sim_model, interval, n_points):
    d0 = sim_model._design
    d = core.make_design(d0.pid, d0.t, d0.event, d0.risk, d0.X, interval)
    lay = sim_model._layout(n_points)
    rng = np.random.default_rng(7)
    betas, V, a = lay.split(rng.normal(scale=0.3, size=lay.size))
    theta = lay.join(betas, V - 3.0, a)
    ll, g, H = core.loglik_hess(theta, d, lay, chunk=257)  # several person chunks
    ll2, g2 = core.loglik_grad(theta, d, lay)
    np.testing.assert_allclose(ll, ll2, rtol=1e-12)
    np.testing.assert_allclose(g, g2, rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(H, core.numerical_hessian(theta, d, lay), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(H, H.T)


def test_newton_reaches_a_stationary_point(sim_model):
    lay = sim_model._layout(2)
    th0 = lay.join([np.zeros(x.shape[1]) for x in sim_model._sdesign.X],
                   np.array([[-2.5, -3.0], [-3.5, -3.5]]), np.array([0.0, 0.0]))
    th, ll, conv, H = core.maximise(th0, sim_model._sdesign, lay)
    _, g = core.loglik_grad(th, sim_model._sdesign, lay)
    assert conv and np.max(np.abs(g)) / sim_model.n_persons < 1e-8
    assert ll > core.loglik(th0, sim_model._sdesign, lay)
    np.testing.assert_allclose(H, core.loglik_hess(th, sim_model._sdesign, lay)[2])


def test_resampled_design_with_all_persons_once_equals_the_design(sim_model):
    from evaltools.duration._mph_inference import resample_design

    d = sim_model._sdesign
    lay = sim_model._layout(2)
    theta = lay.join([np.full(x.shape[1], 0.05) for x in d.X], np.array([[-2.5, -3.0], [-3.5, -3.5]]),
                     np.array([0.0, 0.2]))
    same = resample_design(d, np.arange(d.n_persons))
    np.testing.assert_allclose(core.loglik(theta, same, lay), core.loglik(theta, d, lay), rtol=1e-12)
    # a person drawn twice counts twice
    twice = resample_design(d, np.r_[np.arange(d.n_persons), 0])
    li = core.person_loglik(theta, d, lay)
    np.testing.assert_allclose(core.loglik(theta, twice, lay), li.sum() + li[0], rtol=1e-12)


def test_model_average_weights_and_unconditional_variance(sim_path):
    ma = sim_path.model_average("aic")
    aic = sim_path.path["aic"].to_numpy()
    w = np.exp(-(aic - aic.min()) / 2)
    w /= w.sum()
    np.testing.assert_allclose(ma.weights.to_numpy(), w)
    name = "exit:effect[1-13]"
    est = np.array([r.params[name] for r in sim_path])
    var = np.array([r.bse[name] ** 2 for r in sim_path])
    np.testing.assert_allclose(ma.params[name], w @ est)
    np.testing.assert_allclose(ma.bse[name] ** 2, w @ (var + (est - w @ est) ** 2))
    assert not set(ma.params.index) & set(sim_path.best("aic").masspoint_params)
    text = str(ma.summary())
    assert "model average (AIC weights)" in text and "Burnham & Anderson" in text


def test_bootstrap_of_the_path_is_seeded_and_parallel_safe(sim_model):
    path = sim_model.fit(max_points=2, seed=3)
    b1 = path.bootstrap(n_boot=4, seed=11)
    b2 = path.bootstrap(n_boot=4, seed=11, n_jobs=2)
    pd.testing.assert_frame_equal(b1.boot_params, b2.boot_params)
    np.testing.assert_array_equal(b1.boot_points, b2.boot_points)
    hess = path.best("aic", inference="hessian")
    pd.testing.assert_series_equal(b1.params, hess.params[b1.params.index])
    q25, q75 = np.quantile(b1.boot_params.to_numpy(), [0.25, 0.75], axis=0)
    np.testing.assert_allclose(b1.bse.to_numpy(), (q75 - q25) / 1.3489795003921634)  # robust bootstrap SE
    assert set(b1.boot_points) <= {1, 2}
    assert "person bootstrap of the path" in str(b1.summary())
    with pytest.raises(SpecificationError, match="n_boot"):
        path.bootstrap(n_boot=1)


def test_fit_inference_option_selects_what_best_returns(sim_model):
    path = sim_model.fit(max_points=2, seed=3, inference="model_average")
    assert path.inference == "model_average" and "model_average" in str(path)
    res = path.best("aic")
    assert res.inference.startswith("model average")
    assert path.best("aic", inference="hessian").inference.startswith("hessian")
    assert path.best("bic").inference.startswith("hessian")  # other criterion: the fit's own covariance
    with pytest.raises(SpecificationError, match="inference"):
        sim_model.fit(max_points=1, inference="jackknife")
    with pytest.raises(SpecificationError, match="last"):
        path.best("last", inference="bootstrap")
