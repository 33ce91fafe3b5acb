"""Kaplan-Meier, Nelson-Aalen, Aalen-Johansen vs R survival 3.5-3 (tests/reference/duration/km_*, aj_*)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.duration.nonparametric import AalenJohansen, KaplanMeier, NelsonAalen
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

REF = Path(__file__).resolve().parents[1] / "reference" / "duration"
RTOL = 1e-8  # closed-form estimators; R values are stored with 15 significant digits


def _arr(values: list) -> np.ndarray:
    return np.array([np.nan if v == "NA" else v for v in np.atleast_1d(values)], dtype=float)


def _expected(case: str) -> dict:
    return json.loads((REF / case / "expected.json").read_text())


def _close(ours: np.ndarray, ref: list, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(np.asarray(ours, float), _arr(ref), rtol=rtol, atol=1e-14, equal_nan=True)


def _rows(table: pd.DataFrame, exp: dict, group_col: str | None) -> pd.DataFrame:
    """Our rows in R's order (R lists each group's distinct times)."""
    key = pd.DataFrame({"time": _arr(exp["time"])})
    on = ["time"]
    if group_col is not None:
        key[group_col] = [str(s) for s in exp["strata"]]
        table = table.assign(**{group_col: table[group_col].astype(str)})
        on = [group_col, "time"]
    out = key.merge(table, on=on, how="left", validate="one_to_one")
    assert not out["n_risk"].isna().any()
    return out


@pytest.fixture(scope="module")
def aml() -> pd.DataFrame:
    return pd.read_csv(REF / "km_aml" / "aml.csv")


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    return pd.read_csv(REF / "km_heart_entry" / "heart.csv")


@pytest.fixture(scope="module")
def mgus2() -> pd.DataFrame:
    d = pd.read_csv(REF / "aj_mgus2" / "mgus2.csv")
    d["etime"] = np.where(d["pstat"] == 0, d["futime"], d["ptime"])
    d["cause"] = np.where(d["pstat"] == 0, np.where(d["death"] == 1, "death", "censor"), "pcm")
    d["entry"] = d["age"] * 12.0
    d["exit"] = d["entry"] + d["etime"]
    return d


# -- Kaplan-Meier --------------------------------------------------------------------------------
@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_km_aml_tied_times_by_group(aml: pd.DataFrame, conf_type: str) -> None:
    exp = _expected("km_aml")[conf_type]
    res = KaplanMeier(aml, duration="time", event="status", group="x").fit(conf_type=conf_type)
    got = _rows(res.survival_function, exp, "x")
    for ours, ref in [
        ("n_risk", "n_risk"),
        ("n_event", "n_event"),
        ("n_censor", "n_censor"),
        ("survival", "surv"),
        ("std_err", "std_err_surv"),
        ("lower", "lower"),
        ("upper", "upper"),
    ]:
        _close(got[ours], exp[ref])
    med = res.median_survival()
    _close(med["median"], exp["median"])
    _close(med["lower"], exp["median_lcl"])
    _close(med["upper"], exp["median_ucl"])


def test_km_aml_pooled_median_and_lookup(aml: pd.DataFrame) -> None:
    exp = _expected("km_aml")["pooled"]
    res = KaplanMeier(aml, duration="time", event="status").fit()
    got = _rows(res.survival_function, exp, None)
    _close(got["survival"], exp["surv"])
    _close(got["lower"], exp["lower"])
    _close(res.median_survival()["median"], [exp["median"]])
    _close(res.survival_at([0, 10, 30, 100])["survival"], exp["surv_at"])
    assert np.isnan(res.survival_at([500.0])["survival"].iloc[0])


@pytest.mark.parametrize("which,group", [("by_transplant", "transplant"), ("pooled", None)])
def test_km_delayed_entry_heart(heart: pd.DataFrame, which: str, group: str | None) -> None:
    exp = _expected("km_heart_entry")[which]
    conf = "log-log" if group else "log"
    res = KaplanMeier(heart, stop="stop", entry="start", event="event", group=group).fit(conf_type=conf)
    got = _rows(res.survival_function, exp, group)
    for ours, ref in [
        ("n_risk", "n_risk"),
        ("n_event", "n_event"),
        ("survival", "surv"),
        ("std_err", "std_err_surv"),
        ("lower", "lower"),
        ("upper", "upper"),
    ]:
        _close(got[ours], exp[ref])
    med = res.median_survival()
    _close(med["median"], exp["median"])
    _close(med["lower"], exp["median_lcl"])
    _close(med["upper"], exp["median_ucl"])
    assert "Delayed entry" in str(res)


@pytest.mark.parametrize(
    "case,which,group", [("km_aml", "log", "x"), ("km_heart_entry", "by_transplant", "transplant")]
)
def test_nelson_aalen_matches_survfit_ctype1(
    aml: pd.DataFrame, heart: pd.DataFrame, case: str, which: str, group: str
) -> None:
    exp = _expected(case)[which]
    if case == "km_aml":
        res = NelsonAalen(aml, duration="time", event="status", group=group).fit()
    else:
        res = NelsonAalen(heart, stop="stop", entry="start", event="event", group=group).fit()
    got = _rows(res.cumulative_hazard, exp, group)
    _close(got["cumulative_hazard"], exp["cumhaz"])
    _close(got["std_err"], exp["std_chaz"])
    h = got["cumulative_hazard"].to_numpy()
    ok = h > 0
    np.testing.assert_allclose(
        got["lower"][ok], h[ok] * np.exp(-1.959963984540054 * got["std_err"][ok] / h[ok])
    )


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_km_censoring_before_first_event_limits(conf_type: str) -> None:
    exp = _expected("km_aml")["censored_first"][conf_type]
    d = pd.DataFrame({"t": [1, 2, 3, 4, 5], "e": [0, 1, 0, 1, 0]})
    sf = KaplanMeier(d, duration="t", event="e").fit(conf_type=conf_type).survival_function
    _close(sf["time"], exp["time"])
    _close(sf["survival"], exp["surv"])
    _close(sf["lower"], exp["lower"])
    _close(sf["upper"], exp["upper"])


def test_km_greenwood_by_hand() -> None:
    d = pd.DataFrame({"t": [3, 5, 5, 8, 12], "e": [1, 1, 0, 1, 0]})
    sf = KaplanMeier(d, duration="t", event="e").fit(conf_type="plain").survival_function
    # S(3)=4/5, S(5)=4/5*3/4, S(8)=0.6*1/2
    np.testing.assert_allclose(sf["survival"], [0.8, 0.6, 0.3, 0.3])
    gw = np.sqrt(1 / (5 * 4) + 1 / (4 * 3) + 1 / (2 * 1))
    np.testing.assert_allclose(sf["std_err"].iloc[2], 0.3 * gw)
    np.testing.assert_allclose(sf["n_risk"], [5, 4, 2, 1])


def test_km_and_na_case_weights_match_survfit(aml: pd.DataFrame) -> None:
    exp = _expected("km_aml")["weighted"]
    d = aml.assign(w=np.resize([1, 2, 3], len(aml)))
    km = KaplanMeier(d, duration="time", event="status", group="x", weights="w").fit(conf_type="log-log")
    got = _rows(km.survival_function, exp, "x")
    for ours, ref in [
        ("n_risk", "n_risk"),
        ("n_event", "n_event"),
        ("survival", "surv"),
        ("std_err", "std_err_surv"),
        ("lower", "lower"),
        ("upper", "upper"),
    ]:
        _close(got[ours], exp[ref])
    na = _rows(
        NelsonAalen(d, duration="time", event="status", group="x", weights="w").fit().cumulative_hazard,
        exp,
        "x",
    )
    _close(na["cumulative_hazard"], exp["cumhaz"])
    _close(na["std_err"], exp["std_chaz"])
    assert "Case weights from column 'w'" in str(km)


def test_integer_weights_equal_replicated_rows(aml: pd.DataFrame) -> None:
    w = np.resize([1, 2, 3], len(aml))
    weighted = KaplanMeier(aml.assign(w=w), duration="time", event="status", weights="w").fit()
    rep = KaplanMeier(aml.loc[aml.index.repeat(w)], duration="time", event="status").fit()
    pd.testing.assert_frame_equal(weighted.survival_function, rep.survival_function)


def test_at_risk_table_counts_delayed_entry(heart: pd.DataFrame) -> None:
    res = KaplanMeier(heart, stop="stop", entry="start", event="event", group="transplant").fit()
    times = [1.0, 50.0, 200.0]
    tab = res.at_risk_table(times)
    for g in (0, 1):
        sub = heart[heart["transplant"] == g]
        want = [((sub["start"] < t) & (t <= sub["stop"])).sum() for t in times]
        np.testing.assert_array_equal(tab.loc[g].to_numpy(), want)


def test_km_does_not_mutate_and_is_read_only(aml: pd.DataFrame) -> None:
    before = aml.copy()
    res = KaplanMeier(aml, duration="time", event="status").fit()
    pd.testing.assert_frame_equal(aml, before)
    with pytest.raises(AttributeError):
        res.conf_type = "log"
    copy = res.survival_function
    copy.loc[0, "survival"] = -1.0
    assert res.survival_function["survival"].iloc[0] > 0


def test_plots_return_axes(aml: pd.DataFrame, mgus2: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    km = KaplanMeier(aml, duration="time", event="status", group="x").fit()
    ax = km.plot(at_risk=True)
    assert ax.get_ylabel() == "Survival probability" and len(ax.get_lines()) == 2
    ax2 = NelsonAalen(aml, duration="time", event="status").fit().plot()
    ax3 = AalenJohansen(mgus2, duration="etime", event="cause", censored="censor").fit().plot(ci=False)
    assert len(ax3.get_lines()) == 2
    assert ax2 is not ax
    html = km._repr_html_()
    assert "Greenwood" in html
    plt.close("all")


# -- Aalen-Johansen -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["aj_mgus2", "aj_mgus2_age"])
@pytest.mark.parametrize("which", ["by_sex", "pooled"])
def test_aalen_johansen_matches_survfit_multistate(mgus2: pd.DataFrame, case: str, which: str) -> None:
    exp = _expected(case)[which]
    group = "sex" if which == "by_sex" else None
    kw = {"stop": "exit", "entry": "entry"} if case.endswith("_age") else {"duration": "etime"}
    res = AalenJohansen(mgus2, event="cause", censored="censor", group=group, **kw).fit(conf_type="log")
    assert res.causes == ["death", "pcm"]
    free = _rows(res.event_free, exp, group)
    _close(free["n_risk"], exp["n_risk"])
    _close(free["survival"], exp["surv"])
    _close(free["std_err"], exp["se_surv"], rtol=1e-8)
    _close(free["n_censor"], exp["n_censor"])
    cif = res.cumulative_incidence
    for cause in ("pcm", "death"):
        got = _rows(cif[cif["cause"] == cause], exp, group)
        _close(got["n_event"], exp[f"n_event_{cause}"])
        _close(got["cif"], exp[f"cif_{cause}"])
        # IJ variance from range sums; delayed entry loses ~3 digits to cancellation in tiny risk sets
        _close(got["std_err"], exp[f"se_{cause}"], rtol=1e-8 if case == "aj_mgus2" else 1e-7)
        if cause == "pcm":
            _close(got["lower"], exp["lower_pcm"], rtol=1e-7)
            _close(got["upper"], exp["upper_pcm"], rtol=1e-7)


def test_aj_single_cause_equals_one_minus_km(aml: pd.DataFrame) -> None:
    aj = AalenJohansen(aml, duration="time", event="status").fit()
    km = KaplanMeier(aml, duration="time", event="status").fit()
    cif = aj.cumulative_incidence
    np.testing.assert_allclose(cif["cif"], 1 - km.survival_function["survival"], rtol=1e-12)
    # without delayed entry the IJ standard error equals Greenwood's
    np.testing.assert_allclose(cif["std_err"], km.survival_function["std_err"], rtol=1e-10)


def test_aj_ij_variance_equals_numerical_weight_derivative(mgus2: pd.DataFrame) -> None:
    from evaltools.duration import _nonparametric_core as core

    d = mgus2.iloc[:120]
    codes = d["cause"].map({"censor": 0, "death": 1, "pcm": 2}).to_numpy()
    e, s = d["entry"].to_numpy(), d["exit"].to_numpy()
    w = np.ones(len(d))
    tab = core.risk_table(e, s, codes, w, 2)
    _, se_s, cif, se_c = core.aalen_johansen(tab, codes, w)
    eps = 1e-6
    grads = []
    for i in range(len(d)):
        wp = w.copy()
        wp[i] += eps
        _, _, cif_p, _ = core.aalen_johansen(core.risk_table(e, s, codes, wp, 2), codes, wp)
        grads.append((cif_p - cif) / eps)
    num = np.sqrt((np.array(grads) ** 2).sum(axis=0))
    ok = np.isfinite(se_c)
    np.testing.assert_allclose(se_c[ok], num[ok], rtol=1e-4, atol=1e-7)


def test_aj_cif_at_and_summary(mgus2: pd.DataFrame) -> None:
    res = AalenJohansen(mgus2, duration="etime", event="cause", censored="censor", group="sex").fit()
    at = res.cif_at([0, 60, 120])
    assert at.loc[0.0].eq(0).all()
    assert at[("F", "pcm")].is_monotonic_increasing
    text = str(res.summary())
    assert "infinitesimal-jackknife" in text and "No rows dropped" in text


# -- bad input ------------------------------------------------------------------------------------
def test_zero_or_negative_intervals_raise(heart: pd.DataFrame) -> None:
    bad = heart.copy()
    bad.loc[3, "stop"] = bad.loc[3, "start"]
    with pytest.raises(DataValidationError, match=r"zero or negative length intervals\); 1 of 172 rows"):
        KaplanMeier(bad, stop="stop", entry="start", event="event")
    with pytest.raises(DataValidationError, match="must be positive"):
        KaplanMeier(pd.DataFrame({"duration": [0.0, 2.0], "event": [1, 0]}))


def test_non_binary_event_raises(aml: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="must be binary.*AalenJohansen"):
        KaplanMeier(aml.assign(status=aml["status"] * 2), duration="time", event="status")


def test_bad_options_and_columns(aml: pd.DataFrame) -> None:
    km = KaplanMeier(aml, duration="time", event="status")
    with pytest.raises(
        SpecificationError, match=r"The 'conf_type' parameter of KaplanMeier.fit must be a str"
    ):
        km.fit(conf_type="loglog")
    with pytest.raises(SpecificationError, match="'alpha'"):
        km.fit(alpha=1.5)
    with pytest.raises(DataValidationError, match=r"\['tme'\]"):
        KaplanMeier(aml, duration="tme", event="status")
    with pytest.raises(DataValidationError, match="weights must be positive"):
        KaplanMeier(aml.assign(w=0.0), duration="time", event="status", weights="w")


def test_missing_values_dropped_with_warning_and_counted(aml: pd.DataFrame) -> None:
    d = aml.copy()
    d.loc[[0, 5], "time"] = np.nan
    with pytest.warns(MissingValueWarning, match="dropped 2 of 23 rows"):
        res = KaplanMeier(d, duration="time", event="status").fit()
    assert res.n_dropped == 2
    assert "2 rows dropped for missing values" in str(res)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KaplanMeier(aml, duration="time", event="status").fit()


def test_large_input_is_fast() -> None:
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    entry = rng.integers(0, 20, n).astype(float)
    d = pd.DataFrame(
        {"entry": entry, "stop": entry + rng.integers(1, 105, n), "cause": rng.integers(0, 3, n)}
    )
    t0 = time.perf_counter()
    AalenJohansen(d, stop="stop", entry="entry", event="cause").fit()
    KaplanMeier(d.assign(ev=(d["cause"] > 0).astype(int)), stop="stop", entry="entry", event="ev").fit()
    assert time.perf_counter() - t0 < 10.0  # ~1 s on one core; generous for shared CI machines


def test_median_not_reached_is_said_in_words() -> None:
    d = pd.DataFrame({"weeks": [3, 5, 5, 8, 12, 2, 4, 9, 20, 26], "exit": [1, 1, 0, 1, 0, 1, 0, 0, 0, 0],
                      "group": list("aaaaabbbbb")})
    res = KaplanMeier(d, duration="weeks", event="exit", group="group").fit()
    assert np.isnan(res.median_survival().loc["b", "median"])  # the numeric table keeps NaN
    tab = res.summary().tables[0]
    assert tab.loc["b", "median"] == "not reached" and tab.loc["a", "median"] == 8.0
    text = str(res.summary())
    assert "not reached" in text and "stays above 0.5" in text
