"""Duration estimators on Dask frames by partition reduction equal the in-memory fits."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402

from evaltools.data.dask import (  # noqa: E402
    build_spells_dask,
    partition_panel,
    to_counting_process_dask,
    to_person_period_dask,
)
from evaltools.duration import (  # noqa: E402
    AalenJohansen,
    CoxPH,
    CoxResults,
    DiscreteHazard,
    KaplanMeier,
    NelsonAalen,
)
from evaltools.duration.dask import (  # noqa: E402
    aalen_johansen_dask,
    cox_dask,
    discrete_hazard_dask,
    kaplan_meier_dask,
    nelson_aalen_dask,
)
from evaltools.exceptions import (  # noqa: E402
    DataValidationError,
    MissingValueWarning,
    SpecificationError,
)
from evaltools.synth import generate  # noqa: E402

RTOL = 1e-10


def _numeric(frame):
    return frame.assign(
        female=(frame["sex"] == "F").astype(float),
        basic=(frame["education"] == "basic").astype(float),
        ben=frame["benefit"].cat.codes.astype(np.int64),
    )


@pytest.fixture(scope="module")
def rows():
    panel = generate(seed=11, n_persons=1200, years=3, att=False).panel
    dp = partition_panel(panel, npartitions=4)
    sp = build_spells_dask(dp, benefit=["kontanthjaelp", "adagpenge"])
    cp = to_counting_process_dask(
        sp, dp, treatments="mentor", covariates=["sex", "education"], time_bands=(13, 26)
    )
    pp = to_person_period_dask(sp, dp, treatments="mentor", covariates=["sex", "education"], max_duration=40)
    cp = cp.map_partitions(_numeric)
    pp = pp.map_partitions(_numeric)
    with dask.config.set(scheduler="synchronous"):
        return cp, cp.compute().reset_index(drop=True), pp, pp.compute().reset_index(drop=True)


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=0)


@pytest.mark.parametrize(
    ("model_kw", "fit_kw"),
    [
        ({}, {"ties": "efron"}),
        ({}, {"ties": "breslow"}),
        ({"strata": "ben"}, {"ties": "efron", "cov_type": "robust"}),
        ({"id": "spell_id"}, {"cov_type": "cluster", "cluster": "person_id"}),
        ({"id": "spell_id", "strata": ["ben", "basic"]}, {"ties": "breslow", "cov_type": "cluster"}),
    ],
)
def test_cox_equals_in_memory(rows, model_kw, fit_kw):
    cp, cpl, _, _ = rows
    covs = ["treated", "female", "in_activation"]
    m = CoxPH(cpl, covariates=covs, **model_kw).fit(**fit_kw)
    with dask.config.set(scheduler="synchronous"):
        r = cox_dask(cp, covariates=covs, **model_kw, **fit_kw)
    _close(r.params, m.params)
    _close(r.bse, m.bse)
    _close(r.cov_naive, m.cov_naive)
    _close([r.llf, r.llnull], [m.llf, m.llnull])
    _close([r.score_test.statistic, r.wald_test.statistic], [m.score_test.statistic, m.wald_test.statistic])
    assert (r.n_events, r.n_persons, r.n_clusters, r.n_iter) == (
        m.n_events,
        m.n_persons,
        m.n_clusters,
        m.n_iter,
    )
    assert r.nobs == m.nobs and r.n_delayed_entry == m.n_delayed_entry and r.n_strata == m.n_strata
    bh, bh_m = r.baseline_cumulative_hazard, m.baseline_cumulative_hazard
    assert list(bh.columns) == list(bh_m.columns)
    _close(bh["cumulative_hazard"], bh_m["cumulative_hazard"])
    _close(bh["time"], bh_m["time"])
    assert "partitions" in str(r.summary())


def test_cox_results_are_cox_results(rows):
    cp, cpl, _, _ = rows
    covs = ["treated", "female"]
    m = CoxPH(cpl, covariates=covs, strata="ben").fit()
    with dask.config.set(scheduler="synchronous"):
        r = cox_dask(cp, covariates=covs, strata="ben")
    assert isinstance(r, CoxResults) and r.n_partitions == cp.npartitions
    profiles = pd.DataFrame({"treated": [0.0, 1.0, 1.0], "female": [1.0, 0.0, 1.0], "ben": [0, 1, 1]})
    _close(r.predict_partial_hazard(profiles), m.predict_partial_hazard(profiles))
    _close(r.predict_survival(profiles, times=[5, 20, 60]), m.predict_survival(profiles, times=[5, 20, 60]))
    assert dict(r.summary().header)["Partitions"] == cp.npartitions
    for method in (r.schoenfeld_residuals, r.test_proportional_hazards):
        with pytest.raises(SpecificationError, match="Dask DataFrame"):
            method()


def test_cox_weights_and_delayed_entry():
    rng = np.random.default_rng(4)
    n = 2500
    pid = np.repeat(np.arange(n), 2)
    k = np.tile([0, 1], n)
    start = np.where(k == 0, rng.integers(0, 3, 2 * n), 0).astype(float)
    stop = start + rng.integers(1, 6, 2 * n)
    frame = pd.DataFrame({"pid": pid, "k": k, "start": start, "stop": stop})
    first = frame[frame.k == 0].set_index("pid")
    frame.loc[frame.k == 1, "start"] = first.loc[frame.loc[frame.k == 1, "pid"], "stop"].to_numpy()
    frame.loc[frame.k == 1, "stop"] = frame.loc[frame.k == 1, "start"] + rng.integers(1, 6, n)
    frame["event"] = ((frame.k == 1) & (rng.random(2 * n) < 0.6)).astype(int)
    frame["x"] = rng.normal(size=2 * n)
    frame["z"] = rng.integers(0, 3, 2 * n).astype(float)
    frame["w"] = rng.uniform(0.5, 2.0, 2 * n)
    ddf = dd.from_pandas(frame.set_index("pid", drop=False).rename_axis(None), npartitions=5, sort=True)
    m = CoxPH(frame, covariates=["x", "z"], id="pid", weights="w").fit(cov_type="cluster")
    with dask.config.set(scheduler="synchronous"):
        r = cox_dask(ddf, covariates=["x", "z"], id="pid", weights="w", cov_type="cluster")
    _close(r.params, m.params)
    _close(r.bse, m.bse)
    _close(r.llf, m.llf)
    assert r.n_delayed_entry == m.n_delayed_entry > 0


def test_empty_partitions(rows):
    cp, cpl, pp, ppl = rows
    lo, hi = cp.divisions[1], cp.divisions[2]
    keep = (cp["person_id"] < lo) | (cp["person_id"] >= hi)  # the second partition becomes empty
    cpk, cplk = cp[keep], cpl[(cpl["person_id"] < lo) | (cpl["person_id"] >= hi)]
    with dask.config.set(scheduler="synchronous"):
        assert (cpk.map_partitions(len).compute() == 0).any()
        r = cox_dask(cpk, covariates=["treated", "female"], id="spell_id", cov_type="cluster")
        km = kaplan_meier_dask(cpk, stop="stop", event="event")
        aj = aalen_johansen_dask(cpk, stop="stop", event="exit", censored="censored")
    m = CoxPH(cplk, covariates=["treated", "female"], id="spell_id").fit(cov_type="cluster")
    _close(r.params, m.params)
    _close(r.bse, m.bse)
    _frames_equal(km.survival_function, KaplanMeier(cplk, stop="stop", event="event").fit().survival_function)
    aj_m = AalenJohansen(cplk, stop="stop", event="exit", censored="censored").fit()
    _frames_equal(aj.cumulative_incidence, aj_m.cumulative_incidence)


def test_cox_on_distributed_cluster(rows):
    distributed = pytest.importorskip("distributed")
    cp, cpl, _, _ = rows
    covs = ["treated", "female"]
    m = CoxPH(cpl, covariates=covs, id="spell_id").fit(cov_type="cluster", cluster="person_id")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        r = cox_dask(cp, covariates=covs, id="spell_id", cov_type="cluster", cluster="person_id")
        km = kaplan_meier_dask(cp, stop="stop", entry="start", event="event", group="ben")
        dh = discrete_hazard_dask(
            rows[2], covariates=["treated", "female"], baseline="bands", bands=[4, 13, 26]
        )
    _close(r.params, m.params)
    _close(r.bse, m.bse)
    km_m = KaplanMeier(cpl, stop="stop", entry="start", event="event", group="ben").fit()
    _close(km.survival_function["std_err"].fillna(-1), km_m.survival_function["std_err"].fillna(-1), 1e-12)
    dh_m = DiscreteHazard(
        rows[3], covariates=["treated", "female"], baseline="bands", bands=[4, 13, 26]
    ).fit()
    _close(dh.params, dh_m.params)


def _frames_equal(a, b, rtol=1e-12):
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if pd.api.types.is_float_dtype(a[c]):
            np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=rtol, atol=0, equal_nan=True)
        else:
            assert (a[c].astype(object).to_numpy() == b[c].astype(object).to_numpy()).all(), c


@pytest.mark.parametrize("kw", [{}, {"group": "ben"}, {"entry": "start", "group": "female"}])
def test_curves_equal_in_memory(rows, kw):
    cp, cpl, _, _ = rows
    cp = cp.assign(w=1.0 + cp["treated"] * 0.5)
    cpl = cpl.assign(w=1.0 + cpl["treated"] * 0.5)
    base = {"stop": "stop", "event": "event"}
    with dask.config.set(scheduler="synchronous"):
        for weights in (None, "w"):
            r = kaplan_meier_dask(cp, **base, **kw, weights=weights)
            m = KaplanMeier(cpl, **base, **kw, weights=weights).fit()
            _frames_equal(r.survival_function, m.survival_function)
            r = nelson_aalen_dask(cp, **base, **kw, weights=weights)
            m = NelsonAalen(cpl, **base, **kw, weights=weights).fit()
            _frames_equal(r.cumulative_hazard, m.cumulative_hazard)
        aj = aalen_johansen_dask(cp, stop="stop", event="exit", censored="censored", **kw)
    aj_m = AalenJohansen(cpl, stop="stop", event="exit", censored="censored", **kw).fit()
    _frames_equal(aj.cumulative_incidence, aj_m.cumulative_incidence)
    _frames_equal(aj.event_free, aj_m.event_free)
    assert aj.causes == aj_m.causes
    assert str(aj.summary()) == str(aj_m.summary())


@pytest.mark.parametrize(
    "kw",
    [
        {"link": "logit"},
        {"link": "cloglog", "baseline": "bands", "bands": [4, 13, 26]},
        {"baseline": "none", "id": "spell_id"},
    ],
)
def test_discrete_hazard_equals_in_memory(rows, kw):
    _, _, pp, ppl = rows
    covs = ["treated", "female", "basic"]
    m = DiscreteHazard(ppl, covariates=covs, **kw).fit(collapse=True)
    with dask.config.set(scheduler="synchronous"):
        r = discrete_hazard_dask(pp, covariates=covs, **kw)
    _close(r.params, m.params)
    _close(r.bse, m.bse)
    _close(r.llf, m.llf)
    assert r.nobs == m.nobs and r.n_events == m.n_events and r.n_persons == m.n_persons
    assert list(r.params.index) == list(m.params.index)


def test_discrete_hazard_uses_in_memory_checks(rows):
    _, _, pp, ppl = rows
    covs = ["treated", "female"]
    m = DiscreteHazard(ppl, covariates=covs, baseline="bands", bands=[4, 13]).fit(collapse=True)
    with dask.config.set(scheduler="synchronous"):
        r = discrete_hazard_dask(pp, covariates=covs, baseline="bands", bands=[4, 13])
        assert r.n_cells == m.n_cells
        with pytest.raises(SpecificationError, match="The 'link' parameter of discrete_hazard_dask"):
            discrete_hazard_dask(pp, covariates=covs, link="probit")
        with pytest.raises(SpecificationError, match="not numeric.*map_partitions"):
            discrete_hazard_dask(pp, covariates=["sex"])
        with pytest.raises(DataValidationError, match="hazard_dask: column 'duration' must be a positive"):
            discrete_hazard_dask(pp.assign(duration=pp["duration"] - 1), covariates=covs)
        with pytest.raises(DataValidationError, match=r"hazard_dask: 1 baseline period\(s\).*no exits"):
            discrete_hazard_dask(pp.assign(event=pp["event"].where(pp["duration"] != 3, 0)), covariates=covs)
        with pytest.raises(SpecificationError, match="constant within every baseline period"):
            discrete_hazard_dask(pp.assign(one=1.0), covariates=["treated", "one"])


def test_curve_arguments_checked_before_reading(rows, monkeypatch):
    from evaltools.duration import _dask_curves

    cp, cpl, _, _ = rows

    def no_pass(*args):
        raise AssertionError("the data were read before the arguments were checked")

    with monkeypatch.context() as mp:
        mp.setattr(_dask_curves, "map_partitions", no_pass)
        for func, bad in ((kaplan_meier_dask, "linear"), (nelson_aalen_dask, "log-log")):
            with pytest.raises(SpecificationError, match=f"'conf_type' parameter of {func.__name__}"):
                func(cp, stop="stop", conf_type=bad)
            with pytest.raises(SpecificationError, match=f"'alpha' parameter of {func.__name__}"):
                func(cp, stop="stop", alpha=1.5)
        with pytest.raises(SpecificationError, match="Dask DataFrame"):
            nelson_aalen_dask(cpl, stop="stop")
    gappy = cp.assign(stop=cp["stop"].where(cp["person_id"] % 50 != 0))
    with dask.config.set(scheduler="synchronous"), pytest.warns(MissingValueWarning) as record:
        nelson_aalen_dask(gappy, stop="stop")
    assert record[0].filename == __file__


def test_errors(rows):
    cp, cpl, _, _ = rows
    with pytest.raises(SpecificationError, match="Dask DataFrame"):
        cox_dask(cpl, covariates=["treated"])
    with pytest.raises(SpecificationError, match="not numeric"):
        cox_dask(cp, covariates=["sex"])
    with pytest.raises(SpecificationError, match="constant"):
        cox_dask(cp.assign(one=1.0), covariates=["treated", "one"])
    with pytest.raises(SpecificationError, match="linear combination"):
        cox_dask(cp.assign(t2=cp["treated"] * 2.0), covariates=["treated", "t2"])
    with dask.config.set(scheduler="synchronous"):
        split = dd.from_pandas(cpl, npartitions=3, sort=False)  # spells cut across partitions
        if split.npartitions > 1:
            with pytest.raises(DataValidationError, match="several partitions"):
                cox_dask(split, covariates=["treated"], id="spell_id", cov_type="cluster")
        bad = cp.assign(stop=cp["start"])
        with pytest.raises(DataValidationError, match="greater than"):
            cox_dask(bad, covariates=["treated"])
    with pytest.raises(SpecificationError, match="Dask DataFrame"):
        kaplan_meier_dask(cpl, stop="stop")
