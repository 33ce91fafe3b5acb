"""Rules shared by the readers: absorbing codes, input notes and the person-table join.

Absorbing codes
    A code with ``absorbing=True`` in the code table (emigration 997, death
    998, old-age pension 999, disability pension, early retirement in the
    shipped table) ends the person's risk period.  When a person's *last*
    coded week holds an absorbing code and blank weeks follow it up to
    ``obs_end``, those blank weeks are not self-support: the person has left
    the population.  ``absorbing="end_observation"`` (default) moves
    ``obs_end`` to the last absorbing week, ``"keep"`` keeps the window and
    ``"error"`` raises.  Either way the count of persons and person-weeks is
    recorded as an input note (``rule="absorbing_end"``).  Non-absorbing
    codes after an absorbing code are kept as they are and noted
    (``rule="codes_after_absorbing"``; :func:`evaltools.data.validate` fails
    them under ``after_absorbing``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, check_option
from evaltools.data._load import load_table
from evaltools.data.codes import CodeTable
from evaltools.data.contract import (
    Ids,
    InputNote,
    Source,
    check_unique_ids,
    classify_ids,
    current_week,
    format_week,
)
from evaltools.exceptions import DataValidationError, PersonIdError, SpecificationError

__all__ = [
    "ABSORBING",
    "sort_states",
    "person_order",
    "state_frame",
    "apply_absorbing",
    "CodedRows",
    "absorbing_rows",
    "coverage_notes",
    "trailing_blank_note",
    "load_person_table",
    "match_ids",
    "join_attributes",
]

#: Options of the readers' ``absorbing`` parameter.
ABSORBING = ("end_observation", "keep", "error")


def _shown(shown: np.ndarray, mask: np.ndarray, id_name: str, extra: dict[str, np.ndarray]) -> str:
    idx = np.flatnonzero(mask)
    parts = []
    for i in idx[:3].tolist():
        more = " ".join(f"{k}={format_week(v[i])}" for k, v in extra.items())
        who = shown[i].item() if isinstance(shown[i], np.generic) else shown[i]
        parts.append(f"{id_name}={who!r} {more}".strip())
    return "; ".join(parts) + ("; ..." if len(idx) > 3 else "")


def _sorted(pid: np.ndarray, week: np.ndarray) -> np.ndarray | None:
    """``None`` if the rows are sorted by (person, week), else the sorting order."""
    if len(pid) < 2:
        return None
    step = (pid[1:] > pid[:-1]) | ((pid[1:] == pid[:-1]) & (week[1:] > week[:-1]))
    return None if bool(step.all()) else np.lexsort((week, pid))


def sort_states(states: pd.DataFrame) -> pd.DataFrame:
    """States sorted by (person, week), as the panel stores them (unchanged if already sorted)."""
    order = _sorted(states["person_id"].to_numpy(), states["week"].to_numpy().astype(np.int64))
    return states if order is None else states.iloc[order].reset_index(drop=True)


def person_order(group_pid: np.ndarray, group_len: np.ndarray) -> np.ndarray | None:
    """``None`` if groups of states (one per person, weeks in order) are in person order, else the order.

    The states are ``group_len[k]`` rows of person ``group_pid[k]``, group after
    group; the order sorts them by person and week (the persons are distinct).
    """
    if len(group_pid) < 2 or bool(np.all(group_pid[1:] > group_pid[:-1])):
        return None
    by = np.argsort(group_pid, kind="stable")
    first = np.cumsum(group_len) - group_len
    n = group_len[by]
    shift = first[by] - (np.cumsum(n) - n)
    return np.repeat(shift, n) + np.arange(int(n.sum()), dtype=np.int64)


def state_frame(
    person: np.ndarray, week: np.ndarray, code: np.ndarray, dtype: pd.CategoricalDtype
) -> pd.DataFrame:
    """The states table of fresh arrays (not copied): person_id int64, week int32, state."""
    return pd.DataFrame(
        {
            "person_id": person,
            "week": week,
            "state": pd.Categorical.from_codes(code, dtype=dtype),
        },
        copy=False,
    )


def _code_index(state: pd.Series, names: list[str]) -> np.ndarray:
    """Per-row index of the code in ``names`` (-1 for a missing state or a code not in ``names``)."""
    cat = state if isinstance(state.dtype, pd.CategoricalDtype) else state.astype("category")
    codes = cat.cat.codes.to_numpy()
    cats = cat.cat.categories
    if len(cats) == len(names) and bool(np.all(np.asarray(cats.astype(str), dtype=object) == names)):
        return codes
    recode = pd.Index(names).get_indexer(cats.astype(str))
    return np.where(codes >= 0, recode[np.maximum(codes, 0)], -1) if len(recode) else codes


def apply_absorbing(
    states: pd.DataFrame,
    persons: pd.DataFrame,
    codes: CodeTable,
    *,
    mode: str,
    where: str,
    id_name: str,
    shown: np.ndarray,
) -> tuple[pd.DataFrame, list[InputNote]]:
    """Apply the absorbing-code rule (see the module docstring) to a states table.

    The states are summarised per person (:meth:`CodedRows.of_states`) and the
    rule is :func:`absorbing_rows`, the one the streaming wide reader applies.

    Parameters
    ----------
    states : DataFrame
        ``person_id``, ``week``, ``state`` (fastest when sorted by person and
        week).  States of persons not in ``persons`` are not looked at.
    persons : DataFrame
        ``person_id``, ``obs_start``, ``obs_end`` (not modified).
    codes : CodeTable
        Code table (its ``absorbing`` column).
    mode : {"end_observation", "keep", "error"}
        What to do with blank weeks after a final absorbing code.
    where : str
        The reader, for messages.
    id_name : str
        Name of the id shown in messages (e.g. ``"PNR"``).
    shown : ndarray
        The id shown for each row of ``persons`` (verbatim text ids).

    Returns
    -------
    persons : DataFrame
        A copy with ``obs_end`` moved (``"end_observation"``), else unchanged.
    notes : list of InputNote
    """
    check_option("absorbing", mode, ABSORBING, where)
    if not len(states) or not codes.codes_where(absorbing=True):
        return persons, []
    coded = CodedRows.of_states(states, persons["person_id"].to_numpy(), codes)
    return absorbing_rows(coded, persons, codes, mode=mode, where=where, id_name=id_name, shown=shown)


def _absorbing_notes(
    persons: pd.DataFrame,
    obs_end: np.ndarray,
    rows: np.ndarray,
    last_week: np.ndarray,
    last_code: np.ndarray,
    after_mask: np.ndarray | None,
    n_after: tuple[int, int],
    *,
    mode: str,
    where: str,
    id_name: str,
    shown: np.ndarray,
) -> tuple[pd.DataFrame, list[InputNote]]:
    """The absorbing rule's persons and notes from its findings.

    ``rows`` are the person rows whose final absorbing code is followed by blank
    weeks, ``last_week``/``last_code`` their last coded week and code;
    ``after_mask`` marks the person rows with non-absorbing codes after an
    absorbing code (``None`` if none), ``n_after`` counts those persons and codes.
    """
    notes: list[InputNote] = []
    n_cut = len(rows)
    weeks_cut = int((obs_end[rows] - last_week).sum())
    out = persons
    if n_cut:
        mask = np.zeros(len(persons), dtype=bool)
        mask[rows] = True
        ex = _shown(
            shown,
            mask,
            id_name,
            {
                "last_code_week": _at(rows, last_week, len(persons)),
                "obs_end": obs_end,
            },
        )
        codes_seen = sorted(set(map(str, last_code)))[:5]
        if mode == "error":
            raise DataValidationError(
                f"{where}: {n_cut:,} person(s) have blank weeks after their last code, which is absorbing "
                f"(codes {codes_seen}: emigration, death, pension), {weeks_cut:,} person-weeks in all "
                f"(e.g. {ex}). Those weeks are not self-support. Pass absorbing='end_observation' to end "
                "observation at the absorbing week, or absorbing='keep'."
            )
        if mode == "end_observation":
            out = persons.copy()
            new_end = obs_end.copy()
            new_end[rows] = last_week
            out["obs_end"] = new_end.astype(np.int32)
            done = "observation ends at the absorbing week (absorbing='end_observation')"
        else:
            done = "kept as observed weeks without a code (absorbing='keep')"
        notes.append(
            InputNote(
                rule="absorbing_end",
                column="obs_end",
                count=n_cut,
                weeks=weeks_cut,
                examples=ex,
                message=(
                    f"{where}: {n_cut:,} person(s) have blank weeks after a final absorbing code (codes "
                    f"{codes_seen}), {weeks_cut:,} person-weeks in all (e.g. {ex}); {done}."
                ),
            )
        )
    if after_mask is not None:
        n_p, n_codes = n_after
        ex = _shown(shown, after_mask, id_name, {})
        notes.append(
            InputNote(
                rule="codes_after_absorbing",
                column="state",
                count=n_p,
                weeks=n_codes,
                examples=ex,
                message=(
                    f"{where}: {n_p:,} person(s) have {n_codes:,} non-absorbing code(s) after an "
                    f"absorbing code (e.g. {ex}); kept as they are. panel.validate() reports them under "
                    "'after_absorbing': recode them, or set obs_end to the absorbing week."
                ),
            )
        )
    return out, notes


class CodedRows:
    """What the absorbing rule and the notes need of each person's coded weeks, one entry per person.

    Built from the coded cells of a batch of a wide file, person by person
    (:meth:`of_cells`), or from a states table (:meth:`of_states`), so that
    the rule (:func:`absorbing_rows`) costs one pass over the cells and then
    works per person, never per person-week.

    Attributes
    ----------
    counts : ndarray of int64
        Coded weeks per person.
    first_week, last_week : ndarray of int64
        First and last coded week (0 for a person without a code).
    last_code : ndarray of int16
        Code index of the last coded week (-1 for a person without a code).
    n_after : ndarray of int64
        Non-absorbing codes after the person's first absorbing code.
    """

    __slots__ = ("counts", "first_week", "last_week", "last_code", "n_after")

    def __init__(
        self,
        counts: np.ndarray,
        first_week: np.ndarray,
        last_week: np.ndarray,
        last_code: np.ndarray,
        n_after: np.ndarray,
    ) -> None:
        self.counts = counts
        self.first_week = first_week
        self.last_week = last_week
        self.last_code = last_code
        self.n_after = n_after

    @classmethod
    def of_cells(
        cls, counts: np.ndarray, week: np.ndarray, code: np.ndarray, absorbing: np.ndarray
    ) -> CodedRows:
        """From the cells of the persons: ``counts[i]`` cells of person ``i``, then the next person.

        ``week`` and ``code`` (code index) are per cell; ``absorbing`` is a boolean per code index.
        """
        n = len(counts)
        ends = np.cumsum(counts)
        has = counts > 0
        last = ends[has] - 1
        first_week = np.zeros(n, dtype=np.int64)
        last_week = np.zeros(n, dtype=np.int64)
        last_code = np.full(n, -1, dtype=np.int16)
        first_week[has] = week[last - counts[has] + 1]
        last_week[has] = week[last]
        last_code[has] = code[last]
        n_after = np.zeros(n, dtype=np.int64)
        cells = np.flatnonzero(absorbing[code]) if len(code) and absorbing.any() else np.zeros(0, np.int64)
        if len(cells):
            row = np.searchsorted(ends, cells, side="right")
            first = np.r_[True, row[1:] != row[:-1]]
            n_abs = np.bincount(row, minlength=n)
            r = row[first]
            # cells after the first absorbing one, less the absorbing cells among them
            n_after[r] = ends[r] - cells[first] - n_abs[r]
        return cls(counts, first_week, last_week, last_code, n_after)

    @classmethod
    def of_states(cls, states: pd.DataFrame, person_id: np.ndarray, codes: CodeTable) -> CodedRows:
        """From a states table: row ``i`` summarises the states of the person ``person_id[i]``.

        ``states`` has ``person_id``, ``week`` and ``state`` (codes of
        ``codes``), in any row order; duplicated person-weeks count as coded
        weeks each (of the rows of one week, the last one in row order gives
        the last code), states of persons not
        in ``person_id`` are left out.  The code index is the position in
        ``codes.codes`` (-1 for a state that is missing or not in the table).
        """
        names = list(codes.codes)
        absorbing = np.isin(np.asarray(names, dtype=object), codes.codes_where(absorbing=True))
        n = len(person_id)
        counts = np.zeros(n, dtype=np.int64)
        first_week = np.zeros(n, dtype=np.int64)
        last_week = np.zeros(n, dtype=np.int64)
        last_code = np.full(n, -1, dtype=np.int16)
        n_after = np.zeros(n, dtype=np.int64)
        if not len(states) or not n:
            return cls(counts, first_week, last_week, last_code, n_after)
        pid = states["person_id"].to_numpy()
        week = states["week"].to_numpy().astype(np.int64)
        code = _code_index(states["state"], names)
        order = _sorted(pid, week)
        if order is not None:
            pid, week, code = pid[order], week[order], code[order]
        starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        size = np.diff(np.r_[starts, len(pid)])
        last = starts + size - 1
        gpid = pid[starts]
        pos = np.searchsorted(person_id, gpid) if bool(np.all(person_id[1:] > person_id[:-1])) else None
        if pos is None:
            row = pd.Index(person_id).get_indexer(gpid)
        else:
            row = np.where((pos < n) & (person_id[np.minimum(pos, n - 1)] == gpid), pos, -1)
        found = row >= 0
        r = row[found]
        counts[r] = size[found]
        first_week[r] = week[starts[found]]
        last_week[r] = week[last[found]]
        last_code[r] = code[last[found]]
        is_abs = (code >= 0) & absorbing[np.maximum(code, 0)]
        if is_abs.any():
            # non-absorbing states later than the person's first absorbing week
            first_abs = np.minimum.reduceat(np.where(is_abs, week, np.iinfo(np.int64).max), starts)
            after = ~is_abs & (week > np.repeat(first_abs, size))
            if after.any():
                n_after[r] = np.add.reduceat(after.astype(np.int64), starts)[found]
        return cls(counts, first_week, last_week, last_code, n_after)

    @classmethod
    def concat(cls, parts: list[CodedRows]) -> CodedRows:
        """The persons of ``parts``, one after the other."""
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in cls.__slots__))

    def select(self, index: np.ndarray) -> CodedRows:
        """The persons at ``index`` (positions or a boolean mask)."""
        return CodedRows(*(getattr(self, k)[index] for k in self.__slots__))

    def in_window(self, start: np.ndarray, end: np.ndarray) -> bool:
        """Whether every coded week lies inside the person's window ``start..end``."""
        has = self.counts > 0
        return bool(np.all((self.first_week[has] >= start[has]) & (self.last_week[has] <= end[has])))


