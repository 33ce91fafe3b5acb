"""Input-contract fuzz suite (:mod:`evaltools.data.contract`), part 1: DREAM CSV structure and column names.

Each malformation mutates a valid base input drawn by hypothesis
(``contract_fuzz_cases.cases``) and states the outcome the contract promises:
a named :class:`EvaltoolsError` subclass whose message names the column, line
or person, or acceptance with counted ``InputWarning`` notes and every
person-week conserved.  Any other exception escaping is a failure.  The counts
of the whole run are printed at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from contract_fuzz_cases import (
    FAST,
    SLOW,
    Case,
    Err,
    Ok,
    _col,
    _csv,
    _line,
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
    read_dream,
)
from evaltools.exceptions import (
    ColumnNameError,
    DataValidationError,
    EmptyInputError,
    FileFormatError,
    PersonIdError,
)

mutation, names = registry("dream_csv:")


# -- DREAM CSV: structure ------------------------------------------------------------------
@mutation("csv_short_row_last_field")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    lines = c.lines()
    lines[i + 1] = lines[i + 1].rsplit(",", 1)[0]
    return _csv(d, lines), Err(FileFormatError, *_line(c, i))


@mutation("csv_short_row_middle_field")
def _(data, d):
    c = data.draw(cases())
    i, j = _row(data, c), _col(data, c)
    f = c.lines()[i + 1].split(",")
    del f[2 + j]
    lines = c.lines()
    lines[i + 1] = ",".join(f)
    return _csv(d, lines), Err(FileFormatError, *_line(c, i))


@mutation("csv_extra_field_end")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    lines = c.lines()
    lines[i + 1] += "," + data.draw(st.sampled_from(["", "111", "x"]))
    return _csv(d, lines), Err(FileFormatError, *_line(c, i))


@mutation("csv_extra_field_middle")
def _(data, d):
    c = data.draw(cases())
    i, j = _row(data, c), _col(data, c)
    f = c.lines()[i + 1].split(",")
    f.insert(2 + j, "701")
    lines = c.lines()
    lines[i + 1] = ",".join(f)
    return _csv(d, lines), Err(FileFormatError, *_line(c, i))


@mutation("csv_cut_inside_last_row")
def _(data, d):
    c = data.draw(cases())
    text = c.csv().rstrip("\n")
    last = text.rfind("\n") + 1
    cut = data.draw(st.integers(last + 1, text.rfind(",")))
    path = write(d, text[:cut])
    return (lambda: read_dream(path)), Err(FileFormatError, f"line {c.n + 1}")


@mutation("csv_cut_inside_header")
def _(data, d):
    c = data.draw(cases())
    header = c.lines()[0]
    cut = data.draw(st.integers(1, header.rfind(",") - 1))
    path = write(d, header[:cut])
    return (lambda: read_dream(path)), Err(DataValidationError)


@mutation("csv_empty_file")
def _(data, d):
    path = write(d, b"")
    return (lambda: read_dream(path)), Err(EmptyInputError, "empty")


@mutation("csv_header_only")
def _(data, d):
    c = data.draw(cases())
    path = write(d, c.lines()[0] + "\n")
    return (lambda: read_dream(path)), Err(EmptyInputError, "no data rows")


@mutation("csv_blank_first_line")
def _(data, d):
    c = data.draw(cases())
    path = write(d, "\n" + c.csv())
    return (lambda: read_dream(path)), Err(EmptyInputError, "blank")


@mutation("csv_semicolon_separated")
def _(data, d):
    c = data.draw(cases())
    path = write(d, c.csv().replace(",", ";"))
    return (lambda: read_dream(path)), Err(FileFormatError, "semicolon")


@mutation("csv_tab_separated")
def _(data, d):
    c = data.draw(cases())
    path = write(d, c.csv().replace(",", "\t"))
    return (lambda: read_dream(path)), Err(FileFormatError, "tab")


def _bytes_cell(c: Case, i: int, field: int, value: bytes) -> bytes:
    lines = [line.encode() for line in c.lines()]
    parts = lines[i + 1].split(b",")
    parts[field] = value
    lines[i + 1] = b",".join(parts)
    return b"\n".join(lines) + b"\n"


@mutation("csv_invalid_utf8_attribute")
def _(data, d):
    c = data.draw(cases())
    path = write(d, _bytes_cell(c, _row(data, c), 1, b"\xff"))
    return (lambda: read_dream(path)), Err(FileFormatError, "UTF-8", "'sex'")


@mutation("csv_invalid_utf8_code")
def _(data, d):
    c = data.draw(cases())
    path = write(d, _bytes_cell(c, _row(data, c), 2 + _col(data, c), b"1\xfe1"))
    return (lambda: read_dream(path)), Err(FileFormatError, "UTF-8")


@mutation("csv_unclosed_quote")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    lines = c.lines()
    f = lines[i + 1].split(",")
    f[1] = '"' + f[1]
    lines[i + 1] = ",".join(f)
    return _csv(d, lines), Err(FileFormatError)


@mutation("csv_line_break_in_quoted_field")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    lines = c.lines()
    f = lines[i + 1].split(",")
    f[1] = f'"{f[1]}\nx"'
    lines[i + 1] = ",".join(f)
    return _csv(d, lines), Err(FileFormatError, "'sex'", "line break")


@mutation("csv_repeated_row")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    lines = c.lines() + [c.lines()[i + 1]]
    return _csv(d, lines), Err(PersonIdError, "duplicated id", f"line {i + 2}")


@mutation("csv_blank_id")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    lines = c.lines()
    lines[i + 1] = "," + lines[i + 1].split(",", 1)[1]
    return _csv(d, lines), Err(PersonIdError, "'PNR'", f"line {i + 2}")


@mutation("csv_id_with_spaces")
def _(data, d):
    c = data.draw(cases())
    i = _row(data, c)
    lines = c.lines()
    lines[i + 1] = " " + lines[i + 1]
    return _csv(d, lines), Err(PersonIdError, "spaces", f"line {i + 2}")


@mutation("csv_ids_beyond_int64_kept_as_text")
def _(data, d):
    c = data.draw(cases(text=False))
    i = _row(data, c)
    c.ids[i] = 10**19 + c.ids[i]
    return _csv(d, c.lines()), ok(c)


@mutation("csv_leading_zero_and_plain_ids_stay_apart")
def _(data, d):
    c = data.draw(cases(text=False))
    c.ids[1] = "0" + str(c.ids[0])
    return _csv(d, c.lines()), ok(c)


@mutation("csv_float_like_ids_kept_as_text")
def _(data, d):
    c = data.draw(cases(text=False))
    c.ids = [f"{v}.0" if i == 0 else v for i, v in enumerate(c.ids)]
    return _csv(d, c.lines()), ok(c)


@mutation("csv_bom")
def _(data, d):
    c = data.draw(cases())
    path = write(d, "\ufeff" + c.csv())
    return (lambda: read_dream(path)), ok(c)


@mutation("csv_crlf")
def _(data, d):
    c = data.draw(cases())
    path = write(d, c.csv().replace("\n", "\r\n"))
    return (lambda: read_dream(path)), ok(c)


@mutation("csv_no_final_newline")
def _(data, d):
    c = data.draw(cases())
    path = write(d, c.csv().rstrip("\n"))
    return (lambda: read_dream(path)), ok(c)


@mutation("csv_all_fields_quoted")
def _(data, d):
    c = data.draw(cases())
    lines = [",".join(f'"{x}"' for x in line.split(",")) for line in c.lines()]
    return _csv(d, lines), ok(c)


@mutation("csv_blank_lines_between_rows")
def _(data, d):
    c = data.draw(cases())
    lines = c.lines()
    lines.insert(data.draw(st.integers(1, c.n)), "")
    return _csv(d, lines), ok(c)


@mutation("csv_codes_with_spaces")
def _(data, d):
    c = data.draw(cases())
    lines = c.lines()
    for r in range(1, len(lines)):
        f = lines[r].split(",")
        lines[r] = ",".join([*f[:2], *(f" {x} " if x else x for x in f[2:])])
    return _csv(d, lines), ok(c)


@mutation("csv_gzip")
def _(data, d):
    import gzip

    c = data.draw(cases())
    path = write(d, gzip.compress(c.csv().encode()), ".csv.gz")
    return (lambda: read_dream(path)), ok(c)


@mutation("csv_float_formatted_code")
def _(data, d):
    c = data.draw(cases())
    i, j = _row(data, c), _col(data, c)
    c.codes[i][j] = "111.0"
    return _csv(d, c.lines()), Err(DataValidationError, repr(c.cols[j]), "['111.0']")


@mutation("csv_unknown_code")
def _(data, d):
    c = data.draw(cases())
    i, j = _row(data, c), _col(data, c)
    c.codes[i][j] = data.draw(st.sampled_from(["123", "x", "1 1", "-1"]))
    return _csv(d, c.lines()), Err(DataValidationError, repr(c.cols[j]), f"PNR={c.ids[i]}")


# -- DREAM column names (CSV header and DataFrame) ------------------------------------------
def _renamed(
    data, d, new_name: Callable[[str], str], expect: Callable[[Case, str, str], Err | Ok], frame=False
):
    c = data.draw(cases())
    j = _col(data, c)
    old = c.cols[j]
    new = new_name(old)
    if frame:
        df = c.frame().rename(columns={old: new})
        return (lambda: read_dream(df)), expect(c, old, new)
    lines = c.lines()
    lines[0] = lines[0].replace(old, new)
    return _csv(d, lines), expect(c, old, new)


def _near(c, old, new):
    return Err(ColumnNameError, repr(new))


for _name, _fn in {
    "trailing_space": lambda s: s + " ",
    "leading_space": lambda s: " " + s,
    "upper_case_y": lambda s: "Y" + s[1:],
    "no_underscore": lambda s: "y" + s[2:],
    "hyphen": lambda s: "y-" + s[2:],
    "space_for_underscore": lambda s: "y " + s[2:],
    "inner_space": lambda s: s[:4] + " " + s[4:],
    "three_digits": lambda s: s[:-1],
    "five_digits": lambda s: s + "0",
    "trailing_tab": lambda s: s + "\t",
    "pandas_dot_suffix": lambda s: s + ".1",
}.items():
    for _frame in (False, True):
        mutation(f"{'df' if _frame else 'csv'}_weekly_column_{_name}")(
            lambda data, d, _fn=_fn, _frame=_frame: _renamed(data, d, _fn, _near, frame=_frame)
        )


@mutation("csv_duplicated_weekly_column")
def _(data, d):
    c = data.draw(cases())
    j = _col(data, c, 1)
    lines = c.lines()
    lines[0] = lines[0].replace(c.cols[j], c.cols[j - 1])
    return _csv(d, lines), Err(ColumnNameError, repr(c.cols[j - 1]), "2 times")


@mutation("csv_duplicated_id_column")
def _(data, d):
    c = data.draw(cases())
    lines = c.lines()
    lines[0] = lines[0].replace("sex", "PNR")
    return _csv(d, lines), Err(ColumnNameError, "'PNR'", "2 times")


@mutation("df_duplicated_weekly_column")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    j = _col(data, c)
    df = pd.concat([df, df[[c.cols[j]]]], axis=1)
    return (lambda: read_dream(df)), Err(ColumnNameError, repr(c.cols[j]))


@mutation("df_multiindex_columns")
def _(data, d):
    c = data.draw(cases())
    df = c.frame()
    df.columns = pd.MultiIndex.from_product([["x"], df.columns])
    return (lambda: read_dream(df)), Err(ColumnNameError, "MultiIndex")


@mutation("csv_gap_in_weekly_columns")
def _(data, d):
    c = data.draw(cases())
    j = data.draw(st.integers(1, c.k - 2))
    df = c.frame().drop(columns=[c.cols[j]])
    path = write(d, df.to_csv(index=False))
    return (lambda: read_dream(path)), Err(DataValidationError, repr(c.cols[j]))


@mutation("csv_week_that_does_not_exist")
def _(data, d):
    c = data.draw(cases())
    lines = c.lines()
    bad = "y_1953"
    lines[0] = lines[0].replace(c.cols[-1], bad)
    return _csv(d, lines), Err(DataValidationError, bad)


@mutation("csv_no_weekly_columns")
def _(data, d):
    c = data.draw(cases())
    path = write(d, c.frame()[["PNR", "sex"]].to_csv(index=False))
    return (lambda: read_dream(path)), Err(DataValidationError, "no weekly columns")


@mutation("csv_id_column_lower_case")
def _(data, d):
    c = data.draw(cases())
    lines = c.lines()
    lines[0] = lines[0].replace("PNR", "pnr", 1)
    return _csv(d, lines), Err(DataValidationError, "['PNR']", "'pnr'")


@mutation("csv_id_column_trailing_space")
def _(data, d):
    c = data.draw(cases())
    lines = c.lines()
    lines[0] = lines[0].replace("PNR", "PNR ", 1)
    return _csv(d, lines), Err(DataValidationError, "['PNR']", "'PNR '")


for _name, _new in {
    "obs_end_trailing_space": "obs_end ",
    "obs_end_upper_case": "OBS_END",
    "obs_start_capital": "Obs_start",
}.items():

    def _m(data, d, _new=_new):
        c = data.draw(cases())
        df = _with_column(c, _new, [int(c.weeks[-1])] * c.n)
        path = write(d, df.to_csv(index=False))
        return (lambda: read_dream(path)), Err(ColumnNameError, repr(_new))

    mutation(f"csv_{_name}")(_m)


@mutation("csv_monthly_column_capital")
def _(data, d):
    c = data.draw(cases())
    df = _with_column(c, "Branche_2015_01", ["47"] * c.n)
    return (lambda: read_dream(df)), Err(ColumnNameError, "'Branche_2015_01'")


@mutation("csv_yearly_column_upper_case")
def _(data, d):
    c = data.draw(cases())
    df = _with_column(c, "AK15", ["1"] * c.n)
    return (lambda: read_dream(df)), Err(ColumnNameError, "'AK15'")


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
