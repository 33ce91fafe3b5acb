"""Tests of IPW survival-time treatment effects (weighted Kaplan-Meier, RMST, survival differences)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.duration import KaplanMeier
from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError
from evaltools.selection import PropensityScore
from evaltools.selection.survival import IPWSurvival, IPWSurvivalResults, ipw_survival, rmst

REF = Path(__file__).resolve().parents[1] / "reference" / "selection" / "survival_veteran"
COV = ["karno", "age", "diagtime", "prior10"]
TIMES = [30, 90, 180, 365]


@pytest.fixture(scope="module")
def veteran() -> pd.DataFrame:
    d = pd.read_csv(REF / "veteran.csv")
    d["arm"] = (d["trt"] == 2).astype(int)
    d["prior10"] = (d["prior"] == 10).astype(int)
    d["p_R"] = json.loads((REF / "expected.json").read_text())["pscore"]
    d["half"] = 0.5
    return d


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((REF / "expected.json").read_text())


def _fit(d, **kw):
    base = dict(duration="time", event="status", treatment="arm", n_boot=0, progress=False)
    base.update(kw)
    return ipw_survival(d, **base)


def test_rmst_closed_form():
    assert rmst(np.array([2.0, 5.0]), np.array([0.5, 0.25]), 6.0) == pytest.approx(2 + 1.5 + 0.25)
    assert rmst(np.array([2.0, 5.0]), np.array([0.5, 0.25]), 1.0) == pytest.approx(1.0)
    assert rmst(np.array([2.0, 5.0]), np.array([0.5, 0.25]), 5.0) == pytest.approx(3.5)  # step at tau ignored
    with pytest.raises(SpecificationError):
        rmst(np.array([1.0]), np.array([0.5]), 0.0)


def test_unit_weights_equal_kaplan_meier(veteran):
    """ATT weights with known e = 0.5 are exactly 1: the curves are evaltools' KaplanMeier by arm."""
    r = _fit(veteran, pscore="half", estimand="ATT", tau=300)
    assert (r.weights == 1.0).all()
    km = KaplanMeier(veteran, duration="time", event="status", group="arm").fit().survival_function
    for arm, code in (("treated", 1), ("control", 0)):
        mine = r.curves.query("arm == @arm")
        ref = km[km["arm"] == code]
        np.testing.assert_array_equal(mine["time"].to_numpy(), ref["time"].to_numpy())
        np.testing.assert_array_equal(mine["survival"].to_numpy(), ref["survival"].to_numpy())
        np.testing.assert_array_equal(mine["n_risk"].to_numpy(), ref["n_risk"].to_numpy())
        assert r.params[f"rmst_{arm}"] == rmst(ref["time"].to_numpy(), ref["survival"].to_numpy(), 300)
    # ATE weights with e = 0.5 are all 2: identical curves (weights are scale-free within an arm)
    r2 = _fit(veteran, pscore="half", estimand="ATE", tau=300)
    np.testing.assert_allclose(r2.params.to_numpy(), r.params.to_numpy(), rtol=1e-13)


@pytest.mark.parametrize("estimand", ["ATE", "ATT", "unweighted"])
def test_weighted_curves_and_rmst_match_r(veteran, expected, estimand):
    """Closed form against R survfit(weights=) with the same (glm) weights: rtol 1e-8."""
    exp = expected[estimand]
    kw = (
        dict(pscore="half", estimand="ATT")
        if estimand == "unweighted"
        else dict(pscore="p_R", estimand=estimand)
    )
    np.testing.assert_allclose(_fit(veteran, tau=200, **kw).weights.to_numpy(), exp["weights"], rtol=1e-13)
    strata = np.array(exp["strata"])
    for tau in (200, 400):
        r = _fit(veteran, tau=tau, times=TIMES, **kw)
        e = exp[f"tau_{tau}"]
        for arm, code in (("treated", "1"), ("control", "0")):
            c = r.curves.query("arm == @arm")
            sel = strata == code
            np.testing.assert_allclose(c["time"].to_numpy(), np.array(exp["time"])[sel], rtol=0)
            np.testing.assert_allclose(c["n_risk"].to_numpy(), np.array(exp["n_risk"])[sel], rtol=1e-8)
            np.testing.assert_allclose(c["n_event"].to_numpy(), np.array(exp["n_event"])[sel], rtol=1e-8)
            np.testing.assert_allclose(c["survival"].to_numpy(), np.array(exp["surv"])[sel], rtol=1e-8)
            np.testing.assert_allclose(r.params[f"rmst_{arm}"], e[f"rmst_{arm}"], rtol=1e-8)
            np.testing.assert_allclose(
                [r.params[f"surv_{arm}[{t}]"] for t in TIMES], exp[f"surv_{arm}_at"], rtol=1e-8
            )
        np.testing.assert_allclose(r.params["rmst_diff"], e["rmst_diff"], rtol=1e-8)
        # survival's own restricted mean (print(fit, rmean = tau)) agrees with the manual integral
        np.testing.assert_allclose([e["rmst_control"], e["rmst_treated"]], e["survfit_rmean"], rtol=1e-12)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_full_pipeline_matches_r(veteran, expected, estimand):
    """Propensity by statsmodels vs glm: rtol 1e-6 on the scores (different Newton stopping rules), so the
    curves and RMST agree to about the same relative precision."""
    r = _fit(veteran, covariates=COV, estimand=estimand, tau=200, times=TIMES)
    np.testing.assert_allclose(r.pscore.to_numpy(), expected["pscore"], rtol=1e-6)
    np.testing.assert_allclose(r.weights.to_numpy(), expected[estimand]["weights"], rtol=1e-6)
    e = expected[estimand]["tau_200"]
    np.testing.assert_allclose(
        r.params[["rmst_treated", "rmst_control", "rmst_diff"]].to_numpy(),
        [e["rmst_treated"], e["rmst_control"], e["rmst_diff"]],
        rtol=1e-6,
    )
    ps = PropensityScore(veteran, treatment="arm", covariates=COV).fit()
    r2 = _fit(veteran, pscore=ps, estimand=estimand, tau=200, times=TIMES)
    np.testing.assert_allclose(r2.params.to_numpy(), r.params.to_numpy(), rtol=1e-12)


