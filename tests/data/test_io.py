import numpy as np
import pandas as pd
import pytest
from data_panel_factory import random_panel
from hypothesis import given, settings
from hypothesis import strategies as st

from evaltools.data import (
    RegisterPanel,
    isoweek_to_index,
    read_dream,
    read_long,
    to_dream_wide,
    write_dream,
    write_long,
)
from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError


def _wide():
    # 2015 has 53 ISO weeks; ids with leading zeros; columns deliberately out of order
    return pd.DataFrame(
        {
            "y_1601": ["890", "", None],
            "PNR": ["0101", "0202", "0303"],
            "y_1552": ["111", "701", np.nan],
            "sex": ["M", "F", "M"],
            "y_1553": ["", "701", "651"],
            "branche_2015_12": ["47", None, "01"],
            "grad_2015_12": [1.0, np.nan, 0.5],
            "ak15": ["1", None, "0"],
        }
    )


def test_read_dream_week53_and_layout():
    wide = _wide()
    before = wide.copy()
    p = read_dream(wide)
    pd.testing.assert_frame_equal(wide, before)  # input not mutated
    w52, w53, w01 = isoweek_to_index([2015, 2015, 2016], [52, 53, 1])
    assert w53 == w52 + 1 and w01 == w53 + 1
    got = p.states.astype({"state": str}).values.tolist()
    assert got == [[1, w52, "111"], [1, w01, "890"], [2, w52, "701"], [2, w53, "701"], [3, w53, "651"]]
    assert p.persons["PNR"].tolist() == ["0101", "0202", "0303"]
    assert p.persons[["obs_start", "obs_end"]].drop_duplicates().values.tolist() == [[w52, w01]]
    assert p.persons["sex"].tolist() == ["M", "F", "M"]
    m = p.events["dream_monthly"]
    assert m[["person_id", "month", "branche"]].values.tolist() == [
        [1, "2015-12", "47"],
        [3, "2015-12", "01"],
    ]
    assert m["grad"].tolist() == [1.0, 0.5]
    # December 2015: Thursdays 3, 10, 17, 24, 31 -> ISO weeks 49..53
    assert m[["week", "end_week"]].drop_duplicates().values.tolist() == [
        list(isoweek_to_index(2015, [49, 53]))
    ]
    y = p.events["dream_yearly"]
    assert y[["person_id", "year", "ak"]].values.tolist() == [[1, 2015, "1"], [3, 2015, "0"]]
    assert y[["week", "end_week"]].iloc[0].tolist() == list(isoweek_to_index(2015, [1, 53]))
    assert p.validate(raise_=False).ok
    assert p.meta["n_week_columns"] == 3


def test_two_digit_year_pivot_and_numeric_codes():
    wide = pd.DataFrame({"PNR": [5, 6], "y_9952": [111, np.nan], "y_0001": [np.nan, 701.0]})
    p = read_dream(wide)
    assert p.states["week"].tolist() == list(isoweek_to_index([1999, 2000], [52, 1]))
    assert p.states["state"].astype(str).tolist() == ["111", "701"]
    assert p.persons["person_id"].tolist() == [5, 6] and "PNR" not in p.persons
    p2 = read_dream(wide.rename(columns={"y_9952": "y_8952", "y_0001": "y_9001"}), pivot=80)
    assert p2.states["week"].tolist() == list(isoweek_to_index([1989, 1990], [52, 1]))


