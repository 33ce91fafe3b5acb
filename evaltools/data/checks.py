"""Content checks for register panels, with messages that say what is wrong and how to fix it.

Each rule is one function ``check_<rule>(...) -> Issue | None``.  :func:`validate`
runs the panel-level rules and returns a :class:`ValidationReport`; with
``raise_=True`` (default) it raises :class:`DataValidationError` listing every
violated rule.  Every message names the column, the number of offending rows,
a few example person ids and weeks, and the fix.

Rules
-----
``persons``            duplicate ids in the person table, ``obs_end < obs_start``
``orphan_states``      persons in ``states`` but not in ``persons``
``duplicate_weeks``    two rows for one person-week
``unknown_codes``      codes missing from the code table (raw long frames)
``window``             state rows outside the person's observation window
``gaps``               missing weeks in a dense long input (:func:`check_gaps`)
``after_absorbing``    non-absorbing codes after an absorbing code (a censoring
                       code such as death or emigration ends observation)
``event_window``       event rows outside the observation window or with
                       ``end_week < week``, or for unknown persons
``treatment_in_spell`` treatment events that start outside a benefit spell

Besides the rules, :func:`validate` checks the panel's schema (the contract of
:mod:`evaltools.data.contract`; tables edited in place after construction
raise a named error) and lists the panel's *notes*: recoverable oddities that
do not fail validation (``panel.meta["input_notes"]`` recorded by the readers,
plus blank weeks after a final absorbing code, weeks after today's date and
persons without a coded week found in the panel itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaltools._model.intervals import last_at_or_before, person_week_key
from evaltools._model.names import renamed_arguments
from evaltools._validation import format_examples
from evaltools.data.codes import CodeTable
from evaltools.data.contract import check_panel_schema, format_week, notes_of, require_panel
from evaltools.data.spells import build_spells
from evaltools.exceptions import DataValidationError, SpecificationError

if TYPE_CHECKING:
    from evaltools.data.panel import RegisterPanel

__all__ = [
    "Issue",
    "ValidationReport",
    "validate",
    "check_persons",
    "check_orphan_states",
    "check_duplicate_weeks",
    "check_unknown_codes",
    "check_window",
    "check_gaps",
    "check_after_absorbing",
    "check_event_window",
    "check_treatment_in_spell",
    "CALENDAR_TABLES",
]

#: Event tables holding calendar covariates from the DREAM file (not events in time);
#: they are exempt from the ``event_window`` rule.
CALENDAR_TABLES = ("dream_monthly", "dream_yearly")


@dataclass(frozen=True)
class Issue:
    """One violated rule.

    Attributes
    ----------
    rule : str
        Rule name, e.g. ``"duplicate_weeks"``.
    column : str
        The column (or table.column) concerned.
    count : int
        Number of offending rows.
    examples : str
        A few offending rows as ``person_id=... week=...``.
    message : str
        The full message (rule, count, examples, fix).
    """

    rule: str
    column: str
    count: int
    examples: str
    message: str


@dataclass(frozen=True)
class ValidationReport:
    """Result of :func:`validate`: the rules run, the issues found and the notes.

    Attributes
    ----------
    rules : tuple of str
        The rules run.
    issues : tuple of Issue
        Violated rules (they make :attr:`ok` False).
    notes : tuple of Issue
        Recoverable oddities that do not fail validation (counted warnings of
        the readers and of the panel itself, see the module docstring).
    """

    rules: tuple[str, ...]
    issues: tuple[Issue, ...] = field(default_factory=tuple)
    notes: tuple[Issue, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True if no rule is violated."""
        return not self.issues

    def to_frame(self, *, notes: bool = False) -> pd.DataFrame:
        """One row per issue: rule, column, count, examples, message.

        With ``notes=True`` the notes follow the issues and a column ``level``
        (``"issue"`` or ``"note"``) comes first.
        """
        cols = ["rule", "column", "count", "examples", "message"]
        rows: list[tuple[object, ...]] = [
            (i.rule, i.column, i.count, i.examples, i.message) for i in self.issues
        ]
        if not notes:
            return pd.DataFrame(rows, columns=cols)
        rows = [("issue", *r) for r in rows] + [
            ("note", i.rule, i.column, i.count, i.examples, i.message) for i in self.notes
        ]
        return pd.DataFrame(rows, columns=["level", *cols])

    def raise_if_failed(self) -> None:
        """Raise :class:`DataValidationError` listing every issue (no-op if :attr:`ok`)."""
        if self.issues:
            body = "\n".join(f"- [{i.rule}] {i.message}" for i in self.issues)
            raise DataValidationError(f"panel validation failed ({len(self.issues)} rule(s)):\n{body}")

    def __str__(self) -> str:
        if self.ok:
            lines = [f"ValidationReport: all {len(self.rules)} rules passed ({', '.join(self.rules)})."]
        else:
            lines = [f"ValidationReport: {len(self.issues)} of {len(self.rules)} rules failed."]
            lines += [f"- [{i.rule}] {i.message}" for i in self.issues]
        if self.notes:
            lines.append(f"Notes ({len(self.notes)}, not failures):")
            lines += [f"- [{i.rule}] {i.message}" for i in self.notes]
        return "\n".join(lines)


