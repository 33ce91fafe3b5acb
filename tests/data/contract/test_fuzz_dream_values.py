"""Input-contract fuzz suite (:mod:`evaltools.data.contract`), part 2: DREAM values.

Windows, ids, codes, parameters, the person table and the recoverable oddities.

Each malformation mutates a valid base input drawn by hypothesis
(``contract_fuzz_cases.cases``) and states the outcome the contract promises:
a named :class:`EvaltoolsError` subclass whose message names the column, line
or person, or acceptance with counted ``InputWarning`` notes and every
person-week conserved.  Any other exception escaping is a failure.  The counts
of the whole run are printed at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from contract_fuzz_cases import (
    FAST,
    SLOW,
    Case,
    Err,
    Ok,
    _absorbing,
    _col,
    _csv,
    _row,
    _with_column,
    cases,
    ok,
    registry,
    run,
    write,
)
from hypothesis import given
from hypothesis import strategies as st

from evaltools.data import (
    default_codes,
    isoweek_to_index,
    read_dream,
)
from evaltools.exceptions import (
    ColumnNameError,
    DataValidationError,
    EmptyInputError,
    FileFormatError,
    PersonIdError,
    SpecificationError,
    WeekValueError,
)

mutation, names = registry("dream_values:")


# -- DREAM observation windows -----------------------------------------------------------------
def _window_case(data, d, values: Callable[[Case], list], expect: Callable[[Case, int], Err], col="obs_end"):
    c = data.draw(cases())
    i = _row(data, c)
    vals: list = [int(c.weeks[-1] if col == "obs_end" else c.weeks[0])] * c.n
    vals[i] = values(c)
    df = _with_column(c, col, vals)
    if data.draw(st.booleans(), label="as csv"):
        path = write(d, df.to_csv(index=False))
        return (lambda: read_dream(path)), expect(c, i)
    return (lambda: read_dream(df)), expect(c, i)


for _name, (_val, _cls, _col_name) in {
    "obs_end_text": (lambda c: "abc", WeekValueError, "obs_end"),
    "obs_end_beyond_file": (lambda c: int(c.weeks[-1]) + 1, WeekValueError, "obs_end"),
    "obs_end_2099": (lambda c: int(isoweek_to_index(2099, 1)), WeekValueError, "obs_end"),
    "obs_end_non_integral": (lambda c: float(c.weeks[-1]) - 0.3, WeekValueError, "obs_end"),
    "obs_end_2_pow_40": (lambda c: 2**40, WeekValueError, "obs_end"),
    "obs_start_before_file": (lambda c: int(c.weeks[0]) - 1, WeekValueError, "obs_start"),
    "obs_start_text": (lambda c: "2015-W01", WeekValueError, "obs_start"),
}.items():

    def _m(data, d, _val=_val, _cls=_cls, _col_name=_col_name):
        return _window_case(
            data, d, _val, lambda c, i: Err(_cls, f"'{_col_name}'", f"PNR={c.ids[i]!r}"), col=_col_name
        )

    mutation(f"dream_{_name}")(_m)


@mutation("dream_obs_end_before_obs_start")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    df = _with_column(c, "obs_start", [int(c.weeks[0])] * c.n)
    df["obs_end"] = int(c.weeks[-1])
    df.loc[i, "obs_start"] = int(c.weeks[-1])
    df.loc[i, "obs_end"] = int(c.weeks[-2])
    return (lambda: read_dream(df)), Err(WeekValueError, "obs_end is before obs_start", f"row {i}")


@mutation("dream_obs_end_missing")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    vals = [float(c.weeks[-1])] * c.n
    vals[i] = np.nan
    df = _with_column(c, "obs_end", vals)
    return (lambda: read_dream(df)), Err(WeekValueError, "'obs_end'", "missing", f"row {i}")


@mutation("dream_obs_end_bool")
def _(data, d):
    c = data.draw(cases())
    df = _with_column(c, "obs_end", [True] * c.n)
    return (lambda: read_dream(df)), Err(WeekValueError, "'obs_end'", "booleans")


@mutation("dream_obs_end_inf")
def _(data, d):
    c = data.draw(cases())
    df = _with_column(c, "obs_end", [np.inf] + [float(c.weeks[-1])] * (c.n - 1))
    return (lambda: read_dream(df)), Err(WeekValueError, "'obs_end'", "row 0")


@mutation("dream_obs_end_uint64_huge")
def _(data, d):
    c = data.draw(cases())
    df = _with_column(c, "obs_end", np.full(c.n, 2**64 - 1, dtype=np.uint64))
    return (lambda: read_dream(df)), Err(WeekValueError, "'obs_end'", "plausible range")


@mutation("dream_obs_end_parameter_outside_file")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    return (lambda: read_dream(df, obs_end=int(c.weeks[-1]) + 5)), Err(WeekValueError, "'obs_end'")


@mutation("dream_obs_start_parameter_non_integral")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    return (lambda: read_dream(df, obs_start=float(c.weeks[0]) + 0.5)), Err(WeekValueError, "'obs_start'")


@mutation("dream_obs_start_parameter_column_missing")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    return (lambda: read_dream(df, obs_start="start")), Err(DataValidationError, "['start']")


@mutation("dream_obs_end_parameter_bool")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    return (lambda: read_dream(df, obs_end=True)), Err(SpecificationError, "'obs_end'")


# -- DREAM ids in DataFrames ---------------------------------------------------------------------
def _ids_case(data, ids: Callable[[Case, int], object], expect: Callable[[Case, int], Err | Ok], text=False):
    c = data.draw(cases(text=text))
    i = _row(data, c)
    df = c.frame()
    df["PNR"] = ids(c, i)
    return (lambda: read_dream(df)), expect(c, i)


def _replace(values: list, i: int, v: object, dtype=object) -> np.ndarray:
    out = np.array(values, dtype=dtype)
    out[i] = v
    return out


for _name, (_ids, _exp) in {
    "float_non_integral": (
        lambda c, i: _replace(c.ids, i, c.ids[i] + 0.5, float),
        lambda c, i: Err(PersonIdError, "non-integral", f"row {i}"),
    ),
    "float_nan": (
        lambda c, i: _replace(c.ids, i, np.nan, float),
        lambda c, i: Err(PersonIdError, "missing", f"row {i}"),
    ),
    "float_inf": (
        lambda c, i: _replace(c.ids, i, np.inf, float),
        lambda c, i: Err(PersonIdError, "non-integral", f"row {i}"),
    ),
    "float_beyond_2_pow_53": (
        lambda c, i: _replace(c.ids, i, 2.0**60, float),
        lambda c, i: Err(PersonIdError, "2**53", f"row {i}"),
    ),
    "float_integral": (lambda c, i: np.array(c.ids, dtype=float), lambda c, i: ok(c)),
    "mixed_int_and_text": (
        lambda c, i: _replace(c.ids, i, str(c.ids[i])),
        lambda c, i: Err(PersonIdError, "mixes numbers", "'PNR'"),
    ),
    "mixed_int_and_float": (lambda c, i: _replace(c.ids, i, float(c.ids[i])), lambda c, i: ok(c)),
    "uint64_above_int64": (
        lambda c, i: _replace(c.ids, i, 2**63 + i, np.uint64),
        lambda c, i: Err(PersonIdError, "2**63", f"row {i}"),
    ),
    "uint64_small": (lambda c, i: np.array(c.ids, dtype=np.uint64), lambda c, i: ok(c)),
    "python_int_beyond_int64": (
        lambda c, i: _replace(c.ids, i, 2**70),
        lambda c, i: Err(PersonIdError, "int64", f"row {i}"),
    ),
    "bool": (lambda c, i: np.arange(c.n) % 2 == 0, lambda c, i: Err(PersonIdError, "booleans")),
    "none_in_object": (
        lambda c, i: _replace(c.ids, i, None),
        lambda c, i: Err(PersonIdError, "missing", f"row {i}"),
    ),
    "duplicated": (
        lambda c, i: _replace(c.ids, (i + 1) % c.n, c.ids[i], np.int64),
        lambda c, i: Err(PersonIdError, "duplicated", "'PNR'"),
    ),
    "nullable_int_with_na": (
        lambda c, i: pd.array([None if j == i else v for j, v in enumerate(c.ids)], dtype="Int64"),
        lambda c, i: Err(PersonIdError, "missing", f"row {i}"),
    ),
    "categorical_ints": (lambda c, i: pd.Categorical(c.ids), lambda c, i: ok(c)),
    "bytes": (
        lambda c, i: _replace(c.ids, i, b"12"),
        lambda c, i: Err(PersonIdError, "'PNR'"),
    ),
}.items():
    mutation(f"df_ids_{_name}")(lambda data, d, _ids=_ids, _exp=_exp: _ids_case(data, _ids, _exp))


@mutation("df_ids_text_string_dtype")
def _(data, d):
    c = data.draw(cases(text=True))
    df = c.frame().astype({"PNR": "string"})
    return (lambda: read_dream(df)), ok(c)


@mutation("df_ids_text_blank")
def _(data, d):
    c = data.draw(cases(text=True))
    i = _row(data, c)
    df = c.frame()
    df.loc[i, "PNR"] = ""
    return (lambda: read_dream(df)), Err(PersonIdError, "blank", f"row {i}")


@mutation("df_ids_text_named_person_id")
def _(data, d):
    c = data.draw(cases(text=True))
    df = c.frame().rename(columns={"PNR": "person_id"})
    return (lambda: read_dream(df, id="person_id")), Err(PersonIdError, "'person_id'", "id=")


@mutation("df_string_index_kept_by_position")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    df.index = [f"r{i}" for i in range(c.n)][::-1]
    return (lambda: read_dream(df)), ok(c)


@mutation("df_zero_rows")
def _(data, d):
    c = data.draw(cases())
    df = c.frame().iloc[:0]
    return (lambda: read_dream(df)), Err(EmptyInputError, "no data rows")


# -- DREAM code values in DataFrames ----------------------------------------------------------------
def _codes_case(data, value: object, dtype=None, needle="holds non-integer"):
    c = data.draw(cases())
    j = _col(data, c)
    df = c.frame()
    vals = [float(x) if x else np.nan for x in df[c.cols[j]]]
    vals[_row(data, c)] = value
    df[c.cols[j]] = np.array(vals, dtype=dtype) if dtype else vals
    return (lambda: read_dream(df)), Err(DataValidationError, repr(c.cols[j]), needle)


mutation("df_code_non_integral_float")(lambda data, d: _codes_case(data, 111.5))
mutation("df_code_inf")(lambda data, d: _codes_case(data, np.inf))
mutation("df_code_huge_float")(lambda data, d: _codes_case(data, 1e20))
mutation("df_code_negative")(lambda data, d: _codes_case(data, -111.0, needle="not in the code table"))


@mutation("df_code_bool_column")
def _(data, d):
    c = data.draw(cases())
    j = _col(data, c)
    df = c.frame()
    df[c.cols[j]] = True
    return (lambda: read_dream(df)), Err(DataValidationError, repr(c.cols[j]), "'True'")


@mutation("df_code_mixed_int_and_text_accepted")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    for col in c.cols:
        df[col] = [int(x) if x and x != "651" else (x or None) for x in df[col]]
    return (lambda: read_dream(df)), ok(c)


@mutation("df_code_integral_floats_accepted")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    for col in c.cols:
        df[col] = [float(x) if x else np.nan for x in df[col]]
    return (lambda: read_dream(df)), ok(c)


# -- DREAM parameters and the person table ----------------------------------------------------------
@mutation("dream_bad_pivot")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    pivot = data.draw(st.sampled_from([-1, 100, 1.5, "90", True]))
    return (lambda: read_dream(df, pivot=pivot)), Err(SpecificationError, "'pivot'")


@mutation("dream_codes_not_a_code_table")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    return (lambda: read_dream(df, codes=default_codes().table)), Err(SpecificationError, "'codes'")


@mutation("dream_bad_absorbing_option")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    return (lambda: read_dream(df, absorbing="drop")), Err(SpecificationError, "'absorbing'")


@mutation("dream_source_not_a_path")
def _(data, d):
    c = data.draw(cases())
    return (lambda: read_dream(c.frame().to_dict())), Err(SpecificationError, "'source'")


@mutation("dream_bad_suffix")
def _(data, d):
    c = data.draw(cases())
    path = write(d, c.csv(), ".xlsx")
    return (lambda: read_dream(path)), Err(SpecificationError, "suffix")


@mutation("dream_corrupt_parquet")
def _(data, d):
    path = write(d, b"PAR1 not really", ".parquet")
    return (lambda: read_dream(path)), Err(FileFormatError, "Parquet")


@mutation("dream_parquet_text_ids")
def _(data, d):
    c = data.draw(cases(text=True))
    path = d / f"p{id(c)}_{c.n}_{c.k}.parquet"
    c.frame().to_parquet(path, index=False)
    return (lambda: read_dream(path)), ok(c)


@mutation("dream_events_nan_week")
def _(data, d):
    c = data.draw(cases(text=False))
    ev = pd.DataFrame({"person_id": [c.ids[0]], "week": [np.nan], "end_week": [c.weeks[0]]})
    df = c.frame()
    return (lambda: read_dream(df, events={"mentor": ev})), Err(WeekValueError, "events['mentor']", "'week'")


def _persons_table(c: Case, data) -> pd.DataFrame:
    return pd.DataFrame(
        {"PNR": c.ids, "municipality": [data.draw(st.sampled_from(["a", "b"])) for _ in c.ids]}
    )


@mutation("dream_persons_join")
def _(data, d):
    c = data.draw(cases())
    table = _persons_table(c, data)
    if data.draw(st.booleans(), label="as csv"):
        table = write(d, table.to_csv(index=False))
    return (lambda: read_dream(c.frame(), persons=table)), ok(c)


@mutation("dream_persons_unmatched_file_persons")
def _(data, d):
    c = data.draw(cases())
    table = _persons_table(c, data).iloc[1:]
    return (lambda: read_dream(c.frame(), persons=table)), ok(c, "persons_unmatched")


@mutation("dream_persons_rows_not_in_file")
def _(data, d):
    c = data.draw(cases(text=False))
    table = _persons_table(c, data)
    table.loc[len(table)] = [max(c.ids) + 1, "a"]
    return (lambda: read_dream(c.frame(), persons=table)), ok(c, "persons_not_in_file")


@mutation("dream_persons_duplicated_ids")
def _(data, d):
    c = data.draw(cases())
    table = _persons_table(c, data)
    table = pd.concat([table, table.iloc[[0]]], ignore_index=True)
    return (lambda: read_dream(c.frame(), persons=table)), Err(PersonIdError, "duplicated", "person table")


@mutation("dream_persons_without_key")
def _(data, d):
    c = data.draw(cases())
    table = _persons_table(c, data).rename(columns={"PNR": "cpr"})
    return (lambda: read_dream(c.frame(), persons=table)), Err(DataValidationError, "['PNR']")


@mutation("dream_persons_leading_zeros_lost")
def _(data, d):
    c = data.draw(cases(text=True))
    table = _persons_table(c, data)
    table["PNR"] = table["PNR"].astype(np.int64)
    return (lambda: read_dream(c.frame(), persons=table)), Err(PersonIdError, "verbatim", "persons['PNR']")


@mutation("dream_persons_column_clash")
def _(data, d):
    c = data.draw(cases())
    table = _persons_table(c, data).rename(columns={"municipality": "sex"})
    return (lambda: read_dream(c.frame(), persons=table)), Err(DataValidationError, "['sex']")


@mutation("dream_persons_near_miss_window")
def _(data, d):
    c = data.draw(cases())
    table = _persons_table(c, data).assign(**{"obs_end ": int(c.weeks[-1])})
    return (lambda: read_dream(c.frame(), persons=table)), Err(ColumnNameError, "'obs_end '")


@mutation("dream_on_without_persons")
def _(data, d):
    c = data.draw(cases())
    return (lambda: read_dream(c.frame(), on="PNR")), Err(SpecificationError, "persons")


# -- recoverable oddities: counted warnings, weeks conserved ----------------------------------------
for _code in ("997", "998", "999", "783", "412"):

    def _m(data, d, _code=_code):
        c, i, j = _absorbing(data, _code)
        df = c.frame()
        return (lambda: read_dream(df)), ok(c, "absorbing_end")

    mutation(f"dream_absorbing_{_code}_then_blank")(_m)


@mutation("dream_absorbing_keep")
def _(data, d):
    c, i, j = _absorbing(data, "997")
    df = c.frame()
    return (lambda: read_dream(df, absorbing="keep")), ok(c, "absorbing_end")


@mutation("dream_absorbing_error")
def _(data, d):
    c, i, j = _absorbing(data, "998")
    df = c.frame()
    return (lambda: read_dream(df, absorbing="error")), Err(
        DataValidationError, f"PNR={c.ids[i]}", "absorbing"
    )


@mutation("csv_absorbing_then_blank")
def _(data, d):
    c, i, j = _absorbing(data, "997")
    return _csv(d, c.lines()), ok(c, "absorbing_end")


@mutation("dream_codes_after_absorbing")
def _(data, d):
    c = data.draw(cases(text=False))
    i = _row(data, c)
    c.codes[i][0] = "997"
    c.codes[i][-1] = "111"
    return (lambda: read_dream(c.frame())), ok(c, "codes_after_absorbing")


@mutation("dream_person_without_codes")
def _(data, d):
    c = data.draw(cases(n_min=3))
    i = _row(data, c)
    c.codes[i] = [""] * c.k
    if not any(row[-1] for row in c.codes):
        c.codes[(i + 1) % c.n][-1] = "111"
    return (lambda: read_dream(c.frame())), ok(c, "no_coded_weeks")


@mutation("dream_blank_trailing_weeks")
def _(data, d):
    c = data.draw(cases())
    for row in c.codes:
        row[-1] = ""
    for row in c.codes:
        if not any(row):
            row[0] = "111"
    return (lambda: read_dream(c.frame())), ok(c, "blank_trailing_weeks")


@mutation("dream_blank_trailing_weeks_with_obs_end")
def _(data, d):
    c = data.draw(cases())
    for row in c.codes:
        row[-1] = ""
        if not any(row):
            row[0] = "111"
    df = _with_column(c, "obs_end", [int(c.weeks[-1])] * c.n)
    return (lambda: read_dream(df)), ok(c)


@mutation("dream_calendar_after_today")
def _(data, d):
    c = data.draw(cases())
    c.weeks = c.weeks + int(isoweek_to_index(2031, 1)) - int(c.weeks[0])
    return (lambda: read_dream(c.frame())), ok(c, "after_today")


# -- the tests ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", names())
@FAST
@given(data=st.data())
def test_malformation(name, data, fuzz_dir):
    run(name, data, fuzz_dir)


@pytest.mark.slow
@pytest.mark.parametrize("name", names())
@SLOW
@given(data=st.data())
def test_malformation_many_examples(name, data, fuzz_dir):
    run(name, data, fuzz_dir)


def test_module_registers_its_malformations():
    assert len(names()) >= 60
