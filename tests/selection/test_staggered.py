"""StaggeredDiD (Callaway-Sant'Anna) against R `did` on mpdta, input checks, and Monte Carlo."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from evaltools.exceptions import (  # noqa: E402
    ConvergenceWarning,
    DataValidationError,
    DroppedRowsWarning,
    MissingValueWarning,
    OverlapWarning,
    SpecificationError,
)
from evaltools.selection import AggregatedATT, StaggeredDiD, StaggeredDiDResults, twfe_did  # noqa: E402

REF = Path(__file__).parents[1] / "reference" / "selection" / "cs_mpdta"
EXPECTED = json.loads((REF / "expected.json").read_text())
CASES = EXPECTED["cases"]
COLS = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    d = pd.read_csv(REF / "mpdta.csv")
    d["w"] = np.exp(d["lpop"]) / np.exp(d["lpop"]).mean()
    return d


def _num(v):
    return np.array([np.nan if x == "NA" else x for x in np.atleast_1d(v)], dtype=float)


def _inf(v) -> float:
    return {"-Inf": -np.inf, "Inf": np.inf}.get(v, v)


def _model(data: pd.DataFrame, case: dict) -> StaggeredDiD:
    s = case["settings"]
    return StaggeredDiD(
        data,
        **COLS,
        covariates=None if s["xformla"] == "~1" else s["xformla"],
        control_group={"nevertreated": "never_treated", "notyettreated": "not_yet_treated"}[
            s["control_group"]
        ],
        estimator=s["est_method"],
        base_period=s["base_period"],
        anticipation=s["anticipation"],
        weights=None if s["weights"] == "none" else s["weights"],
    )


@pytest.fixture(scope="module")
def fits(mpdta):
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, case in CASES.items():
            out[name] = _model(mpdta, case).fit(n_boot=0)
    return out


def _rtol(case: dict) -> float:
    # Without covariates every 2x2 DiD is closed form; with covariates the propensity logit is
    # iterative (IRLS with R glm's start and deviance criterion, so agreement is still ~1e-13).
    return 1e-8 if case["settings"]["xformla"] == "~1" or case["settings"]["est_method"] == "reg" else 1e-6


# ----------------------------------------------------------------------------- reference: R did
@pytest.mark.parametrize("name", list(CASES))
def test_attgt_matches_r_did(fits, name):
    case, res = CASES[name], fits[name]
    ref = case["attgt"]
    np.testing.assert_array_equal(res.attgt["group"], ref["group"])
    np.testing.assert_array_equal(res.attgt["time"], ref["t"])
    np.testing.assert_allclose(res.params.to_numpy(), ref["att"], rtol=_rtol(case), atol=1e-12)
    np.testing.assert_allclose(res.bse.to_numpy(), _num(ref["se"]), rtol=_rtol(case))
    assert res.nobs == case["n"] == 500


@pytest.mark.parametrize("name", list(CASES))
def test_pretest_matches_r_did(fits, name):
    case, res = CASES[name], fits[name]
    np.testing.assert_allclose(res.pretest.statistic, case["wald"]["W"], rtol=_rtol(case))
    np.testing.assert_allclose(res.pretest.pvalue, case["wald"]["pval"], atol=1e-5)  # R rounds to 5 digits


@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
@pytest.mark.parametrize("name", list(CASES))
def test_aggregations_match_r_did(fits, name, kind):
    case, ref = CASES[name], CASES[name][kind]
    agg = fits[name].aggregate(kind)
    tol = _rtol(case)
    np.testing.assert_allclose(agg.overall_att, ref["overall_att"], rtol=tol)
    np.testing.assert_allclose(agg.overall_se, ref["overall_se"], rtol=tol)
    if kind != "simple":
        np.testing.assert_allclose(agg.params.index.to_numpy(dtype=float), ref["egt"])
        np.testing.assert_allclose(agg.params.to_numpy(), ref["att"], rtol=tol, atol=1e-12)
        np.testing.assert_allclose(agg.bse.to_numpy(), _num(ref["se"]), rtol=tol)


@pytest.mark.parametrize("window", ["m2_p2", "balanced1"])
@pytest.mark.parametrize("name", ["nev_dr", "nyt_dr"])
def test_event_study_windows_match_r_did(fits, name, window):
    ref = CASES[name][f"dynamic_{window}"]
    agg = fits[name].aggregate(
        "dynamic",
        min_e=_inf(ref["min_e"]),
        max_e=_inf(ref["max_e"]),
        balance_e=None if ref["balance_e"] == "NA" else ref["balance_e"],
    )
    np.testing.assert_allclose(agg.params.index.to_numpy(dtype=float), ref["egt"])
    np.testing.assert_allclose(agg.params.to_numpy(), ref["att"], rtol=1e-8)
    np.testing.assert_allclose(agg.bse.to_numpy(), ref["se"], rtol=1e-8)
    np.testing.assert_allclose(
        [agg.overall_att, agg.overall_se], [ref["overall_att"], ref["overall_se"]], rtol=1e-8
    )


def test_headline_dynamic_aggregate(fits):
    es = fits["nev_dr"].aggregate("dynamic")
    assert round(es.overall_att, 4) == -0.0772  # as printed in the did documentation
    assert round(es.overall_se, 4) == 0.0200


def test_bootstrap_matches_r_did_within_monte_carlo_error(mpdta):
    # R and numpy draw different Rademacher multipliers, so only Monte Carlo agreement is possible.
    # Over repeated seeds with 20,000 draws the sup-t critical values have SD about 0.01 and the
    # IQR-based bootstrap SEs a relative SD of 0.4-1.2%; the tolerances are about 4 of those SDs
    # of the difference between two independent runs.
    ref = EXPECTED["bootstrap"]
    res = StaggeredDiD(mpdta, **COLS).fit(n_boot=ref["biters"], seed=11)
    assert abs(res.critical_value() - ref["attgt_crit"]) < 0.06
    np.testing.assert_allclose(res.bse_boot.to_numpy(), ref["attgt_se"], rtol=0.05)
    es = res.aggregate("dynamic")
    assert abs(es.critical_value() - ref["dynamic_crit"]) < 0.06
    np.testing.assert_allclose(es.bse_boot.to_numpy(), ref["dynamic_se"], rtol=0.05)


# ----------------------------------------------------------------------------- results surface
def test_results_surface(mpdta):
    res = StaggeredDiD(mpdta, **COLS).fit(n_boot=199, seed=3)
    assert isinstance(res, StaggeredDiDResults)
    assert list(res.params.index.names) == ["group", "time"]
    f = res.to_frame(alpha=0.1)
    assert {"estimate", "std_err", "lower", "upper", "band_lower", "band_upper", "n_treated"} <= set(
        f.columns
    )
    wide, narrow = res.conf_int(0.01), res.conf_int(0.2)
    assert (wide["upper"] - wide["lower"] > narrow["upper"] - narrow["lower"]).all()
    band = res.conf_int(0.05, band="uniform")
    point = res.conf_int(0.05)
    assert res.critical_value(0.05) > 1.96
    assert ((band["upper"] - band["lower"]) > (point["upper"] - point["lower"]) * 0.9).all()
    s10 = res.summary(alpha=0.1).as_text()
    assert s10 != res.summary().as_text()  # alpha honoured in the table
    assert "clustered on countyreal (500 units)" in s10 and "seed 3" in s10
    assert "<table" in res._repr_html_()
    with pytest.raises(AttributeError, match="read-only"):
        res.nobs = 3
    with pytest.raises(SpecificationError, match="'kind'"):
        res.aggregate("cohort")
    with pytest.raises(SpecificationError, match="'band'"):
        res.conf_int(band="simultaneous")
    es = res.aggregate("dynamic")
    assert isinstance(es, AggregatedATT) and es.params.index.name == "event_time"
    assert "overall" in es.summary(0.1).as_text()
    simple = res.aggregate("simple")
    assert simple.params.index.tolist() == ["ATT"]


def test_bootstrap_is_reproducible_and_optional(mpdta):
    m = StaggeredDiD(mpdta, **COLS)
    a, b = m.fit(n_boot=99, seed=5), m.fit(n_boot=99, seed=5)
    assert a.critical_value() == b.critical_value()
    assert a.aggregate("group").critical_value() == b.aggregate("group").critical_value()
    none = m.fit(n_boot=0)
    assert np.isnan(none.critical_value()) and none.n_boot == 0
    with pytest.raises(SpecificationError, match="n_boot > 0"):
        none.conf_int(band="uniform")
    assert "band_lower" not in none.to_frame().columns


def test_event_study_plot_has_bands_and_labels(mpdta):
    res = StaggeredDiD(mpdta, **COLS).fit(n_boot=99, seed=1)
    fig, ax = plt.subplots()
    out = res.plot(ax=ax)
    assert out is ax
    assert ax.get_title() and "event time" in ax.get_xlabel() and "lemp" in ax.get_ylabel()
    assert len(ax.collections) >= 1  # the shaded simultaneous band
    for kind in ("group", "calendar", "simple"):
        a2 = res.aggregate(kind).plot()
        assert a2.get_title() and a2.get_ylabel()
    plt.close("all")


def test_from_formula_equals_covariates(mpdta):
    a = StaggeredDiD.from_formula("lemp ~ lpop", mpdta, unit="countyreal", time="year", group="first.treat")
    b = StaggeredDiD(mpdta, **COLS, covariates=["lpop"])
    pd.testing.assert_series_equal(a.fit(n_boot=0).params, b.fit(n_boot=0).params)
    with pytest.raises(SpecificationError, match="formula"):
        StaggeredDiD.from_formula("~ lpop", mpdta, unit="countyreal", time="year", group="first.treat")


def test_model_is_not_mutated_and_data_not_modified(mpdta):
    before = mpdta.copy()
    m = StaggeredDiD(mpdta, **COLS, covariates="lpop")
    r1 = m.fit(n_boot=0)
    r2 = m.fit(n_boot=0)
    pd.testing.assert_frame_equal(mpdta, before)
    pd.testing.assert_series_equal(r1.params, r2.params)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"control_group": "nevertreated"}, "'control_group' parameter of StaggeredDiD"),
        ({"estimator": "aipw"}, "'estimator' parameter of StaggeredDiD"),
        ({"base_period": "fixed"}, "'base_period' parameter"),
        ({"anticipation": -1}, "'anticipation'"),
        ({"bogus": 1}, "unexpected keyword"),
        ({"covariates": 3}, "covariates"),
    ],
)
def test_invalid_options(mpdta, kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        StaggeredDiD(mpdta, **COLS, **kwargs)


def test_invalid_fit_arguments(mpdta):
    m = StaggeredDiD(mpdta, **COLS)
    for kw, match in (
        ({"n_boot": -1}, "n_boot"),
        ({"seed": "a"}, "seed"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
    ):
        with pytest.raises(SpecificationError, match=match):
            m.fit(**kw)
    with pytest.raises(SpecificationError, match="alpha"):
        m.fit(n_boot=0).conf_int(alpha=1.5)


def test_bad_data(mpdta):
    with pytest.raises(DataValidationError, match="not found"):
        StaggeredDiD(mpdta, outcome="lemp", unit="county", time="year", group="first.treat")
    with pytest.raises(DataValidationError, match="occur once"):
        StaggeredDiD(pd.concat([mpdta, mpdta.head(3)]), **COLS)
    bad = mpdta.copy()
    bad.loc[bad.index[0], "first.treat"] = 2006  # county 8001 changes cohort
    with pytest.raises(DataValidationError, match="constant within each countyreal.*8001"):
        StaggeredDiD(bad, **COLS)
    bad = mpdta.copy()
    bad.loc[bad.index[0], "w"] = 5.0
    with pytest.raises(DataValidationError, match="'w' must be constant"):
        StaggeredDiD(bad, **COLS, weights="w")
    with pytest.raises(DataValidationError, match="no never-treated"):
        StaggeredDiD(mpdta[mpdta["first.treat"] > 0], **COLS)
    with pytest.raises(DataValidationError, match="dtype"):
        StaggeredDiD(mpdta.assign(year=mpdta["year"].astype(str)), **COLS)


def test_dropped_rows_are_counted_and_reported(mpdta):
    d = mpdta.copy()
    d = d.drop(d.index[[0, 7]])  # two counties lose one year each
    d.loc[d.index[20], "lemp"] = np.nan
    with pytest.warns(DroppedRowsWarning, match="dropped 3 units"):
        with pytest.warns(MissingValueWarning, match="dropped 1 of 2,498 rows"):
            res = StaggeredDiD(d, **COLS).fit(n_boot=0)
    assert res.nobs == 497 and res.counts["units_unbalanced"] == 3 and res.counts["rows_missing"] == 1
    assert any("not observed in every period" in f for f in res.summary().footnotes)


def test_not_yet_treated_without_never_treated(mpdta):
    d = mpdta[mpdta["first.treat"] > 0]
    with pytest.warns(DroppedRowsWarning, match="no never-treated units"):
        res = StaggeredDiD(d, **COLS, control_group="not_yet_treated").fit(n_boot=0)
    assert set(res.attgt["group"]) == {2004, 2006} and res.attgt["time"].max() == 2006


def test_never_treated_coded_as_nan_or_after_window(mpdta):
    base = StaggeredDiD(mpdta, **COLS).fit(n_boot=0).params
    d = mpdta.assign(**{"first.treat": mpdta["first.treat"].replace(0, np.nan)})
    pd.testing.assert_series_equal(StaggeredDiD(d, **COLS).fit(n_boot=0).params, base)
    d = mpdta.assign(**{"first.treat": mpdta["first.treat"].replace(0, 2030)})
    res = StaggeredDiD(d, **COLS).fit(n_boot=0)
    pd.testing.assert_series_equal(res.params, base)
    assert res.counts["units_treated_after_window"] == 309


def test_failed_cells_need_na_rm(mpdta):
    d = mpdta.copy()
    d["z"] = (d["first.treat"] == 2004).astype(float)  # perfectly predicts cohort 2004
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # separation: the logit diverges, as R's glm
        with pytest.warns(OverlapWarning, match="overlap condition violated for group 2004"):
            res = StaggeredDiD(d, **COLS, covariates="z", estimator="ipw").fit(n_boot=0)
    assert res.attgt.loc[res.attgt["group"] == 2004, "estimate"].isna().all()
    with pytest.raises(SpecificationError, match="na_rm=True"):
        res.aggregate("dynamic")
    es = res.aggregate("group", na_rm=True)
    assert es.params.index.tolist() == [2006.0, 2007.0]


# ----------------------------------------------------------------------------- Monte Carlo
T_PERIODS = 6
COHORTS = (3, 4, 5)
DELTA = {3: 1.0, 4: 0.6, 5: 0.3}


def _cohort_probabilities(x: np.ndarray) -> np.ndarray:
    """P(never, cohort 3, 4, 5 | x): early adopters have high x."""
    logits = np.column_stack([np.zeros(len(x)), 0.8 * x, 0.4 * x, np.zeros(len(x))])
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _simulate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, float, dict[int, float]]:
    """Staggered adoption with effects that grow with exposure and differ by cohort.

    Early adopters have high ``x``, and ``x`` shifts the trend, so parallel trends hold only
    conditional on ``x``; the effect is ``DELTA[g] * (t - g + 1)`` from ``t = g`` on.  Returns the
    panel, the true simple aggregate (post cells weighted by the population cohort shares) and
    the true event-time effects.
    """
    x = rng.normal(size=n)
    p = _cohort_probabilities(x)
    g = np.array([0, *COHORTS])[(rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)]
    t = np.arange(1, T_PERIODS + 1)
    alpha = rng.normal(size=n) + 0.5 * x
    y0 = alpha[:, None] + 0.3 * t + 0.25 * x[:, None] * t + rng.normal(size=(n, T_PERIODS))
    e = t[None, :] - g[:, None]
    treated = (g[:, None] > 0) & (e >= 0)
    dg = np.array([DELTA.get(int(c), 0.0) for c in g])
    y = y0 + np.where(treated, dg[:, None] * (e + 1), 0.0)
    d = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), T_PERIODS),
            "t": np.tile(t, n),
            "g": np.repeat(g, T_PERIODS),
            "x": np.repeat(x, T_PERIODS),
            "y": y.ravel(),
            "treated_post": treated.ravel().astype(float),
        }
    )
    # population cohort shares E[P(G = c | x)], x ~ N(0, 1), by Gauss-Hermite quadrature
    nodes, wq = np.polynomial.hermite_e.hermegauss(60)
    pop = (_cohort_probabilities(nodes) * (wq / wq.sum())[:, None]).sum(axis=0)
    share = {c: float(pop[i + 1]) for i, c in enumerate(COHORTS)}
    cells = [(c, s) for c in COHORTS for s in t if s >= c]
    w = np.array([share[c] for c, _ in cells])
    simple = float(np.sum(w * np.array([DELTA[c] * (s - c + 1) for c, s in cells])) / w.sum())
    dyn = {}
    for ev in range(2 - max(COHORTS), T_PERIODS - min(COHORTS) + 1):
        cs = [c for c in COHORTS if 2 <= c + ev <= T_PERIODS]  # cells t = 2..T (varying base period)
        wt = np.array([share[c] for c in cs])
        dyn[ev] = float(
            np.sum(wt * np.array([DELTA[c] * (ev + 1) if ev >= 0 else 0.0 for c in cs])) / wt.sum()
        )
    return d, simple, dyn


def _monte_carlo(reps: int, n: int, seed: int, n_boot: int = 0):
    rng = np.random.default_rng(seed)
    rows, band_hits = [], []
    for _ in range(reps):
        d, truth, dyn = _simulate(rng, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = StaggeredDiD(d, outcome="y", unit="unit", time="t", group="g", covariates="x").fit(
                n_boot=n_boot, seed=int(rng.integers(2**31))
            )
            s = res.aggregate("simple")
            tw = twfe_did(d, outcome="y", treatment="treated_post", entity="unit", time="t")
            if n_boot:
                es = res.aggregate("dynamic")
                band = es.conf_int(0.05, band="uniform")
                true = np.array([dyn[int(e)] for e in es.params.index])
                band_hits.append(bool(((band["lower"] <= true) & (true <= band["upper"])).all()))
        rows.append((truth, s.overall_att, s.overall_se, float(tw.params["treated_post"])))
    return np.array(rows), np.array(band_hits)


def _check_monte_carlo(a: np.ndarray) -> None:
    reps = len(a)
    err = a[:, 1] - a[:, 0]
    mcse = err.std(ddof=1) / np.sqrt(reps)
    assert abs(err.mean()) < 3 * mcse + 0.005, (err.mean(), mcse)  # unbiased
    cover = np.mean(np.abs(err) <= 1.96 * a[:, 2])
    half = 3 * np.sqrt(0.95 * 0.05 / reps)
    assert 0.95 - half <= cover <= 0.95 + half, cover  # 95% CI coverage within MC error
    twfe = a[:, 3] - a[:, 0]
    assert abs(twfe.mean()) > 10 * twfe.std(ddof=1) / np.sqrt(reps) + 0.1, twfe.mean()  # TWFE is biased


def test_monte_carlo_cs_unbiased_twfe_biased():
    a, _ = _monte_carlo(reps=100, n=300, seed=20240917)
    _check_monte_carlo(a)


@pytest.mark.slow
def test_monte_carlo_large_with_uniform_bands():
    a, hits = _monte_carlo(reps=1000, n=500, seed=20240918, n_boot=499)
    _check_monte_carlo(a)
    half = 3 * np.sqrt(0.95 * 0.05 / len(hits))
    assert 0.95 - half <= hits.mean() <= 0.95 + half, hits.mean()  # simultaneous coverage of the event study