def _issue(
    rule: str, column: str, frame: pd.DataFrame, mask: np.ndarray, cols: Sequence[str], what: str, fix: str
) -> Issue | None:
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    if n == 0:
        return None
    shown = frame.loc[mask, list(cols)].head(3).copy()
    for c in cols:
        if c in ("week", "end_week", "obs_start", "obs_end"):
            shown[c] = [format_week(v) for v in shown[c].tolist()]
    ex = format_examples(shown.reset_index(drop=True), np.ones(len(shown), bool), cols) + (
        "; ..." if n > 3 else ""
    )
    msg = f"column {column!r}: {what}; {n:,} of {len(frame):,} rows (e.g. {ex}). {fix}"
    return Issue(rule=rule, column=column, count=n, examples=ex, message=msg)


def check_persons(persons: pd.DataFrame) -> Issue | None:
    """Duplicate ``person_id`` in the person table or ``obs_end < obs_start``."""
    dup = persons["person_id"].duplicated(keep=False).to_numpy()
    issue = _issue(
        "persons",
        "person_id",
        persons,
        dup,
        ["person_id"],
        "the person table has duplicate ids",
        "Keep one row per person.",
    )
    if issue:
        return issue
    bad = (persons["obs_end"] < persons["obs_start"]).to_numpy()
    return _issue(
        "persons",
        "obs_end",
        persons,
        bad,
        ["person_id", "obs_start", "obs_end"],
        "obs_end is before obs_start",
        "Fix the observation window (both weeks are inclusive).",
    )


def check_orphan_states(states: pd.DataFrame, persons: pd.DataFrame) -> Issue | None:
    """Persons with state rows but no row in the person table."""
    bad = ~np.isin(states["person_id"].to_numpy(), persons["person_id"].to_numpy())
    return _issue(
        "orphan_states",
        "person_id",
        states,
        bad,
        ["person_id", "week"],
        "state rows for persons missing from the person table",
        "Add those persons (with obs_start/obs_end) to persons, or drop their states.",
    )


@renamed_arguments(person_col="id")
def check_duplicate_weeks(
    states: pd.DataFrame, id: str = "person_id", week_col: str = "week"
) -> Issue | None:
    """Two or more rows for the same person-week."""
    dup = states.duplicated([id, week_col], keep=False).to_numpy()
    return _issue(
        "duplicate_weeks",
        week_col,
        states,
        dup,
        [id, week_col],
        "duplicate person-weeks (one code per person-week is allowed)",
        "Keep one row per person-week (DREAM stores the highest-priority code).",
    )


@renamed_arguments(person_col="id")
def check_unknown_codes(
    states: pd.DataFrame,
    codes: CodeTable,
    *,
    id: str = "person_id",
    week_col: str = "week",
    state_col: str = "state",
) -> Issue | None:
    """Codes not in the code table (for raw long frames before building a panel)."""
    raw = states[state_col]
    s = raw.astype("string").str.strip()
    bad = (s.notna() & (s != "") & ~s.isin(list(codes.codes))).to_numpy(dtype=bool)
    if not bad.any():
        return None
    vals = sorted(set(s[bad].astype(str)))[:5]
    return _issue(
        "unknown_codes",
        state_col,
        states,
        bad,
        [id, week_col],
        f"codes not in the code table ({vals})",
        "Add the codes to a CodeTable and pass it as codes=..., or recode them.",
    )


