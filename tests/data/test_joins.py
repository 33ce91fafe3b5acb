import numpy as np
import pandas as pd
import pytest

from evaltools.data import event_at, events_in_spells
from evaltools.exceptions import DataValidationError, SpecificationError


def test_events_in_spells_matches_a_loop():
    rng = np.random.default_rng(4)
    spells = pd.DataFrame({"person_id": [1, 1, 2, 3], "spell_id": [10, 11, 20, 30],
                           "start_week": [5, 40, 1, 100], "end_week": [20, 60, 80, 120],
                           "benefit": list("abab")})
    ev = pd.DataFrame({"person_id": rng.integers(1, 5, 60), "week": rng.integers(0, 130, 60)})
    ev["kind"] = np.arange(60)
    before = ev.copy()
    got = events_in_spells(spells, ev, spell_columns=("spell_id", "benefit", "start_week", "end_week"))
    pd.testing.assert_frame_equal(ev, before)
    expected = [
        (e.kind, s.spell_id)
        for e in ev.itertuples()
        for s in spells.itertuples()
        if e.person_id == s.person_id and s.start_week <= e.week <= s.end_week
    ]
    assert list(zip(got["kind"], got["spell_id"])) == expected  # in the events' order
    assert list(got.columns) == ["person_id", "week", "kind", "spell_id", "benefit", "start_week", "end_week"]
    only_id = events_in_spells(spells, ev, spell_columns=("spell_id",))
    assert list(only_id.columns) == ["person_id", "week", "kind", "spell_id"]


def test_events_in_spells_rejects_clashing_names():
    spells = pd.DataFrame({"person_id": [1], "spell_id": [1], "start_week": [1], "end_week": [5]})
    ev = pd.DataFrame({"person_id": [1], "week": [2], "end_week": [3]})
    with pytest.raises(SpecificationError, match="rename them"):
        events_in_spells(spells, ev)
    with pytest.raises(DataValidationError, match="act_week"):
        events_in_spells(spells, ev.drop(columns="end_week"), week="act_week")


def test_event_at_takes_the_first_covering_event():
    ass = pd.DataFrame({"person_id": [1, 1, 1, 2], "week": [1, 8, 20, 1], "end_week": [10, 12, 30, 50],
                        "readiness": ["m1", "m2", "m3", "m1"]})
    ref = pd.DataFrame({"person_id": [1, 1, 1, 2, 3], "week": [9, 15, 25, 60, 5]}, index=[5, 6, 7, 8, 9])
    got = event_at(ass, ref)
    assert got.index.tolist() == [5, 6, 7, 8, 9]
    assert got["readiness"].isna().tolist() == [False, True, False, True, True]
    assert got.loc[5, "readiness"] == "m1" and got.loc[7, "readiness"] == "m3"
    assert got[["readiness"]].isna().sum().iloc[0] == 3


def test_join_persons_keeps_rows_and_names_unknown_ids():
    from evaltools.data import RegisterPanel, join_persons

    persons = pd.DataFrame({"person_id": [1, 2], "obs_start": [1, 1], "obs_end": [9, 9], "sex": ["F", "M"]})
    panel = RegisterPanel(states=pd.DataFrame(columns=["person_id", "week", "state"]), persons=persons)
    frame = pd.DataFrame({"person_id": [2, 1, 2], "x": [1, 2, 3]}, index=[7, 8, 9])
    got = join_persons(frame, panel, ["sex"])
    assert got.index.tolist() == [7, 8, 9] and got["sex"].tolist() == ["M", "F", "M"] and "sex" not in frame
    with pytest.raises(DataValidationError, match=r"1 row\(s\) name persons not in panel.persons"):
        join_persons(pd.DataFrame({"person_id": [3]}), panel, "sex")
    with pytest.raises(DataValidationError, match="already in the frame"):
        join_persons(got, panel, ["sex"])
