"""Designs against the truth (``evaltools.synth.designs``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data import decimal_year
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.synth import DESIGNS, att_for_sample, design_comparison

Z95 = 1.959963984540054
PROGRAMME = "virksomhedscenter"


@pytest.fixture(scope="module")
def result(small_with_truth):
    d = small_with_truth
    return design_comparison(d.panel, d.truth, d.hidden, d.potential, programme=PROGRAMME, seed=1,
                             per_treated=8)


def test_table_rows_and_truth(result, small_with_truth) -> None:
    tab = result.table.set_index("design")
    assert list(tab.index) == list(DESIGNS)
    frame = result.frame
    placed = frame[frame["group"] == "placed"]
    true = att_for_sample(small_with_truth.potential, placed[["person_id", "week"]], PROGRAMME, 52)
    assert (tab["truth"] == true["att"]).all() and result.counts["truth_n"] == len(placed) > 50
    assert (tab["bias"] == tab["estimate"] - tab["truth_of_row"]).all()
    assert tab.loc[DESIGNS[0], "estimate"] == pytest.approx(placed["y"].mean(), rel=1e-12)
    other = frame.loc[frame["group"] == "other activation", "y"]
    assert tab.loc[DESIGNS[2], "estimate"] == pytest.approx(placed["y"].mean() - other.mean(), rel=1e-12)
    assert tab.loc[DESIGNS[1], "truth_of_row"] == pytest.approx(result.counts["truth_before_after"])
    assert (tab["se"] > 0).all() and np.isfinite(tab["estimate"]).all()


def test_comparison_rows_are_the_risk_sets_of_the_placement_weeks(result, small_with_truth) -> None:
    panel = small_with_truth.panel
    frame = result.frame
    placed = frame[frame["group"] == "placed"]
    ctl = frame[frame["group"] == "not yet placed"]
    act = panel.events["activation"]
    first = act[act["kind"] == PROGRAMME].groupby("person_id")["week"].min()
    # drawn in a week in which somebody is placed, before the person's own first placement, outside programmes
    assert set(ctl["week"]) <= set(first)
    fp = ctl["person_id"].map(first)
    assert (fp.isna() | (ctl["week"] < fp)).all()
    inside = ctl.reset_index().merge(act, on="person_id", suffixes=("", "_act"))
    assert not ((inside["week_act"] <= inside["week"]) & (inside["end_week"] >= inside["week"])).any()
    # so a placed person is never among the comparison rows of its own week
    assert placed.merge(ctl, on=["person_id", "week"]).empty
    # some comparison persons are placed later (not yet placed, not never placed); every row is accounted for
    assert fp.notna().any()
    c = result.counts
    assert c["unmatched"] == 0 and c["busy"] > 0
    unused = ~ctl["week"].isin(placed["week"])
    assert c["comparison_unused"] == int(unused.sum())
    assert len(result.analysis) == c["placed"] - c["unmatched"] + c["not_yet_placed"] - c["comparison_unused"]
    assert set(result.analysis.columns) >= {"y", "treated", "type_low", "type_high", "elapsed_years"}


def test_oracle_covers_the_truth_of_its_placed_persons(result) -> None:
    row = result.table.set_index("design").loc[DESIGNS[4]]
    assert abs(row["estimate"] - row["truth_of_row"]) <= Z95 * row["se"]
    # the design without a comparison is far off (most participants would have left benefit anyway)
    after = result.table.set_index("design").loc[DESIGNS[0]]
    assert after["estimate"] - after["truth"] > Z95 * after["se"]


def test_same_seed_same_result_and_period(small_with_truth, result) -> None:
    d = small_with_truth
    again = design_comparison(d.panel, d.truth, d.hidden, d.potential, programme=PROGRAMME, seed=1,
                              per_treated=8)
    pd.testing.assert_frame_equal(again.table, result.table)
    # a period keeps the reference weeks of those calendar years only
    part = design_comparison(d.panel, d.truth, d.hidden, d.potential, programme=PROGRAMME, seed=1,
                             per_treated=8, period=(2009, 2010))
    assert 0 < part.counts["placed"] < result.counts["placed"]
    years = decimal_year(part.frame["week"].to_numpy())
    assert ((years >= 2009) & (years < 2011)).all()


def test_errors_name_the_problem(small_with_truth) -> None:
    d = small_with_truth
    args = (d.panel, d.truth, d.hidden, d.potential)
    with pytest.raises(SpecificationError, match="not columns of covariates_at"):
        design_comparison(*args, programme=PROGRAMME, covariates=["age", "shoe_size"])
    with pytest.raises(SpecificationError, match="per_treated must be positive"):
        design_comparison(*args, programme=PROGRAMME, per_treated=0)
    with pytest.raises(DataValidationError, match="het_type"):
        design_comparison(d.panel, d.truth, d.hidden.drop(columns="het_type"), d.potential,
                          programme=PROGRAMME)
    with pytest.raises(DataValidationError, match="no first 'virksomhedscenter' placement"):
        design_comparison(*args, programme=PROGRAMME, municipality="Nowhere")
    shifted = d.potential.assign(y1_52=d.potential["y1_52"] + 1)
    with pytest.raises(DataValidationError, match="differs from the simulated factual outcome"):
        design_comparison(d.panel, d.truth, d.hidden, shifted, programme=PROGRAMME, seed=1, per_treated=2)