def test_bootstrap_seeded_and_clustered(veteran):
    kw = dict(covariates=COV, tau=200, times=[90], n_boot=30)
    a = _fit(veteran, seed=5, **kw)
    b = _fit(veteran, seed=5, **kw)
    np.testing.assert_array_equal(a.bse.to_numpy(), b.bse.to_numpy())
    assert a.counts["n_boot_used"] == 30 and a.bootstrap.shape == (30, 6)
    assert np.all(a.bse > 0)
    # each person twice, resampled by person: exactly the replications of the one-row-per-person data
    dup = pd.concat([veteran.assign(pid=range(len(veteran)))] * 2, ignore_index=True)
    c = _fit(dup, seed=5, cluster="pid", **kw)
    np.testing.assert_allclose(c.params.to_numpy(), a.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(c.bse.to_numpy(), a.bse.to_numpy(), rtol=1e-8)
    # resampling rows of the duplicated data understates the SE by about 1/sqrt(2)
    d = _fit(dup, seed=5, **kw)
    assert d.bse["rmst_diff"] < 0.85 * c.bse["rmst_diff"]
    # bootstrap pointwise limits bracket the curve
    cur = a.curves.dropna(subset=["lower"])
    assert (
        len(cur) > 0 and (cur["lower"] <= cur["survival"]).all() and (cur["survival"] <= cur["upper"]).all()
    )


def test_trimming_counts_and_results_object(veteran):
    before = veteran.copy()
    with pytest.warns(DroppedRowsWarning):
        r = _fit(veteran, covariates=COV, trim=0.4, tau=150)
    pd.testing.assert_frame_equal(veteran, before)  # input not modified
    n_trim = r.counts["trimmed_treated"] + r.counts["trimmed_control"]
    assert n_trim > 0 and r.counts["used"] == len(veteran) - n_trim == r.nobs
    assert r.weights.isna().sum() == n_trim
    text = str(r.summary())
    assert "Effective sample sizes" in text and "Trimmed" in text and "No standard errors" in text
    assert isinstance(r, IPWSurvivalResults)
    with pytest.raises(AttributeError):
        r.tau = 3
    import matplotlib

    matplotlib.use("Agg")
    ax = r.plot(time_unit="days")
    assert ax.get_xlabel() == "time (days)" and len(ax.lines) >= 3 and ax.get_title()
    sa = r.survival_at([0, 50, 10_000])
    assert sa.loc[0.0, "treated"] == 1.0 and np.isnan(sa.loc[10_000.0, "control"])


def test_validation(veteran):
    with pytest.raises(SpecificationError, match="exactly one"):
        IPWSurvival(veteran, duration="time", event="status", treatment="arm")
    with pytest.raises(SpecificationError, match="exactly one"):
        IPWSurvival(veteran, duration="time", event="status", treatment="arm", covariates=COV, pscore="p_R")
    bad = veteran.assign(time=veteran["time"].where(veteran.index != 3, np.nan))
    with pytest.raises(DataValidationError, match="missing"):
        IPWSurvival(bad, duration="time", event="status", treatment="arm", covariates=COV)
    with pytest.raises(DataValidationError, match="non-positive"):
        IPWSurvival(veteran.assign(time=0), duration="time", event="status", treatment="arm", covariates=COV)
    with pytest.raises(DataValidationError, match="0/1"):
        IPWSurvival(
            veteran.assign(status=2), duration="time", event="status", treatment="arm", covariates=COV
        )
    with pytest.raises(DataValidationError, match="outside"):
        IPWSurvival(veteran.assign(q=1.0), duration="time", event="status", treatment="arm", pscore="q")
    m = IPWSurvival(veteran, duration="time", event="status", treatment="arm", covariates=COV)
    with pytest.raises(SpecificationError, match="tau"):
        m.fit(tau=5000, n_boot=0)
    with pytest.raises(SpecificationError, match="n_boot"):
        m.fit(n_boot=1)
    with pytest.raises(ValueError):
        IPWSurvival(veteran, duration="time", event="status", treatment="arm", covariates=COV, estimand="ATC")
    ps = PropensityScore(veteran.iloc[:100], treatment="arm", covariates=COV).fit()
    with pytest.raises(DataValidationError, match="different index"):
        IPWSurvival(veteran, duration="time", event="status", treatment="arm", pscore=ps)


# -- Monte Carlo with known truth -----------------------------------------------------------------------
# X ~ Bernoulli(0.5); P(T=1|X) = expit(-0.5 + 1.2 X); exit hazard 0.05 exp(0.8 X + BETA T) (exponential);
# independent exponential censoring (rate 0.02) and administrative censoring at 60.  The true RMST of arm t
# to tau is E_X[(1 - exp(-lam(X, t) tau)) / lam(X, t)] over the target population (closed form).
BETA, TAU = -0.5, 40.0


def _truth(estimand: str) -> float:
    e = 1 / (1 + np.exp(-np.array([-0.5, 0.7])))
    px = np.array([0.5, 0.5]) if estimand == "ATE" else 0.5 * e / (0.5 * e).sum()
    out = []
    for t in (1, 0):
        lam = 0.05 * np.exp(0.8 * np.array([0, 1]) + BETA * t)
        out.append(float(px @ ((1 - np.exp(-lam * TAU)) / lam)))
    return out[0] - out[1]


def _draw(rng: np.random.Generator, n: int) -> pd.DataFrame:
    x = rng.integers(0, 2, n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.2 * x)))).astype(int)
    dur = rng.exponential(1 / (0.05 * np.exp(0.8 * x + BETA * t)))
    cens = np.minimum(rng.exponential(1 / 0.02, n), 60.0)
    return pd.DataFrame({"x": x, "t": t, "weeks": np.minimum(dur, cens), "exit": (dur <= cens).astype(int)})


