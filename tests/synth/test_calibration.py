"""The default-size draw hits the calibration targets of seeds_digest.md section 7.1."""

from __future__ import annotations

import pytest

from evaltools.synth import calibration_report, calibration_statistics, calibration_targets


def test_targets_file_schema():
    t = calibration_targets()
    assert list(t.columns) == ["id", "statistic", "description", "value", "tolerance", "source"]
    assert t["statistic"].is_unique
    assert (t["tolerance"] > 0).all()
    assert t["source"].str.contains("seeds_digest.md section 7.1").all()
    required = {"R1", "R2", "R4", "R5", "R6", "R8", "R9", "R10", "R12", "R13"}
    assert required <= set(t["id"])


def test_statistics_cover_every_target(sample_draw):
    stats = calibration_statistics(sample_draw.panel)
    assert set(calibration_targets()["statistic"]) <= set(stats.index)


@pytest.fixture(scope="module")
def report(sample_draw):
    return calibration_report(sample_draw.panel)


@pytest.mark.parametrize("statistic", list(calibration_targets()["statistic"]))
def test_default_draw_hits_target(report, statistic):
    row = report.set_index("statistic").loc[statistic]
    assert row["ok"], (
        f"{statistic}: observed {row['observed']:.4f}, "
        f"target {row['value']} +/- {row['tolerance']} ({row['id']})"
    )
