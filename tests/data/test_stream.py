"""Streaming DREAM reader: batch-size invariance, formats, push-downs and bad batches."""

from __future__ import annotations

import gzip
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

from evaltools.data import dream_column, isoweek_to_index, iter_dream, read_dream
from evaltools.exceptions import (
    DataValidationError,
    FileFormatError,
    InputWarning,
    PersonIdError,
    SpecificationError,
)

SAS_DIR = Path(__file__).resolve().parents[1] / "reference" / "data" / "dream_sas7bdat"
CODES = ["", "", "111", "701", "890", "997", "651"]


def _frame(n: int, k: int, *, seed: int, text: bool = False, calendar: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lo = int(isoweek_to_index(2014, 50))
    cells = np.array(CODES, dtype=object)[rng.integers(0, len(CODES), size=(n, k))]
    frame = pd.DataFrame(cells, columns=dream_column(np.arange(lo, lo + k)))
    ids = rng.permutation(np.arange(100, 100 + 3 * n))[:n]
    frame.insert(0, "sex", rng.choice(["F", "M"], size=n))
    frame.insert(0, "PNR", [f"0{i}" for i in ids] if text else ids)
    if calendar:
        frame["branche_2015_01"] = rng.choice(["", "4711", "8610"], size=n)
        frame["grad_2015_01"] = rng.choice([np.nan, 0.5, 1.0], size=n)
        frame["ak15"] = rng.choice(["", "1"], size=n)
    return frame


def _batches(path: object, **kw: object) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return list(iter_dream(path, **kw))


def _concat(panels: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    states = pd.concat([p.states for p in panels], ignore_index=True)
    states = states.sort_values(["person_id", "week"], kind="stable", ignore_index=True)
    persons = pd.concat([p.persons for p in panels], ignore_index=True)
    return states, persons.sort_values("person_id", kind="stable", ignore_index=True)


# -- batch-size invariance ---------------------------------------------------------------
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 14),
    k=st.integers(1, 9),
    seed=st.integers(0, 10_000),
    text=st.booleans(),
    calendar=st.booleans(),
    batch=st.integers(1, 16),
)
def test_any_batch_size_gives_the_same_panel(n, k, seed, text, calendar, batch):
    frame = _frame(n, k, seed=seed, text=text, calendar=calendar)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dream.csv"
        frame.to_csv(path, index=False)
        whole = _read(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InputWarning)
            part = read_dream(path, batch_rows=batch)
        _same(whole, part)
        assert part.meta == whole.meta
        assert [str(w.message) for w in caught] == [d["message"] for d in whole.meta["input_notes"]]
        panels = _batches(path, batch_rows=batch)
    assert [len(p.persons) for p in panels] == [min(batch, n - i) for i in range(0, n, batch)]
    states, persons = _concat(panels)
    pd.testing.assert_frame_equal(persons, whole.persons)
    pd.testing.assert_frame_equal(states, whole.states)
    for key in whole.events:
        ev = pd.concat([p.events[key] for p in panels], ignore_index=True)
        ev = ev.sort_values(["person_id", "week"], kind="stable", ignore_index=True)
        pd.testing.assert_frame_equal(ev, whole.events[key])


def test_dataframe_batches_equal_the_file(tmp_path):
    frame = _frame(9, 6, seed=3, text=True, calendar=True)
    frame.to_csv(tmp_path / "d.csv", index=False)
    from_file = _read(tmp_path / "d.csv")
    frame_csv = pd.read_csv(tmp_path / "d.csv", dtype={"PNR": str}, keep_default_na=False, na_values=[""])
    for col in [c for c in frame_csv.columns if c.startswith(("y_", "branche", "ak"))]:
        frame_csv[col] = frame_csv[col].astype(object).where(frame_csv[col].notna(), None)
        frame_csv[col] = frame_csv[col].map(lambda v: v if v is None else str(v).removesuffix(".0"))
    _same(_read(frame_csv, batch_rows=2), from_file)


