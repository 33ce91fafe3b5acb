"""Tests of the known truth returned by evaltools.synth.generate."""

from __future__ import annotations

import numpy as np
import pytest

from evaltools.exceptions import SpecificationError
from evaltools.synth import PROGRAMMES, SynthConfig, Truth, generate, structural_effects

NULL = SynthConfig(
    lockin=dict.fromkeys(PROGRAMMES, 1.0),
    post=dict.fromkeys(PROGRAMMES, 1.0),
    sanction_effect=((4, 1.0),),
    mentor_edu_effect=1.0,
    mentor_job_effect=1.0,
)


def test_null_effects_give_exactly_zero_att():
    """With every structural effect equal to 1, switching a treatment off changes no outcome."""
    res = generate(NULL, seed=21, n_persons=3000, years=4)
    att = res.truth.att
    assert (att["n_treated"] > 0).all()
    assert np.array_equal(att["att"].to_numpy(), np.zeros(len(att)))
    # but programmes still happen and paths are not trivially identical
    assert len(res.panel.events["activation"]) > 1000


def test_att_follows_the_structural_parameters():
    strong = SynthConfig(lockin=NULL.lockin | {"loentilskud": 1.0}, post=NULL.post | {"loentilskud": 3.0})
    weak = SynthConfig(lockin=NULL.lockin | {"loentilskud": 0.2}, post=NULL.post | {"loentilskud": 1.0})
    a = generate(strong, seed=22, n_persons=4096, years=3).truth
    b = generate(weak, seed=22, n_persons=4096, years=3).truth
    row = a.att.set_index(["treatment", "horizon_weeks"]).loc[("loentilskud", 52)]
    assert row["att"] > 3 * row["se"] > 0
    row = b.att.set_index(["treatment", "horizon_weeks"]).loc[("loentilskud", 52)]
    assert row["att"] < -3 * row["se"] < 0


def test_att_table_matches_potential_outcomes(small_with_truth):
    res = small_with_truth
    pot = res.potential
    for (k, h), row in res.truth.att.set_index(["treatment", "horizon_weeks"]).iterrows():
        sub = pot[(pot["treatment"] == k) & pot[f"y1_{h}"].notna()]
        assert row["n_treated"] == len(sub)
        if len(sub):
            np.testing.assert_allclose(row["att"], (sub[f"y1_{h}"] - sub[f"y0_{h}"]).mean(), rtol=1e-12)
            assert (sub[f"y1_{h}"] <= h).all() and (sub[f"y0_{h}"] >= 0).all()
    # treated persons' first start lies in the window and follows their observation start
    per = res.panel.persons.set_index("person_id")
    assert (pot["start_week"].to_numpy() >= per.loc[pot["person_id"], "obs_start"].to_numpy()).all()


def test_selection_on_unobservables(small_with_truth):
    """Weak types are over-represented among the activated, strong types among wage-subsidy starts."""
    res = small_with_truth
    het = res.hidden.set_index("person_id")["het_type"].astype(str)
    pot = res.potential
    all_low = (het == "low").mean()
    sf = het.loc[pot.loc[pot["treatment"] == "saerligt_forloeb", "person_id"]]
    lt = het.loc[pot.loc[pot["treatment"] == "loentilskud", "person_id"]]
    assert (sf == "low").mean() > all_low + 0.1
    assert (lt == "high").mean() > (sf == "high").mean()


def test_truth_accessors_and_json_roundtrip(small_with_truth, tmp_path):
    truth = small_with_truth.truth
    cfg = SynthConfig()
    assert truth.hazard_ratio("lockin", "loentilskud") == cfg.lockin["loentilskud"]
    assert truth.hazard_ratio("post", "virksomhedspraktik") == cfg.post["virksomhedspraktik"]
    assert truth.hazard_ratio("sanction", "sanction", weeks_since=0) == 1.9
    assert truth.hazard_ratio("sanction", "sanction", weeks_since=9) == 1.3
    assert truth.hazard_ratio("sanction", "sanction", weeks_since=40) == 1.0
    assert (
        truth.att_of("loentilskud", 52)
        == truth.att.set_index(["treatment", "horizon_weeks"]).loc[("loentilskud", 52), "att"]
    )
    with pytest.raises(SpecificationError, match="horizon"):
        truth.att_of("loentilskud", 53)
    with pytest.raises(SpecificationError, match="treatment"):
        truth.att_of("lontilskud")
    frame = truth.to_frame()
    assert {"kind", "treatment", "detail", "value"} <= set(frame.columns)
    assert len(frame) == len(truth.hazard_ratios) + len(truth.att)
    path = truth.to_json(tmp_path / "t.json")
    back = Truth.read_json(path)
    np.testing.assert_array_equal(back.att["att"].to_numpy(), truth.att["att"].to_numpy())
    np.testing.assert_array_equal(
        back.hazard_ratios["ratio"].to_numpy(), truth.hazard_ratios["ratio"].to_numpy()
    )
    assert back.hazard_ratio("sanction", "sanction", weeks_since=100) == 1.0
    assert "Estimand" not in str(truth) and "True effects" in str(truth)
    assert "ATT of starting treatment k" in truth.meta["estimand"]


def test_structural_effects_table():
    cfg = SynthConfig(sanction_effect=((2, 3.0), (6, 1.5)))
    hr = structural_effects(cfg)
    s = hr[hr["effect"] == "sanction"]
    assert s["ratio"].tolist() == [3.0, 1.5, 1.0]
    assert s["weeks_from"].tolist() == [0, 2, 6]


def test_att_for_sample_reproduces_att_of_and_subsets(small_with_truth):
    from evaltools.exceptions import DataValidationError
    from evaltools.synth import att_for_sample

    pot = small_with_truth.potential
    truth = small_with_truth.truth
    for k, h in (("loentilskud", 52), ("mentor", 156)):
        full = pot[(pot["treatment"].astype(str) == k) & pot[f"y1_{h}"].notna()]
        got = att_for_sample(pot, full.rename(columns={"start_week": "week"}), k, h)
        row = truth.att.query("treatment == @k and horizon_weeks == @h").iloc[0]
        assert got["n_treated"] == row["n_treated"]
        np.testing.assert_allclose(got[["att", "se", "mean_treated"]].to_numpy(float),
                                   row[["att", "se", "mean_treated"]].to_numpy(float), rtol=1e-12)
    # a subset: hand-computed mean of the individual effects
    sub = full.iloc[::3]
    got = att_for_sample(pot, sub.rename(columns={"start_week": "week"}), "mentor", 156)
    assert np.isclose(got["att"], (sub["y1_156"] - sub["y0_156"]).mean(), rtol=1e-12)
    # rows that are not a simulated first start are refused, with the count and examples
    bad = sub.rename(columns={"start_week": "week"}).assign(week=lambda d: d["week"] + 1)
    with pytest.raises(DataValidationError, match=r"treated rows have no simulated counterfactual"):
        att_for_sample(pot, bad, "mentor", 156)
    with pytest.raises(ValueError, match="horizon"):
        att_for_sample(pot, sub.rename(columns={"start_week": "week"}), "mentor", 12)
