import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaltools.data import (
    dream_column,
    isoweek_to_index,
    read_dream,
    read_long,
    validate,
    weeks_self_supporting,
)
from evaltools.data.codes import default_codes
from evaltools.exceptions import DataValidationError, InputWarning, PersonIdError

W0 = int(isoweek_to_index(2010, 10))
COLS = dream_column(np.arange(W0, W0 + 40))  # y_1010 .. y_1049


def _emigrant():
    """Person 1: kontanthjaelp in 2010-W10..W29, emigrates (997) in 2010-W30, blank afterwards."""
    codes = {c: ["701" if i < 20 else ("997" if i == 20 else ""), "111"] for i, c in enumerate(COLS)}
    return pd.DataFrame({"PNR": [1, 2], **codes})


def test_emigration_ends_observation_by_default():
    with pytest.warns(
        InputWarning, match=r"1 person\(s\) have blank weeks after a final absorbing code"
    ) as rec:
        p = read_dream(_emigrant())
    assert "19 person-weeks" in str(rec[0].message) and "PNR=1" in str(rec[0].message)
    assert p.persons["obs_end"].tolist() == [W0 + 20, W0 + 39]
    (note,) = p.meta["input_notes"]
    assert (note["rule"], note["count"], note["weeks"]) == ("absorbing_end", 1, 19)
    assert p.n_person_weeks + note["weeks"] == 2 * 40
    ref = pd.Series([W0 + 19], index=[1])
    # after emigration nothing is observed: no self-supporting weeks are counted
    assert weeks_self_supporting(p, ref, horizon=20, partial="observed").tolist() == [0]
    rep = validate(p)
    assert rep.ok and [n.rule for n in rep.notes] == ["absorbing_end"]
    assert "Notes (1, not failures)" in str(rep)
    assert rep.to_frame(notes=True)["level"].tolist() == ["note"]


def test_absorbing_keep_and_error():
    with pytest.warns(InputWarning, match="absorbing='keep'"):
        p = read_dream(_emigrant(), absorbing="keep")
    assert p.persons["obs_end"].tolist() == [W0 + 39] * 2
    ref = pd.Series([W0 + 19], index=[1])
    assert weeks_self_supporting(p, ref, horizon=20).tolist() == [
        19
    ]  # the weeks abroad count as self-support
    assert [n.rule for n in validate(p).notes] == ["absorbing_end"]
    with pytest.raises(
        DataValidationError,
        match=rf"PNR=1 last_code_week={W0 + 20} \(2010-W30\) obs_end={W0 + 39} \(2010-W49\)",
    ):
        read_dream(_emigrant(), absorbing="error")


def test_absorbing_run_to_the_end_and_codes_after_absorbing():
    df = _emigrant()
    for c in COLS[20:]:
        df[c] = ["783", "111"]  # disability pension to the end of the file: nothing to end
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = read_dream(df)
    assert p.meta["input_notes"] == [] and p.persons["obs_end"].tolist() == [W0 + 39] * 2
    df[COLS[30]] = ["701", "111"]
    with pytest.warns(InputWarning, match="non-absorbing code"):
        p = read_dream(df)
    assert [n["rule"] for n in p.meta["input_notes"]] == ["codes_after_absorbing"]
    assert [i.rule for i in validate(p, raise_=False).issues] == ["after_absorbing"]


def test_read_long_dense_ends_observation_at_absorbing_code():
    long = pd.DataFrame({"PNR": ["07"] * 4, "week": [5, 6, 7, 8], "state": ["111", "997", None, None]})
    with pytest.warns(InputWarning, match="2 person-weeks"):
        p = read_long(long, id="PNR", dense=True)
    assert p.persons[["PNR", "obs_start", "obs_end"]].values.tolist() == [["07", 5, 6]]


