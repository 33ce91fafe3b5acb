import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_panel_factory import random_panel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evaltools.data import PanelStoreWriter, read_panel, subset_panel, write_panel
from evaltools.data._store_parts import decode_runs, encode_runs, load_manifest
from evaltools.data.weeks import isoweek_to_index
from evaltools.exceptions import DataValidationError, FileFormatError, SpecificationError


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.states, b.states)
    pd.testing.assert_frame_equal(a.persons, b.persons)
    assert list(a.events) == list(b.events)
    for k in a.events:
        pd.testing.assert_frame_equal(a.events[k], b.events[k])
    assert dict(a.meta) == dict(b.meta)
    assert a.codes.table.equals(b.codes.table)


def dense_cells(panel):
    d = panel.to_long(dense=True)
    return d.assign(state=d["state"].astype(str)).reset_index(drop=True)


@pytest.fixture(scope="module")
def panel():
    return random_panel(5, n_persons=25, n_weeks=70)


def test_runs_encode_and_decode_exactly():
    p = random_panel(3, n_persons=6, n_weeks=40)
    runs = encode_runs(p.states)
    assert len(runs) < len(p.states)
    pd.testing.assert_frame_equal(decode_runs(runs, p.codes.dtype()), p.states)
    # a run ends at a gap week and at a change of code, and never spans two persons
    tiny = pd.DataFrame(
        {
            "person_id": [1, 1, 1, 1, 1, 2],
            "week": [10, 11, 13, 14, 15, 16],
            "state": pd.Categorical(["111", "111", "111", "701", "701", "701"], dtype=p.codes.dtype()),
        }
    )
    r = encode_runs(tiny)
    assert r[["person_id", "first_week", "last_week"]].values.tolist() == [
        [1, 10, 11],
        [1, 13, 13],
        [1, 14, 15],
        [2, 16, 16],
    ]
    assert r["state"].astype(str).tolist() == ["111", "111", "701", "701"]


