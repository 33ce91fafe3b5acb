import numpy as np
import pandas as pd
import pytest
from data_panel_factory import dense_states, random_panel
from hypothesis import given, settings
from hypothesis import strategies as st

from evaltools.data import RegisterPanel, build_spells, isoweek_to_index, week_month
from evaltools.data.spells import SPELL_COLUMNS
from evaltools.exceptions import DataValidationError, SpecificationError


def _panel(rows, windows, events=None):
    states = pd.DataFrame(rows, columns=["person_id", "week", "state"])
    persons = pd.DataFrame(windows, columns=["person_id", "obs_start", "obs_end"])
    return RegisterPanel(states=states, persons=persons, events=events or {})


def test_contract_columns_and_dtypes():
    sp = build_spells(random_panel(1))
    assert tuple(sp.columns) == SPELL_COLUMNS
    assert sp["person_id"].dtype == np.int64 and sp["spell_id"].dtype == np.int64
    for c in ("start_week", "end_week", "n_weeks", "duration"):
        assert sp[c].dtype == np.int32
    assert isinstance(sp["benefit"].dtype, pd.CategoricalDtype)
    assert isinstance(sp["exit"].dtype, pd.CategoricalDtype)
    assert sp["censored"].dtype == bool
    assert sp["spell_id"].is_unique and (sp["spell_id"] == np.arange(len(sp))).all()
    assert (sp["duration"] == sp["end_week"] - sp["start_week"] + 1).all()
    assert (sp["censored"] == (sp["exit"] == "censored")).all()


def test_exits_by_hand():
    # person 1: kh 10-12, blank 13, kh 14, then sygedagpenge 15, blank 16..20 (obs_end 20)
    # person 2: a-dagpenge 10-11, SU 12-13 = obs_end; person 3: kh 5-6 then death code 997
    rows = [(1, 10, "701"), (1, 11, "702"), (1, 12, "702"), (1, 14, "701"), (1, 15, "890")]
    rows += [(2, 10, "111"), (2, 11, "111"), (2, 12, "651"), (2, 13, "651")]
    rows += [(3, 5, "701"), (3, 6, "701"), (3, 7, "997"), (3, 8, "997")]
    p = _panel(rows, [(1, 5, 20), (2, 5, 13), (3, 1, 8)])
    sp = build_spells(p)
    got = sp[["person_id", "benefit", "start_week", "end_week", "n_weeks", "exit"]].astype(
        {"benefit": str, "exit": str}
    )
    expected = pd.DataFrame(
        [
            (1, "kontanthjaelp", 10, 12, 3, "self_support"),
            (1, "kontanthjaelp", 14, 14, 1, "sygedagpenge"),
            (1, "sygedagpenge", 15, 15, 1, "self_support"),
            (2, "adagpenge", 10, 11, 2, "su"),
            (3, "kontanthjaelp", 5, 6, 2, "censored"),
        ],
        columns=got.columns,
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # SU, barsel and censoring codes are not public support: no spells of their own by default
    assert set(sp["benefit"].astype(str)) <= {"kontanthjaelp", "sygedagpenge", "adagpenge"}
    # a spell reaching obs_end is censored
    one = build_spells(_panel([(1, 19, "701"), (1, 20, "701")], [(1, 5, 20)]))
    assert one["exit"].tolist() == ["censored"] and one["censored"].tolist() == [True]


def test_gap_rule_int_bridges_short_gaps():
    rows = [(1, w, "701") for w in (10, 11, 13, 14, 17, 18)]
    p = _panel(rows, [(1, 1, 40)])
    assert len(build_spells(p, gap_rule="any_week")) == 3
    sp2 = build_spells(p, gap_rule=2)  # bridges the 1-week gap, not the 2-week gap
    assert sp2[["start_week", "end_week", "n_weeks", "duration"]].values.tolist() == [
        [10, 14, 4, 5],
        [17, 18, 2, 2],
    ]
    sp3 = build_spells(p, gap_rule=3)
    assert sp3[["start_week", "end_week", "n_weeks"]].values.tolist() == [[10, 18, 6]]
    assert sp3["exit"].tolist() == ["self_support"]
    pd.testing.assert_frame_equal(build_spells(p, gap_rule=1), build_spells(p, gap_rule="any_week"))


def test_gap_rule_calendar_month_thursday_rule():
    # weeks of Jan..Apr 2019 by their Thursday
    weeks = np.arange(isoweek_to_index(2019, 1), isoweek_to_index(2019, 18))
    month = week_month(weeks).astype(int) % 12 + 1
    jan, feb, mar = weeks[month == 1], weeks[month == 2], weeks[month == 3]
    # on benefit in the last January week and the first March week: all of February off -> two spells
    p = _panel([(1, int(jan[-1]), "111"), (1, int(mar[0]), "111")], [(1, int(weeks[0]), int(weeks[-1]))])
    assert len(build_spells(p, gap_rule="calendar_month")) == 2
    # off from the 2nd January week to the 1st February week: no whole month off -> one spell
    p = _panel([(1, int(jan[0]), "111"), (1, int(feb[1]), "111")], [(1, int(weeks[0]), int(weeks[-1]))])
    sp = build_spells(p, gap_rule="calendar_month")
    assert len(sp) == 1 and sp["n_weeks"].iloc[0] == 2
    assert sp["duration"].iloc[0] == feb[1] - jan[0] + 1
    # February not fully observed -> the spell's end cannot be decided: censored
    p = _panel([(1, int(jan[1]), "111")], [(1, int(weeks[0]), int(feb[-2]))])
    assert build_spells(p, gap_rule="calendar_month")["exit"].tolist() == ["censored"]
    p = _panel([(1, int(jan[1]), "111")], [(1, int(weeks[0]), int(feb[-1]))])
    assert build_spells(p, gap_rule="calendar_month")["exit"].tolist() == ["self_support"]


def test_benefit_selection_and_grouping():
    rows = [(1, 10, "111"), (1, 11, "701"), (1, 12, "890"), (1, 13, "651")]
    p = _panel(rows, [(1, 1, 30)])
    assert build_spells(p, benefit="kontanthjaelp")["exit"].tolist() == ["sygedagpenge"]
    sp = build_spells(p, groups={"public": ["adagpenge", "kontanthjaelp", "sygedagpenge"]}, benefit="public")
    assert sp[["start_week", "end_week"]].values.tolist() == [[10, 12]]
    assert sp["exit"].tolist() == ["su"]
    with pytest.raises(SpecificationError, match="'benefit' parameter of build_spells names unknown group"):
        build_spells(p, benefit="kontant")
    with pytest.raises(SpecificationError, match=r"The 'gap_rule' parameter of build_spells must be"):
        build_spells(p, gap_rule="month")
    with pytest.raises(SpecificationError, match="gap_rule"):
        build_spells(p, gap_rule=0)
    with pytest.raises(SpecificationError, match="not a value of the code-table column 'benefit'"):
        build_spells(p, groups={"x": ["nope"]})


def test_states_without_person_row_raise():
    p = _panel([(1, 10, "701"), (2, 10, "701")], [(1, 1, 30)])
    with pytest.raises(DataValidationError, match=r"missing from panel.persons \(e.g. person_id=\[2\]\)"):
        build_spells(p)


def test_empty_panel():
    p = _panel([], [(1, 1, 30)])
    sp = build_spells(p)
    assert len(sp) == 0 and tuple(sp.columns) == SPELL_COLUMNS


def test_does_not_mutate_panel():
    p = random_panel(5)
    before = p.states.copy(), p.persons.copy()
    build_spells(p, gap_rule="calendar_month")
    pd.testing.assert_frame_equal(p.states, before[0])
    pd.testing.assert_frame_equal(p.persons, before[1])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rule=st.sampled_from(["any_week", 2, 4, "calendar_month"]))
