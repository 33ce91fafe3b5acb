"""The burn-in: the panel starts near the model's steady state.

Without a burn-in the sample panel would start with 3,770 persons on a-dagpenge (falling to about 1,100),
nobody on førtidspension (rising linearly to 1,100) and have yearly one-week spikes of about 350 persons
with censoring codes (everybody born in the same year reached 65 in the same week).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data.weeks import index_to_isoweek
from evaltools.exceptions import SpecificationError
from evaltools.synth import SynthConfig, content_checksums, generate
from evaltools.synth import _engine as E
from evaltools.synth.generate import _window


def _weekly_stocks(panel) -> pd.DataFrame:
    st = panel.states
    group = st["state"].astype(str).map(panel.codes.mapping("benefit")).to_numpy()
    return pd.crosstab(st["week"].to_numpy(), group)


@pytest.fixture(scope="module")
def stocks(sample_draw):
    return _weekly_stocks(sample_draw.panel)


@pytest.mark.parametrize("benefit", ["adagpenge", "kontanthjaelp", "sygedagpenge", "foertidspension"])
def test_main_benefit_stocks_are_roughly_stationary(stocks, benefit):
    """First-quarter mean within 15 % of the last-quarter mean; the first week is not an outlier."""
    w = stocks.index.to_numpy()
    s = stocks[benefit]
    q1 = s[w < w.min() + 13].mean()
    q_last = s[w > w.max() - 13].mean()
    assert abs(q_last / q1 - 1) < 0.15, (benefit, q1, q_last)
    assert abs(s.iloc[0] / s.mean() - 1) < 0.15, (benefit, s.iloc[0], s.mean())


def test_foertidspension_stock_at_start(sample_draw, stocks):
    n_start = (sample_draw.panel.persons["obs_start"] == sample_draw.panel.meta["first_week"]).sum()
    share = stocks["foertidspension"].iloc[0] / n_start
    assert 0.04 < share < 0.10, share


def test_no_synchronised_censoring_spikes(sample_draw, stocks):
    """Censoring codes (997-999) are spread over the weeks: no week holds a burst of leavers."""
    cens = stocks["censored"]
    assert cens.max() < 4 * cens.mean(), (cens.max(), cens.mean())
    st = sample_draw.panel.states
    age65 = st[st["state"].astype(str) == "999"]
    assert age65["week"].nunique() > 150
    # 999 is the week of the 65th birthday: ISO year of that week minus birth year is 65 (or 64/66 at
    # the turn of the year, where ISO years and calendar years differ by a few days)
    per = sample_draw.panel.persons.set_index("person_id")
    age = index_to_isoweek(age65["week"].to_numpy())[0] - per.loc[age65["person_id"], "birth_year"].to_numpy()
    assert np.isin(age, (64, 65, 66)).all() and (age == 65).mean() > 0.95


def test_history_at_the_window_start(sample_draw):
    """Spells, exhausted entitlements and programmes in progress at the window start come from the burn-in."""
    panel = sample_draw.panel
    w0 = panel.meta["first_week"]
    assert panel.meta["burn_in_weeks"] == 156
    a = panel.events["assessment"]
    left = a[a["spell_start_week"] < w0]
    assert (left["week"] >= w0).all()
    assert len(left) > 2000
    # elapsed durations of a-dagpenge spells in progress span the entitlement period (max 104 weeks)
    dp = left[left["benefit"] == "adagpenge"]
    elapsed = w0 - dp["spell_start_week"]
    assert elapsed.max() <= 104 and elapsed.quantile(0.9) > 40
    # long kontanthjælp spells (beyond the burn-in) exist too: they began in the rough initial state
    kh = left[left["benefit"] == "kontanthjaelp"]
    assert (w0 - kh["spell_start_week"]).max() > 156
    # programmes in progress at the window start are kept, clipped to the first week
    act = panel.events["activation"]
    assert (act["week"] >= w0).all() and (act["week"] == w0).sum() > 100
    mentor = panel.events["mentor"]
    assert (mentor["week"] >= w0).all() and (mentor["week"] == w0).sum() > 10


def test_entrants_turn_16_in_the_window(sample_draw):
    """Persons entering the population in the window do so at 16 and are self-supporting then."""
    panel = sample_draw.panel
    p = panel.persons
    w0 = panel.meta["first_week"]
    ent = p[(p["obs_start"] > w0) & p["arrival_week"].isna()]
    assert 0.05 < len(ent) / len(p) < 0.15
    age = index_to_isoweek(ent["obs_start"].to_numpy())[0] - ent["birth_year"].to_numpy()
    assert np.isin(age, (15, 16, 17)).all() and (age == 16).mean() > 0.95
    assert (ent["support_weeks_prior5y"] == 0).all()
    st = panel.states.merge(ent[["person_id", "obs_start"]], on="person_id")
    assert not (st["week"] == st["obs_start"]).any()  # nobody starts on a benefit


def test_counterfactual_resume_equals_full_rerun():
    """Counterfactual runs resume from the factual snapshot; re-simulating the burn-in gives the same path."""
    cfg = SynthConfig(burn_in_years=1)
    w0, T = _window(2010, 2)
    seq = np.random.SeedSequence(7, spawn_key=(0,))
    _, fact = E.simulate_block(seq, 600, cfg, w0, T, 2010)
    for k in (2, E.MENTOR_SWITCH):
        _, a = E.simulate_block(seq, 600, cfg, w0, T, 2010, disabled=k, record=False, resume=fact.snapshot)
        _, b = E.simulate_block(seq, 600, cfg, w0, T, 2010, disabled=k, record=False)
        np.testing.assert_array_equal(a.selfsup_cum, b.selfsup_cum)
        np.testing.assert_array_equal(a.first_start, b.first_start)
    # with nothing switched off the resumed run reproduces the factual path
    _, c = E.simulate_block(seq, 600, cfg, w0, T, 2010, record=False, resume=fact.snapshot)
    np.testing.assert_array_equal(c.selfsup_cum, fact.selfsup_cum)


def test_burn_in_years_option():
    a = generate(SynthConfig(burn_in_years=0), seed=3, n_persons=1200, years=1, att=False)
    b = generate(seed=3, n_persons=1200, years=1, att=False)
    assert a.panel.meta["burn_in_weeks"] == 0 and b.panel.meta["burn_in_weeks"] == 156
    assert a.panel.meta["config"]["burn_in_years"] == 0
    assert content_checksums(a.panel)["states"] != content_checksums(b.panel)["states"]
    # the earliest allowed start year still works (the burn-in starts before 1992)
    c = generate(seed=3, n_persons=500, years=1, start_year=1992, att=False)
    assert c.panel.validate(raise_=False).ok
    for bad in (-1, 2.5, True, 31):
        with pytest.raises(SpecificationError, match="burn_in_years"):
            SynthConfig(burn_in_years=bad)
