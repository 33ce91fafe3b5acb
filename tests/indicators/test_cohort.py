from __future__ import annotations

import pytest

from evaltools.data import left_censored
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.indicators import cohort_self_support, first_contact_within, job_ready_share
from evaltools.indicators._spellrules import month_weeks

from .conftest import W0, make_panel, person


@pytest.fixture
def cohort_panel():
    persons = [
        person(7, "A", 1985, start=1, end=52, origin="non_western"),
        person(8, "A", 1980, start=1, end=52, origin="non_western"),
        person(9, "A", 1990, start=1, end=52, origin="non_western"),
        person(10, "A", 1975, start=-300, end=52, origin="non_western"),  # entered long ago
        person(11, "A", 1985, start=1, end=52, origin="danish"),
        person(12, "A", 1985, start=1, end=52, origin="non_western"),  # emigrates
    ]
    spells = [
        (7, "721", 1, 9),
        (8, "721", 5, 52),
        (9, "721", 1, 19),
        (9, "651", 20, 52),
        (10, "721", -250, 52),
        (11, "721", 1, 5),
        (12, "721", 1, 10),
        (12, "997", 11, 52),
    ]
    events = {
        "assessment": [
            {"person_id": 8, "week": 3, "category": "jobparat"},
            {"person_id": 9, "week": 2, "category": "aktivitetsparat"},
            {"person_id": 9, "week": 15, "category": "jobparat"},
        ]
    }
    return make_panel(spells, persons, events)


def test_cohort_self_support_hand_computed(cohort_panel):
    t = cohort_self_support(cohort_panel, at=[W0 + 11, W0 + 29], persons_where={"origin": "non_western"})
    d = t.data.set_index("week")
    r = d.loc[W0 + 11]
    # persons 7 (self-supporting), 8 and 9 (on benefit); 10 too long since entry; 12 emigrated
    assert (r["persons"], r["n_self_support"], r["n_education"]) == (3, 1, 0)
    assert r["share"] == 1 / 3
    r = d.loc[W0 + 29]
    assert (r["persons"], r["n_self_support"], r["n_education"]) == (3, 1, 1)
    assert r["share"] == 2 / 3 and r["share_education"] == 1 / 3
    assert "2 person-weeks in a censoring state" in " ".join(t.footnotes)


def test_cohort_default_quarters(cohort_panel):
    t = cohort_self_support(cohort_panel, period="quarter", window=(W0, W0 + 51), by=("origin",))
    d = t.data
    assert set(d["period"]) <= {"2010-Q1", "2010-Q2", "2010-Q3", "2010-Q4"}
    q1 = d[(d["period"] == "2010-Q1") & (d["origin"] == "danish")].iloc[0]
    assert q1["week"] == W0 + 11 and q1["n_self_support"] == 1


def test_job_ready_share_hand_computed(cohort_panel):
    t = job_ready_share(cohort_panel, at=[W0 + 11, W0 + 16])
    d = t.data.set_index("week")
    r = d.loc[W0 + 11]
    # recipients at week 12: 8 (jobparat since week 3), 9 (aktivitetsparat), 10 (never assessed)
    assert (r["persons"], r["n_ready"], r["n_unassessed"]) == (3, 1, 1)
    r = d.loc[W0 + 16]
    assert (r["persons"], r["n_ready"], r["share"]) == (3, 2, 2 / 3)
    with pytest.raises(DataValidationError, match="no events table 'match'"):
        job_ready_share(cohort_panel, assessment="match")


@pytest.fixture
def contact_panel():
    persons = [person(1, "A", 1980), person(7, "A", 1985), person(8, "B", 1995), person(9, "B", 1970)]
    spells = [(1, "111", 1, 20), (7, "111", 10, 30), (8, "701", 20, 40), (9, "701", 45, 50)]
    events = {
        "interview": [
            {"person_id": 1, "week": 2},
            {"person_id": 7, "week": 12},
            {"person_id": 8, "week": 15},  # before the spell: ignored
            {"person_id": 8, "week": 30},
        ]
    }
    return make_panel(spells, persons, events)


