from __future__ import annotations

import pytest

from evaltools.exceptions import DisclosureWarning
from evaltools.indicators import fte
from evaltools.reporting.disclosure import OFF_FOOTNOTE

from .conftest import random_panel


def test_indicator_table_exports_and_summary():
    t = fte(random_panel(seed=2, n=400), by=("municipality", "benefit"), period="quarter")
    s = t.suppressed()
    assert s.n_primary == int(t.data["persons"].between(1, 3).sum())
    # secondary suppression within each quarter: no municipality x benefit table has a lone masked cell
    m = s.mask["fte"]
    d = s.table.assign(masked=m.to_numpy())  # the shown rows (groups without any person are left out)
    for _, g in d.groupby("period"):
        per_row = g.groupby("municipality")["masked"].sum()
        per_col = g.groupby("benefit")["masked"].sum()
        assert not (per_row == 1).any() and not (per_col == 1).any()
    assert "Full-time persons" in t.summary().as_text()
    assert "<table" in t._repr_html_()
    assert repr(t).startswith("<IndicatorTable")
    with pytest.warns(DisclosureWarning):
        off = t.suppressed(suppress=False)
    assert off.footnotes[-1] == OFF_FOOTNOTE
    assert t.data is not t.data  # copies


def test_groups_without_any_person_are_left_out_with_a_note():
    panel = random_panel(seed=3, n=200)
    t = fte(panel, by=("benefit",), period="year")
    empty = t.data.groupby("benefit", observed=True)["persons"].sum().eq(0)
    assert empty.any() and (~empty).any()
    shown = t.to_frame()
    assert set(shown["benefit"]) == set(empty.index[~empty])
    assert any("without any persons" in f and "empty='keep'" in f for f in t.suppressed().footnotes)
    kept = t.to_frame(empty="keep")
    assert len(kept) == len(t.data) and set(kept["benefit"]) == set(t.data["benefit"])
    assert "\nstarthjaelp " not in str(t) and "(starthjaelp" in str(t)  # named in the note, not a table row
    with pytest.raises(Exception, match="'empty' parameter"):
        t.to_frame(empty="hide")


def test_subset_reapplies_suppression_and_week_labels_in_displays():
    t = fte(random_panel(seed=2, n=400), by=("municipality", "benefit"), period="quarter")
    first = t.data["period"] == t.data["period"].iloc[0]
    sub = t.subset(first, title="First quarter")
    assert len(sub) == int(first.sum()) and sub.title == "First quarter" and sub.keys == t.keys
    with pytest.raises(Exception, match="one flag per row"):
        t.subset([True, False])
