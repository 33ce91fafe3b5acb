"""Benefit spells from weekly register states (vectorised gaps-and-islands).

A *spell* is a run of weeks on one benefit group for one person.  Which weeks
belong together is decided by a **gap rule**:

``"any_week"``
    The spell ends as soon as one week without the benefit occurs (the old
    jobindsats rule; DREAM's weekly resolution makes "one day off" a week off).
``n`` (int >= 1)
    Gaps of fewer than ``n`` weeks off the benefit are bridged; ``n=1`` is
    ``"any_week"``.
``"calendar_month"``
    The jobindsats rule from 2018/2019: a spell ends only after a whole
    calendar month without the benefit.  Weeks are assigned to months by their
    Thursday (:func:`evaltools.data.weeks.week_month`), so a spell ends between
    two coded weeks whose months are at least two months apart.

The output contract of :func:`build_spells` is relied on by the indicator,
duration and selection sub-packages; see its docstring.

**Left-censoring** (:func:`left_censored`, one rule for the whole package:
:class:`~evaltools.selection.DynamicEvaluation`, the indicators
:func:`~evaltools.indicators.first_contact_within` and
:func:`~evaltools.indicators.cohort_self_support`, and the synthetic
calibration).  With ``rule="panel_start"`` a spell is left-censored when it
starts in the person's first observed week (``obs_start``) *and* that week
is the first week of the panel's window (:attr:`RegisterPanel.first_week`):
the person may have been on the benefit before observation began.  A person
whose ``obs_start`` is later entered the population during the window
(immigrants arriving, persons turning 16); nothing precedes the entry, so a
spell starting there is new.  ``rule="obs_start"`` is the older rule: every
spell starting at ``obs_start`` is left-censored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaltools._model.intervals import person_week_key
from evaltools._validation import check_columns, check_option
from evaltools.data.contract import check_panel_invariants, require_panel
from evaltools.data.weeks import week_month
from evaltools.exceptions import DataValidationError, SpecificationError

if TYPE_CHECKING:
    from evaltools.data.panel import RegisterPanel

__all__ = [
    "build_spells",
    "left_censored",
    "LEFT_CENSORING",
    "SPELL_COLUMNS",
    "SELF_SUPPORT",
    "CENSORED",
    "state_groups",
]

#: Options of the ``left_censoring`` parameters (:func:`left_censored`).
LEFT_CENSORING = ("panel_start", "obs_start")

#: Columns of the spell table, in order.
SPELL_COLUMNS = (
    "person_id",
    "spell_id",
    "benefit",
    "start_week",
    "end_week",
    "n_weeks",
    "duration",
    "exit",
    "censored",
)
#: Exit label for a spell followed by a week without any code.
SELF_SUPPORT = "self_support"
#: Exit label for a right-censored spell.
CENSORED = "censored"

GapRule = str | int


def _check_gap_rule(gap_rule: object, where: str) -> GapRule:
    if isinstance(gap_rule, (bool, np.bool_)):
        raise SpecificationError(
            f"The 'gap_rule' parameter of {where} must be 'any_week', 'calendar_month' or an int >= 1. "
            f"Got {gap_rule!r} instead."
        )
    if isinstance(gap_rule, (int, np.integer)):
        if gap_rule < 1:
            raise SpecificationError(
                f"The 'gap_rule' parameter of {where} must be 'any_week', 'calendar_month' or an int >= 1. "
                f"Got {gap_rule!r} instead."
            )
        return int(gap_rule)
    return check_option("gap_rule", gap_rule, ("any_week", "calendar_month"), where)


def state_groups(
    panel: RegisterPanel,
    *,
    group_col: str = "benefit",
    groups: Mapping[str, Sequence[str]] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Map every code of the panel's code table to a spell group.

    Parameters
    ----------
    panel : RegisterPanel
        Panel whose code table is used.
    group_col : str, default="benefit"
        Column of the code table that defines the groups.
    groups : mapping of str to list of str, optional
        Merge several values of ``group_col`` into one group, e.g.
        ``{"public_support": ["adagpenge", "kontanthjaelp", ...]}``.  Values not
        listed keep their own name.

    Returns
    -------
    mapping : dict
        ``{code: group name}``.
    order : list of str
        All group names in code-table order (used as categories).
    """
    table = panel.codes.table
    check_columns(table, [group_col], "build_spells(group_col=...)")
    raw = table[group_col].astype(str)
    merge: dict[str, str] = {}
    for name, members in (groups or {}).items():
        if isinstance(members, str):
            members = [members]
        for m in members:
            if str(m) not in set(raw):
                raise SpecificationError(
                    f"The 'groups' parameter of build_spells maps {name!r} to {m!r}, which is not a value of "
                    f"the code-table column {group_col!r}. Valid values: {sorted(set(raw))}."
                )
            if str(m) in merge and merge[str(m)] != name:
                raise SpecificationError(
                    f"The 'groups' parameter of build_spells puts {m!r} in two groups "
                    f"({merge[str(m)]!r} and {name!r}). Put each value in one group only."
                )
            merge[str(m)] = str(name)
    grp = raw.map(lambda v: merge.get(v, v))
    mapping = dict(zip(table["code"], grp))
    order = list(dict.fromkeys(grp))
    return mapping, order


