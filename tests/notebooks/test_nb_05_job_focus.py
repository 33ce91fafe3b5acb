"""Notebook 05 (Beskæftigelsesregion Nordjylland 2010, Kortlægning af jobfokus): early effort, FTE by instrument, activation rate, tool mix by duration."""

from __future__ import annotations

import pytest
from nbrun import run_notebook

from evaltools.synth import calibration_targets

NB = "05_job_focus_north_jutland.ipynb"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_notebook(NB, tmp_path_factory.mktemp("nb05"))


@pytest.fixture(scope="module")
def targets() -> dict:
    t = calibration_targets().set_index("statistic")
    return {s: (float(t.loc[s, "value"]), float(t.loc[s, "tolerance"])) for s in t.index}


def test_early_effort_matches_calibration(key: dict, targets: dict) -> None:
    # whole-sample shares use the calibration definition (weeks 0-4 / 0-13 of new spells)
    names = {"interview": "r1", "offer": "r2"}
    bens = {"adagpenge": "dp", "kontanthjaelp": "kh"}
    for ev, rid in names.items():
        for ben, lab in bens.items():
            for m in ("1m", "3m"):
                value, tol = targets[f"{rid}_{lab}_{m}"]
                got = key["national"][f"{ev}_{ben}_{m}"]
                assert abs(got - value) <= tol, (ev, ben, m, got, value)
    assert all(n > 1000 for n in key["national_spells"].values())


def test_region_shares(key: dict) -> None:
    assert key["municipalities"] == ["Aalborg", "Thisted"]
    assert 0.0 <= key["region_share_min"] <= key["region_share_max"] <= 1.0
    assert key["region_n_periods_h1"] == 3  # January-June 2008, 2009, 2010
    # kontanthjaelp recipients get early interviews more often than a-dagpenge recipients (the report's Fig. 1)
    assert key["region_interview_1m"]["kontanthjaelp"] > key["region_interview_1m"]["adagpenge"]
    # the regional share lies within sampling error (4 binomial s.e.) plus tolerance of the national one
    for ben in ("adagpenge", "kontanthjaelp"):
        p, n = key["national"][f"interview_{ben}_1m"], key["region_interview_spells"][ben]
        assert abs(key["region_interview_1m"][ben] - p) < 4 * (p * (1 - p) / n) ** 0.5 + 0.02


def test_fte_activation_and_company_share(key: dict, targets: dict) -> None:
    assert key["fte_total_h1"] > 0
    assert key["fte_n_primary"] == key["fte_n_small"]  # every cell with 1-3 persons is masked
    value, tol = targets["r5_activation_rate"]
    assert abs(key["activation_rate_all"] - value) <= tol
    value, tol = targets["r6_dp_company_share"]
    assert abs(key["company_share_all"]["adagpenge"] - value) <= tol + 0.02
    assert key["company_share_all"]["adagpenge"] > key["company_share_all"]["kontanthjaelp"]
    assert 0.0 <= key["rate_region_min"] <= key["rate_region_max"] <= 1.0
    assert 0.0 <= key["comp_region_min"] <= key["comp_region_max"] <= 1.0


def test_tool_mix(key: dict) -> None:
    assert key["toolmix_sum_dev"] < 1e-9
    shares = key["toolmix_company_by_duration"]
    assert len(shares) == 8 and all(0.0 <= v <= 1.0 for v in shares.values())


def test_rerun_other_region(tmp_path) -> None:
    k = run_notebook(NB, tmp_path, municipality="Odense", first_year=2010, last_year=2011)
    assert k["municipalities"] == ["Odense"]
    assert k["region_n_periods_h1"] == 2
    assert 0.0 <= k["region_share_min"] <= k["region_share_max"] <= 1.0
    assert k["fte_n_primary"] == k["fte_n_small"]