# -- formats -----------------------------------------------------------------------------
def test_csv_gzip_parquet_and_sas_give_the_same_panel(tmp_path):
    csv = SAS_DIR / "dream.csv"
    base = _read(csv)
    gz = tmp_path / "dream.csv.gz"
    gz.write_bytes(gzip.compress(csv.read_bytes()))
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    frame["PNR"] = frame["PNR"].astype(np.int64)
    pq = tmp_path / "dream.parquet"
    frame.to_parquet(pq, index=False)
    for other in (gz, pq, SAS_DIR / "dream.sas7bdat"):
        for batch in (7, 1000):
            _same(_read(other, batch_rows=batch), base)
    sas = _read(SAS_DIR / "dream.sas7bdat")
    assert sas.meta["source"].endswith("dream.sas7bdat")
    assert {"dream_monthly", "dream_yearly"} <= set(sas.events)
    assert len(base.states) > 1000


# -- push-downs --------------------------------------------------------------------------
def test_persons_filter_equals_subset(tmp_path):
    frame = _frame(30, 8, seed=5, text=True, calendar=True)
    frame.to_csv(tmp_path / "d.csv", index=False)
    full = _read(tmp_path / "d.csv", absorbing="keep")
    chosen = list(frame["PNR"].iloc[[3, 17, 4, 29]])
    part = _read(tmp_path / "d.csv", absorbing="keep", persons_filter=chosen, batch_rows=5)
    pids = full.persons.loc[full.persons["PNR"].isin(chosen), "person_id"]
    expect = full.subset(pids.to_numpy())
    _same(part, expect)
    assert part.meta["persons_filter"] == {"kept": 4, "of": 30, "not_in_file": 0}
    table = pd.DataFrame({"PNR": chosen})
    _same(_read(tmp_path / "d.csv", absorbing="keep", persons_filter=table), expect)