def _selected_groups(
    panel: RegisterPanel,
    benefit: str | Sequence[str] | None,
    mapping: dict[str, str],
    order: list[str],
) -> list[str]:
    table = panel.codes.table
    if benefit is None:
        ps = table.loc[table["public_support"].to_numpy(dtype=bool), "code"]
        wanted = {mapping[c] for c in ps}
        return [g for g in order if g in wanted]
    items = [benefit] if isinstance(benefit, str) else list(benefit)
    bad = [b for b in items if b not in order]
    if bad:
        raise SpecificationError(
            f"The 'benefit' parameter of build_spells names unknown group(s) {bad}. Valid groups: {order}."
        )
    return [g for g in order if g in set(items)]


def _breaks(prev_week: np.ndarray, week: np.ndarray, gap_rule: GapRule) -> np.ndarray:
    """True where a spell ends between ``prev_week`` and the next coded ``week`` of the group."""
    if gap_rule == "any_week":
        return week - prev_week > 1
    if gap_rule == "calendar_month":
        m_prev = week_month(prev_week).astype(np.int64)
        m_next = week_month(week).astype(np.int64)
        return m_next - m_prev >= 2
    return (week - prev_week - 1) >= int(gap_rule)


def _empty_spells(categories: list[str], exit_categories: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": np.array([], dtype=np.int64),
            "spell_id": np.array([], dtype=np.int64),
            "benefit": pd.Categorical([], categories=categories),
            "start_week": np.array([], dtype=np.int32),
            "end_week": np.array([], dtype=np.int32),
            "n_weeks": np.array([], dtype=np.int32),
            "duration": np.array([], dtype=np.int32),
            "exit": pd.Categorical([], categories=exit_categories),
            "censored": np.array([], dtype=bool),
        }
    )


