"""Notebook 01 (mentor scheme, mploy 2011): profile, case mix, dynamic effect, Cox exits, dose, 13-week cap.

The numbers are read from the notebook's ``KEY-RESULTS`` line; nothing about the sample is hard-coded
(the structural constants used below are the generator's documented rules, not data).
"""

from __future__ import annotations

import math

import pytest
from nbrun import run_notebook

Z = 1.959963984540054


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_notebook("01_mentor_scheme.ipynb", tmp_path_factory.mktemp("nb01"))


def test_profile_within_calibration_tolerance(key: dict) -> None:
    assert key["profile_n"] == len(key["profile"]) >= 19
    for stat, value in key["profile"].items():
        assert abs(value - key["profile_target"][stat]) <= key["profile_tolerance"][stat], stat
    assert key["profile_ok"] == key["profile_n"]
    # the notebook's own joins reproduce evaltools.synth.calibration_statistics on the full sample
    for stat, value in key["profile_notebook"].items():
        assert abs(value - key["profile"][stat]) < 0.005, stat


def test_counts_consistent(key: dict) -> None:
    assert key["n_profile_spells"] == key["n_mentor_spells"] > key["n_mentor_persons"] > 0
    assert 0.9 < key["match_shares_sum"] <= 1.0
    # the dynamic evaluation uses a subset of the truth's treated (kontanthjaelp spells, passive starts)
    assert 0 < key["dyn_treated"] < key["truth_n_treated"]
    assert key["dyn_rows"] > key["dyn_treated"]
    for h in ("self_support", "su"):
        assert 0 < key["cox_events"][h] < key["cox_rows"][h]
    assert key["cap_spells"] <= key["n_mentor_spells"]
    assert 0 < key["cap_weeks_saved"] < key["cap_mentor_weeks"]
    assert 0 < key["cap_match1_weeks_saved"] < key["cap_weeks_saved"]
    assert 0 < key["cap_share_longer"] < 1 and 0 < key["cap_share_cost_saved"] < 1
    assert 0 < key["cap_exposure_lost"] < 1
    assert key["cap_hours_saved"] >= key["cap_weeks_saved"]  # every spell has >= 1 hour per week
    assert key["cap_dkk_saved"] > 200 * key["cap_hours_saved"]  # hourly prices are at least DKK 200


def test_standard_errors_positive(key: dict) -> None:
    ses = [key["dyn_obs_se"], key["dyn_oracle_se"], key["dyn_static_se"], key["completion_adj_se"],
           key["dose_adj_se"], key["dose_oracle_se"], key["truth_att_se"]]
    ses += [v["log_se"] for v in key["cox"].values()]
    ses += [v[k] for v in key["casemix"].values() for k in ("raw_se", "adjusted_se")]
    for se in ses:
        assert math.isfinite(se) and se > 0


def test_case_mix_adjusted_price_gap_is_structural(key: dict) -> None:
    # generator rule (_engine._start_mentor): internal DKK 200-400, external DKK 300-480 -> mean gap -90
    c = key["casemix"]["hourly_price_dkk|internal - external"]
    assert abs(c["adjusted"] - (-90.0)) < 4 * c["adjusted_se"]
    # hours depend only on the reason: personal/social spells have more hours, raw and adjusted
    h = key["casemix"]["hours_per_week|personal/social - other reasons"]
    assert h["adjusted"] > 2 * h["adjusted_se"] and h["raw"] > 0


def test_static_comparison_is_below_dynamic(key: dict) -> None:
    # conditioning on never being treated biases the static comparison downwards (negative control)
    assert key["dyn_static"] < key["dyn_obs"]


def test_cox_oracle_recovers_mentor_hazard_ratios(key: dict) -> None:
    for h, true in (("self_support", 1.05), ("su", 1.45)):
        r = key["cox"][f"{h}|oracle"]
        assert r["truth"] == true
        assert abs(math.log(r["hr"]) - math.log(true)) <= Z * r["log_se"], (h, r)
    # the education effect is the larger one
    assert key["cox"]["su|oracle"]["hr"] > key["cox"]["self_support|oracle"]["hr"]


def test_no_dose_response_after_adjustment(key: dict) -> None:
    # hours do not enter the generator's hazards: the adjusted high-vs-low difference is noise around 0
    assert abs(key["dose_oracle"]) < 3 * key["dose_oracle_se"]
    assert abs(key["dose_adj"]) < 3 * key["dose_adj_se"]
    assert abs(key["dose_adj"]) < abs(key["dose_raw"])  # the raw gradient is selection


def test_dynamic_mentor_design(key: dict) -> None:
    # most treated starts are internal mentors starting with a programme; persons starting a programme without a
    # mentor are kept as controls (other_starts="covariate"), later starts off the risk set do not censor
    assert 0.5 < key["dyn_share_at_programme_start"] < 1
    assert key["dyn_other_start_kept"] > key["dyn_treated"]
    assert 0 < key["dyn_off_risk_kept"] < key["dyn_rows"]
    assert 0 < key["dyn_controls_later_share"] < 1


def test_dynamic_mentor_estimates_cover_the_truth_for_their_own_treated(key: dict) -> None:
    # the truth for exactly the estimation-treated starts (att_for_sample) is a subset mean of att_of's persons
    assert key["truth_sample"] == key["truth_sample_oracle"]  # same treated rows in both designs
    assert 0 < key["truth_sample_se"] and math.isfinite(key["truth_sample"])
    for est, se in (("dyn_oracle", "dyn_oracle_se"), ("dyn_obs", "dyn_obs_se")):
        assert abs(key[est] - key["truth_sample"]) <= Z * key[se], (est, key[est], key["truth_sample"])
    assert key["dyn_oracle_covers"] and key["dyn_obs_covers"]


def test_cap_simulation(key: dict) -> None:
    c = key["cap_sim"]
    assert c is not None and c["recipients"] > 1000
    assert c["longest_capped"] <= key["cap_weeks"]  # the policy is in force in the re-simulated world
    # the cap removes mentor-weeks and cost; in the generator the mentor only raises exit hazards, so the
    # cap cannot raise self-support by more than noise (new spells may start sooner after a capped one)
    assert 0 < c["weeks_saved_share"] < 1 and 0 < c["cost_saved_share"] < 1
    assert c["effect"] <= 1.96 * c["se"]
    assert abs(c["mean_with"] - c["mean_without"] - c["effect"]) < 1e-3
    # most recipients' paths are untouched: the effect is a small hazard multiplier beyond week 13
    assert 0 <= c["share_changed"] < 0.2