def test_persons_table_joins_attributes_verbatim(tmp_path):
    wide = pd.DataFrame(
        {"PNR": ["0101", "0202", "0303"], "y_1501": ["111", "701", ""], "y_1502": ["", "", "890"]}
    )
    table = pd.DataFrame({"PNR": ["0303", "0101", "9999"], "municipality": ["Odense", "Nyborg", "Aarhus"]})
    path = tmp_path / "persons.csv"
    table.to_csv(path, index=False)
    for src in (table, path):
        with pytest.warns(InputWarning) as rec:
            p = read_dream(wide, persons=src)
        assert p.persons[["PNR", "municipality"]].astype(object).where(
            p.persons.notna(), None
        ).values.tolist() == [
            ["0101", "Nyborg"],
            ["0202", None],
            ["0303", "Odense"],
        ]
        rules = [n["rule"] for n in p.meta["input_notes"]]
        assert rules == ["persons_unmatched", "persons_not_in_file"] and len(rec) == 2
        assert "1 of 3 person(s) of the file have no row" in str(rec[0].message)
        assert "PNR=['9999']" in str(rec[1].message)


def test_persons_table_keyed_by_another_column_and_int_ids():
    wide = pd.DataFrame({"PNR": [1, 2], "y_1501": ["111", "701"]})
    table = pd.DataFrame({"cpr": [2, 1], "birth_year": [1980, 1990]})
    p = read_dream(wide, persons=table, on="cpr")
    assert p.persons["birth_year"].tolist() == [1990, 1980] and "cpr" not in p.persons
    with pytest.raises(PersonIdError, match="verbatim"):
        read_dream(wide, persons=table.assign(cpr=["02", "01"]), on="cpr")


def test_read_long_person_table_from_file_with_text_ids(tmp_path):
    long = pd.DataFrame({"PNR": ["007", "007", "12"], "week": [5, 6, 5], "state": ["111", "701", "111"]})
    persons = pd.DataFrame(
        {"PNR": ["12", "007", "008"], "obs_start": [1, 2, 3], "obs_end": [9, 9, 9], "sex": ["F", "M", "F"]}
    )
    path = tmp_path / "p.csv"
    persons.to_csv(path, index=False)
    with pytest.warns(InputWarning, match=r"1 of 3 person\(s\) have no coded week"):
        p = read_long(long, id="PNR", persons=path)
    assert p.persons[["person_id", "PNR", "obs_start", "sex"]].values.tolist() == [
        [1, "007", 2, "M"],
        [2, "008", 3, "F"],
        [3, "12", 1, "F"],
    ]
    assert p.states["person_id"].tolist() == [1, 1, 3]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mode", ["end_observation", "keep", "error"])
def test_absorbing_rule_per_person_equals_the_rule_on_the_states(seed, mode):
    from evaltools.data._reading import CodedRows, absorbing_rows, apply_absorbing

    codes = default_codes()
    names = list(codes.codes)
    absorbing = np.isin(np.asarray(names, dtype=object), codes.codes_where(absorbing=True))
    rng = np.random.default_rng(seed)
    n, weeks, lo = 40, 30, 1300
    pid = rng.permutation(np.arange(500, 500 + 3 * n))[:n]  # persons in no particular id order
    wanted = ["111", "701", "997", "998", "999"]
    pick = np.asarray([names.index(c) for c in wanted])
    mat = np.where(rng.random((n, weeks)) < 0.3, pick[rng.integers(0, len(pick), (n, weeks))], -1)
    mat[:3] = -1  # persons without a coded week
    counts = (mat >= 0).sum(axis=1)
    cells = np.flatnonzero(mat.ravel() >= 0)
    week = (lo + cells % weeks).astype(np.int32)
    code = mat.ravel()[cells].astype(np.int8)
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "obs_start": np.full(n, lo, np.int32),
            "obs_end": np.full(n, lo + weeks - 1 + rng.integers(0, 3, n), np.int32),
        }
    )
    states = pd.DataFrame(
        {
            "person_id": np.repeat(pid, counts),
            "week": week,
            "state": pd.Categorical.from_codes(code, dtype=codes.dtype()),
        }
    )
    shown = pid.astype(object)
    kw = dict(mode=mode, where="w", id_name="PNR", shown=shown)
    coded = CodedRows.of_cells(counts.astype(np.int64), week, code, absorbing)
    if mode == "error":
        with pytest.raises(DataValidationError) as want:
            apply_absorbing(states, persons, codes, **kw)
        with pytest.raises(DataValidationError) as got:
            absorbing_rows(coded, persons, codes, **kw)
        assert str(got.value) == str(want.value)
        return
    want_p, want_n = apply_absorbing(states, persons, codes, **kw)
    got_p, got_n = absorbing_rows(coded, persons, codes, **kw)
    pd.testing.assert_frame_equal(got_p, want_p)
    assert [x.as_dict() for x in got_n] == [x.as_dict() for x in want_n]
    assert {x.rule for x in want_n} == {"absorbing_end", "codes_after_absorbing"}


