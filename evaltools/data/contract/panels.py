"""Cheap invariants checked by transforms that rely on a valid panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaltools.data.contract._base import Source
from evaltools.data.contract.ids import classify_ids
from evaltools.data.contract.weeks import check_weeks
from evaltools.exceptions import DataValidationError, PanelInvariantError, SpecificationError

if TYPE_CHECKING:
    from evaltools.data.panel import RegisterPanel

_PW = ["person_id", "week"]

__all__ = ["require_panel", "check_panel_schema", "check_panel_invariants", "check_spell_table"]


# -- panels given to transforms ------------------------------------------------------------
def require_panel(panel: object, where: str, name: str = "panel") -> RegisterPanel:
    """``panel`` if it is a :class:`RegisterPanel`, else :class:`SpecificationError`."""
    from evaltools.data.panel import RegisterPanel

    if not isinstance(panel, RegisterPanel):
        raise SpecificationError(
            f"The {name!r} parameter of {where} must be a RegisterPanel (from read_dream, read_long, "
            f"read_panel or RegisterPanel(...)). Got {type(panel).__name__} instead."
        )
    return panel


def check_panel_invariants(panel: RegisterPanel, where: str) -> None:
    """Cheap checks a transform relies on; :class:`PanelInvariantError` names the failed rule.

    Checks (all vectorised, one pass over the sorted states): the schema
    (:func:`check_panel_schema`), duplicate person ids, duplicate
    person-weeks and states of persons missing from the person table.  States
    outside a person's window are left to :func:`evaltools.data.validate`
    (rule ``window``): the transforms censor spells at ``obs_end``.
    """
    panel = require_panel(panel, where)
    check_panel_schema(panel, where)
    st, pe = panel.states, panel.persons
    pid = st["person_id"].to_numpy()
    wk = st["week"].to_numpy().astype(np.int64)
    ppid = pe["person_id"].to_numpy()

    def fail(rule: str, what: str, mask: np.ndarray, frame: pd.DataFrame, cols: list[str]) -> None:
        ex = "; ".join(
            " ".join(f"{c}={v}" for c, v in zip(cols, row))
            for row in frame.loc[np.asarray(mask, bool), cols].head(3).itertuples(index=False)
        )
        raise PanelInvariantError(
            f"{where}: {what}: {int(np.count_nonzero(mask)):,} of {len(frame):,} rows (e.g. {ex}). "
            f"{where} needs a valid panel: run panel.validate() and fix the rule {rule!r}."
        )

    if len(ppid) > 1 and not bool(np.all(ppid[1:] > ppid[:-1])):  # the constructor sorts persons
        dup = pd.Series(ppid).duplicated(keep=False).to_numpy()
        if dup.any():
            fail("persons", "the person table has duplicate person ids", dup, pe, ["person_id"])
        ppid = np.sort(ppid)
    if len(pid) < 2:
        order, pid_s, wk_s = None, pid, wk
    else:
        step = (pid[1:] > pid[:-1]) | ((pid[1:] == pid[:-1]) & (wk[1:] >= wk[:-1]))
        order = None if bool(step.all()) else np.lexsort((wk, pid))
        pid_s, wk_s = (pid, wk) if order is None else (pid[order], wk[order])
    if len(pid) > 1:
        d = (pid_s[1:] == pid_s[:-1]) & (wk_s[1:] == wk_s[:-1])
        if d.any():
            same = np.zeros(len(pid), dtype=bool)
            same[1:] |= d
            same[:-1] |= d
            mask = same if order is None else same[np.argsort(order)]
            fail("duplicate_weeks", "duplicate person-weeks in panel.states", mask, st, _PW)
    uniq = pid_s[np.r_[True, pid_s[1:] != pid_s[:-1]]] if len(pid_s) else pid_s
    pos = np.searchsorted(ppid, uniq)
    found = (
        (pos < len(ppid)) & (ppid[np.minimum(pos, max(len(ppid) - 1, 0))] == uniq) if len(ppid) else pos < 0
    )
    if not found.all():
        bad = uniq[~found]
        raise PanelInvariantError(
            f"{where}: column 'person_id' of panel.states has {len(bad):,} person(s) missing from "
            f"panel.persons (e.g. person_id={bad[:3].tolist()}). Add them to the person table with "
            "obs_start/obs_end (panel.validate() reports the rule 'orphan_states')."
        )


def _schema(frame: pd.DataFrame, table: str, weeks: tuple[str, ...], where: str) -> None:
    src = Source(f"{where}: panel.{table}")
    missing = [c for c in ("person_id", *weeks) if c not in frame.columns]
    if missing:
        raise PanelInvariantError(
            f"{where}: panel.{table} lost the column(s) {missing} after the panel was built. Rebuild the "
            "panel with RegisterPanel(...) instead of editing its tables in place."
        )
    pid = frame["person_id"]
    if pid.dtype != np.int64:
        classify_ids(pid, column="person_id", source=src, allow_text=False)
    for c in weeks:
        col = frame[c]
        if col.dtype.kind != "i" or (len(col) and (col.min() < -(2**31) or col.max() >= 2**31)):
            check_weeks(col, column=c, source=src, ids=pid.to_numpy())


def check_panel_schema(panel: RegisterPanel, where: str) -> None:
    """The dtypes the constructor set still hold (the tables are mutable DataFrames).

    A column edited in place after construction (e.g. ``obs_end`` set to NaN)
    goes through the contract's id and week checks, so the error is named.
    """
    _schema(panel.states, "states", ("week",), where)
    _schema(panel.persons, "persons", ("obs_start", "obs_end"), where)
    for name, tab in panel.events.items():
        _schema(tab, f"events[{name!r}]", ("week", "end_week"), where)
    if not isinstance(panel.states["state"].dtype, pd.CategoricalDtype):
        raise PanelInvariantError(
            f"{where}: panel.states['state'] is no longer categorical (dtype {panel.states['state'].dtype}). "
            "Rebuild the panel with RegisterPanel(...) instead of editing its tables in place."
        )


def check_spell_table(spells: object, columns: tuple[str, ...], where: str) -> pd.DataFrame:
    """A spell table as made by :func:`evaltools.data.build_spells`: columns, ids, weeks, unique spell ids.

    Raises
    ------
    SpecificationError
        If ``spells`` is not a DataFrame.
    DataValidationError
        Missing columns, malformed ids or weeks, ``end_week < start_week`` or
        duplicated ``spell_id`` (naming the column, count and examples).
    """
    from evaltools._validation import check_columns

    if not isinstance(spells, pd.DataFrame):
        raise SpecificationError(
            f"The 'spells' parameter of {where} must be a DataFrame from build_spells. "
            f"Got {type(spells).__name__} instead."
        )
    check_columns(spells, list(columns), f"{where}(spells=...)")
    src = Source(f"{where}(spells=...)")
    pid = classify_ids(spells["person_id"], column="person_id", source=src, allow_text=False).values
    classify_ids(spells["spell_id"], column="spell_id", source=src, allow_text=False)
    start = check_weeks(spells["start_week"], column="start_week", source=src, ids=pid)
    end = check_weeks(spells["end_week"], column="end_week", source=src, ids=pid)
    bad = end < start
    if bad.any():
        i = np.flatnonzero(bad)[:3]
        ex = "; ".join(f"row {j} person_id={pid[j]} start_week={start[j]} end_week={end[j]}" for j in i)
        raise DataValidationError(
            f"{where}: end_week is before start_week in {int(bad.sum()):,} spell(s) (e.g. {ex}). "
            "Build the spells with build_spells."
        )
    dup = spells["spell_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataValidationError(
            f"{where}: column 'spell_id' of spells has {int(dup.sum()):,} rows with a duplicated id "
            f"(e.g. {spells.loc[dup, 'spell_id'].head(3).tolist()}). Each spell needs its own spell_id."
        )
    return spells
