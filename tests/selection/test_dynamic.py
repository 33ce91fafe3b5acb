"""Tests of the dynamic (elapsed-duration) evaluation, including a Monte Carlo check on the generator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from evaltools.selection import PropensityScore
from evaltools.selection._dynamic_core import logit_fit, stack_elapsed
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
    c = d[d.comparison == "censor_later"]
    err = (c.est - c.truth).mean()
    assert abs(err) < 3 * (c.est - c.truth).std() / np.sqrt(len(c))
    assert c.cover.mean() >= 0.95 - 2 * np.sqrt(0.95 * 0.05 / len(c))
    s = d[d.comparison == "never_treated"]
    assert (s.est - s.truth).mean() < -2
