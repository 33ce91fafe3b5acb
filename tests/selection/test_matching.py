from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.datasets.nsw import load
from evaltools.exceptions import DataValidationError, OverlapWarning, SpecificationError
from evaltools.selection import _matching_core as core
from evaltools.selection.matching import Matching, MatchingResults

REF = Path(__file__).resolve().parents[1] / "reference" / "selection"
X = ["age", "educ", "black", "hisp", "marr", "re74", "re75", "u74", "u75"]


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    d = load()
    return d.assign(u74=(d.re74 == 0) * 1, u75=(d.re75 == 0) * 1, y=d.re78 / 1000)


@pytest.fixture(scope="module")
def nsw_cps() -> pd.DataFrame:
    d = load("cps")
    ps = pd.read_csv(REF / "nsw_cps_psm" / "pscore.csv")["pscore"].to_numpy()
    return d.assign(u74=(d.re74 == 0) * 1, u75=(d.re75 == 0) * 1, ps_r=ps)


AI = json.loads((REF / "nsw_ai_matching" / "expected.json").read_text())
AI_CASES = sorted(k for k in AI if k != "meta")


def _fit(data, v, **extra):
    kw = dict(
        n_neighbors=v["M"],
        estimand=v["estimand"],
        bias_adjust=v["BiasAdjust"],
        distance="inverse_variance" if v["Weight"] == 1 else "mahalanobis",
    )
    if v["caliper"] is not None:
        kw["caliper"] = v["caliper"]
    kw.update(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        return Matching(data, outcome="y", treatment="treat", covariates=X, **kw).fit(
            variance_neighbors=v["Var_calc"]
        )


def test_anchor_a5_values(nsw):
    # Stata nnmatch / R Matching published values (anchor A5): 1.995, 1.838, 1.796
    got = [
        round(_fit(nsw, AI[f"{c}_vc4"]).estimate, 3)
        for c in ("att_m4_w1", "att_m4_w1_bias", "att_m4_w2_bias")
    ]
    assert got == [1.995, 1.838, 1.796]


@pytest.mark.parametrize("case", [c for c in AI_CASES if "caliper" not in c])
def test_ai_matching_against_r(nsw, case):
    v = AI[case]
    r = _fit(nsw, v)
    # closed-form given the matches: estimate and SE to rtol 1e-8
    np.testing.assert_allclose(r.estimate, v["est"], rtol=1e-8)
    np.testing.assert_allclose(r.bse.iloc[0], v["se"], rtol=1e-8)
    assert r.n_pairs == v["n_pairs"]
    assert r.n_matched == v["wnobs"]
    assert r.n_unmatched == v["ndrops"] == 0


# vc4 with a caliper is excluded: R sets the conditional variance of a unit to 0 when fewer than
# Var.calc same-group units lie within the caliper, evaltools uses the neighbours that exist (PROVENANCE.md)
@pytest.mark.parametrize("case", [c for c in AI_CASES if "caliper" in c and not c.endswith("vc4")])
def test_ai_matching_caliper_against_r(nsw, case):
    v = AI[case]
    r = _fit(nsw, v)
    np.testing.assert_allclose(r.estimate, v["est"], rtol=1e-8)
    assert r.n_unmatched == v["ndrops"]
    assert r.n_matched == v["wnobs"]
    assert r.n_pairs == v["n_pairs"]
    # R divides by all treated and adds est^2 for each dropped treated unit (see PROVENANCE.md);
    # our variance uses matched units only.  Reconstruct R's number from ours.
    n1, nm, nd = r.n_treated, r.n_matched, r.n_unmatched
    var_r = (r.bse.iloc[0] ** 2 * nm**2 + nd * r.estimate**2) / n1**2
    np.testing.assert_allclose(np.sqrt(var_r), v["se"], rtol=1e-8)


PSM = json.loads((REF / "nsw_cps_psm" / "expected.json").read_text())


@pytest.mark.parametrize(
    "case",
    ["att_m1_vc0", "att_m4_vc0", "att_m1_vc1", "att_m4_vc1", "att_m1_caliper_vc0", "att_m1_caliper_vc1"],
)
def test_pscore_matching_against_r(nsw_cps, case):
    v = PSM[case]
    kw = {} if v["caliper"] is None else {"caliper": v["caliper"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        r = Matching(
            nsw_cps,
            outcome="re78",
            treatment="treat",
            covariates=[],
            distance="pscore",
            pscore="ps_r",
            n_neighbors=v["M"],
            **kw,
        ).fit(variance_neighbors=v["Var_calc"])
    np.testing.assert_allclose(r.estimate, v["est"], rtol=1e-8)
    assert r.n_pairs == v["n_pairs"]
    assert r.n_unique_matches == v["n_unique_controls"]
    assert r.n_unmatched == v["ndrops"]
    if v["caliper"] is None:
        np.testing.assert_allclose(r.bse.iloc[0], v["se"], rtol=1e-8)
    else:  # R's caliper variance convention, see test_ai_matching_caliper_against_r
        var_r = (r.bse.iloc[0] ** 2 * r.n_matched**2 + r.n_unmatched * r.estimate**2) / r.n_treated**2
        np.testing.assert_allclose(np.sqrt(var_r), v["se"], rtol=1e-8)


def test_pscore_matching_with_own_logit_matches_r(nsw_cps):
    from evaltools.selection.propensity import PropensityScore

    f = (
        "treat ~ age + I(age**2) + I(age**3) + educ + I(educ**2) + marr + nodegree + black + hisp + re74"
        " + re75 + u74 + u75 + I(educ*re74)"
    )
    ps = PropensityScore.from_formula(f, nsw_cps).fit()
    r = Matching(
        nsw_cps, outcome="re78", treatment="treat", covariates=[], distance="pscore", pscore=ps
    ).fit()
    np.testing.assert_allclose(r.estimate, PSM["att_m1_vc0"]["est"], rtol=1e-8)
    assert "propensity score" in str(r.summary())


def test_results_read_only_summary_and_matches(nsw):
    before = nsw.copy()
    r = Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=4, bias_adjust=True).fit()
    pd.testing.assert_frame_equal(nsw, before)
    assert isinstance(r, MatchingResults)
    with pytest.raises(AttributeError):
        r.estimate = 0
    text = str(r.summary())
    assert "Estimand: ATT" in text and "4-nearest-neighbour" in text and "bias adjustment" in text
    m = r.matches
    assert list(m.columns) == ["unit", "match", "weight", "effect"]
    np.testing.assert_allclose(m.groupby("unit")["weight"].sum(), 1.0)
    # unit effects average to the estimate
    np.testing.assert_allclose(r.unit_effects.mean(), r.estimate, rtol=1e-12)
    lo, hi = r.conf_int().iloc[0]
    assert lo < r.estimate < hi


def test_balance_improves(nsw):
    r = Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=1).fit()
    b = r.balance()
    t = b.table
    assert t["smd_after"].abs().mean() < t["smd_before"].abs().mean()
    assert b.adjusted


def test_without_replacement_uses_each_control_once(nsw):
    r = Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=1, replace=False).fit()
    m = r.matches
    assert m["match"].is_unique
    assert len(m) == 185 and r.n_unmatched == 0
    assert "without replacement" in str(r.summary())
    # more treated than available controls: ATC without replacement with 2 neighbours runs out
    with pytest.warns(OverlapWarning, match="found no match"):
        r2 = Matching(
            nsw, outcome="y", treatment="treat", covariates=X, estimand="ATC", n_neighbors=2, replace=False
        ).fit()
    assert r2.n_unmatched == 260 - 185 // 2 - (185 % 2)
    assert r2.matches["match"].is_unique


