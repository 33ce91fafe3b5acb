"""Kaplan-Meier, Nelson-Aalen and Aalen-Johansen curves by reduction over Dask partitions.

Pass 1 validates every partition with the in-memory row checks
(:class:`~evaltools.duration._nonparametric_base.Prepared`) and collects the
distinct exit times per group and the exit types.  Pass 2 adds, on the global
time grid, the weighted entries, exits, events by cause and censorings: the
risk table of :func:`~evaltools.duration._nonparametric_core.risk_table`, from
which Kaplan-Meier with Greenwood standard errors and Nelson-Aalen follow as in
memory.  The Aalen-Johansen infinitesimal-jackknife variance is a sum over
rows of squares of per-row influence terms; each term is a function of the
row's entry and exit index, its exit type and per-time arrays of the global
estimate, so pass 3 adds, per partition, the range sums
:func:`~evaltools.duration._nonparametric_core.aalen_johansen` needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools.duration import _nonparametric_core as core
from evaltools.duration._dask_cox import check_frame, map_partitions
from evaltools.duration._nonparametric_base import CONF_TYPES, Prepared, check_fit
from evaltools.duration.nonparametric import (
    AalenJohansen,
    AalenJohansenResults,
    KaplanMeier,
    KaplanMeierResults,
    NelsonAalen,
    NelsonAalenResults,
)
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

__all__ = ["kaplan_meier_dask", "nelson_aalen_dask", "aalen_johansen_dask"]


class _Summary(Prepared):
    """The counts and labels of :class:`Prepared` for a partitioned frame (no row arrays)."""

    def __init__(self, **attrs: Any) -> None:  # noqa: D107 - internal
        self.__dict__.update(attrs)

    def __getattr__(self, name: str) -> Any:
        if name in ("entry", "stop", "cause", "weight", "gcode"):
            raise SpecificationError(
                "This result was computed from a Dask DataFrame; row-level quantities (such as the number at "
                "risk at arbitrary times) are not kept. Read n_risk from the result table at its times."
            )
        raise AttributeError(name)


def _prep(part: pd.DataFrame, kw: dict[str, Any]) -> Prepared | None:
    part = part.reset_index(drop=True)
    if len(part) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingValueWarning)
        try:
            return Prepared(part, **kw)
        except DataValidationError as exc:
            if "no rows left" in str(exc):
                return None
            raise


def _scan_part(part: pd.DataFrame, kw: dict[str, Any]) -> dict[str, Any]:
    n = len(part)
    p = _prep(part, kw)
    if p is None:
        dropped = n
        return {"n_total": n, "n_dropped": dropped, "n_used": 0, "n_delayed": 0, "times": {}, "causes": []}
    times = {lab: np.unique(p.stop[sel]) for lab, sel in p.groups()}
    return {
        "n_total": n,
        "n_dropped": p.n_dropped,
        "n_used": p.n_used,
        "n_delayed": p.n_delayed,
        "times": times,
        "causes": list(p.causes),
    }


def _local(p: Prepared, causes: list[Any], kw: dict[str, Any]) -> np.ndarray:
    """Global cause codes (0 = censored) of a partition's rows."""
    if not kw["competing"]:
        return p.cause
    remap = np.r_[0, [causes.index(c) + 1 for c in p.causes]]
    return remap[p.cause]


def _counts_part(
    part: pd.DataFrame, kw: dict[str, Any], grid: dict[Any, np.ndarray], causes: list[Any]
) -> dict:
    p = _prep(part, kw)
    out: dict[Any, tuple[np.ndarray, ...]] = {}
    if p is None:
        return out
    K = len(causes)
    cause = _local(p, causes, kw)
    for lab, sel in p.groups():
        time = grid[lab]
        J = len(time)
        w, c = p.weight[sel], cause[sel]
        last = np.searchsorted(time, p.stop[sel])
        first = np.searchsorted(time, p.entry[sel], side="right")
        ev = np.zeros((J, K))
        for k in range(1, K + 1):
            s = c == k
            ev[:, k - 1] = np.bincount(last[s], weights=w[s], minlength=J)
        cens = c == 0
        out[lab] = (
            np.bincount(first, weights=w, minlength=J + 1)[:J],
            np.bincount(last, weights=w, minlength=J),
            ev,
            np.bincount(last[cens], weights=w[cens], minlength=J),
        )
    return out


