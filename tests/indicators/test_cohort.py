from __future__ import annotations

import pytest

from evaltools.exceptions import DataValidationError
from evaltools.indicators import cohort_self_support, first_contact_within, job_ready_share

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
    t = first_contact_within(contact_panel, event="interview")
    d = t.data.set_index(["benefit", "period", "horizon"])
    assert d.loc[("adagpenge", "2010-H1", 4), "share"] == 1.0  # person 1 is left-censored
    assert d.loc[("adagpenge", "2010-H1", 13), "spells"] == 1
    assert d.loc[("kontanthjaelp", "2010-H1", 4), "share"] == 0.0
    assert d.loc[("kontanthjaelp", "2010-H1", 13), "share"] == 1.0
    assert d.loc[("kontanthjaelp", "2010-H2", 4), "share"] == 0.0
    assert ("kontanthjaelp", "2010-H2", 13) not in d.index  # not followed for 13 weeks
    assert "1 at 13 weeks" in " ".join(t.footnotes)
    assert "1 spells starting at the start of observation" in " ".join(t.footnotes)


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
