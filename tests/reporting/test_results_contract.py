"""Contract of every results class: one parametrised test over all subclasses of EstimationResults.

Every concrete subclass found in the package must have a factory below (a small fit); a new
results class without one fails ``test_every_results_class_has_a_factory``.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import evaltools
from evaltools.reporting.results import EstimationResults

matplotlib.use("Agg")

REF = Path(__file__).parents[1] / "reference"


def _all_results_classes() -> dict[str, type[EstimationResults]]:
    for mod in pkgutil.walk_packages(evaltools.__path__, "evaltools."):
        if mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)
    out: dict[str, type[EstimationResults]] = {}
    todo = list(EstimationResults.__subclasses__())
    while todo:
        c = todo.pop()
        todo.extend(c.__subclasses__())
        if c.__module__.startswith("evaltools."):
            out[c.__name__] = c
    return out


# -- small data ----------------------------------------------------------------------------------
def _spells(n: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x))).astype(int)
    t_event = rng.exponential(1 / np.exp(0.3 * x - 0.4 * g))
    cause = np.where(rng.random(n) < 0.6, 1, 2)
    t_cens = rng.exponential(2.0, n)
    time = np.minimum(t_event, t_cens) + 0.01
    event = (t_event <= t_cens).astype(int)
    return pd.DataFrame({"id": np.arange(n), "x": x, "g": g, "time": time, "start": 0.0, "event": event,
                         "exit": event * cause})


def _person_periods(n: int = 300, seed: int = 2) -> pd.DataFrame:
    s = _spells(n, seed)
    d = np.minimum(np.ceil(s["time"] * 3).astype(int), 8)
    rows = s.loc[s.index.repeat(d)].reset_index(drop=True)
    rows["duration"] = rows.groupby("id").cumcount() + 1
    last = rows["duration"] == rows.groupby("id")["duration"].transform("max")
    ended = (s["time"] * 3 <= 8).to_numpy()[rows["id"]]
    rows["event"] = (last & ended & (rows["event"] == 1)).astype(int)
    rows["exit"] = np.where(rows["event"] == 1, rows["exit"], 0)
    return rows


def _cross_section(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-(0.4 * x1 - 0.3 * x2)))).astype(int)
    y = 1.0 + 0.5 * d + x1 + 0.5 * x2 + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "d": d, "y": y})


# -- factories: one small fit per results class ----------------------------------------------------
def _cox():
    from evaltools.duration import CoxPH

    return CoxPH(_spells(), covariates=["x", "g"], stop="time").fit()


def _cox_dask():
    dask = pytest.importorskip("dask")
    import dask.dataframe as dd

    from evaltools.duration.dask import cox_dask

    with dask.config.set(scheduler="synchronous"):
        return cox_dask(dd.from_pandas(_spells(), npartitions=2), covariates=["x", "g"], stop="time")


def _discrete():
    from evaltools.duration import DiscreteHazard

    return DiscreteHazard(_person_periods(), covariates=["x"], id="id").fit()


def _multinomial():
    from evaltools.duration import MultinomialHazard

    return MultinomialHazard(_person_periods(), covariates=["x"], event="exit", id="id").fit()


def _finegray():
    from evaltools.duration import FineGray

    return FineGray(_spells(), covariates=["x", "g"], stop="time", cause=1, event="exit").fit()


def _aft():
    from evaltools.duration.aft import LogNormalAFT

    return LogNormalAFT(_spells(), covariates=["x", "g"], duration="time").fit()


def _frailty():
    from evaltools.duration.frailty import GammaFrailtyHazard

    return GammaFrailtyHazard(_person_periods(), id="id", duration="duration", event="event",
                              covariates=["x"]).fit()


def _mph():
    from evaltools.duration.montecarlo import simulate_toe
    from evaltools.duration.mph import TimingOfEvents, build_toe_rows

    spells = simulate_toe(400, seed=11)
    rows = build_toe_rows(spells, id="id", duration="duration", exit="exit", treatment_week="treatment_week",
                          baseline_bands=[13, 26], effect_bands=[13], covariates=["x1"])
    model = TimingOfEvents(rows, id="id", duration="duration", event="event", treated="treated",
                           baseline_band="band", effect_band="effect_band", exit_covariates=["x1"],
                           treatment_covariates=["x1"])
    return model.fit(max_points=1).results[0]


def _propensity():
    from evaltools.selection import PropensityScore

    return PropensityScore(_cross_section(), treatment="d", covariates=["x1", "x2"]).fit()


def _ipw():
    from evaltools.selection import IPW

    return IPW(_cross_section(), outcome="y", treatment="d", covariates=["x1", "x2"]).fit()


def _matching():
    from evaltools.selection import Matching

    return Matching(_cross_section(), outcome="y", treatment="d", covariates=["x1", "x2"]).fit()


def _heckman():
    from evaltools.datasets.mroz import load
    from evaltools.selection import Heckman

    x = ["educ", "exper", "expersq"]
    z = [*x, "nwifeinc", "age", "kidslt6", "kidsge6"]
    return Heckman(load(), outcome="lwage", selection="inlf", outcome_covariates=x,
                   selection_covariates=z).fit(method="ml")


def _ipw_survival():
    from evaltools.selection import IPWSurvival

    return IPWSurvival(_spells(), duration="time", event="event", treatment="g", covariates=["x"]).fit(
        times=[0.5], n_boot=20, seed=1, progress=False)


def _aipw_survival():
    from evaltools.selection import AIPWSurvival

    return AIPWSurvival(_spells(), duration="time", event="event", treatment="g", covariates=["x"]).fit(
        times=[0.5])


def _mpdta():
    from evaltools.selection import StaggeredDiD

    d = pd.read_csv(REF / "selection" / "cs_mpdta" / "mpdta.csv")
    return StaggeredDiD(d, outcome="lemp", unit="countyreal", time="year", group="first.treat").fit(
        n_boot=50, seed=1)


def _aggregated():
    return _mpdta().aggregate("dynamic")


def _dynamic():
    from evaltools.selection.dynamic import DynamicEvaluation
    from evaltools.synth import generate

    draw = generate(seed=11, n_persons=1024, years=3)
    return DynamicEvaluation(draw.panel, kind="loentilskud", benefit=["adagpenge", "kontanthjaelp"],
                             covariates=["sex"], elapsed=[(0, 13), (14, 52)]).fit(progress=False)


def _benchmark():
    from evaltools.indicators.benchmark import benchmark

    rng = np.random.default_rng(3)
    d = pd.DataFrame({"municipality": [f"M{i:02d}" for i in range(12)], "u": rng.uniform(2, 8, 12)})
    d["share"] = 0.2 + 0.02 * d["u"] + rng.normal(0, 0.03, 12)
    d["persons"] = [40 + 5 * i for i in range(12)]
    return benchmark(d, outcome="share", frame_conditions=["u"])


def _did():
    from evaltools.indicators.benchmark import did

    rng = np.random.default_rng(1)
    units = np.repeat(np.arange(40), 2)
    per = np.tile(np.arange(2), 40)
    treated, post = units < 13, per >= 1
    y = rng.normal(0.3, 0.05, 40)[units] + 0.02 * per + 0.05 * (treated & post) + rng.normal(0, 0.02, 80)
    d = pd.DataFrame({"municipality": units, "period": per, "share": y, "project": treated, "post": post})
    return did(d, outcome="share", treated="project", post="post")


def _linearmodels():
    from linearmodels.datasets import wage_panel

    from evaltools.selection import municipality_panel_ols

    return municipality_panel_ols(wage_panel.load(), outcome="lwage", covariates=["expersq", "union"],
                                  entity="nr", time="year")


FACTORIES: dict[str, Callable[[], EstimationResults]] = {
    "CoxResults": _cox,
    "PartitionedCoxResults": _cox_dask,
    "DiscreteHazardResults": _discrete,
    "MultinomialHazardResults": _multinomial,
    "FineGrayResults": _finegray,
    "LogNormalAFTResults": _aft,
    "GammaFrailtyResults": _frailty,
    "MPHResults": _mph,
    "PropensityResults": _propensity,
    "WeightingResults": _ipw,
    "MatchingResults": _matching,
    "HeckmanResults": _heckman,
    "IPWSurvivalResults": _ipw_survival,
    "AIPWSurvivalResults": _aipw_survival,
    "StaggeredDiDResults": _mpdta,
    "AggregatedATT": _aggregated,
    "DynamicResults": _dynamic,
    "BenchmarkResults": _benchmark,
    "DiDResults": _did,
    "LinearModelsResults": _linearmodels,
}

CLASSES = _all_results_classes()


def test_every_results_class_has_a_factory() -> None:
    missing = sorted(set(CLASSES) - set(FACTORIES))
    assert not missing, f"add a factory for {missing}"
    assert not set(FACTORIES) - set(CLASSES)


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def fitted(request) -> EstimationResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = FACTORIES[request.param]()
    assert type(res).__name__ == request.param
    return res


def _intervals(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(lower, upper) column pairs of a summary table."""
    pairs = [(c, c.replace("lower", "upper")) for c in table.columns
             if isinstance(c, str) and c.endswith("lower") and c.replace("lower", "upper") in table.columns]
    return [p for p in pairs if not p[0].startswith("band_")]


