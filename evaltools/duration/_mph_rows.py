"""Build episode-split rows for :class:`~evaltools.duration.mph.TimingOfEvents` from a spell table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, raise_for_rows
from evaltools.exceptions import SpecificationError

__all__ = ["build_toe_rows", "band_labels"]


def band_labels(breaks: Sequence[int]) -> list[str]:
    """Labels of the bands defined by ``breaks`` (weeks), e.g. ``[13]`` -> ``['1-13', '14+']``."""
    edges = [0, *breaks]
    labels = [f"{lo + 1}-{hi}" for lo, hi in zip(edges[:-1], edges[1:])]
    labels.append(f"{edges[-1] + 1}+")
    return labels


def _check_breaks(breaks: Sequence[int] | None, name: str) -> np.ndarray:
    b = np.asarray([] if breaks is None else list(breaks), dtype=float)
    if b.size and (np.any(~np.isfinite(b)) or np.any(b <= 0) or np.any(np.diff(b) <= 0)
                   or np.any(b != np.round(b))):
        raise SpecificationError(
            f"The {name!r} parameter of build_toe_rows must be strictly increasing positive whole "
            f"weeks, e.g. [13, 26]. Got {list(breaks)!r} instead."
        )
    return b


def _split(start: np.ndarray, stop: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split segments ``(start, stop]`` at the per-segment cut points (matrix, inf = unused)."""
    inside = (cuts > start[:, None]) & (cuts < stop[:, None])
    c = np.where(inside, cuts, np.inf)
    pts = np.sort(np.column_stack([start, c, stop]), axis=1)
    lo, hi = pts[:, :-1], pts[:, 1:]
    valid = np.isfinite(hi) & (hi > lo)
    seg, col = np.nonzero(valid)
    return seg, np.column_stack([lo[seg, col], hi[seg, col]])


