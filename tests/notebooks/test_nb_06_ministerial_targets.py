"""Notebook 06 (ministerial goals 2019, Herlev Beskæftigelsesplan 2018): ministerial targets, Herlev-style target table, substitution across benefits."""

from __future__ import annotations

import pytest
from nbrun import run_notebook

from evaltools.synth import SynthConfig

NB = "06_ministerial_targets.ipynb"
# Herlev's 2018 plan (Beskæftigelsesplan 2018, result targets): baseline -> target full-time persons
SEED_PLAN = {
    "A-dagpenge": (372, 315),
    "A-dagpenge, under 30": (96, 75),
    "Kontanthjælp, job-ready (match 1)": (135, 100),
    "Kontanthjælp, activity-ready (match 2-3)": (412, 365),
}


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_notebook(NB, tmp_path_factory.mktemp("nb06"))


def test_public_support_share(key: dict) -> None:
    assert 0.0 < key["share_pop_min"] <= key["share_pop_max"] < 1.0
    assert 0.0 < key["share_pop_all_mean"] < 1.0
    assert 0.0 <= key["refugee_share_last"] <= 1.0


def test_target_table(key: dict) -> None:
    assert set(key["targets"]) == set(SEED_PLAN)
    for name, (b0, t0) in SEED_PLAN.items():
        row = key["targets"][name]
        assert row["baseline_fte"] > 0
        assert row["required_pct"] == pytest.approx(100 * (t0 - b0) / b0, rel=1e-9)
        assert row["target"] == pytest.approx(row["baseline_fte"] * t0 / b0, rel=1e-9)
        assert row["attained"] == (row["actual_fte"] <= row["target"])
    # under-30 a-dagpenge is part of all a-dagpenge
    t = key["targets"]
    assert t["A-dagpenge, under 30"]["baseline_fte"] <= t["A-dagpenge"]["baseline_fte"]


def test_substitution(key: dict) -> None:
    # one code per person-week: the total change is the sum of the benefit changes
    assert key["total_change"] == pytest.approx(key["sum_of_changes"], abs=1e-9)
    assert 0.0 < key["dp_exit_to_benefit_share"] < 1.0
    # the generator exhausts a-dagpenge after dp_max_weeks and moves the person to kontanthjaelp
    assert key["dp_max_weeks"] == SynthConfig().dp_max_weeks
    assert key["dp_n_long"] > 0
    assert key["dp_long_to_kh_share"] > 0.9


def test_rerun_other_municipality(tmp_path) -> None:
    k = run_notebook(NB, tmp_path, municipality="Vejle", baseline_year=2010, target_year=2011)
    assert k["municipality"] == "Vejle" and k["baseline_year"] == 2010
    for name, (b0, t0) in SEED_PLAN.items():
        assert k["targets"][name]["required_pct"] == pytest.approx(100 * (t0 - b0) / b0, rel=1e-9)
    assert k["total_change"] == pytest.approx(k["sum_of_changes"], abs=1e-9)
