import warnings

import pandas as pd
import pytest
from data_panel_factory import random_panel

from evaltools.data import dream_to_store, read_dream, read_panel, write_dream
from evaltools.data._store_parts import load_manifest
from evaltools.exceptions import DataValidationError, FileFormatError, InputWarning


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
