import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from evaltools.datasets.rossi import load_person_weeks  # noqa: E402
from evaltools.duration import CoxPH, KaplanMeier  # noqa: E402
from evaltools.exceptions import SpecificationError  # noqa: E402
from evaltools.reporting.plotting import COLOURS, legend_outside, plain_log_axis, shared_legend, use_style  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_style():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def _overlaps(fig, legend, ax):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    return legend.get_window_extent(r).overlaps(ax.get_window_extent(r))


def test_style_has_enough_distinct_colours():
    use_style()
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert len(cycle) >= 13 and len(set(cycle)) == len(cycle) == len(COLOURS)
    fig, ax = plt.subplots()
    lines = [ax.plot([0, 1], [i, i], label=f"g{i}")[0] for i in range(13)]
    assert len({ln.get_color() for ln in lines}) == 13  # the 13-group legend needs no repeated colour


@pytest.mark.parametrize("where", ["right", "below"])
def test_legend_outside_does_not_cover_the_axes(where):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.plot([0, 1], [1, 0], label="b")
    ax.set_xlabel("x (weeks)")
    leg = legend_outside(ax, where=where)
    fig.tight_layout()
    assert not _overlaps(fig, leg, ax)
    with pytest.raises(SpecificationError, match="'right' or 'below'"):
        legend_outside(ax, where="inside")


def test_shared_legend_dedups_and_leaves_the_panels_free():
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="same")
        ax.legend()
    leg = shared_legend(fig, axes)
    assert [t.get_text() for t in leg.get_texts()] == ["same"]
    assert all(ax.get_legend() is None for ax in axes)
    assert not any(_overlaps(fig, leg, ax) for ax in axes)


def test_plain_log_ticks():
    fig, ax = plt.subplots()
    ax.plot([0.6, 1.8], [0, 1])
    ax.set_xscale("log")
    plain_log_axis(ax, "x")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "1" in labels and not any("10^" in s or "mathdefault" in s for s in labels)


def test_cox_plot_has_a_title_units_and_plain_ticks():
    res = CoxPH.from_formula("~ fin + age + prio + employed", load_person_weeks(), id="id").fit()
    ax = res.plot()
    assert ax.get_title().startswith("Cox proportional hazards") and "events" in ax.get_title()
    assert "hazard ratio" in ax.get_xlabel() and "log scale" in ax.get_xlabel()
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and not any("times" in s or "^" in s for s in labels)
    assert res.plot(title="").get_title() == ""


def test_km_plot_axis_has_a_unit_and_a_title():
    d = pd.DataFrame({"weeks": [3, 5, 5, 8, 12, 2, 4], "exit": [1, 1, 0, 1, 0, 1, 1], "g": list("aaaabbb")})
    ax = KaplanMeier(d, duration="weeks", event="exit", group="g").fit().plot()
    assert ax.get_xlabel() == "time (weeks)"
    assert ax.get_title() == "Kaplan-Meier survival by g"
    ax2 = KaplanMeier(d, duration="weeks", event="exit").fit().plot(time_unit="days")
    assert ax2.get_xlabel() == "weeks (days)" and np.isfinite(ax2.get_ylim()).all()
