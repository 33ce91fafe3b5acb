"""Not-yet-treated reference weeks (``evaltools.selection.designs``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.selection import sample_not_yet_treated


@pytest.fixture
def spells() -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": [1, 1, 2, 3, 4],
        "spell_id": [10, 11, 20, 30, 40],
        "start_week": [100, 130, 100, 105, 120],
        "end_week": [119, 149, 139, 109, 121],
        "benefit": ["kh", "kh", "iy", "kh", "kh"],
    })


def _at_risk_weeks(spells: pd.DataFrame, first: pd.Series) -> set[tuple[int, int]]:
    """Every (person, week) at risk, by a loop over the weeks (the definition)."""
    out = set()
    for r in spells.itertuples():
        for w in range(r.start_week, r.end_week + 1):
            if r.person_id not in first.index or w < first[r.person_id]:
                out.add((r.person_id, w))
    return out


def test_draws_are_at_risk_weeks_outside_busy_intervals(spells: pd.DataFrame) -> None:
    first = pd.Series({1: 110, 3: 105})  # person 3 is placed in the first week of its only spell
    busy = pd.DataFrame({"person_id": [2], "act_week": [120], "act_end": [129]})
    before = spells.copy()
    res = sample_not_yet_treated(spells, first, n=400, busy=busy, seed=3)
    pd.testing.assert_frame_equal(spells, before)  # the caller's frame is not modified
    at_risk = _at_risk_weeks(spells, first)
    assert res.n_at_risk == len(at_risk) == 10 + 40 + 2
    got = set(zip(res.data["person_id"], res.data["week"]))
    assert got <= at_risk
    assert not any(p == 2 and 120 <= w <= 129 for p, w in got)
    assert 3 not in set(res.data["person_id"])
    # every draw is accounted for, and the kept person-weeks are unique
    assert res.n_drawn == 400 == res.n_busy + res.n_repeated + len(res.data)
    assert not res.data.duplicated(["person_id", "week"]).any()
    assert res.n_busy > 0 and res.n_repeated > 0
    # the spell's other columns come along, cut at the week before the first start
    row = res.data[res.data["person_id"] == 1].iloc[0]
    assert row["spell_id"] == 10 and row["end_week"] == 109 and row["benefit"] == "kh"
    assert res.counts["kept"] == len(res.data)


def test_each_at_risk_week_is_equally_likely(spells: pd.DataFrame) -> None:
    first = pd.Series({1: 110})
    res = sample_not_yet_treated(spells, first, n=60_000, seed=1)
    weeks = _at_risk_weeks(spells, first)
    share = pd.Series([p for p, _ in weeks]).value_counts(normalize=True).sort_index()
    # with many draws every at-risk week is drawn at least once: the kept rows are exactly the at-risk weeks
    assert set(zip(res.data["person_id"], res.data["week"])) == weeks
    assert res.n_repeated == 60_000 - len(weeks)
    assert np.isclose(share.sum(), 1.0)


def test_draw_frequencies_follow_the_at_risk_length(spells: pd.DataFrame) -> None:
    # one draw at a time (no repeats possible): the share of draws per person is its share of at-risk weeks
    first = pd.Series({1: 110})
    rng = np.random.default_rng(7)
    persons = [int(sample_not_yet_treated(spells, first, n=1, seed=rng).data["person_id"].iloc[0])
               for _ in range(600)]
    observed = pd.Series(persons).value_counts(normalize=True)
    expected = {1: 10 / 57, 2: 40 / 57, 3: 5 / 57, 4: 2 / 57}  # person 1's second spell is after the start
    for p, e in expected.items():
        assert abs(observed.get(p, 0.0) - e) < 4 * np.sqrt(e * (1 - e) / 600), p


def test_same_seed_same_draws_and_per_treated(spells: pd.DataFrame) -> None:
    a = sample_not_yet_treated(spells, pd.Series(dtype=float), per_treated=6, n_treated=5, seed=11)
    b = sample_not_yet_treated(spells, pd.Series(dtype=float), per_treated=6, n_treated=5, seed=11)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.n_drawn == 30
    # never more draws than at-risk weeks
    c = sample_not_yet_treated(spells, pd.Series(dtype=float), per_treated=1000, n_treated=5, seed=1)
    assert c.n_drawn == c.n_at_risk == 20 + 20 + 40 + 5 + 2


def test_errors_name_the_problem(spells: pd.DataFrame) -> None:
    with pytest.raises(SpecificationError, match="either n= or per_treated="):
        sample_not_yet_treated(spells, pd.Series(dtype=float))
    with pytest.raises(SpecificationError, match="n_treated"):
        sample_not_yet_treated(spells, pd.Series(dtype=float), per_treated=2)
    with pytest.raises(DataValidationError, match="end_week"):
        sample_not_yet_treated(spells.drop(columns="end_week"), pd.Series(dtype=float), n=3)
    none_at_risk = sample_not_yet_treated(spells, pd.Series({1: 100, 2: 100, 3: 100, 4: 100}), n=5, seed=0)
    assert none_at_risk.n_at_risk == 0 and none_at_risk.data.empty and "week" in none_at_risk.data
