import numpy as np
import pandas as pd
import pytest
from data_panel_factory import random_panel
from hypothesis import given, settings
from hypothesis import strategies as st

from evaltools.data import RegisterPanel, build_spells, to_counting_process, to_person_period
from evaltools.exceptions import SpecificationError


def _toy():
    # kontanthjaelp 10..19 (obs to 30): passive 10-12, internship 13-14, passive 15-19, then blank 20
    rows = [(1, w, "701") for w in range(10, 13)] + [(1, 13, "702"), (1, 14, "702")]
    rows += [(1, w, "701") for w in range(15, 20)]
    rows += [(2, w, "111") for w in range(5, 9)] + [(2, 9, "651")]
    states = pd.DataFrame(rows, columns=["person_id", "week", "state"])
    persons = pd.DataFrame({"person_id": [1, 2], "obs_start": [1, 1], "obs_end": [30, 30], "sex": ["M", "F"]})
    mentor = pd.DataFrame(
        {"person_id": [1, 2], "week": [16, 2], "end_week": [16, 2]}
    )  # person 2: before spell
    return RegisterPanel(states=states, persons=persons, events={"mentor": mentor})


def test_counting_process_by_hand():
    p = _toy()
    sp = build_spells(p)
    cp = to_counting_process(sp, p, treatments="mentor", covariates=["sex"])
    one = cp[cp["person_id"] == 1]
    # weeks 10..19 are spell weeks 1..10; activation in weeks 4-5; mentor starts in week 7 (16),
    # so treated from week 8 on: intervals (0,3] (3,5] (5,7] (7,10]
    assert one[["start", "stop", "in_activation", "treated", "event"]].values.tolist() == [
        [0, 3, 0, 0, 0],
        [3, 5, 1, 0, 0],
        [5, 7, 0, 0, 0],
        [7, 10, 0, 1, 1],
    ]
    assert one["exit"].astype(str).tolist() == ["none", "none", "none", "self_support"]
    assert (one["sex"] == "M").all()
    two = cp[cp["person_id"] == 2]
    assert two[["start", "stop", "treated", "event"]].values.tolist() == [[0, 4, 0, 1]]  # mentor before spell
    assert two["exit"].astype(str).tolist() == ["su"]
    assert list(cp.columns[:7]) == ["spell_id", "person_id", "benefit", "start", "stop", "event", "exit"]
    assert cp["start"].dtype == np.int32 and cp["event"].dtype == np.int8


def test_event_exits_max_duration_and_bands():
    p = _toy()
    sp = build_spells(p)
    cp = to_counting_process(sp, p, event_exits="su")
    assert cp.groupby("person_id")["event"].sum().tolist() == [0, 1]
    cp = to_counting_process(sp, p, max_duration=6)
    one = cp[cp["person_id"] == 1]
    assert one["stop"].max() == 6 and one["event"].sum() == 0
    assert one["exit"].astype(str).iloc[-1] == "censored"
    pp = to_person_period(sp, p, treatments="mentor", time_bands=(1, 2))
    one = pp[pp["person_id"] == 1]
    assert one["time_since_treatment"].astype(str).tolist() == ["untreated"] * 7 + ["1", "2", "3+"]
    with pytest.raises(SpecificationError, match="'event_exits' parameter of to_counting_process"):
        to_counting_process(sp, p, event_exits="job")
    with pytest.raises(SpecificationError, match="'time_bands' parameter"):
        to_counting_process(sp, p, treatments="mentor", time_bands=(4, 2))
    with pytest.raises(SpecificationError, match="does not have. Available event tables: \\['mentor'\\]"):
        to_counting_process(sp, p, treatments="sanction")
    with pytest.raises(SpecificationError, match="pass panel"):
        to_counting_process(sp, covariates=["sex"])


