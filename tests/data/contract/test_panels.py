import numpy as np
import pandas as pd
import pytest
from data_panel_factory import random_panel

from evaltools.data import RegisterPanel, build_spells, to_counting_process, validate
from evaltools.data.contract import check_panel_invariants, check_panel_schema, check_spell_table
from evaltools.exceptions import DataValidationError, PanelInvariantError, SpecificationError, WeekValueError


def test_valid_panels_pass_and_edited_tables_are_caught():
    p = random_panel(4)
    check_panel_invariants(p, "t")
    p.persons["obs_end"] = p.persons["obs_end"].astype(float)
    p.persons.loc[2, "obs_end"] = np.nan
    with pytest.raises(WeekValueError, match=r"t: panel.persons: column 'obs_end' is missing in 1 of"):
        check_panel_schema(p, "t")
    q = random_panel(5)
    q.states["state"] = q.states["state"].astype(str)
    with pytest.raises(PanelInvariantError, match="no longer categorical"):
        validate(q)


def test_transforms_refuse_duplicate_person_weeks_naming_the_rule():
    states = pd.DataFrame({"person_id": [1, 1, 2], "week": [5, 5, 5], "state": ["701", "111", "701"]})
    persons = pd.DataFrame({"person_id": [1, 2], "obs_start": [0, 0], "obs_end": [9, 9]})
    p = RegisterPanel(states=states, persons=persons)
    with pytest.raises(
        PanelInvariantError, match=r"duplicate person-weeks.*person_id=1 week=5.*'duplicate_weeks'"
    ):
        build_spells(p)
    assert [i.rule for i in validate(p, raise_=False).issues] == ["duplicate_weeks"]


def test_spell_tables_are_checked():
    p = random_panel(6)
    sp = build_spells(p)
    check_spell_table(sp, ("person_id", "spell_id", "start_week", "end_week"), "t")
    with pytest.raises(DataValidationError, match="duplicated id"):
        to_counting_process(pd.concat([sp, sp.iloc[:1]], ignore_index=True), p)
    bad = sp.copy()
    bad.loc[0, "end_week"] = bad.loc[0, "start_week"] - 1
    with pytest.raises(DataValidationError, match="end_week is before start_week in 1 spell"):
        to_counting_process(bad, p)
    with pytest.raises(SpecificationError, match="'spells' parameter of to_counting_process"):
        to_counting_process(p, p)
