import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaltools.data.contract import IdCollector, Source, classify_ids, number_text_ids
from evaltools.exceptions import PersonIdError

SRC = Source("reader")


def test_integers_and_canonical_text_are_integers():
    assert classify_ids(pd.Series([3, 1]), column="PNR", source=SRC).kind == "int"
    ids = classify_ids(pd.Series(["17", "-4", "0"]), column="PNR", source=SRC)
    assert ids.kind == "int" and ids.values.tolist() == [17, -4, 0] and ids.values.dtype == np.int64
    ids = classify_ids(pa.array(["17", "9"]), column="PNR", source=SRC)
    assert ids.kind == "int" and ids.values.tolist() == [17, 9]
    assert classify_ids(np.array([2.0, 5.0]), column="PNR", source=SRC).values.tolist() == [2, 5]


def test_text_ids_are_kept_verbatim_and_never_merged():
    ids = classify_ids(pd.Series(["0101901234", "101901234"]), column="PNR", source=SRC)
    assert ids.kind == "text" and ids.values.tolist() == ["0101901234", "101901234"]
    big = classify_ids(pd.Series(["1", str(2**64)]), column="PNR", source=SRC)
    assert big.kind == "text" and big.values.tolist() == ["1", str(2**64)]
    (num,) = number_text_ids(ids.values)
    assert num.tolist() == [1, 2]


def test_mixed_kinds_name_both_kinds_and_rows():
    with pytest.raises(PersonIdError) as e:
        classify_ids(
            pd.Series([5, "5", 6], dtype=object), column="PNR", source=Source("read_dream", "x.csv", 2)
        )
    msg = str(e.value)
    assert "mixes numbers (2 rows) and text (1 rows)" in msg
    assert "line 2 PNR=5" in msg and "line 3 PNR='5'" in msg


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        (pd.Series([1.5, 2.0]), "row 0 PNR=1.5"),
        (pd.Series([1.0, np.nan]), "is missing in 1 of 2 rows"),
        (pd.Series(np.array([2**63 + 1, 1], dtype=np.uint64)), "9223372036854775809"),
        (pd.Series([2.0**60]), "2**53"),
        (pd.Series([True, False]), "booleans"),
        (pd.Series(["a", " b"]), "row 1 PNR=' b'"),
        (pd.Series(["a", ""]), "blank"),
        (pd.Series([1, 2**70], dtype=object), "do not fit int64"),
        (pd.array([1, None], dtype="Int64"), "is missing"),
    ],
)
def test_malformed_ids_are_named_errors(values, needle):
    with pytest.raises(PersonIdError, match="column 'PNR'") as e:
        classify_ids(values, column="PNR", source=SRC)
    assert needle in str(e.value)


def test_text_not_allowed_for_person_id():
    with pytest.raises(PersonIdError, match="holds text ids in 1 of 2 rows"):
        classify_ids(pd.Series(["1", "01"]), column="person_id", source=SRC, allow_text=False)
    assert classify_ids(pd.Series(["1", "2"]), column="person_id", source=SRC, allow_text=False).kind == "int"


def test_collector_finds_duplicates_across_batches_with_their_line():
    col = IdCollector("PNR", fix="One row per person.")
    col.add(classify_ids(pd.Series(["0007", "12"]), column="PNR", source=SRC), Source("r", "f.csv", 2))
    with pytest.raises(PersonIdError, match=r"repeats 1 id\(s\) of earlier rows \(e.g. \[12\]\) in line 5"):
        col.add(classify_ids(pd.Series(["3", "12"]), column="PNR", source=SRC), Source("r", "f.csv", 4))


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(
        st.one_of(st.integers(0, 10**6).map(str), st.integers(0, 999).map(lambda v: f"0{v}")),
        min_size=1,
        max_size=30,
        unique=True,
    ),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_batches_give_the_same_ids_as_one_batch(ids, cuts):
    one = IdCollector("PNR", fix="")
    one.add(classify_ids(pd.Series(ids), column="PNR", source=SRC), SRC)
    expected = one.finish()
    many = IdCollector("PNR", fix="")
    bounds = sorted({0, len(ids), *(min(c, len(ids)) for c in cuts)})
    for a, b in zip(bounds[:-1], bounds[1:]):
        many.add(classify_ids(pd.Series(ids[a:b]), column="PNR", source=SRC), SRC)
    got = many.finish()
    assert got[0].tolist() == expected[0].tolist()
    assert (got[1] is None) == (expected[1] is None)
    if got[1] is not None:
        assert got[1].tolist() == expected[1].tolist() == ids
    else:
        assert got[0].tolist() == [int(i) for i in ids]


@pytest.mark.parametrize(
    "raw",
    [
        ["17", "4", "9"],
        ["-3", "0", "12"],
        ["0101", "17"],  # a leading zero: text ids
        [" 17", "4"],  # padded: an error
        ["17", ""],  # blank: an error
        ["17", None],  # missing: an error
        ["9223372036854775808", "1"],  # beyond int64: text
        ["1e3", "2"],
    ],
)
def test_arrow_text_ids_classified_as_object_ids(raw):
    """An Arrow text column (the CSV front pass) gives the ids, or the error, of the object column."""
    def run(values):
        try:
            ids = classify_ids(values, column="PNR", source=SRC)
        except PersonIdError as e:
            return "error", str(e)
        return ids.kind, list(ids.values)

    assert run(pa.chunked_array([raw[:1], raw[1:]], type=pa.string())) == run(
        pd.Series(raw, dtype=object)
    )