def test_greedy_picks_nearest_available():
    zq = np.array([[0.0], [0.1]])
    zp = np.array([[0.05], [1.0], [-2.0]])
    q, p = core.greedy_without_replacement(zq, zp, 1, np.array([0, 1]))
    assert q.tolist() == [0, 1] and p.tolist() == [0, 1]


def test_ties_false_gives_exactly_k(nsw):
    r = Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=2, ties=False).fit()
    assert (r.matches.groupby("unit").size() == 2).all()


def test_exact_matching_within_cells(nsw):
    r = Matching(
        nsw,
        outcome="y",
        treatment="treat",
        covariates=["age", "educ", "re75"],
        exact=["black", "marr"],
        n_neighbors=2,
    ).fit()
    m = r.matches
    for col in ("black", "marr"):
        assert (nsw.loc[m["unit"], col].to_numpy() == nsw.loc[m["match"], col].to_numpy()).all()
    assert "Exact matching on ['black', 'marr']" in str(r.summary())


def test_radius_and_kernel(nsw_cps):
    with pytest.warns(OverlapWarning, match="48 of 185 units"):
        r = Matching(
            nsw_cps,
            outcome="re78",
            treatment="treat",
            covariates=[],
            distance="pscore",
            pscore="ps_r",
            method="radius",
            caliper=0.05,
        ).fit()
    m = r.matches
    z = (nsw_cps["ps_r"] - nsw_cps["ps_r"].mean()) / nsw_cps["ps_r"].std()
    assert (np.abs(z.loc[m["unit"]].to_numpy() - z.loc[m["match"]].to_numpy()) <= 0.05 + 1e-12).all()
    np.testing.assert_allclose(m.groupby("unit")["weight"].sum(), 1.0)
    with pytest.warns(OverlapWarning, match="found no match"):
        k = Matching(
            nsw_cps,
            outcome="re78",
            treatment="treat",
            covariates=[],
            distance="pscore",
            pscore="ps_r",
            method="kernel",
            bandwidth=0.05,
        ).fit()
    mk = k.matches
    assert (mk["weight"] > 0).all()
    assert k.n_unmatched == r.n_unmatched  # same support: |z| <= 0.05 either way
    np.testing.assert_allclose(mk.groupby("unit")["weight"].sum(), 1.0)
    assert np.isfinite(k.bse.iloc[0]) and "kernel" in str(k.summary())