def build_spells(
    panel: RegisterPanel,
    *,
    benefit: str | Sequence[str] | None = None,
    gap_rule: GapRule = "any_week",
    group_col: str = "benefit",
    groups: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Build the spell table of a panel.

    Parameters
    ----------
    panel : RegisterPanel
        The register panel.
    benefit : str or list of str, optional
        Benefit group(s) to build spells for.  ``None`` (default) builds spells
        for every group that contains a code with ``public_support=True``.
    gap_rule : {"any_week", "calendar_month"} or int, default="any_week"
        When a spell ends (see the module docstring).
    group_col : str, default="benefit"
        Code-table column that defines the groups.
    groups : mapping of str to list of str, optional
        Merge several ``group_col`` values into one spell group, e.g. all public
        support into ``{"public": [...]}``.  ``benefit`` then refers to the
        merged names.

    Returns
    -------
    DataFrame
        One row per spell, sorted by ``person_id``, ``start_week`` and group
        order, with columns

        - ``person_id`` (int64);
        - ``spell_id`` (int64): row number, unique over the table;
        - ``benefit`` (category): the spell's group;
        - ``start_week``, ``end_week`` (int32): first and last coded week;
        - ``n_weeks`` (int32): coded weeks in the spell (``< duration`` only if
          gaps were bridged);
        - ``duration`` (int32): ``end_week - start_week + 1``;
        - ``exit`` (category): ``"self_support"`` if the week after the spell
          has no code, the next group's name if the person switches directly,
          ``"censored"`` if the spell reaches the end of observation (or the
          gap rule cannot be decided before it) or is followed by a censoring
          code (``censoring=True`` in the code table);
        - ``censored`` (bool): ``exit == "censored"``.

    Notes
    -----
    Spells that start at the person's ``obs_start`` are left-censored (the
    spell may have begun earlier); identify them by joining ``panel.persons``.
    The panel's cheap invariants (no duplicate person ids or person-weeks, no
    states of unknown persons) are checked first
    (:class:`~evaltools.exceptions.PanelInvariantError` names the rule;
    :meth:`RegisterPanel.validate` gives the full report).
    With a bridging gap rule, spells of different groups may overlap in time.
    """
    where = "build_spells"
    check_panel_invariants(require_panel(panel, where), where)
    gap_rule = _check_gap_rule(gap_rule, where)
    mapping, order = state_groups(panel, group_col=group_col, groups=groups)
    selected = _selected_groups(panel, benefit, mapping, order)
    exit_categories = [SELF_SUPPORT, CENSORED] + [g for g in order if g not in (SELF_SUPPORT, CENSORED)]

    states = panel.states
    # map through the categories (one lookup per code, not per row)
    cats = states["state"].cat.categories.astype(str)
    scodes = states["state"].cat.codes.to_numpy()
    cat_group = np.array([mapping.get(c) for c in cats], dtype=object)
    cat_sel = np.isin(cat_group, selected)
    sel_mask = cat_sel[scodes]
    if not sel_mask.any():
        return _empty_spells(selected, exit_categories)

    cat_gcode = np.array([selected.index(g) if g in selected else -1 for g in cat_group], dtype=np.int64)
    pid = states["person_id"].to_numpy()[sel_mask]
    week = states["week"].to_numpy().astype(np.int64)[sel_mask]
    gcode = cat_gcode[scodes[sel_mask]]
    # states are sorted by (person, week); sort by (person, group, week)
    order_idx = np.lexsort((week, gcode, pid))
    pid, week, gcode = pid[order_idx], week[order_idx], gcode[order_idx]

    new = np.ones(len(pid), dtype=bool)
    same = (pid[1:] == pid[:-1]) & (gcode[1:] == gcode[:-1])
    new[1:] = ~same | _breaks(week[:-1], week[1:], gap_rule)
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(pid)] - 1
    s_pid = pid[starts]
    s_grp = gcode[starts]
    s_start = week[starts]
    s_end = week[ends]
    s_n = (ends - starts + 1).astype(np.int64)

    # observation end of each spell's person
    persons = panel.persons
    pos = np.searchsorted(persons["person_id"].to_numpy(), s_pid)
    pos = np.clip(pos, 0, max(len(persons) - 1, 0))
    found = len(persons) > 0
    ok = found & (persons["person_id"].to_numpy()[pos] == s_pid) if found else np.zeros(len(s_pid), bool)
    if not np.all(ok):
        bad = np.unique(s_pid[~ok])
        raise DataValidationError(
            f"column 'person_id' of panel.states has {len(bad):,} person(s) missing from panel.persons "
            f"(e.g. person_id={bad[:3].tolist()}). Add them to the person table with obs_start/obs_end."
        )
    obs_end = persons["obs_end"].to_numpy().astype(np.int64)[pos]

    # exit: state in the week after the spell
    spid_all = states["person_id"].to_numpy()
    uniq = np.unique(spid_all)
    skey = person_week_key(spid_all, states["week"].to_numpy(np.int64), uniq)
    qkey = person_week_key(s_pid, s_end + 1, uniq)
    pos_n = np.minimum(np.searchsorted(skey, qkey), len(skey) - 1)
    has_next = skey[pos_n] == qkey
    next_cat = np.where(has_next, scodes[pos_n], -1)
    cat_censor = np.isin(np.asarray(cats), panel.codes.codes_where(censoring=True))
    next_censor = has_next & cat_censor[np.maximum(next_cat, 0)]
    last_censor = cat_censor[scodes[sel_mask][order_idx][ends]]
    # the gap rule must be decidable inside the observation window
    undecided = ~_breaks(s_end, obs_end + 1, gap_rule)
    censored = undecided | next_censor | last_censor | (s_end >= obs_end)

    exit_lab = np.full(len(s_pid), SELF_SUPPORT, dtype=object)
    exit_lab[has_next] = cat_group[next_cat[has_next]]
    exit_lab[censored] = CENSORED

    out = pd.DataFrame(
        {
            "person_id": s_pid.astype(np.int64),
            "spell_id": np.zeros(len(s_pid), dtype=np.int64),
            "benefit": pd.Categorical.from_codes(s_grp, categories=pd.Index(selected)),
            "start_week": s_start.astype(np.int32),
            "end_week": s_end.astype(np.int32),
            "n_weeks": s_n.astype(np.int32),
            "duration": (s_end - s_start + 1).astype(np.int32),
            "exit": pd.Categorical(exit_lab, categories=exit_categories),
            "censored": censored.astype(bool),
        }
    )
    out = out.iloc[np.lexsort((s_grp, s_start, s_pid))].reset_index(drop=True)
    out["spell_id"] = np.arange(len(out), dtype=np.int64)
    return out


def left_censored(
    panel: RegisterPanel,
    person_id: np.ndarray,
    start_week: np.ndarray,
    rule: str = "panel_start",
    where: str = "left_censored",
) -> tuple[np.ndarray, np.ndarray]:
    """Flag spells whose start is left-censored (see the module docstring).

    Parameters
    ----------
    panel : RegisterPanel
        The panel (``persons`` with ``obs_start``; :attr:`RegisterPanel.first_week`).
    person_id, start_week : array_like
        Person and first week of each spell (e.g. the columns of
        :func:`build_spells`).
    rule : {"panel_start", "obs_start"}, default="panel_start"
        ``"panel_start"``: left-censored if the spell starts at the person's
        ``obs_start`` and that is the panel's first week.  ``"obs_start"``: every
        spell starting at ``obs_start`` is left-censored (the older rule).
    where : str
        Caller's name for error messages.

    Returns
    -------
    left : ndarray of bool
        Left-censored spells.
    at_entry : ndarray of bool
        Spells starting at the person's ``obs_start`` (``left`` is a subset);
        ``at_entry & ~left`` are spells starting at entry into the population, kept.

    Examples
    --------
    >>> sp = build_spells(panel, benefit="kontanthjaelp")  # doctest: +SKIP
    >>> left, at_entry = left_censored(panel, sp["person_id"], sp["start_week"])  # doctest: +SKIP
    >>> sp = sp[~left]  # doctest: +SKIP
    """
    check_option("left_censoring", rule, LEFT_CENSORING, where)
    obs_start = (
        panel.persons.set_index("person_id")["obs_start"].reindex(np.asarray(person_id)).to_numpy(dtype=float)
    )
    at_entry = np.asarray(start_week, dtype=float) <= obs_start
    left = at_entry.copy()
    if rule == "panel_start":
        left &= obs_start <= panel.first_week
    return left, at_entry
