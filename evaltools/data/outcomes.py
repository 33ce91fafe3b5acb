"""Person-level outcomes around reference weeks (self-support, weeks on public support).

All functions take ``ref_weeks``:

- a Series of week indices indexed by ``person_id`` (one reference week per
  person), or
- a DataFrame with columns ``person_id`` and ``week`` (any number of rows per
  person, e.g. one per spell).

They return a Series aligned with the input's index.  Counts are computed with
binary searches over the sorted sparse states (equivalent to cumulative sums),
so no person-week grid is built.

Definitions of *self-supporting* in a week (``definition=``):

``"no_code"``
    no registered code that week (the DREAM convention; Hjollund et al. 2007).
``"no_code_or_su"``
    no code, or a code whose benefit group is ``"su"`` (education grant).

A window that is not fully inside the person's observation window gives a
missing value (``partial="na"``, with a :class:`MissingValueWarning` stating
the count) or is counted over its observed part only (``partial="observed"``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evaltools._model.intervals import person_week_key, rows_in_range
from evaltools._validation import check_columns, check_option
from evaltools.data.contract import Source, check_panel_invariants, check_weeks, classify_ids, require_panel
from evaltools.data.panel import RegisterPanel
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

__all__ = [
    "self_supporting_at",
    "weeks_self_supporting",
    "weeks_on_public_support",
    "is_self_supporting",
    "DEFINITIONS",
]

#: Self-support definitions understood by the outcome functions.
DEFINITIONS = ("no_code", "no_code_or_su")


def _refs(panel: RegisterPanel, ref_weeks: pd.Series | pd.DataFrame, where: str) -> tuple:
    check_panel_invariants(require_panel(panel, where), where)
    if isinstance(ref_weeks, pd.DataFrame):
        check_columns(ref_weeks, ["person_id", "week"], f"{where}(ref_weeks=...)")
        pid = ref_weeks["person_id"].to_numpy()
        wk = ref_weeks["week"]
        index = ref_weeks.index
    elif isinstance(ref_weeks, pd.Series):
        pid = ref_weeks.index.to_numpy()
        wk = ref_weeks
        index = ref_weeks.index
    else:
        raise SpecificationError(
            f"The 'ref_weeks' parameter of {where} must be a Series indexed by person_id or a DataFrame with "
            f"columns person_id and week. Got {type(ref_weeks).__name__} instead."
        )
    if wk.isna().any():
        raise DataValidationError(
            f"{where}: 'ref_weeks' has {int(wk.isna().sum()):,} missing week(s) (e.g. person_id="
            f"{pid[wk.isna().to_numpy()][:3].tolist()}). Drop those persons or give them a reference week."
        )
    src = Source(f"{where}(ref_weeks=...)")
    pid = classify_ids(pd.Series(np.asarray(pid)), column="person_id", source=src, allow_text=False).values
    week = check_weeks(wk, column="week", source=src, ids=pid).astype(np.int64)
    persons = panel.persons
    ppid = persons["person_id"].to_numpy()
    pos = np.searchsorted(ppid, pid)
    pos_c = np.minimum(pos, max(len(ppid) - 1, 0))
    ok = (pos < len(ppid)) & (ppid[pos_c] == pid) if len(ppid) else np.zeros(len(pid), bool)
    if not ok.all():
        raise DataValidationError(
            f"{where}: {int((~ok).sum()):,} reference row(s) name persons not in panel.persons "
            f"(e.g. person_id={np.unique(pid[~ok])[:3].tolist()}). Restrict ref_weeks to the panel's persons."
        )
    lo = persons["obs_start"].to_numpy(np.int64)[pos_c]
    hi = persons["obs_end"].to_numpy(np.int64)[pos_c]
    return pid, week, index, lo, hi


def _count_coded(panel: RegisterPanel, codes: list[str], pid: np.ndarray, a: np.ndarray, b: np.ndarray):
    """Number of state rows with a code in ``codes`` for person ``pid`` in weeks ``[a, b]``."""
    st = panel.states
    mask = st["state"].isin(codes).to_numpy()
    spid = st["person_id"].to_numpy()[mask]
    sweek = st["week"].to_numpy().astype(np.int64)[mask]
    uniq = np.unique(np.concatenate([spid, pid]))
    key = person_week_key(spid, sweek, uniq)  # sorted: states are sorted by (person, week)
    n = rows_in_range(key, person_week_key(pid, a, uniq), person_week_key(pid, b, uniq))
    return np.where(b >= a, n, 0)


def _not_self_supporting_codes(panel: RegisterPanel, definition: str, where: str) -> list[str]:
    check_option("definition", definition, DEFINITIONS, where)
    table = panel.codes.table
    if definition == "no_code":
        return list(table["code"])
    return list(table.loc[table["benefit"].astype(str) != "su", "code"])


def _finish(values: np.ndarray, incomplete: np.ndarray, partial: str, index, name: str, where: str, dtype):
    if partial == "na" and incomplete.any():
        warnings.warn(
            f"{where}: {int(incomplete.sum()):,} of {len(values):,} reference rows have a window that is not "
            "fully observed; their outcome is missing (NA). Use partial='observed' to count the observed "
            "part only, or restrict the reference weeks.",
            MissingValueWarning,
            stacklevel=3,
        )
        out = pd.array(values, dtype=dtype)
        out[incomplete] = pd.NA
        return pd.Series(out, index=index, name=name)
    return pd.Series(pd.array(values, dtype=dtype), index=index, name=name)


def self_supporting_at(
    panel: RegisterPanel,
    ref_weeks: pd.Series | pd.DataFrame,
    horizon: int,
    *,
    definition: str = "no_code",
) -> pd.Series:
    """Whether each person is self-supporting in week ``ref + horizon``.

    Parameters
    ----------
    panel : RegisterPanel
        The register panel.
    ref_weeks : Series or DataFrame
        Reference weeks (see the module docstring).
    horizon : int
        Weeks after the reference week (may be 0 or negative).
    definition : {"no_code", "no_code_or_su"}, default="no_code"
        Self-support definition.

    Returns
    -------
    Series of boolean (nullable)
        Named ``self_supporting_h{horizon}``; NA where week ``ref + horizon`` is
        outside the person's observation window (with a warning).
    """
    where = "self_supporting_at"
    codes = _not_self_supporting_codes(panel, definition, where)
    pid, week, index, lo, hi = _refs(panel, ref_weeks, where)
    target = week + int(horizon)
    n = _count_coded(panel, codes, pid, target, target)
    outside = (target < lo) | (target > hi)
    return _finish(n == 0, outside, "na", index, f"self_supporting_h{int(horizon)}", where, "boolean")


def weeks_self_supporting(
    panel: RegisterPanel,
    ref_weeks: pd.Series | pd.DataFrame,
    horizon: int = 52,
    *,
    definition: str = "no_code",
    partial: str = "na",
) -> pd.Series:
    """Number of self-supporting weeks in ``ref + 1, ..., ref + horizon``.

    Parameters
    ----------
    panel : RegisterPanel
        The register panel.
    ref_weeks : Series or DataFrame
        Reference weeks (see the module docstring).
    horizon : int, default=52
        Window length in weeks (52, 104 and 156 are the usual 1-3 years).
    definition : {"no_code", "no_code_or_su"}, default="no_code"
        Self-support definition.
    partial : {"na", "observed"}, default="na"
        What to do when the window runs past ``obs_end``: NA (with a warning),
        or count the observed weeks only.

    Returns
    -------
    Series of Int32
        Named ``weeks_self_supporting_{horizon}``.
    """
    where = "weeks_self_supporting"
    check_option("partial", partial, ("na", "observed"), where)
    if int(horizon) < 1:
        raise SpecificationError(
            f"The 'horizon' parameter of {where} must be an int >= 1. Got {horizon!r} instead."
        )
    codes = _not_self_supporting_codes(panel, definition, where)
    pid, week, index, lo, hi = _refs(panel, ref_weeks, where)
    a = np.maximum(week + 1, lo)
    b = np.minimum(week + int(horizon), hi)
    observed = np.clip(b - a + 1, 0, None)
    n = _count_coded(panel, codes, pid, a, b)
    incomplete = (week + 1 < lo) | (week + int(horizon) > hi)
    return _finish(
        observed - n, incomplete, partial, index, f"weeks_self_supporting_{int(horizon)}", where, "Int32"
    )


def weeks_on_public_support(
    panel: RegisterPanel,
    ref_weeks: pd.Series | pd.DataFrame,
    lookback: int = 260,
    *,
    partial: str = "na",
) -> pd.Series:
    """Number of weeks with a public-support code in ``ref - lookback, ..., ref - 1``.

    Parameters
    ----------
    panel : RegisterPanel
        The register panel.
    ref_weeks : Series or DataFrame
        Reference weeks (see the module docstring).
    lookback : int, default=260
        Window length in weeks (260 = five years, the usual history control).
    partial : {"na", "observed"}, default="na"
        What to do when the window starts before ``obs_start``: NA (with a
        warning), or count the observed weeks only.

    Returns
    -------
    Series of Int32
        Named ``weeks_public_support_{lookback}``; public support means a code
        with ``public_support=True`` in the code table.
    """
    where = "weeks_on_public_support"
    check_option("partial", partial, ("na", "observed"), where)
    if int(lookback) < 1:
        raise SpecificationError(
            f"The 'lookback' parameter of {where} must be an int >= 1. Got {lookback!r} instead."
        )
    codes = panel.codes.codes_where(public_support=True)
    pid, week, index, lo, hi = _refs(panel, ref_weeks, where)
    a = np.maximum(week - int(lookback), lo)
    b = np.minimum(week - 1, hi)
    n = _count_coded(panel, codes, pid, a, b)
    incomplete = (week - int(lookback) < lo) | (week - 1 > hi)
    return _finish(n, incomplete, partial, index, f"weeks_public_support_{int(lookback)}", where, "Int32")


def is_self_supporting(
    panel: RegisterPanel,
    person_id: np.ndarray | pd.Series,
    week: np.ndarray | pd.Series,
    *,
    definition: str = "no_code",
) -> np.ndarray:
    """Whether each (person, week) pair is self-supporting: a vectorised array version for large grids.

    Unlike :func:`self_supporting_at` there is no reference week or horizon and
    no Series is built, so millions of pairs (e.g. every week of an outcome
    window for every risk-set row) take one binary search each.

    Parameters
    ----------
    panel : RegisterPanel
        The register panel.
    person_id, week : array-like of int
        Equal-length arrays of person ids (in ``panel.persons``) and week indices.
    definition : {"no_code", "no_code_or_su"}, default="no_code"
        Self-support definition (see the module docstring).

    Returns
    -------
    ndarray of bool
        True where the person has no code counting against self-support that week.

    Raises
    ------
    DataValidationError
        If a person is not in ``panel.persons`` or a week is outside the
        person's observation window (where self-support is unknown).

    Examples
    --------
    >>> from evaltools.data import read_panel
    >>> panel = read_panel("data_samples/sample_panel")  # doctest: +SKIP
    >>> is_self_supporting(panel, [1, 1], [100, 101])  # doctest: +SKIP
    array([ True, False])
    """
    where = "is_self_supporting"
    check_panel_invariants(require_panel(panel, where), where)
    codes = _not_self_supporting_codes(panel, definition, where)
    src = Source(where)
    pid = classify_ids(
        pd.Series(np.ravel(person_id)), column="person_id", source=src, allow_text=False
    ).values
    wk = check_weeks(pd.Series(np.ravel(week)), column="week", source=src).astype(np.int64)
    if pid.shape != wk.shape:
        raise SpecificationError(
            f"{where}: person_id and week must have the same length; got {len(pid):,} and {len(wk):,}."
        )
    ppid = panel.persons["person_id"].to_numpy()
    pos = np.searchsorted(ppid, pid)
    pos_c = np.minimum(pos, max(len(ppid) - 1, 0))
    known = (pos < len(ppid)) & (ppid[pos_c] == pid) if len(ppid) else np.zeros(len(pid), bool)
    if not known.all():
        raise DataValidationError(
            f"{where}: {int((~known).sum()):,} pair(s) name persons not in panel.persons "
            f"(e.g. person_id={np.unique(pid[~known])[:3].tolist()})."
        )
    lo = panel.persons["obs_start"].to_numpy(np.int64)[pos_c]
    hi = panel.persons["obs_end"].to_numpy(np.int64)[pos_c]
    out = (wk < lo) | (wk > hi)
    if out.any():
        raise DataValidationError(
            f"{where}: {int(out.sum()):,} of {len(wk):,} weeks are outside the person's observation window "
            f"(e.g. person_id={pid[out][:3].tolist()}, week={wk[out][:3].tolist()}); self-support is unknown "
            "there. Restrict the pairs to [obs_start, obs_end]."
        )
    return _count_coded(panel, codes, pid, wk, wk) == 0