def test_1d_search_equals_brute_force():
    rng = np.random.default_rng(3)
    zq = np.round(rng.normal(size=(200, 1)), 1)  # many exact ties
    zp = np.round(rng.normal(size=(500, 1)), 1)
    for m in (1, 3):
        q1, p1 = core.knn_with_ties(zq, zp, m, 1e-5)
        # force the brute-force path with a constant second coordinate
        q2, p2 = core.knn_with_ties(
            np.column_stack([zq, np.zeros(200)]), np.column_stack([zp, np.zeros(500)]), m, 1e-5
        )
        a = sorted(zip(q1.tolist(), p1.tolist(), strict=True))
        b = sorted(zip(q2.tolist(), p2.tolist(), strict=True))
        assert a == b
    q, p, d = core.within_radius(zq, zp, 0.15)
    q2, p2, d2 = core.within_radius(
        np.column_stack([zq, np.zeros(200)]), np.column_stack([zp, np.zeros(500)]), 0.15
    )
    assert sorted(zip(q.tolist(), p.tolist(), strict=True)) == sorted(
        zip(q2.tolist(), p2.tolist(), strict=True)
    )


def test_bad_input_messages(nsw):
    with pytest.raises(
        SpecificationError,
        match=r"The 'estimand' parameter of Matching must be a str among "
        r"\{'ATT', 'ATE', 'ATC'\}. Got 'att' instead.",
    ):
        Matching(nsw, outcome="y", treatment="treat", covariates=X, estimand="att")
    with pytest.raises(SpecificationError, match="'distance'"):
        Matching(nsw, outcome="y", treatment="treat", covariates=X, distance="euclid")
    with pytest.raises(DataValidationError, match="must be binary"):
        Matching(nsw.assign(t3=nsw.treat + (nsw.age > 40)), outcome="y", treatment="t3", covariates=X)
    bad = nsw.copy()
    bad.loc[[3, 7], "educ"] = np.nan
    with pytest.raises(DataValidationError, match=r"missing values \('educ': 2"):
        Matching(bad, outcome="y", treatment="treat", covariates=X)
    with pytest.raises(DataValidationError, match=r"\['nope'\] \(covariates\) not found"):
        Matching(nsw, outcome="y", treatment="treat", covariates=["nope"])
    with pytest.raises(SpecificationError, match="n_neighbors"):
        Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=0)
    with pytest.raises(SpecificationError, match="radius"):
        Matching(nsw, outcome="y", treatment="treat", covariates=X, method="radius")
    with pytest.raises(SpecificationError, match="variance_neighbors"):
        Matching(nsw, outcome="y", treatment="treat", covariates=X).fit(variance_neighbors=-1)
    with pytest.raises(DataValidationError, match="no unit found a match"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OverlapWarning)
            Matching(
                nsw.assign(age=np.where(nsw.treat == 1, 100, 20)),
                outcome="y",
                treatment="treat",
                covariates=["age"],
                caliper=0.01,
            ).fit()


def _mc_data(rng, n=300, tau=1.0):
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.5, size=n)
    p = 1 / (1 + np.exp(-(-0.5 + 0.8 * x1 + 0.5 * x2)))
    t = rng.binomial(1, p)
    y = 1 + 2 * x1 + x2 + tau * t + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "t": t, "y": y})


def test_monte_carlo_att_bias_and_coverage():
    # known truth: constant effect 1.0; bias-adjusted 2-NN covariate matching with the AI robust SE
    rng = np.random.default_rng(20261123)
    reps = 120
    est, cover = np.empty(reps), np.empty(reps, dtype=bool)
    for i in range(reps):
        r = Matching(
            _mc_data(rng),
            outcome="y",
            treatment="t",
            covariates=["x1", "x2"],
            n_neighbors=2,
            bias_adjust=True,
            exact=["x2"],
        ).fit(variance_neighbors=2)
        est[i] = r.estimate
        lo, hi = r.conf_int().iloc[0]
        cover[i] = lo <= 1.0 <= hi
    mc_se = est.std(ddof=1) / np.sqrt(reps)
    assert abs(est.mean() - 1.0) < 4 * mc_se
    # nominal 0.95; MC standard error of a coverage rate with 120 reps is 0.02
    assert 0.88 <= cover.mean() <= 0.995


