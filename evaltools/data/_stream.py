"""Streaming DREAM reader: the wide file in row batches of whole persons, with push-downs.

:func:`iter_dream` reads a DREAM file in the wide layout (CSV, CSV.gz,
Parquet, SAS ``.sas7bdat`` or a DataFrame) in two passes:

1. the *front* pass reads the id, window and background columns of every row
   (one projected pass, a few small columns per person): the strict CSV checks
   (field counts, UTF-8, quotes) for the whole file, the ids (kind, duplicates
   with their lines, text ids numbered 1, 2, ... over the whole file), the
   observation windows, the person-table join and the person filter;
2. the *batch* pass streams the weekly (and monthly and yearly) columns in row
   batches, reading only the columns inside the week window.  Each column of
   a batch becomes an integer code index per row through a lookup of its few
   distinct values (never a Python object per cell); the non-blank cells
   become the batch's sparse person-week states.  For plain CSV blocks (no
   quotes) the coded cells of a batch are read from the bytes at once
   (:mod:`evaltools.data._fastcsv`).  A per-person summary of the coded weeks
   (:class:`~evaltools.data._reading.CodedRows`) gives the window check, the
   absorbing rule and the notes without another pass over the person-weeks.

Every batch is a :class:`~evaltools.data.RegisterPanel` of whole persons,
checked by the input contract as the whole-file reader checks a file
(unknown codes naming the column, line and id; codes outside the window; the
absorbing-code rule), so that :func:`~evaltools.data.read_dream`, which
concatenates the batches, gives the same panel for any batch size.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac

from evaltools._model.names import renamed_arguments
from evaltools._progress import progress_bar
from evaltools._validation import check_columns
from evaltools.data._fastcsv import Cells
from evaltools.data._reading import (
    CodedRows,
    absorbing_rows,
    coverage_notes,
    join_attributes,
    person_order,
    state_frame,
)
from evaltools.data._sources import BatchSource, CodeLookup, open_source, release_memory
from evaltools.data._wide import (
    MONTHLY_COLUMN,
    MONTHLY_TABLE,
    TEXT_COLUMN,
    YEARLY_COLUMN,
    YEARLY_TABLE,
    check_parameters,
    grad_as,
    month_weeks,
    monthly_table,
    observation_windows,
    week_window,
    year_of,
    year_weeks,
    yearly_table,
)
from evaltools.data.checks import check_window
from evaltools.data.codes import CodeTable, default_codes
from evaltools.data.contract import (
    DREAM_PATTERNS,
    IdCollector,
    Ids,
    InputNote,
    Source,
    classify_ids,
)
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import (
    dream_column,
    parse_dream_columns,
    week_label,
)
from evaltools.exceptions import (
    DataValidationError,
    EmptyInputError,
    FileFormatError,
    InputWarning,
    PersonIdError,
    SpecificationError,
)

__all__ = ["iter_dream", "DEFAULT_BATCH_ROWS"]

#: Rows per batch by default (about 60 MB of code matrix for 1,540 weekly columns).
DEFAULT_BATCH_ROWS = 20_000
#: Last coded week before any code was seen.
NO_CODE = -(1 << 40)
#: Files with at least this many rows show a progress bar unless ``progress=False``.
PROGRESS_ROWS = 200_000


# -- the plan of a read --------------------------------------------------------------
@dataclass
class Plan:
    """Everything the batch pass needs, from the column names and the front pass."""

    where: str
    src: BatchSource
    source: Source
    id_col: str
    codes: CodeTable
    wcols: list[str]
    widx: np.ndarray
    lo: int
    hi: int
    monthly: dict[str, re.Match]
    yearly: dict[str, re.Match]
    pivot: int
    n_rows: int
    keep: np.ndarray | None
    position: np.ndarray
    pid: np.ndarray
    shown: np.ndarray
    ids: Ids
    persons: pd.DataFrame
    given_end: bool
    absorbing: str
    code_keep: np.ndarray | None
    front_notes: list[InputNote] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def wide_columns(self) -> list[str]:
        return [*self.wcols, *self.monthly, *self.yearly]


def _filter_ids(persons_filter: object, id_col: str, where: str) -> Ids:
    w = f"{where}(persons_filter=...)"
    if isinstance(persons_filter, pd.DataFrame):
        check_columns(persons_filter, [id_col], w, role="person id")
        values: Any = persons_filter[id_col]
    elif isinstance(persons_filter, (str, bytes, Path)) or not isinstance(persons_filter, Iterable):
        raise SpecificationError(
            f"{where}: persons_filter= must be ids (a list, array or Series) or a DataFrame with the id "
            f"column {id_col!r}. Got {type(persons_filter).__name__}."
        )
    else:
        array_like = isinstance(persons_filter, (pd.Series, np.ndarray, pd.Index))
        values = pd.Series(persons_filter if array_like else list(persons_filter))
    return classify_ids(pd.Series(values).reset_index(drop=True), column=id_col, source=Source(w))


def plan_read(
    source: str | Path | pd.DataFrame,
    *,
    where: str,
    id_col: str,
    codes: CodeTable | None,
    pivot: int,
    obs_start: int | str | None,
    obs_end: int | str | None,
    persons: str | Path | pd.DataFrame | None,
    on: str | None,
    absorbing: str,
    persons_filter: object,
    weeks: object,
    code_filter: object,
) -> Plan:
    """Check the parameters and the column names, run the front pass and plan the batches."""
    check_parameters(where, id_col, pivot, codes, absorbing)
    codes = codes if codes is not None else default_codes()
    window = week_window(weeks, where)
    code_keep = None
    if code_filter is not None:
        wanted = [code_filter] if isinstance(code_filter, str) else [str(c) for c in code_filter]  # type: ignore[attr-defined]  # str or iterable of codes (public signature)
        unknown = sorted(set(wanted) - set(codes.codes))
        if unknown:
            raise SpecificationError(
                f"{where}: code_filter= names code(s) {unknown[:5]} that are not in the code table. "
                "Pass codes of the table (or add the codes to a CodeTable passed as codes=...)."
            )
        code_keep = np.isin(np.asarray(codes.codes, dtype=object), wanted)
    names = ["obs_start", "obs_end", *(v for v in (obs_start, obs_end) if isinstance(v, str))]
    src = open_source(source, where=where, patterns=DREAM_PATTERNS, names=names)
    columns = [str(c) for c in src.columns]
    weekly_all = parse_dream_columns(columns, pivot=int(pivot))
    monthly_all = {c: m for c in columns if (m := MONTHLY_COLUMN.match(c))}
    yearly_all = {c: m for c in columns if (m := YEARLY_COLUMN.match(c))}
    wide = set(weekly_all) | set(monthly_all) | set(yearly_all)
    front_cols = [c for c in src.columns if str(c) not in wide]
    text = lambda c: bool(TEXT_COLUMN.fullmatch(str(c))) or c == id_col  # noqa: E731
    front = src.front(front_cols, text, where, id_col)
    release_memory()
    if id_col not in columns:
        check_columns(pd.DataFrame(columns=src.columns), [id_col], where, role="person id")
    if not weekly_all:
        raise DataValidationError(
            f"{where}: no weekly columns named y_YYWW found (columns: {columns[:10]}). "
            "Is this a DREAM file in the wide layout? For long files use read_long."
        )
    n_rows = len(front)
    if not n_rows:
        raise EmptyInputError(f"{where}: {src.name} has no data rows (only the header). Check the export.")
    wcols = sorted(weekly_all, key=weekly_all.__getitem__)
    widx = np.array([weekly_all[c] for c in wcols], dtype=np.int64)
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
    source_all = src.source(where)
    id_values: Any = front[id_col]
    if isinstance(id_values.dtype, pd.ArrowDtype):  # the CSV front pass keeps the ids in Arrow
        id_values = pa.array(id_values.array)  # its ChunkedArray, not copied
    ids = classify_ids(id_values, column=id_col, source=source_all)
    del id_values
    collector = IdCollector(id_col, fix="The wide layout has one row per person; merge the duplicated rows.")
    collector.add(ids, source_all)
    pid, original = collector.finish()
    if original is not None and id_col == "person_id":
        raise PersonIdError(
            f"{where}: column 'person_id' holds text ids (e.g. {original[0]!r}); person_id is the panel's "
            "integer key. Rename the column (e.g. to 'PNR') and pass id=...: text ids are then kept "
            "verbatim and numbered 1, 2, ..."
        )
    shown = original if original is not None else pid

    start, end, given_end, window_cols = observation_windows(
        front, (obs_start, obs_end), lo, hi, source_all, shown, id_col
    )
    notes: list[InputNote] = []
    meta: dict[str, Any] = {}
    keep: np.ndarray | None = None
    if persons_filter is not None:
        from evaltools.data._reading import match_ids

        fids = _filter_ids(persons_filter, id_col, where)
        pos = match_ids(fids, ids, where=f"{where}(persons_filter=...)", file_col=id_col, table_col=id_col)
        keep = np.zeros(n_rows, dtype=bool)
        keep[pos[pos >= 0]] = True
        absent = int((pos < 0).sum())
        meta["persons_filter"] = {"kept": int(keep.sum()), "of": n_rows, "not_in_file": absent}
        if absent:
            ex = [x.item() if isinstance(x, np.generic) else x for x in fids.values[pos < 0][:3]]
            notes.append(
                InputNote(
                    rule="filter_not_in_file",
                    column=id_col,
                    count=absent,
                    weeks=0,
                    examples=str(ex),
                    message=(
                        f"{where}(persons_filter=...): {absent:,} of {len(fids):,} id(s) of the "
                        "filter are not "
                        f"in the file (e.g. {id_col}={ex}); they have no rows to read."
                    ),
                )
            )
    if window is not None:
        a, b = window
        inside = (widx >= a) & (widx <= b)
        if not inside.any():
            raise SpecificationError(
                f"{where}: weeks={weeks!r} ({week_label(a)}..{week_label(b)}) does not overlap the file's "
                f"weekly columns {dream_column(lo)[0]}..{dream_column(hi)[0]}."
            )
        wcols = [c for c, k in zip(wcols, inside) if k]
        widx = widx[inside]
        lo, hi = int(widx.min()), int(widx.max())
        start = np.maximum(start, lo).astype(np.int32)
        end = np.minimum(end, hi).astype(np.int32)
        empty = end < start
        if empty.any():
            k = int(empty.sum() if keep is None else (empty & keep).sum())
            if k:
                from evaltools.data._reading import _shown

                shown_ex = _shown(shown, empty if keep is None else empty & keep, id_col, {})
                notes.append(
                    InputNote(
                        rule="window_outside_weeks",
                        column="obs_start",
                        count=k,
                        weeks=0,
                        examples=shown_ex,
                        message=(
                            f"{where}(weeks=...): {k:,} person(s) are not observed in the weeks "
                            f"{week_label(lo)}..{week_label(hi)} (e.g. {shown_ex}); left out of the panel."
                        ),
                    )
                )
            keep = ~empty if keep is None else keep & ~empty
        monthly = {}
        for c, m in monthly_all.items():
            w0, w1 = month_weeks(np.array([int(m.group(2))]), np.array([int(m.group(3))]))
            if w1[0] >= lo and w0[0] <= hi:
                monthly[c] = m
        yearly = {}
        for c, m in yearly_all.items():
            w0, w1 = year_weeks(np.array([year_of(m, int(pivot))]))
            if w1[0] >= lo and w0[0] <= hi:
                yearly[c] = m
        meta["weeks"] = [lo, hi]
    else:
        monthly, yearly = monthly_all, yearly_all
    if keep is not None and not keep.any():
        raise EmptyInputError(
            f"{where}: no person of {src.name} is left after persons_filter=/weeks= "
            f"({n_rows:,} rows in the file). Check the filter."
        )
    rows = np.flatnonzero(keep) if keep is not None else np.arange(n_rows)
    used = {id_col, *window_cols}
    pers = pd.DataFrame({"person_id": pid[rows], "obs_start": start[rows], "obs_end": end[rows]})
    if original is not None:
        pers[id_col] = original[rows]
    for c in front.columns:
        if c not in used:
            col = front[c]
            pers[c] = col.array if keep is None else col.iloc[rows].array
    if persons is not None:
        kept_ids = ids if keep is None else Ids(kind=ids.kind, values=ids.values[rows])
        pers, more = join_attributes(
            pers,
            kept_ids,
            persons,
            on=on if on is not None else id_col,
            id_col=id_col,
            where=where,
            shown=shown[rows],
        )
        notes += more
    elif on is not None:
        raise SpecificationError(
            f"{where}: on={on!r} names the id column of persons=..., which is not given."
        )
    position = np.full(n_rows, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    return Plan(
        where=where,
        src=src,
        source=source_all,
        id_col=id_col,
        codes=codes,
        wcols=wcols,
        widx=widx,
        lo=lo,
        hi=hi,
        monthly=monthly,
        yearly=yearly,
        pivot=int(pivot),
        n_rows=n_rows,
        keep=keep,
        position=position,
        pid=pid,
        shown=shown,
        ids=ids,
        persons=pers,
        given_end=given_end,
        absorbing=absorbing,
        code_keep=code_keep,
        front_notes=notes,
        meta=meta,
    )


# -- one batch -------------------------------------------------------------------------
@dataclass
class Batch:
    """One batch: states before the absorbing rule, the persons, calendar tables, rows.

    ``coded`` summarises each person's coded weeks (row ``i`` = person row ``i``);
    ``groups`` are the person ids and their numbers of states in the order of ``states``.
    """

    states: pd.DataFrame
    persons: pd.DataFrame
    shown: np.ndarray
    rows: np.ndarray
    monthly: pd.DataFrame | None
    yearly: pd.DataFrame | None
    grad_numeric: bool
    window_ok: bool
    coded: CodedRows
    groups: tuple[np.ndarray, np.ndarray]


def _select(values: Any, sel: np.ndarray | None) -> Any:
    if sel is None:
        return values
    if isinstance(values, pd.Series):
        return values.iloc[np.flatnonzero(sel)]
    return values.filter(pa.array(sel))


def _line_break(plan: Plan, name: str, values: Any, new: list, rows: np.ndarray) -> None:
    """Raise for a text cell holding a line break (a quote left open in a CSV)."""
    if not any(isinstance(v, str) and ("\n" in v or "\r" in v) for v in new):
        return
    txt = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    s = pac.cast(txt, pa.string())
    brk = pac.or_(pac.match_substring(s, "\n"), pac.match_substring(s, "\r"))
    i = int(np.flatnonzero(pac.fill_null(brk, False).to_numpy(zero_copy_only=False))[0])
    raise FileFormatError(
        f"{plan.where}: column {name!r} of {plan.src.name!r} holds a line break in data row "
        f"{rows[i] + 1} (a quote left open?). Fix the quoting of that field."
    )


def _code_column(plan: Plan, name: str, values: Any, rows: np.ndarray, lookup: CodeLookup) -> np.ndarray:
    """Code index per row (``-1`` blank); unknown codes raise naming the column, lines and ids."""
    out, new = lookup.codes(values, name)
    if new and plan.source.first_line is not None:
        _line_break(plan, name, values, new, rows)
    unknown = out == CodeLookup.UNKNOWN
    if unknown.any():
        i = np.flatnonzero(unknown)
        bad = sorted(set(lookup.unknown_text(values, name, unknown)))[:5]
        ex = [f"{plan.id_col}={p}" for p in plan.shown[rows[i[:3]]]]
        week = int(plan.widx[plan.wcols.index(name)]) if name in plan.wcols else None
        what = f" ({week_label(week)})" if week is not None else ""
        raise DataValidationError(
            f"{plan.where}: column {name!r}{what} has {len(i):,} code(s) not in the code table "
            f"({bad}; e.g. {', '.join(ex)} in {', '.join(plan.source.locate(rows[i[:3]]))}). "
            "Add the codes to a CodeTable and pass it as codes=..., or recode them."
        )
    return out


class _NoBar:
    """Stands in for the progress bar when none is shown."""

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def raw_batches(plan: Plan, batch_rows: int, progress: bool | None) -> Iterator[Batch]:
    """The batches of ``plan`` before the absorbing rule (states sorted by person and week)."""
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)) or batch_rows < 1:
        raise SpecificationError(
            f"The 'batch_rows' parameter of {plan.where} must be a positive int. Got {batch_rows!r} instead."
        )
    dtype = plan.codes.dtype()
    widx = plan.widx.astype(np.int32)
    run = bool(np.array_equal(widx, np.arange(plan.lo, plan.lo + len(widx))))  # week = lo + column
    absorbing = np.isin(np.asarray(plan.codes.codes, dtype=object), plan.codes.codes_where(absorbing=True))
    lookup = CodeLookup(list(plan.codes.codes), plan.where, plan.src.null_values)
    show = progress if progress is not None else plan.n_rows >= PROGRESS_ROWS
    bar = progress_bar(total=plan.n_rows, desc=plan.where, unit="rows") if show else _NoBar()
    seen = 0
    try:
        other = [*plan.monthly, *plan.yearly]
        for r0, cells, cols in plan.src.coded_batches(plan.wcols, other, int(batch_rows), plan.where, lookup):
            release_memory()  # the consumer has dropped the previous batch by now, or holds it
            n = len(cells) if cells is not None else len(next(iter(cols.values())))
            bar.update(n)
            seen = r0 + n
            if seen > plan.n_rows:
                raise FileFormatError(
                    f"{plan.where}: {plan.src.name!r} gave more rows in the weekly columns than in the id "
                    f"column ({seen:,} > {plan.n_rows:,}); the file changed while it was read?"
                )
            sel = plan.keep[r0 : r0 + n] if plan.keep is not None else None
            if sel is not None and not sel.any():
                continue
            rows = r0 + (np.flatnonzero(sel) if sel is not None else np.arange(n))
            cols = {c: _select(v, sel) for c, v in cols.items()}
            m = len(rows)
            if cells is not None:
                if sel is not None:
                    cells = cells.select(sel)
            else:
                by_week = np.empty((len(plan.wcols), m), dtype=np.int16)
                for j, c in enumerate(plan.wcols):
                    by_week[j] = _code_column(plan, c, cols.pop(c), rows, lookup)
                cells = Cells.of_matrix(np.ascontiguousarray(by_week.T))
                del by_week
            pid = plan.pid[rows]
            counts = cells.counts
            week = np.add(cells.col, plan.lo, dtype=np.int32) if run else widx[cells.col]
            code = cells.code
            del cells
            coded = CodedRows.of_cells(counts, week, code, absorbing)
            has = counts > 0
            groups = (pid[has], counts[has])
            person = np.repeat(pid, counts)
            order = person_order(*groups)
            if order is not None:  # rows not in id order: the states of each person move as a whole
                person, week, code = person[order], week[order], code[order]
                by = np.argsort(groups[0], kind="stable")
                groups = (groups[0][by], groups[1][by])
                del order, by
            states = state_frame(person, week, code, dtype)
            del person, week, code
            pers = plan.persons.iloc[plan.position[rows]].reset_index(drop=True)
            window_ok = coded.in_window(pers["obs_start"].to_numpy(), pers["obs_end"].to_numpy())
            monthly, numeric = (
                monthly_table(plan.monthly, cols, pid, lookup, m) if plan.monthly else (None, True)
            )
            yearly = yearly_table(plan.yearly, cols, pid, lookup, plan.pivot) if plan.yearly else None
            del cols
            box = [
                Batch(
                    states, pers, plan.shown[rows], rows, monthly, yearly, numeric, window_ok, coded, groups
                )
            ]
            del states, pers, monthly, yearly, pid, coded, groups
            release_memory()
            yield box.pop()  # the frame keeps no reference to the batch while the next one is read
    finally:
        bar.close()
    if seen != plan.n_rows:
        raise FileFormatError(
            f"{plan.where}: {plan.src.name!r} gave {seen:,} rows in the weekly columns but "
            f"{plan.n_rows:,} in "
            "the id column; the file changed while it was read, or it is cut off."
        )


def finish_batch(
    plan: Plan, batch: Batch
) -> tuple[pd.DataFrame, pd.DataFrame, list[InputNote], list[InputNote]]:
    """Window check, absorbing rule and coverage notes of one batch; the code filter last.

    Returns states, persons, the absorbing notes and the coverage notes.
    """
    where = plan.where
    issue = None if batch.window_ok else check_window(batch.states, batch.persons)
    if issue:
        raise DataValidationError(f"{where}: {issue.message}")
    pers, abs_notes = absorbing_rows(
        batch.coded,
        batch.persons,
        plan.codes,
        mode=plan.absorbing,
        where=where,
        id_name=plan.id_col,
        shown=batch.shown,
    )
    cov = coverage_notes(
        batch.states, pers, where=where, id_name=plan.id_col, shown=batch.shown, coded=batch.coded.counts > 0
    )
    states = batch.states
    if plan.code_keep is not None:
        keep = plan.code_keep[states["state"].cat.codes.to_numpy()]
        states = states.loc[keep].reset_index(drop=True)
    return states, pers, abs_notes, cov


def merge_notes(batches: list[list[InputNote]], where: str) -> list[InputNote]:
    """One note per rule over all batches (counts and person-weeks summed, first examples kept)."""
    by_rule: dict[str, list[InputNote]] = {}
    for notes in batches:
        for n in notes:
            by_rule.setdefault(n.rule, []).append(n)
    out = []
    for rule, ns in by_rule.items():
        if len(ns) == 1:
            out.append(ns[0])
            continue
        count = sum(n.count for n in ns)
        weeks = sum(n.weeks for n in ns)
        first = ns[0]
        out.append(
            InputNote(
                rule=rule,
                column=first.column,
                count=count,
                weeks=weeks,
                examples=first.examples,
                message=(
                    f"{where}: {rule.replace('_', ' ')}: {count:,} person(s), {weeks:,} person-weeks in "
                    f"{len(ns):,} row batches; first batch: {first.message}"
                ),
            )
        )
    return out


def base_meta(plan: Plan, n_week_columns: int) -> dict[str, Any]:
    meta = {
        "source": plan.src.name,
        "layout": "dream_wide",
        "pivot": plan.pivot,
        "n_week_columns": n_week_columns,
        "id_col": plan.id_col,
        "absorbing": plan.absorbing,
    }
    meta.update(plan.meta)
    return meta


# -- public ----------------------------------------------------------------------------
@renamed_arguments(id_col="id")
def iter_dream(
    source: str | Path | pd.DataFrame,
    *,
    id: str = "PNR",
    codes: CodeTable | None = None,
    pivot: int = 90,
    obs_start: int | str | None = None,
    obs_end: int | str | None = None,
    persons: str | Path | pd.DataFrame | None = None,
    on: str | None = None,
    absorbing: str = "end_observation",
    persons_filter: object = None,
    weeks: tuple[object, object] | None = None,
    code_filter: str | Iterable[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> Iterator[RegisterPanel]:
    """Read a DREAM wide file in row batches: one :class:`RegisterPanel` of whole persons per batch.

    The file is never held in memory: a first pass reads the id, window and
    background columns (a few small columns per person), then the weekly,
    monthly and yearly columns are streamed ``batch_rows`` rows at a time
    (CSV/CSV.gz with pyarrow's streaming reader, Parquet with column
    projection, SAS with pyreadstat chunks).  Concatenating the batches gives
    :func:`read_dream`'s panel for any ``batch_rows``.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv``/``.csv.gz``/``.parquet``/``.sas7bdat`` file or a DataFrame (not modified).
    id_col, codes, pivot, obs_start, obs_end, persons, on, absorbing
        As in :func:`read_dream`.
    persons_filter : ids or DataFrame, optional
        Read only these persons: a list, array or Series of ids of ``id``
        (matched verbatim, text with text, integers with integers), or a
        DataFrame with an ``id`` column.  Text ids keep the numbers they
        get in the whole file, so the result equals
        ``read_dream(source).subset(...)``.  Ids of the filter that are not in
        the file are counted in an input note.
    weeks : (first, last), optional
        Week window, ISO weeks (``("2008-W01", "2014-W52")``) or week indices,
        both inclusive: only the weekly columns inside it are read (and the
        monthly and yearly columns overlapping it), as if the file held no
        other weeks.  Observation windows are clipped to it; persons not
        observed in it are left out and counted in an input note.
    code_filter : str or iterable of str, optional
        Keep only the states with these codes (codes of the code table).  All
        codes are still checked against the code table, and the absorbing rule
        and the notes use all codes.
    batch_rows : int, default=20000
        Rows of the file per batch (persons after the filters may be fewer).
    progress : bool, optional
        Show a progress bar (rows read); by default shown for files of at least
        200,000 rows.

    Yields
    ------
    RegisterPanel
        The persons of one batch (rows of the file in file order), their
        states, and the calendar tables ``events["dream_monthly"]`` and
        ``events["dream_yearly"]`` when the file has such columns.
        ``meta`` is :func:`read_dream`'s, with ``meta["batch"]`` (batch number
        from 0, first and last file row) and the batch's input notes; the notes
        of the whole read are issued as one
        :class:`~evaltools.exceptions.InputWarning` per rule when the iterator
        is exhausted.

    Raises
    ------
    FileFormatError, EmptyInputError, ColumnNameError, PersonIdError, WeekValueError, DataValidationError
        As in :func:`read_dream`, at the call for the whole-file checks (field
        counts, column names, ids, windows) and at the batch that holds the
        offending cell for code checks (naming column, line and id).

    Notes
    -----
    The ``grad_YYYY_MM`` columns of a CSV are numbers when the first batch
    holds only numbers; a later batch with text in them then raises.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaltools.data import iter_dream
    >>> wide = pd.DataFrame({"PNR": [1, 2, 3], "y_1501": ["111", "", "701"], "y_1502": ["111", "701", ""]})
    >>> [len(p.persons) for p in iter_dream(wide, batch_rows=2)]
    [2, 1]
    """
    id_col = id
    plan = plan_read(
        source,
        where="iter_dream",
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
    gen = raw_batches(plan, batch_rows, progress)
    return _panels(plan, gen)


def _panels(plan: Plan, gen: Iterator[Batch]) -> Iterator[RegisterPanel]:
    abs_all: list[list[InputNote]] = []
    cov_all: list[list[InputNote]] = []
    grad_numeric: bool | None = None
    last_coded = NO_CODE
    windows: list[tuple[np.ndarray, np.ndarray]] = []
    n_persons = 0
    k = -1
    for batch in gen:  # not enumerate(): its cached result tuple would keep the last batch alive
        k += 1
        states, pers, a, c = finish_batch(plan, batch)
        abs_all.append(a)
        cov_all.append(c)
        if len(batch.states):
            last_coded = max(last_coded, int(batch.states["week"].max()))
        windows.append((pers["obs_start"].to_numpy(), pers["obs_end"].to_numpy()))
        n_persons += len(pers)
        ev: dict[str, pd.DataFrame] = {}
        if batch.monthly is not None:
            mon = batch.monthly
            if grad_numeric is None:
                grad_numeric = batch.grad_numeric
            elif grad_numeric and not batch.grad_numeric:
                raise DataValidationError(
                    f"{plan.where}: the grad_YYYY_MM columns hold numbers in the first batch but text in the "
                    f"batch from {plan.source.locate(batch.rows[:1])[0]} "
                    f"({plan.id_col}={batch.shown[0]!r}). Recode the text values, or read with read_dream."
                )
            mon = grad_as(mon, grad_numeric, plan.where)
            ev[MONTHLY_TABLE] = mon
        if batch.yearly is not None:
            ev[YEARLY_TABLE] = batch.yearly
        meta = base_meta(plan, len(plan.wcols))
        meta["batch"] = {"number": k, "first_row": int(batch.rows[0]), "last_row": int(batch.rows[-1])}
        meta["input_notes"] = [n.as_dict() for n in (a + c)]
        box = [RegisterPanel._from_reader(states, pers, ev, plan.codes, meta)]
        del states, pers, ev, batch
        yield box.pop()  # the frame keeps no reference to the panel while the next one is read
    notes = merge_notes(abs_all, plan.where) + plan.front_notes + merge_notes(cov_all, plan.where)
    trailing = trailing_note(plan, last_coded, windows, n_persons)
    if trailing is not None:
        notes.append(trailing)
    for n in notes:
        warnings.warn(n.message, InputWarning, stacklevel=2)


def trailing_note(
    plan: Plan, last_coded: int, windows: list[tuple[np.ndarray, np.ndarray]], n_persons: int
) -> InputNote | None:
    """The note on trailing weekly columns blank for everybody (needs all batches)."""
    if plan.given_end or last_coded == NO_CODE or not n_persons:
        return None
    if last_coded >= plan.hi:
        return None
    start = np.concatenate([w[0] for w in windows]).astype(np.int64)
    end = np.concatenate([w[1] for w in windows]).astype(np.int64)
    from evaltools.data._reading import trailing_blank_note

    return trailing_blank_note(
        last_coded,
        start,
        end,
        n_persons,
        where=plan.where,
        lo=plan.lo,
        hi=plan.hi,
        column_name=lambda w: dream_column(w)[0],
    )