@pytest.mark.parametrize("k", [1, 4, 9, 25, 1000])
def test_round_trip_any_partition_size(panel, tmp_path, k):
    out = write_panel(panel, tmp_path / "s", partition_persons=k)
    man = load_manifest(out)
    assert len(man["partitions"]) == -(-panel.n_persons // k)
    assert man["n_persons"] == panel.n_persons and man["n_state_rows"] == len(panel.states)
    assert man["week_window"] == list(panel.week_range)
    assert man["states_encoding"] == "runs" and man["n_runs"] < len(panel.states)
    lo = [p["person_id_min"] for p in man["partitions"]]
    hi = [p["person_id_max"] for p in man["partitions"]]
    assert all(a <= b for a, b in zip(lo, hi)) and all(b < a for b, a in zip(hi[:-1], lo[1:]))
    assert_same(read_panel(out), panel)


def test_chunks_appended_equal_the_whole_panel(panel, tmp_path):
    ids = panel.persons["person_id"].to_numpy()
    with PanelStoreWriter(tmp_path / "s", codes=panel.codes, meta=panel.meta, partition_persons=4) as w:
        for part in np.array_split(ids, 3):
            w.append(panel.subset(part))
    man = load_manifest(tmp_path / "s")
    assert [p["n_persons"] for p in man["partitions"]] == [4, 4, 1, 4, 4, 4, 4]  # chunks of 9, 8, 8
    assert_same(read_panel(tmp_path / "s"), panel)


def test_subset_by_persons_and_weeks_equals_subsetting_in_memory(panel, tmp_path):
    out = write_panel(panel, tmp_path / "s", partition_persons=6)
    ids = panel.persons["person_id"].to_numpy()
    lo, hi = panel.week_range
    pick = np.r_[ids[[0, 3, 20]], 1]  # 1 is not in the panel
    assert_same(read_panel(out, persons=pick), panel.subset(pick))
    w = (lo + 12, lo + 30)
    sub = read_panel(out, persons=pick, weeks=w)
    assert_same(sub, subset_panel(panel, pick, w))
    assert sub.meta["first_week"] == w[0] and sub.meta["store_subset"] == {"weeks": list(w)}
    assert sub.persons["obs_start"].min() >= w[0] and sub.persons["obs_end"].max() <= w[1]
    # every person-week of the window, and nothing else
    full = dense_cells(panel)
    keep = full["person_id"].isin(pick) & full["week"].between(*w)
    pd.testing.assert_frame_equal(dense_cells(sub), full.loc[keep].reset_index(drop=True))
    # a persons table works as a filter; ISO labels work as weeks
    tab = panel.persons.iloc[[2, 5]]
    assert_same(read_panel(out, persons=tab), panel.subset(tab["person_id"]))
    from evaltools.data.weeks import week_label

    labels = (str(week_label(w[0])), str(week_label(w[1])))
    assert_same(read_panel(out, weeks=labels), subset_panel(panel, weeks=w))


def test_persons_filter_opens_only_matching_partitions(panel, tmp_path):
    out = write_panel(panel, tmp_path / "s", partition_persons=5)
    man = load_manifest(out)
    first = man["partitions"][0]
    for p in man["partitions"][1:]:
        (out / "states" / p["file"]).unlink()
    ids = panel.persons["person_id"].to_numpy()[:3]
    assert_same(read_panel(out, persons=ids), panel.subset(ids))
    assert first["person_id_max"] >= ids.max()
    with pytest.raises(DataValidationError, match="part-00001.parquet is missing"):
        read_panel(out)


def test_empty_selection_keeps_the_schema(panel, tmp_path):
    out = write_panel(panel, tmp_path / "s", partition_persons=10)
    got = read_panel(out, persons=[1, 2])
    assert got.n_persons == 0 and len(got.states) == 0
    assert got.persons.dtypes.to_dict() == panel.persons.dtypes.to_dict()
    assert list(got.events) == list(panel.events)


def test_single_layout_unchanged_and_subsettable(panel, tmp_path):
    out = write_panel(panel, tmp_path / "single")
    assert (out / "states.parquet").is_file() and not (out / "manifest.json").exists()
    assert_same(read_panel(out), panel)
    w = (panel.week_range[0] + 5, panel.week_range[0] + 20)
    assert_same(read_panel(out, weeks=w), subset_panel(panel, weeks=w))
    # writing a store over it replaces it; writing the single layout over a store too
    write_panel(panel, out, partition_persons=7)
    assert not (out / "states.parquet").exists() and (out / "manifest.json").is_file()
    assert_same(read_panel(out), panel)
    write_panel(panel, out)
    assert not (out / "manifest.json").exists()
    assert_same(read_panel(out), panel)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 14),
    k=st.integers(1, 16),
    a=st.integers(-5, 60),
    length=st.integers(0, 50),
    every=st.integers(1, 4),
)
@example(seed=1, n=5, k=1, a=0, length=0, every=1)  # a panel without any coded week
def test_round_trip_property(seed, n, k, a, length, every):
    panel = random_panel(seed, n_persons=n, n_weeks=50)
    with tempfile.TemporaryDirectory() as tmp:
        out = write_panel(panel, Path(tmp) / "s", partition_persons=k)
        assert_same(read_panel(out), panel)
        ids = panel.persons["person_id"].to_numpy()[::every]
        w = (panel.week_range[0] + a, panel.week_range[0] + a + length)
        sub = read_panel(out, persons=ids, weeks=w)
        assert_same(sub, subset_panel(panel, ids, w))
        full = dense_cells(panel)
        keep = full["person_id"].isin(ids) & full["week"].between(*w)
        pd.testing.assert_frame_equal(dense_cells(sub), full.loc[keep].reset_index(drop=True))


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_exception_mid_write_leaves_nothing(panel, tmp_path):
    dest = tmp_path / "s"
    ids = panel.persons["person_id"].to_numpy()
    with pytest.raises(RuntimeError, match="disk full"):
        with PanelStoreWriter(dest, codes=panel.codes) as w:
            w.append(panel.subset(ids[:10]))
            raise RuntimeError("disk full")
    assert not dest.exists() and _siblings(dest) == []
    # an interrupted write (never closed) leaves only the hidden staging folder, which is no store
    w = PanelStoreWriter(dest, codes=panel.codes)
    w.append(panel.subset(ids[:10]))
    assert not dest.exists()
    with pytest.raises(DataValidationError, match="manifest.json"):
        read_panel(w.staging)
    w.abort()
    assert _siblings(dest) == []


def test_failed_rewrite_keeps_the_old_store(panel, tmp_path):
    dest = write_panel(panel, tmp_path / "s", partition_persons=8)
    ids = panel.persons["person_id"].to_numpy()
    with pytest.raises(DataValidationError, match="increasing person_id"):
        with PanelStoreWriter(dest, codes=panel.codes, overwrite=True) as w:
            w.append(panel.subset(ids[5:10]))
            w.append(panel.subset(ids[:6]))  # out of order
    assert_same(read_panel(dest), panel)
    assert _siblings(dest) == ["s"]


