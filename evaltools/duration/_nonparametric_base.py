"""Shared input validation, table look-ups and plotting for :mod:`evaltools.duration.nonparametric`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._validation import check_columns, check_option, raise_for_rows
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError
from evaltools.reporting.results import ReadOnlyMixin

__all__ = [
    "CONF_TYPES",
    "Prepared",
    "CurveResults",
    "check_fit",
    "step_lookup",
    "quantile_time",
    "plot_curves",
]

CONF_TYPES = ("log-log", "log", "plain")


class Prepared:
    """Validated arrays shared by the three estimators (one entry per used row)."""

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        where: str,
        duration: str,
        stop: str | None,
        event: str,
        entry: str | None,
        group: str | None,
        weights: str | None,
        competing: bool,
        censored: Any = 0,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{where}: 'data' must be a pandas DataFrame; got {type(data).__name__}. "
                "For a Dask DataFrame use the functions of evaltools.duration.dask."
            )
        time_col = stop if stop is not None else duration
        cols = [time_col, event] + [c for c in (entry, group, weights) if c is not None]
        check_columns(data, cols, where, role="duration/stop/event/entry/group/weights")
        for c in [time_col] + [c for c in (entry, weights) if c is not None]:
            if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
                raise DataValidationError(
                    f"{where}: column {c!r} must be numeric; got dtype {data[c].dtype}. Convert it first."
                )
        self.time_col, self.event_col, self.entry_col = time_col, event, entry
        self.group_col, self.weights_col = group, weights
        n_total = len(data)
        miss = data[cols].isna().any(axis=1).to_numpy()
        self.n_dropped = int(miss.sum())
        if self.n_dropped:
            warnings.warn(
                f"{where}: dropped {self.n_dropped:,} of {n_total:,} rows with missing values in "
                f"{[c for c in cols if data[c].isna().any()]}.",
                MissingValueWarning,
                stacklevel=3,
            )
        df = data.loc[~miss, cols]
        if len(df) == 0:
            raise DataValidationError(f"{where}: no rows left after removing rows with missing values.")
        t = df[time_col].to_numpy(dtype=float)
        e = df[entry].to_numpy(dtype=float) if entry is not None else np.zeros(len(df))
        raise_for_rows(
            df,
            ~np.isfinite(t) | ~np.isfinite(e),
            rule=f"{where}: times must be finite",
            fix="Remove or cap infinite times.",
            columns=[c for c in (time_col, entry) if c],
        )
        if entry is not None:
            raise_for_rows(
                df,
                t <= e,
                rule=f"{where}: column {time_col!r} must be greater than {entry!r} "
                "(zero or negative length intervals)",
                fix="Drop or correct these rows; an interval (entry, stop] must have positive length.",
                columns=[entry, time_col],
            )
        else:
            raise_for_rows(
                df,
                t <= 0,
                rule=f"{where}: column {time_col!r} must be positive (zero or negative durations)",
                fix="Correct these durations, or give entry= if the rows start after time 0.",
                columns=[time_col],
            )
        ev = df[event]
        if competing:
            values = pd.unique(ev)
            causes = sorted([v for v in values if v != censored], key=lambda v: (str(type(v)), v))
            if not causes:
                raise DataValidationError(
                    f"{where}: column {event!r} has no exits (every value equals censored={censored!r})."
                )
            codes = np.zeros(len(df), dtype=np.int64)
            for k, v in enumerate(causes, start=1):
                codes[(ev == v).to_numpy()] = k
            self.causes = list(causes)
        else:
            evf = pd.to_numeric(ev, errors="coerce").to_numpy(dtype=float)
            raise_for_rows(
                df,
                ~np.isin(evf, (0.0, 1.0)),
                rule=f"{where}: column {event!r} must be binary (0/1 or bool)",
                fix="Recode the event indicator; for several exit types use AalenJohansen.",
                columns=[event],
            )
            codes = evf.astype(np.int64)
            self.causes = [1]
        if weights is not None:
            w = df[weights].to_numpy(dtype=float)
            raise_for_rows(
                df,
                ~(np.isfinite(w) & (w > 0)),
                rule=f"{where}: weights must be positive and finite",
                fix="Drop rows with zero weight explicitly or correct the weights.",
                columns=[weights],
            )
        else:
            w = np.ones(len(df))
        if group is not None:
            gcodes, glabels = pd.factorize(df[group], sort=True)
            self.group_labels = list(glabels)
        else:
            gcodes = np.zeros(len(df), dtype=np.int64)
            self.group_labels = [None]
        self.entry, self.stop, self.cause, self.weight, self.gcode = e, t, codes, w, gcodes
        self.n_used = len(df)
        self.n_delayed = int((e > 0).sum()) if entry is not None else 0

    def groups(self) -> list[tuple[Any, np.ndarray]]:
        """Row selections per group (a handful of groups, not persons)."""
        if len(self.group_labels) == 1:
            return [(self.group_labels[0], np.arange(self.n_used))]
        order = np.argsort(self.gcode, kind="stable")
        bounds = np.searchsorted(self.gcode[order], np.arange(len(self.group_labels) + 1))
        return [(lab, order[bounds[g] : bounds[g + 1]]) for g, lab in enumerate(self.group_labels)]

    def count(self, value: float) -> float | int:
        """Show a count as an integer when there are no case weights."""
        return int(round(value)) if self.weights_col is None else float(value)

    def footnotes(self) -> list[str]:
        notes = []
        if self.entry_col is not None:
            notes.append(
                f"Delayed entry (left truncation) from column {self.entry_col!r}: a row is at risk at t "
                f"when entry < t <= stop; {self.n_delayed:,} rows enter after time 0."
            )
        if self.weights_col is not None:
            notes.append(f"Case weights from column {self.weights_col!r}; counts are weighted.")
        notes.append(
            f"{self.n_dropped:,} rows dropped for missing values." if self.n_dropped else "No rows dropped."
        )
        return notes


def check_fit(where: str, conf_type: str, alpha: float, options: Sequence[str] = CONF_TYPES) -> float:
    check_option("conf_type", conf_type, options, where)
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise SpecificationError(
            f"The 'alpha' parameter of {where} must be a float in (0, 1). Got {alpha!r} instead."
        )
    return float(stats.norm.ppf(1 - alpha / 2))


def step_lookup(
    times: np.ndarray, values: np.ndarray, at: np.ndarray, before: float, t_max: float
) -> np.ndarray:
    idx = np.searchsorted(times, at, side="right") - 1
    out = np.where(idx >= 0, values[np.clip(idx, 0, None)], before)
    return np.where(at > t_max, np.nan, out)


class CurveResults(ReadOnlyMixin):
    """Shared behaviour of the curve results (tables by group, at-risk table, plotting helpers)."""

    _prep: Prepared
    _table: pd.DataFrame
    _title: str

    def _groups_of(self, table: pd.DataFrame) -> list[tuple[Any, pd.DataFrame]]:
        if self._prep.group_col is None:
            return [(None, table)]
        return [(g, table[table[self._prep.group_col] == g]) for g in self._prep.group_labels]

    def at_risk_table(self, times: Sequence[float]) -> pd.DataFrame:
        """Number at risk (``entry < t <= stop``, weighted) at the given times, by group.

        Parameters
        ----------
        times : sequence of float
            Time points.

        Returns
        -------
        DataFrame
            One row per group (index ``"all"`` without groups), one column per time.
        """
        at = np.asarray(times, dtype=float).ravel()
        rows = {}
        p = self._prep
        for lab, sel in p.groups():
            e, s, w = p.entry[sel], p.stop[sel], p.weight[sel]
            os_, oe = np.argsort(s), np.argsort(e)
            cs = np.concatenate(([0.0], np.cumsum(w[os_])))
            ce = np.concatenate(([0.0], np.cumsum(w[oe])))
            n_stop_ge = cs[-1] - cs[np.searchsorted(s[os_], at, side="left")]
            n_entry_ge = ce[-1] - ce[np.searchsorted(e[oe], at, side="left")]
            rows["all" if lab is None else lab] = n_stop_ge - n_entry_ge
        out = pd.DataFrame(rows, index=at).T
        out.columns.name = "time"
        if p.group_col is not None:
            out.index.name = p.group_col
        return out

    def _draw_at_risk(self, ax: Any) -> None:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        tab = self.at_risk_table(ticks)
        for i, (lab, row) in enumerate(tab.iterrows()):
            y = -0.14 - 0.06 * i
            ax.text(-0.02, y, str(lab), transform=ax.transAxes, ha="right", va="top", fontsize=8)
            for t, v in zip(ticks, row, strict=True):
                ax.text(
                    t, y, f"{v:,.0f}", transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8
                )
        ax.text(-0.02, -0.14 + 0.06, "At risk", transform=ax.transAxes, ha="right", va="top", fontsize=8)

    def __str__(self) -> str:
        return self.summary().as_text()  # type: ignore[attr-defined]

    def _repr_html_(self) -> str:
        return self.summary().as_html()  # type: ignore[attr-defined]


def quantile_time(t: np.ndarray, s: np.ndarray, p: float = 0.5) -> float:
    """First time with ``s <= p``; midpoint rule for an exact hit (R ``quantile.survfit``)."""
    tol = np.sqrt(np.finfo(float).eps)
    ok = np.isfinite(s)
    t, s = t[ok], s[ok]
    hit = np.flatnonzero(s <= p + tol)
    if len(hit) == 0:
        return float("nan")
    j = hit[0]
    if abs(s[j] - p) < tol:
        later = np.flatnonzero((s < s[j] - tol) & (np.arange(len(s)) > j))
        if len(later):
            return float((t[j] + t[later[0]]) / 2)
    return float(t[j])


def time_label(res: Any, time_unit: str) -> str:
    """x-axis label: the time column and its unit, e.g. ``"duration (weeks)"``."""
    name = str(getattr(res._prep, "time_col", None) or "time")
    if not time_unit:
        return name
    if time_unit.rstrip("s").lower() in name.lower():  # a column named "weeks": say "time (weeks)"
        name = "time"
    return f"{name} ({time_unit})"


def plot_curves(
    res: CurveResults,
    ax: Any,
    column: str,
    ylabel: str,
    ci: bool,
    at_risk: bool,
    start: float,
    title: str | None = None,
    time_unit: str = "weeks",
    **kwargs: Any,
) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    for lab, tab in res._groups_of(res._table):
        t = np.r_[0.0, tab["time"].to_numpy()]
        y = np.r_[start, tab[column].to_numpy()]
        (line,) = ax.step(t, y, where="post", label=None if lab is None else str(lab), **kwargs)
        if ci:
            lo = np.r_[start, tab["lower"].to_numpy()]
            hi = np.r_[start, tab["upper"].to_numpy()]
            ax.fill_between(t, lo, hi, step="post", alpha=0.2, color=line.get_color(), linewidth=0)
    ax.set_xlabel(time_label(res, time_unit))
    ax.set_ylabel(ylabel)
    if res._prep.group_col is not None:
        ax.legend(title=res._prep.group_col, loc="best")
    if title is None:
        title = res._title + (f" by {res._prep.group_col}" if res._prep.group_col is not None else "")
    if title:
        ax.set_title(title)
    if at_risk:
        res._draw_at_risk(ax)
    return ax
