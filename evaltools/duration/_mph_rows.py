"""Build episode-split rows for :class:`~evaltools.duration.mph.TimingOfEvents` from a spell table."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, check_option, raise_for_rows
from evaltools.exceptions import SpecificationError

__all__ = ["build_toe_rows", "band_labels", "toe_roles"]

_W = "build_toe_rows"


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
            f"weeks, e.g. [13, 26]. Got {list(breaks or ())!r} instead."
        )
    return b


def _split(start: np.ndarray, stop: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split segments ``(start, stop]`` at the per-segment cut points (matrix, inf/nan = unused)."""
    cuts = np.where(np.isfinite(cuts), cuts, np.inf)
    inside = (cuts > start[:, None]) & (cuts < stop[:, None])
    c = np.where(inside, cuts, np.inf)
    pts = np.sort(np.column_stack([start, c, stop]), axis=1)
    lo, hi = pts[:, :-1], pts[:, 1:]
    valid = np.isfinite(hi) & (hi > lo)
    seg, col = np.nonzero(valid)
    return seg, np.column_stack([lo[seg, col], hi[seg, col]])


def _as_mapping(x: str | Mapping[str, str] | None, default_label: str, name: str) -> dict[str, str]:
    if x is None:
        return {}
    if isinstance(x, str):
        return {default_label: x}
    if isinstance(x, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in x.items()):
        return dict(x)
    raise SpecificationError(f"The {name!r} parameter of {_W} must be a column name or a mapping "
                             f"{{treatment label: column}}. Got {x!r} instead.")


def _week_col(spells: pd.DataFrame, col: str | None) -> np.ndarray:
    if col is None:
        return np.full(len(spells), np.nan)
    return pd.to_numeric(spells[col], errors="coerce").to_numpy(float)


def _split_kinds(out: pd.DataFrame, spells: pd.DataFrame, src: np.ndarray, event: np.ndarray, lab: str,
                 treated: np.ndarray, risk: np.ndarray, S: np.ndarray, NX: np.ndarray, kind_col: str,
                 next_col: str | None, id: str) -> None:
    """Per-kind transitions and columns of a treatment with marks (in place on ``out``/``event``)."""
    kind = spells[kind_col].astype(object).where(spells[kind_col].notna(), None).to_numpy()
    raise_for_rows(spells, np.isfinite(S) & pd.isna(kind), rule=f"column {kind_col!r} must give the kind of "
                   "every treatment start", fix="Fill in the kind or leave the start week missing.",
                   columns=[id, kind_col])
    nxt = (spells[next_col].astype(object).where(spells[next_col].notna(), None).to_numpy() if next_col
           else np.full(len(spells), None, dtype=object))
    if np.any(np.isfinite(NX) & pd.isna(nxt)):
        raise_for_rows(spells, np.isfinite(NX) & pd.isna(nxt), rule="the kind of every next start must be "
                       f"given ({'column ' + repr(next_col) if next_col else 'next_treatment_kind'})",
                       fix="Pass next_treatment_kind={label: column} with the kind of the next start.",
                       columns=[id])
    kinds = sorted({str(v) for v in np.r_[kind[np.isfinite(S)], nxt[np.isfinite(NX)]]})
    k1 = np.array([str(v) for v in kind[src]], dtype=object)
    k2 = np.array([str(v) for v in nxt[src]], dtype=object)
    is_ev = np.array([e == lab for e in event], dtype=bool)
    event[is_ev] = np.char.add(f"{lab}:", np.where(treated[is_ev], k2[is_ev], k1[is_ev]).astype(str))
    for c in kinds:
        out[f"treated_{lab}:{c}"] = (treated & (k1 == c)).astype(np.int8)
        out[f"at_risk_{lab}:{c}"] = risk.astype(np.int8)


