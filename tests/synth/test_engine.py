"""The engine's disability-pension (førtidspension) hazard is what a cause-specific Cox model recovers.

On kontanthjælp and integrationsydelse the engine's weekly probability of moving to
førtidspension is ``SynthConfig.exit_foep["match<m>"] * exp(foep_age_slope * (age - 45))``
(``m`` the match category assessed at the spell start, ``age`` the current age).
Nothing else enters it: the hidden employability type selects persons into the match
categories but does not shift this hazard.  A cause-specific Cox model on the inflow
spells (the other exits censored) with the match category and age at the spell start is
therefore correctly specified (the rise of the age within a spell is common to all
spells and goes into the baseline hazard).  The check uses the default ratios
between the match categories with five times the default levels, so that a small draw
has enough exits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data import build_spells
from evaltools.data.weeks import decimal_year
from evaltools.duration import CoxPH
from evaltools.synth import SynthConfig, generate

_BENEFITS = ["kontanthjaelp", "integrationsydelse"]


def _config(scale: float) -> SynthConfig:
    base = SynthConfig().exit_foep
    rates = {f"match{m}": scale * base[f"match{m}"] for m in (1, 2, 3)}
    return SynthConfig(exit_foep=rates | {"sygedagpenge": base["sygedagpenge"]})


def _inflow_spells(res) -> pd.DataFrame:
    """Inflow spells on the two benefits, one row each, with the disability-pension exit as the event."""
    panel = res.panel
    persons = panel.persons.set_index("person_id")
    sp = build_spells(panel, benefit=_BENEFITS)
    arrival = sp["person_id"].map(persons["arrival_week"]).astype("Float64")
    at_arrival = (sp["start_week"] == arrival).fillna(False).to_numpy(bool)
    after_start = (sp["start_week"] > sp["person_id"].map(persons["obs_start"])).to_numpy()
    sp = sp[after_start | at_arrival]
    ass = panel.events["assessment"][["person_id", "benefit", "spell_start_week", "readiness"]]
    ass = ass.rename(columns={"spell_start_week": "start_week"})
    sp = sp.merge(ass, on=["person_id", "benefit", "start_week"], how="left", validate="one_to_one")
    assert sp["readiness"].notna().all()  # every inflow spell has its match category
    readiness = sp["readiness"].astype(str).to_numpy()
    birth_year = persons.loc[sp["person_id"], "birth_year"].to_numpy()
    het = res.hidden.set_index("person_id").loc[sp["person_id"], "het_type"].astype(str).to_numpy()
    return pd.DataFrame(
        {
            "person_id": sp["person_id"].to_numpy(),
            "start": 0.0,
            "stop": sp["duration"].to_numpy(float),
            "event": (sp["exit"].astype(str) == "foertidspension").to_numpy(float),
            "match1": (readiness == "match1").astype(float),
            "match3": (readiness == "match3").astype(float),
            "age_minus_45": decimal_year(sp["start_week"].to_numpy()) - birth_year - 45.0,
            "integration_benefit": (sp["benefit"] == "integrationsydelse").to_numpy(float),
            "type_low": (het == "low").astype(float),
            "type_high": (het == "high").astype(float),
        }
    )


@pytest.fixture(scope="module")
def foep_draw():
    cfg = _config(5.0)
    return cfg, _inflow_spells(generate(cfg, seed=314, n_persons=12_000, years=4, att=False))


def test_match_category_is_selected_on_the_hidden_type(foep_draw):
    # the confounding that would bias the estimate if the type entered the hazard: the low type is
    # far more common in match category 3 than in categories 1 and 2
    _, cr = foep_draw
    low_share = cr.groupby(cr["match3"])["type_low"].mean()
    assert low_share[1.0] > low_share[0.0] + 0.2


def test_cause_specific_cox_recovers_the_disability_pension_hazard(foep_draw):
    cfg, cr = foep_draw
    assert cr["event"].sum() > 300  # enough exits for a sharp check
    covariates = ["match1", "match3", "age_minus_45", "integration_benefit"]
    truth = pd.Series(
        {
            "match3": np.log(cfg.exit_foep["match3"] / cfg.exit_foep["match2"]),
            "age_minus_45": cfg.foep_age_slope,
            "integration_benefit": 0.0,
        }
    )
    fit = CoxPH(cr, covariates=covariates).fit(cov_type="cluster", cluster="person_id")
    z = (fit.params[truth.index] - truth) / fit.bse[truth.index]
    assert (z.abs() < 3).all(), z.round(2).to_string()
    # match category 1 has only a few exits (its Wald interval on the log scale is poorly calibrated):
    # check that it is clearly below category 2, as the generator's 1:12 ratio says
    assert fit.params["match1"] + 3 * fit.bse["match1"] < 0
    # conditioning on the hidden type changes nothing: it does not enter the hazard
    oracle = CoxPH(cr, covariates=[*covariates, "type_low", "type_high"]).fit(
        cov_type="cluster", cluster="person_id"
    )
    z_type = oracle.params[["type_low", "type_high"]] / oracle.bse[["type_low", "type_high"]]
    assert (z_type.abs() < 3).all(), z_type.round(2).to_string()
    assert abs(oracle.params["match3"] - fit.params["match3"]) < 0.5 * fit.bse["match3"]


def test_no_other_route_into_disability_pension_from_these_spells():
    # with the disability-pension hazards of the two benefits at zero, no inflow spell ends in it
    # (the sickness-benefit route starts a sygedagpenge spell first, an exit to another benefit)
    cr = _inflow_spells(generate(_config(0.0), seed=315, n_persons=4_096, years=3, att=False))
    assert len(cr) > 500
    assert cr["event"].sum() == 0
