"""Notebook 03 (sanctions, DISCUS 2011 citing Rosholm & Svarer 2010; Svarer 2011): naive Cox vs ToE vs truth.

The numbers are read from the notebook's ``KEY-RESULTS`` line; the true multipliers
are read from the sample's ``truth.json``, so a regenerated sample changes the
numbers, not the test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from nbrun import ROOT, run_notebook

from evaltools.synth import Truth

TRUTH = ROOT / "data_samples" / "sample_panel" / "truth.json"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_notebook("03_sanctions.ipynb", tmp_path_factory.mktemp("nb03"))


@pytest.fixture(scope="module")
def truth() -> Truth:
    assert Path(TRUTH).is_file()
    return Truth.read_json(TRUTH)


def test_truth_bands_are_the_generators(key: dict, truth: Truth) -> None:
    # band "a-b" (weeks since the shifted treatment, 1-based) = weeks a-1.. since the sanction
    assert key["bands"] == ["1-4", "5-8", "9-13", "14+"]
    expected = [truth.hazard_ratio("sanction", "sanction", weeks_since=w) for w in (0, 4, 8, 13)]
    np.testing.assert_allclose(key["truth_hr"], expected, rtol=1e-6)
    assert key["truth_first_band_log_hr"] == pytest.approx(math.log(expected[0]), abs=1e-4)
    assert expected[0] > expected[1] > expected[2] > expected[3] == 1.0  # fading effect


def test_counts_are_consistent(key: dict) -> None:
    assert 0 < key["n_sanctioned_spells"] < key["n_spells"]
    assert 0 < key["n_exits"] < key["n_spells"]
    assert key["n_persons"] <= key["n_spells"]
    # the Cox rows and the ToE rows describe the same spells, exits and person-weeks
    assert key["n_cp_events"] == key["n_exits"]
    assert key["toe_person_weeks"] == key["spell_weeks"]
    assert key["n_toe_persons"] == key["n_persons"]
    assert key["n_toe_rows"] > key["n_spells"] and key["n_cp_rows"] > key["n_spells"]
    assert 0 <= key["n_dropped_first_week"] < 0.05 * key["n_spells"]


def test_standard_errors_positive_and_finite(key: dict) -> None:
    for name in ("naive_se", "toe_se", "oracle_se"):
        assert len(key[name]) == len(key["bands"]), name
        for v in key[name]:
            assert v is not None and math.isfinite(v) and v > 0, name
    for lo, est, hi in zip(key["toe_lower"], key["toe_log_hr"], key["toe_upper"]):
        assert lo < est < hi


def test_npmle_path(key: dict) -> None:
    ll = key["npmle_loglike_path"]
    assert key["npmle_points"] >= 2
    assert len(ll) == key["npmle_points"]
    assert all(b >= a - 1e-6 for a, b in zip(ll[:-1], ll[1:])), ll
    assert 1 <= key["npmle_aic_points"] <= key["npmle_points"]
    assert 0 < key["npmle_min_prob"] < 1


def test_sanctions_are_selected_on_the_hidden_type(key: dict) -> None:
    assert key["share_low_type_sanctioned"] > key["share_low_type_not_sanctioned"]
    # the naive Cox model is biased downwards relative to the oracle that conditions on the type
    assert key["naive_log_hr"][0] < key["oracle_log_hr"][0]


def test_toe_is_closer_to_the_truth_than_naive_cox(key: dict) -> None:
    t = key["truth_first_band_log_hr"]
    assert abs(key["toe_log_hr"][0] - t) < abs(key["naive_log_hr"][0] - t)
    # the heterogeneity correction moves the estimate away from the one-point (no heterogeneity) fit
    assert key["toe_log_hr"][0] > key["toe1_log_hr"][0]


def test_truth_inside_toe_or_oracle_interval_for_the_main_band(key: dict) -> None:
    t = key["truth_first_band_log_hr"]
    in_toe = key["toe_lower"][0] <= t <= key["toe_upper"][0]
    in_oracle = key["oracle_lower"][0] <= t <= key["oracle_upper"][0]
    assert in_toe or in_oracle
    # the sanction raises the exit hazard in the first weeks (the estimate is positive)
    assert key["toe_log_hr"][0] > 0 and key["oracle_log_hr"][0] > 0


def test_joint_model_with_programme_starts(key: dict, truth: Truth) -> None:
    tab = key["joint_table"]
    assert key["joint_points"] >= 2 and len(tab) == 10  # five programme kinds x (lock-in, post)
    assert key["joint_hazards"][:3] == ["self_support", "su", "sanction"]
    assert all(h.startswith("programme:") for h in key["joint_hazards"][3:])
    ll = key["joint_loglike_path"]
    assert all(b >= a - 1e-6 for a, b in zip(ll[:-1], ll[1:]))
    assert 0 < key["joint_n_next_programme"] < key["joint_n_first_programme"] < key["n_spells"]
    for r in tab:
        effect = "lockin" if r["phase"] == "lock-in" else "post"
        true = math.log(truth.hazard_ratio(effect, r["programme"]))
        assert r["true_log_hr"] == pytest.approx(true, abs=1e-4)
        for label in ("one_point", "toe", "oracle"):
            assert math.isfinite(r[label + "_se"]) and r[label + "_se"] > 0
        # within sampling error of the truth (3 SE: ten effects are checked at once)
        assert abs(r["toe_z"]) < 3 and abs(r["oracle_z"]) < 3, r
        # effects the sample can detect (truth > 2.5 SE) are significant with the right sign
        if abs(r["true_log_hr"]) > 2.5 * r["toe_se"]:
            assert r["toe"] * r["true_log_hr"] > 0 and abs(r["toe"]) > 1.96 * r["toe_se"], r
    assert len(key["joint_sanction_log_hr"]) == len(key["bands"])
    assert all(math.isfinite(v) and v > 0 for v in key["joint_sanction_se"])


def test_one_municipality_runs(tmp_path: Path, key: dict) -> None:
    """A consultant's rerun for one municipality: local unemployment is constant there and is left out."""
    k = run_notebook("03_sanctions.ipynb", tmp_path, municipality="Odense", fit_programmes=False)
    assert 0 < k["n_spells"] < key["n_spells"] and 0 < k["n_sanctioned_spells"] < k["n_spells"]
    # bands without an exit after a sanction are reported as not estimable (None), the others are finite
    for est, se in (("naive_log_hr", "naive_se"), ("toe_log_hr", "toe_se"), ("oracle_log_hr", "oracle_se")):
        for b, v, s in zip(k["bands"], k[est], k[se], strict=True):
            assert (v is None) == (s is None), (est, b)
            assert v is None or (math.isfinite(v) and abs(v) < 10 and s > 0), (est, b, v, s)
        assert any(v is not None for v in k[est]), est


