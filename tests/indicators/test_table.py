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