def _absorbing_reference(states, persons, absorbing):
    """The absorbing rule person by person: rows cut (with last week), codes after absorbing per row."""
    cut, after = {}, {}
    for i, (p, end) in enumerate(zip(persons["person_id"], persons["obs_end"])):
        mine = states[states["person_id"] == p].sort_values("week", kind="stable")
        if not len(mine):
            continue
        weeks = mine["week"].to_numpy()
        is_abs = mine["state"].astype(str).isin(absorbing).to_numpy()
        if is_abs[-1] and weeks[-1] < end:
            cut[i] = int(weeks[-1])
        if is_abs.any():
            n = int((~is_abs & (weeks > weeks[is_abs].min())).sum())
            if n:
                after[i] = n
    return cut, after


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 9),
    weeks=st.integers(1, 8),
    seed=st.integers(0, 10_000),
    p_coded=st.sampled_from([0.0, 0.3, 0.8, 1.0]),
    p_abs=st.sampled_from([0.0, 0.3, 0.7]),
    keep_all=st.booleans(),
    sorted_rows=st.booleans(),
)
def test_absorbing_rule_of_states_and_of_cells_agree_with_the_rule_person_by_person(
    n, weeks, seed, p_coded, p_abs, keep_all, sorted_rows
):
    from evaltools.data._reading import CodedRows, absorbing_rows, apply_absorbing

    codes = default_codes()
    names = list(codes.codes)
    absorbing_names = codes.codes_where(absorbing=True)
    absorbing = np.isin(np.asarray(names, dtype=object), absorbing_names)
    rng = np.random.default_rng(seed)
    lo = 1300
    pid = rng.permutation(np.arange(100, 100 + 3 * n + 1))[:n]  # ids in no particular order
    plain = np.flatnonzero(~absorbing)
    final = np.flatnonzero(absorbing)  # several absorbing codes, also in the first week
    pick = np.where(
        rng.random((n, weeks)) < p_abs,
        final[rng.integers(0, len(final), (n, weeks))],
        plain[rng.integers(0, len(plain), (n, weeks))],
    )
    mat = np.where(rng.random((n, weeks)) < p_coded, pick, -1)
    mat[rng.random(n) < 0.2] = -1  # persons without a coded week
    # the persons table as a reader filters it: the states of the others are not looked at
    keep = np.ones(n, bool) if keep_all else rng.random(n) < 0.6
    counts = (mat >= 0).sum(axis=1).astype(np.int64)
    cells = np.flatnonzero(mat.ravel() >= 0)
    week = (lo + cells % weeks).astype(np.int32)
    code = mat.ravel()[cells].astype(np.int16)
    states = pd.DataFrame(
        {
            "person_id": np.repeat(pid, counts),
            "week": week,
            "state": pd.Categorical.from_codes(code, dtype=codes.dtype()),
        }
    )
    if not sorted_rows:
        states = states.iloc[rng.permutation(len(states))].reset_index(drop=True)
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "obs_start": np.full(n, lo, np.int32),
            "obs_end": (lo + weeks - 1 + rng.integers(0, 3, n)).astype(np.int32),
        }
    )[keep].reset_index(drop=True)
    shown = persons["person_id"].to_numpy().astype(object)

    in_keep = np.repeat(keep, counts)
    by_cells = CodedRows.of_cells(counts[keep], week[in_keep], code[in_keep], absorbing)
    by_states = CodedRows.of_states(states, persons["person_id"].to_numpy(), codes)
    for k in CodedRows.__slots__:
        np.testing.assert_array_equal(getattr(by_states, k), getattr(by_cells, k), err_msg=k)

    cut, after = _absorbing_reference(states, persons, absorbing_names)
    obs_end = persons["obs_end"].to_numpy()
    for mode in ("end_observation", "keep", "error"):
        kw = dict(mode=mode, where="w", id_name="PNR", shown=shown)
        if mode == "error" and cut:
            with pytest.raises(DataValidationError) as want:
                absorbing_rows(by_cells, persons, codes, **kw)
            with pytest.raises(DataValidationError) as got:
                apply_absorbing(states, persons, codes, **kw)
            assert str(got.value) == str(want.value)
            assert f"{len(cut):,} person(s) have blank weeks after their last code" in str(got.value)
            continue
        got_p, got_n = apply_absorbing(states, persons, codes, **kw)
        want_p, want_n = absorbing_rows(by_cells, persons, codes, **kw)
        pd.testing.assert_frame_equal(got_p, want_p)
        assert [x.as_dict() for x in got_n] == [x.as_dict() for x in want_n]
        assert persons["obs_end"].tolist() == obs_end.tolist()  # the caller's table is not changed
        end = obs_end.copy()
        if mode == "end_observation":
            for i, w in cut.items():
                end[i] = w
        assert got_p["obs_end"].tolist() == end.tolist()
        notes = {x.rule: x for x in got_n}
        rules = (("absorbing_end", cut), ("codes_after_absorbing", after))
        assert set(notes) == {rule for rule, found in rules if found}
        if cut:
            note = notes["absorbing_end"]
            assert note.count == len(cut)
            assert note.weeks == sum(int(obs_end[i]) - w for i, w in cut.items())
            ids = [int(shown[i]) for i in sorted(cut)[:3]]
            assert [int(x) for x in re.findall(r"PNR=(\d+)", note.examples)] == ids
            assert note.examples.endswith("; ...") == (len(cut) > 3)
        if after:
            note = notes["codes_after_absorbing"]
            assert (note.count, note.weeks) == (len(after), sum(after.values()))
            ids = [int(shown[i]) for i in sorted(after)[:3]]
            assert [int(x) for x in re.findall(r"PNR=(\d+)", note.examples)] == ids


