"""Tests of the dynamic (elapsed-duration) evaluation, including a Monte Carlo check on the generator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from evaltools.data.outcomes import is_self_supporting, self_supporting_at
from evaltools.exceptions import DataValidationError
from evaltools.selection import PropensityScore
from evaltools.selection._dynamic_core import cluster_covariance, logit_fit, stack_elapsed
from evaltools.selection.dynamic import DynamicEvaluation
from evaltools.synth import SynthConfig, generate

COV = ["sex", "education", "origin", "insured", "support_weeks_prior5y", "readiness_spell"]
BANDS = [(0, 4), (5, 13), (14, 26), (27, 52)]


def mc_config() -> SynthConfig:
    """Wage subsidy with a clear effect, common in a-dagpenge/kontanthjaelp, flat start hazard."""
    base = SynthConfig()
    mix = dict(base.programme_mix)
    mix["adagpenge"] = (0.10, 0.80, 0.0, 0.0, 0.10)
    mix["kontanthjaelp_match1"] = (0.10, 0.60, 0.05, 0.05, 0.20)
    mix["kontanthjaelp_match2"] = (0.10, 0.50, 0.05, 0.15, 0.20)
    ph = {k: (0.02, 0.02, 0.02) for k in ("adagpenge", "kontanthjaelp", "integrationsydelse")}
    return dataclasses.replace(
        base, post=dict(base.post, loentilskud=3.5), programme_mix=mix, programme_hazard=ph
    )


def _spell_cov(panel) -> pd.DataFrame:
    a = panel.events["assessment"]
    return a.rename(columns={"spell_start_week": "start_week", "readiness": "readiness_spell"})[
        ["person_id", "start_week", "readiness_spell"]
    ]


def _run(res, comparison, hidden):
    cov = COV + (["het_type"] if hidden else [])
    de = DynamicEvaluation(
        res.panel,
        kind="loentilskud",
        benefit=["adagpenge", "kontanthjaelp"],
        covariates=cov,
        elapsed=BANDS,
        extra=res.hidden if hidden else None,
        spell_covariates=_spell_cov(res.panel),
        comparison=comparison,
    )
    fit = de.fit(progress=False)
    tr = de.risk_sets.query("treated == 1")[["person_id", "week"]]
    pot = res.potential.query("treatment == 'loentilskud'").rename(columns={"start_week": "week"})
    m = tr.merge(pot, on=["person_id", "week"], how="left", validate="one_to_one")
    assert m["y1_52"].notna().all()  # every estimation-treated person has a simulated counterfactual
    truth = float((m["y1_52"] - m["y0_52"]).mean())
    return fit, truth


@pytest.fixture(scope="module")
def draw():
    return generate(mc_config(), seed=11, n_persons=4096, years=4)


def test_stack_elapsed_matches_loop():
    dur = np.array([3, 0, 7, 1])
    el = np.array([0, 2, 5])
    rows, u = stack_elapsed(dur, el)
    exp = [(i, v) for i, d in enumerate(dur) for v in el if v < d]
    assert list(zip(rows.tolist(), u.tolist(), strict=True)) == exp


def test_logit_matches_propensity_score():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 2))
    t = (rng.random(500) < 1 / (1 + np.exp(-(0.3 + x @ [1.0, -0.5])))).astype(float)
    df = pd.DataFrame({"t": t, "a": x[:, 0], "b": x[:, 1]})
    ps = PropensityScore(df, treatment="t", covariates=["a", "b"]).fit().pscore.to_numpy()
    _, p = logit_fit(np.column_stack([np.ones(500), x]), t)
    np.testing.assert_allclose(p, ps, rtol=1e-7)
    # frequency weights equal replication
    f = rng.integers(0, 3, 500)
    idx = np.repeat(np.arange(500), f)
    _, pf = logit_fit(np.column_stack([np.ones(500), x]), t, f.astype(float))
    _, pr = logit_fit(np.column_stack([np.ones(500), x])[idx], t[idx])
    np.testing.assert_allclose(pf[idx], pr, rtol=1e-7)


def test_cluster_covariance_matches_groupby():
    rng = np.random.default_rng(3)
    infl = rng.normal(size=(200, 3))
    cl = rng.integers(0, 40, 200) * 7
    g = pd.DataFrame(infl).groupby(cl).sum().to_numpy()
    gc = g - g.mean(axis=0)
    np.testing.assert_allclose(cluster_covariance(infl, cl), len(g) / (len(g) - 1) * gc.T @ gc, rtol=1e-12)
    # one column: the clustered variance; singletons: the ordinary n/(n-1) variance of the sum
    v = cluster_covariance(infl[:, 0], np.arange(200))
    assert v.shape == (1, 1) and np.isclose(v[0, 0], 200 * infl[:, 0].var(ddof=1))
    assert np.isnan(cluster_covariance(infl, np.zeros(200))).all()


def test_is_self_supporting_matches_self_supporting_at(draw):
    panel = draw.panel
    rng = np.random.default_rng(0)
    p = panel.persons.sample(300, random_state=1)
    wk = rng.integers(p["obs_start"].to_numpy(), p["obs_end"].to_numpy() + 1)
    for definition in ("no_code", "no_code_or_su"):
        got = is_self_supporting(panel, p["person_id"].to_numpy(), wk, definition=definition)
        ref = self_supporting_at(
            panel,
            pd.DataFrame({"person_id": p["person_id"].to_numpy(), "week": wk}),
            0,
            definition=definition,
        )
        np.testing.assert_array_equal(got, ref.to_numpy(dtype=bool))
    assert (~is_self_supporting(panel, p["person_id"].to_numpy(), wk)).sum() > 0
    with pytest.raises(DataValidationError, match="observation window"):
        is_self_supporting(panel, p["person_id"].to_numpy()[:1], p["obs_end"].to_numpy()[:1] + 1)
    with pytest.raises(DataValidationError, match="not in panel.persons"):
        is_self_supporting(panel, [-5], [int(p["obs_start"].iloc[0])])


def test_survival_curves_match_grid_formula():
    from evaltools.selection.dynamic import _survival

    rng = np.random.default_rng(4)
    n = 3000
    tab = pd.DataFrame(
        {"treated": rng.random(n) < 0.2, "band": rng.integers(0, 3, n), "remaining": rng.integers(0, 200, n)}
    )
    w = rng.exponential(size=n)
    per = pd.DataFrame({"band": [0, 1, 2], "n_treated": tab.groupby("band")["treated"].sum().to_numpy()})
    got = _survival(tab, w, per)
    t = tab["treated"].to_numpy()
    band = tab["band"].to_numpy()
    share = (per.set_index("band")["n_treated"] / per["n_treated"].sum()).reindex(band).to_numpy()
    wc = np.where(t, 0.0, w)
    wc = wc / pd.Series(wc).groupby(band).transform("sum").to_numpy() * share
    alive = tab["remaining"].to_numpy()[:, None] >= np.arange(157)[None, :]
    np.testing.assert_allclose(got["treated"], alive[t].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["control"], (wc[:, None] * alive).sum(axis=0) / wc.sum(), rtol=1e-10)
    assert got["weeks"].tolist() == list(range(157))


def test_risk_set_definition(draw):
    de = DynamicEvaluation(
        draw.panel, kind="loentilskud", benefit="adagpenge", covariates=["sex"], elapsed=BANDS
    )
    rs = de.risk_sets
    starts = draw.panel.events["activation"].query("kind == 'loentilskud'").groupby("person_id")["week"].min()
    first = starts.reindex(rs["person_id"]).to_numpy(dtype=float)
    assert not np.any(first < rs["week"].to_numpy())  # nobody treated before u
    np.testing.assert_array_equal(rs["treated"].to_numpy() == 1, first == rs["week"].to_numpy())
    assert rs["u"].between(0, 52).all() and (rs["remaining"] >= 0).all()
    obs_end = draw.panel.persons.set_index("person_id")["obs_end"].reindex(rs["person_id"]).to_numpy()
    assert np.all(rs["week"].to_numpy() + 51 <= obs_end)
    # outcome in [0, horizon]; one row per spell and u
    assert rs["y"].between(0, 52).all()
    assert not rs.duplicated(["spell_id", "u"]).any()
    assert de.counts["spells_left_censored_dropped"] > 0


def test_fit_tables_and_bootstrap(draw):
    de = DynamicEvaluation(
        draw.panel,
        kind="loentilskud",
        benefit=["adagpenge", "kontanthjaelp"],
        covariates=["sex", "education"],
        elapsed=BANDS,
    )
    r = de.fit(progress=False)
    by = r.by_elapsed
    assert list(by["u_from"]) == [0, 5, 14, 27]
    assert np.isclose(r.pooled, np.average(by["estimate"], weights=by["n_treated"]))
    assert by["n_treated"].sum() == r.counts["treated"]
    rb = de.fit(n_boot=40, seed=1, progress=False)
    assert rb.pooled == r.pooled
    ratio = rb.bse["pooled"] / r.bse["pooled"]
    assert 0.6 < ratio < 1.6, ratio
    s = r.survival
    assert s["treated"].iloc[0] == 1.0 and np.isclose(s["control"].iloc[0], 1.0)
    assert "Comparison group" in str(r.summary())
    import matplotlib

    matplotlib.use("Agg")
    assert r.plot() is not None and r.plot_survival() is not None
    ra = DynamicEvaluation(
        draw.panel,
        kind="loentilskud",
        benefit=["adagpenge", "kontanthjaelp"],
        covariates=["sex", "education"],
        elapsed=BANDS,
        estimator="aipw",
    ).fit(progress=False)
    assert abs(ra.pooled - r.pooled) < 2 * r.bse["pooled"]


def test_bad_options(draw):
    from evaltools.exceptions import SpecificationError

    with pytest.raises(SpecificationError):
        DynamicEvaluation(draw.panel, kind="loentilskud", elapsed=[(5, 2)])
    with pytest.raises(SpecificationError):
        DynamicEvaluation(draw.panel, kind="loentilskud", covariates=["nope"], benefit="adagpenge")
    with pytest.raises(ValueError):
        DynamicEvaluation(draw.panel, kind="loentilskud", estimator="psm")


def _mc(seeds, n_persons):
    rows = []
    for s in seeds:
        res = generate(mc_config(), seed=s, n_persons=n_persons, years=4)
        for comp, hid in (("censor_later", True), ("never_treated", True)):
            fit, truth = _run(res, comp, hid)
            lo, hi = fit.conf_int().loc["pooled"]
            rows.append(
                dict(
                    seed=s,
                    comparison=comp,
                    est=fit.pooled,
                    se=fit.bse["pooled"],
                    truth=truth,
                    cover=lo <= truth <= hi,
                )
            )
    return pd.DataFrame(rows)


def test_monte_carlo_fast():
    """Start-now-vs-never (IPCW) with the hidden type recovers the truth; the static comparison is biased."""
    d = _mc([101, 102], 8192)
    c = d[d.comparison == "censor_later"]
    err = (c.est - c.truth).mean()
    mc_se = np.sqrt((c.se**2).sum()) / len(c)
    assert abs(err) < 3 * mc_se, (err, mc_se, c)
    assert c.cover.sum() >= 1  # P(0 of 2 cover | 95% coverage) = 0.0025
    s = d[d.comparison == "never_treated"]
    assert ((s.est - s.truth) < -2 * s.se).all(), (
        s
    )  # conditioning on never being treated: strong downward bias


@pytest.mark.slow
def test_monte_carlo_slow():
    d = _mc(range(200, 240), 8192)
    for comp, g in d.groupby("comparison"):
        e = g.est - g.truth
        print(  # shown with pytest -s: the numbers reported for the Monte Carlo check
            f"{comp}: reps={len(g)} mean truth={g.truth.mean():.3f} bias={e.mean():.3f} "
            f"(MC SE {e.std() / np.sqrt(len(g)):.3f}) sd(est-truth)={e.std():.3f} mean SE={g.se.mean():.3f} "
            f"coverage={g.cover.mean():.3f}"
        )
    c = d[d.comparison == "censor_later"]
    err = (c.est - c.truth).mean()
    assert abs(err) < 3 * (c.est - c.truth).std() / np.sqrt(len(c))
    assert c.cover.mean() >= 0.95 - 2 * np.sqrt(0.95 * 0.05 / len(c))
    s = d[d.comparison == "never_treated"]
    assert (s.est - s.truth).mean() < -2
