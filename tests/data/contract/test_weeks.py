import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from evaltools.data import isoweek_to_index
from evaltools.data.contract import (
    FIRST_WEEK,
    LAST_WEEK,
    Source,
    check_integers,
    check_week_parameter,
    check_weeks,
    current_week,
    format_week,
)
from evaltools.exceptions import SpecificationError, WeekValueError

SRC = Source("reader")


def test_valid_weeks_come_back_as_int32():
    for values in (
        pd.Series([1, 2]),
        np.array([1.0, 2.0]),
        pa.array([1, 2]),
        pd.Series([1, 2], dtype=object),
    ):
        out = check_weeks(values, column="week", source=SRC)
        assert out.dtype == np.int32 and out.tolist() == [1, 2]
    assert check_weeks(pd.Series([], dtype=float), column="week", source=SRC).tolist() == []


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        (pd.Series([1252 + 2**32]), "week=4294968548"),
        (pd.Series([2**31 + 10]), "week=2147483658"),
        (
            pd.Series([1252.7]),
            "non-integral week indices in 1 of 1 rows (e.g. row 0 person_id=7 week=1252.7)",
        ),
        (pd.Series([1.0, np.nan]), "row 1 person_id=8 week=nan"),
        (pd.Series([np.inf]), "week=inf"),
        (pd.Series(np.array([2**64 - 1], dtype=np.uint64)), "18446744073709551615"),
        (pd.Series(["12", "soon"]), "row 1 person_id=8 week='soon'"),
        (pd.Series([True]), "booleans"),
        (pd.array([5, None], dtype="Int64"), "is missing"),
    ],
)
def test_bad_weeks_show_the_raw_value(values, needle):
    with pytest.raises(WeekValueError, match="column 'week'") as e:
        check_weeks(values, column="week", source=SRC, ids=np.array([7, 8]))
    assert needle in str(e.value)
    assert "-2147483648" not in str(e.value)


def test_plausible_range_and_data_calendar():
    assert format_week(FIRST_WEEK).endswith("(1900-W01)") and format_week(LAST_WEEK).endswith("(2099-W52)")
    check_weeks(np.array([FIRST_WEEK, LAST_WEEK]), column="week", source=SRC)
    with pytest.raises(WeekValueError, match="plausible range"):
        check_weeks(np.array([LAST_WEEK + 1]), column="week", source=SRC)
    w = int(isoweek_to_index(2099, 1))
    with pytest.raises(WeekValueError) as e:
        check_weeks(
            np.array([1000, w]),
            column="obs_end",
            source=SRC,
            ids=np.array(["0101", "0202"], dtype=object),
            id_name="PNR",
            calendar=(939, 1199),
            calendar_name="the file's weekly columns y_0801..y_1252",
        )
    msg = str(e.value)
    assert "outside the file's weekly columns y_0801..y_1252 (939 (2008-W01)..1199 (2012-W52))" in msg
    assert f"row 1 PNR='0202' obs_end={w} (2099-W01)" in msg


def test_integers_in_bounds_and_week_parameters():
    assert check_integers(
        pd.Series([2015.0]), column="year", source=SRC, bounds=(1900, 2099), noun="ISO years"
    ).tolist() == [2015]
    with pytest.raises(WeekValueError, match="ISO week numbers outside 1..53"):
        check_integers(pd.Series([54]), column="week", source=SRC, bounds=(1, 53), noun="ISO week numbers")
    assert check_week_parameter(None, name="obs_end", where="f") is None
    assert check_week_parameter(np.int64(5), name="obs_end", where="f") == 5
    with pytest.raises(SpecificationError, match="'obs_end' parameter of f"):
        check_week_parameter("5", name="obs_end", where="f")
    with pytest.raises(WeekValueError, match="non-integral"):
        check_week_parameter(5.5, name="obs_end", where="f")


def test_current_week():
    assert current_week(dt.date(2021, 1, 4)) == int(isoweek_to_index(2021, 1))
    assert current_week(dt.date(2021, 1, 3)) == int(isoweek_to_index(2020, 53))
