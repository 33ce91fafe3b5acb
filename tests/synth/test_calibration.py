"""The default-size draw hits the calibration targets (margins reported by the Danish source reports)."""

from __future__ import annotations

import pytest

from evaltools.synth import calibration_report, calibration_statistics, calibration_targets


def test_targets_file_schema():
    t = calibration_targets()
    assert list(t.columns) == ["id", "statistic", "description", "value", "tolerance", "source"]
    assert t["statistic"].is_unique
    assert (t["tolerance"] > 0).all()
    # every target names the public report it comes from
    reports = ("mploy (2011)", "Rambøll (2018)", "Beskæftigelsesregion Nordjylland (2010)")
    assert t["source"].map(lambda s: any(s.startswith(r) for r in reports)).all()
    required = {"R1", "R2", "R4", "R5", "R6", "R8", "R9", "R10", "R12", "R13"}
    assert required <= set(t["id"])


def test_statistics_cover_every_target(sample_draw):
    stats = calibration_statistics(sample_draw.panel)
    assert set(calibration_targets()["statistic"]) <= set(stats.index)


@pytest.fixture(scope="module")
def report(sample_draw):
    return calibration_report(sample_draw.panel)


@pytest.mark.parametrize("statistic", list(calibration_targets()["statistic"]))
def test_default_draw_hits_target(report, statistic):
    row = report.set_index("statistic").loc[statistic]
    assert row["ok"], (
        f"{statistic}: observed {row['observed']:.4f}, "
        f"target {row['value']} +/- {row['tolerance']} ({row['id']})"
    )


# ---------------------------------------------------------------------------------------------
# the calibration shares the indicators' spell rules (hand-built panel)
# ---------------------------------------------------------------------------------------------
def _hand_panel():
    import pandas as pd

    from evaltools.data.panel import RegisterPanel
    from evaltools.data.weeks import isoweek_to_index

    w0 = int(isoweek_to_index(2010, 1))
    # person 1: a-dagpenge from the panel's first week (left-censored); person 2: arrives in week 10 and
    # starts kontanthjaelp at once (a new spell); persons 3-6: a-dagpenge from week 20 (elapsed week 0),
    # first interview after 4, 5, 13 and 14 weeks
    spells = [(1, "111", 0, 9), (2, "701", 9, 30), *[(p, "111", 19, 50) for p in (3, 4, 5, 6)]]
    states = pd.DataFrame(
        [(p, w0 + k, c) for p, c, a, b in spells for k in range(a, b + 1)],
        columns=["person_id", "week", "state"],
    )
    persons = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4, 5, 6],
            "obs_start": [w0, w0 + 9, w0, w0, w0, w0],
            "obs_end": [w0 + 51] * 6,
        }
    )
    lags = {3: 4, 4: 5, 5: 13, 6: 14}
    interview = pd.DataFrame({"person_id": list(lags), "week": [w0 + 19 + lag for lag in lags.values()]})
    interview["end_week"] = interview["week"]
    meta = {"first_week": w0}
    return RegisterPanel(states=states, persons=persons, events={"interview": interview}, meta=meta), w0


def test_benefit_spells_left_censoring_rule():
    from evaltools.synth.calibration import benefit_spells

    panel, w0 = _hand_panel()
    sp = benefit_spells(panel).set_index("person_id")
    assert bool(sp.loc[1, "left_censored"])  # running when the panel opened
    assert not bool(sp.loc[2, "left_censored"])  # starts at entry into the population: new
    old = benefit_spells(panel, left_censoring="obs_start").set_index("person_id")
    assert bool(old.loc[2, "left_censored"])


def test_calibration_month_rule_matches_indicator():
    from evaltools.indicators import first_contact_within
    from evaltools.synth.calibration import _first_event_within, benefit_spells

    panel, _ = _hand_panel()
    sp = benefit_spells(panel)
    sp = sp[sp["person_id"].isin([3, 4, 5, 6])].sort_values("person_id")
    ev = panel.events["interview"]
    assert list(_first_event_within(sp, ev, 1)) == [True, False, False, False]  # weeks 0-4
    assert list(_first_event_within(sp, ev, 3)) == [True, True, True, False]  # weeks 0-13
    t = first_contact_within(panel, months=(1, 3), benefit="adagpenge", period=None).data
    assert list(t.set_index("horizon")["n_within"]) == [1, 3]