def _scan(data: Any, kw: dict[str, Any]) -> tuple[_Summary, dict[Any, np.ndarray]]:
    where = kw["where"]
    scans = map_partitions(data, _scan_part, kw)
    n_total = sum(s["n_total"] for s in scans)
    n_used = sum(s["n_used"] for s in scans)
    n_dropped = n_total - n_used
    if n_used == 0:
        raise DataValidationError(f"{where}: no rows left after removing rows with missing values.")
    if n_dropped:
        warnings.warn(
            f"{where}: dropped {n_dropped:,} of {n_total:,} rows with missing values.",
            MissingValueWarning,
            stacklevel=4,
        )
    labels_all = [lab for s in scans for lab in s["times"]]
    if kw["group"] is None:
        labels: list[Any] = [None]
    else:
        _, uniq = pd.factorize(pd.Series(labels_all, dtype=data._meta[kw["group"]].dtype), sort=True)
        labels = list(uniq)
    grid = {}
    for lab in labels:
        ts = [s["times"][lab] for s in scans if lab in s["times"]]
        grid[lab] = np.unique(np.concatenate(ts))
    if kw["competing"]:
        causes = sorted({c for s in scans for c in s["causes"]}, key=lambda v: (str(type(v)), v))
        if not causes:
            raise DataValidationError(
                f"{where}: column {kw['event']!r} has no exits (every value equals "
                f"censored={kw['censored']!r})."
            )
    else:
        causes = [1]
    summ = _Summary(
        time_col=kw["stop"] if kw["stop"] is not None else kw["duration"],
        event_col=kw["event"],
        entry_col=kw["entry"],
        group_col=kw["group"],
        weights_col=kw["weights"],
        n_dropped=n_dropped,
        causes=causes,
        group_labels=labels,
        n_used=n_used,
        n_delayed=sum(s["n_delayed"] for s in scans),
    )
    return summ, grid


def _tables(
    data: Any, kw: dict[str, Any], summ: _Summary, grid: dict[Any, np.ndarray]
) -> dict[Any, core.RiskTable]:
    parts = map_partitions(data, _counts_part, kw, grid, list(summ.causes))
    out = {}
    for lab in summ.group_labels:
        got = [q[lab] for q in parts if lab in q]
        enter, leave, ev, cens = (np.sum([g[i] for g in got], axis=0) for i in range(4))
        n_risk = np.cumsum(enter) - np.concatenate(([0.0], np.cumsum(leave)[:-1]))
        out[lab] = core.RiskTable(
            grid[lab], n_risk, ev, cens, enter, np.zeros(0, np.int64), np.zeros(0, np.int64)
        )
    return out


def _setup(
    data: Any, where: str, conf_type: str, alpha: float, conf_types: Sequence[str], **columns: Any
) -> tuple[dict[str, Any], _Summary, dict[Any, np.ndarray]]:
    """Argument checks (before any pass over the data) and the scan pass, shared by the three curves.

    ``columns`` are the column roles and options of :class:`Prepared`
    (``duration``, ``stop``, ``event``, ``entry``, ``group``, ``weights``,
    ``competing``, ``censored``).
    """
    check_frame(data, where)
    check_fit(where, conf_type, alpha, conf_types)
    kw = dict(where=where, **columns)
    summ, grid = _scan(data, kw)
    return kw, summ, grid


class _KM(KaplanMeier):
    _where = "kaplan_meier_dask"

    def __init__(self, summ: _Summary, tables: dict[Any, core.RiskTable]) -> None:  # noqa: D107 - internal
        self._prep = summ
        self._reduced = tables

    def _tables(self) -> list[tuple[Any, core.RiskTable]]:
        return [(lab, self._reduced[lab]) for lab in self._prep.group_labels]


class _NA(NelsonAalen, _KM):
    _where = "nelson_aalen_dask"


