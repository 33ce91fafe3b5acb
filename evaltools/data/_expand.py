"""Shared core of the counting-process and person-period transforms.

:func:`expand_spells` turns a spell table into one row per spell-week with the
time-varying columns; :mod:`.counting` collapses those rows into ``(start, stop]``
intervals, :mod:`.person_period` returns them as they are.

Conventions (identical in both outputs):

- spell week ``k = 1, ..., D`` is calendar week ``start_week + k - 1`` and covers
  the duration interval ``(k - 1, k]``;
- ``treated`` is 1 in week ``w`` if the first treatment event that starts within
  the spell started in a week ``t < w`` (the treatment week itself is untreated,
  so the covariate is known at the start of each interval);
- ``time_since_treatment`` is ``w - t`` (>= 1) in bands;
- ``in_activation`` is 1 if week ``w`` has a code with ``activation != "none"``;
- the spell's exit happens at the end of its last week (``event`` at ``stop = D``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evaltools._model.intervals import person_week_key
from evaltools._validation import check_columns
from evaltools.data.contract import (
    Source,
    check_panel_invariants,
    check_spell_table,
    check_weeks,
    classify_ids,
    require_panel,
)
from evaltools.data.panel import RegisterPanel
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["expand_spells", "NO_EXIT", "band_labels"]

#: ``exit`` value of a spell-week in which the spell continues.
NO_EXIT = "none"
_SPELL_INPUT = ("person_id", "spell_id", "benefit", "start_week", "end_week", "exit")

Treatments = str | Sequence[str] | Mapping[str, "str | pd.DataFrame"]


def band_labels(time_bands: Sequence[int]) -> list[str]:
    """Labels of the time-since-treatment bands with inclusive upper bounds ``time_bands``."""
    labels, lo = [], 1
    for hi in time_bands:
        labels.append(f"{lo}-{hi}" if hi > lo else f"{lo}")
        lo = hi + 1
    labels.append(f"{lo}+")
    return labels


def _check_bands(time_bands: Sequence[int] | None, where: str) -> list[int] | None:
    if time_bands is None:
        return None
    b = [int(x) for x in time_bands]
    if not b or b[0] < 1 or any(y <= x for x, y in zip(b[:-1], b[1:])):
        raise SpecificationError(
            f"The 'time_bands' parameter of {where} must be strictly increasing ints >= 1 (inclusive upper "
            f"bounds in weeks since treatment start, e.g. (4, 13, 26)). Got {time_bands!r} instead."
        )
    return b


def _pair_key(pid: np.ndarray, week: np.ndarray, uniq: np.ndarray) -> np.ndarray:
    """Sortable int64 key for (person, week) pairs given the sorted unique persons ``uniq``."""
    return person_week_key(pid, week, uniq)


def _resolve_treatments(
    panel: RegisterPanel | None, treatments: Treatments | None, where: str
) -> dict[str, pd.DataFrame]:
    if treatments is None:
        return {}
    if panel is None and not isinstance(treatments, Mapping):
        raise SpecificationError(f"{where}: 'treatments' names event tables, so pass panel=... as well.")
    if isinstance(treatments, str):
        items: dict[str, object] = {"": treatments}
    elif isinstance(treatments, Mapping):
        items = dict(treatments)
    else:
        items = {str(t): t for t in treatments}
    out = {}
    for label, src in items.items():
        if isinstance(src, pd.DataFrame):
            check_columns(src, ["person_id", "week"], f"{where}(treatments[{label!r}])")
            tab = src
        else:
            if panel is None or not isinstance(src, str) or src not in panel.events:
                have = sorted(panel.events) if panel is not None else []
                raise SpecificationError(
                    f"The 'treatments' parameter of {where} names event table {src!r}, which the panel does "
                    f"not have. Available event tables: {have}."
                )
            tab = panel.events[src]
        src_t = Source(f"{where}(treatments[{label!r}])")
        pid_t = classify_ids(tab["person_id"], column="person_id", source=src_t, allow_text=False).values
        wk_t = check_weeks(tab["week"], column="week", source=src_t, ids=pid_t).astype(np.int64)
        out[label] = pd.DataFrame({"person_id": pid_t, "week": wk_t})
    return out


def _event_exits(spells: pd.DataFrame, event_exits: str | Sequence[str] | None, where: str) -> list[str]:
    cats = (
        list(spells["exit"].cat.categories)
        if isinstance(spells["exit"].dtype, pd.CategoricalDtype)
        else sorted(spells["exit"].astype(str).unique())
    )
    if event_exits is None:
        return [c for c in cats if c != "censored"]
    items = [event_exits] if isinstance(event_exits, str) else list(event_exits)
    bad = [e for e in items if e not in cats or e == "censored"]
    if bad:
        raise SpecificationError(
            f"The 'event_exits' parameter of {where} has unknown or invalid exit(s) {bad}. "
            f"Valid exits: {[c for c in cats if c != 'censored']}."
        )
    return items


def expand_spells(
    spells: pd.DataFrame,
    panel: RegisterPanel | None = None,
    *,
    treatments: Treatments | None = None,
    covariates: Sequence[str] | None = None,
    time_bands: Sequence[int] | None = None,
    max_duration: int | None = None,
    event_exits: str | Sequence[str] | None = None,
    where: str = "to_person_period",
) -> tuple[pd.DataFrame, list[str]]:
    """One row per spell-week with time-varying columns.

    Returns
    -------
    frame : DataFrame
        Columns ``spell_id, person_id, benefit, week, duration, event, exit``,
        the time-varying columns, then the covariates.
    tv_columns : list of str
        Names of the time-varying columns (used for collapsing).
    """
    check_spell_table(spells, _SPELL_INPUT, where)
    if panel is not None:
        check_panel_invariants(require_panel(panel, where), where)
    bands = _check_bands(time_bands, where)
    if max_duration is not None and (isinstance(max_duration, bool) or int(max_duration) < 1):
        raise SpecificationError(
            f"The 'max_duration' parameter of {where} must be an int >= 1 or None. "
            f"Got {max_duration!r} instead."
        )
    if panel is None and covariates:
        raise SpecificationError(f"{where}: covariates come from panel.persons, so pass panel=... as well.")
    exits = _event_exits(spells, event_exits, where)
    tr = _resolve_treatments(panel, treatments, where)

    pid_s = spells["person_id"].to_numpy(dtype=np.int64)
    start = spells["start_week"].to_numpy(dtype=np.int64)
    end = spells["end_week"].to_numpy(dtype=np.int64)
    dur = end - start + 1
    truncated = np.zeros(len(spells), dtype=bool)
    if max_duration is not None:
        truncated = dur > int(max_duration)
        dur = np.minimum(dur, int(max_duration))
    exit_s = spells["exit"].astype(str).to_numpy(dtype=object).copy()
    exit_s[truncated] = "censored"
    ev_s = np.isin(exit_s, exits)

    n = int(dur.sum())
    rep = np.repeat(np.arange(len(spells)), dur)
    first = np.repeat(np.cumsum(dur) - dur, dur)
    k = np.arange(n, dtype=np.int64) - first + 1
    week = start[rep] + k - 1
    last = k == dur[rep]

    exit_cats = [NO_EXIT] + list(dict.fromkeys(["censored", *spells["exit"].astype(str).unique()]))
    if isinstance(spells["exit"].dtype, pd.CategoricalDtype):
        exit_cats = [NO_EXIT] + list(spells["exit"].cat.categories)
    exit_row = np.full(n, NO_EXIT, dtype=object)
    exit_row[last] = exit_s[rep[last]]
    out = pd.DataFrame(
        {
            "spell_id": spells["spell_id"].to_numpy(dtype=np.int64)[rep],
            "person_id": pid_s[rep],
            "benefit": spells["benefit"].iloc[rep].reset_index(drop=True),
            "week": week.astype(np.int32),
            "duration": k.astype(np.int32),
            "event": (last & ev_s[rep]).astype(np.int8),
            "exit": pd.Categorical(exit_row, categories=exit_cats),
        }
    )
    tv: list[str] = []
    for label, tab in tr.items():
        tcol = "treated" if label == "" else f"treated_{label}"
        scol = "time_since_treatment" if label == "" else f"time_since_{label}"
        uniq = np.unique(np.concatenate([tab["person_id"].to_numpy(), pid_s]))
        ekey = np.sort(_pair_key(tab["person_id"].to_numpy(), tab["week"].to_numpy(), uniq))
        qkey = _pair_key(pid_s, start, uniq)
        idx = np.searchsorted(ekey, qkey, side="left")
        ok = idx < len(ekey)
        idx_c = np.minimum(idx, max(len(ekey) - 1, 0))
        if len(ekey):
            same_person = (ekey[idx_c] >> 32) == (qkey >> 32)
            t = (ekey[idx_c] & 0xFFFFFFFF) - 2**31
        else:
            same_person = np.zeros(len(qkey), dtype=bool)
            t = np.zeros(len(qkey), dtype=np.int64)
        has = ok & same_person & (t <= end)
        t_row = t[rep]
        treated = has[rep] & (t_row < week)
        out[tcol] = treated.astype(np.int8)
        tv.append(tcol)
        if bands is not None:
            since = np.where(treated, week - t_row, 0)
            labels = band_labels(bands)
            b = np.searchsorted(np.asarray(bands), since, side="left")
            lab = np.where(treated, b + 1, 0)
            out[scol] = pd.Categorical.from_codes(lab, categories=pd.Index(["untreated", *labels]))
            tv.append(scol)
    if panel is not None:
        act = panel.codes.mapping("activation")
        states = panel.states
        uniq = np.unique(np.concatenate([states["person_id"].to_numpy(), pid_s]))
        skey = _pair_key(states["person_id"].to_numpy(), states["week"].to_numpy(), uniq)
        cat_act = np.array([act[str(c)] != "none" for c in states["state"].cat.categories], dtype=bool)
        is_act = cat_act[states["state"].cat.codes.to_numpy()]
        qkey = _pair_key(out["person_id"].to_numpy(), week, uniq)
        idx = np.searchsorted(skey, qkey)
        idx_c = np.minimum(idx, max(len(skey) - 1, 0))
        hit = (idx < len(skey)) & (skey[idx_c] == qkey) if len(skey) else np.zeros(n, dtype=bool)
        out["in_activation"] = (hit & is_act[idx_c]).astype(np.int8) if len(skey) else hit.astype(np.int8)
        tv.append("in_activation")
    if covariates:
        persons = panel.persons  # type: ignore[union-attr]
        check_columns(persons, list(covariates), f"{where}(covariates=...)")
        ppid = persons["person_id"].to_numpy()
        spos = np.minimum(np.searchsorted(ppid, pid_s), max(len(ppid) - 1, 0))
        missing = (ppid[spos] != pid_s) if len(ppid) else np.ones(len(pid_s), dtype=bool)
        if len(pid_s) and missing.any():
            raise DataValidationError(
                f"{where}: column 'person_id' of spells has {int(missing.sum()):,} spell(s) of persons "
                f"missing from panel.persons (e.g. person_id={np.unique(pid_s[missing])[:3].tolist()}). "
                "Build the spells from the same panel."
            )
        pos = spos[rep]
        for c in covariates:
            out[c] = persons[c].iloc[pos].reset_index(drop=True)
    return out, tv
