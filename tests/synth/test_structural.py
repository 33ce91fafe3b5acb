"""Monte Carlo check: the structural hazard ratios in ``Truth`` are the ones the data follow.

In the generator the weekly probability of exit to self-support is *exactly*
multiplicative (``h = base(benefit) * (1 + dur/26)^-0.35 * exp(x'b) * type * readiness
* effect``), so a Poisson GLM with log link on the person-weeks of non-left-censored
kontanthjælp spells, with the hidden type as a covariate, is correctly specified.
Its estimates of the lock-in, post-programme, sanction and mentor multipliers must
match the truth within Monte Carlo error (|z| < 4 for each).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltools.data.weeks import index_to_isoweek
from evaltools.synth import MUNICIPALITIES, PROGRAMMES
from evaltools.synth.calibration import benefit_spells


def _latest_before(keys_ev: np.ndarray, vals: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value of the latest event with key <= key (same person encoded in the key); found flag."""
    pos = np.searchsorted(keys_ev, keys, side="right") - 1
    ok = pos >= 0
    posc = np.maximum(pos, 0)
    return vals[posc], ok & (keys_ev[posc] // 10_000 == keys // 10_000)


def _design(res) -> tuple[pd.Series, pd.DataFrame]:
    panel = res.panel
    codes = panel.codes
    st = panel.states
    key_s = st["person_id"].to_numpy() * 10_000 + st["week"].to_numpy()
    sp = benefit_spells(panel)
    sp = sp[(sp["benefit"] == "kontanthjaelp") & ~sp["left_censored"]]
    n = (sp["end"] - sp["start"] + 1).to_numpy()
    pid = np.repeat(sp["person_id"].to_numpy(), n)
    start = np.repeat(sp["start"].to_numpy(), n)
    week = start + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    per = panel.persons.set_index("person_id")
    obs_end = per.loc[pid, "obs_end"].to_numpy()
    keep = week < obs_end  # the next week is observed
    pid, start, week = pid[keep], start[keep], week[keep]
    key = pid * 10_000 + week
    nxt = np.isin(key + 1, key_s)
    y = (~nxt).astype(float)  # no code next week = exit to self-support
    pos = np.searchsorted(key_s, key)
    code = st["state"].astype(str).to_numpy()[pos]
    act = pd.Series(code).map(codes.mapping("activation")).to_numpy()
    X = pd.DataFrame(index=np.arange(len(y)))
    for k in PROGRAMMES:
        X[f"in_{k}"] = (act == k).astype(float)
    # post: latest activation that ended before this week inside the current spell
    a = panel.events["activation"]
    key_a = a["person_id"].to_numpy() * 10_000 + a["end_week"].to_numpy()
    order = np.argsort(key_a, kind="stable")
    kind_a, found = _latest_before(key_a[order], a["kind"].astype(str).to_numpy()[order], key - 1)
    end_a, _ = _latest_before(key_a[order], a["end_week"].to_numpy()[order], key - 1)
    post_ok = found & (end_a >= start) & (act == "none")
    for k in PROGRAMMES:
        X[f"post_{k}"] = (post_ok & (kind_a == k)).astype(float)
    s = panel.events["sanction"]
    key_sc = np.sort(s["person_id"].to_numpy() * 10_000 + s["week"].to_numpy())
    wk_sc, found = _latest_before(key_sc, key_sc % 10_000, key)
    since = np.where(found, week - wk_sc, 10**6)
    X["sanction_0_3"] = (since <= 3).astype(float)
    X["sanction_4_7"] = ((since >= 4) & (since <= 7)).astype(float)
    X["sanction_8_12"] = ((since >= 8) & (since <= 12)).astype(float)
    m = panel.events["mentor"]
    key_m = m["person_id"].to_numpy() * 10_000 + m["week"].to_numpy()
    om = np.argsort(key_m, kind="stable")
    mend, found = _latest_before(key_m[om], m["end_week"].to_numpy()[om], key)
    X["mentor"] = (found & (mend >= week)).astype(float)
    # covariates of the baseline hazard
    # the generator's age groups use the current age: ISO year of the week minus birth year
    age = index_to_isoweek(week)[0] - per.loc[pid, "birth_year"].to_numpy()
    X["log_dd"] = np.log1p((week - start) / 26.0)
    X["young"] = (age < 30).astype(float)
    X["old"] = (age >= 50).astype(float)
    edu = per.loc[pid, "education"].astype(str).to_numpy()
    X["vocational"] = (edu == "vocational").astype(float)
    X["higher"] = (edu == "higher").astype(float)
    X["nonwestern"] = (per.loc[pid, "origin"].astype(str).to_numpy() == "non_western").astype(float)
    X["female"] = (per.loc[pid, "sex"].astype(str).to_numpy() == "F").astype(float)
    unemp = dict((m_[0], m_[1]) for m_ in MUNICIPALITIES)
    X["unemp"] = pd.Series(per.loc[pid, "municipality"].astype(str).to_numpy()).map(unemp).to_numpy() - 5.0
    X["hist"] = per.loc[pid, "support_weeks_prior5y"].to_numpy() / 260.0
    a_s = panel.events["assessment"]
    key_as = a_s["person_id"].to_numpy() * 10_000 + a_s["week"].to_numpy()
    oa = np.argsort(key_as, kind="stable")
    rdy, _ = _latest_before(key_as[oa], a_s["readiness"].astype(str).to_numpy()[oa], key)
    X["match2"] = (rdy == "match2").astype(float)
    X["match3"] = (rdy == "match3").astype(float)
    het = res.hidden.set_index("person_id").loc[pid, "het_type"].astype(str).to_numpy()
    X["het_low"] = (het == "low").astype(float)
    X["het_high"] = (het == "high").astype(float)
    X = sm.add_constant(X)
    return pd.Series(y), X


def test_structural_hazard_ratios_are_recovered(sample_draw):
    y, X = _design(sample_draw)
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    cfg = sample_draw.config
    truth = {f"in_{k}": cfg.lockin[k] for k in PROGRAMMES if k != "loentilskud"}
    truth |= {f"post_{k}": cfg.post[k] for k in PROGRAMMES}
    truth |= {"sanction_0_3": 1.9, "sanction_4_7": 1.6, "sanction_8_12": 1.3, "mentor": cfg.mentor_job_effect}
    truth |= {"in_loentilskud": cfg.lockin["loentilskud"], "log_dd": None, "het_low": 0.4, "het_high": 2.0}
    z = {}
    for name, true in truth.items():
        if true is None:
            continue
        z[name] = (fit.params[name] - np.log(true)) / fit.bse[name]
    # baseline duration dependence and readiness multipliers of the generator
    z["log_dd"] = (fit.params["log_dd"] + 0.35) / fit.bse["log_dd"]
    z["match2"] = (fit.params["match2"] - np.log(0.6)) / fit.bse["match2"]
    z["match3"] = (fit.params["match3"] - np.log(0.3)) / fit.bse["match3"]
    z = pd.Series(z)
    assert (z.abs() < 4).all(), z.round(2).to_string()
    # and the design has power: the sanction and wage-subsidy effects are clearly non-null
    assert fit.params["sanction_0_3"] / fit.bse["sanction_0_3"] > 3


@pytest.mark.slow
def test_structural_hazard_ratios_coverage_over_draws():
    """95% CIs of the structural log hazard ratios cover the truth in repeated draws (slow, about 1 min)."""
    from evaltools.synth import generate

    hits, total = 0, 0
    for seed in range(20):
        res = generate(seed=1000 + seed, n_persons=8192, years=4, att=False)
        y, X = _design(res)
        fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()
        ci = fit.conf_int()
        for name, true in (("in_loentilskud", 0.6), ("post_loentilskud", 2.2), ("sanction_0_3", 1.9)):
            hits += int(ci.loc[name, 0] <= np.log(true) <= ci.loc[name, 1])
            total += 1
    assert hits / total > 0.85
