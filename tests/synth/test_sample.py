"""The shipped sample in data_samples/ is reproducible bit-for-bit (content) from its recorded seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.data.store import read_panel
from evaltools.synth import (
    SAMPLE_SEED,
    SynthConfig,
    Truth,
    build_sample,
    content_checksums,
    structural_effects,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data_samples" / "sample_panel"


def test_sample_is_shipped():
    for f in ("states.parquet", "persons.parquet", "truth.json", "checksums.json", "meta.json", "codes.csv"):
        assert (SAMPLE / f).is_file(), f
    assert (SAMPLE.parent / "README.md").is_file()


def test_regenerated_sample_matches_recorded_checksums(sample_draw):
    recorded = json.loads((SAMPLE / "checksums.json").read_text())
    assert content_checksums(sample_draw.panel) == recorded


def test_shipped_files_match_recorded_checksums():
    recorded = json.loads((SAMPLE / "checksums.json").read_text())
    assert content_checksums(read_panel(SAMPLE)) == recorded


def test_shipped_truth():
    truth = Truth.read_json(SAMPLE / "truth.json")
    assert truth.meta["seed"] == SAMPLE_SEED
    exp = structural_effects(SynthConfig())
    np.testing.assert_array_equal(truth.hazard_ratios["ratio"].to_numpy(), exp["ratio"].to_numpy())
    assert (truth.att["n_treated"] > 100).all()
    meta = json.loads((SAMPLE / "meta.json").read_text())
    assert meta["seed"] == SAMPLE_SEED and meta["n_persons"] == 20_000


def test_build_sample_refuses_to_overwrite(tmp_path):
    (tmp_path / "states.parquet").write_bytes(b"")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        build_sample(tmp_path)


def test_shipped_potential_outcomes_reproduce_the_shipped_truth():
    """hidden/potential.parquet averages to truth.json's ATTs (both written by build_sample)."""
    from evaltools.synth import att_for_sample

    pot = pd.read_parquet(SAMPLE / "hidden" / "potential.parquet")
    truth = Truth.read_json(SAMPLE / "truth.json")
    for row in truth.att.itertuples():
        h = row.horizon_weeks
        full = pot[(pot["treatment"].astype(str) == row.treatment) & pot[f"y1_{h}"].notna()]
        got = att_for_sample(pot, full.rename(columns={"start_week": "week"}), row.treatment, h)
        assert got["n_treated"] == row.n_treated
        np.testing.assert_allclose([got["att"], got["se"]], [row.att, row.se], rtol=1e-12)
    # every simulated start is a start in the panel's event table
    men = read_panel(SAMPLE).events["mentor"][["person_id", "week"]]
    pm = pot.loc[pot["treatment"].astype(str) == "mentor", ["person_id", "start_week"]]
    hit = pm.merge(men, left_on=["person_id", "start_week"], right_on=["person_id", "week"], how="left")
    assert hit["week"].notna().all()
