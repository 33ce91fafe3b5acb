"""The :class:`RegisterPanel` container: weekly register states plus person and event tables.

Schema
------
``states`` (long, **sparse**): one row per person-week *with a registered code*.

=============  ==========  ==========================================================
column         dtype       meaning
=============  ==========  ==========================================================
person_id      int64       person identifier (pseudonymised PNR)
week           int32       week index (ISO weeks since 1990-W01, see :mod:`.weeks`)
state          category    register code (categories = the panel's code table)
=============  ==========  ==========================================================

A person-week inside the person's observation window with **no row** means "no
registered transfer that week" (blank in DREAM; self-supporting by the usual
convention).  Sorted by ``(person_id, week)``; no duplicate person-weeks.

``persons``: one row per person.

=============  ==========  ==========================================================
person_id      int64       unique
obs_start      int32       first week the person is observed (inclusive)
obs_end        int32       last week the person is observed (inclusive)
sex            category    "M" / "F"                                     (optional)
birth_year     int16       year of birth                                 (optional)
origin         category    e.g. "danish", "western", "non_western"       (optional)
municipality   category    municipality name or code                     (optional)
...            ...         any further background columns                (optional)
=============  ==========  ==========================================================

``events``: ``{name: DataFrame}``, e.g. ``"activation"``, ``"mentor"``,
``"interview"``, ``"sanction"``, ``"offer"``.  Each table has ``person_id``
(int64), ``week`` (int32, first week) and ``end_week`` (int32, last week,
inclusive; equal to ``week`` for point events), plus event attributes
(``kind``, ``hours``, ``reason``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns
from evaltools.data.checks import ValidationReport, validate
from evaltools.data.codes import CodeTable, default_codes
from evaltools.data.contract import Source, check_column_names, check_weeks, classify_ids
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["RegisterPanel", "STATE_COLUMNS", "PERSON_COLUMNS", "EVENT_COLUMNS"]

STATE_COLUMNS = ("person_id", "week", "state")
PERSON_COLUMNS = ("person_id", "obs_start", "obs_end")
EVENT_COLUMNS = ("person_id", "week", "end_week")


def _frame(value: object, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    where = f"RegisterPanel({name})"
    if not isinstance(value, pd.DataFrame):
        raise SpecificationError(
            f"The {name.split('=')[0]!r} parameter of RegisterPanel must be a DataFrame with columns "
            f"{list(required)}. Got {type(value).__name__} instead."
        )
    if isinstance(value.columns, pd.MultiIndex):
        raise SpecificationError(f"{where}: the DataFrame has MultiIndex columns; flatten them.")
    check_column_names(value.columns, source=Source(where))
    check_columns(value, required, where)
    return value


def _ids(frame: pd.DataFrame, where: str) -> np.ndarray:
    """The ``person_id`` column as int64 under the input contract (integers only)."""
    return classify_ids(frame["person_id"], column="person_id", source=Source(where), allow_text=False).values


def _weeks(frame: pd.DataFrame, column: str, pid: np.ndarray, where: str) -> np.ndarray:
    return check_weeks(frame[column], column=column, source=Source(where), ids=pid)


def _normalise_states(states: pd.DataFrame, codes: CodeTable) -> pd.DataFrame:
    where = "RegisterPanel(states=...)"
    states = _frame(states, "states=...", STATE_COLUMNS)
    pid = _ids(states, where)
    out = pd.DataFrame({"person_id": pid, "week": _weeks(states, "week", pid, where)})
    raw = states["state"]
    if isinstance(raw.dtype, pd.CategoricalDtype):
        cats = raw.cat.categories.astype(str)
        out["state"] = pd.Categorical.from_codes(raw.cat.codes.to_numpy(), categories=cats)
        out["state"] = out["state"].cat.set_categories(list(codes.codes))
        unknown_mask = raw.notna().to_numpy() & out["state"].isna().to_numpy()
    else:
        as_str = raw.astype("string").str.strip()
        # pandas-stubs: na_value=None is valid for object output
        obj = as_str.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
        out["state"] = pd.Categorical(obj, dtype=codes.dtype())
        unknown_mask = as_str.notna().to_numpy() & out["state"].isna().to_numpy()
    if unknown_mask.any():
        bad = raw[unknown_mask]
        ex = states.loc[unknown_mask, ["person_id", "week"]].head(3)
        exs = "; ".join(f"person_id={p} week={w}" for p, w in ex.itertuples(index=False))
        raise DataValidationError(
            f"column 'state' has {int(unknown_mask.sum()):,} value(s) not in the code table "
            f"(codes {sorted(map(str, bad.unique()))[:5]}; e.g. {exs}). "
            "Add the codes to a CodeTable and pass it as codes=..., or recode them."
        )
    if out["state"].isna().any():
        na = out["state"].isna().to_numpy()
        ex = out.loc[na, ["person_id", "week"]].head(3)
        exs = "; ".join(f"person_id={p} week={w}" for p, w in ex.itertuples(index=False))
        raise DataValidationError(
            f"column 'state' is missing in {int(na.sum()):,} rows (e.g. {exs}). The long layout stores only "
            "weeks with a registered code: drop the blank rows (they mean 'no registered transfer')."
        )
    if len(out) and not (
        np.all(np.diff(out["person_id"].to_numpy()) >= 0)
        and np.all((np.diff(out["week"].to_numpy()) > 0) | (np.diff(out["person_id"].to_numpy()) > 0))
    ):
        out = out.sort_values(["person_id", "week"], kind="stable", ignore_index=True)
    return out


def normalise_events(name: str, tab: object) -> pd.DataFrame:
    """An event table as the panel stores it: checked, typed and sorted by person and week (a copy)."""
    where = f"RegisterPanel(events[{name!r}])"
    t = _frame(tab, f"events[{name!r}]", EVENT_COLUMNS).copy()
    pid = _ids(t, where)
    t["person_id"] = pid
    t["week"] = _weeks(t, "week", pid, where)
    t["end_week"] = _weeks(t, "end_week", pid, where)
    return t.sort_values(["person_id", "week"], kind="stable", ignore_index=True)


@dataclass(frozen=True)
class RegisterPanel:
    """Weekly register panel: sparse long states, a person table and event tables.

    Parameters
    ----------
    states : DataFrame
        Columns ``person_id``, ``week``, ``state`` (see module docstring).
    persons : DataFrame
        One row per person with at least ``person_id``, ``obs_start``, ``obs_end``.
    events : mapping of str to DataFrame, optional
        Event tables with ``person_id``, ``week``, ``end_week`` and attributes.
    codes : CodeTable, optional
        Code vocabulary; defaults to :func:`evaltools.data.codes.default_codes`.
    meta : mapping, optional
        Free-form provenance (source file, seed, generator version, ...).

    Notes
    -----
    The constructor copies its inputs, converts dtypes and applies the input
    contract of :mod:`evaltools.data.contract`: columns present and not
    duplicated, ``person_id`` integers that fit int64 (no text, no
    non-integral floats, no merging), weeks and windows without missing values,
    integral and in the plausible range (checked before any cast), known codes,
    no missing states.  :meth:`validate` runs the full
    set of content checks (duplicates, weeks outside the observation window,
    rows after an absorbing state, events outside the window, ...).
    """

    states: pd.DataFrame
    persons: pd.DataFrame
    events: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    codes: CodeTable = field(default_factory=default_codes)
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.codes, CodeTable):
            raise SpecificationError(
                "The 'codes' parameter of RegisterPanel must be a CodeTable. "
                f"Got {type(self.codes).__name__} "
                "instead."
            )
        for name, value in (("events", self.events), ("meta", self.meta)):
            if not isinstance(value, Mapping):
                raise SpecificationError(
                    f"The {name!r} parameter of RegisterPanel must be a mapping (dict). "
                    f"Got {type(value).__name__} instead."
                )
        self._set_tables(_normalise_states(self.states, self.codes))

    @classmethod
    def _from_reader(
        cls,
        states: pd.DataFrame,
        persons: pd.DataFrame,
        events: Mapping[str, pd.DataFrame],
        codes: CodeTable,
        meta: Mapping[str, object],
    ) -> RegisterPanel:
        """A panel whose ``states`` a reader built in the schema: the state checks are not run again.

        ``states`` must be what the constructor makes of them: columns
        ``person_id`` (int64), ``week`` (int32, plausible weeks), ``state``
        (``codes.dtype()``, no missing value), sorted by person and week without
        duplicates, with a RangeIndex.  The persons and events are checked as
        by the constructor.  States of another layout go through the full constructor.
        """
        if (
            list(states.columns) != list(STATE_COLUMNS)
            or states["person_id"].dtype != np.int64
            or states["week"].dtype != np.int32
            or states["state"].dtype != codes.dtype()
            or not isinstance(states.index, pd.RangeIndex)
        ):
            return cls(states=states, persons=persons, events=events, codes=codes, meta=meta)
        panel = cls.__new__(cls)
        for name, value in (
            ("states", states),
            ("persons", persons),
            ("events", events),
            ("codes", codes),
            ("meta", meta),
        ):
            object.__setattr__(panel, name, value)
        panel._set_tables(states)
        return panel

    def _set_tables(self, states: pd.DataFrame) -> None:
        """Store the normalised ``states`` and normalise the persons, events and meta."""
        object.__setattr__(self, "states", states)
        where = "RegisterPanel(persons=...)"
        persons = _frame(self.persons, "persons=...", PERSON_COLUMNS).copy()
        pid = _ids(persons, where)
        persons["person_id"] = pid
        persons["obs_start"] = _weeks(persons, "obs_start", pid, where)
        persons["obs_end"] = _weeks(persons, "obs_end", pid, where)
        persons = persons.sort_values("person_id", kind="stable", ignore_index=True)
        object.__setattr__(self, "persons", persons)
        events = {name: normalise_events(name, tab) for name, tab in dict(self.events).items()}
        object.__setattr__(self, "events", MappingProxyType(events))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    # -- basic facts --------------------------------------------------------
    @property
    def n_persons(self) -> int:
        """Number of persons in the person table."""
        return len(self.persons)

    @property
    def n_person_weeks(self) -> int:
        """Number of observed person-weeks (coded or not)."""
        return int((self.persons["obs_end"] - self.persons["obs_start"] + 1).clip(lower=0).sum())

    @property
    def week_range(self) -> tuple[int, int]:
        """Smallest ``obs_start`` and largest ``obs_end`` (week indices)."""
        return int(self.persons["obs_start"].min()), int(self.persons["obs_end"].max())

    @property
    def first_week(self) -> int:
        """First week of the panel's observation window (week index).

        ``meta["first_week"]`` when the panel records it (the synthetic
        generator does; set it for a register extract whose window starts
        before anyone's first coded week), else the smallest ``obs_start``.
        A subset of persons keeps the window of the full panel when the meta
        records it.  Spells running in this week are left-censored
        (:func:`~evaltools.data.left_censored`).
        """
        first = int(self.persons["obs_start"].min())
        fw = self.meta.get("first_week")
        if isinstance(fw, int | np.integer) and not isinstance(fw, bool):
            first = min(first, int(fw))
        return first

    def __repr__(self) -> str:
        from evaltools.data.weeks import week_label

        if self.n_persons:
            lo, hi = self.week_range
            span = f"{week_label(lo)}..{week_label(hi)}"
        else:
            span = "empty"
        ev = ", ".join(f"{k}={len(v):,}" for k, v in self.events.items()) or "none"
        return (
            f"<RegisterPanel: {self.n_persons:,} persons, {len(self.states):,} coded person-weeks "
            f"of {self.n_person_weeks:,} observed, weeks {span}, events: {ev}>"
        )

    # -- derived views (added with the data layer) ----------------------------
    def subset(self, person_ids: object) -> RegisterPanel:
        """Panel restricted to ``person_ids`` (states, persons and every event table).

        Parameters
        ----------
        person_ids : array_like of int
            Persons to keep; ids not in the panel are ignored.

        Returns
        -------
        RegisterPanel
            A new panel with the same code table and meta.
        """
        keep = np.unique(np.asarray(person_ids, dtype=np.int64))
        states = self.states.loc[np.isin(self.states["person_id"].to_numpy(), keep)]
        persons = self.persons.loc[np.isin(self.persons["person_id"].to_numpy(), keep)]
        events = {k: v.loc[np.isin(v["person_id"].to_numpy(), keep)] for k, v in self.events.items()}
        return RegisterPanel(
            states=states.reset_index(drop=True),
            persons=persons.reset_index(drop=True),
            events=events,
            codes=self.codes,
            meta=self.meta,
        )

    def to_long(self, *, dense: bool = False) -> pd.DataFrame:
        """States in the long layout.

        Parameters
        ----------
        dense : bool, default=False
            ``False`` returns the sparse ``states`` table (a copy).  ``True``
            returns one row per observed person-week (``obs_start`` to
            ``obs_end``) with ``state`` missing in weeks without a code.

        Returns
        -------
        DataFrame
            Columns ``person_id`` (int64), ``week`` (int32), ``state`` (category).
        """
        if not dense:
            return self.states.copy()
        p = self.persons
        n = (p["obs_end"].to_numpy(dtype=np.int64) - p["obs_start"].to_numpy(dtype=np.int64) + 1).clip(0)
        pid = np.repeat(p["person_id"].to_numpy(), n)
        first = np.repeat(np.cumsum(n) - n, n)
        week = np.repeat(p["obs_start"].to_numpy(dtype=np.int64), n) + (np.arange(n.sum()) - first)
        out = pd.DataFrame({"person_id": pid.astype(np.int64), "week": week.astype(np.int32)})
        out = out.merge(self.states, on=["person_id", "week"], how="left", sort=False)
        out["state"] = out["state"].astype(self.states["state"].dtype)
        return out

    def validate(self, *, raise_: bool = True, **kwargs: Any) -> ValidationReport:
        """Run the content checks of :func:`evaltools.data.checks.validate` on this panel.

        Parameters
        ----------
        raise_ : bool, default=True
            Raise :class:`DataValidationError` listing every violated rule.
        **kwargs
            ``treatments``, ``benefit``, ``gap_rule`` (see :func:`~evaltools.data.validate`).

        Returns
        -------
        ValidationReport
            The rules run and the issues found.
        """
        return validate(self, raise_=raise_, **kwargs)
