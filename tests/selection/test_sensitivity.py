from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaltools.datasets.mroz import load
from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError
from evaltools.selection.sensitivity import (
    OsterResults,
    RosenbaumBounds,
    oster_bounds,
    oster_delta,
    rosenbaum_bounds,
)

REFDIR = Path(__file__).resolve().parents[1] / "reference" / "selection"
LEAD = json.loads((REFDIR / "rosenbaum_lead" / "expected.json").read_text())
OSTER = json.loads((REFDIR / "oster_mroz" / "expected.json").read_text())


# --------------------------------------------------------------- Rosenbaum
def test_rosenbaum_wilcoxon_matches_reference() -> None:
    res = rosenbaum_bounds(LEAD["treated"], LEAD["control"], gammas=LEAD["gammas"])
    assert isinstance(res, RosenbaumBounds)
    assert res.statistic == LEAD["wilcoxon_T"] and res.n_pairs == LEAD["n_pairs"] and res.n_zero == 1
    # closed form: rtol 1e-8; R computes 1 - pnorm(z), which cancels to 0 below ~1e-16, hence atol
    np.testing.assert_allclose(res.table["pvalue_upper"], LEAD["wilcoxon_upper"], rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(res.table["pvalue_lower"], LEAD["wilcoxon_lower"], rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(res.table["hl_lower"], LEAD["hl_lower"], rtol=1e-12)
    np.testing.assert_allclose(res.table["hl_upper"], LEAD["hl_upper"], rtol=1e-12)
    # at Gamma = 1 both bounds equal the usual Wilcoxon signed-rank normal-approximation p-value
    d = np.subtract(LEAD["treated"], LEAD["control"])
    ref = stats.wilcoxon(d[d != 0], alternative="greater", method="approx", correction=False)
    assert res.table["pvalue_upper"].iloc[0] == pytest.approx(ref.pvalue, rel=1e-10)
    # at Gamma = 1 the HL bounds are the HL estimate: median of the Walsh averages
    i, j = np.triu_indices(d[d != 0].size)
    dd = d[d != 0]
    assert res.table["hl_lower"].iloc[0] == pytest.approx(np.median((dd[i] + dd[j]) / 2))
    assert res.critical_gamma(0.05) == 5.0


def test_rosenbaum_sign_matches_reference() -> None:
    res = rosenbaum_bounds(LEAD["treated"], LEAD["control"], gammas=LEAD["gammas"], test="sign")
    assert res.statistic == LEAD["sign_T"]
    np.testing.assert_allclose(res.table["pvalue_upper"], LEAD["sign_upper"], rtol=1e-8)
    np.testing.assert_allclose(res.table["pvalue_lower"], LEAD["sign_lower"], rtol=1e-8)
    assert "hl_lower" not in res.table.columns


def test_rosenbaum_less_is_mirror() -> None:
    a = rosenbaum_bounds(LEAD["treated"], LEAD["control"], gammas=[1, 2])
    b = rosenbaum_bounds(LEAD["control"], LEAD["treated"], gammas=[1, 2], alternative="less")
    cols = ["pvalue_lower", "pvalue_upper"]
    np.testing.assert_allclose(a.table[cols], b.table[cols])
    np.testing.assert_allclose(a.table["hl_lower"], -b.table["hl_upper"])


def test_rosenbaum_from_matching_result() -> None:
    d = np.subtract(LEAD["treated"], LEAD["control"]).astype(float)
    fake = SimpleNamespace(estimand="ATT", matches=pd.DataFrame(
        {"unit": np.arange(d.size), "match": np.arange(d.size) + 100, "weight": 1.0, "effect": d}))
    a = rosenbaum_bounds(fake, gammas=[1, 3])
    b = rosenbaum_bounds(LEAD["treated"], LEAD["control"], gammas=[1, 3])
    pd.testing.assert_frame_equal(a.table, b.table)
    fake2 = SimpleNamespace(estimand="ATT", matches=fake.matches.assign(weight=0.5))
    with pytest.raises(SpecificationError, match="1:1 matched pairs"):
        rosenbaum_bounds(fake2)
    with pytest.raises(SpecificationError, match="ATT"):
        rosenbaum_bounds(SimpleNamespace(estimand="ATE", matches=fake.matches))


def test_rosenbaum_input_errors() -> None:
    with pytest.raises(SpecificationError, match=r"'test' parameter of rosenbaum_bounds must be a str among"):
        rosenbaum_bounds([1, 2], [0, 1], test="ttest")
    with pytest.raises(SpecificationError, match="Gamma must be a finite number >= 1"):
        rosenbaum_bounds([1, 2], [0, 1], gammas=[0.5])
    with pytest.raises(DataValidationError, match="one value per pair"):
        rosenbaum_bounds([1, 2, 3], [0, 1])
    with pytest.raises(DataValidationError, match="zero or missing"):
        rosenbaum_bounds([1, 2], [1, 2])
    with pytest.raises(SpecificationError, match="two arrays"):
        rosenbaum_bounds([1, 2])
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 4 rows"):
        res = rosenbaum_bounds([1, 2, np.nan, 4], [0, 1, 1, 1])
    assert res.n_missing == 1 and "missing outcome were dropped" in str(res)


def test_rosenbaum_monte_carlo_size() -> None:
    # Known truth: no effect, and within each pair the unit with the larger outcome is treated
    # with probability Gamma0 / (1 + Gamma0) (a hidden bias of exactly Gamma0).  The upper
    # bound at Gamma0 must then be a valid test (rejection rate <= 5% up to MC error); the
    # naive Gamma = 1 test must over-reject.
    rng = np.random.default_rng(11)
    gamma0, reps, n = 2.0, 300, 60
    rej_upper, rej_naive = 0, 0
    for _ in range(reps):
        y = rng.normal(size=(n, 2))
        hi, lo = y.max(axis=1), y.min(axis=1)
        treat_hi = rng.random(n) < gamma0 / (1 + gamma0)
        t = np.where(treat_hi, hi, lo)
        c = np.where(treat_hi, lo, hi)
        tab = rosenbaum_bounds(t, c, gammas=[1.0, gamma0]).table
        rej_naive += tab["pvalue_upper"].iloc[0] < 0.05
        rej_upper += tab["pvalue_upper"].iloc[1] < 0.05
    mc = np.sqrt(0.05 * 0.95 / reps)
    assert rej_upper / reps <= 0.05 + 3 * mc
    assert rej_naive / reps > 0.5


# ------------------------------------------------------------------- Oster
@pytest.fixture(scope="module")
def workers() -> pd.DataFrame:
    m = load()
    return m[m.inlf == 1]


@pytest.mark.parametrize("case", ["rmax_1.3Rt", "rmax_0.5"])
def test_oster_matches_reference(workers: pd.DataFrame, case: str) -> None:
    ref = OSTER["cases"][case]
    rmax = None if case == "rmax_1.3Rt" else 0.5
    kw = {"outcome": "lwage", "treatment": "educ", "controls": OSTER["controls"], "rmax": rmax}
    res = oster_bounds(workers, **kw)
    assert isinstance(res, OsterResults)
    assert res.rmax == pytest.approx(ref["rmax"], rel=1e-12)
    # closed form (OLS + formulas): rtol 1e-8
    for ours, key in ((res.beta_short, "beta_short"), (res.beta_controlled, "beta_controlled"),
                      (res.r2_short, "r2_short"), (res.r2_controlled, "r2_controlled"),
                      (res.var_y, "var_y"), (res.var_x, "var_x"), (res.tau_x, "tau_x")):
        assert ours == pytest.approx(OSTER[key], rel=1e-8)
    assert res.delta == pytest.approx(ref["delta_beta0"], rel=1e-8)
    assert oster_delta(workers, **kw, beta=0.05) == pytest.approx(ref["delta_beta0.05"], rel=1e-8)
    for dlt in (1, 0.5, 2):
        b = oster_bounds(workers, **kw, delta=dlt)
        assert b.beta_star == pytest.approx(ref[f"beta_star_delta{dlt:g}"], rel=1e-8)
        # consistency: delta evaluated at beta* returns the assumed delta
        back = oster_bounds(workers, **kw, beta=b.beta_star)
        assert back.delta == pytest.approx(dlt, rel=1e-7)


def test_oster_approximation_and_summary(workers: pd.DataFrame) -> None:
    # with Rmax barely above R~ the exact beta* and the first-order approximation coincide
    base = oster_bounds(workers, outcome="lwage", treatment="educ", controls=OSTER["controls"])
    res = oster_bounds(workers, outcome="lwage", treatment="educ", controls=OSTER["controls"],
                       rmax=base.r2_controlled + 1e-6)
    assert res.beta_star == pytest.approx(res.beta_star_approx, rel=1e-4)
    assert res.beta_star == pytest.approx(res.beta_controlled, rel=1e-3)
    text = str(base)
    assert "1.3 x R~" in text and "Identified set" in text
    with pytest.raises(AttributeError):
        base.delta = 3.0  # type: ignore[misc]


def test_oster_errors(workers: pd.DataFrame) -> None:
    kw = {"outcome": "lwage", "treatment": "educ", "controls": OSTER["controls"]}
    with pytest.raises(SpecificationError, match="rmax must lie in"):
        oster_bounds(workers, **kw, rmax=0.1)
    with pytest.raises(DataValidationError, match="not found"):
        oster_bounds(workers, outcome="lwage", treatment="educ", controls=["nope"])
    with pytest.raises(SpecificationError, match="unexpected keyword"):
        oster_delta(workers, **kw, delta=2)
    with pytest.raises(SpecificationError, match="distinct"):
        oster_bounds(workers, outcome="lwage", treatment="educ", controls=["educ", "age"])
    d = workers.copy()
    d.iloc[:5, d.columns.get_loc("age")] = np.nan
    with pytest.warns(DroppedRowsWarning, match="dropped 5 of 428 rows"):
        res = oster_bounds(d, **kw)
    assert res.nobs == 423 and res.n_dropped == 5


def test_rosenbaum_with_evaltools_matching() -> None:
    from evaltools.datasets.nsw import load as load_nsw
    from evaltools.selection.matching import Matching

    d = load_nsw()
    res = Matching(d, outcome="re78", treatment="treat",
                   covariates=["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"],
                   n_neighbors=1, replace=False, ties=False).fit()
    m = res.matches
    a = rosenbaum_bounds(res, gammas=[1, 1.5])
    b = rosenbaum_bounds(d.re78.loc[m.unit].to_numpy(), d.re78.loc[m.match].to_numpy(), gammas=[1, 1.5])
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.n_pairs + a.n_zero == 185 and a.n_zero > 0   # pairs with re78 = 0 on both sides
