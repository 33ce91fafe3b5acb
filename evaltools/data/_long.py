"""Reader and writer for the long person-week layout (re-exported by :mod:`evaltools.data.io`).

One row per person-week: person, week, state.  *Sparse* files hold only the
weeks with a code; *dense* files hold every observed week (blank state for no
code) and are checked for gaps.  The input contract of
:mod:`evaltools.data.contract` applies (strict CSV parsing, verbatim ids,
weeks checked before any cast, counted notes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools._model.names import renamed_arguments
from evaltools._validation import check_columns, check_option
from evaltools.data._load import as_code_strings, file_kind, load_table
from evaltools.data._reading import (
    ABSORBING,
    apply_absorbing,
    coverage_notes,
    load_person_table,
    match_ids,
    sort_states,
)
from evaltools.data.checks import (
    check_duplicate_weeks,
    check_gaps,
    check_orphan_states,
    check_unknown_codes,
    check_window,
)
from evaltools.data.codes import CodeTable, default_codes
from evaltools.data.contract import (
    Ids,
    Source,
    check_integers,
    check_week_parameter,
    check_weeks,
    classify_ids,
    emit_notes,
    number_text_ids,
)
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import isoweek_to_index, week_label
from evaltools.exceptions import (
    DataValidationError,
    EmptyInputError,
    PersonIdError,
    SpecificationError,
    WeekValueError,
)

__all__ = ["read_long", "write_long"]

ISO_WEEK = re.compile(r"^\s*([0-9]{4})-?W([0-9]{2})\s*$")


def _parse_weeks(
    frame: pd.DataFrame, week_col: str, year_col: str | None, src: Source, shown: np.ndarray, id_name: str
) -> np.ndarray:
    col = frame[week_col]
    if year_col is not None:
        y = check_integers(
            frame[year_col], column=year_col, bounds=(1900, 2099), noun="ISO years",
            source=src, ids=shown, id_name=id_name,
        )
        w = check_integers(
            col, column=week_col, bounds=(1, 53), noun="ISO week numbers",
            source=src, ids=shown, id_name=id_name,
        )
        return isoweek_to_index(y, w)
    is_text = col.dtype == object or isinstance(col.dtype, pd.StringDtype)
    if is_text:
        inferred = pd.api.types.infer_dtype(col, skipna=True)
        is_text = inferred not in ("integer", "floating", "mixed-integer-float", "empty", "decimal")
    if not is_text:
        return check_weeks(col, column=week_col, source=src, ids=shown, id_name=id_name)
    miss = col.isna().to_numpy()
    if miss.any():
        raise WeekValueError(
            f"{src.where}: column {week_col!r} is missing in {int(miss.sum()):,} rows "
            f"(e.g. {', '.join(src.locate(np.flatnonzero(miss)[:3]))}). Every row needs a week."
        )
    s = col.astype(str)
    is_str = np.array([isinstance(x, str) for x in col.to_numpy(dtype=object)], dtype=bool)
    parts = s.str.extract(ISO_WEEK)
    bad = parts[0].isna().to_numpy() & is_str
    if not bad.any():
        bad = ~is_str  # week indices mixed with ISO labels
    if bad.any():
        raise WeekValueError(
            f"{src.where}: column {week_col!r} has {int(bad.sum()):,} value(s) that are neither week indices "
            f"nor ISO weeks like '2019-W05' (e.g. {s[bad].unique()[:3].tolist()}) in "
            f"{', '.join(src.locate(np.flatnonzero(bad)[:3]))}. Give one kind of week per column (indices "
            "or ISO labels), or pass year_col=."
        )
    y = check_integers(
        parts[0].astype(np.int64), column=week_col, bounds=(1900, 2099), noun="ISO years",
        source=src, ids=shown, id_name=id_name,
    )
    return isoweek_to_index(y, parts[1].astype(np.int64).to_numpy())


def _check_names(where: str, **names: object) -> None:
    for k, v in names.items():
        if v is not None and not isinstance(v, str):
            raise SpecificationError(
                f"The {k!r} parameter of {where} must be a column name (str). Got {v!r}."
            )


def _text_key_error(where: str, person_col: str, ids: Ids, src: Source) -> None:
    canon = pd.Series(ids.values).astype(str).str.fullmatch(r"-?[1-9][0-9]{0,17}|0").to_numpy()
    ex = ids.values[~canon][:3].tolist()
    raise PersonIdError(
        f"{where}: column {person_col!r} must hold integer person ids; {int((~canon).sum()):,} rows do not "
        f"(e.g. {ex}; {', '.join(src.locate(np.flatnonzero(~canon)[:3]))}). person_id is the panel's integer "
        "key: to keep text ids (e.g. PNR with leading zeros) verbatim, name the column otherwise and pass "
        "id=..., e.g. id='PNR'; they are numbered 1, 2, ... and kept in persons['PNR']."
    )


def _person_table(
    persons: object,
    on: str,
    ids: Ids,
    person_col: str,
    where: str,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, Source]:
    """The person table, the person_id of each state row and the ids shown per person."""
    table, tids, tsrc = load_person_table(persons, on=on, where=where)  # type: ignore[arg-type]
    match_ids(ids, tids, where=where, file_col=person_col, table_col=on)
    text = "text" in (ids.kind if len(ids) else "", tids.kind if len(tids) else "")
    if text and "person_id" in (person_col, on):
        _text_key_error(where, "person_id", tids if tids.kind == "text" else ids, tsrc)
    if text:
        row_pid, table_pid = number_text_ids(ids.values, tids.values)
    else:
        row_pid, table_pid = ids.values.astype(np.int64), tids.values.astype(np.int64)
    pers = table.drop(columns=[on]).reset_index(drop=True)
    if "person_id" in pers.columns:
        raise DataValidationError(
            f"{where}(persons=...): the person table has both {on!r} (its id column) and 'person_id'. "
            "Drop one of them."
        )
    pers.insert(0, "person_id", table_pid)
    if text:
        if person_col in pers.columns:
            raise DataValidationError(
                f"{where}(persons=...): the person table has a column {person_col!r} besides its id column "
                f"{on!r}; the verbatim text ids are kept under {person_col!r}. Drop or rename it."
            )
        pers.insert(1, person_col, tids.values)
    has = [c for c in ("obs_start", "obs_end") if c in pers.columns]
    if len(has) == 1:
        raise WeekValueError(
            f"{where}(persons=...): the person table has {has[0]!r} but not "
            f"{({'obs_start', 'obs_end'} - set(has)).pop()!r}. Give both window columns or neither."
        )
    shown = tids.values
    for c in has:
        pers[c] = check_weeks(pers[c], column=c, source=tsrc, ids=shown, id_name=on)
    return pers, row_pid, shown, tsrc


@renamed_arguments(person_col="id")
def read_long(
    source: str | Path | pd.DataFrame,
    *,
    id: str = "person_id",
    week_col: str = "week",
    year_col: str | None = None,
    state_col: str = "state",
    persons: str | Path | pd.DataFrame | None = None,
    on: str | None = None,
    events: Mapping[str, pd.DataFrame] | None = None,
    codes: CodeTable | None = None,
    dense: bool = False,
    obs_start: int | None = None,
    obs_end: int | None = None,
    absorbing: str = "end_observation",
) -> RegisterPanel:
    """Read person-week rows in the long layout into a :class:`RegisterPanel`.

    Parameters
    ----------
    source : str, Path or DataFrame
        ``.csv``/``.parquet`` file or DataFrame (not modified).
    id, week_col, state_col : str
        Column names.  ``week_col`` holds week indices (int), ISO labels such
        as ``"2019-W05"``, or ISO week numbers when ``year_col`` is given.
        ``id`` holds integer ids or text ids; text ids that are not
        all canonical integers (leading zeros, letters) are kept verbatim in
        ``persons[id]`` and numbered 1, 2, ... in sorted order (so
        ``id`` must then not be ``"person_id"``).
    year_col : str, optional
        Column with the ISO year; ``week_col`` is then the ISO week number.
    persons : DataFrame or path, optional
        Person table (``.csv``/``.parquet`` or DataFrame): one row per person,
        its id column ``on``, optionally ``obs_start``/``obs_end`` (both or
        neither) and background columns, which become person attributes.
        Ids match the file's verbatim (text with text, integers with
        integers); persons without rows in the file are kept (no coded week,
        counted in an input note); rows of persons missing from the table are
        an error.
    on : str, optional
        Id column of ``persons`` (default: ``id``).
    events : mapping of str to DataFrame, optional
        Event tables.
    codes : CodeTable, optional
        Code vocabulary.
    dense : bool, default=False
        ``True``: the file has one row per observed person-week (blank state =
        no code); gaps are an error and each person's window is their first to
        last row.  ``False``: only coded weeks; the window comes from
        ``persons``, else from ``obs_start``/``obs_end``, else from the file's
        first and last week.
    obs_start, obs_end : int, optional
        Observation window for every person (sparse files without windows).
    absorbing : {"end_observation", "keep", "error"}, default="end_observation"
        Blank weeks after a final absorbing code, as in
        :func:`evaltools.data.read_dream`.

    Returns
    -------
    RegisterPanel
        ``meta["n_blank_rows"]`` counts rows with a blank state (kept as "no
        code" weeks, not stored as rows); ``meta["input_notes"]`` lists the
        recoverable oddities (also issued as
        :class:`~evaltools.exceptions.InputWarning`).

    Raises
    ------
    FileFormatError, EmptyInputError, ColumnNameError, PersonIdError, WeekValueError
        The input contract (see :func:`evaltools.data.read_dream`).
    DataValidationError
        Duplicate person-weeks, unknown codes, gaps (dense), persons missing
        from ``persons``, or weeks outside the observation window.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaltools.data import read_long
    >>> long = pd.DataFrame({"PNR": ["007", "007", "12"], "week": ["2020-W52", "2020-W53", "2020-W53"],
    ...                      "state": ["111", "997", "701"]})
    >>> panel = read_long(long, id="PNR")
    >>> panel.persons[["person_id", "PNR"]].values.tolist()
    [[1, '007'], [2, '12']]
    """
    where = "read_long"
    _check_names(
        where, id=id, week_col=week_col, year_col=year_col, state_col=state_col, on=on
    )
    if codes is not None and not isinstance(codes, CodeTable):
        raise SpecificationError(f"The 'codes' parameter of {where} must be a CodeTable. Got {codes!r}.")
    if not isinstance(dense, (bool, np.bool_)):
        raise SpecificationError(f"The 'dense' parameter of {where} must be True or False. Got {dense!r}.")
    check_option("absorbing", absorbing, ABSORBING, where)
    obs_start = check_week_parameter(obs_start, name="obs_start", where=where)
    obs_end = check_week_parameter(obs_end, name="obs_end", where=where)
    codes = codes if codes is not None else default_codes()
    required = [id, week_col, state_col] + ([year_col] if year_col else [])
    df, src = load_table(source, where=where, text=lambda c: c in (state_col, id), id_col=id)
    check_columns(df, required, where)
    if not len(df) and persons is None:
        raise EmptyInputError(
            f"{where}: {src.name} has no data rows. Give persons=... (with obs_start/obs_end) to read a "
            "panel whose persons have no coded week."
        )
    ids = classify_ids(df[id], column=id, source=src)
    if ids.kind == "text" and id == "person_id":
        _text_key_error(where, id, ids, src)
    wk = _parse_weeks(df, week_col, year_col, src, ids.values, id).astype(np.int64)
    # pandas-stubs: na_value=None is valid for object output
    state = as_code_strings(df[state_col], where=where).to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    raw = pd.DataFrame({id: ids.values, week_col: wk, state_col: state})
    for issue in (
        check_duplicate_weeks(raw, id, week_col),
        check_unknown_codes(raw, codes, id=id, week_col=week_col, state_col=state_col),
        check_gaps(raw, id=id, week_col=week_col) if dense else None,
    ):
        if issue:
            raise DataValidationError(f"{where}: {issue.message}")
    blank = pd.isna(raw[state_col]).to_numpy()

    if persons is not None:
        pers, pid, pshown, _ = _person_table(
            persons, on if on is not None else id, ids, id, where
        )
    else:
        if on is not None:
            raise SpecificationError(
                f"{where}: on={on!r} names the id column of persons=..., which is not given."
            )
        if ids.kind == "text":
            (pid,) = number_text_ids(ids.values)
            uniq, first = np.unique(pid, return_index=True)
            pers = pd.DataFrame({"person_id": uniq, id: ids.values[first]})
            pshown = ids.values[first]
        else:
            pid = ids.values.astype(np.int64)
            uniq = np.unique(pid)
            pers = pd.DataFrame({"person_id": uniq})
            pshown = uniq
    if "obs_start" not in pers.columns:
        if dense:
            g = pd.DataFrame({"p": pid, "w": wk}).groupby("p")["w"]
            first_w, last_w = g.min(), g.max()
            pers["obs_start"] = pers["person_id"].map(first_w)
            pers["obs_end"] = pers["person_id"].map(last_w)
            no_rows = pers["obs_start"].isna().to_numpy()
            if no_rows.any():
                raise DataValidationError(
                    f"{where}: {int(no_rows.sum()):,} person(s) in persons have no rows in a dense file "
                    f"(e.g. {id}={pshown[no_rows][:3].tolist()}), so their window is unknown. Give "
                    "persons obs_start/obs_end columns."
                )
            pers["obs_start"] = pers["obs_start"].astype(np.int64)
            pers["obs_end"] = pers["obs_end"].astype(np.int64)
        else:
            if (obs_start is None or obs_end is None) and not len(wk):
                raise WeekValueError(
                    f"{where}: the file has no rows, so the observation window is unknown. Give persons "
                    "obs_start/obs_end columns or pass obs_start= and obs_end=."
                )
            pers["obs_start"] = int(wk.min()) if obs_start is None else obs_start
            pers["obs_end"] = int(wk.max()) if obs_end is None else obs_end
    bad = (pers["obs_end"] < pers["obs_start"]).to_numpy()
    if bad.any():
        raise WeekValueError(
            f"{where}: obs_end is before obs_start for {int(bad.sum()):,} person(s) (e.g. "
            f"{id}={pshown[bad][:3].tolist()}). Both weeks are inclusive; fix the observation window."
        )
    # the contract's checks use the verbatim ids, so messages show them
    verbatim = pd.DataFrame({"person_id": ids.values[~blank], "week": wk[~blank]})
    window = pd.DataFrame(
        {
            "person_id": pshown,
            "obs_start": pers["obs_start"].to_numpy(),
            "obs_end": pers["obs_end"].to_numpy(),
        }
    )
    for issue in (check_orphan_states(verbatim, window), check_window(verbatim, window)):
        if issue:
            raise DataValidationError(f"{where}: {issue.message}")
    states = pd.DataFrame({"person_id": pid[~blank], "week": wk[~blank], "state": state[~blank]})
    states["state"] = pd.Categorical(states["state"], dtype=codes.dtype())
    states = sort_states(states)
    pers, notes = apply_absorbing(
        states, pers, codes, mode=absorbing, where=where, id_name=id, shown=pshown
    )
    notes += coverage_notes(states, pers, where=where, id_name=id, shown=pshown)
    meta = {
        "source": src.name,
        "layout": "long_dense" if dense else "long_sparse",
        "n_blank_rows": int(blank.sum()),
        "absorbing": absorbing,
        "input_notes": emit_notes(notes),
    }
    return RegisterPanel(states=states, persons=pers, events=dict(events or {}), codes=codes, meta=meta)


def write_long(
    panel: RegisterPanel, path: str | Path, *, dense: bool = False, week_format: str = "index"
) -> Path:
    """Write the states in the long layout (``.csv`` or ``.parquet`` by suffix).

    Parameters
    ----------
    panel : RegisterPanel
        The panel.
    path : str or Path
        Target file.  Only the states are written; save the person table
        separately (or use :func:`evaltools.data.write_panel` for everything).
    dense : bool, default=False
        Write every observed person-week (blank state for no code).
    week_format : {"index", "iso"}, default="index"
        Week indices or ISO labels such as ``"2019-W05"``.

    Returns
    -------
    Path
        The file written.
    """
    check_option("week_format", week_format, ("index", "iso"), "write_long")
    out = Path(path)
    kind = file_kind(out, "write_long")
    frame = panel.to_long(dense=dense)
    frame["state"] = frame["state"].astype("string")
    if week_format == "iso":
        frame["week"] = week_label(frame["week"].to_numpy())
    if kind == "csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    return out
