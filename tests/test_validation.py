import warnings

import numpy as np
import pandas as pd
import pytest

from evaltools import DataValidationError, EvaltoolsError, SpecificationError
from evaltools._validation import check_columns, check_kwargs, check_option, raise_for_rows, warn_dropped
from evaltools.exceptions import DroppedRowsWarning


def test_hierarchy():
    assert issubclass(DataValidationError, ValueError) and issubclass(DataValidationError, EvaltoolsError)
    assert issubclass(SpecificationError, ValueError)


def test_check_option_message():
    with pytest.raises(SpecificationError) as e:
        check_option("ties", "efrn", ("efron", "breslow"), "CoxPH.fit")
    assert str(e.value) == (
        "The 'ties' parameter of CoxPH.fit must be a str among {'efron', 'breslow'}. Got 'efrn' instead."
    )
    assert check_option("ties", "efron", ("efron", "breslow"), "CoxPH.fit") == "efron"


def test_check_kwargs():
    with pytest.raises(SpecificationError, match=r"unexpected keyword argument\(s\) \['bogus'\]"):
        check_kwargs({"bogus": 1}, ["alpha"], "f")


def test_check_columns_lists_available():
    df = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(DataValidationError, match=r"\['c'\].*Available columns: \['a', 'b'\]"):
        check_columns(df, ["a", "c"], "f")


def test_raise_for_rows_template():
    df = pd.DataFrame(
        {"person_id": [1017, 2203, 5, 6, 7], "week": [12, 40, 1, 2, 3], "start": 0, "stop": [0, 0, 1, 0, 0]}
    )
    with pytest.raises(DataValidationError) as e:
        raise_for_rows(
            df,
            df["stop"] <= df["start"],
            rule="column 'stop' must be greater than 'start' in every row",
            fix="Drop zero-length rows.",
            columns=["person_id", "week"],
        )
    msg = str(e.value)
    assert "4 of 5 rows violate this" in msg
    assert "person_id=1017 week=12; person_id=2203 week=40; person_id=6 week=2; ..." in msg
    assert msg.endswith("Drop zero-length rows.")
    raise_for_rows(df, np.zeros(5, bool), rule="r", fix="f", columns=["person_id"])


def test_warn_dropped():
    with pytest.warns(DroppedRowsWarning, match="dropped 3 of 10 rows"):
        warn_dropped(3, 10, "missing", "f")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_dropped(0, 10, "missing", "f")
