from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.datasets.rossi import load as load_rossi
from evaltools.duration import CoxPH, TimingOfEvents, build_toe_rows
from evaltools.exceptions import SpecificationError
from evaltools.selection import EValueResults, evalue, evalue_from_results

REF = json.loads(
    (
        Path(__file__).resolve().parents[1]
        / "reference"
        / "selection"
        / "evalue_vanderweele_ding"
        / "expected.json"
    ).read_text()
)
RTOL = 1e-12  # closed form


def test_published_example():
    """VanderWeele & Ding (2017): RR 3.9 (95% CI 1.8-8.7) -> E-value 7.26, for the interval 3.00."""
    t = evalue(3.9, 1.8, 8.7).table.iloc[0]
    assert round(t["evalue"], 2) == 7.26
    assert round(t["evalue_ci"], 2) == 3.00
    assert t["evalue_ci"] == pytest.approx(3.0, rel=1e-14)  # 1.8 + sqrt(1.8 * 0.8) = 3 exactly


@pytest.mark.parametrize(
    "case", REF["cases"], ids=lambda c: f"{c['measure']}_{c['estimate']}_rare{c['rare']}"
)
def test_closed_forms_against_r(case):
    kw = {"rare": case["rare"]} if case["measure"] in ("OR", "HR") else {}
    t = evalue(
        case["estimate"], case["lower"], case["upper"], measure=case["measure"], true=case["true"], **kw
    )
    row = t.table.iloc[0]
    for k in ("rr", "rr_lower", "rr_upper", "evalue", "evalue_ci"):
        assert row[k] == pytest.approx(case[k], rel=RTOL), k


@pytest.mark.parametrize("case", REF["smd"], ids=lambda c: f"d{c['estimate']}")
def test_standardised_difference_against_r(case):
    row = evalue(case["estimate"], measure="SMD", se=case["se"]).table.iloc[0]
    for k in ("rr", "rr_lower", "rr_upper", "evalue", "evalue_ci"):
        assert row[k] == pytest.approx(case[k], rel=RTOL), k


def test_vectorised_and_symmetric():
    t = evalue([2.0, 0.5], [1.5, 0.4], [2.6, 0.666]).table
    assert t["evalue"].iloc[0] == pytest.approx(t["evalue"].iloc[1], rel=1e-14)  # RR and 1/RR
    assert evalue(1.0, 0.8, 1.25).table["evalue"].iloc[0] == 1.0
    assert np.isnan(evalue(2.0).table["evalue_ci"].iloc[0])  # no interval given


def test_cox_hazard_ratios_against_r():
    d = load_rossi()
    d = d.assign(fin=(d["fin"] == "yes").astype(int), start=0)
    fit = CoxPH(d, stop="week", event="arrest", covariates=["fin", "age", "prio"]).fit()
    for rare in (False, True):
        ev = evalue_from_results(fit, rare=rare)
        assert isinstance(ev, EValueResults) and list(ev.table.index) == ["fin", "age", "prio"]
        for c in REF["cox_rossi"]:
            row, ref = ev.table.loc[c["term"]], c["rare" if rare else "common"]
            assert row["hazard_ratio"] == pytest.approx(ref["estimate"], rel=1e-7)
            for k in ("rr", "rr_lower", "rr_upper", "evalue", "evalue_ci"):
                assert row[k] == pytest.approx(ref[k], rel=1e-7), (c["term"], rare, k)
    assert "CoxResults" in str(evalue_from_results(fit, "prio", rare=False))
    ev90 = evalue_from_results(fit, ["prio"], rare=False, alpha=0.1).table.loc["prio"]
    assert 1 < ev90["evalue_ci"] < ev.table.loc["prio", "evalue"]


def test_timing_of_events_effect_terms():
    from evaltools.duration.montecarlo import simulate_toe

    spells = simulate_toe(600, seed=5)
    rows = build_toe_rows(
        spells,
        id="id",
        duration="duration",
        exit="exit",
        treatment_week="treatment_week",
        baseline_bands=[13, 26],
        effect_bands=[13],
        covariates=["x1"],
    )
    res = TimingOfEvents(
        rows,
        id="id",
        duration="duration",
        event="event",
        treated="treated",
        baseline_band="band",
        effect_band="effect_band",
        exit_covariates=["x1"],
        treatment_covariates=["x1"],
        timing="exact",
    ).fit(max_points=1)[1]
    ev = evalue_from_results(res, rare=False)
    terms = [n for v in res.effect_params.values() for n in v]
    assert list(ev.table.index) == terms
    ci = res.conf_int().loc[terms]
    direct = evalue(
        np.exp(res.params[terms]), np.exp(ci.iloc[:, 0]), np.exp(ci.iloc[:, 1]), measure="HR", rare=False
    ).table
    np.testing.assert_allclose(ev.table["evalue"], direct["evalue"], rtol=1e-14)
    np.testing.assert_allclose(ev.table["evalue_ci"], direct["evalue_ci"], rtol=1e-14)


def test_bad_input():
    with pytest.raises(SpecificationError, match="rare=True or rare=False"):
        evalue(2.0, 1.5, 2.5, measure="HR")
    with pytest.raises(SpecificationError, match="measure"):
        evalue(2.0, measure="RD")
    with pytest.raises(SpecificationError, match="positive"):
        evalue(-1.0)
    with pytest.raises(SpecificationError, match="lower <= estimate"):
        evalue(2.0, 2.5, 3.0)
    with pytest.raises(SpecificationError, match="se="):
        evalue(0.3, 0.1, 0.5, measure="SMD")
    with pytest.raises(SpecificationError, match="conf_int"):
        evalue_from_results(pd.Series([1.0]), rare=False)

    class Fake:
        params = pd.Series([0.1], index=["x"])

        def conf_int(self, alpha=0.05):
            return pd.DataFrame({"lower": [0.0], "upper": [0.2]}, index=["x"])

    with pytest.raises(SpecificationError, match="not parameters"):
        evalue_from_results(Fake(), "y", rare=False)