def test_core_surface(fitted: EstimationResults) -> None:
    p, se = fitted.params, fitted.bse
    assert isinstance(p, pd.Series) and len(p) > 0
    pd.testing.assert_index_equal(se.index, p.index)
    assert (se.dropna() >= 0).all()
    ci = fitted.conf_int()
    assert list(ci.columns) == ["lower", "upper"]
    pd.testing.assert_index_equal(ci.index, p.index)
    ok = se.notna() & (se > 0) & np.isfinite(p)
    assert ((ci["lower"] < p) & (p < ci["upper"]))[ok].all()
    narrow = fitted.conf_int(0.1)
    assert ((narrow["upper"] - narrow["lower"]) < (ci["upper"] - ci["lower"]))[ok].all()
    frame = fitted.to_frame()
    assert list(frame.columns[:6]) == ["estimate", "std_err", "stat", "pvalue", "lower", "upper"]
    np.testing.assert_allclose(frame["estimate"], p)
    np.testing.assert_allclose(frame["std_err"], se)
    assert isinstance(fitted.nobs, int) and fitted.nobs > 0


def test_declared_fields_are_set_and_read_only(fitted: EstimationResults) -> None:
    fields = type(fitted).result_fields()
    assert fields, "family-specific values must be declared as annotated fields"
    for name in fields:
        assert name in vars(fitted) or hasattr(type(fitted), name), name
    public = next(f for f in fields if not f.startswith("_"))
    with pytest.raises(AttributeError, match="read-only"):
        setattr(fitted, public, None)


