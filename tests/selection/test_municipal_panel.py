"""indicator_panel: indicator tables -> unit x period panels, suppressed cells handled explicitly."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaltools import indicators as ind
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import isoweek_to_index
from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError
from evaltools.indicators import IndicatorTable
from evaltools.selection import StaggeredDiD, indicator_panel

PERIODS = ["2012-Q1", "2012-Q2", "2012-Q3", "2012-Q4"]


def _table(persons: dict[str, int] | None = None) -> IndicatorTable:
    """Municipality x quarter shares; ``persons`` overrides the count of some municipalities."""
    rows = []
    for i, m in enumerate(["A", "B", "C", "D", "E"]):
        for k, p in enumerate(PERIODS):
            n = (persons or {}).get(m, 40 + i)
            rows.append({"municipality": m, "period": p, "persons": n, "share": 0.1 * i + 0.01 * k})
    return IndicatorTable(
        pd.DataFrame(rows),
        keys=["municipality", "period"],
        count_col="persons",
        layout=(["municipality"], "period"),
        title="share",
        footnotes=(),
    )


def test_basic_panel_with_adoption():
    out = indicator_panel(
        _table(), value="share", adoption={"A": "2012-Q3", "B": "2012-Q2", "C": None, "D": "2013-Q2"}
    )
    assert list(out.columns) == ["municipality", "period", "share", "persons", "t", "first_treated"]
    assert len(out) == 20 and out.attrs["periods"] == PERIODS
    ft = out.groupby("municipality")["first_treated"].first().to_dict()
    assert ft == {"A": 3, "B": 2, "C": 0, "D": 0, "E": 0}  # D adopts after the panel, E never
    assert out.loc[out["period"] == "2012-Q4", "t"].eq(4).all()


def test_masked_cells_are_an_error_by_default():
    tab = _table({"B": 2})  # B has 2 persons in every quarter: primary suppression
    with pytest.raises(DataValidationError, match=r"cells of 'share' are suppressed.*unknown, not zero"):
        indicator_panel(tab, value="share")


def test_masked_cells_dropped_with_count_never_zero():
    tab = _table({"B": 2})
    with pytest.warns(DroppedRowsWarning, match=r"dropped \d+ units \(\d+ rows\) with \d+ suppressed"):
        out = indicator_panel(tab, value="share", masked="drop")
    assert "B" not in set(out["municipality"]) and "B" in out.attrs["dropped_units"]
    assert out["share"].notna().all() and not (out["share"] == 0).any()
    exported = tab.to_frame()  # every dropped unit had a masked cell in the export
    masked_units = set(exported.loc[exported["share"].isna(), "municipality"])
    assert set(out.attrs["dropped_units"]) == masked_units


def test_exact_numbers_inside_secure_environment():
    tab = _table({"B": 2})
    out = indicator_panel(tab, value="share", suppress=False)
    assert len(out) == 20
    np.testing.assert_allclose(out.loc[out["municipality"] == "B", "share"], [0.1, 0.11, 0.12, 0.13])


def test_suppressed_table_and_dataframe_inputs():
    tab = _table({"C": 3})
    st = tab.suppressed()
    with pytest.raises(DataValidationError, match="suppressed"):
        indicator_panel(st, value="share")
    df = tab.data.copy()
    df.loc[0, "share"] = np.nan  # a missing value counts as masked, not as zero
    with pytest.raises(DataValidationError, match="municipality=A period=2012-Q1"):
        indicator_panel(df, value="share")


def test_bad_inputs():
    with pytest.raises(SpecificationError, match="'masked' parameter"):
        indicator_panel(_table(), value="share", masked="zero")
    with pytest.raises(DataValidationError, match="not found"):
        indicator_panel(_table(), value="rate")
    with pytest.raises(SpecificationError, match="IndicatorTable"):
        indicator_panel([1, 2], value="share")
    two = pd.concat([_table().data.assign(sex="m"), _table().data.assign(sex="f")])
    with pytest.raises(DataValidationError, match=r"occur once.*'sex'"):
        indicator_panel(two, value="share")
    with pytest.raises(DataValidationError, match="adoption period '2012-Q2x'"):
        indicator_panel(_table(), value="share", adoption={"A": "2012-Q2x"})


def test_table_not_modified():
    tab = _table()
    before = tab.data
    indicator_panel(tab, value="share", adoption={"A": "2012-Q2"})
    pd.testing.assert_frame_equal(tab.data, before)


# ----------------------------------------------------------------------------- from a register panel
def _register_panel(seed: int = 0) -> RegisterPanel:
    """Eight municipalities, 60 persons each, weekly states over 2012-2013."""
    rng = np.random.default_rng(seed)
    w0 = int(isoweek_to_index(2012, 1))
    persons, rows = [], []
    pid = 0
    for m in "ABCDEFGH":
        for _ in range(60):
            pid += 1
            persons.append(
                {
                    "person_id": pid,
                    "obs_start": w0,
                    "obs_end": w0 + 103,
                    "birth_year": 1980,
                    "municipality": m,
                }
            )
            on = rng.random(104) < 0.3 + 0.05 * ("ABCDEFGH".index(m) % 3)
            rows.extend((pid, w0 + k, "111") for k in np.flatnonzero(on))
    states = pd.DataFrame(rows, columns=["person_id", "week", "state"])
    return RegisterPanel(states=states, persons=pd.DataFrame(persons))


def test_fte_table_feeds_staggered_did():
    tab = ind.fte(_register_panel(), by=("municipality",), period="quarter")
    adoption = {"A": "2012-Q3", "B": "2012-Q3", "C": "2013-Q1", "D": "2013-Q1"}
    panel = indicator_panel(tab, value="fte", adoption=adoption)
    assert panel["municipality"].nunique() == 8 and panel["t"].max() == 8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small cohorts of 2 municipalities
        res = StaggeredDiD(
            panel,
            outcome="fte",
            unit="municipality",
            time="t",
            group="first_treated",
            control_group="not_yet_treated",
        ).fit(n_boot=0)
    assert set(res.attgt["group"]) == {3.0, 5.0}
    assert np.isfinite(res.aggregate("dynamic").overall_att)
