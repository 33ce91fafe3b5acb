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


#: y-axis labels (with units) of the usual indicator columns.
_UNITS = {
    "fte": "full-time persons",
    "share": "share (proportion)",
    "share_pop": "full-time persons / population (proportion)",
    "activation_rate": "activation rate (proportion)",
    "persons": "persons",
}


def plot_timeseries(
    table: IndicatorTable | pd.DataFrame,
    *,
    value: str = "fte",
    group: str | None = None,
    x: str = "period",
    suppress: bool = True,
    ax: Any = None,
    title: str | None = None,
    ylabel: str | None = None,
    **kwargs: Any,
) -> Any:
    """Line per group over periods (as Beskæftigelsesregion Nordjylland 2010, Figs. 3-4).

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
    title : str, optional
        Axes title (default: the IndicatorTable's title); ``""`` for none.
    ylabel : str, optional
        y-axis label (default: ``value`` with its unit where known).
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        With more than six groups the legend is placed right of the axes.
    """
    df = table.to_frame(suppress=suppress) if isinstance(table, IndicatorTable) else table
    if title is None:
        title = table.title if isinstance(table, IndicatorTable) else ""
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
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel if ylabel is not None else _UNITS.get(value, value))
    if group is not None:
        n_groups = df[group].nunique()
        if n_groups > 6:
            from evaltools.reporting.plotting import legend_outside

            legend_outside(ax, title=group)
        else:
            ax.legend(title=group, loc="best")
    if title:
        ax.set_title(title)
    return ax


def plot_caterpillar(result: Any, *, ax: Any = None, suppress: bool = True, title: str | None = None,
                     **kwargs: Any) -> Any:
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
    title : str, optional
        Axes title (default: the outcome and the interval); ``""`` for none.
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
    project = t["project"].to_numpy(dtype=bool)
    kwargs.setdefault("fmt", "none")
    ax.errorbar(t["difference"], y, xerr=err, ecolor="0.6", label="95% prediction interval", **kwargs)
    points = ((False, "C0", "actual - expected"), (True, "C1", "actual - expected (project unit)"))
    for flag, colour, name in points:
        sel = project == flag
        if sel.any():
            ax.scatter(t["difference"][sel], y[sel], c=colour, zorder=3, s=12, label=name)
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
    from evaltools.reporting.plotting import legend_outside

    legend_outside(ax, where="below", ncol=2, fontsize=7)
    if title is None:
        title = f"{result.outcome}: actual minus expected level, prediction intervals"
    if title:
        ax.set_title(title)
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
    title: str | None = None,
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
    title : str, optional
        Axes title (default "Funnel plot: ..."); ``""`` for none.
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
    ax.set_xlabel(f"{n} (denominator, persons)")
    ax.set_ylabel(f"{share} (proportion)")
    if title is None:
        title = f"Funnel plot: {share} against {n}, {' / '.join(f'{100 * lev:g}%' for lev in levels)} limits"
    if title:
        ax.set_title(title)
    return ax
