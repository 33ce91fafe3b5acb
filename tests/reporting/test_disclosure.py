from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog

from evaltools.exceptions import DisclosureError, DisclosureWarning, SpecificationError
from evaltools.reporting.disclosure import (
    OFF_FOOTNOTE,
    SuppressedTable,
    _bridges,
    suppress,
    suppression_pattern,
)


def _feasible_range(ext: np.ndarray, masked: np.ndarray, cell: tuple[int, int]) -> tuple[float, float]:
    """Min and max of one masked cell given every published cell and the additive relations."""
    n1, m1 = ext.shape
    n, m = n1 - 1, m1 - 1
    var = {tuple(ix): k for k, ix in enumerate(np.argwhere(masked))}
    nv = len(var)
    a_eq, b_eq = [], []

    def relation(cells_plus, cell_minus):
        row = np.zeros(nv)
        rhs = 0.0
        for c in cells_plus:
            if c in var:
                row[var[c]] += 1
            else:
                rhs -= ext[c]
        if cell_minus in var:
            row[var[cell_minus]] -= 1
        else:
            rhs += ext[cell_minus]
        a_eq.append(row)
        b_eq.append(rhs)

    for i in range(n):
        relation([(i, j) for j in range(m)], (i, m))
    for j in range(m):
        relation([(i, j) for i in range(n)], (n, j))
    relation([(i, m) for i in range(n)], (n, m))
    relation([(n, j) for j in range(m)], (n, m))
    obj = np.zeros(nv)
    obj[var[cell]] = 1
    kw = dict(A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=[(0, None)] * nv, method="highs")
    lo = linprog(obj, **kw)
    hi = linprog(-obj, **kw)
    assert lo.status == 0
    return lo.fun, (-hi.fun if hi.status == 0 else np.inf)


def _extended(c: np.ndarray) -> np.ndarray:
    n, m = c.shape
    ext = np.zeros((n + 1, m + 1))
    ext[:n, :m] = c
    ext[:n, m] = c.sum(1)
    ext[n, :m] = c.sum(0)
    ext[n, m] = c.sum()
    return ext


def test_primary_only_masks_one_to_three():
    c = np.array([[0, 1, 5], [3, 4, 10]])
    pri, sec = suppression_pattern(c, secondary=False)
    assert pri[:2, :3].tolist() == [[False, True, False], [True, False, False]]
    assert not sec.any()
    pri, _ = suppression_pattern(c, secondary=False, mask_zeros=True)
    assert pri[0, 0]


def test_known_two_by_two_pattern():
    # one small cell in a 2x2 table with published margins: the whole table must go
    c = np.array([[2, 10], [20, 30]])
    pri, sec = suppression_pattern(c)
    assert pri[0, 0] and pri.sum() == 1
    assert sec[:2, :2].tolist() == [[False, True], [True, True]]


def test_greedy_picks_smallest_complement():
    c = np.array([[2, 50, 9], [40, 60, 8], [30, 70, 7]])
    pri, sec = suppression_pattern(c)
    # cheapest rectangle through (0, 0): columns 2, row 2 (9 + 30 + 7 = 46)
    assert sorted(map(tuple, np.argwhere(sec))) == [(0, 2), (2, 0), (2, 2)]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(2, 5), st.integers(2, 5)), elements=st.integers(0, 12)),
    st.sampled_from(["published", "in_table", "unpublished"]),
)
def test_masked_cells_cannot_be_recovered_from_margins(counts, totals):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DisclosureWarning)
            pri, sec = suppression_pattern(counts, row_totals=totals, col_totals=totals)
    except DisclosureError:
        # only possible when every complement is an empty cell
        assert (counts == 0).sum() > 0
        return
    ext = _extended(counts.astype(float))
    masked = pri | sec
    if totals == "unpublished":
        n, m = counts.shape
        masked = masked.copy()
        masked[:n, m] = True
        masked[n, :m] = True
        masked[n, m] = True
    edges = np.argwhere(masked)
    structural = _bridges(*ext.shape, edges)
    known = ~(unknown_margins(counts.shape) if totals == "unpublished" else np.zeros(ext.shape, bool))
    assert not (structural & known[edges[:, 0], edges[:, 1]]).any()
    if (masked & (ext == 0)).any():
        return  # empty complements (warned): only the structural property holds
    for cell in map(tuple, np.argwhere(pri)):
        lo, hi = _feasible_range(ext, masked, cell)
        assert hi - lo > 0.5, (counts, cell, lo, hi)
        assert lo - 1e-7 <= ext[cell] <= hi + 1e-7