def test_spells_cover_every_coded_person_week(seed, rule):
    p = random_panel(seed, n_persons=6, n_weeks=60)
    sp = build_spells(p, gap_rule=rule)
    bmap = p.codes.mapping("benefit")
    ps = set(p.codes.codes_where(public_support=True))
    coded = p.states[p.states["state"].isin(ps)]
    # every public-support person-week lies in exactly one spell of its group
    assert sp["n_weeks"].sum() == len(coded)
    key = coded.assign(g=coded["state"].astype(str).map(bmap))
    for (pid, g), grp in key.groupby(["person_id", "g"]):
        s = sp[(sp["person_id"] == pid) & (sp["benefit"] == g)]
        idx = np.searchsorted(s["start_week"].to_numpy(), grp["week"].to_numpy(), side="right") - 1
        assert (idx >= 0).all()
        assert (grp["week"].to_numpy() <= s["end_week"].to_numpy()[idx]).all()
        assert np.bincount(idx, minlength=len(s)).tolist() == s["n_weeks"].tolist()
    if rule == "any_week":
        assert (sp["n_weeks"] == sp["duration"]).all()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_any_week_spells_match_brute_force(seed):
    p = random_panel(seed, n_persons=5, n_weeks=50)
    dense = dense_states(p)
    bmap = p.codes.mapping("benefit")
    ps = set(p.codes.codes_where(public_support=True))
    cens = set(p.codes.codes_where(censoring=True))
    expected = []
    for pid, g in dense.groupby("person_id"):
        codes = g["code"].tolist()
        weeks = g["week"].tolist()
        i = 0
        while i < len(codes):
            c = codes[i]
            if c in ps:
                grp = bmap[c]
                j = i
                while j + 1 < len(codes) and codes[j + 1] is not None and bmap[codes[j + 1]] == grp:
                    j += 1
                if j + 1 == len(codes):
                    ex = "censored"
                elif codes[j + 1] is None:
                    ex = "self_support"
                elif codes[j + 1] in cens:
                    ex = "censored"
                else:
                    ex = bmap[codes[j + 1]]
                expected.append((pid, grp, weeks[i], weeks[j], ex))
                i = j + 1
            else:
                i += 1
    got = build_spells(p)[["person_id", "benefit", "start_week", "end_week", "exit"]]
    got = [tuple(r) for r in got.astype({"benefit": str, "exit": str}).itertuples(index=False)]
    assert got == expected