def toe_roles(rows: pd.DataFrame, exits: Sequence[str] = ("exit",)) -> dict[str, object]:
    """Column roles of rows from :func:`build_toe_rows` (treatments given as a mapping).

    Parameters
    ----------
    rows : DataFrame
        Output of :func:`build_toe_rows` with ``treatment_week`` given as a mapping.
    exits : sequence of str, default=("exit",)
        Exit labels (the ``event`` values of the exits).

    Returns
    -------
    dict
        ``treated``, ``treatment``, ``effect_band`` and, if present, ``at_risk``
        for :class:`~evaltools.duration.mph.TimingOfEvents`; treatments with
        kinds enter once per kind (``"<label>:<kind>"``).
    """
    labels = [c[len("treated_"):] for c in rows.columns if c.startswith("treated_")]
    kinded = {lab.split(":", 1)[0] for lab in labels if ":" in lab}
    use = [lab for lab in labels if lab not in kinded]
    if not use:
        raise SpecificationError("toe_roles: no 'treated_<label>' columns; build the rows with "
                                 "treatment_week={label: column}.")
    roles: dict[str, object] = {
        "treated": [f"treated_{lab}" for lab in use],
        "treatment": use,
        "effect_band": [f"effect_band_{lab.split(':', 1)[0]}" for lab in use],
    }
    if "at_risk_exit" in rows:
        roles["at_risk"] = {**{e: "at_risk_exit" for e in exits}, **{lab: f"at_risk_{lab}" for lab in use}}
    return roles