def test_first_contact_within_hand_computed(contact_panel):
    t = first_contact_within(contact_panel, event="interview", horizons=(4, 13))
    d = t.data.set_index(["benefit", "period", "horizon"])
    assert d.loc[("adagpenge", "2010-H1", 4), "share"] == 1.0  # person 1 is left-censored
    assert d.loc[("adagpenge", "2010-H1", 13), "spells"] == 1
    assert d.loc[("kontanthjaelp", "2010-H1", 4), "share"] == 0.0
    assert d.loc[("kontanthjaelp", "2010-H1", 13), "share"] == 1.0
    assert d.loc[("kontanthjaelp", "2010-H2", 4), "share"] == 0.0
    assert ("kontanthjaelp", "2010-H2", 13) not in d.index  # not followed for 13 weeks
    assert "1 at 13 weeks" in " ".join(t.footnotes)
    assert "1 left-censored spells" in " ".join(t.footnotes)


def test_first_contact_by_age_group(contact_panel):
    t = first_contact_within(contact_panel, by=("age_group",), horizons=(13,))
    d = t.data.set_index(["age_group", "period"])
    assert d.loc[("0-29", "2010-H1"), "share"] == 1.0  # persons 7 (25) and 8 (15)
    assert d.loc[("0-29", "2010-H1"), "spells"] == 2


def test_first_contact_gap_rule_merges_spells():
    panel = make_panel(
        [(7, "111", 10, 12), (7, "111", 15, 30)],
        [person(7, "A", 1985)],
        {"interview": [{"person_id": 7, "week": 16}]},
    )
    a = first_contact_within(panel, horizons=(4,)).data
    assert a["spells"].sum() == 2 and a["n_within"].sum() == 1  # the second spell starts in week 15
    b = first_contact_within(panel, horizons=(4, 13), gap_rule="calendar_month").data
    assert (b["spells"] == 1).all()
    assert b.set_index("horizon").loc[4, "n_within"] == 0 and b.set_index("horizon").loc[13, "n_within"] == 1


# ---------------------------------------------------------------------------------------------
# left-censoring: only spells running when the panel's observation began are left-censored
# ---------------------------------------------------------------------------------------------
def _entry_panel(meta=True):
    """Person 1 is on a-dagpenge from the panel's first week; person 2 enters the population in week 10
    (an immigrant) and starts kontanthjaelp at once; both have an interview two weeks after the start."""
    persons = [person(1, "A", 1980, start=1), person(2, "A", 1990, start=10)]
    spells = [(1, "111", 1, 20), (2, "701", 10, 30)]
    events = {"interview": [{"person_id": 1, "week": 3}, {"person_id": 2, "week": 12}]}
    panel = make_panel(spells, persons, events)
    if meta:
        panel = type(panel)(
            states=panel.states, persons=panel.persons, events=panel.events, meta={"first_week": W0}
        )
    return panel


@pytest.mark.parametrize("meta", [True, False])
def test_spell_starting_at_entry_is_new(meta):
    panel = _entry_panel(meta)
    assert panel.first_week == W0
    t = first_contact_within(panel, months=(1,))
    d = t.data.set_index("benefit")
    assert "adagpenge" not in d.index  # running at the panel start: left-censored
    assert d.loc["kontanthjaelp", "spells"] == 1 and d.loc["kontanthjaelp", "n_within"] == 1
    notes = " ".join(t.footnotes)
    assert "1 left-censored spells" in notes and "1 spells starting at the person's entry" in notes
    old = first_contact_within(panel, months=(1,), left_censoring="obs_start")
    assert len(old.data) == 0  # the older rule also drops the entrant's spell
    assert "2 left-censored spells" in " ".join(old.footnotes)


def test_first_week_from_meta_when_earlier():
    panel = _entry_panel(meta=False)
    early = type(panel)(
        states=panel.states, persons=panel.persons, events=panel.events, meta={"first_week": W0 - 5}
    )
    assert early.first_week == W0 - 5
    assert early.subset([2]).first_week == W0 - 5  # a subset keeps the recorded window
    assert panel.subset([2]).first_week == int(panel.persons.set_index("person_id").loc[2, "obs_start"])
    # nobody is observed from the panel's first week, so no spell is left-censored
    left, at_entry = left_censored(early, [1, 2], [W0, W0 + 9])
    assert not left.any() and at_entry.all()
    assert len(first_contact_within(early, months=(1,)).data) == 2


