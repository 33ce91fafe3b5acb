"""Notebook 07 (desk research synthesis, seed 001): designs without a counterfactual vs corrected vs truth.

Numbers come from the notebook's ``KEY-RESULTS`` line; nothing about the sample is hard-coded.
"""

from __future__ import annotations

import math

import pytest
from nbrun import run_notebook

Z95 = 1.959963984540054
Z99 = 2.5758293035489


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_notebook("07_desk_research_synthesis.ipynb", tmp_path_factory.mktemp("nb07"))


def test_evidence_table(key: dict) -> None:
    # seed 001: twelve cited works, none with a control group of its own; one reviews randomised trials
    assert key["n_reports"] == 12
    assert key["n_with_control"] == 0
    assert key["n_citing_controlled"] == 1


@pytest.mark.parametrize("panel", ["sample", "fresh"])
def test_standard_errors_and_counts(key: dict, panel: str) -> None:
    for design in ("after_only", "before_after", "raw_other", "corrected", "oracle"):
        se = key[f"{panel}_{design}_se"]
        assert math.isfinite(se) and se > 0, design
    assert 0 < key[f"{panel}_n_placed"] < key[f"{panel}_n_not_yet_placed"]
    for m in ("before_mean", "after_mean"):
        assert 0 <= key[f"{panel}_{m}"] <= key["horizon_weeks"]


@pytest.mark.parametrize("panel", ["sample", "fresh"])
def test_no_comparison_design_overstates_the_effect(key: dict, panel: str) -> None:
    truth = key[f"{panel}_truth"]
    after = key[f"{panel}_after_only"]
    assert after - truth > Z95 * key[f"{panel}_after_only_se"]
    assert abs(after - truth) > abs(key[f"{panel}_oracle"] - truth)


def test_shipped_sample_oracle_covers_truth_and_beats_uncontrolled_designs(key: dict) -> None:
    truth = key["sample_truth"]
    oracle_bias = abs(key["sample_oracle"] - truth)
    assert oracle_bias <= Z95 * key["sample_oracle_se"]
    assert abs(key["sample_before_after"] - truth) > oracle_bias
    assert abs(key["sample_raw_other"] - truth) > oracle_bias


def test_fresh_panel_oracle_covers_truth(key: dict) -> None:
    # the fresh panel is small (a few hundred placed persons): a 99% interval keeps the check stable
    assert abs(key["fresh_oracle"] - key["fresh_truth"]) <= Z99 * key["fresh_oracle_se"]
