from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from evaltools.exceptions import SpecificationError  # noqa: E402
from evaltools.indicators import (  # noqa: E402
    activation_rate,
    benchmark,
    plot_caterpillar,
    plot_funnel,
    plot_timeseries,
)

from .conftest import random_panel  # noqa: E402


def test_plot_timeseries_returns_axes_and_plots_suppressed_values():
    t = activation_rate(random_panel(seed=1, n=300), period="month")
    ax = plot_timeseries(t, value="activation_rate", group="benefit")
    assert ax is not None and len(ax.lines) == t.to_frame()["benefit"].nunique()  # groups with data
    assert ax.get_title() == t.title
    shown = np.concatenate([ln.get_ydata() for ln in ax.lines])
    assert np.isnan(shown).sum() >= t.to_frame()["activation_rate"].isna().sum() - 1
    with pytest.raises(SpecificationError, match="column 'nope'"):
        plot_timeseries(t, value="nope")
    plt.close("all")


def test_caterpillar_and_funnel():
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"municipality": [f"M{i}" for i in range(30)], "u": rng.uniform(2, 8, 30)})
    d["y"] = 10 + d["u"] + rng.normal(0, 1, 30)
    res = benchmark(d, outcome="y", frame_conditions=["u"], project=["M1", "M2"])
    fig, ax = plt.subplots()
    assert plot_caterpillar(res, ax=ax) is ax
    assert res.plot() is not None
    f = pd.DataFrame(
        {"m": list("ABCDE"), "share": [0.2, 0.25, 0.5, 0.22, 0.3], "persons": [100, 400, 50, 900, 60]}
    )
    ax = plot_funnel(f, label="m")
    assert len(ax.lines) == 5  # centre + 2 x 2 limits
    plt.close("all")
