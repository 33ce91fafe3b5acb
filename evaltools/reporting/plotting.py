"""A shared look for every figure: titles, units, legends that leave the data visible, distinct colours.

:func:`use_style` sets matplotlib's defaults for a report (called by the
notebooks; the library's ``plot`` methods work without it).  The helpers
place legends outside the data (:func:`legend_outside`, :func:`shared_legend`)
and write plain tick labels on log axes (:func:`plain_log_axis`), so a hazard
ratio axis reads ``0.5  1  2`` rather than ``6x10^-1``.

Every ``plot`` method of a results object sets a title and axis labels with
units; pass ``title=""`` to drop the title, or set your own afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["COLOURS", "use_style", "legend_outside", "shared_legend", "plain_log_axis", "colour_cycle"]

#: Sixteen distinct colours (matplotlib's "tab10" and six darker tones): enough for one line per
#: benefit group or municipality without repeating a colour.
COLOURS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#000000",
)


def colour_cycle(n: int | None = None) -> list[str]:
    """The first ``n`` report colours (all of them by default)."""
    return list(COLOURS if n is None else COLOURS[:n])


def use_style() -> None:
    """Set matplotlib defaults for report figures (colours, fonts, grid, legend, layout).

    Examples
    --------
    >>> from evaltools.reporting.plotting import use_style
    >>> use_style()
    """
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=list(COLOURS)),
            "figure.figsize": (9.0, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "0.9",
            "grid.linewidth": 0.7,
            "axes.axisbelow": True,
            "axes.formatter.useoffset": False,
            "axes.formatter.use_locale": False,
            "legend.frameon": False,
            "legend.fontsize": 9,
            "legend.title_fontsize": 9,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "figure.titlesize": 12,
            "figure.titleweight": "bold",
        }
    )


def legend_outside(ax: Any, *, where: str = "right", title: str | None = None, ncol: int | None = None,
                   **kwargs: Any) -> Any:
    """Place the Axes' legend outside the plotting area (right of it or below it).

    Parameters
    ----------
    ax : matplotlib Axes
    where : {"right", "below"}, default="right"
        Right of the axes (one column) or below them (several columns).
    title : str, optional
        Legend title.
    ncol : int, optional
        Number of columns (default 1 on the right, up to 4 below).
    **kwargs
        Passed to ``Axes.legend``.

    Returns
    -------
    matplotlib.legend.Legend or None
        None when the Axes has nothing labelled.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    if where == "right":
        opts = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "ncol": ncol or 1}
    elif where == "below":
        opts = {"loc": "upper center", "bbox_to_anchor": (0.5, _below_axis(ax)),
                "ncol": ncol or min(4, len(handles))}
    else:
        from evaltools.exceptions import SpecificationError

        raise SpecificationError(f"legend_outside: 'where' must be 'right' or 'below'; got {where!r}.")
    opts.update(kwargs)
    return ax.legend(handles, labels, title=title, **opts)


def _below_axis(ax: Any) -> float:
    """Vertical position (axes coordinates) just below the tick labels and the x label of ``ax``."""
    try:
        renderer = ax.figure.canvas.get_renderer()
        box = ax.get_tightbbox(renderer)
        if ax.get_legend() is not None:
            ax.get_legend().set_visible(False)
            box = ax.get_tightbbox(renderer)
        y0 = ax.transAxes.inverted().transform((0.0, box.y0))[1]
        return float(min(y0 - 0.03, -0.12))
    except (AttributeError, ValueError, RuntimeError):  # a backend without a renderer
        return -0.2


def shared_legend(fig: Any, axes: Sequence[Any], *, where: str = "below", ncol: int | None = None,
                  title: str | None = None) -> Any:
    """One legend for several panels (labels deduplicated), outside the panels.

    Parameters
    ----------
    fig : matplotlib Figure
    axes : sequence of Axes
        Panels whose labelled artists are collected (their own legends are removed).
    where : {"below", "right"}, default="below"
        Below the panels or right of them.
    ncol : int, optional
        Columns of the legend (default: all entries in one row below, up to 4).
    title : str, optional
        Legend title.

    Returns
    -------
    matplotlib.legend.Legend or None
    """
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab and not lab.startswith("_") and lab not in seen:
                seen[lab] = h
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if not seen:
        return None
    fig.tight_layout()
    if where == "right":
        fig.subplots_adjust(right=0.78)
        return fig.legend(list(seen.values()), list(seen), loc="center left", bbox_to_anchor=(0.79, 0.5),
                          ncol=ncol or 1, title=title)
    n = ncol or min(4, len(seen))
    rows = -(-len(seen) // n)
    height = fig.get_size_inches()[1]
    bottom = min(0.45, (0.35 + 0.28 * rows) / height)
    fig.subplots_adjust(bottom=fig.subplotpars.bottom + bottom)
    return fig.legend(list(seen.values()), list(seen), loc="lower center", bbox_to_anchor=(0.5, 0.0),
                      ncol=n, title=title)


def plain_log_axis(ax: Any, axis: str = "x") -> None:
    """Plain tick labels (``0.5``, ``1``, ``2``) on a log-scaled axis instead of powers of ten."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    narrow = lo > 0 and math.log10(hi / lo) < 1.2
    # within about a decade: every integer multiple (0.6 0.7 ... 2); wider: 1-2-5 steps
    subs = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0) if narrow else (1.0, 2.0, 5.0)
    target.set_major_locator(LogLocator(base=10, subs=subs))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())