def test_read_dream_errors_name_column_count_and_example():
    wide = pd.DataFrame({"PNR": [1, 2, 3], "y_1501": ["111", "1x", "1x"], "y_1502": ["", "", ""]})
    with pytest.raises(DataValidationError) as e:
        read_dream(wide)
    msg = str(e.value)
    assert "column 'y_1501' (2015-W01)" in msg and "has 2 code(s)" in msg and "['1x']" in msg
    assert "PNR=2" in msg and "codes=..." in msg
    with pytest.raises(DataValidationError, match=r"y_1953"):
        read_dream(pd.DataFrame({"PNR": [1], "y_1952": ["111"], "y_1953": ["111"]}))
    with pytest.raises(DataValidationError, match=r"1 weekly column\(s\) are missing .* \['y_1502'\]"):
        read_dream(pd.DataFrame({"PNR": [1], "y_1501": ["111"], "y_1503": ["111"]}))
    with pytest.raises(
        DataValidationError, match=r"column 'PNR' has 2 rows with a duplicated id \(e.g. \[1\]\)"
    ):
        read_dream(pd.DataFrame({"PNR": [1, 1], "y_1501": ["111", ""]}))
    with pytest.raises(DataValidationError, match=r"column\(s\) \['PNR'\] \(person id\) not found"):
        read_dream(pd.DataFrame({"pnr": [1], "y_1501": ["111"]}))
    with pytest.raises(DataValidationError, match="no weekly columns"):
        read_dream(pd.DataFrame({"PNR": [1]}))
    with pytest.raises(SpecificationError, match="suffix"):
        read_dream("file.xlsx")
    with pytest.raises(FileNotFoundError, match="not found"):
        read_dream("missing.csv")


def test_files_round_trip(tmp_path):
    p = read_dream(_wide())
    for name in ("x.csv", "x.parquet", "x.csv.gz"):
        write_dream(p, tmp_path / name)
        q = read_dream(tmp_path / name)
        pd.testing.assert_frame_equal(q.states, p.states)
        pd.testing.assert_frame_equal(q.persons, p.persons, check_dtype=False)
        pd.testing.assert_frame_equal(q.events["dream_monthly"], p.events["dream_monthly"], check_dtype=False)
        pd.testing.assert_frame_equal(q.events["dream_yearly"], p.events["dream_yearly"], check_dtype=False)
    csv = (tmp_path / "x.csv").read_text().splitlines()
    assert csv[0].startswith("PNR,sex,y_1552,y_1553,y_1601,branche_2015_12,grad_2015_12,ak15")
    assert csv[1].startswith("0101,M,111,,890,")


def test_to_dream_wide_window_columns_and_dropped_warning():
    p = random_panel(3, n_persons=4, n_weeks=30)
    w = to_dream_wide(p)
    assert "obs_start" in w.columns  # windows differ between persons
    lo, hi = p.week_range
    with pytest.warns(DroppedRowsWarning, match="dropped"):
        w2 = to_dream_wide(p, weeks=(lo + 5, hi))
    assert sum(c.startswith("y_") for c in w2.columns) == hi - lo - 4


def test_read_long_formats_and_errors(tmp_path):
    df = pd.DataFrame(
        {"pnr": [1, 1, 2], "wk": ["2020-W53", "2021-W01", "2020W52"], "code": ["111", 701, "651"]}
    )
    p = read_long(df, id="pnr", week_col="wk", state_col="code")
    assert p.states["week"].tolist() == list(isoweek_to_index([2020, 2021, 2020], [53, 1, 52]))
    assert p.persons[["obs_start", "obs_end"]].values.tolist() == [[p.week_range[0], p.week_range[1]]] * 2
    yw = pd.DataFrame({"id": [1, 1], "year": [2020, 2020], "week": [52, 53], "state": ["111", None]})
    q = read_long(yw, id="id", year_col="year", dense=True)
    assert q.states["week"].tolist() == [isoweek_to_index(2020, 52)] and q.meta["n_blank_rows"] == 1
    assert q.persons[["obs_start", "obs_end"]].values.tolist() == [list(isoweek_to_index(2020, [52, 53]))]
    with pytest.raises(DataValidationError, match=r"duplicate person-weeks.*person_id=1 week=5"):
        read_long(pd.DataFrame({"person_id": [1, 1], "week": [5, 5], "state": ["111", "701"]}))
    with pytest.raises(DataValidationError, match=r"gaps in a dense long input.*person_id=1 week=7"):
        read_long(pd.DataFrame({"person_id": [1, 1], "week": [5, 7], "state": ["111", None]}), dense=True)
    with pytest.raises(DataValidationError, match=r"codes not in the code table \(\['123'\]\)"):
        read_long(pd.DataFrame({"person_id": [1], "week": [5], "state": ["123"]}))
    with pytest.raises(DataValidationError, match=r"ISO weeks like '2019-W05' \(e.g. \['2020-53'\]\)"):
        read_long(pd.DataFrame({"person_id": [1], "week": ["2020-53"], "state": ["111"]}))
    with pytest.raises(DataValidationError, match=r"do not exist \(e.g. 2019-W53\)"):
        read_long(pd.DataFrame({"person_id": [1], "week": ["2019-W53"], "state": ["111"]}))
    persons = pd.DataFrame({"person_id": [1], "obs_start": [0], "obs_end": [10]})
    with pytest.raises(DataValidationError, match=r"missing from the person table.*person_id=2"):
        read_long(
            pd.DataFrame({"person_id": [1, 2], "week": [5, 5], "state": ["111", "111"]}), persons=persons
        )
    with pytest.raises(
        DataValidationError, match=r"outside the person's observation window.*person_id=1 week=11"
    ):
        read_long(pd.DataFrame({"person_id": [1], "week": [11], "state": ["111"]}), persons=persons)
    with pytest.raises(DataValidationError, match=r"column 'person_id' must hold integer person ids; 1 rows"):
        read_long(pd.DataFrame({"person_id": ["a1"], "week": [11], "state": ["111"]}))
    with pytest.raises(SpecificationError, match="'week_format' parameter of write_long"):
        write_long(p, tmp_path / "x.csv", week_format="date")


