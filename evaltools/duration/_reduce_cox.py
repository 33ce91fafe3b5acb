"""Cox partial likelihood by reduction over partitions of a Dask DataFrame.

Every quantity the Newton iterations need is a sum over rows: for each event
group ``k`` (distinct stratum x event time, numbered globally) the risk-set sums
``S0 = sum w r``, ``S1 = sum w r x`` and ``S2 = sum w r x x'`` over the rows at
risk, the same sums ``D0, D1, D2`` over the tied deaths, the death weight ``W``
and count ``m``, plus ``sum_deaths w eta`` and ``sum_deaths w x``.  Each
partition returns them for its rows, the client adds them and evaluates the
log partial likelihood, score and information exactly as
:func:`evaltools.duration._cox_core.evaluate` does (Breslow or Efron).

``r = exp(eta - c)`` needs a common shift ``c``: each partition uses the largest
``eta`` of its own active rows and the client rescales by ``exp(c_p - c)`` with
``c`` the largest over partitions, which is the shift of the in-memory fit.

Robust and clustered standard errors need the score residuals of every row.
They depend on the row and on per-group sums that are known once the global
sums are: a second pass computes them partition by partition and returns
``sum_i u_i u_i'`` (rows) or ``sum_c U_c U_c'`` (clusters); clusters must lie
wholly inside a partition (persons partitioned by person id, spells within
persons), which is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from evaltools._validation import raise_for_rows
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["CoxSpec", "Layout", "scan_part", "sums_part", "meat_part", "combine_sums", "evaluate_sums"]


@dataclass(frozen=True)
class CoxSpec:
    """Column roles of the model (no data)."""

    covariates: tuple[str, ...]
    start: str
    stop: str
    event: str
    id: str | None
    strata: tuple[str, ...]
    weights: str | None
    recurrent: bool
    cluster: str | None = None

    @property
    def roles(self) -> list[str]:
        """Columns that must be present and non-missing (besides the covariates)."""
        return (
            [self.start, self.stop, self.event]
            + ([self.id] if self.id else [])
            + list(self.strata)
            + ([self.weights] if self.weights else [])
        )


@dataclass(frozen=True)
class Layout:
    """Global structure known after the scan pass: strata levels and event groups."""

    strata_index: Any  # pandas MultiIndex of strata levels (or None)
    ev_times: np.ndarray
    gkeys: np.ndarray
    mean: np.ndarray
    cluster_kind: str = "id"


# ----------------------------------------------------------------------------------------------
# per-partition arrays
# ----------------------------------------------------------------------------------------------
@dataclass
class _Arrays:
    start: np.ndarray
    stop: np.ndarray
    event: np.ndarray
    w: np.ndarray
    X: np.ndarray
    frame: pd.DataFrame
    n_total: int
    dropped: dict[str, int] = field(default_factory=dict)


def _arrays(part: pd.DataFrame, spec: CoxSpec, validate: bool) -> _Arrays:
    part = part.reset_index(drop=True)
    roles = spec.roles
    cols = list(spec.covariates)
    role_na = np.column_stack([part[c].isna().to_numpy() for c in roles]) if len(part) else np.zeros((0, 1))
    X = part[cols].to_numpy(dtype=float) if len(part) else np.zeros((0, len(cols)))
    x_na = np.isnan(X)
    bad: np.ndarray = np.logical_or(role_na.any(axis=1), x_na.any(axis=1))
    dropped: dict[str, int] = {}
    if bad.any():
        dropped = dict(zip(roles, role_na.sum(axis=0).tolist()))
        dropped.update(dict(zip(cols, x_na.sum(axis=0).tolist())))
        dropped = {k: int(v) for k, v in dropped.items() if v}
        keep = ~bad
        frame = part.loc[keep].reset_index(drop=True)
        X = X[keep]
    else:
        frame = part
    start = frame[spec.start].to_numpy(dtype=float)
    stop = frame[spec.stop].to_numpy(dtype=float)
    ev_raw = frame[spec.event]
    if pd.api.types.is_bool_dtype(ev_raw):
        event = ev_raw.to_numpy(dtype=bool)
        ev_num = event.astype(float)
    else:
        ev_num = ev_raw.to_numpy(dtype=float)
        event = ev_num == 1
    w = frame[spec.weights].to_numpy(dtype=float) if spec.weights else np.ones(len(frame))
    if validate:
        ex = ([spec.id] if spec.id else []) + [spec.start, spec.stop]
        raise_for_rows(
            frame,
            ~np.isfinite(start) | ~np.isfinite(stop),
            rule=f"columns {spec.start!r} and {spec.stop!r} must be finite",
            fix="Replace infinite times by the end of follow-up.",
            columns=ex,
        )
        raise_for_rows(
            frame,
            stop <= start,
            rule=f"column {spec.stop!r} must be greater than {spec.start!r} in every row "
            "(zero or negative interval length)",
            fix="Remove zero-length intervals or fix the interval bounds.",
            columns=ex,
        )
        raise_for_rows(
            frame,
            (ev_num != 0) & (ev_num != 1),
            rule=f"column {spec.event!r} must be 0 or 1",
            fix="Recode the event indicator (competing events: one model per cause).",
            columns=ex + [spec.event],
        )
        raise_for_rows(
            frame,
            ~np.all(np.isfinite(X), axis=1),
            rule="covariates must be finite (no inf)",
            fix="Replace infinite covariate values.",
            columns=ex,
        )
        if spec.weights:
            raise_for_rows(
                frame,
                ~(np.isfinite(w) & (w > 0)),
                rule=f"weights column {spec.weights!r} must be finite and > 0",
                fix="Remove rows with zero weight or fix the weights.",
                columns=ex + [spec.weights],
            )
    return _Arrays(start, stop, event, w, X, frame, len(part), dropped)


def _stratum_codes(a: _Arrays, spec: CoxSpec, layout: Layout) -> np.ndarray:
    if not spec.strata:
        return np.zeros(len(a.stop), dtype=np.int64)
    keys = pd.MultiIndex.from_frame(a.frame[list(spec.strata)])
    return layout.strata_index.get_indexer(keys).astype(np.int64)


def _range(a: _Arrays, stratum: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    n_t = len(layout.ev_times) + 1
    lo_key = stratum * n_t + np.searchsorted(layout.ev_times, a.start, side="right")
    hi_key = stratum * n_t + np.searchsorted(layout.ev_times, a.stop, side="right") - 1
    lo = np.searchsorted(layout.gkeys, lo_key, side="left")
    hi = np.searchsorted(layout.gkeys, hi_key, side="right") - 1
    return lo, hi


# ----------------------------------------------------------------------------------------------
# pass 1: scan
# ----------------------------------------------------------------------------------------------
def scan_part(part: pd.DataFrame, spec: CoxSpec) -> dict[str, Any]:
    """Counts, checks and the small tables the global layout is built from."""
    a = _arrays(part, spec, validate=True)
    f = a.frame
    out: dict[str, Any] = {"n_total": a.n_total, "nobs": len(f), "dropped": a.dropped}
    strata = list(spec.strata)
    out["strata"] = f[strata].drop_duplicates() if strata else None
    ev_frame = f.loc[a.event, [*strata, spec.stop]].drop_duplicates()
    out["events"] = ev_frame
    out["n_events"] = int(a.event.sum())
    # per-stratum moments for the collinearity check: count, mean, centred cross-products
    if strata:
        codes, uniq = pd.factorize(pd.MultiIndex.from_frame(f[strata]), sort=False)
        keys = list(uniq)
    else:
        codes, keys = np.zeros(len(f), dtype=np.int64), [()]
    mom = {}
    for j, k in enumerate(keys if len(f) else []):
        Xs = a.X[codes == j]
        mu = Xs.mean(axis=0)
        C = Xs - mu
        mom[k if isinstance(k, tuple) else (k,)] = (len(Xs), mu, C.T @ C)
    out["moments"] = mom
    out["xsum"] = a.X.sum(axis=0)
    out["xabsmax"] = np.abs(a.X).max(axis=0) if len(a.X) else np.zeros(a.X.shape[1])
    out["n_delayed_entry"] = 0
    out["n_gaps"] = 0
    out["n_ids"] = None
    out["id_range"] = None
    if spec.id:
        idc, uniq_id = pd.factorize(f[spec.id])
        out["n_ids"] = len(uniq_id)
        o = np.lexsort((a.start, idc))
        same = idc[o][1:] == idc[o][:-1]
        overlap = same & (a.start[o][1:] < a.stop[o][:-1])
        mask = np.zeros(len(f), bool)
        mask[o[1:][overlap]] = True
        ex = [spec.id, spec.start, spec.stop]
        raise_for_rows(
            f,
            mask,
            rule=f"intervals of the same {spec.id!r} must not overlap (a row starts before the previous row "
            "of the person stops)",
            fix="Split the person's follow-up into non-overlapping (start, stop] intervals.",
            columns=ex,
        )
        if not spec.recurrent:
            mask = np.zeros(len(f), bool)
            mask[o[:-1][same & a.event[o][:-1]]] = True
            raise_for_rows(
                f,
                mask,
                rule=f"an event must be on the last row of its {spec.id!r} (rows follow an event)",
                fix="Remove the rows after the event, or pass recurrent=True for recurrent-event data.",
                columns=ex + [spec.event],
            )
        first = np.ones(len(f), bool)
        first[o[1:]] = ~same
        out["n_delayed_entry"] = int((a.start[first] > 0).sum())
        out["n_gaps"] = int((same & (a.start[o][1:] > a.stop[o][:-1])).sum())
    else:
        out["n_delayed_entry"] = int((a.start > 0).sum())
    for role in ("id", "cluster"):
        col = getattr(spec, role)
        if col and len(f):
            v = f[col]
            out[f"{role}_range"] = (v.min(), v.max()) if pd.api.types.is_numeric_dtype(v) else None
            out[f"{role}_values"] = None if pd.api.types.is_numeric_dtype(v) else pd.unique(v)
            if role == "cluster":
                if v.isna().any():
                    raise DataValidationError(
                        f"CoxPH.fit: cluster column {col!r} has {int(v.isna().sum()):,} missing values among "
                        "the rows used. Fill them (e.g. with the person id) or drop those rows."
                    )
                out["n_clusters"] = int(v.nunique())
    return out


def combine_moments(parts: Sequence[dict[tuple, tuple[int, np.ndarray, np.ndarray]]]) -> dict:
    """Pool per-stratum (count, mean, centred cross-products) over partitions (Chan et al.)."""
    pooled: dict[tuple, tuple[int, np.ndarray, np.ndarray]] = {}
    for mom in parts:
        for k, (n, mu, M) in mom.items():
            if n == 0:
                continue
            if k not in pooled:
                pooled[k] = (n, mu, M)
                continue
            n0, mu0, M0 = pooled[k]
            d = mu - mu0
            nn = n0 + n
            pooled[k] = (nn, mu0 + d * (n / nn), M0 + M + np.outer(d, d) * (n0 * n / nn))
    return pooled


def check_collinear(pooled: dict, xabsmax: np.ndarray, names: Sequence[str], stratified: bool) -> None:
    """The identification checks of :class:`~evaltools.duration.CoxPH` from pooled moments."""
    where = "CoxPH"
    n = sum(v[0] for v in pooled.values())
    G = sum(v[2] for v in pooled.values())
    var = np.clip(np.diag(G), 0.0, None) / n
    scale = np.sqrt(var)
    tol = 1e-10 * (1.0 + xabsmax)
    const = [nm for nm, sc, t in zip(names, scale, tol) if sc <= t]
    if const:
        what = " within every stratum" if stratified else ""
        raise SpecificationError(
            f"{where}: covariate(s) {const} are constant{what}, so their coefficients are not identified "
            "(the baseline hazard absorbs them). Remove them from the model."
        )
    G = G / n / np.outer(scale, scale)
    kept: list[int] = []
    for j in range(G.shape[0]):
        if kept:
            c = G[kept, j]
            coef = np.linalg.solve(G[np.ix_(kept, kept)], c)
            if G[j, j] - c @ coef < 1e-9:
                used = [names[k] for k, b in zip(kept, coef) if abs(b) > 1e-8]
                raise SpecificationError(
                    f"{where}: covariate {names[j]!r} is a linear combination of {used}"
                    f"{' within strata' if stratified else ''} (collinear covariates). Remove one of them "
                    "(with dummies, drop one level)."
                )
        kept.append(j)


# ----------------------------------------------------------------------------------------------
# pass 2: sums at beta
# ----------------------------------------------------------------------------------------------
def _diff(lo: np.ndarray, hi: np.ndarray, K: int) -> sparse.csr_matrix:
    n = len(lo)
    rows = np.concatenate([hi, np.where(lo > 0, lo - 1, K)])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    vals = np.concatenate([np.ones(n), -np.ones(n)])
    return sparse.csr_matrix((vals, (rows, cols)), shape=(K + 1, n))


def _tri(p: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(p)


def sums_part(part: pd.DataFrame, spec: CoxSpec, layout: Layout, beta: np.ndarray) -> dict[str, Any]:
    """Risk-set and death sums of one partition at ``beta`` (shifted by the partition's own max eta)."""
    a = _arrays(part, spec, validate=False)
    K, p = len(layout.gkeys), len(beta)
    iu, ju = _tri(p)
    lo, hi = _range(a, _stratum_codes(a, spec, layout), layout)
    act = lo <= hi
    if not act.any():
        return {"shift": -np.inf, "empty": True}
    lo, hi = lo[act], hi[act]
    X = a.X[act] - layout.mean
    w, ev = a.w[act], a.event[act]
    eta = X @ beta
    shift = float(eta.max())
    wr = w * np.exp(eta - shift)
    V = np.empty((len(wr), 1 + p + len(iu)))
    V[:, 0] = wr
    np.multiply(X, wr[:, None], out=V[:, 1 : 1 + p])
    np.multiply(X[:, iu] * X[:, ju], wr[:, None], out=V[:, 1 + p :])
    d = _diff(lo, hi, K) @ V
    S = d[:-1][::-1].cumsum(axis=0)[::-1]
    dr = np.flatnonzero(ev)
    dg = hi[dr]
    D = np.zeros((K, V.shape[1]))
    _bincount_rows(D, dg, V[dr])
    return {
        "shift": shift,
        "empty": False,
        "S": S,
        "D": D,
        "W": np.bincount(dg, w[dr], minlength=K),
        "m": np.bincount(dg, minlength=K),
        "weta": float(w[dr] @ eta[dr]),
        "wd": float(w[dr].sum()),
        "wx": w[dr] @ X[dr],
    }


def _bincount_rows(out: np.ndarray, idx: np.ndarray, V: np.ndarray) -> None:
    for j in range(V.shape[1]):
        out[:, j] += np.bincount(idx, V[:, j], minlength=out.shape[0])


def combine_sums(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Add partition sums, rescaling to the common shift (the largest partition shift)."""
    live = [q for q in parts if not q["empty"]]
    shift = max(q["shift"] for q in live)
    out = {k: 0 for k in ("S", "D", "W", "m", "weta", "wd", "wx")}
    for q in live:
        f = np.exp(q["shift"] - shift)
        out["S"] = out["S"] + q["S"] * f
        out["D"] = out["D"] + q["D"] * f
        for k in ("W", "m", "weta", "wd", "wx"):
            out[k] = out[k] + q[k]
    out["shift"] = shift
    return out


@dataclass
class Sums:
    """The evaluation at one ``beta``: likelihood, derivatives and per-pseudo-death terms."""

    loglik: float
    score: np.ndarray
    info: np.ndarray
    shift: float
    m: np.ndarray
    pgroup: np.ndarray
    frac: np.ndarray
    den: np.ndarray
    mw: np.ndarray
    xbar: np.ndarray
    a: np.ndarray
    af: np.ndarray
    S0: np.ndarray


def _unpack(M: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    iu, ju = _tri(p)
    K = len(M)
    S2 = np.zeros((K, p, p))
    S2[:, iu, ju] = M[:, 1 + p :]
    S2[:, ju, iu] = M[:, 1 + p :]
    return M[:, 0], M[:, 1 : 1 + p], S2


def evaluate_sums(tot: dict[str, Any], p: int, efron: bool) -> Sums:
    """Log partial likelihood, score and information from the combined sums (as ``_cox_core.evaluate``)."""
    S0, S1, S2 = _unpack(tot["S"], p)
    D0, D1, D2 = _unpack(tot["D"], p)
    m = np.asarray(tot["m"], dtype=np.int64)
    K = len(m)
    pg = np.repeat(np.arange(K), m)
    first = np.concatenate([[0], np.cumsum(m)[:-1]])
    rank = (np.arange(len(pg)) - first[pg]) / m[pg]
    frac = rank if efron else np.zeros_like(rank)
    den = S0[pg] - frac * D0[pg]
    mw = (tot["W"] / np.where(m > 0, m, 1))[pg]
    xbar = (S1[pg] - frac[:, None] * D1[pg]) / den[:, None]
    loglik = float(tot["weta"] - tot["shift"] * tot["wd"] - mw @ np.log(den))
    score = tot["wx"] - mw @ xbar
    a = np.bincount(pg, mw / den, minlength=K)
    af = np.bincount(pg, mw * frac / den, minlength=K)
    info = np.einsum("k,kij->ij", a, S2) - np.einsum("k,kij->ij", af, D2) - (xbar * mw[:, None]).T @ xbar
    return Sums(loglik, score, info, tot["shift"], m, pg, frac, den, mw, xbar, a, af, S0)


# ----------------------------------------------------------------------------------------------
# pass 3: meat of the sandwich
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupTerms:
    """Per-group terms of the score residuals (see ``_cox_core.score_residuals``)."""

    a: np.ndarray
    af: np.ndarray
    xh: np.ndarray
    xhf: np.ndarray
    xbar_mean: np.ndarray
    shift: float


def group_terms(ev: Sums) -> GroupTerms:
    """Per-group sums of the pseudo-death terms used by every row's score residual."""
    K, p = len(ev.m), ev.xbar.shape[1]
    pg = ev.pgroup
    h = ev.mw / ev.den
    xh = np.stack([np.bincount(pg, h * ev.xbar[:, j], minlength=K) for j in range(p)], axis=1)
    xhf = np.stack([np.bincount(pg, h * ev.frac * ev.xbar[:, j], minlength=K) for j in range(p)], axis=1)
    # bincount with weights is float64 (the stubs type it as an integer array)
    xm: np.ndarray = np.stack([np.bincount(pg, ev.xbar[:, j], minlength=K) for j in range(p)], axis=1)
    xm = xm / np.where(ev.m > 0, ev.m, 1)[:, None]
    return GroupTerms(ev.a, ev.af, xh, xhf, xm, ev.shift)


def _range_cumsum(c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    cum = np.concatenate([np.zeros((1,) + c.shape[1:]), np.cumsum(c, axis=0)])
    return cum[hi + 1] - cum[lo]


def meat_part(
    part: pd.DataFrame, spec: CoxSpec, layout: Layout, beta: np.ndarray, gt: GroupTerms, cov_type: str
) -> np.ndarray:
    """``sum u u'`` of one partition's weighted score residuals, over rows (robust) or clusters."""
    a = _arrays(part, spec, validate=False)
    p = len(beta)
    lo, hi = _range(a, _stratum_codes(a, spec, layout), layout)
    act = lo <= hi
    if not act.any():
        return np.zeros((p, p))
    lo, hi = lo[act], hi[act]
    X = a.X[act] - layout.mean
    w, ev = a.w[act], a.event[act]
    r = np.exp(X @ beta - gt.shift)
    H = _range_cumsum(gt.a, lo, hi)
    XH = _range_cumsum(gt.xh, lo, hi)
    res = -r[:, None] * (X * H[:, None] - XH)
    dr = np.flatnonzero(ev)
    dg = hi[dr]
    res[dr] += X[dr] - gt.xbar_mean[dg]
    res[dr] += r[dr, None] * (X[dr] * gt.af[dg, None] - gt.xhf[dg])
    res *= w[:, None]
    if cov_type == "robust":
        return res.T @ res
    col = spec.cluster or spec.id
    codes, uniq = pd.factorize(a.frame[col].to_numpy()[act])
    sums = np.stack([np.bincount(codes, res[:, j], minlength=len(uniq)) for j in range(p)], axis=1)
    return sums.T @ sums