def test_left_censoring_option_checked():
    with pytest.raises(SpecificationError, match="left_censoring"):
        first_contact_within(_entry_panel(), left_censoring="first_week")


def test_cohort_self_support_left_censored_entry():
    persons = [
        person(1, "A", 1980, start=1, origin="non_western"),  # on integrationsydelse when the panel opens
        person(2, "A", 1985, start=5, origin="non_western"),  # arrives in week 5, integrationsydelse at once
    ]
    panel = make_panel([(1, "721", 1, 30), (2, "721", 5, 8)], persons)
    panel = type(panel)(
        states=panel.states, persons=panel.persons, events=panel.events, meta={"first_week": W0}
    )
    t = cohort_self_support(panel, at=[W0 + 19])
    r = t.data.iloc[0]
    assert (r["persons"], r["n_self_support"]) == (1, 1)  # only the arrival; person 1's entry is unknown
    notes = " ".join(t.footnotes)
    assert "1 persons with a first week on ['integrationsydelse']" in notes
    assert "1 persons whose first week is their entry" in notes
    r = cohort_self_support(panel, at=[W0 + 19], left_censoring=None).data.iloc[0]
    assert (r["persons"], r["n_self_support"]) == (2, 1)  # the behaviour before the option
    assert len(cohort_self_support(panel, at=[W0 + 19], left_censoring="obs_start").data) == 0


# ---------------------------------------------------------------------------------------------
# "within N months" = elapsed weeks 0 .. floor(N * 52 / 12) (Beskæftigelsesregion Nordjylland 2010, Figs. 1-2)
# ---------------------------------------------------------------------------------------------
def test_month_weeks():
    assert [month_weeks(m) for m in (1, 2, 3, 6, 9, 12)] == [4, 8, 13, 26, 39, 52]
    assert month_weeks(0.5) == 2


@pytest.fixture
def boundary_panel():
    """Six new a-dagpenge spells starting in week 10; the first interview comes after 0, 4, 5, 13, 14
    and 3 elapsed weeks (the last spell ends after 2 weeks, before its interview)."""
    lags = {1: 0, 2: 4, 3: 5, 4: 13, 5: 14, 6: 3}
    persons = [person(0, "A", 1980, start=1)] + [person(p, "A", 1980, start=2) for p in lags]
    spells = [(0, "111", 1, 3)] + [(p, "111", 10, 11 if p == 6 else 40) for p in lags]
    events = {"interview": [{"person_id": p, "week": 10 + lag} for p, lag in lags.items()]}
    return make_panel(spells, persons, events)


def test_first_contact_month_boundaries(boundary_panel):
    t = first_contact_within(boundary_panel)  # default months=(1, 3)
    d = t.data.set_index("horizon")
    assert list(d.index) == [1, 3] and (d["spells"] == 6).all()
    assert d.loc[1, "n_within"] == 2  # elapsed weeks 0 and 4; not 5; not 3 (after the spell end)
    assert d.loc[3, "n_within"] == 4  # elapsed weeks 0, 4, 5 and 13; not 14
    assert "1 month: weeks 0-4" in " ".join(t.footnotes) and "3 months: weeks 0-13" in " ".join(t.footnotes)
    w = first_contact_within(boundary_panel, horizons=(5, 14)).data.set_index("horizon")
    assert list(w["n_within"]) == list(d["n_within"])  # 5 / 14 weeks including the start week


def test_first_contact_month_followed_through_last_counted_week(boundary_panel):
    persons = boundary_panel.persons.copy()
    persons.loc[persons["person_id"] == 2, "obs_end"] = W0 + 9 + 3  # observed for elapsed weeks 0-3 only
    panel = type(boundary_panel)(states=boundary_panel.states, persons=persons, events=boundary_panel.events)
    t = first_contact_within(panel, months=(1,))
    assert t.data["spells"].sum() == 5
    assert "1 at 1 months" in " ".join(t.footnotes)


def test_first_contact_horizon_arguments(boundary_panel):
    with pytest.raises(SpecificationError, match="not both"):
        first_contact_within(boundary_panel, months=(1,), horizons=(4,))
    with pytest.raises(SpecificationError, match="positive numbers of months"):
        first_contact_within(boundary_panel, months=(0,))