def absorbing_rows(
    coded: CodedRows,
    persons: pd.DataFrame,
    codes: CodeTable,
    *,
    mode: str,
    where: str,
    id_name: str,
    shown: np.ndarray,
) -> tuple[pd.DataFrame, list[InputNote]]:
    """The absorbing-code rule (see the module docstring) from the persons' :class:`CodedRows`.

    Row ``i`` of ``coded`` is person row ``i``; the other parameters and the
    result are those of :func:`apply_absorbing`, which builds ``coded`` from a
    states table and calls this function.
    """
    check_option("absorbing", mode, ABSORBING, where)
    names = list(codes.codes)
    is_abs = np.isin(np.asarray(names, dtype=object), codes.codes_where(absorbing=True))
    if not int(coded.counts.sum()) or not is_abs.any():
        return persons, []
    obs_end = persons["obs_end"].to_numpy().astype(np.int64)
    last_abs = (coded.counts > 0) & (coded.last_code >= 0) & is_abs[np.maximum(coded.last_code, 0)]
    rows = np.flatnonzero(last_abs & (coded.last_week < obs_end))
    cats = np.asarray(names, dtype=object)
    after = coded.n_after > 0
    n_after = (int(after.sum()), int(coded.n_after.sum()))
    return _absorbing_notes(
        persons,
        obs_end,
        rows,
        coded.last_week[rows],
        cats[coded.last_code[rows]],
        after if n_after[1] else None,
        n_after,
        mode=mode,
        where=where,
        id_name=id_name,
        shown=shown,
    )