def unknown_margins(shape):
    n, m = shape
    u = np.zeros((n + 1, m + 1), dtype=bool)
    u[:n, m] = True
    u[n, :] = True
    return u


def test_rule_of_two_is_not_enough_and_bridges_are_closed():
    # two 2x2 blocks joined by one cell: every line has two masked cells but the joint is recoverable
    c = np.full((4, 4), 50)
    c[0, 0] = c[0, 1] = c[1, 0] = c[1, 1] = 2
    c[2, 2] = c[2, 3] = c[3, 2] = c[3, 3] = 2
    pri, sec = suppression_pattern(c)
    assert not sec.any()  # two closed rectangles: nothing to add
    ext = _extended(c.astype(float))
    for cell in map(tuple, np.argwhere(pri)):
        lo, hi = _feasible_range(ext, pri | sec, cell)
        assert hi > lo


def test_suppress_tidy_one_way_gets_second_cell():
    t = pd.DataFrame(
        {
            "period": ["p1"] * 3 + ["p2"] * 3,
            "muni": list("ABC") * 2,
            "persons": [2, 10, 12, 20, 30, 40],
            "fte": [1.5, 8.0, 9.5, 15.0, 22.0, 31.0],
        }
    )
    s = suppress(t, rows="muni")
    assert isinstance(s, SuppressedTable)
    assert s.table["fte"].isna().tolist() == [True, True, False, False, False, False]
    assert s.table["persons"].isna().tolist() == [True, True, False, False, False, False]
    assert s.n_primary == 1 and s.n_secondary == 1
    assert "1 row based on 1 to 3 persons" in s.footnotes[-1]
    assert "plus 1 complementary row so" in s.footnotes[-1]
    # input untouched
    assert t["fte"].notna().all()


def test_suppress_tidy_two_way():
    t = pd.DataFrame(
        {
            "muni": list("AABBCC"),
            "benefit": ["x", "y"] * 3,
            "persons": [2, 10, 12, 20, 30, 40],
            "fte": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    s = suppress(t, rows="muni", columns="benefit")
    m = s.mask["fte"].to_numpy()
    assert m.tolist() == [True, True, True, True, False, False]


def test_suppress_wide_with_totals_in_table():
    counts = pd.DataFrame(
        [[2, 10, 12], [20, 30, 50], [22, 40, 62]], index=["a", "b", "Total"], columns=["x", "y", "Total"]
    )
    s = suppress(counts.astype(float), counts=counts, totals="in_table")
    assert s.mask.loc["a", "x"]
    assert s.mask.to_numpy().sum() >= 4


def test_suppress_off_is_explicit_and_noted():
    t = pd.DataFrame({"muni": ["A"], "persons": [1], "fte": [0.5]})
    with pytest.warns(DisclosureWarning):
        s = suppress(t, enabled=False)
    assert s.footnotes[-1] == OFF_FOOTNOTE
    assert s.table["fte"].iloc[0] == 0.5
    assert OFF_FOOTNOTE in s.to_html()


def test_exports(tmp_path):
    t = pd.DataFrame({"muni": ["A", "B", "C"], "persons": [2, 10, 12], "fte": [1.5, 8.0, 9.5]})
    s = suppress(t, rows="muni", title="FTE")
    p = tmp_path / "t.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.to_csv(p)
    back = pd.read_csv(p, comment="#", na_values=[".."])
    assert back["fte"].isna().tolist() == [True, True, False]
    assert "# Small-cell suppression" in p.read_text()
    h = s.to_html()
    assert ".." in h and "FTE" in h and "Small-cell suppression" in h
    assert ".." in str(s)
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="openpyxl"):
            s.to_excel(tmp_path / "t.xlsx")


def test_bad_options():
    t = pd.DataFrame({"muni": ["A"], "persons": [1], "fte": [0.5]})
    with pytest.raises(SpecificationError, match="'threshold' parameter of suppress"):
        suppress(t, threshold=-1)
    with pytest.raises(SpecificationError, match="'totals' parameter of suppress"):
        suppress(t, totals="nope")
    with pytest.raises(ValueError, match="count column 'n'"):
        suppress(t, count_col="n")