def _mc(n_rep: int, n: int, n_boot: int, estimand: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = _truth(estimand)
    rows = []
    for i in range(n_rep):
        d = _draw(rng, n)
        r = ipw_survival(
            d,
            duration="weeks",
            event="exit",
            treatment="t",
            covariates=["x"],
            estimand=estimand,
            tau=TAU,
            n_boot=n_boot,
            seed=i,
            progress=False,
        )
        lo, hi = r.conf_int().loc["rmst_diff"]
        rows.append(dict(est=r.params["rmst_diff"], se=r.bse["rmst_diff"], cover=lo <= truth <= hi))
    out = pd.DataFrame(rows)
    out.attrs["truth"] = truth
    return out


def test_truth_by_large_simulation():
    """The closed-form truth agrees with a 400k-person simulation of both potential outcomes."""
    rng = np.random.default_rng(0)
    n = 400_000
    x = rng.integers(0, 2, n)
    lam = 0.05 * np.exp(0.8 * x)
    y1 = np.minimum(rng.exponential(1 / (lam * np.exp(BETA))), TAU)
    y0 = np.minimum(rng.exponential(1 / lam), TAU)
    assert abs((y1 - y0).mean() - _truth("ATE")) < 0.15  # MC SE about 0.04
    assert _truth("ATE") > 3  # a clear effect: exit is slower under treatment


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_monte_carlo_fast(estimand):
    d = _mc(60, 600, 50, estimand, seed=7 if estimand == "ATE" else 8)
    truth = d.attrs["truth"]
    err = d["est"].mean() - truth
    mc_se = d["est"].std() / np.sqrt(len(d))
    assert abs(err) < 3 * mc_se, (err, mc_se)
    # bootstrap SE tracks the sampling SD (60 replications: +-25% is a loose, non-flaky band)
    assert 0.75 < d["se"].mean() / d["est"].std() < 1.33, (d["se"].mean(), d["est"].std())
    assert d["cover"].mean() >= 0.85, d["cover"].mean()


@pytest.mark.slow
def test_monte_carlo_slow():
    for estimand in ("ATE", "ATT"):
        d = _mc(500, 1000, 200, estimand, seed=11)
        truth = d.attrs["truth"]
        assert abs(d["est"].mean() - truth) < 3 * d["est"].std() / np.sqrt(len(d))
        assert 0.93 <= d["cover"].mean() <= 0.97, (estimand, d["cover"].mean())
