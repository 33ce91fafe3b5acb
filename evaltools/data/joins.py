"""Joins of person attributes and event tables onto spells and reference weeks.

Three joins come up in every evaluation on a register panel:

* :func:`join_persons` -- person attributes (sex, municipality, ...) onto
  spells or model rows, by ``person_id``;
* :func:`events_in_spells` -- the events (programme starts, sanctions,
  interviews) that fall inside a benefit spell of the same person, with the
  spell's columns attached;
* :func:`event_at` -- for reference weeks (a placement week, a drawn
  comparison week), the interval event covering that week (e.g. the
  assessment record with the person's match group at the time).

Both are vectorised joins on ``person_id``; inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["join_persons", "events_in_spells", "event_at"]


def join_persons(frame: pd.DataFrame, panel: Any, columns: str | Sequence[str]) -> pd.DataFrame:
    """A copy of ``frame`` with person attributes from ``panel.persons`` added by ``person_id``.

    Parameters
    ----------
    frame : DataFrame
        Rows with a ``person_id`` column (spells, counting-process rows, reference weeks).
    panel : RegisterPanel
        The panel whose person table holds the attributes.
    columns : str or sequence of str
        Columns of ``panel.persons`` to add (e.g. ``["sex", "municipality"]``).

    Returns
    -------
    DataFrame
        ``frame`` (same rows, order and index) with the columns appended.

    Raises
    ------
    DataValidationError
        If a column is not in the person table, already in ``frame``, or a
        ``person_id`` of ``frame`` is not in the panel (with examples).

    Examples
    --------
    >>> from evaltools.data import RegisterPanel
    >>> persons = pd.DataFrame({"person_id": [1, 2], "obs_start": [1, 1], "obs_end": [9, 9],
    ...                         "sex": ["F", "M"]})
    >>> panel = RegisterPanel(states=pd.DataFrame(columns=["person_id", "week", "state"]), persons=persons)
    >>> join_persons(pd.DataFrame({"person_id": [2, 1, 2]}), panel, ["sex"])["sex"].tolist()
    ['M', 'F', 'M']
    """
    where = "join_persons"
    columns = [columns] if isinstance(columns, str) else list(columns)
    check_columns(frame, ["person_id"], where, role="frame")
    check_columns(panel.persons, columns, where, role="person attributes")
    clash = [c for c in columns if c in frame.columns]
    if clash:
        raise DataValidationError(
            f"{where}: column(s) {clash} are already in the frame; drop or rename them first."
        )
    persons = panel.persons.set_index("person_id")
    pid = frame["person_id"].to_numpy()
    known = np.isin(pid, persons.index.to_numpy())
    if not known.all():
        raise DataValidationError(
            f"{where}: {int((~known).sum()):,} row(s) name persons not in panel.persons "
            f"(e.g. person_id={np.unique(pid[~known])[:3].tolist()}). Restrict the frame to the panel's "
            "persons."
        )
    out = frame.copy()
    for c in columns:
        out[c] = persons[c].reindex(pid).to_numpy()
    return out


def events_in_spells(
    spells: pd.DataFrame,
    events: pd.DataFrame,
    *,
    week: str = "week",
    spell_columns: Sequence[str] = ("spell_id", "start_week", "end_week"),
) -> pd.DataFrame:
    """Events whose week lies inside a spell of the same person, with the spell's columns.

    Parameters
    ----------
    spells : DataFrame
        One row per spell with ``person_id``, ``start_week`` and ``end_week``
        (as :func:`~evaltools.data.build_spells` writes them).
    events : DataFrame
        Events with ``person_id`` and the week column ``week``.
    week : str, default="week"
        The event week column of ``events``.
    spell_columns : sequence of str, default=("spell_id", "start_week", "end_week")
        Spell columns attached to each event (``start_week`` and ``end_week``
        are always used for the test and must not also be event columns).

    Returns
    -------
    DataFrame
        One row per (event, spell) pair with ``start_week <= week <= end_week``,
        in the order of ``events``: the event columns, then ``spell_columns``.

    Raises
    ------
    SpecificationError
        If an event column has the name of a spell column (rename it first,
        e.g. ``events.rename(columns={"end_week": "event_end"})``).

    Examples
    --------
    >>> spells = pd.DataFrame({"person_id": [1, 1], "spell_id": [10, 11], "start_week": [5, 30],
    ...                        "end_week": [20, 40]})
    >>> ev = pd.DataFrame({"person_id": [1, 1, 1], "week": [3, 8, 35], "kind": ["a", "b", "c"]})
    >>> events_in_spells(spells, ev)[["week", "kind", "spell_id"]].values.tolist()
    [[8, 'b', 10], [35, 'c', 11]]
    """
    where = "events_in_spells"
    cols = list(dict.fromkeys([*spell_columns, "start_week", "end_week"]))
    check_columns(spells, ["person_id", *cols], where, role="spells")
    check_columns(events, ["person_id", week], where, role="events")
    clash = sorted(set(events.columns) & set(cols))
    if clash:
        raise SpecificationError(
            f"{where}: event column(s) {clash} have the name of a spell column; rename them in the events "
            f"table first (e.g. events.rename(columns={{{clash[0]!r}: 'event_{clash[0]}'}}))."
        )
    keep = [c for c in spell_columns if c in cols]
    extra = [c for c in ("start_week", "end_week") if c not in keep]
    out = events.merge(spells[["person_id", *keep, *extra]], on="person_id")
    out = out[(out[week] >= out["start_week"]) & (out[week] <= out["end_week"])]
    return out.drop(columns=extra).reset_index(drop=True)


def event_at(
    events: pd.DataFrame,
    ref: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    week: str = "week",
    end_week: str = "end_week",
) -> pd.DataFrame:
    """The interval event covering each reference week (the first one in the events' order).

    Parameters
    ----------
    events : DataFrame
        Interval events with ``person_id``, ``week`` and ``end_week``
        (inclusive), e.g. ``panel.events["assessment"]``.
    ref : DataFrame
        Reference rows with ``person_id`` and ``week``.
    columns : sequence of str, optional
        Event columns to return (default: all but the id and week columns).
    week, end_week : str
        The interval columns of ``events``.

    Returns
    -------
    DataFrame
        Indexed like ``ref``: the ``columns`` of the first event (in the order
        of ``events``, sorted by person and week in a panel) with
        ``week <= ref.week <= end_week``; missing where no event covers the week.

    Examples
    --------
    >>> ass = pd.DataFrame({"person_id": [1, 1], "week": [1, 20], "end_week": [10, 30],
    ...                     "readiness": ["match1", "match2"]})
    >>> ref = pd.DataFrame({"person_id": [1, 1, 1], "week": [5, 15, 25]})
    >>> event_at(ass, ref)["readiness"].tolist()
    ['match1', nan, 'match2']
    """
    where = "event_at"
    check_columns(events, ["person_id", week, end_week], where, role="events")
    check_columns(ref, ["person_id", "week"], where, role="ref")
    if columns is None:
        columns = [c for c in events.columns if c not in ("person_id", week, end_week)]
    columns = list(columns)
    check_columns(events, columns, where, role="columns")
    ev = events[["person_id", week, end_week, *columns]]
    ev = ev.rename(columns={week: "_ev_week", end_week: "_ev_end"})
    pos = pd.DataFrame({"_ref_row": np.arange(len(ref)), "person_id": ref["person_id"].to_numpy(),
                        "_ref_week": ref["week"].to_numpy()})
    m = pos.merge(ev, on="person_id")
    m = m[(m["_ev_week"] <= m["_ref_week"]) & (m["_ev_end"] >= m["_ref_week"])].drop_duplicates("_ref_row")
    out = m.set_index("_ref_row")[columns].reindex(np.arange(len(ref)))
    out.index = ref.index
    return out
