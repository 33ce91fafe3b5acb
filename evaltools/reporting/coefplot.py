"""Coefficient plot: estimates with confidence intervals for one or several models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evaltools.reporting.compare import compare
from evaltools.reporting.results import level_label

__all__ = ["coefplot"]


def coefplot(
    *results: Any,
    names: Sequence[str] | None = None,
    params: Sequence[Any] | None = None,
    alpha: float = 0.05,
    exp: bool = False,
    ax: Any = None,
    title: str | None = None,
    **kwargs: Any,
) -> Any:
    """Plot estimates with confidence intervals, one marker per model and parameter.

    Parameters
    ----------
    *results : EstimationResults, or one list or dict of them
        As for :func:`~evaltools.reporting.compare`.
    names : sequence of str, optional
        Model names for the legend (default as in :func:`compare`).
    params : sequence, optional
        Parameters to show, top to bottom (default: all).
    alpha : float, default=0.05
        One minus the confidence level.
    exp : bool, default=False
        Plot ``exp(estimate)`` and ``exp`` of the interval on a log axis with a
        reference line at 1 (hazard or odds ratios); otherwise the reference
        line is at 0.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).
    title : str, optional
        Axes title (default: none for one model, "Model comparison" for several).
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    from evaltools.reporting.plotting import plain_log_axis

    comp = compare(*results, names=names, params=params, alpha=alpha)
    frame = comp.to_frame()
    labels = [str(p) for p in frame.index]
    n_models = len(comp.results)
    new_figure = ax is None
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(labels) * max(1, n_models / 2) + 1.6))
    y0 = np.arange(len(labels))[::-1].astype(float)
    step = 0.6 / n_models if n_models > 1 else 0.0
    for k, name in enumerate(comp.results):
        f = frame[name]
        est, lo, hi = (f[c].to_numpy(dtype=float) for c in ("estimate", "lower", "upper"))
        if exp:
            with np.errstate(over="ignore"):
                est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
        ok = np.isfinite(est)
        y = y0 + (n_models - 1) * step / 2 - k * step
        opts = {"fmt": "o", "capsize": 3, "label": name if n_models > 1 else None, **kwargs}
        if n_models == 1:
            opts.setdefault("color", "k")
        ax.errorbar(est[ok], y[ok], xerr=[est[ok] - lo[ok], hi[ok] - est[ok]], **opts)
    ax.axvline(1.0 if exp else 0.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y0)
    ax.set_yticklabels(labels)
    what = "exp(estimate)" if exp else "estimate"
    ax.set_xlabel(f"{what} with {level_label(alpha)} confidence interval" + (" (log scale)" if exp else ""))
    if exp:
        ax.set_xscale("log")
        plain_log_axis(ax, "x")
    if n_models > 1:
        ax.legend(loc="best", fontsize=8)
    if title is None:
        title = "Model comparison" if n_models > 1 else ""
    if title:
        ax.set_title(title)
    if new_figure:
        ax.figure.tight_layout()
    return ax