def test_1d_variance_ranges_equal_pairs():
    rng = np.random.default_rng(5)
    v = np.sort(np.round(rng.normal(size=300), 1))
    for m, width in ((2, None), (3, 0.25)):
        lo, hi = core.knn_range_1d(v, v, m, 1e-5, width)
        cal = None if width is None else (v[:, None], v[:, None], np.array([width]))
        q, p = core.knn_with_ties(v[:, None], v[:, None], m, 1e-5, cal)
        # brute force path (2-D with a zero column) gives the same sets
        q2, p2 = core.knn_with_ties(
            np.column_stack([v, np.zeros_like(v)]), np.column_stack([v, np.zeros_like(v)]), m, 1e-5, cal
        )
        assert sorted(zip(q.tolist(), p.tolist(), strict=True)) == sorted(
            zip(q2.tolist(), p2.tolist(), strict=True)
        )
        np.testing.assert_array_equal(hi - lo, np.bincount(q, minlength=v.size))


def _mc_hetero(rng, n=400):
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.5, size=n)
    p = 1 / (1 + np.exp(-(-0.3 + 0.6 * x1 + 0.4 * x2)))
    t = rng.binomial(1, p)
    y = 1 + x1 + x2 + (1 + 0.5 * x1) * t + rng.normal(size=n)  # ATE = 1
    return pd.DataFrame({"x1": x1, "x2": x2, "t": t, "y": y, "p": p})


@pytest.mark.parametrize("spec", ["ate_mahalanobis", "att_kernel"])
def test_monte_carlo_other_estimands(spec):
    rng = np.random.default_rng(11 if spec == "ate_mahalanobis" else 12)
    reps = 100
    if spec == "att_kernel":
        xs = rng.normal(size=1_000_000)
        bs = rng.binomial(1, 0.5, size=xs.size)
        ps = 1 / (1 + np.exp(-(-0.3 + 0.6 * xs + 0.4 * bs)))
        truth = 1 + 0.5 * np.sum(ps * xs) / np.sum(ps)
    else:
        truth = 1.0
    est, cover = np.empty(reps), np.empty(reps, dtype=bool)
    for i in range(reps):
        d = _mc_hetero(rng)
        if spec == "ate_mahalanobis":
            m = Matching(
                d,
                outcome="y",
                treatment="t",
                covariates=["x1", "x2"],
                estimand="ATE",
                distance="mahalanobis",
                n_neighbors=4,
                bias_adjust=True,
            )
            r = m.fit(variance_neighbors=4)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OverlapWarning)
                r = Matching(
                    d,
                    outcome="y",
                    treatment="t",
                    covariates=[],
                    distance="pscore",
                    pscore="p",
                    method="kernel",
                    bandwidth=0.3,
                ).fit(variance_neighbors=4)
        est[i] = r.estimate
        lo, hi = r.conf_int().iloc[0]
        cover[i] = lo <= truth <= hi
    mc_se = est.std(ddof=1) / np.sqrt(reps)
    # observed: ATE 0.992 (MC SE 0.010), coverage 0.97; kernel ATT 1.164 vs 1.143 (MC SE 0.013), coverage 0.93
    assert abs(est.mean() - truth) < 4 * mc_se
    # nominal 0.95; MC SE of a coverage rate with 100 reps is 0.022
    assert 0.87 <= cover.mean() <= 1.0


@pytest.mark.parametrize("value", [7.3, 0.1, 4.9])
def test_constant_covariate_is_ignored_not_fatal(nsw, value):
    # a covariate constant in the sample (e.g. local unemployment within one municipality) carries no
    # information; its variance can round to -1e-17, which used to make every distance NaN
    covs = ["age", "educ", "black", "re75"]
    base = Matching(nsw, outcome="re78", treatment="treat", covariates=covs, bias_adjust=True).fit()
    const = Matching(nsw.assign(unemp=value), outcome="re78", treatment="treat", covariates=[*covs, "unemp"],
                     bias_adjust=True).fit()
    assert const.params.iloc[0] == pytest.approx(base.params.iloc[0], rel=1e-10)
    assert const.bse.iloc[0] == pytest.approx(base.bse.iloc[0], rel=1e-10)


def test_no_observations_counts_every_unit_as_ipw_does(nsw):
    from evaltools.selection import IPW

    r = Matching(nsw, outcome="y", treatment="treat", covariates=X, n_neighbors=1).fit()
    w = IPW(nsw, outcome="y", treatment="treat", covariates=X, estimand="ATT").fit()
    assert r.nobs == w.nobs == len(nsw) == r.n_treated + r.n_control
    head = dict(r.summary().header)
    assert head["No. observations"] == len(nsw) and head["Treated"] == r.n_treated
    assert head["Matched units"] == r.n_matched < r.nobs