def _at(rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    out[rows] = values
    return out


def coverage_notes(
    states: pd.DataFrame,
    persons: pd.DataFrame,
    *,
    where: str,
    id_name: str,
    shown: np.ndarray,
    trailing_blank: tuple[int, int] | None = None,
    column_name: Callable[[int], str] | None = None,
    coded: np.ndarray | None = None,
) -> list[InputNote]:
    """Notes on persons without a coded week, weeks after today and blank trailing weekly columns.

    Parameters
    ----------
    states, persons : DataFrame
        The panel's tables (``persons`` after the absorbing rule).
    where, id_name, shown
        As in :func:`apply_absorbing`.
    trailing_blank : (int, int), optional
        First and last weekly column of a wide file whose window defaults to
        the file's weeks: trailing columns without any code are noted.
    column_name : callable, optional
        Week index -> column name (``y_YYWW``) for messages.
    coded : ndarray of bool, optional
        Whether each person has a coded week, when the caller knows it (else
        looked up in ``states``).
    """
    notes: list[InputNote] = []
    ppid = persons["person_id"].to_numpy()
    start = persons["obs_start"].to_numpy().astype(np.int64)
    end = persons["obs_end"].to_numpy().astype(np.int64)
    if coded is None:
        coded = np.isin(ppid, states["person_id"].to_numpy())
    if len(ppid) and not coded.all():
        n = int((~coded).sum())
        weeks = int((end - start + 1).clip(0)[~coded].sum())
        ex = _shown(shown, ~coded, id_name, {})
        notes.append(
            InputNote(
                rule="no_coded_weeks",
                column="state",
                count=n,
                weeks=weeks,
                examples=ex,
                message=(
                    f"{where}: {n:,} of {len(ppid):,} person(s) have no coded week in their window "
                    f"({weeks:,} person-weeks, all read as weeks without a registered transfer; e.g. {ex}). "
                    "Kept; drop them with panel.subset() if they are not part of the population."
                ),
            )
        )
    today = current_week()
    late = end > today
    if late.any():
        weeks = int((end[late] - np.maximum(start[late], today + 1) + 1).clip(0).sum())
        n_codes = int((states["week"].to_numpy() > today).sum())
        ex = _shown(shown, late, id_name, {"obs_end": end})
        notes.append(
            InputNote(
                rule="after_today",
                column="obs_end",
                count=int(late.sum()),
                weeks=weeks,
                examples=ex,
                message=(
                    f"{where}: {int(late.sum()):,} person(s) are observed after the current week "
                    f"{format_week(today)}: {weeks:,} person-weeks ({n_codes:,} of them coded) lie in the "
                    f"future (e.g. {ex}). Kept; check the calendar of the data and pass obs_end= to end "
                    "observation at the last registered week."
                ),
            )
        )
    if trailing_blank is not None and len(states) and len(ppid):
        lo, hi = trailing_blank
        note = trailing_blank_note(
            int(states["week"].max()),
            start,
            end,
            len(ppid),
            where=where,
            lo=lo,
            hi=hi,
            column_name=column_name,
        )
        if note is not None:
            notes.append(note)
    return notes


def trailing_blank_note(
    last_coded: int,
    start: np.ndarray,
    end: np.ndarray,
    n_persons: int,
    *,
    where: str,
    lo: int,
    hi: int,
    column_name: Callable[[int], str] | None = None,
) -> InputNote | None:
    """The note on the last weekly columns ``last_coded + 1 .. hi`` being blank for everybody.

    Parameters
    ----------
    last_coded : int
        Last week with a code in the whole file.
    start, end : ndarray
        Every person's observation window (after the absorbing rule).
    n_persons : int
        Number of persons.
    where : str
        The reader.
    lo, hi : int
        First and last weekly column of the file.
    column_name : callable, optional
        Week index -> column name (``y_YYWW``) for messages.
    """
    if last_coded >= hi:
        return None
    k = hi - last_coded
    name = column_name or (lambda w: format_week(w))
    weeks = int(np.clip(end - np.maximum(start, last_coded + 1) + 1, 0, None).sum())
    return InputNote(
        rule="blank_trailing_weeks",
        column=str(name(hi)),
        count=k,
        weeks=weeks,
        examples=f"{name(last_coded + 1)}..{name(hi)}",
        message=(
            f"{where}: the last {k:,} weekly column(s) ({name(last_coded + 1)}..{name(hi)}) are "
            f"blank for all {n_persons:,} persons; read as {weeks:,} observed person-weeks "
            "without a transfer (self-support). If the extract ends earlier (registration lag), "
            "pass obs_end=<last complete week>."
        ),
    )


def load_person_table(
    source: str | Path | pd.DataFrame, *, on: str, where: str
) -> tuple[pd.DataFrame, Ids, Source]:
    """Load a person table (DataFrame or file), check its key column ``on`` and its ids.

    Raises
    ------
    PersonIdError
        Missing, duplicated or malformed ids in ``on``.
    """
    w = f"{where}(persons=...)"
    if not isinstance(on, str):
        raise SpecificationError(f"The 'on' parameter of {where} must be a column name (str). Got {on!r}.")
    frame, src = load_table(
        source, where=w, text=lambda c: c == on, id_col=on, names=["obs_start", "obs_end"]
    )
    check_columns(frame, [on], w, role="person id of the person table")
    ids = classify_ids(frame[on], column=on, source=src)
    check_unique_ids(ids, column=on, source=src, fix="Keep one row per person in the person table.")
    return frame, ids, src


def match_ids(file_ids: Ids, table_ids: Ids, *, where: str, file_col: str, table_col: str) -> np.ndarray:
    """Position in ``table_ids`` of each file id (-1 if absent); ids match verbatim and by kind."""
    if len(file_ids) and len(table_ids) and file_ids.kind != table_ids.kind:
        a = file_ids.values[0]
        b = table_ids.values[0]
        raise PersonIdError(
            f"{where}: the ids in {file_col!r} are {_kind_name(file_ids)} (e.g. {_py(a)!r}) but the ids in "
            f"persons[{table_col!r}] are {_kind_name(table_ids)} (e.g. {_py(b)!r}). Ids are matched "
            "verbatim, so '0101901234' and 101901234 are different persons: store both as text (keep "
            "leading zeros) or both as integers."
        )
    return pd.Index(table_ids.values).get_indexer(file_ids.values)


def _py(x: object) -> object:
    return x.item() if isinstance(x, np.generic) else x


def _kind_name(ids: Ids) -> str:
    return "integers" if ids.kind == "int" else "text (not all canonical integers)"


def join_attributes(
    persons: pd.DataFrame,
    file_ids: Ids,
    source: str | Path | pd.DataFrame,
    *,
    on: str,
    id_col: str,
    where: str,
    shown: np.ndarray,
) -> tuple[pd.DataFrame, list[InputNote]]:
    """Join background attributes from a person table onto ``persons`` (one row per file person).

    Parameters
    ----------
    persons : DataFrame
        The reader's person table, row ``i`` is the person of ``file_ids[i]``.
    file_ids : Ids
        The file's ids (kind and verbatim values).
    source : DataFrame or path
        The person table; ``on`` is its id column.
    on, id_col : str
        Key column of the person table and of the file.
    where : str
        The reader.
    shown : ndarray
        Ids shown in messages.

    Returns
    -------
    persons : DataFrame
        A copy with the attribute columns added (missing for unmatched persons).
    notes : list of InputNote
        Counts of file persons without a person-table row and of person-table
        rows without a person in the file.

    Raises
    ------
    DataValidationError
        Attribute columns that the panel already has.
    """
    table, tids, _ = load_person_table(source, on=on, where=where)
    pos = match_ids(file_ids, tids, where=where, file_col=id_col, table_col=on)
    attrs = [c for c in table.columns if c != on]
    clash = [c for c in attrs if c in persons.columns or c == "person_id"]
    if clash:
        raise DataValidationError(
            f"{where}(persons=...): column(s) {clash} of the person table are already columns of the panel's "
            f"person table ({list(map(str, persons.columns[:10]))}). Rename or drop them in one of the two."
        )
    out = persons.copy()
    found = pos >= 0
    # a left join: unmatched persons get missing values (integer columns become float, as in pandas)
    sub = table[attrs].reset_index(drop=True).reindex(pos).reset_index(drop=True)
    for c in attrs:
        out[c] = sub[c].array
    notes: list[InputNote] = []
    if not found.all():
        n = int((~found).sum())
        ex = _shown(shown, ~found, id_col, {})
        notes.append(
            InputNote(
                rule="persons_unmatched",
                column=on,
                count=n,
                weeks=0,
                examples=ex,
                message=(
                    f"{where}(persons=...): {n:,} of {len(found):,} person(s) of the file have no row in the "
                    f"person table (e.g. {ex}); kept, with missing attributes {attrs[:5]}."
                ),
            )
        )
    unused = np.ones(len(tids), dtype=bool)
    unused[pos[found]] = False
    if unused.any():
        n = int(unused.sum())
        ex_ids = [_py(x) for x in tids.values[unused][:3]]
        notes.append(
            InputNote(
                rule="persons_not_in_file",
                column=on,
                count=n,
                weeks=0,
                examples=str(ex_ids),
                message=(
                    f"{where}(persons=...): {n:,} of {len(tids):,} row(s) of the person table name persons "
                    f"who are not in the file (e.g. {on}={ex_ids}); not added (they have no weekly data)."
                ),
            )
        )
    return out, notes
