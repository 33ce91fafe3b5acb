"""Notebook 04 (Rambøll 2018, I mål med integration): integration target measures, benchmark, DiD, regression to the mean."""

from __future__ import annotations

import math

import pytest
from nbrun import run_notebook

from evaltools.synth import calibration_targets

NB = "04_integration_targets.ipynb"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_notebook(NB, tmp_path_factory.mktemp("nb04"))


def _target(stat: str) -> tuple[float, float]:
    t = calibration_targets().set_index("statistic").loc[stat]
    return float(t["value"]), float(t["tolerance"])


def test_measures_are_shares_and_match_calibration(key: dict) -> None:
    assert key["n_municipalities"] == 20
    assert key["n_project"] == 8 and len(key["project"]) == 8
    assert 0.0 <= key["share_min"] <= key["share_max"] <= 1.0
    # measure 1 and 2 in the last quarter are the calibration statistics R8 and R9 (same cohort rules up to
    # the age limits); allow the calibration tolerance plus a little for the definitional differences
    for name, stat in (("m1_national_last", "r8_integration_selfsupport_share"),
                       ("m2_national_last", "r9_integration_jobready_share")):
        value, tol = _target(stat)
        assert abs(key[name] - value) <= tol + 0.03, (name, key[name], value)
    for k, (b, f) in key["n_above_national"].items():
        assert 0 <= b <= key["n_project"] and 0 <= f <= key["n_project"], k


def test_suppression_applied(key: dict) -> None:
    # small municipalities give cells with 1-3 persons (or numerators): every measure has masked cells
    assert all(v > 0 for v in key["n_masked"].values()), key["n_masked"]
    if key["bench_min_persons"] <= 3:
        # small units are masked and left out of the regression, so no published number depends on them
        assert key["bench_masked_rows"] >= 1


def test_benchmark_fitted_on_publishable_units(key: dict) -> None:
    assert key["bench_n"] + key["bench_masked_rows"] == key["n_municipalities"]
    if key["bench_masked_rows"] == 0:
        assert abs(key["bench_resid_sum"]) < 1e-9
    assert 1 <= key["bench_focus_rank"] <= key["bench_n"]
    assert 0.0 <= key["bench_focus_actual"] <= 1.0


def test_did_covers_true_zero(key: dict) -> None:
    # the generator has no municipal project effect: the truth is 0
    assert key["did_truth"] == 0.0
    lo, hi = key["did_ci"]
    assert lo < key["did"] < hi
    assert key["did_se"] > 0
    assert abs(key["did"] - key["did_truth"]) < 3.5 * key["did_se"]
    # the 2x2 estimate equals the difference of the (weighted) changes only approximately; sign/scale sanity
    assert abs(key["did_2x2"]) < 0.5
    assert key["placebo_sd"] > 0
    assert key["placebo_p"] > 0.01  # a zero effect is not rejected by randomisation inference either


def test_regression_to_the_mean_selection(key: dict) -> None:
    assert key["rtm_n_selected"] >= 1
    assert key["rtm_mean_baseline_selected"] < key["rtm_mean_baseline_others"]
    assert math.isfinite(key["rtm_mean_expected_change"])


def test_rerun_other_municipality_and_project(tmp_path) -> None:
    k = run_notebook(NB, tmp_path, municipality="Aarhus", project_municipalities=["Aarhus", "Vejle", "Køge"],
                     n_worst=3)
    assert k["municipality"] == "Aarhus"
    assert k["project"] == ["Aarhus", "Vejle", "Køge"] and k["n_project"] == 3
    assert k["rtm_n_selected"] == 3
    assert k["bench_n"] + k["bench_masked_rows"] == k["n_municipalities"]
    # with 3 project municipalities the clustered s.e. is unreliable (few treated clusters): judge the
    # estimate against the placebo (randomisation) distribution instead
    assert abs(k["did"]) < 4 * k["placebo_sd"]
    assert k["placebo_p"] > 0.001


# --- staggered start (StaggeredDiD fed by indicator_panel) and the joint release -----------------------------

Z99 = 2.5758293035489


def test_staggered_did_leaves_out_exactly_the_municipalities_with_a_masked_quarter(key: dict) -> None:
    # the units dropped by indicator_panel are those with a masked share in the suppressed export (read in
    # the notebook from the published table itself), and every municipality is either kept or dropped
    assert sorted(key["sdid_dropped"]) == key["sdid_units_with_masked"]
    assert key["sdid_n_units"] + len(key["sdid_dropped"]) == key["n_municipalities"]
    assert 0 < key["sdid_n_project_kept"] <= key["n_project"]
    assert len(key["sdid_start_quarters"]) == 3 == len(set(key["sdid_start_quarters"]))


def test_staggered_did_finds_the_true_zero(key: dict) -> None:
    # the generator has no municipal effect: the average effect after the start covers zero, and the
    # simultaneous band covers zero at every post-start quarter
    assert key["sdid_truth"] == 0.0
    se = key["sdid_overall_se"]
    assert math.isfinite(se) and se > 0
    assert abs(key["sdid_overall_att"] - key["sdid_truth"]) <= Z99 * se
    assert key["sdid_band_covers_zero_post"]
    times = key["sdid_event_times"]
    assert times == sorted(times) and min(times) < 0 <= max(times)
    assert len(key["sdid_post_estimates"]) == max(times) + 1


def test_joint_release_is_safe_and_masks_at_least_each_tables_own_cells(key: dict) -> None:
    assert key["release_tables"] == ["measure 1", "measure 2", "measure 3", "benchmark"]
    assert key["audit_ok"] and key["audit_n_exact"] == 0 and key["audit_n_narrow"] == 0
    assert key["audit_n_masked"] > 0
    for name in key["release_tables"]:
        # joint protection never publishes a cell the table alone would mask, and masks every primary cell
        assert key["release_masked"][name] >= key["release_masked_single"][name] >= key["release_primary"][name]
    # the indicator tables of the notebook mask the same primary cells as their own suppressed displays
    assert key["release_primary"]["measure 3"] > 0