def test_absorbing_rule_reads_states_of_any_category_order_or_as_text():
    from evaltools.data._reading import apply_absorbing

    codes = default_codes()
    states = pd.DataFrame(
        {
            "person_id": [3, 3, 1, 1, 1, 2],
            "week": [10, 11, 10, 11, 12, 10],
            "state": ["111", "998", "999", "701", "412", "701"],
        }
    )
    persons = pd.DataFrame({"person_id": [1, 2, 3], "obs_start": [10, 10, 10], "obs_end": [20, 20, 11]})
    kw = dict(mode="end_observation", where="w", id_name="PNR", shown=np.array([1, 2, 3], dtype=object))
    as_table = states.assign(state=states["state"].astype(codes.dtype()))
    want_p, want_n = apply_absorbing(as_table, persons, codes, **kw)
    assert want_p["obs_end"].tolist() == [12, 20, 11]
    found = [(x.rule, x.count, x.weeks) for x in want_n]
    assert found == [("absorbing_end", 1, 8), ("codes_after_absorbing", 1, 1)]
    reordered = pd.Categorical(states["state"], categories=["999", "998", "701", "412", "111"])
    for state in (states["state"], reordered):
        got_p, got_n = apply_absorbing(states.assign(state=state), persons, codes, **kw)
        pd.testing.assert_frame_equal(got_p, want_p)
        assert [x.as_dict() for x in got_n] == [x.as_dict() for x in want_n]
