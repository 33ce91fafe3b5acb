"""Input-contract fuzz suite (:mod:`evaltools.data.contract`), part 3: long layout, panels, transforms.

The long person-week layout, RegisterPanel and event tables, the transforms and validate.

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
    _absorbing,
    _row,
    cases,
    ok,
    registry,
    run,
    write,
)
from hypothesis import given
from hypothesis import strategies as st

from evaltools.data import (
    RegisterPanel,
    build_spells,
    read_long,
    to_person_period,
    validate,
    weeks_self_supporting,
)
from evaltools.data.contract import LAST_WEEK
from evaltools.exceptions import (
    ColumnNameError,
    DataValidationError,
    EmptyInputError,
    FileFormatError,
    PanelInvariantError,
    PersonIdError,
    SpecificationError,
    WeekValueError,
)

mutation, names = registry("long_panel:")


# -- long layout -------------------------------------------------------------------------------
def _long(data, dense: bool | None = None, text: bool = False):
    c = data.draw(cases(text=text))
    dense = data.draw(st.booleans(), label="dense") if dense is None else dense
    col = "PNR" if text else "person_id"
    return c, dense, c.long(dense=dense, person_col=col), col


def _long_read(frame, dense, col, persons=None, **kw):
    return lambda: read_long(frame, dense=dense, id=col, persons=persons, **kw)


def _long_mut(set_value: Callable, expect: Callable, text=False, dense=None):
    def f(data, d):
        c, dense_, frame, col = _long(data, dense, text)
        r = data.draw(st.integers(0, len(frame) - 1), label="long row")
        frame = set_value(frame, r, c)
        return _long_read(frame, dense_, col, persons=c.persons(col) if not dense_ else None), expect(c, r)

    return f


def _set(column: str, value, dtype=object):
    def f(frame, r, c):
        vals = frame[column].to_numpy(dtype=dtype).copy()
        vals[r] = value(frame.loc[r, column]) if callable(value) else value
        return frame.assign(**{column: vals})

    return f


for _name, (_setter, _exp) in {
    "week_plus_2_pow_32": (_set("week", lambda w: w + 2**32, np.int64), WeekValueError),
    "week_2_pow_31_plus_10": (_set("week", 2**31 + 10, np.int64), WeekValueError),
    "week_non_integral": (_set("week", lambda w: w + 0.7, float), WeekValueError),
    "week_nan": (_set("week", np.nan, float), WeekValueError),
    "week_text": (_set("week", "soon"), WeekValueError),
    "week_inf": (_set("week", np.inf, float), WeekValueError),
    "week_negative_huge": (_set("week", -(2**40), np.int64), WeekValueError),
    "id_float_non_integral": (_set("person_id", lambda p: p + 0.5, float), PersonIdError),
    "id_nan": (_set("person_id", np.nan, float), PersonIdError),
    "id_int_vs_text": (_set("person_id", lambda p: str(p)), PersonIdError),
    "id_uint64_huge": (_set("person_id", 2**63 + 1, np.uint64), PersonIdError),
    "state_unknown_code": (_set("state", "9x9"), DataValidationError),
    "state_float_code": (_set("state", 111.5), DataValidationError),
}.items():
    mutation(f"long_{_name}")(
        _long_mut(
            _setter,
            lambda c, r, _exp=_exp: (
                Err(_exp, f"row {r}") if _exp is not DataValidationError else Err(_exp, "'state'")
            ),
        )
    )


@mutation("long_week_bool_column")
def _(data, d):
    c, dense, frame, col = _long(data, False)
    frame = frame.assign(week=True)
    return _long_read(frame, dense, col, persons=c.persons()), Err(WeekValueError, "booleans")


@mutation("long_zero_rows")
def _(data, d):
    c, dense, frame, col = _long(data)
    return _long_read(frame.iloc[:0], dense, col), Err(EmptyInputError, "no data rows")


@mutation("long_zero_rows_with_persons")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    return _long_read(frame.iloc[:0], False, col, persons=c.persons()), ok(c, "no_coded_weeks", coded=0)


@mutation("long_duplicated_column")
def _(data, d):
    c, dense, frame, col = _long(data)
    frame = pd.concat([frame, frame[["week"]]], axis=1)
    return _long_read(frame, dense, col), Err(ColumnNameError, "'week'")


@mutation("long_missing_state_column")
def _(data, d):
    c, dense, frame, col = _long(data)
    return _long_read(frame.drop(columns="state"), dense, col), Err(DataValidationError, "['state']")


@mutation("long_duplicate_person_week")
def _(data, d):
    c, dense, frame, col = _long(data)
    r = data.draw(st.integers(0, len(frame) - 1))
    frame = pd.concat([frame, frame.iloc[[r]]], ignore_index=True)
    return _long_read(frame, dense, col), Err(DataValidationError, "duplicate person-weeks")


@mutation("long_dense_gap")
def _(data, d):
    c, dense, frame, col = _long(data, dense=True)
    # drop an inner week of one person
    i = _row(data, c)
    w = int(c.weeks[data.draw(st.integers(1, c.k - 2))])
    frame = frame[~((frame[col] == c.ids[i]) & (frame["week"] == w))]
    return _long_read(frame, True, col), Err(DataValidationError, "gaps", f"week={w + 1}")


@mutation("long_text_ids_leading_zeros")
def _(data, d):
    c, dense, frame, col = _long(data, text=True)
    return _long_read(frame, dense, col, persons=c.persons(col) if not dense else None), ok(c)


@mutation("long_leading_zero_and_plain_ids_stay_apart")
def _(data, d):
    c = data.draw(cases(text=True))
    c.ids[1] = c.ids[0].lstrip("0")
    frame = c.long(dense=True, person_col="PNR")
    return _long_read(frame, True, "PNR"), ok(c)


@mutation("long_text_ids_in_person_id_column")
def _(data, d):
    c = data.draw(cases(text=True))
    frame = c.long(dense=True)
    return _long_read(frame, True, "person_id"), Err(PersonIdError, "'person_id'", "id=")


@mutation("long_csv_text_ids")
def _(data, d):
    c = data.draw(cases(text=True))
    path = write(d, c.long(dense=True, person_col="PNR").to_csv(index=False))
    return (lambda: read_long(path, id="PNR", dense=True)), ok(c)


@mutation("long_csv_short_row")
def _(data, d):
    c = data.draw(cases())
    lines = c.long(dense=True, person_col="PNR").to_csv(index=False).splitlines()
    r = data.draw(st.integers(1, len(lines) - 1))
    lines[r] = lines[r].rsplit(",", 1)[0]
    path = write(d, "\n".join(lines) + "\n")
    return (lambda: read_long(path, id="PNR", dense=True)), Err(FileFormatError, f"line {r + 1}")


@mutation("long_csv_persons_file")
def _(data, d):
    c = data.draw(cases(text=True))
    frame = c.long(dense=False, person_col="PNR")
    path = write(d, c.persons("PNR").to_csv(index=False))
    return _long_read(frame, False, "PNR", persons=path), ok(c)


@mutation("long_persons_nan_window")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    p = c.persons().astype({"obs_start": float})
    i = _row(data, c)
    p.loc[i, "obs_start"] = np.nan
    return _long_read(frame, False, col, persons=p), Err(
        WeekValueError, "'obs_start'", f"person_id={c.ids[i]}"
    )


@mutation("long_persons_text_window")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    p = c.persons().astype({"obs_end": object})
    p.loc[_row(data, c), "obs_end"] = "end"
    return _long_read(frame, False, col, persons=p), Err(WeekValueError, "'obs_end'", "'end'")


@mutation("long_persons_duplicated_ids")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    p = c.persons()
    p = pd.concat([p, p.iloc[[0]]], ignore_index=True)
    return _long_read(frame, False, col, persons=p), Err(PersonIdError, "duplicated")


@mutation("long_persons_only_obs_start")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    return _long_read(frame, False, col, persons=c.persons().drop(columns="obs_end")), Err(
        WeekValueError, "'obs_end'"
    )


@mutation("long_persons_kind_mismatch")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False, text=True)
    p = c.persons("PNR").astype({"PNR": np.int64})
    return _long_read(frame, False, col, persons=p), Err(PersonIdError, "verbatim")


@mutation("long_persons_missing_a_person")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    i = _row(data, c)
    p = c.persons().drop(index=i)
    return _long_read(frame, False, col, persons=p), Err(
        DataValidationError, "missing from the person table", f"person_id={c.ids[i]}"
    )


@mutation("long_week_outside_person_window")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    p = c.persons()
    i = int(frame.index[-1])
    pid = frame.loc[i, col]
    p.loc[p[col] == pid, "obs_end"] = int(frame.loc[i, "week"]) - 1
    p.loc[p[col] == pid, "obs_start"] = int(c.weeks[0]) - 5
    return _long_read(frame, False, col, persons=p), Err(
        DataValidationError, "observation window", f"person_id={pid}"
    )


@mutation("long_persons_with_extra_person")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    p = c.persons()
    p.loc[len(p)] = [max(c.ids) + 1, int(c.weeks[0]), int(c.weeks[-1]), "F"]
    return _long_read(frame, False, col, persons=p), ok(
        c, "no_coded_weeks", persons=c.n + 1, observed=(c.n + 1) * c.k
    )


@mutation("long_year_col_nan")
def _(data, d):
    c, dense, frame, col = _long(data, dense=True)
    from evaltools.data import index_to_isoweek

    y, w = index_to_isoweek(frame["week"].to_numpy())
    frame = frame.assign(year=y.astype(float), week=w)
    frame.loc[0, "year"] = np.nan
    return _long_read(frame, True, col, year_col="year"), Err(WeekValueError, "'year'", "missing")


@mutation("long_year_col_week_54")
def _(data, d):
    c, dense, frame, col = _long(data, dense=True)
    frame = frame.assign(year=2015, week=54)
    return _long_read(frame, True, col, year_col="year"), Err(WeekValueError, "'week'", "ISO week numbers")


@mutation("long_iso_week_53_in_short_year")
def _(data, d):
    c, dense, frame, col = _long(data, dense=True)
    frame = frame.assign(week="2019-W53")
    return _long_read(frame, True, col), Err(DataValidationError, "2019-W53")


@mutation("long_iso_labels_year_out_of_range")
def _(data, d):
    c, dense, frame, col = _long(data, dense=True)
    frame = frame.assign(week="3019-W05")
    return _long_read(frame, True, col), Err(WeekValueError, "ISO years")


@mutation("long_dense_absorbing_then_blank")
def _(data, d):
    c, i, j = _absorbing(data, "997")
    frame = c.long(dense=True)
    return _long_read(frame, True, "person_id"), ok(c, "absorbing_end")


@mutation("long_obs_end_parameter_huge")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    return _long_read(frame, False, col, obs_end=2**40), Err(WeekValueError, "'obs_end'")


@mutation("long_obs_start_parameter_text")
def _(data, d):
    c, dense, frame, col = _long(data, dense=False)
    return _long_read(frame, False, col, obs_start="2015-W01"), Err(SpecificationError, "'obs_start'")


@mutation("long_dense_not_bool")
def _(data, d):
    c, dense, frame, col = _long(data)
    return (lambda: read_long(frame, id=col, dense="yes")), Err(SpecificationError, "'dense'")


# -- RegisterPanel and event tables ----------------------------------------------------------------
def _tables(data):
    c = data.draw(cases(text=False))
    return c, c.long(dense=False), c.persons()


def _panel_mut(edit: Callable, expect: Err):
    def f(data, d):
        c, states, persons = _tables(data)
        kw = {"states": states, "persons": persons, "events": {}}
        edit(kw, c, data)
        return (lambda: RegisterPanel(**kw)), expect

    return f


def _edit(table: str, column: str, value, dtype=object):
    def f(kw, c, data):
        t = kw[table].copy()
        vals = t[column].to_numpy(dtype=dtype).copy()
        vals[data.draw(st.integers(0, len(t) - 1))] = value
        t[column] = vals
        kw[table] = t

    return f


for _name, (_ed, _exp) in {
    "states_text_ids": (_edit("states", "person_id", "0101"), Err(PersonIdError, "'person_id'", "text")),
    "states_week_beyond_int32": (_edit("states", "week", 2**40, np.int64), Err(WeekValueError, "'week'")),
    "states_week_nan": (_edit("states", "week", np.nan, float), Err(WeekValueError, "'week'", "missing")),
    "persons_obs_start_nan": (
        _edit("persons", "obs_start", np.nan, float),
        Err(WeekValueError, "'obs_start'"),
    ),
    "persons_obs_end_text": (_edit("persons", "obs_end", "x"), Err(WeekValueError, "'obs_end'")),
    "persons_id_float": (_edit("persons", "person_id", 0.5, float), Err(PersonIdError, "'person_id'")),
    "persons_id_uint_huge": (
        _edit("persons", "person_id", 2**64 - 1, np.uint64),
        Err(PersonIdError, "2**63"),
    ),
}.items():
    mutation(f"panel_{_name}")(_panel_mut(_ed, _exp))


@mutation("panel_duplicated_state_columns")
def _(data, d):
    c, states, persons = _tables(data)
    states = pd.concat([states, states[["week"]]], axis=1)
    return (lambda: RegisterPanel(states=states, persons=persons)), Err(ColumnNameError, "'week'")


@mutation("panel_states_not_a_frame")
def _(data, d):
    c, states, persons = _tables(data)
    return (lambda: RegisterPanel(states=states.to_dict("list"), persons=persons)), Err(
        SpecificationError, "'states'"
    )


@mutation("panel_codes_not_a_code_table")
def _(data, d):
    c, states, persons = _tables(data)
    return (lambda: RegisterPanel(states=states, persons=persons, codes="default")), Err(
        SpecificationError, "'codes'"
    )


@mutation("panel_event_end_week_nan")
def _(data, d):
    c, states, persons = _tables(data)
    ev = pd.DataFrame({"person_id": [c.ids[0]], "week": [int(c.weeks[0])], "end_week": [np.nan]})
    return (lambda: RegisterPanel(states=states, persons=persons, events={"mentor": ev})), Err(
        WeekValueError, "'end_week'"
    )


@mutation("panel_event_person_float")
def _(data, d):
    c, states, persons = _tables(data)
    ev = pd.DataFrame(
        {"person_id": [c.ids[0] + 0.5], "week": [int(c.weeks[0])], "end_week": [int(c.weeks[0])]}
    )
    return (lambda: RegisterPanel(states=states, persons=persons, events={"mentor": ev})), Err(
        PersonIdError, "events['mentor']"
    )


@mutation("panel_events_not_a_mapping")
def _(data, d):
    c, states, persons = _tables(data)
    return (lambda: RegisterPanel(states=states, persons=persons, events=[states])), Err(
        SpecificationError, "'events'"
    )


# -- transforms and validate --------------------------------------------------------------------------
def _panel(data) -> tuple[Case, RegisterPanel]:
    c, states, persons = _tables(data)
    return c, RegisterPanel(states=states, persons=persons)


@mutation("spells_duplicate_person_weeks")
def _(data, d):
    c, states, persons = _tables(data)
    states = pd.concat([states, states.iloc[[0]]], ignore_index=True)
    p = RegisterPanel(states=states, persons=persons)
    return (lambda: build_spells(p)), Err(
        PanelInvariantError, "duplicate_weeks", f"person_id={states.loc[0, 'person_id']}"
    )


@mutation("spells_duplicate_persons")
def _(data, d):
    c, states, persons = _tables(data)
    p = RegisterPanel(states=states, persons=pd.concat([persons, persons.iloc[[0]]], ignore_index=True))
    return (lambda: build_spells(p)), Err(PanelInvariantError, "'persons'")


@mutation("spells_of_a_frame")
def _(data, d):
    c, states, persons = _tables(data)
    return (lambda: build_spells(states)), Err(SpecificationError, "RegisterPanel")


@mutation("validate_a_frame")
def _(data, d):
    c, states, persons = _tables(data)
    return (lambda: validate(states)), Err(SpecificationError, "RegisterPanel")


@mutation("validate_window_edited_in_place")
def _(data, d):
    c, p = _panel(data)
    p.persons["obs_end"] = p.persons["obs_end"].astype(float)
    p.persons.loc[0, "obs_end"] = np.nan
    return (lambda: validate(p)), Err(WeekValueError, "'obs_end'", "missing")


@mutation("person_period_spells_nan_week")
def _(data, d):
    c = data.draw(cases(text=False))
    c.codes[0][0] = "111"
    p = RegisterPanel(states=c.long(dense=False), persons=c.persons())
    sp = build_spells(p).astype({"start_week": float})
    sp.loc[0, "start_week"] = np.nan
    return (lambda: to_person_period(sp, p)), Err(WeekValueError, "'start_week'")


@mutation("person_period_spells_not_a_frame")
def _(data, d):
    c, p = _panel(data)
    return (lambda: to_person_period(p, p)), Err(SpecificationError, "'spells'")


@mutation("outcome_ref_week_non_integral")
def _(data, d):
    c, p = _panel(data)
    ref = pd.Series([float(c.weeks[0]) + 0.5], index=[c.ids[0]])
    return (lambda: weeks_self_supporting(p, ref, horizon=2)), Err(WeekValueError, "'week'", "non-integral")


@mutation("outcome_ref_week_beyond_range")
def _(data, d):
    c, p = _panel(data)
    ref = pd.Series([LAST_WEEK + 10], index=[c.ids[0]])
    return (lambda: weeks_self_supporting(p, ref, horizon=2)), Err(WeekValueError, "'week'", "plausible")


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
    assert len(names()) >= 50