def kaplan_meier_dask(
    data: Any,
    *,
    duration: str = "duration",
    stop: str | None = None,
    event: str = "event",
    entry: str | None = None,
    group: str | None = None,
    weights: str | None = None,
    conf_type: str = "log-log",
    alpha: float = 0.05,
) -> KaplanMeierResults:
    """:class:`~evaltools.duration.KaplanMeier` on a Dask DataFrame (counts added over partitions).

    Parameters
    ----------
    data : dask DataFrame
        One row per spell or interval; partitions may split persons (the counts are additive).
    duration, stop, event, entry, group, weights
        As in :class:`~evaltools.duration.KaplanMeier`.
    conf_type, alpha
        As in :meth:`evaltools.duration.KaplanMeier.fit`.

    Returns
    -------
    KaplanMeierResults
        Equal to the in-memory result (Greenwood standard errors included);
        ``at_risk_table`` at arbitrary times is not available.
    """
    kw, summ, grid = _setup(
        data, "kaplan_meier_dask", conf_type, alpha, CONF_TYPES, duration=duration, stop=stop, event=event,
        entry=entry, group=group, weights=weights, competing=False, censored=0,
    )
    return _KM(summ, _tables(data, kw, summ, grid)).fit(conf_type=conf_type, alpha=alpha)


def nelson_aalen_dask(
    data: Any,
    *,
    duration: str = "duration",
    stop: str | None = None,
    event: str = "event",
    entry: str | None = None,
    group: str | None = None,
    weights: str | None = None,
    conf_type: str = "log",
    alpha: float = 0.05,
) -> NelsonAalenResults:
    """:class:`~evaltools.duration.NelsonAalen` on a Dask DataFrame (see :func:`kaplan_meier_dask`)."""
    kw, summ, grid = _setup(
        data, "nelson_aalen_dask", conf_type, alpha, ("log", "plain"), duration=duration, stop=stop,
        event=event, entry=entry, group=group, weights=weights, competing=False, censored=0,
    )
    return _NA(summ, _tables(data, kw, summ, grid)).fit(conf_type=conf_type, alpha=alpha)


# ----------------------------------------------------------------------------------------------
# Aalen-Johansen
# ----------------------------------------------------------------------------------------------
def _aj_terms(tab: core.RiskTable) -> dict[str, np.ndarray]:
    """Per-time arrays of the estimate (the global part of ``core.aalen_johansen``)."""
    J, K = tab.n_event.shape
    d = tab.n_event.sum(axis=1)
    y = tab.n_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(d > 0, d / y, 0.0)
        hk = np.where(d[:, None] > 0, tab.n_event / y[:, None], 0.0)
        c = np.where(y > d, 1.0 / (y - d), np.nan)
        inv_y = np.where(y > 0, 1.0 / y, 0.0)
    surv = np.cumprod(1.0 - h)
    s_prev = np.concatenate(([1.0], surv[:-1]))
    c = np.where(np.isfinite(c), c, 0.0)
    B = np.cumsum(h * c)
    cif = np.cumsum(s_prev[:, None] * hk, axis=0)
    P1 = np.cumsum(s_prev[:, None] * hk * np.concatenate(([0.0], B[:-1]))[:, None], axis=0)
    P2 = np.cumsum(s_prev[:, None] * hk * inv_y[:, None], axis=0)
    return dict(surv=surv, s_prev=s_prev, c=c, B=B, cif=cif, P1=P1, P2=P2, A=P1 - P2, inv_y=inv_y)


def _pad(v: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], v))


