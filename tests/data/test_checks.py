import pandas as pd
import pytest
from data_panel_factory import random_panel

from evaltools.data import RegisterPanel, default_codes, validate
from evaltools.data.checks import (
    check_duplicate_weeks,
    check_gaps,
    check_unknown_codes,
)
from evaltools.exceptions import DataValidationError, SpecificationError


def _panel(rows, windows, events=None):
    return RegisterPanel(
        states=pd.DataFrame(rows, columns=["person_id", "week", "state"]),
        persons=pd.DataFrame(windows, columns=["person_id", "obs_start", "obs_end"]),
        events=events or {},
    )


def test_clean_random_panels_pass():
    for seed in range(5):
        rep = validate(random_panel(seed), treatments=["mentor"], benefit=["kontanthjaelp", "adagpenge"])
        assert rep.ok and "treatment_in_spell[mentor]" in rep.rules
        assert "all" in str(rep)


def test_duplicate_person_weeks_message():
    p = _panel([(7, 10, "701"), (7, 10, "111"), (8, 3, "701")], [(7, 1, 20), (8, 1, 20)])
    rep = validate(p, raise_=False)
    (issue,) = rep.issues
    assert issue.rule == "duplicate_weeks" and issue.count == 2
    assert "column 'week'" in issue.message and "2 of 3 rows" in issue.message
    assert "person_id=7 week=10 (1990-W11)" in issue.message
    assert "Keep one row per person-week" in issue.message
    with pytest.raises(DataValidationError, match=r"\[duplicate_weeks\] column 'week'"):
        validate(p)


def test_window_after_absorbing_orphans_and_events():
    rows = [(1, 25, "701"), (2, 5, "997"), (2, 6, "701"), (2, 7, "997"), (3, 2, "701")]
    ev = {"mentor": pd.DataFrame({"person_id": [1, 1, 9], "week": [0, 5, 5], "end_week": [2, 4, 5]})}
    p = _panel(rows, [(1, 1, 20), (2, 1, 20)], ev)
    rep = validate(p, raise_=False)
    by = {i.rule: i for i in rep.issues}
    assert set(by) == {"orphan_states", "window", "after_absorbing", "event_window"}
    assert by["window"].count == 1 and "person_id=1 week=25" in by["window"].message
    assert "obs_start/obs_end" in by["window"].message
    assert by["after_absorbing"].count == 1 and "person_id=2 week=6" in by["after_absorbing"].message
    assert "state=701" in by["after_absorbing"].message
    assert by["orphan_states"].column == "person_id" and "person_id=3" in by["orphan_states"].message
    assert "events['mentor'].person_id" in by["event_window"].message
    frame = rep.to_frame()
    assert list(frame.columns) == ["rule", "column", "count", "examples", "message"] and len(frame) == 4
    with pytest.raises(DataValidationError, match=r"panel validation failed \(4 rule\(s\)\)"):
        p.validate()


def test_event_end_before_start_and_outside_window():
    ev = {"a": pd.DataFrame({"person_id": [1], "week": [5], "end_week": [4]})}
    (issue,) = validate(_panel([], [(1, 1, 20)], ev), raise_=False).issues
    assert "end_week is before week" in issue.message
    ev = {"a": pd.DataFrame({"person_id": [1], "week": [15], "end_week": [24]})}
    (issue,) = validate(_panel([], [(1, 1, 20)], ev), raise_=False).issues
    assert "outside the person's observation window" in issue.message and "end_week=24" in issue.message


def test_treatment_outside_spell():
    rows = [(1, w, "701") for w in range(10, 15)]
    ev = {"mentor": pd.DataFrame({"person_id": [1, 1, 1], "week": [9, 12, 15], "end_week": [9, 12, 15]})}
    p = _panel(rows, [(1, 1, 20)], ev)
    (issue,) = validate(p, treatments="mentor", raise_=False).issues
    assert issue.count == 2 and "person_id=1 week=9" in issue.message and "week=15" in issue.message
    assert "treatment starts outside a benefit spell" in issue.message
    with pytest.raises(SpecificationError, match="Available event tables: \\['mentor'\\]"):
        validate(p, treatments="sanction")


def test_persons_table_rules():
    p = _panel([], [(1, 10, 5)])
    (issue,) = validate(p, raise_=False).issues
    assert "obs_end is before obs_start" in issue.message and "person_id=1" in issue.message


def test_raw_frame_checks():
    raw = pd.DataFrame({"person_id": [1, 1, 2], "week": [3, 5, 1], "state": ["701", "xx", None]})
    issue = check_unknown_codes(raw, default_codes())
    assert issue.count == 1 and "['xx']" in issue.message and "person_id=1 week=5" in issue.message
    gaps = check_gaps(raw)
    assert gaps.count == 1 and "person_id=1 week=5" in gaps.message and "dense=False" in gaps.message
    assert check_duplicate_weeks(raw) is None