def test_summary_honours_alpha_in_every_table(fitted: EstimationResults) -> None:
    s95, s90 = fitted.summary(), fitted.summary(alpha=0.1)
    assert dict(s95.header)["Confidence level"] == "95%" and dict(s90.header)["Confidence level"] == "90%"
    assert len(s90.tables) == len(s95.tables) >= 1, "summary(alpha=...) must keep every table"
    assert s90.as_text() != s95.as_text()
    n_checked = 0
    for t95, t90 in zip(s95.tables, s90.tables, strict=True):
        assert list(t95.columns) == list(t90.columns) and t95.shape == t90.shape
        for lo, hi in _intervals(t95):
            w95 = pd.to_numeric(t95[hi], errors="coerce") - pd.to_numeric(t95[lo], errors="coerce")
            w90 = pd.to_numeric(t90[hi], errors="coerce") - pd.to_numeric(t90[lo], errors="coerce")
            ok = (w95 > 0) & w90.notna()
            assert (w90[ok] < w95[ok]).all(), f"{lo}/{hi} not at the requested level"
            n_checked += int(ok.sum())
    assert n_checked > 0
    # the coefficient table of the summary is to_frame at the same level
    ci = fitted.conf_int(0.1)
    first = s90.tables[0]
    common = [i for i in ci.index if i in first.index]
    if "lower" in first.columns and common:
        np.testing.assert_allclose(first.loc[common, "lower"].astype(float), ci.loc[common, "lower"])


def test_renders_and_plots(fitted: EstimationResults) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    assert type(fitted).__name__ in repr(fitted)
    assert str(fitted).strip()
    assert "<table" in fitted._repr_html_()
    ax = fitted.plot()
    assert isinstance(ax, Axes)
    plt.close("all")


def test_compare_and_coefplot_take_every_results_class(fitted: EstimationResults) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    tab = evaltools.compare(fitted, fitted, names=["a", "b"])
    np.testing.assert_allclose(tab.params["a"], fitted.params.to_numpy())
    assert "<table" in tab._repr_html_()
    _, ax = plt.subplots()
    assert evaltools.coefplot(fitted, ax=ax) is ax and isinstance(ax, Axes)
    plt.close("all")
