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

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools._model.names import renamed_arguments
from evaltools._validation import warn_dropped
from evaltools.data._load import file_kind
from evaltools.data._long import read_long, write_long
from evaltools.data._reading import CodedRows, absorbing_rows, coverage_notes, person_order, state_frame
from evaltools.data._stream import DEFAULT_BATCH_ROWS, Batch, base_meta, plan_read, raw_batches
from evaltools.data._wide import MONTHLY_TABLE, YEARLY_TABLE, grad_as
from evaltools.data.checks import check_window
from evaltools.data.codes import CodeTable
from evaltools.data.contract import (
    emit_notes,
)
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import (
    dream_column,
)
from evaltools.exceptions import (
    DataValidationError,
    SpecificationError,
)

__all__ = ["read_dream", "to_dream_wide", "write_dream", "read_long", "write_long"]


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
    persons_filter: object = None,
    weeks: tuple[object, object] | None = None,
    code_filter: str | Iterable[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
    out: str | Path | None = None,
) -> RegisterPanel | Path:
    """Read a DREAM file in the wide layout into a :class:`RegisterPanel`.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv``/``.csv.gz``/``.parquet``/``.sas7bdat`` file or a DataFrame
        (not modified).  Columns may come in any order.  Besides the id, weekly, monthly,
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
        Further event tables (activation, mentor, ...).  With ``out=`` they
        are stored partitioned with their persons (every row must belong to a
        person read from the file).
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
    persons_filter : ids or DataFrame, optional
        Read only these persons (ids of ``id``, or a DataFrame with that
        column); equals ``read_dream(source).subset(...)``.
    weeks : (first, last), optional
        Week window (``("2008-W01", "2014-W52")`` or week indices, inclusive):
        only those weekly columns are read, as if the file held no others.
    code_filter : str or iterable of str, optional
        Keep only states with these codes (all codes are still checked).
    batch_rows : int, default=20000
        Rows per batch of the streaming pass (the result does not depend on it).
    progress : bool, optional
        Progress bar (default: for files of at least 200,000 rows).
    out : str or Path, optional
        Stream the file into a partitioned panel store at this directory
        instead of returning the panel (see
        :func:`~evaltools.data.dream_to_store`; memory is one batch); then the
        store's path is returned.

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
    The file is read by :func:`iter_dream` (a projected pass over the id,
    window and background columns, then the weekly columns in row batches)
    and the batches are concatenated: memory is the panel's, not the wide
    file's.

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
    id_col = id
    if out is not None:
        from evaltools.data._store_io import dream_to_store

        return dream_to_store(
            source,
            out,
            events=events,
            id=id_col,
            codes=codes,
            pivot=pivot,
            obs_start=obs_start,
            obs_end=obs_end,
            persons=persons,
            on=on,
            absorbing=absorbing,
            persons_filter=persons_filter,
            weeks=weeks,
            code_filter=code_filter,
            batch_rows=batch_rows,
            progress=progress,
        )
    taken = sorted(set(events or {}) & {MONTHLY_TABLE, YEARLY_TABLE})
    if taken:
        raise SpecificationError(
            f"read_dream: events[{taken[0]!r}] has the name of the calendar table the reader builds from "
            "the file's monthly or yearly columns; give the table another name."
        )
    plan = plan_read(
        source,
        where="read_dream",
        id_col=id_col,
        codes=codes,
        pivot=pivot,
        obs_start=obs_start,
        obs_end=obs_end,
        persons=persons,
        on=on,
        absorbing=absorbing,
        persons_filter=persons_filter,
        weeks=weeks,
        code_filter=code_filter,
    )
    where = plan.where
    parts = list(raw_batches(plan, batch_rows, progress))
    codes = plan.codes
    states = _concat_states(parts, codes)
    pers = plan.persons
    shown = np.concatenate([b.shown for b in parts])
    coded = CodedRows.concat([b.coded for b in parts])
    issue = None if all(b.window_ok for b in parts) else check_window(states, pers)
    if issue:
        raise DataValidationError(f"{where}: {issue.message}")
    pers, notes = absorbing_rows(coded, pers, codes, mode=absorbing, where=where, id_name=id_col, shown=shown)
    notes += plan.front_notes
    notes += coverage_notes(
        states,
        pers,
        where=where,
        id_name=id_col,
        shown=shown,
        trailing_blank=None if plan.given_end else (plan.lo, plan.hi),
        column_name=lambda w: dream_column(w)[0],
        coded=coded.counts > 0,
    )
    del coded
    if plan.code_keep is not None:
        states = states.loc[plan.code_keep[states["state"].cat.codes.to_numpy()]].reset_index(drop=True)

    ev = dict(events or {})
    if plan.monthly:
        grads = [b.grad_numeric for b in parts]
        ev[MONTHLY_TABLE] = _concat_monthly([b.monthly for b in parts], grads, where)
    if plan.yearly:
        ev[YEARLY_TABLE] = pd.concat([b.yearly for b in parts], ignore_index=True).sort_values(
            ["person_id", "week"], kind="stable", ignore_index=True
        )
    meta = base_meta(plan, len(plan.wcols))
    meta["input_notes"] = emit_notes(notes)
    return RegisterPanel._from_reader(states, pers, ev, codes, meta)


def _concat_states(parts: list[Batch], codes: CodeTable) -> pd.DataFrame:
    """The batches' states in one table sorted by person and week (each batch's states are sorted)."""
    if len(parts) == 1:
        return parts[0].states
    order = person_order(
        np.concatenate([b.groups[0] for b in parts]), np.concatenate([b.groups[1] for b in parts])
    )
    cols = {c: [b.states[c] for b in parts] for c in ("person_id", "week")}
    person = np.concatenate([s.to_numpy() for s in cols["person_id"]])
    week = np.concatenate([s.to_numpy() for s in cols["week"]])
    code = np.concatenate([b.states["state"].cat.codes.to_numpy() for b in parts])
    if order is not None:
        person, week, code = person[order], week[order], code[order]
    return state_frame(person, week, code, codes.dtype())


def _concat_monthly(parts: list, numeric: list[bool], where: str) -> pd.DataFrame:
    """The batches' monthly tables; ``grad`` is float64 only if it is numeric in every batch."""
    out = pd.concat([grad_as(p, all(numeric), where) for p in parts], ignore_index=True)
    out["grad"] = out["grad"].astype(np.float64 if all(numeric) else "string")
    out["branche"] = out["branche"].astype("string")
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
    id_col = id
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
    out[id_col] = persons[id_col].to_numpy() if id_col in persons.columns else persons["person_id"].to_numpy()
    for c in persons.columns:
        if c not in ("person_id", id_col, "obs_start", "obs_end"):
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