def _same_panel(a: RegisterPanel, b: RegisterPanel, persons_cols=None):
    pd.testing.assert_frame_equal(a.states, b.states)
    cols = persons_cols or ["person_id", "obs_start", "obs_end"]
    pd.testing.assert_frame_equal(a.persons[cols], b.persons[cols], check_dtype=False)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), varying=st.booleans())
def test_round_trip_panel_wide_long(seed, varying):
    p = random_panel(seed, n_persons=5, n_weeks=70, varying_window=varying, with_events=False)
    # panel -> wide -> panel
    q = read_dream(to_dream_wide(p))
    _same_panel(p, q, ["person_id", "obs_start", "obs_end", "sex", "birth_year"])
    # wide -> long (dense) -> panel
    dense = q.to_long(dense=True)
    assert len(dense) == p.n_person_weeks
    r = read_long(dense, dense=True)
    _same_panel(p, r)
    # sparse long with the person table
    s = read_long(p.to_long(), persons=p.persons)
    _same_panel(p, s, ["person_id", "obs_start", "obs_end", "sex", "birth_year"])
    # and back to an identical wide table
    pd.testing.assert_frame_equal(to_dream_wide(r), to_dream_wide(p).drop(columns=["sex", "birth_year"]))


def test_long_files_round_trip(tmp_path):
    p = random_panel(7, n_persons=6, with_events=False)
    for name, dense, fmt in [
        ("d.csv", True, "iso"),
        ("s.parquet", False, "index"),
        ("d.parquet", True, "iso"),
    ]:
        write_long(p, tmp_path / name, dense=dense, week_format=fmt)
        q = read_long(tmp_path / name, dense=dense, persons=None if dense else p.persons)
        _same_panel(p, q)


def test_readers_and_writers_do_not_mutate(tmp_path):
    long = pd.DataFrame({"person_id": [2, 1], "week": ["2020-W53", "2020-W52"], "state": [" 111", "701"]})
    before = long.copy()
    p = read_long(long)
    pd.testing.assert_frame_equal(long, before)
    states0, persons0 = p.states.copy(), p.persons.copy()
    to_dream_wide(p)
    write_long(p, tmp_path / "x.parquet", dense=True, week_format="iso")
    write_dream(p, tmp_path / "x.csv")
    pd.testing.assert_frame_equal(p.states, states0)
    pd.testing.assert_frame_equal(p.persons, persons0)


@pytest.mark.parametrize("name", ["dream_monthly", "dream_yearly"])
def test_read_dream_refuses_an_event_table_named_like_a_calendar_table(name):
    wide = pd.DataFrame({"PNR": ["0101", "0202"], "y_1501": ["111", ""], "y_1502": ["111", "701"]})
    own = pd.DataFrame({"person_id": [1], "week": [0]})
    with pytest.raises(SpecificationError, match=rf"events\['{name}'\].*another name"):
        read_dream(wide, events={name: own})