def build_toe_rows(
    spells: pd.DataFrame,
    *,
    id: str,
    duration: str,
    exit: str,
    treatment_week: str | None = None,
    entry: str | None = None,
    baseline_bands: Sequence[int] = (),
    effect_bands: Sequence[int] = (),
    covariates: Sequence[str] = (),
    exit_label: str = "exit",
    treatment_label: str = "treatment",
) -> pd.DataFrame:
    """Split a per-spell table into episode rows for the timing-of-events model.

    Weeks of a spell are numbered ``1..duration``; a row ``(start, stop]``
    covers weeks ``start+1..stop``.  A treatment in week ``s`` ends the
    untreated part of the spell with the transition ``treatment_label`` and
    takes effect from week ``s + 1`` (no anticipation).  A treatment in the
    exit week is treated as not yet effective: the spell ends with the exit
    from the untreated state and no treatment transition is recorded.

    Parameters
    ----------
    spells : DataFrame
        One row per spell (several spells per person are allowed).
    id : str
        Person identifier column.
    duration : str
        Column with the last observed week of the spell (whole weeks >= 1).
    exit : str
        Column with the exit indicator (1 = exit in the last week, 0 = censored),
        or with exit destination labels (missing/empty = censored) for
        competing exits.
    treatment_week : str, optional
        Column with the week of treatment (missing = never treated in the spell).
    entry : str, optional
        Column with the week after which the spell is observed (delayed entry;
        default 0).
    baseline_bands : sequence of int
        Breakpoints (weeks of elapsed duration) of the piecewise-constant baselines.
    effect_bands : sequence of int
        Breakpoints (weeks since treatment) of the treatment-effect bands.
    covariates : sequence of str
        Time-constant covariates copied to the rows.
    exit_label, treatment_label : str
        Transition labels written to the ``event`` column.

    Returns
    -------
    DataFrame
        Columns ``id, spell, start, stop, duration, treated, band, effect_band,
        event`` and the covariates.  ``band``/``effect_band`` are categoricals
        labelled as in :func:`band_labels`; ``event`` is the transition ending
        the row (missing if none).
    """
    cols = [id, duration, exit] + ([treatment_week] if treatment_week else []) \
        + ([entry] if entry else []) + list(covariates)
    check_columns(spells, cols, "build_toe_rows")
    bb = _check_breaks(baseline_bands, "baseline_bands")
    eb = _check_breaks(effect_bands, "effect_bands")
    n = len(spells)
    T = pd.to_numeric(spells[duration], errors="coerce").to_numpy(float)
    E0 = np.zeros(n) if entry is None else pd.to_numeric(spells[entry], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(T) | (T != np.round(T)) | ~np.isfinite(E0) | (E0 != np.round(E0)) | (T <= E0)
    raise_for_rows(spells, bad, rule=f"column {duration!r} must be a whole number of weeks greater than "
                   f"the entry week in every spell", fix="Remove or correct these spells.",
                   columns=[id, duration])
    S = (np.full(n, np.nan) if treatment_week is None
         else pd.to_numeric(spells[treatment_week], errors="coerce").to_numpy(float))
    has_s = np.isfinite(S)
    bad = has_s & ((S != np.round(S)) | (S <= E0) | (S > T))
    raise_for_rows(spells, bad, rule=f"column {treatment_week!r} must be a week in (entry, {duration}]",
                   fix="Treatments before entry or after the spell end are not part of the spell; "
                   "set them to missing.", columns=[id, duration, treatment_week or id])

    ex = spells[exit]
    if pd.api.types.is_bool_dtype(ex) or pd.api.types.is_numeric_dtype(ex):
        exv = pd.to_numeric(ex, errors="coerce").to_numpy(float)
        ex_lab = np.where(exv > 0, exit_label, None).astype(object)
    else:
        ex_lab = ex.astype(object).where(ex.notna() & (ex.astype(str) != ""), None).to_numpy(object)
    exited = np.array([v is not None for v in ex_lab])
    # a treatment in the exit week is not effective
    eff = has_s & ~(exited & (S == T))
    pre_stop = np.where(eff, S, T)

    # untreated segments
    seg_start = np.concatenate([E0, S[eff]])
    seg_stop = np.concatenate([pre_stop, T[eff]])
    seg_src = np.concatenate([np.arange(n), np.flatnonzero(eff)])
    seg_treated = np.concatenate([np.zeros(n, bool), np.ones(int(eff.sum()), bool)])
    seg_event = np.concatenate([np.where(eff, treatment_label, ex_lab).astype(object), ex_lab[eff]])
    seg_s = np.concatenate([np.full(n, np.nan), S[eff]])
    eff_cuts = seg_s[:, None] + eb[None, :] if eb.size else np.empty((seg_s.size, 0))
    cuts = np.column_stack([np.broadcast_to(bb, (seg_s.size, bb.size)), np.nan_to_num(eff_cuts, nan=np.inf)])
    seg, lohi = _split(seg_start, seg_stop, cuts)
    order = np.lexsort((lohi[:, 0], seg_src[seg]))
    seg, lohi = seg[order], lohi[order]
    last = np.r_[seg[1:] != seg[:-1], True]
    src = seg_src[seg]
    out = pd.DataFrame({
        id: spells[id].to_numpy()[src],
        "spell": src,
        "start": lohi[:, 0].astype(np.int64),
        "stop": lohi[:, 1].astype(np.int64),
    })
    out["duration"] = out["stop"] - out["start"]
    out["treated"] = seg_treated[seg].astype(np.int8)
    blab = band_labels(bb.astype(int).tolist())
    out["band"] = pd.Categorical.from_codes(np.searchsorted(bb, lohi[:, 0], side="right"), blab)
    elab = band_labels(eb.astype(int).tolist())
    since = lohi[:, 0] - np.nan_to_num(seg_s[seg], nan=0.0)
    ecode = np.where(seg_treated[seg], np.searchsorted(eb, since, side="right"), -1)
    out["effect_band"] = pd.Categorical.from_codes(ecode, elab)
    out["event"] = np.where(last, seg_event[seg], None)
    for c in covariates:
        out[c] = spells[c].to_numpy()[src]
    return out