def test_without_panel_and_with_dataframe_treatment():
    p = _toy()
    sp = build_spells(p)
    cp = to_counting_process(sp)
    assert cp[["start", "stop", "event"]].values.tolist() == [[0, 10, 1], [0, 4, 1]]
    tr = pd.DataFrame({"person_id": [1], "week": [12]})
    cp = to_counting_process(sp, treatments={"offer": tr})
    assert cp[cp["person_id"] == 1][["start", "stop", "treated_offer"]].values.tolist() == [
        [0, 3, 0],
        [3, 10, 1],
    ]


def _expand_cp(cp):
    n = (cp["stop"] - cp["start"]).to_numpy()
    rep = np.repeat(np.arange(len(cp)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    dur = np.repeat(cp["start"].to_numpy(), n) + (np.arange(n.sum()) - first) + 1
    return cp.iloc[rep].reset_index(drop=True).assign(duration=dur)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), rule=st.sampled_from(["any_week", 3, "calendar_month"]))
def test_counting_process_expands_to_person_period(seed, rule):
    p = random_panel(seed, n_persons=6, n_weeks=60)
    sp = build_spells(p, gap_rule=rule)
    kw = {"treatments": ["mentor", "activation"], "covariates": ["sex"], "time_bands": (2, 5)}
    pp = to_person_period(sp, p, **kw)
    cp = to_counting_process(sp, p, **kw)
    assert len(pp) == sp["duration"].sum()
    # intervals tile (0, duration] for every spell; event only at the last row
    g = cp.groupby("spell_id")
    assert (g["start"].min() == 0).all()
    assert (
        g["stop"].max().to_numpy() == sp.set_index("spell_id").loc[g.size().index, "duration"].to_numpy()
    ).all()
    assert (cp["stop"] > cp["start"]).all()
    nxt = cp.groupby("spell_id")["start"].shift(-1)
    assert ((nxt.isna()) | (nxt == cp["stop"])).all()
    assert (cp.loc[nxt.notna(), "event"] == 0).all()
    # re-expanding the counting-process rows gives the person-period rows exactly
    ex = _expand_cp(cp)
    cols = [
        "spell_id",
        "person_id",
        "duration",
        "treated_mentor",
        "treated_activation",
        "in_activation",
        "sex",
    ]
    pd.testing.assert_frame_equal(ex[cols], pp[cols], check_dtype=False)
    assert (ex["time_since_mentor"].astype(str) == pp["time_since_mentor"].astype(str)).all()
    last = pp["exit"].astype(str) != "none"
    assert last.sum() == len(sp)
    assert cp["event"].sum() == pp["event"].sum() == (~sp["censored"]).sum()
    # no two consecutive rows of a spell are identical (collapsed)
    tv = [
        "treated_mentor",
        "treated_activation",
        "in_activation",
        "time_since_mentor",
        "time_since_activation",
    ]
    same = (cp[tv].astype(str).shift(1) == cp[tv].astype(str)).all(axis=1) & (
        cp["spell_id"].shift(1) == cp["spell_id"]
    )
    assert not same.any()


def test_treated_only_after_treatment_week_and_within_spell():
    p = random_panel(11, n_persons=10, n_weeks=80)
    sp = build_spells(p)
    pp = to_person_period(sp, p, treatments="activation")
    act = p.events["activation"]
    for r in pp[pp["treated"] == 1].itertuples():
        s = sp.loc[sp["spell_id"] == r.spell_id].iloc[0]
        t = act[
            (act["person_id"] == r.person_id) & (act["week"] >= s.start_week) & (act["week"] <= s.end_week)
        ]
        assert len(t) and t["week"].min() < r.week


def test_inputs_not_mutated():
    p = random_panel(2)
    sp = build_spells(p)
    sp0 = sp.copy()
    to_counting_process(sp, p, treatments="mentor", covariates=["sex"], max_duration=5)
    pd.testing.assert_frame_equal(sp, sp0)


def test_empty_spells():
    p = _toy()
    sp = build_spells(p).iloc[:0]
    cp = to_counting_process(sp, p, treatments="mentor", covariates=["sex"])
    assert len(cp) == 0 and "treated" in cp.columns and "stop" in cp.columns
    assert len(to_person_period(sp, p)) == 0
