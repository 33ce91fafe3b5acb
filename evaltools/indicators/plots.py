"""Plots for indicator tables and benchmarks; every function returns the Axes.

Plots draw the *suppressed* numbers by default (a plot is an export), so
masked cells appear as gaps.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from evaltools.exceptions import DisclosureWarning, SpecificationError
from evaltools.indicators._table import IndicatorTable

__all__ = ["plot_timeseries", "plot_caterpillar", "plot_funnel"]


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_timeseries(
    table: IndicatorTable | pd.DataFrame,
    *,
    value: str = "fte",
    group: str | None = None,
    x: str = "period",
    suppress: bool = True,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Line per group over periods (seed 004, Figs. 3-4).

    Parameters
    ----------
    table : IndicatorTable or DataFrame
        Tidy table with ``x``, ``value`` and optionally ``group`` columns.
    value : str, default="fte"
        Column on the y axis.
    group : str, optional
        Column with one line per level.
    x : str, default="period"
        Column on the x axis (kept in table order).
    suppress : bool, default=True
        Plot the suppressed numbers of an IndicatorTable.
    ax : matplotlib Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    df = table.to_frame(suppress=suppress) if isinstance(table, IndicatorTable) else table
    for c in [value, x, *([group] if group else [])]:
        if c not in df.columns:
            raise SpecificationError(f"plot_timeseries: column {c!r} not in the table ({list(df.columns)}).")
    ax = _axes(ax)
    xs = pd.unique(df[x])
    pos = {v: i for i, v in enumerate(xs)}
    groups = [(None, df)] if group is None else df.groupby(group, sort=False)
    for lab, d in groups:
        ax.plot(
            [pos[v] for v in d[x]],
            d[value].to_numpy(float),
            label=None if lab is None else str(lab),
            **kwargs,
        )
    step = max(1, len(xs) // 12)
    ax.set_xticks(range(0, len(xs), step))
    ax.set_xticklabels([str(v) for v in xs[::step]], rotation=45, ha="right")
    ax.set_ylabel(value)
    if group is not None:
        ax.legend(title=group)
    return ax


def plot_caterpillar(result: Any, *, ax: Any = None, suppress: bool = True, **kwargs: Any) -> Any:
    """Units sorted by actual minus expected level, with prediction intervals.

    Parameters
    ----------
    result : BenchmarkResults
        Output of :func:`~evaltools.indicators.benchmark.benchmark`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    suppress : bool, default=True
        Leave out the units masked for disclosure control (``result.table["masked"]``:
        1-3 persons or masked in a linked table); the count is stated in the x label.
        ``False`` draws every unit, with a :class:`~evaltools.exceptions.DisclosureWarning`.
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = result.table.sort_values("difference", kind="stable").reset_index(drop=True)
    n_masked = 0
    if "masked" in t.columns:
        if suppress:
            n_masked = int(t["masked"].sum())
            t = t[~t["masked"].to_numpy(dtype=bool)].reset_index(drop=True)
        elif t["masked"].any():
            warnings.warn(
                "plot_caterpillar: small-cell suppression turned off by the user; the plot shows units "
                "based on 1-3 persons.",
                DisclosureWarning,
                stacklevel=2,
            )
    ax = _axes(ax)
    y = np.arange(len(t))
    err = np.vstack([t["expected"] - t["lower"], t["upper"] - t["expected"]])
    colors = np.where(t["project"], "C1", "C0")
    kwargs.setdefault("fmt", "none")
    ax.errorbar(t["difference"], y, xerr=err, ecolor="0.6", **kwargs)
    ax.scatter(t["difference"], y, c=colors, zorder=3, s=12)
    ax.axvline(0, color="k", lw=0.8, label="expected level")
    ax.scatter(
        t["raw_difference"],
        y,
        facecolors="none",
        edgecolors="C3",
        s=12,
        zorder=2,
        label="actual - national average (raw)",
    )
    ax.set_yticks(y)
    ax.set_yticklabels(t[result.id_col].astype(str), fontsize=7)
    note = f" ({n_masked} units masked for disclosure control not shown)" if n_masked else ""
    ax.set_xlabel(f"{result.outcome}: actual - expected{note}")
    ax.legend(fontsize=7)
    return ax


def plot_funnel(
    data: pd.DataFrame,
    *,
    share: str = "share",
    n: str = "persons",
    label: str | None = None,
    target: float | None = None,
    levels: tuple[float, ...] = (0.95, 0.998),
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Funnel plot of unit shares against their denominators with binomial control limits.

    Parameters
    ----------
    data : DataFrame
        One row per unit with the share and the denominator (persons).
    share, n : str
        Share and denominator columns.
    label : str, optional
        Column used to annotate units outside the outer limits.
    target : float, optional
        Centre line; default the pooled share ``sum(share * n) / sum(n)``.
    levels : tuple of float, default=(0.95, 0.998)
        Two-sided coverage of the control limits ``target ± z sqrt(target (1 - target) / n)``.
    ax : matplotlib Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.scatter``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from scipy import stats

    if isinstance(data, IndicatorTable):
        data = data.to_frame()
    d = data.dropna(subset=[share, n])
    nn = d[n].to_numpy(float)
    p = d[share].to_numpy(float)
    centre = float(np.sum(p * nn) / np.sum(nn)) if target is None else float(target)
    ax = _axes(ax)
    ax.scatter(nn, p, **kwargs)
    grid = np.linspace(max(1.0, nn.min() * 0.8), nn.max() * 1.1, 200)
    ax.axhline(centre, color="k", lw=0.8)
    for lev, ls in zip(levels, ("--", ":")):
        z = stats.norm.ppf(0.5 + lev / 2)
        half = z * np.sqrt(centre * (1 - centre) / grid)
        ax.plot(grid, centre + half, color="0.4", ls=ls, lw=0.8)
        ax.plot(grid, centre - half, color="0.4", ls=ls, lw=0.8)
    if label is not None:
        z = stats.norm.ppf(0.5 + max(levels) / 2)
        out = np.abs(p - centre) > z * np.sqrt(centre * (1 - centre) / nn)
        for xv, yv, lab in zip(nn[out], p[out], d[label].to_numpy()[out]):
            ax.annotate(str(lab), (xv, yv), fontsize=7)
    ax.set_xlabel(n)
    ax.set_ylabel(share)
    return ax