def test_persons_filter_with_a_person_table(tmp_path):
    # text ids, a person table joined by id and a filter (or a week window) together
    wide = pd.DataFrame({"PNR": ["0101", "0202", "0303"], "y_1501": ["111", "", "111"],
                         "y_1502": ["997", "701", "111"]})
    pers = pd.DataFrame({"PNR": ["0101", "0202", "0303"], "sex": ["F", "M", "F"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        full = read_dream(wide, persons=pers)
        part = read_dream(wide, persons=pers, persons_filter=["0101", "0303"])
        window = read_dream(wide, persons=pers, weeks=("2015-W02", "2015-W02"))
    assert part.persons["PNR"].tolist() == ["0101", "0303"]
    assert part.persons["sex"].tolist() == ["F", "F"]
    expect = full.subset(full.persons.loc[full.persons["PNR"] != "0202", "person_id"].to_numpy())
    _same(part, expect)
    assert window.persons.set_index("PNR")["sex"].to_dict() == {"0101": "F", "0202": "M", "0303": "F"}


def test_persons_filter_counts_ids_not_in_the_file(tmp_path):
    frame = _frame(6, 4, seed=1)
    frame.to_csv(tmp_path / "d.csv", index=False)
    ids = [int(frame["PNR"].iloc[0]), 999_999]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        panel = read_dream(tmp_path / "d.csv", persons_filter=ids)
    assert any("1 of 2 id(s) of the filter are not in the file" in str(w.message) for w in caught)
    assert panel.persons["person_id"].tolist() == [ids[0]]
    with pytest.raises(PersonIdError, match="verbatim"):
        read_dream(tmp_path / "d.csv", persons_filter=["0101"])


def test_week_window_equals_slicing_the_panel(tmp_path):
    frame = _frame(25, 12, seed=9, calendar=True)
    frame.to_csv(tmp_path / "d.csv", index=False)
    full = _read(tmp_path / "d.csv", absorbing="keep")
    lo, hi = int(isoweek_to_index(2015, 1)), int(isoweek_to_index(2015, 4))
    part = _read(tmp_path / "d.csv", absorbing="keep", weeks=("2015-W01", "2015-W04"), batch_rows=4)
    st_ = full.states
    expect = st_[(st_["week"] >= lo) & (st_["week"] <= hi)].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.states, expect)
    pers = full.persons.assign(obs_start=np.int32(lo), obs_end=np.int32(hi))
    pd.testing.assert_frame_equal(part.persons, pers)
    assert part.meta["n_week_columns"] == 4 and part.meta["weeks"] == [lo, hi]
    pd.testing.assert_frame_equal(part.events["dream_monthly"], full.events["dream_monthly"])
    same = _read(tmp_path / "d.csv", absorbing="keep", weeks=(lo, hi))
    _same(same, part)


def test_week_window_reads_only_its_columns(tmp_path, monkeypatch):
    from evaltools.data import _sources

    frame = _frame(5, 10, seed=2)
    frame.to_csv(tmp_path / "d.csv", index=False)
    asked: list[list[str]] = []
    real = _sources.CsvSource.coded_batches

    def spy(self, weekly, other, batch_rows, where, lookup):
        asked.append([*weekly, *other])
        return real(self, weekly, other, batch_rows, where, lookup)

    monkeypatch.setattr(_sources.CsvSource, "coded_batches", spy)
    _read(tmp_path / "d.csv", weeks=("2015-W01", "2015-W02"))
    assert asked == [["y_1501", "y_1502"]]


def test_code_filter_keeps_only_those_codes(tmp_path):
    frame = _frame(20, 8, seed=4)
    frame.to_csv(tmp_path / "d.csv", index=False)
    full = _read(tmp_path / "d.csv")
    part = _read(tmp_path / "d.csv", code_filter=["111", "701"], batch_rows=3)
    st_ = full.states
    pd.testing.assert_frame_equal(part.states, st_[st_["state"].isin(["111", "701"])].reset_index(drop=True))
    pd.testing.assert_frame_equal(part.persons, full.persons)  # absorbing rule used every code
    with pytest.raises(SpecificationError, match="not in the code table"):
        read_dream(tmp_path / "d.csv", code_filter=["12345"])


def test_bad_push_down_parameters(tmp_path):
    _frame(3, 3, seed=1).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(SpecificationError, match="ISO week"):
        read_dream(tmp_path / "d.csv", weeks=("2015-W60", "2016-W01"))
    with pytest.raises(SpecificationError, match="does not overlap"):
        read_dream(tmp_path / "d.csv", weeks=("2001-W01", "2001-W10"))
    with pytest.raises(SpecificationError, match="batch_rows"):
        read_dream(tmp_path / "d.csv", batch_rows=0)


# -- bad batches -------------------------------------------------------------------------
def _lines(n: int = 10) -> list[str]:
    lines = ["PNR,sex,y_1501,y_1502,y_1503"]
    lines += [f"{100 + i},F,111,,701" for i in range(n)]
    return lines


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_unknown_code_in_a_later_batch_names_line_and_id(tmp_path):
    lines = _lines()
    lines[8] = "107,M,111,12345,701"
    path = _write(tmp_path, lines)
    it = iter_dream(path, batch_rows=3)
    first = next(it)
    assert len(first.persons) == 3
    with pytest.raises(DataValidationError, match=r"'y_1502'.*\['12345'\].*PNR=107 in line 9"):
        list(it)
    with pytest.raises(DataValidationError, match=r"PNR=107 in line 9"):
        read_dream(path, batch_rows=3)


def test_duplicate_id_in_a_later_batch_names_both_lines(tmp_path):
    lines = _lines()
    lines[9] = "101,M,111,,701"
    path = _write(tmp_path, lines)
    with pytest.raises(PersonIdError, match=r"duplicated id \(e\.g\. \[101\]\) in line 3, line 10"):
        iter_dream(path, batch_rows=3)


def test_ragged_row_in_a_later_batch_names_line_and_id(tmp_path):
    lines = _lines()
    lines[7] = "106,M,111,701"
    path = _write(tmp_path, lines)
    with pytest.raises(FileFormatError, match=r"line 8 has 4 field\(s\), the header has 5 \(PNR='106'\)"):
        iter_dream(path, batch_rows=2)


def test_truncated_file_is_an_error(tmp_path):
    path = _write(tmp_path, _lines())
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 6])
    with pytest.raises(FileFormatError, match=r"line 11 has"):
        read_dream(path, batch_rows=4)
    gz = tmp_path / "bad.csv.gz"
    gz.write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(FileFormatError):
        read_dream(gz, batch_rows=4)