# --- section 7: competing exits (MultiStateAalenJohansen, FineGray) ---------------------------------------


def test_competing_exits_occupation_adds_up_and_matches_aalen_johansen(key: dict) -> None:
    states = key["cr_states"]
    assert states[0] == "on benefit"
    assert set(states[1:]) == {"job", "education", "other benefit", "disability pension"}
    counts = key["cr_n_by_destination"]
    assert sum(counts.values()) == key["n_spells"]
    # the exits to self-support of the Cox sample are the job exits here (same follow-up rule)
    assert counts["job"] == key["n_exits"]
    occ = np.array([key["cr_occupation"][s] for s in states])
    np.testing.assert_allclose(occ.sum(axis=0), 1.0, rtol=1e-12)
    assert np.all(np.diff(key["cr_occupation"]["on benefit"]) < 0)
    # every destination is absorbing within a spell: its occupation probability is the competing-risk
    # cumulative incidence, computed independently by AalenJohansen (both are the Aalen-Johansen estimator)
    for state, cif in key["cr_aj_cif"].items():
        assert key["cr_occupation"][state][-1] == pytest.approx(cif, rel=1e-10), state
    for state in states:
        assert all(se > 0 for se in key["cr_occupation_se"][state]), state


def test_fine_gray_average_prediction_matches_the_nonparametric_share(key: dict) -> None:
    # the model's average predicted share by the horizon is close to the Aalen-Johansen share (within two of
    # its standard errors): a misspecified subdistribution model would drift away from it
    for cause, marginal in key["cr_fg_marginal_cif"].items():
        aj = key["cr_aj_cif"][cause]
        se = key["cr_occupation_se"][cause][-1]
        assert abs(marginal - aj) <= 2 * se, (cause, marginal, aj, se)


def test_fine_gray_orders_destinations_as_the_generator_does(key: dict) -> None:
    # the generator's weekly hazards (SynthConfig): disability pension by match category and age, the job exit
    # multiplied by a readiness factor falling with the match category
    from evaltools.synth import SynthConfig

    cfg = SynthConfig()
    foep = [cfg.exit_foep[f"match{m}"] for m in (1, 2, 3)]
    assert foep[0] < foep[1] < foep[2] and cfg.foep_age_slope > 0
    dis, job = key["cr_fg_params"]["disability pension"], key["cr_fg_params"]["job"]
    dis_se, job_se = key["cr_fg_se"]["disability pension"], key["cr_fg_se"]["job"]
    # clearly signed (more than three standard errors from zero) in the generator's direction
    assert dis["match3"] > 3 * dis_se["match3"] and dis["match1"] < -3 * dis_se["match1"]
    assert dis["age_minus_45"] > 3 * dis_se["age_minus_45"]
    assert job["match3"] < -3 * job_se["match3"] and job["match1"] > 3 * job_se["match1"]
    d1, d2, d3 = key["cr_fg_profile_cif"]["disability pension"]
    j1, j2, j3 = key["cr_fg_profile_cif"]["job"]
    assert d1 < d2 < d3 and j1 > j2 > j3