def _window_of(persons: pd.DataFrame, pid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ppid = persons["person_id"].to_numpy()
    order = np.argsort(ppid, kind="stable")
    sp = ppid[order]
    pos = np.searchsorted(sp, pid)
    pos_c = np.minimum(pos, max(len(sp) - 1, 0))
    found = (pos < len(sp)) & (sp[pos_c] == pid) if len(sp) else np.zeros(len(pid), bool)
    idx = order[pos_c] if len(sp) else pos_c
    lo = persons["obs_start"].to_numpy(np.int64)[idx] if len(sp) else np.zeros(len(pid), np.int64)
    hi = persons["obs_end"].to_numpy(np.int64)[idx] if len(sp) else np.zeros(len(pid), np.int64)
    return found, lo, hi


def check_window(states: pd.DataFrame, persons: pd.DataFrame) -> Issue | None:
    """State rows outside ``[obs_start, obs_end]`` of their person."""
    found, lo, hi = _window_of(persons, states["person_id"].to_numpy())
    w = states["week"].to_numpy(np.int64)
    bad = found & ((w < lo) | (w > hi))
    return _issue(
        "window",
        "week",
        states,
        bad,
        ["person_id", "week"],
        "weeks outside the person's observation window [obs_start, obs_end]",
        "Widen obs_start/obs_end in the person table or drop those weeks.",
    )


@renamed_arguments(person_col="id")
def check_gaps(frame: pd.DataFrame, *, id: str = "person_id", week_col: str = "week") -> Issue | None:
    """Missing weeks inside a dense long frame (one row per person-week expected).

    The example rows are the weeks *after* each gap; their ``week`` minus the
    previous week of the person is larger than 1.
    """
    f = frame.sort_values([id, week_col], kind="stable")
    p = f[id].to_numpy()
    w = f[week_col].to_numpy(np.int64)
    bad = np.zeros(len(f), dtype=bool)
    if len(f) > 1:
        bad[1:] = (p[1:] == p[:-1]) & (w[1:] - w[:-1] > 1)
    return _issue(
        "gaps",
        week_col,
        f.reset_index(drop=True),
        bad,
        [id, week_col],
        "gaps in a dense long input (weeks missing before these rows)",
        "Add the missing weeks with a blank state, or read the file with dense=False (sparse layout).",
    )


def check_after_absorbing(states: pd.DataFrame, codes: CodeTable) -> Issue | None:
    """Non-absorbing codes after the person's first absorbing code.

    Codes with ``absorbing=True`` (e.g. disability pension, and the censoring
    codes 997-999, which end observation) may only be followed by absorbing
    codes; blank weeks are allowed.
    """
    absorbing = codes.codes_where(absorbing=True)
    is_abs = states["state"].isin(absorbing).to_numpy()
    p = states["person_id"].to_numpy()
    w = states["week"].to_numpy(np.int64)
    big = np.iinfo(np.int64).max
    first_abs = pd.Series(np.where(is_abs, w, big)).groupby(p).transform("min").to_numpy()
    bad = (~is_abs) & (w > first_abs)
    return _issue(
        "after_absorbing",
        "state",
        states,
        bad,
        ["person_id", "week", "state"],
        "non-absorbing codes after an absorbing code (death/emigration/pension codes end the risk period)",
        "Set obs_end to the absorbing week, recode the later weeks, or mark the code absorbing=False "
        "in your CodeTable.",
    )


def check_event_window(name: str, events: pd.DataFrame, persons: pd.DataFrame) -> Issue | None:
    """Event rows for unknown persons, with ``end_week < week``, or outside the observation window."""
    found, lo, hi = _window_of(persons, events["person_id"].to_numpy())
    s = events["week"].to_numpy(np.int64)
    e = events["end_week"].to_numpy(np.int64)
    issue = _issue(
        "event_window",
        f"events[{name!r}].person_id",
        events,
        ~found,
        ["person_id", "week"],
        "events for persons missing from the person table",
        "Add the persons or drop the events.",
    )
    if issue:
        return issue
    issue = _issue(
        "event_window",
        f"events[{name!r}].end_week",
        events,
        e < s,
        ["person_id", "week", "end_week"],
        "end_week is before week",
        "Swap or fix the dates (end_week is the last week, inclusive).",
    )
    if issue:
        return issue
    return _issue(
        "event_window",
        f"events[{name!r}].week",
        events,
        (s < lo) | (e > hi),
        ["person_id", "week", "end_week"],
        "events outside the person's observation window [obs_start, obs_end]",
        "Clip or drop the events, or widen the observation window.",
    )


def check_treatment_in_spell(
    panel: RegisterPanel,
    treatment: str,
    *,
    benefit: str | Sequence[str] | None = None,
    gap_rule: str | int = "any_week",
) -> Issue | None:
    """Treatment events (``panel.events[treatment]``) whose start week is not inside a benefit spell."""
    if treatment not in panel.events:
        raise SpecificationError(
            f"The 'treatments' parameter of validate names event table {treatment!r}, which the panel does "
            f"not have. Available event tables: {sorted(panel.events)}."
        )
    ev = panel.events[treatment]
    sp = build_spells(panel, benefit=benefit, gap_rule=gap_rule)
    uniq = np.unique(np.concatenate([sp["person_id"].to_numpy(), ev["person_id"].to_numpy()]))
    # spells are sorted by (person, start); spells of one person may overlap under bridging rules
    key_s = person_week_key(sp["person_id"].to_numpy(), sp["start_week"].to_numpy(np.int64), uniq)
    order = np.argsort(key_s, kind="stable")
    key_s = key_s[order]
    pid_s = sp["person_id"].to_numpy()[order]
    q = person_week_key(ev["person_id"].to_numpy(), ev["week"].to_numpy(np.int64), uniq)
    idx = last_at_or_before(key_s, q)
    idx_c = np.clip(idx, 0, max(len(key_s) - 1, 0))
    inside = np.zeros(len(ev), dtype=bool)
    if len(key_s):
        same = (idx >= 0) & (pid_s[idx_c] == ev["person_id"].to_numpy())
        # latest end among the person's spells starting at or before the treatment week
        ends = pd.Series(sp["end_week"].to_numpy(np.int64)[order]).groupby(pid_s).cummax().to_numpy()
        inside = same & (ev["week"].to_numpy(np.int64) <= ends[idx_c])
    what = "treatment starts outside a benefit spell" + (f" of {benefit!r}" if benefit is not None else "")
    return _issue(
        "treatment_in_spell",
        f"events[{treatment!r}].week",
        ev,
        ~inside,
        ["person_id", "week"],
        what,
        "Check the treatment dates against the benefit codes, or choose the right benefit=/gap_rule=.",
    )


def _notes(panel: RegisterPanel) -> list[Issue]:
    """The readers' notes and the panel's own: absorbing ends, weeks after today, persons without codes."""
    from evaltools.data._reading import apply_absorbing, coverage_notes

    notes = notes_of(panel)
    have = {n.rule for n in notes}
    pe = panel.persons
    shown = pe["person_id"].to_numpy()
    _, found = apply_absorbing(
        panel.states, pe, panel.codes, mode="keep", where="validate", id_name="person_id", shown=shown
    )
    found += coverage_notes(panel.states, pe, where="validate", id_name="person_id", shown=shown)
    notes += [n for n in found if n.rule not in have and n.rule != "codes_after_absorbing"]
    return [Issue(n.rule, n.column, n.count, n.examples, n.message) for n in notes]


def validate(
    panel: RegisterPanel,
    *,
    raise_: bool = True,
    treatments: str | Sequence[str] | None = None,
    benefit: str | Sequence[str] | None = None,
    gap_rule: str | int = "any_week",
) -> ValidationReport:
    """Run every panel-level content check.

    Parameters
    ----------
    panel : RegisterPanel
        The panel to check.
    raise_ : bool, default=True
        Raise :class:`DataValidationError` listing every violated rule; with
        ``False`` return the report only.
    treatments : str or list of str, optional
        Event tables whose start weeks must lie inside a benefit spell.
    benefit, gap_rule
        Spell definition for the ``treatment_in_spell`` rule (as in
        :func:`evaltools.data.build_spells`).

    Returns
    -------
    ValidationReport
        Rules run and issues found.
    """
    panel = require_panel(panel, "validate")
    check_panel_schema(panel, "validate")
    rules: list[str] = []
    issues: list[Issue | None] = []

    def run(rule: str, issue: Issue | None) -> None:
        rules.append(rule)
        issues.append(issue)

    st, pe = panel.states, panel.persons
    run("persons", check_persons(pe))
    run("orphan_states", check_orphan_states(st, pe))
    run("duplicate_weeks", check_duplicate_weeks(st))
    run("window", check_window(st, pe))
    run("after_absorbing", check_after_absorbing(st, panel.codes))
    for name, tab in panel.events.items():
        if name not in CALENDAR_TABLES:
            run(f"event_window[{name}]", check_event_window(name, tab, pe))
    if treatments is not None:
        for t in [treatments] if isinstance(treatments, str) else list(treatments):
            run(
                f"treatment_in_spell[{t}]",
                check_treatment_in_spell(panel, t, benefit=benefit, gap_rule=gap_rule),
            )
    report = ValidationReport(
        rules=tuple(rules), issues=tuple(i for i in issues if i is not None), notes=tuple(_notes(panel))
    )
    if raise_:
        report.raise_if_failed()
    return report