def _aj_part(part: pd.DataFrame, kw: dict[str, Any], grid: dict, causes: list[Any], terms: dict) -> dict:
    """Range sums of the influence terms of a partition's rows, per group."""
    p = _prep(part, kw)
    out: dict[Any, dict[str, np.ndarray]] = {}
    if p is None:
        return out
    cause_all = _local(p, causes, kw)
    rs, fs = core._range_sum, core._finished_sum
    for lab, sel in p.groups():
        t = terms[lab]
        time = grid[lab]
        J = len(time)
        s = np.searchsorted(time, p.stop[sel])
        a = np.searchsorted(time, p.entry[sel], side="right")
        cause = cause_all[sel]
        w2 = p.weight[sel] ** 2
        B = t["B"]
        Bb = _pad(B)[a]
        G = np.where(cause > 0, t["c"][s], 0.0) - (B[s] - Bb)
        o = {
            "r1": rs(w2, a, s, J),
            "r2": rs(w2 * Bb, a, s, J),
            "r3": rs(w2 * Bb**2, a, s, J),
            "fG2": fs(w2 * G**2, s, J),
        }
        for k in range(len(causes)):
            F, P1, P2, A = t["cif"][:, k], t["P1"][:, k], t["P2"][:, k], t["A"][:, k]
            q = -_pad(P1)[a] + Bb * _pad(F)[a] + _pad(P2)[a]
            dk = (cause == k + 1).astype(float)
            m = A[s] - Bb * F[s] + q + dk * t["s_prev"][s] * t["inv_y"][s] + G * F[s]
            o[f"rq{k}"] = rs(w2 * q, a, s, J)
            o[f"rq2{k}"] = rs(w2 * q**2, a, s, J)
            o[f"rBq{k}"] = rs(w2 * Bb * q, a, s, J)
            o[f"fm2{k}"] = fs(w2 * m**2, s, J)
            o[f"fmG{k}"] = fs(w2 * m * G, s, J)
        out[lab] = o
    return out


class _AJ(AalenJohansen):
    def __init__(self, summ: _Summary, results: dict[Any, tuple]) -> None:  # noqa: D107 - internal
        self._prep = summ
        self.causes = list(summ.causes)
        self._reduced = results
        self._where = "aalen_johansen_dask"

    def _estimates(self) -> list[tuple[Any, core.RiskTable, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        return [(lab, *self._reduced[lab]) for lab in self._prep.group_labels]


def aalen_johansen_dask(
    data: Any,
    *,
    duration: str = "duration",
    stop: str | None = None,
    event: str = "event",
    entry: str | None = None,
    group: str | None = None,
    censored: Any = 0,
    conf_type: str = "log",
    alpha: float = 0.05,
) -> AalenJohansenResults:
    """:class:`~evaltools.duration.AalenJohansen` on a Dask DataFrame (three passes over the partitions).

    Parameters
    ----------
    data : dask DataFrame
        One row per spell or interval (rows may be split over partitions in any way).
    duration, stop, event, entry, group, censored
        As in :class:`~evaltools.duration.AalenJohansen`.
    conf_type, alpha
        As in :meth:`evaltools.duration.AalenJohansen.fit`.

    Returns
    -------
    AalenJohansenResults
        Cumulative incidences, event-free probability and their
        infinitesimal-jackknife standard errors, equal to the in-memory result.
    """
    kw, summ, grid = _setup(
        data, "aalen_johansen_dask", conf_type, alpha, CONF_TYPES, duration=duration, stop=stop, event=event,
        entry=entry, group=group, weights=None, competing=True, censored=censored,
    )
    tables = _tables(data, kw, summ, grid)
    terms = {lab: _aj_terms(tab) for lab, tab in tables.items()}
    parts = map_partitions(data, _aj_part, kw, grid, list(summ.causes), terms)
    K = len(summ.causes)
    res = {}
    for lab, tab in tables.items():
        got = [q[lab] for q in parts if lab in q]
        S = {k: np.sum([g[k] for g in got], axis=0) for k in got[0]}
        t = terms[lab]
        B = t["B"]
        sg = S["r1"] * B**2 - 2 * B * S["r2"] + S["r3"] + S["fG2"]
        se_s = t["surv"] * np.sqrt(np.clip(sg, 0, None))
        se_c = np.empty((len(tab.time), K))
        for k in range(K):
            F, A = t["cif"][:, k], t["A"][:, k]
            first_part = (
                S["r1"] * A**2
                + F**2 * S["r3"]
                + S[f"rq2{k}"]
                - 2 * A * F * S["r2"]
                + 2 * A * S[f"rq{k}"]
                - 2 * F * S[f"rBq{k}"]
            )
            second = S[f"fm2{k}"] - 2 * F * S[f"fmG{k}"] + F**2 * S["fG2"]
            se_c[:, k] = np.sqrt(np.clip(first_part + second, 0, None))
        res[lab] = (tab, t["surv"], se_s, t["cif"], se_c)
    return _AJ(summ, res).fit(conf_type=conf_type, alpha=alpha)