def test_absorbing_rule_applies_in_every_batch(tmp_path):
    lines = _lines(6)
    lines[5] = "104,F,997,,"
    path = _write(tmp_path, lines)
    with pytest.warns(InputWarning, match="absorbing"):
        panels = list(iter_dream(path, batch_rows=2))
    ends = pd.concat([p.persons for p in panels]).set_index("person_id")["obs_end"]
    assert ends[104] == int(isoweek_to_index(2015, 1))
    assert ends[105] == int(isoweek_to_index(2015, 3))
    assert [p.meta["batch"]["number"] for p in panels] == [0, 1, 2]
    assert [n["rule"] for n in panels[2].meta["input_notes"]] == ["absorbing_end"]
    with pytest.raises(DataValidationError, match="absorbing"):
        list(iter_dream(path, batch_rows=2, absorbing="error"))


def test_grad_turning_to_text_in_a_later_batch(tmp_path):
    lines = ["PNR,y_1501,grad_2015_01"] + [f"{i},111,0.5" for i in range(1, 6)]
    lines[5] = "5,111,half"
    path = _write(tmp_path, lines)
    with pytest.raises(DataValidationError, match=r"numbers in the first batch but text.*line 6"):
        list(iter_dream(path, batch_rows=2))
    panel = read_dream(path, batch_rows=2)
    assert panel.events["dream_monthly"]["grad"].tolist() == ["0.5", "0.5", "0.5", "0.5", "half"]


def test_front_columns_typed_over_the_whole_file(tmp_path, monkeypatch):
    from evaltools.data import _load

    lines = ["PNR,birth,kom,y_1501"] + [f"{i},{1950 + i},{100 + i},111" for i in range(1, 40)]
    lines += ["40,unknown,1.5,111", "41,,,701"]
    path = _write(tmp_path, lines)
    whole = _read(path)
    monkeypatch.setattr(_load, "FRONT_BLOCK", 256)  # many blocks: later ones do not fit the first's types
    part = _read(path, batch_rows=7)
    _same(part, whole)
    assert whole.persons["birth"].dtype == object and whole.persons["kom"].dtype == np.float64


# -- the CSV fast path and its hand-over to pyarrow --------------------------------------
@pytest.mark.parametrize(
    "late",
    [
        b'"111"',  # a quoted cell: the rest of the file goes to pyarrow
        b" 111",  # spaces are read by the code lookup (stripped), as pyarrow's cells are
        b"NA",  # a null spelling of the CSV reader: blank
    ],
)
def test_csv_cells_read_as_pyarrow_reads_them(tmp_path, late):
    frame = _frame(12, 6, seed=11)
    frame.to_csv(tmp_path / "d.csv", index=False)
    lines = (tmp_path / "d.csv").read_bytes().split(b"\n")
    # row 9 (line 10): its first weekly cell becomes `late`; the expected panel reads it as 111 / blank
    cells = lines[9].split(b",")
    cells[2] = late
    lines[9] = b",".join(cells)
    (tmp_path / "odd.csv").write_bytes(b"\n".join(lines).rstrip(b"\n"))  # no final line end
    want = frame.copy()
    want.iloc[8, 2] = "" if late == b"NA" else "111"
    expect = _read(want)
    for batch in (1, 4, 100):
        _same(_read(tmp_path / "odd.csv", batch_rows=batch), expect)