def test_writer_rejects_bad_chunks_and_targets(panel, tmp_path):
    ids = panel.persons["person_id"].to_numpy()
    with pytest.raises(DataValidationError, match="same event tables"):
        with PanelStoreWriter(tmp_path / "a") as w:
            w.append(panel.subset(ids[:5]))
            p2 = panel.subset(ids[5:])
            from evaltools.data import RegisterPanel

            w.append(RegisterPanel(states=p2.states, persons=p2.persons, codes=p2.codes))
    with pytest.raises(DataValidationError, match="no row in the person table"):
        with PanelStoreWriter(tmp_path / "b") as w:
            p = panel.subset(ids[:5])
            from evaltools.data import RegisterPanel

            w.append(
                RegisterPanel(states=p.states, persons=p.persons.iloc[1:], events=p.events, codes=p.codes)
            )
    with pytest.raises(SpecificationError, match="no person was appended"):
        with PanelStoreWriter(tmp_path / "c"):
            pass
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    with pytest.raises(SpecificationError, match="not empty"):
        PanelStoreWriter(tmp_path / "d", overwrite=True)
    existing = write_panel(panel, tmp_path / "e", partition_persons=10)
    with pytest.raises(SpecificationError, match="overwrite=True"):
        PanelStoreWriter(existing)
    with pytest.raises(SpecificationError, match="partition_persons"):
        PanelStoreWriter(tmp_path / "f", partition_persons=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "e"]


def test_corrupt_or_missing_files_give_named_errors(panel, tmp_path):
    out = write_panel(panel, tmp_path / "s", partition_persons=10)
    man_file = out / "manifest.json"
    good = man_file.read_text()
    man_file.write_text(good[: len(good) // 2])
    with pytest.raises(FileFormatError, match="manifest.json is not valid JSON.*Rewrite the store"):
        read_panel(out)
    man = json.loads(good)
    man_file.write_text(json.dumps({**man, "format_version": 99}))
    with pytest.raises(FileFormatError, match="format_version 99"):
        read_panel(out)
    man_file.write_text(json.dumps({k: v for k, v in man.items() if k != "partitions"}))
    with pytest.raises(FileFormatError, match=r"lacks the entries \['partitions'\]"):
        read_panel(out)
    bad = dict(man, partitions=[man["partitions"][1], man["partitions"][0], *man["partitions"][2:]])
    man_file.write_text(json.dumps(bad))
    with pytest.raises(FileFormatError, match="overlapping or unsorted"):
        read_panel(out)
    man_file.write_text(good)
    f = out / "persons" / "part-00001.parquet"
    f.write_bytes(f.read_bytes()[:40])
    with pytest.raises(FileFormatError, match="part-00001.parquet"):
        read_panel(out)
    write_panel(panel, out, partition_persons=10)
    a, b = out / "persons" / "part-00000.parquet", out / "persons" / "part-00002.parquet"
    assert pq_rows(a) == 10 and pq_rows(b) == 5
    a.write_bytes(b.read_bytes())
    with pytest.raises(FileFormatError, match="has 5 rows, the manifest records 10"):
        read_panel(out)
    write_panel(panel, out, partition_persons=10)
    (out / "codes.csv").unlink()
    with pytest.raises(DataValidationError, match="codes.csv not found"):
        read_panel(out)
    man_file.unlink()
    with pytest.raises(DataValidationError, match="not found"):
        read_panel(out)


def pq_rows(path):
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def test_bad_subset_arguments(panel, tmp_path):
    out = write_panel(panel, tmp_path / "s", partition_persons=10)
    with pytest.raises(SpecificationError, match="'weeks' parameter"):
        read_panel(out, weeks=(10,))
    with pytest.raises(SpecificationError, match="ISO week label"):
        read_panel(out, weeks=("2008-01", "2009-W01"))
    with pytest.raises(SpecificationError, match="last week is before"):
        read_panel(out, weeks=(20, 10))
    with pytest.raises(SpecificationError, match="integer person ids"):
        read_panel(out, persons=["a"])
    assert (
        int(isoweek_to_index(2008, 1)) == read_panel(out, weeks=("2008-W01", "2008-W02")).meta["first_week"]
    )
