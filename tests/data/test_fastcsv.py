"""The CSV fast path: quoted cells, block-by-block hand-over to pyarrow, reading into a buffer."""

from __future__ import annotations

import csv
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reader_helpers import assert_same_panel as _same
from reader_helpers import read_quietly as _read

from evaltools.data import _fastcsv, dream_column, isoweek_to_index, iter_dream
from evaltools.data._sources import CodeLookup, CsvSource
from evaltools.exceptions import FileFormatError, InputWarning

CODES = ["", "", "111", "701", "890", "997", "651"]


def _frame(n: int, k: int, *, seed: int, calendar: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lo = int(isoweek_to_index(2014, 50))
    cells = np.array(CODES, dtype=object)[rng.integers(0, len(CODES), size=(n, k))]
    frame = pd.DataFrame(cells, columns=dream_column(np.arange(lo, lo + k)))
    frame.insert(0, "name", [f"n{i}" for i in range(n)])
    frame.insert(0, "PNR", rng.permutation(np.arange(100, 100 + 3 * n))[:n])
    if calendar:
        frame["branche_2015_01"] = rng.choice(["", "4711", "8610"], size=n)
        frame["ak15"] = rng.choice(["", "1"], size=n)
    return frame


def _spy(monkeypatch) -> list[bool]:
    """Record, per block, whether the fast path read it (``block_cells`` gave cells)."""
    fast: list[bool] = []
    real = _fastcsv.block_cells

    def spy(*a, **k):
        out = real(*a, **k)
        fast.append(out is not None)
        return out

    monkeypatch.setattr(_fastcsv, "block_cells", spy)
    return fast


def _arrow_read(path: Path, monkeypatch, **kw: object):
    """The file read by pyarrow's streaming reader only (no block on the fast path, none alone)."""
    with monkeypatch.context() as m:
        m.setattr(_fastcsv, "block_cells", lambda *a, **k: None)
        m.setattr(CsvSource, "_block_alone", lambda *a, **k: None)
        return _read(path, **kw)


def _quote_cells(path: Path, rows: set[int] | None = None, cols: set[int] | None = None) -> None:
    """Put the fields of the data lines ``rows`` (all by default), columns ``cols``, in quotes."""
    lines = path.read_bytes().split(b"\n")
    for i in range(1, len(lines)):
        if not lines[i] or (rows is not None and i - 1 not in rows):
            continue
        cells = lines[i].split(b",")
        lines[i] = b",".join(b'"' + c + b'"' if cols is None or j in cols else c for j, c in enumerate(cells))
    path.write_bytes(b"\n".join(lines))


# -- quoted cells on the fast path -------------------------------------------------------
@pytest.mark.parametrize("calendar", [False, True])
def test_fully_quoted_file_equals_the_unquoted_one(tmp_path, monkeypatch, calendar):
    frame = _frame(23, 7, seed=1, calendar=calendar)
    frame.to_csv(tmp_path / "plain.csv", index=False)
    frame.to_csv(tmp_path / "quoted.csv", index=False, quoting=csv.QUOTE_ALL)
    assert b'"111"' in (tmp_path / "quoted.csv").read_bytes()
    assert b',"",' in (tmp_path / "quoted.csv").read_bytes()  # quoted blank cells
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (1, 4, 9, 100):
        fast.clear()
        got = _read(tmp_path / "quoted.csv", batch_rows=batch)
        _same(got, want)
        _same(got, _read(tmp_path / "plain.csv", batch_rows=batch))
        assert fast and all(fast)  # every block on the fast path
    _same(_arrow_read(tmp_path / "quoted.csv", monkeypatch, batch_rows=4), want)


def test_r_style_quoted_codes_with_unquoted_na(tmp_path, monkeypatch):
    """R's ``write.csv(row.names = FALSE)`` quotes text and writes a missing value as an unquoted NA."""
    frame = _frame(15, 6, seed=2)
    weekly = [c for c in frame.columns if c.startswith("y_")]
    lines = ['"PNR","name",' + ",".join(f'"{c}"' for c in weekly)]
    for _, row in frame.iterrows():
        cells = ["NA" if v == "" else f'"{v}"' for v in row[weekly]]
        lines.append(f'{row["PNR"]},"{row["name"]}",' + ",".join(cells))
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (2, 7, 100):
        got = _read(tmp_path / "r.csv", batch_rows=batch)
        _same(got, want)
    assert fast and all(fast)


@pytest.mark.parametrize(
    ("cell", "as_"),
    [
        (b'""', ""),  # a quoted blank is blank, as pyarrow's cells read by the code lookup
        (b'" 111"', "111"),  # spaces are stripped by the code lookup
        (b'"NA"', ""),  # a quoted null spelling is blank, as on the pyarrow path
        (b'"701"', "701"),
    ],
)
def test_quoted_cells_read_as_pyarrow_reads_them(tmp_path, monkeypatch, cell, as_):
    frame = _frame(12, 6, seed=3)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    lines = path.read_bytes().split(b"\n")
    cells = lines[9].split(b",")
    cells[4] = cell
    lines[9] = b",".join(cells)
    path.write_bytes(b"\n".join(lines))
    want = frame.copy()
    want.iloc[8, 4] = as_
    fast = _spy(monkeypatch)
    for batch in (1, 4, 100):
        _same(_read(path, batch_rows=batch), _read(want))
    assert fast and all(fast)
    _same(_arrow_read(path, monkeypatch, batch_rows=4), _read(want))


def test_quoted_cells_in_some_rows_only(tmp_path, monkeypatch):
    frame = _frame(30, 6, seed=4)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    _quote_cells(path, rows={0, 5, 6, 17, 29}, cols={1, 3, 4, 7})
    fast = _spy(monkeypatch)
    for batch in (1, 5, 8, 100):
        _same(_read(path, batch_rows=batch), _read(frame))
    assert fast and all(fast)


# -- blocks handed to pyarrow, one at a time ---------------------------------------------
def test_quoted_field_with_a_comma_hands_over_its_block_only(tmp_path, monkeypatch):
    frame = _frame(40, 6, seed=5, calendar=True)
    frame.loc[9, "name"] = "Hansen, Jens"
    frame.to_csv(tmp_path / "d.csv", index=False)
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (1, 4, 7, 100):
        fast.clear()
        _same(_read(tmp_path / "d.csv", batch_rows=batch), want)
        assert fast.count(False) == 1  # the block of row 10 only
        assert fast.index(False) == 9 // batch
        assert len(fast) == -(-40 // batch)  # and the fast path again after it


def test_escaped_quote_in_a_front_column(tmp_path, monkeypatch):
    frame = _frame(20, 5, seed=6)
    frame.loc[3, "name"] = 'J "Jens" Hansen'
    frame.loc[14, "name"] = '""'
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert b'"J ""Jens"" Hansen"' in (tmp_path / "d.csv").read_bytes()
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (3, 6, 100):
        fast.clear()
        got = _read(tmp_path / "d.csv", batch_rows=batch)
        _same(got, want)
        assert got.persons.set_index("person_id").loc[frame.loc[3, "PNR"], "name"] == 'J "Jens" Hansen'
        assert fast.count(False) == len({3 // batch, 14 // batch})


def test_unknown_code_in_a_block_read_alone_names_its_line(tmp_path):
    from evaltools.exceptions import DataValidationError

    frame = _frame(20, 5, seed=7)
    frame.loc[13, "name"] = "a,b"  # the block of rows 13..15 is read by pyarrow alone
    frame.iloc[14, 3] = "12345"
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataValidationError, match=r"'12345'.*line 16"):
        _read(tmp_path / "d.csv", batch_rows=3)


def test_quoted_line_break_in_a_later_block_is_the_named_error(tmp_path):
    frame = _frame(20, 5, seed=8)
    frame.iloc[13, 4] = "11\n1"
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(FileFormatError):
        _read(tmp_path / "d.csv", batch_rows=3)


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
def test_crlf_line_ends(tmp_path, monkeypatch, quoting):
    frame = _frame(17, 5, seed=9)
    frame.loc[2, "name"] = "x,y"
    frame.to_csv(tmp_path / "d.csv", index=False, lineterminator="\r\n", quoting=quoting)
    for batch in (2, 5, 100):
        _same(_read(tmp_path / "d.csv", batch_rows=batch), _read(frame))
    _same(_arrow_read(tmp_path / "d.csv", monkeypatch, batch_rows=5), _read(frame))


def test_file_cut_short_while_it_is_read_is_the_named_error(tmp_path):
    frame = _frame(3000, 200, seed=10)  # several MB: later blocks are not read yet
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        batches = iter_dream(path, batch_rows=500)
        next(batches)
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size // 3)
        with pytest.raises(FileFormatError, match="became shorter while it was read"):
            list(batches)


# -- block_cells on its own --------------------------------------------------------------
def _cells(block: bytes, ncols: int = 3) -> _fastcsv.Cells | None:
    table = _fastcsv.KeyTable(CodeLookup(["", "111", "701"], "read_dream", frozenset(["NA"])))
    return _fastcsv.block_cells(block, ncols, np.array([1, 2]), table)


@pytest.mark.parametrize(
    "block",
    [
        b'1,"1"1,701\n',  # text after the closing quote
        b'1,1"1",701\n',  # a quote inside an unquoted field
        b'1,"1""1",701\n',  # a doubled quote
        b'1,"111,701\n',  # a quote left open
        b'1,"1,1",701\n',  # a comma inside the quotes
        b'1,"111\n",701\n',  # a line end inside the quotes
        b'1,"""",701\n',  # an escaped quote alone
        b'"1,111,701\n2,111",701\n',  # a pair across lines
    ],
)
def test_other_quotes_are_not_simple(block):
    assert _cells(block) is None


def test_quotes_around_whole_fields_are_read_without_them():
    out = _cells(b'"1","111",""\n2,"",701\n"3","701","111"\n"","",""\n')
    assert out is not None
    assert out.counts.tolist() == [1, 1, 2, 0]
    assert out.col.tolist() == [0, 1, 0, 1]
    assert out.code.tolist() == [1, 2, 2, 1]


# -- property: quoted and unquoted cells mixed -------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    share=st.floats(0, 1),
    batch=st.integers(1, 14),
    spaces=st.booleans(),
)
def test_mixed_quoted_cells_equal_the_frame_and_pyarrow(n, k, seed, share, batch, spaces):
    rng = np.random.default_rng(seed)
    frame = _frame(n, k, seed=seed)
    weekly = [c for c in frame.columns if c.startswith("y_")]
    raw = frame.copy()
    if spaces:  # a few cells with spaces or a null spelling, quoted or not
        for j, c in enumerate(weekly):
            i = int(rng.integers(n))
            raw.loc[i, c] = [" 111", "701 ", "NA"][j % 3]
            frame.loc[i, c] = ["111", "701", ""][j % 3]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        lines = [",".join(raw.columns)]
        for row in raw.astype(str).itertuples(index=False):
            lines.append(",".join(f'"{v}"' if rng.random() < share else v for v in row))
        path.write_text("\n".join(lines) + "\n")
        got = _read(path, batch_rows=batch)
        _same(got, _read(frame))
        mp = pytest.MonkeyPatch()
        try:
            _same(got, _arrow_read(path, mp, batch_rows=batch))
        finally:
            mp.undo()


# -- CRLF line ends on the fast path -----------------------------------------------------
def _crlf(path: Path) -> Path:
    """A copy of ``path`` with every line end written as ``\\r\\n``."""
    out = path.with_name("crlf_" + path.name)
    out.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    return out


@pytest.mark.parametrize("calendar", [False, True])
def test_crlf_file_equals_the_lf_file_on_the_fast_path(tmp_path, monkeypatch, calendar):
    frame = _frame(23, 7, seed=11, calendar=calendar)
    lf = tmp_path / "d.csv"
    frame.to_csv(lf, index=False)
    crlf = _crlf(lf)
    assert crlf.read_bytes().count(b"\r\n") == 24
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (1, 4, 9, 100):
        fast.clear()
        got = _read(crlf, batch_rows=batch)
        _same(got, want)
        _same(got, _read(lf, batch_rows=batch))
        assert fast and all(fast)  # every block on the fast path
    _same(_arrow_read(crlf, monkeypatch, batch_rows=4), want)


def test_crlf_last_column_front_and_monthly_read_without_the_carriage_return(tmp_path, monkeypatch):
    rng = np.random.default_rng(12)
    frame = _frame(19, 6, seed=12, calendar=True)
    frame["grad_2015_01"] = rng.choice(["", "20", "35"], size=len(frame))  # the last column of each line
    for last in ("grad_2015_01", "name"):
        cols = [c for c in frame.columns if c != last] + [last]
        lf = tmp_path / f"{last}.csv"
        frame[cols].to_csv(lf, index=False)
        path = _crlf(lf)
        want = _read(lf)
        _same(want, _arrow_read(path, monkeypatch))
        fast = _spy(monkeypatch)
        for batch in (1, 5, 100):
            fast.clear()
            got = _read(path, batch_rows=batch)
            _same(got, want)
            assert fast and all(fast)
            for part in [got.persons, *got.events.values()]:
                for c in part.columns:
                    assert not part[c].astype(str).str.contains("\r").any(), c
        monkeypatch.undo()
    names = frame.set_index("PNR").loc[got.persons["person_id"], "name"]
    assert (got.persons["name"].to_numpy() == names.to_numpy()).all()


def test_crlf_quoted_cells_on_the_fast_path(tmp_path, monkeypatch):
    frame = _frame(21, 6, seed=13, calendar=True)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    assert b'""\r\n' in path.read_bytes() or b'"\r\n' in path.read_bytes()  # quoted last fields
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (1, 4, 100):
        fast.clear()
        _same(_read(path, batch_rows=batch), want)
        assert fast and all(fast)
    _same(_arrow_read(path, monkeypatch, batch_rows=4), want)


def test_mixed_line_ends_hand_over_their_block_only(tmp_path, monkeypatch):
    frame = _frame(30, 6, seed=14, calendar=True)
    lf = tmp_path / "d.csv"
    frame.to_csv(lf, index=False)
    lines = _crlf(lf).read_bytes().split(b"\r\n")
    lines[11] += b"\n" + lines.pop(12)  # data line 11 ends in \n alone
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\r\n".join(lines))
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (1, 4, 7, 100):
        fast.clear()
        _same(_read(path, batch_rows=batch), want)
        # the block of data line 11 only (a block of that line alone is all LF: the fast path)
        assert fast.count(False) == (batch > 1)
        assert batch == 1 or fast.index(False) == 10 // batch
    _same(_arrow_read(path, monkeypatch, batch_rows=4), want)


def test_crlf_file_without_a_last_line_end(tmp_path, monkeypatch):
    frame = _frame(17, 5, seed=15)
    lf = tmp_path / "d.csv"
    frame.to_csv(lf, index=False)
    path = _crlf(lf)
    path.write_bytes(path.read_bytes().removesuffix(b"\r\n"))
    want = _read(frame)
    fast = _spy(monkeypatch)
    for batch in (1, 4, 100):
        fast.clear()
        _same(_read(path, batch_rows=batch), want)
        assert len(fast) == -(-17 // batch)
        assert all(fast)  # the last line gets \r\n: its block on the fast path too


@pytest.mark.parametrize(
    "block",
    [
        b"1,111,701\r\n2,701\r,111\r\n",  # a carriage return inside a field
        b"1,111,701\r\n2,701,111\n",  # a line ending in \n alone
        b"1,111,701\n2,701,111\r\n",
        b"1,111,701\r\r\n",  # two carriage returns
        b"1,111\r,701\n",  # a carriage return before a comma
    ],
)
def test_other_carriage_returns_are_not_simple(block):
    assert _cells(block) is None


def test_crlf_block_is_read_as_the_lf_block():
    block = b'1,111,701\n2,,\n"3","701","111"\n4,701,\n"","",""\n'
    want = _cells(block)
    got = _cells(block.replace(b"\n", b"\r\n"))
    assert want is not None and got is not None
    assert got.counts.tolist() == want.counts.tolist() == [2, 0, 2, 1, 0]
    assert got.col.tolist() == want.col.tolist()
    assert got.code.tolist() == want.code.tolist() == [1, 2, 2, 1, 2]
