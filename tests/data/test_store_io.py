import warnings

import numpy as np
import pandas as pd
import pytest
from data_panel_factory import random_panel

from evaltools.data import dream_to_store, read_dream, read_panel, write_dream
from evaltools.data._store_parts import load_manifest
from evaltools.exceptions import DataValidationError, FileFormatError, InputWarning, SpecificationError


def assert_same_content(a, b):
    pd.testing.assert_frame_equal(a.states, b.states)
    pd.testing.assert_frame_equal(a.persons, b.persons)
    assert list(a.events) == list(b.events)
    for k in a.events:
        pd.testing.assert_frame_equal(a.events[k], b.events[k])
    skip = {"input_notes", "input_warnings"}
    assert {k: v for k, v in a.meta.items() if k not in skip} == {
        k: v for k, v in b.meta.items() if k not in skip
    }


@pytest.fixture(scope="module")
def dream_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("dream") / "dream.csv"
    return write_dream(random_panel(11, n_persons=23, n_weeks=60), path)


@pytest.mark.parametrize("batch_rows", [4, 23, 100])
def test_streamed_store_equals_read_dream(dream_csv, tmp_path, batch_rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        exp = read_dream(dream_csv)
        out = dream_to_store(dream_csv, tmp_path / "s", batch_rows=batch_rows)
    man = load_manifest(out)
    assert len(man["partitions"]) == -(-23 // batch_rows)
    got = read_panel(out)
    assert_same_content(got, exp)
    assert {n["rule"] for n in got.meta["input_notes"]} <= {n["rule"] for n in exp.meta["input_notes"]}
    assert len(got.meta["input_warnings"]) == len(exp.meta["input_notes"])


def test_read_dream_out_streams_with_push_downs(dream_csv, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        full = read_dream(dream_csv)
        lo = full.week_range[0]
        exp = read_dream(dream_csv, weeks=(lo + 5, lo + 30))
        out = read_dream(dream_csv, weeks=(lo + 5, lo + 30), out=tmp_path / "w", batch_rows=6)
    assert out == tmp_path / "w"
    assert_same_content(read_panel(out), exp)


def test_bad_batch_leaves_no_store(dream_csv, tmp_path):
    lines = dream_csv.read_text().splitlines()
    header = lines[0].split(",")
    col = next(i for i, c in enumerate(header) if c.startswith("y_"))
    row = lines[-2].split(",")
    row[col] = "4711"  # not in the code table, in the last batch
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:-2], ",".join(row), lines[-1]]) + "\n")
    with pytest.raises(DataValidationError, match="4711"):
        dream_to_store(bad, tmp_path / "s", batch_rows=5)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join([*lines[:-1], lines[-1] + ",111"]) + "\n")
    with pytest.raises(FileFormatError):
        dream_to_store(ragged, tmp_path / "s", batch_rows=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "ragged.csv"]


def test_unsorted_ids_across_batches_name_the_fix(dream_csv, tmp_path):
    lines = dream_csv.read_text().splitlines()
    shuffled = tmp_path / "unsorted.csv"
    shuffled.write_text("\n".join([lines[0], *lines[1:][::-1]]) + "\n")
    with pytest.raises(DataValidationError, match="sort the file by its id column"):
        dream_to_store(shuffled, tmp_path / "s", batch_rows=5)
    assert not (tmp_path / "s").exists()


def _activation(persons: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """An event table: a few activation spells for most persons, in no particular order."""
    rng = np.random.default_rng(seed)
    pid = rng.choice(persons["person_id"].to_numpy()[:-2], size=40)  # the last two persons have none
    start = rng.integers(persons["obs_start"].min(), persons["obs_end"].max() - 5, size=40)
    return pd.DataFrame(
        {
            "person_id": pid,
            "week": start.astype(np.int32),
            "end_week": (start + rng.integers(0, 5, size=40)).astype(np.int32),
            "kind": pd.Categorical(rng.choice(["course", "job_training"], size=40)),
            "hours": rng.integers(5, 37, size=40),
        }
    ).iloc[::-1]


@pytest.mark.parametrize(("batch_rows", "partition_persons"), [(4, None), (10, 3), (100, None)])
def test_streamed_store_keeps_the_event_tables(dream_csv, tmp_path, batch_rows, partition_persons):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        events = {"activation": _activation(read_dream(dream_csv).persons)}
        given = events["activation"].copy()
        exp = read_dream(dream_csv, events=events)
        out = dream_to_store(
            dream_csv,
            tmp_path / "s",
            events=events,
            batch_rows=batch_rows,
            partition_persons=partition_persons,
        )
    pd.testing.assert_frame_equal(events["activation"], given)  # the caller's table is not modified
    man = load_manifest(out)
    assert man["events"] == ["activation"]
    assert sum(p["n_events"]["activation"] for p in man["partitions"]) == len(given)
    got = read_panel(out)
    assert_same_content(got, exp)
    some = exp.persons["person_id"].to_numpy()[[0, 5, 9]]
    part = read_panel(out, persons=some)
    want = exp.events["activation"]
    pd.testing.assert_frame_equal(
        part.events["activation"], want[want["person_id"].isin(some)].reset_index(drop=True)
    )


def test_read_dream_out_stores_events_read_by_dask(dream_csv, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    from evaltools.data import read_panel_dask

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        events = {"activation": _activation(read_dream(dream_csv).persons, seed=8)}
        exp = read_dream(dream_csv, events=events)
        out = read_dream(dream_csv, events=events, out=tmp_path / "s", batch_rows=6)
    lazy = read_panel_dask(out)
    assert isinstance(lazy.events["activation"], dd.DataFrame)
    got = lazy.events["activation"].compute().reset_index(drop=True)
    want = exp.events["activation"]
    got = got[list(want.columns)].sort_values(["person_id", "week"], kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(got, want)


def test_events_of_persons_not_in_the_file_leave_no_store(dream_csv, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        persons = read_dream(dream_csv).persons
        ev = _activation(persons)
        stranger = ev.iloc[:1].assign(person_id=int(persons["person_id"].max()) + 1000)
        with pytest.raises(DataValidationError, match=r"events\['activation'\].*not read from the file"):
            dream_to_store(dream_csv, tmp_path / "s", events={"activation": pd.concat([ev, stranger])})
        first = int(persons["person_id"].iloc[0])
        with_first = pd.concat([ev, ev.iloc[:1].assign(person_id=first)])
        with pytest.raises(DataValidationError, match=rf"belong to person_id\(s\).*\[{first}\]"):
            dream_to_store(
                dream_csv,
                tmp_path / "s",
                events={"activation": with_first},
                persons_filter=persons["person_id"].to_numpy()[1:],
                batch_rows=5,
            )
        with pytest.raises(SpecificationError, match="calendar table"):
            dream_to_store(dream_csv, tmp_path / "s", events={"dream_monthly": ev})
    assert not (tmp_path / "s").exists()
