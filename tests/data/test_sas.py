"""SAS7BDAT source of the streaming DREAM reader: the coded batches against the CSV reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reader_helpers import assert_same_panel as _same
from reader_helpers import read_quietly as _read

from evaltools.data._fastcsv import Cells, KeyTable
from evaltools.data._sources import CodeLookup, SasSource, _sas_blanks, _sas_cells, _sas_series
from evaltools.exceptions import DataValidationError

pytest.importorskip("pyreadstat")

SAS_DIR = Path(__file__).resolve().parents[1] / "reference" / "data" / "dream_sas7bdat"
SAS = SAS_DIR / "dream.sas7bdat"
CODES = ["111", "651", "701", "731", "890", "997"]


@pytest.mark.parametrize("batch_rows", [1, 3, 7, 39, 40, 41, 1000])
def test_sas_equals_csv_for_batch_sizes(batch_rows):
    base = _read(SAS_DIR / "dream.csv")
    _same(_read(SAS, batch_rows=batch_rows), base)


def test_coded_batches_give_cells_in_row_order():
    src = SasSource(SAS, "t")
    weekly = [c for c in src.columns if c.startswith("y_")]
    lookup = CodeLookup(CODES, "t")
    out = list(src.coded_batches(weekly, ["ak15"], 16, "t", lookup))
    assert [r0 for r0, _, _ in out] == [0, 16, 32]
    assert all(isinstance(cells, Cells) for _, cells, _ in out)
    assert sum(len(cells) for _, cells, _ in out) == 40
    frame, _ = src.pyreadstat.read_sas7bdat(str(SAS), usecols=[*weekly, "ak15"])
    codes = np.concatenate([cells.code for _, cells, _ in out])
    want = frame[weekly].to_numpy(dtype=object).reshape(-1)
    want = want[want != ""]
    assert [CODES[i] for i in codes] == list(want)
    ak = pd.concat([part["ak15"] for _, _, part in out], ignore_index=True)
    assert ak.dtype == object and list(ak) == list(frame["ak15"])


def test_unknown_code_falls_back_and_names_the_column(monkeypatch):
    src_read = SasSource._read

    def read(self, where, **kw):
        data, meta = src_read(self, where, **kw)
        if "row_offset" in kw and kw["row_offset"] == 0 and "y_1502" in data:
            col = data["y_1502"]
            if isinstance(col, list):
                col[2] = "123"
            else:
                col.iloc[2] = "123"
        return data, meta

    monkeypatch.setattr(SasSource, "_read", read)
    with pytest.raises(DataValidationError, match=r"y_1502.*'123'.*PNR=1003"):
        _read(SAS, batch_rows=10)


def test_missing_text_value_reads_as_blank(monkeypatch):
    """A missing text cell (no ``""``) leaves the fast path and reads as a blank week."""
    src_read = SasSource._read

    def read(self, where, **kw):
        data, meta = src_read(self, where, **kw)
        if "row_offset" in kw and "y_1440" in data:
            col = data["y_1440"]
            if isinstance(col, list):
                col[0] = None
            else:
                col.iloc[0] = np.nan
        return data, meta

    base = _read(SAS_DIR / "dream.csv")
    monkeypatch.setattr(SasSource, "_read", read)
    got = _read(SAS, batch_rows=1000)
    first = base.states["person_id"] == base.states["person_id"].iloc[0]
    week0 = base.states["week"] == base.states.loc[first, "week"].min()
    want = base.states[~(first & week0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.states.reset_index(drop=True), want)


def test_sas_cells_leave_the_simple_case():
    lookup = CodeLookup(CODES, "t")
    table = KeyTable(lookup)
    ok = _sas_cells([["111", ""], ["", "890"]], table)
    assert ok is not None and list(ok.counts) == [1, 1] and [CODES[i] for i in ok.code] == ["111", "890"]
    assert list(ok.col) == [0, 1]
    for bad in (None, "1,1", "1\n1", '"1"', "12345678", "999"):
        assert _sas_cells([["111", bad], ["", "890"]], KeyTable(CodeLookup(CODES, "t"))) is None


def test_batch_columns_are_typed_as_the_frame_output():
    num = _sas_series([1.0, None, 2.5], "x", "double")
    assert num.dtype == np.float64 and np.isnan(num.iloc[1])
    text = _sas_series(["12", None, ""], "x", "string")
    assert text.dtype == object and list(text.iloc[[0, 2]]) == ["12", ""] and text.isna().iloc[1]
    tagged = _sas_series([1.0, "A"], "x", "double")
    assert tagged.dtype == object and list(tagged) == [1.0, "A"]


def test_front_numbers_are_int64_when_whole():
    frame = pd.DataFrame(
        {"a": [1.0, 2.0], "b": [1.0, np.nan], "c": [1.5, 2.0], "d": ["", "x"], "e": [1e300, 1.0]}
    )
    out = _sas_blanks(frame)
    assert out["a"].dtype == np.int64 and list(out["a"]) == [1, 2]
    assert out["b"].dtype == np.float64 and out["c"].dtype == np.float64 and out["e"].dtype == np.float64
    assert out["d"].isna().iloc[0] and out["d"].iloc[1] == "x"
    assert frame["a"].dtype == np.float64  # the input is not modified