def test_csv_with_crlf_line_ends(tmp_path):
    frame = _frame(9, 5, seed=13)
    frame.to_csv(tmp_path / "d.csv", index=False, lineterminator="\r\n")
    for batch in (2, 100):
        _same(_read(tmp_path / "d.csv", batch_rows=batch), _read(frame))


def test_csv_unknown_code_after_fast_batches_names_line_and_id(tmp_path):
    frame = _frame(12, 6, seed=12)
    frame.iloc[10, 3] = "12345678"  # longer than the fast path's cells
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataValidationError, match=r"'12345678'.*line 12"):
        _read(tmp_path / "d.csv", batch_rows=4)


@pytest.mark.parametrize("order", ["interleaved", "weeks_first"])
def test_csv_weekly_columns_anywhere_in_the_line(tmp_path, order):
    frame = _frame(10, 5, seed=14)
    weekly = [c for c in frame.columns if c.startswith("y_")]
    if order == "interleaved":
        cols = ["PNR", weekly[0], weekly[1], "sex", *weekly[2:]]
    else:
        cols = [*weekly, "PNR", "sex"]
    frame[cols].to_csv(tmp_path / "d.csv", index=False)
    for batch in (3, 100):
        _same(_read(tmp_path / "d.csv", batch_rows=batch), _read(frame))


def test_csv_weekly_columns_out_of_week_order(tmp_path):
    frame = _frame(11, 6, seed=15)
    weekly = [c for c in frame.columns if c.startswith("y_")]
    shuffled = [weekly[i] for i in (3, 0, 5, 1, 4, 2)]
    frame[["PNR", *shuffled[:3], "sex", *shuffled[3:]]].to_csv(tmp_path / "d.csv", index=False)
    frame[["PNR", "sex", *weekly[::-1]]].to_csv(tmp_path / "r.csv", index=False)
    for batch in (4, 100):
        _same(_read(tmp_path / "d.csv", batch_rows=batch), _read(frame))
        _same(_read(tmp_path / "r.csv", batch_rows=batch), _read(frame))


def test_csv_shortened_while_it_is_read_is_an_error(tmp_path):
    frame = _frame(30, 5, seed=16)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        batches = iter_dream(path, batch_rows=4)
        first = next(batches)
        assert len(first.persons) == 4
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(FileFormatError, match="became shorter while it was read"):
            list(batches)


@pytest.mark.parametrize("names", ["quoted", "comma_in_a_name"])
def test_csv_with_a_quoted_header(tmp_path, monkeypatch, names):
    """Quoted column names (as pyarrow's and R's writers write them) keep the fast path."""
    from evaltools.data import _fastcsv

    frame = _frame(10, 5, seed=17)
    extra = {"quoted": "kom", "comma_in_a_name": "kom,nr"}[names]
    frame[extra] = np.arange(len(frame))
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False, quoting=1 if names == "quoted" else 0)
    assert path.read_bytes().startswith(b'"PNR"' if names == "quoted" else b"PNR")
    calls: list[int] = []
    real = _fastcsv.block_cells
    monkeypatch.setattr(_fastcsv, "block_cells", lambda *a, **k: calls.append(1) or real(*a, **k))
    if names == "quoted":  # quoted cells too: rewrite the data lines unquoted, keep the header
        head, _, body = path.read_bytes().partition(b"\n")
        path.write_bytes(head + b"\n" + body.replace(b'"', b""))
    for batch in (3, 100):
        _same(_read(path, batch_rows=batch), _read(frame))
    assert calls


def test_csv_column_name_with_a_line_break(tmp_path):
    frame = _frame(4, 3, seed=18)
    frame["kom\nnr"] = 1
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(FileFormatError, match=r"column name holding a line break \('kom\\nnr'\)"):
        _read(tmp_path / "d.csv")