def build_toe_rows(
    spells: pd.DataFrame,
    *,
    id: str,
    duration: str,
    exit: str,
    treatment_week: str | Mapping[str, str] | None = None,
    entry: str | None = None,
    baseline_bands: Sequence[int] = (),
    effect_bands: Sequence[int] | Mapping[str, Sequence[int]] = (),
    covariates: Sequence[str] = (),
    exit_label: str = "exit",
    treatment_label: str = "treatment",
    treatment_end: str | Mapping[str, str] | None = None,
    next_treatment_week: str | Mapping[str, str] | None = None,
    effect_from: str = "next_week",
    treatment_kind: Mapping[str, str] | None = None,
    next_treatment_kind: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Split a per-spell table into episode rows for the timing-of-events model.

    Weeks of a spell are numbered ``1..duration``; a row ``(start, stop]``
    covers weeks ``start+1..stop``.

    Two timing conventions for a treatment in week ``s`` (``effect_from``):

    * ``"next_week"`` (default): the treatment ends the untreated part of the
      spell with the treatment transition in week ``s`` (a competing risk of
      the exits in that week) and takes effect from week ``s + 1``.  A
      treatment in the exit week is not effective: the spell ends with the exit
      from the untreated state.
    * ``"same_week"``: the register order in which the treatment happens at the
      *start* of week ``s`` and already affects the exit at the end of week
      ``s`` (e.g. a sanction or a programme start recorded for week ``s``).  The
      treatment transition is written as a one-week *point row* ``(s-1, s]`` at
      risk for that treatment only (its likelihood is ``1 - exp(-h)``); the
      exits are at risk in the treated rows from week ``s``.  A treatment in the
      first observed week is thus kept.  Point rows are marked by
      ``at_risk_exit = 0``; their weeks are counted again in the treated rows.

    Several treatments (e.g. sanctions and programme starts, each with its own
    hazard sharing the unobserved heterogeneity) are given as mappings
    ``{label: column}``.  For a treatment with a duration (a programme),
    ``treatment_end`` gives its last week: the effect band is ``"lock-in"``
    while it lasts and ``"post 1-13"``, ... (``effect_bands`` measured from the
    end) afterwards.  ``next_treatment_week`` gives the start of the next
    treatment of the same kind after the end: the treatment hazard is at risk
    again after the end (same hazard, so the same unobserved heterogeneity) and
    the spell is followed up to that start, which ends it (censored for the
    exits).

    Parameters
    ----------
    spells : DataFrame
        One row per spell (several spells per person are allowed).  Not modified.
    id : str
        Person identifier column.
    duration : str
        Column with the last observed week of the spell (whole weeks >= 1).
    exit : str
        Column with the exit indicator (1 = exit in the last week, 0 = censored),
        or with exit destination labels (missing/empty = censored) for
        competing exits.
    treatment_week : str or mapping, optional
        Column with the week of the (first) treatment in the spell (missing =
        not treated), or ``{label: column}`` for several treatments.
    entry : str, optional
        Column with the week after which the spell is observed (delayed entry;
        default 0).
    baseline_bands : sequence of int
        Breakpoints (weeks of elapsed duration) of the piecewise-constant baselines.
    effect_bands : sequence of int or mapping
        Breakpoints of the treatment-effect bands: weeks since the treatment or,
        for treatments with an end, weeks since the end.  A mapping
        ``{label: breaks}`` sets them per treatment (missing labels: no bands).
    covariates : sequence of str
        Time-constant covariates copied to the rows.
    exit_label, treatment_label : str
        Transition labels written to the ``event`` column (``treatment_label`` is
        used when ``treatment_week`` is a single column).
    treatment_end : str or mapping, optional
        Last week of the treatment (missing: lasts to the end of the spell).
    next_treatment_week : str or mapping, optional
        Week of the next start of the same treatment after its end (missing: none).
    effect_from : {"next_week", "same_week"}, default="next_week"
        Timing convention (see above).
    treatment_kind : mapping, optional
        ``{label: column}`` with the kind (mark) of the treatment, e.g. the
        programme type.  Each kind gets its own transition ``"<label>:<kind>"``
        (competing treatments: the kinds' start hazards have their own
        unobserved heterogeneity, so selection into a kind is modelled) and
        columns ``treated_<label>:<kind>`` / ``at_risk_<label>:<kind>``.
    next_treatment_kind : mapping, optional
        ``{label: column}`` with the kind of the next start (with
        ``next_treatment_week``).

    Returns
    -------
    DataFrame
        Columns ``id, spell, start, stop, duration``, ``band`` (elapsed-duration
        band, categorical), ``event`` (transition ending the row, missing if
        none), the covariates, and per treatment: with a single
        ``treatment_week`` column ``treated`` and ``effect_band``; with a
        mapping ``treated_<label>`` and ``effect_band_<label>``.  Point rows and
        recurrent treatments add ``at_risk_exit`` and ``at_risk_<label>`` (0/1),
        to be passed to :class:`~evaltools.duration.mph.TimingOfEvents` as
        ``at_risk={"exit": "at_risk_exit", label: "at_risk_<label>"}``;
        :func:`toe_roles` collects these arguments.

    Examples
    --------
    >>> import pandas as pd
    >>> spells = pd.DataFrame({"pid": [1, 2], "dur": [6, 3], "ex": [1, 0], "tw": [2, None]})
    >>> build_toe_rows(spells, id="pid", duration="dur", exit="ex", treatment_week="tw")[
    ...     ["pid", "start", "stop", "treated", "event"]]
       pid  start  stop  treated      event
    0    1      0     2        0  treatment
    1    1      2     6        1       exit
    2    2      0     3        0       None
    """
    check_option("effect_from", effect_from, ["next_week", "same_week"], _W)
    single = isinstance(treatment_week, str)
    tw = _as_mapping(treatment_week, treatment_label, "treatment_week")
    te = _as_mapping(treatment_end, treatment_label, "treatment_end")
    tn = _as_mapping(next_treatment_week, treatment_label, "next_treatment_week")
    for name, m in (("treatment_end", te), ("next_treatment_week", tn)):
        extra = set(m) - set(tw)
        if extra:
            raise SpecificationError(f"{_W}: {name!r} names treatments {sorted(extra)} without a "
                                     f"'treatment_week' column; known treatments: {sorted(tw)}.")
    if set(tn) - set(te):
        raise SpecificationError(f"{_W}: 'next_treatment_week' needs a 'treatment_end' for "
                                 f"{sorted(set(tn) - set(te))} (the next start comes after the end).")
    tk = dict(treatment_kind or {})
    tnk = dict(next_treatment_kind or {})
    if single and tk:
        raise SpecificationError(f"{_W}: 'treatment_kind' needs 'treatment_week' as a mapping "
                                 "{label: column}.")
    for name, m, need in (("treatment_kind", tk, tw), ("next_treatment_kind", tnk, tn)):
        extra = set(m) - set(need)
        if extra:
            raise SpecificationError(f"{_W}: {name!r} names treatments {sorted(extra)} without "
                                     f"{'a start' if m is tk else 'a next start'} column.")
    if exit_label in tw:
        raise SpecificationError(f"{_W}: the treatment label {exit_label!r} equals the exit label.")
    cols = [id, duration, exit, *tw.values(), *te.values(), *tn.values(), *tk.values(),
            *tnk.values()] + ([entry] if entry else []) \
        + list(covariates)
    check_columns(spells, list(dict.fromkeys(cols)), _W)
    bb = _check_breaks(baseline_bands, "baseline_bands")
    if isinstance(effect_bands, Mapping):
        extra = set(effect_bands) - set(tw)
        if extra:
            raise SpecificationError(f"{_W}: 'effect_bands' names treatments {sorted(extra)} without a "
                                     f"'treatment_week' column; known treatments: {sorted(tw)}.")
        ebs = {lab: _check_breaks(effect_bands.get(lab, ()), "effect_bands") for lab in tw}
    else:
        eb_all = _check_breaks(effect_bands, "effect_bands")
        ebs = {lab: eb_all for lab in tw}
    n = len(spells)
    T = _week_col(spells, duration)
    E0 = np.zeros(n) if entry is None else _week_col(spells, entry)
    bad = ~np.isfinite(T) | (T != np.round(T)) | ~np.isfinite(E0) | (E0 != np.round(E0)) | (T <= E0)
    raise_for_rows(spells, bad, rule=f"column {duration!r} must be a whole number of weeks greater than "
                   f"the entry week in every spell", fix="Remove or correct these spells.",
                   columns=[id, duration])
    ex = spells[exit]
    if pd.api.types.is_bool_dtype(ex) or pd.api.types.is_numeric_dtype(ex):
        exv = pd.to_numeric(ex, errors="coerce").to_numpy(float)
        # numpy stubs: np.where has no overload for a None (object) branch
        ex_lab = np.where(exv > 0, exit_label, None).astype(object)  # type: ignore[call-overload]
    else:
        ex_lab = ex.astype(object).where(ex.notna() & (ex.astype(str) != ""), None).to_numpy(object)
    exited = np.array([v is not None for v in ex_lab], dtype=bool)
    same = effect_from == "same_week"

    labels = list(tw)
    K = len(labels)
    S = np.full((n, K), np.nan)   # week after which the treated rows start (shifted for same_week)
    END = np.full((n, K), np.nan)  # last lock-in week (inf: lasts to the spell end)
    NX = np.full((n, K), np.nan)   # week after which the next start's transition falls
    for k, lab in enumerate(labels):
        s = _week_col(spells, tw[lab])
        has = np.isfinite(s)
        bad = has & ((s != np.round(s)) | (s <= E0) | (s > T))
        raise_for_rows(spells, bad, rule=f"column {tw[lab]!r} must be a week in (entry, {duration}]",
                       fix="Treatments before entry or after the spell end are not part of the spell; "
                       "set them to missing.", columns=[id, duration, tw[lab]])
        if not same:
            has &= ~(exited & (s == T))  # a treatment in the exit week is not effective
        S[:, k] = np.where(has, s - same, np.nan)
        if lab in te:
            e = _week_col(spells, te[lab])
            bad = has & np.isfinite(e) & ((e != np.round(e)) | (e < s))
            raise_for_rows(spells, bad, rule=f"column {te[lab]!r} must be a whole week >= the treatment "
                           f"week {tw[lab]!r}", fix="Correct the treatment end or set it to missing "
                           "(lasts to the spell end).", columns=[id, tw[lab], te[lab]])
            END[:, k] = np.where(has, np.where(np.isfinite(e), e, np.inf), np.nan)
        if lab in tn:
            nx = _week_col(spells, tn[lab])
            bad = has & np.isfinite(nx) & ((nx != np.round(nx)) | ~(nx > END[:, k]))
            raise_for_rows(spells, bad, rule=f"column {tn[lab]!r} must be a whole week after the end "
                           f"{te[lab]!r}", fix="Correct the next start or set it to missing.",
                           columns=[id, te[lab], tn[lab]])
            ok = has & np.isfinite(nx) & (nx <= T)
            if not same:
                ok &= ~(exited & (nx == T))
            NX[:, k] = np.where(ok, nx - same, np.nan)

    # follow-up ends at the earliest next start (a recurrent treatment ends the spell)
    stop = T.copy()
    for k in range(K):
        stop = np.fmin(stop, NX[:, k])
    # starts after the end of the follow-up (cut at an earlier next start) are not part of the spell
    for k in range(K):
        S[:, k] = np.where(S[:, k] <= stop - same, S[:, k], np.nan)
        NX[:, k] = np.where(NX[:, k] <= stop, NX[:, k], np.nan)
        END[:, k] = np.where(np.isfinite(S[:, k]), END[:, k], np.nan)
    cens_next = stop < T
    ex_lab = np.where(cens_next, None, ex_lab)

    # cut points: baseline bands, treatment starts, ends and effect-band limits
    cut_list = [np.broadcast_to(bb, (n, bb.size))]
    for k in range(K):
        eb = ebs[labels[k]]
        origin = np.where(np.isnan(END[:, k]), S[:, k], np.where(np.isfinite(END[:, k]), END[:, k], np.nan))
        cut_list += [S[:, k:k + 1], np.where(np.isfinite(END[:, k]), END[:, k], np.nan)[:, None],
                     origin[:, None] + eb[None, :]]
    cuts = np.column_stack(cut_list) if cut_list else np.empty((n, 0))
    seg, lohi = _split(E0, stop, cuts)
    lo, hi = lohi[:, 0], lohi[:, 1]
    order = np.lexsort((lo, seg))
    seg, lo, hi = seg[order], lo[order], hi[order]
    last = np.r_[seg[1:] != seg[:-1], True]
    # numpy stubs: np.where has no overload for a None (object) branch
    event = np.where(last, ex_lab[seg], None).astype(object)  # type: ignore[call-overload]

    # point rows (same_week: every start; next_week: ties between treatments) and row-ending starts
    pt_src, pt_lo, pt_k = [], [], []
    key = seg * 1e7 + hi  # rows are sorted by (spell, start): this key is increasing
    for k in range(K):
        for is_next, W in ((False, S[:, k]), (True, NX[:, k])):
            idx = np.flatnonzero(np.isfinite(W))
            if same:
                pt_src.append(idx)
                pt_lo.append(W[idx])
                pt_k.append(np.full(idx.size, k))
                continue
            # next_week: the row ending at W carries the transition unless an earlier-listed
            # treatment already ends a row there (then a one-week point row is added)
            taken = np.zeros(idx.size, bool)
            for j in range(k):
                taken |= (S[idx, j] == W[idx]) | (NX[idx, j] == W[idx])
            if is_next:
                taken |= S[idx, k] == W[idx]
            free = idx[~taken]
            event[np.searchsorted(key, free * 1e7 + W[free])] = labels[k]
            pt_src.append(idx[taken])
            pt_lo.append(W[idx[taken]] - 1)
            pt_k.append(np.full(int(taken.sum()), k))
    p_src = np.concatenate(pt_src) if pt_src else np.zeros(0, int)
    p_lo = np.concatenate(pt_lo) if pt_lo else np.zeros(0)
    p_k = np.concatenate(pt_k) if pt_k else np.zeros(0, int)
    n_main, n_pt = seg.size, p_src.size

    src = np.concatenate([seg, p_src]).astype(np.int64)
    start = np.concatenate([lo, p_lo])
    stop_r = np.concatenate([hi, p_lo + 1])
    is_pt = np.r_[np.zeros(n_main, bool), np.ones(n_pt, bool)]
    pt_of = np.r_[np.full(n_main, -1), p_k]
    event = np.concatenate([event, np.array([labels[k] for k in p_k], dtype=object)])
    out = pd.DataFrame({
        id: spells[id].to_numpy()[src],
        "spell": src,
        "start": start.astype(np.int64),
        "stop": stop_r.astype(np.int64),
    })
    out["duration"] = out["stop"] - out["start"]
    blab = band_labels(bb.astype(int).tolist())
    # pandas-stubs: from_codes accepts list-like categories at run time, the stubs only an Index
    out["band"] = pd.Categorical.from_codes(np.searchsorted(bb, start, side="right"), blab)  # type: ignore[call-overload]
    need_risk = n_pt > 0 or bool(tn) or bool(tk)
    for k, lab in enumerate(labels):
        eb = ebs[lab]
        elab = band_labels(eb.astype(int).tolist())
        sk, endk = S[src, k], END[src, k]
        # a point row carries the transition of its own treatment from the untreated state
        own_pt = is_pt & (pt_of == k)
        first_pt = own_pt & (start == sk)
        treated = np.isfinite(sk) & (start >= sk) & ~first_pt
        if lab in te:
            lock = treated & (start < endk)
            since = start - np.where(np.isfinite(endk), endk, 0.0)
            codes = np.where(lock, 0, 1 + np.searchsorted(eb, since, side="right"))
            cats = ["lock-in", *[f"post {b}" for b in elab]]
        else:
            lock = np.zeros(src.size, bool)
            codes = np.searchsorted(eb, start - np.nan_to_num(sk, nan=0.0), side="right")
            cats = elab
        tname, ename = ("treated", "effect_band") if single else (f"treated_{lab}", f"effect_band_{lab}")
        out[tname] = treated.astype(np.int8)
        # pandas-stubs: from_codes accepts list-like categories at run time, the stubs only an Index
        out[ename] = pd.Categorical.from_codes(np.where(treated, codes, -1), cats)  # type: ignore[call-overload]
        if need_risk:
            risk = ~treated | (treated & ~lock & (lab in tn))
            risk &= ~is_pt | own_pt
            out[f"at_risk_{lab}"] = risk.astype(np.int8)
        if lab in tk:
            _split_kinds(out, spells, src, event, lab, treated, risk, S[:, k], NX[:, k], tk[lab],
                         tnk.get(lab), id)
    if need_risk:
        out["at_risk_exit"] = (~is_pt).astype(np.int8)
    out["event"] = event
    for c in covariates:
        out[c] = spells[c].to_numpy()[src]
    if single:  # column order of the one-treatment layout
        front = [id, "spell", "start", "stop", "duration", "treated", "band", "effect_band"]
        out = out[front + [c for c in out.columns if c not in front]]
    out = out.iloc[np.lexsort((is_pt, start, src))].reset_index(drop=True)
    if cens_next.any():
        warnings.warn(f"{_W}: {int(cens_next.sum()):,} spells are followed only up to the next start of a "
                      "recurrent treatment ('next_treatment_week'); their later weeks are not used.",
                      UserWarning, stacklevel=2)
    return out
