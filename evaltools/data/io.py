"""Readers and writers for the DREAM wide layout and the long person-week layout.

DREAM wide layout
-----------------
One row per person:

- the id column (``PNR`` by default);
- one column per ISO week, ``y_YYWW`` (two-digit year with a pivot at 90,
  week 53 in long ISO years), holding the benefit code as a string; blank,
  ``""`` and NA mean "no registered transfer";
- optional monthly columns ``branche_YYYY_MM`` (industry) and
  ``grad_YYYY_MM`` (employment degree), from 2008;
- optional yearly columns ``akYY`` (UI-fund membership);
- any other column is a person-level background variable (sex,
  municipality, ...) and goes to ``panel.persons``.

Monthly and yearly columns are kept as two *calendar tables* in
``panel.events`` (same schema as event tables, so they subset and store like
events, but :func:`evaltools.data.validate` does not treat them as events):

``events["dream_monthly"]``
    ``person_id, week, end_week, month ("YYYY-MM"), branche, grad``: one row
    per person-month with a non-missing value; ``week``/``end_week`` are the
    first and last ISO week whose Thursday falls in the month (the DREAMtoolsR
    rule).
``events["dream_yearly"]``
    ``person_id, week, end_week, year, ak``: one row per person-year with a
    non-missing value; the weeks are the ISO weeks of that year.

Long layout
-----------
One row per person-week: person, week, state.  *Sparse* files hold only the
weeks with a code; *dense* files hold every observed week (blank state for no
code) and are checked for gaps (:func:`read_long`, :func:`write_long` in
:mod:`evaltools.data._long`).

Input contract
--------------
Both readers apply :mod:`evaltools.data.contract`: CSV files are parsed
strictly (a line with more or fewer fields than the header is an error naming
the line and the id), column names are matched strictly (near misses such as
``"y_1410 "`` are errors), ids are integers or verbatim text (never merged),
weeks and windows are checked before any cast, and recoverable oddities are
counted in an :class:`~evaltools.exceptions.InputWarning` and in
``panel.meta["input_notes"]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools._model.names import renamed_arguments
from evaltools._validation import check_columns, check_option, warn_dropped
from evaltools.data._load import as_code_strings, file_kind, load_table
from evaltools.data._long import read_long, write_long
from evaltools.data._reading import (
    ABSORBING,
    apply_absorbing,
    coverage_notes,
    join_attributes,
    sort_states,
)
from evaltools.data.checks import check_window
from evaltools.data.codes import CodeTable, default_codes
from evaltools.data.contract import (
    DREAM_PATTERNS,
    IdCollector,
    Source,
    check_week_parameter,
    check_weeks,
    classify_ids,
    emit_notes,
)
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import (
    EPOCH,
    dream_column,
    isoweek_to_index,
    parse_dream_columns,
    week_label,
    weeks_in_year,
)
from evaltools.exceptions import (
    DataValidationError,
    EmptyInputError,
    PersonIdError,
    SpecificationError,
    WeekValueError,
)

__all__ = ["read_dream", "to_dream_wide", "write_dream", "read_long", "write_long"]

MONTHLY_COLUMN = re.compile(r"^(branche|grad)_([0-9]{4})_([0-9]{2})$")
YEARLY_COLUMN = re.compile(r"^ak([0-9]{2})$")
#: Columns of a DREAM CSV read as text (ids are added by the reader).
TEXT_COLUMN = re.compile(r"y_[0-9]{4}|branche_[0-9]{4}_[0-9]{2}|ak[0-9]{2}")
MONTHLY_TABLE = "dream_monthly"
YEARLY_TABLE = "dream_yearly"


# -- helpers ---------------------------------------------------------------------
def _month_weeks(year: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last week index whose Thursday falls in each calendar month."""
    first = (np.asarray(year) - 1970) * 12 + (np.asarray(month) - 1)
    d0 = first.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    d1 = (first + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
    e = int(EPOCH.astype(np.int64))
    # week whose Thursday is >= d0: Thursday of week w is e + 7w + 3
    w0 = -((-(d0 - e - 3)) // 7)
    w1 = (d1 - e - 3) // 7
    return w0.astype(np.int32), w1.astype(np.int32)


def _year_weeks(year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(year, dtype=np.int64)
    return isoweek_to_index(y, 1), isoweek_to_index(y, weeks_in_year(y))


def _check_parameters(where: str, id_col: object, pivot: object, codes: object, absorbing: object) -> None:
    if not isinstance(id_col, str):
        raise SpecificationError(
            f"The 'id' parameter of {where} must be a column name (str). Got {id_col!r}."
        )
    if isinstance(pivot, bool) or not isinstance(pivot, (int, np.integer)) or not 0 <= int(pivot) <= 99:
        raise SpecificationError(
            f"The 'pivot' parameter of {where} must be an int in 0..99 (two-digit years >= pivot are 19YY). "
            f"Got {pivot!r} instead."
        )
    if codes is not None and not isinstance(codes, CodeTable):
        raise SpecificationError(
            f"The 'codes' parameter of {where} must be a CodeTable. Got {type(codes).__name__} instead."
        )
    check_option("absorbing", absorbing, ABSORBING, where)


def _windows(
    df: pd.DataFrame,
    obs: tuple[object, object],
    lo: int,
    hi: int,
    src: Source,
    shown: np.ndarray,
    id_col: str,
) -> tuple[np.ndarray, np.ndarray, bool, set[str]]:
    """obs_start and obs_end per row, whether obs_end was given, and the columns used."""
    cal = (lo, hi)
    cal_name = f"the file's weekly columns {dream_column(lo)[0]}..{dream_column(hi)[0]}"
    out, used, given_end = [], set(), False
    for name, value, default in (("obs_start", obs[0], lo), ("obs_end", obs[1], hi)):
        if value is None and name in df.columns:
            value = name
        if value is None:
            out.append(np.full(len(df), default, dtype=np.int32))
            continue
        given_end |= name == "obs_end"
        if isinstance(value, str):
            check_columns(df, [value], f"{src.where}({name}=...)")
            used.add(value)
            out.append(
                check_weeks(
                    df[value],
                    column=value,
                    source=src,
                    ids=shown,
                    id_name=id_col,
                    calendar=cal,
                    calendar_name=cal_name,
                )
            )
        else:
            v = check_week_parameter(value, name=name, where=src.where)
            check_weeks(
                np.array([v]), column=name, source=Source(src.where), calendar=cal, calendar_name=cal_name
            )
            out.append(np.full(len(df), v, dtype=np.int32))
    start, end = out
    bad = end < start
    if bad.any():
        i = np.flatnonzero(bad)[:3]
        ex = "; ".join(
            f"{loc} {id_col}={shown[j]!r} obs_start={start[j]} obs_end={end[j]}"
            for loc, j in zip(src.locate(i), i.tolist())
        )
        raise WeekValueError(
            f"{src.where}: obs_end is before obs_start in {int(bad.sum()):,} rows (e.g. {ex}). "
            "Both weeks are "
            "inclusive; fix the observation window."
        )
    return start, end, given_end, used


# -- DREAM wide ------------------------------------------------------------------
@renamed_arguments(id_col="id")
def read_dream(
    source: str | Path | pd.DataFrame,
    *,
    id: str = "PNR",
    codes: CodeTable | None = None,
    pivot: int = 90,
    obs_start: int | str | None = None,
    obs_end: int | str | None = None,
    events: Mapping[str, pd.DataFrame] | None = None,
    persons: str | Path | pd.DataFrame | None = None,
    on: str | None = None,
    absorbing: str = "end_observation",
) -> RegisterPanel:
    """Read a DREAM file in the wide layout into a :class:`RegisterPanel`.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv``/``.csv.gz``/``.parquet`` file or a DataFrame (not modified).
        Columns may come in any order.  Besides the id, weekly, monthly,
        yearly and window columns, **every other column is a person-level
        attribute** (sex, municipality, birth year, ...) and is kept in
        ``panel.persons`` under its own name.
    id : str, default="PNR"
        Person id column.  Integer ids (or text ids that are all canonical
        integers) are used as ``person_id``; other text ids (leading zeros,
        letters) are kept verbatim in a column ``id`` of ``panel.persons``
        and numbered 1, 2, ... in sorted order.  Ids are never merged:
        ``"0101901234"`` and ``"101901234"`` are two persons.
    codes : CodeTable, optional
        Code vocabulary (default: :func:`evaltools.data.default_codes`).
    pivot : int, default=90
        Two-digit years ``>= pivot`` are 19YY, the others 20YY.
    obs_start, obs_end : int or str, optional
        Observation window: a week index for everybody, or the name of a column
        holding week indices.  By default, columns named ``obs_start`` /
        ``obs_end`` are used if present (as written by :func:`to_dream_wide`),
        else the file's first and last weekly column.  Windows must lie inside
        the file's weekly columns.
    events : mapping of str to DataFrame, optional
        Further event tables (activation, mentor, ...).
    persons : DataFrame or path, optional
        A person table with background attributes, joined onto
        ``panel.persons`` by id: its column ``on`` holds the ids of the file's
        ``id`` (matched verbatim: text with text, integers with integers),
        one row per person.  Persons of the file without a row get missing
        attributes and persons of the table not in the file are left out;
        both are counted in an :class:`~evaltools.exceptions.InputWarning` and
        in ``meta["input_notes"]``.
    on : str, optional
        Id column of ``persons`` (default: ``id``).
    absorbing : {"end_observation", "keep", "error"}, default="end_observation"
        Blank weeks after a person's last code when that code is absorbing
        (emigration 997, death 998, old-age pension 999 and any code with
        ``absorbing=True`` in the code table): ``"end_observation"`` ends the
        person's observation at the absorbing week, ``"keep"`` keeps them as
        weeks without a transfer, ``"error"`` raises.  The count of persons
        and person-weeks is recorded in ``meta["input_notes"]`` (see Notes).

    Returns
    -------
    RegisterPanel
        ``meta`` records the source, the pivot, the number of weekly columns,
        the absorbing rule and the input notes (recoverable oddities, each also
        issued as an :class:`~evaltools.exceptions.InputWarning`: weekly columns
        after today's date, trailing weekly columns blank for everybody,
        persons without a coded week, absorbing codes ending observation).

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    FileFormatError
        A CSV line with more or fewer fields than the header (naming the line
        and the id), undecodable bytes or a quote left open.
    EmptyInputError
        An empty file or no data rows.
    ColumnNameError
        Duplicated column names or near misses of the DREAM column patterns
        (``"y_1410 "``, ``Y_1401``, ``y_1404.1``).
    PersonIdError
        Missing, duplicated, mixed-type or non-integral ids.
    WeekValueError
        Missing, non-integral or out-of-calendar observation windows.
    DataValidationError
        Unknown codes (naming column, count, example ids), non-existent weeks
        such as ``y_1953``, weekly columns missing inside the file's week
        range, or codes outside the observation window.

    Notes
    -----
    A person whose *last* coded week holds an absorbing code has left the
    population (emigrated, died, retired): the blank weeks after it are not
    self-support.  With ``absorbing="end_observation"`` the person's
    ``obs_end`` becomes that week, so outcomes such as
    :func:`evaltools.data.weeks_self_supporting` do not count the weeks after
    emigration.  Non-absorbing codes after an absorbing code are kept as they
    are, noted, and failed by :func:`evaltools.data.validate` (rule
    ``after_absorbing``).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaltools.data import read_dream
    >>> wide = pd.DataFrame({"PNR": ["0101", "0202"], "sex": ["F", "M"],
    ...                      "y_1501": ["111", ""], "y_1502": ["997", "701"]})
    >>> panel = read_dream(wide)
    >>> panel.persons[["person_id", "PNR", "sex"]].values.tolist()
    [[1, '0101', 'F'], [2, '0202', 'M']]
    """
    where = "read_dream"
    _check_parameters(where, id, pivot, codes, absorbing)
    codes = codes if codes is not None else default_codes()
    names = ["obs_start", "obs_end", *(v for v in (obs_start, obs_end) if isinstance(v, str))]
    df, src = load_table(
        source,
        where=where,
        text=lambda c: bool(TEXT_COLUMN.fullmatch(c)) or c == id,
        id_col=id,
        patterns=DREAM_PATTERNS,
        names=names,
    )
    check_columns(df, [id], where, role="person id")
    weekly = parse_dream_columns([str(c) for c in df.columns], pivot=int(pivot))
    if not weekly:
        raise DataValidationError(
            f"{where}: no weekly columns named y_YYWW found (columns: {list(map(str, df.columns[:10]))}). "
            "Is this a DREAM file in the wide layout? For long files use read_long."
        )
    if not len(df):
        raise EmptyInputError(f"{where}: {src.name} has no data rows (only the header). Check the export.")
    wcols = sorted(weekly, key=weekly.get)
    widx = np.array([weekly[c] for c in wcols], dtype=np.int64)
    if len(np.unique(widx)) != len(widx):
        raise DataValidationError(
            f"{where}: two weekly columns name the same week. Keep one column per week."
        )
    lo, hi = int(widx.min()), int(widx.max())
    if len(widx) != hi - lo + 1:
        missing = np.setdiff1d(np.arange(lo, hi + 1), widx)
        raise DataValidationError(
            f"{where}: {len(missing):,} weekly column(s) are missing inside the file's range "
            f"{dream_column(lo)[0]}..{dream_column(hi)[0]} (e.g. {dream_column(missing[:5])}). "
            "Add them (blank = no transfer) so that absent weeks are not mistaken for self-support."
        )
    ids = classify_ids(df[id], column=id, source=src)
    collector = IdCollector(id, fix="The wide layout has one row per person; merge the duplicated rows.")
    collector.add(ids, src)
    pid, original = collector.finish()
    if original is not None and id == "person_id":
        raise PersonIdError(
            f"{where}: column 'person_id' holds text ids (e.g. {original[0]!r}); person_id is the panel's "
            "integer key. Rename the column (e.g. to 'PNR') and pass id=...: text ids are then kept "
            "verbatim and numbered 1, 2, ..."
        )
    shown = original if original is not None else pid
    monthly = {c: m for c in df.columns if (m := MONTHLY_COLUMN.match(str(c)))}
    yearly = {c: m for c in df.columns if (m := YEARLY_COLUMN.match(str(c)))}

    # weekly codes -> sparse long, via integer code matrix (memory: 2 bytes per cell)
    cats = list(codes.codes)
    mat = np.empty((len(df), len(wcols)), dtype=np.int16)
    for j, c in enumerate(wcols):
        s = as_code_strings(df[c], where=where)
        cc = pd.Categorical(s.to_numpy(dtype=object, na_value=None), categories=cats).codes
        unknown = s.notna().to_numpy() & (cc < 0)
        if unknown.any():
            ex = [f"{id}={p}" for p in shown[unknown][:3]]
            raise DataValidationError(
                f"{where}: column {c!r} ({week_label(weekly[c])}) has {int(unknown.sum()):,} code(s) "
                f"not in the "
                f"code table ({sorted(set(s[unknown].astype(str)))[:5]}; e.g. {', '.join(ex)}). "
                "Add the codes to a CodeTable and pass it as codes=..., or recode them."
            )
        mat[:, j] = cc
    rows, cols = np.nonzero(mat >= 0)
    states = pd.DataFrame(
        {
            "person_id": pid[rows],
            "week": (widx[cols]).astype(np.int32),
            "state": pd.Categorical.from_codes(mat[rows, cols], dtype=codes.dtype()),
        }
    )
    del mat
    states = sort_states(states)

    start, end, given_end, window_cols = _windows(df, (obs_start, obs_end), lo, hi, src, shown, id)
    used = {id, *weekly, *monthly, *yearly, *window_cols}
    pers = pd.DataFrame({"person_id": pid, "obs_start": start, "obs_end": end})
    if original is not None:
        pers[id] = original
    for c in df.columns:
        if c not in used:
            pers[c] = df[c].array
    issue = check_window(states, pers)
    if issue:
        raise DataValidationError(f"{where}: {issue.message}")
    notes = []
    if persons is not None:
        pers, more = join_attributes(
            pers, ids, persons, on=on if on is not None else id, id_col=id, where=where, shown=shown
        )
        notes += more
    elif on is not None:
        raise SpecificationError(
            f"{where}: on={on!r} names the id column of persons=..., which is not given."
        )
    pers, more = apply_absorbing(
        states, pers, codes, mode=absorbing, where=where, id_name=id, shown=shown
    )
    notes = more + notes
    notes += coverage_notes(
        states,
        pers,
        where=where,
        id_name=id,
        shown=shown,
        trailing_blank=None if given_end else (lo, hi),
        column_name=lambda w: dream_column(w)[0],
    )

    ev = dict(events or {})
    if monthly:
        ev[MONTHLY_TABLE] = _read_monthly(df, monthly, pid, where)
    if yearly:
        ev[YEARLY_TABLE] = _read_yearly(df, yearly, pid, int(pivot), where)
    meta = {
        "source": src.name,
        "layout": "dream_wide",
        "pivot": int(pivot),
        "n_week_columns": len(wcols),
        "id_col": id,
        "absorbing": absorbing,
        "input_notes": emit_notes(notes),
    }
    return RegisterPanel(states=states, persons=pers, events=ev, codes=codes, meta=meta)


def _read_monthly(df: pd.DataFrame, monthly: dict, pid: np.ndarray, where: str) -> pd.DataFrame:
    by_month: dict[tuple[int, int], dict[str, str]] = {}
    for c, m in monthly.items():
        by_month.setdefault((int(m.group(2)), int(m.group(3))), {})[m.group(1)] = c
    grad_numeric = all(
        pd.api.types.is_numeric_dtype(df[c].dtype) for c, m in monthly.items() if m.group(1) == "grad"
    )
    parts = []
    for (y, mo), cols in sorted(by_month.items()):
        b = (
            as_code_strings(df[cols["branche"]], where=where)
            if "branche" in cols
            else pd.Series(pd.NA, index=df.index, dtype="string")
        )
        if "grad" in cols:
            g = df[cols["grad"]]
            g = g.astype(np.float64) if grad_numeric else as_code_strings(g, where=where)
        else:
            g = pd.Series(
                np.nan if grad_numeric else pd.NA,
                index=df.index,
                dtype="float64" if grad_numeric else "string",
            )
        keep = (b.notna() | g.notna()).to_numpy()
        w0, w1 = _month_weeks(np.array([y]), np.array([mo]))
        parts.append(
            pd.DataFrame(
                {
                    "person_id": pid[keep],
                    "week": np.full(keep.sum(), w0[0], np.int32),
                    "end_week": np.full(keep.sum(), w1[0], np.int32),
                    "month": f"{y:04d}-{mo:02d}",
                    "branche": b[keep].to_numpy(),
                    "grad": g[keep].to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["branche"] = out["branche"].astype("string")
    if not grad_numeric:
        out["grad"] = out["grad"].astype("string")
    return out.sort_values(["person_id", "week"], kind="stable", ignore_index=True)


def _read_yearly(df: pd.DataFrame, yearly: dict, pid: np.ndarray, pivot: int, where: str) -> pd.DataFrame:
    parts = []
    for c, m in yearly.items():
        yy = int(m.group(1))
        y = 1900 + yy if yy >= pivot else 2000 + yy
        v = as_code_strings(df[c], where=where)
        keep = v.notna().to_numpy()
        w0, w1 = _year_weeks(np.array([y]))
        parts.append(
            pd.DataFrame(
                {
                    "person_id": pid[keep],
                    "week": np.full(keep.sum(), w0[0], np.int32),
                    "end_week": np.full(keep.sum(), w1[0], np.int32),
                    "year": np.full(keep.sum(), y, np.int16),
                    "ak": v[keep].to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["ak"] = out["ak"].astype("string")
    return out.sort_values(["person_id", "week"], kind="stable", ignore_index=True)


@renamed_arguments(id_col="id")
def to_dream_wide(
    panel: RegisterPanel,
    *,
    id: str = "PNR",
    weeks: tuple[int, int] | None = None,
    blank: str = "",
) -> pd.DataFrame:
    """The panel in the DREAM wide layout.

    Parameters
    ----------
    panel : RegisterPanel
        The panel.
    id : str, default="PNR"
        Name of the id column; if ``panel.persons`` has a column of that name
        (original string ids from :func:`read_dream`) it is used, else
        ``person_id``.
    weeks : (int, int), optional
        First and last week index to write (default: ``panel.week_range``).
        Codes outside are left out with a :class:`DroppedRowsWarning`.
    blank : str, default=""
        Cell value for weeks without a code.

    Returns
    -------
    DataFrame
        ``id``, the background columns, ``obs_start``/``obs_end`` (only if
        some person's window differs from the written range), the ``y_YYWW``
        columns (codes as strings), then ``branche_YYYY_MM``/``grad_YYYY_MM`` and
        ``akYY`` columns if the panel has the calendar tables.
    """
    where = "to_dream_wide"
    lo, hi = weeks if weeks is not None else panel.week_range
    persons = panel.persons
    st = panel.states
    w = st["week"].to_numpy(np.int64)
    inside = (w >= lo) & (w <= hi)
    warn_dropped(int((~inside).sum()), len(st), f"codes outside the written weeks {lo}..{hi}", where)
    st = st.loc[inside]
    n_w = hi - lo + 1
    row = np.searchsorted(persons["person_id"].to_numpy(), st["person_id"].to_numpy())
    mat = np.full((len(persons), n_w), -1, dtype=np.int16)
    mat[row, st["week"].to_numpy(np.int64) - lo] = st["state"].cat.codes.to_numpy()
    labels = np.array([*map(str, st["state"].cat.categories), blank], dtype=object)
    out: dict[str, object] = {}
    out[id] = persons[id].to_numpy() if id in persons.columns else persons["person_id"].to_numpy()
    for c in persons.columns:
        if c not in ("person_id", id, "obs_start", "obs_end"):
            out[c] = persons[c].array
    if (persons["obs_start"] != lo).any() or (persons["obs_end"] != hi).any():
        out["obs_start"] = persons["obs_start"].to_numpy()
        out["obs_end"] = persons["obs_end"].to_numpy()
    names = dream_column(np.arange(lo, hi + 1))
    for j, name in enumerate(names):
        out[name] = labels[mat[:, j]]
    frame = pd.DataFrame(out)
    extra = []
    pos = {p: i for i, p in enumerate(persons["person_id"].to_numpy().tolist())} if panel.events else {}
    if MONTHLY_TABLE in panel.events:
        m = panel.events[MONTHLY_TABLE]
        r = m["person_id"].map(pos).to_numpy()
        for var in ("branche", "grad"):
            if var not in m.columns:
                continue
            wide = pd.DataFrame({"r": r, "month": m["month"].to_numpy(), "v": m[var].to_numpy()})
            wide = wide.pivot(index="r", columns="month", values="v").reindex(range(len(persons)))
            wide.columns = [f"{var}_{str(c).replace('-', '_')}" for c in wide.columns]
            extra.append(wide.reset_index(drop=True))
    if YEARLY_TABLE in panel.events:
        yv = panel.events[YEARLY_TABLE]
        wide = pd.DataFrame(
            {"r": yv["person_id"].map(pos).to_numpy(), "y": yv["year"].to_numpy(), "v": yv["ak"]}
        )
        wide = wide.pivot(index="r", columns="y", values="v").reindex(range(len(persons)))
        wide.columns = [f"ak{int(c) % 100:02d}" for c in wide.columns]
        extra.append(wide.reset_index(drop=True))
    if extra:
        frame = pd.concat([frame, *extra], axis=1)
    return frame


def write_dream(panel: RegisterPanel, path: str | Path, **kwargs: object) -> Path:
    """Write the panel in the DREAM wide layout to ``.csv`` (``.csv.gz``) or ``.parquet`` by suffix.

    Parameters
    ----------
    panel : RegisterPanel
        The panel.
    path : str or Path
        Target file.
    **kwargs
        Passed to :func:`to_dream_wide` (``id_col``, ``weeks``).

    Returns
    -------
    Path
        The file written.
    """
    out = Path(path)
    kind = file_kind(out, "write_dream")
    frame = to_dream_wide(panel, **kwargs)  # type: ignore[arg-type]
    if kind == "csv":
        frame.to_csv(out, index=False)
    else:
        weekly = [c for c in frame.columns if str(c).startswith("y_")]
        frame = frame.astype({c: "string" for c in weekly})
        frame.to_parquet(out, index=False)
    return out
