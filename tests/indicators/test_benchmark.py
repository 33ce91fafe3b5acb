from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltools.exceptions import DataValidationError, DroppedRowsWarning, SpecificationError
from evaltools.indicators import benchmark, decompose_share_change, did, regression_to_mean

REF = Path(__file__).parents[1] / "reference" / "indicators" / "benchmark_ols"


@pytest.fixture
def munis():
    return pd.read_csv(REF / "input.csv")


@pytest.mark.parametrize("model", ["ols", "wls"])
def test_benchmark_matches_r_lm(munis, model):
    exp = json.loads((REF / "expected.json").read_text())[model]
    res = benchmark(
        munis,
        outcome="share_public_support",
        frame_conditions=["unemployment", "non_western"],
        model=model,
        weights="population" if model == "wls" else None,
    )
    t = res.table
    np.testing.assert_allclose(res.params.to_numpy(), exp["coef"], rtol=1e-8)
    np.testing.assert_allclose(res.bse.to_numpy(), exp["se"], rtol=1e-8)
    np.testing.assert_allclose(t["expected"], exp["fit"], rtol=1e-8)
    np.testing.assert_allclose(t["lower"], exp["lwr"], rtol=1e-8)
    np.testing.assert_allclose(t["upper"], exp["upr"], rtol=1e-8)


def test_benchmark_matches_statsmodels_and_ranks(munis):
    res = benchmark(
        munis,
        outcome="share_public_support",
        frame_conditions=["unemployment", "non_western"],
        project=["M00", "M01", "M02"],
        selected_on_outcome=True,
        alpha=0.1,
    )
    x = sm.add_constant(munis[["unemployment", "non_western"]].to_numpy())
    fit = sm.OLS(munis["share_public_support"].to_numpy(), x).fit()
    sf = fit.get_prediction(x).summary_frame(alpha=0.1)
    t = res.table
    np.testing.assert_allclose(t["expected"], fit.fittedvalues, rtol=1e-10)
    np.testing.assert_allclose(t["lower"], sf["obs_ci_lower"], rtol=1e-10)
    np.testing.assert_allclose(t["difference"], fit.resid, rtol=1e-10, atol=1e-12)
    # rank 1 = most below expectation (lower is better)
    assert t.loc[t["difference"].idxmin(), "rank"] == 1
    assert sorted(t["rank"]) == list(range(1, 41))
    assert res.national_average == pytest.approx(munis["share_public_support"].mean(), rel=1e-15)
    assert res.project_average == pytest.approx(munis["share_public_support"][:3].mean(), rel=1e-15)
    assert t["project"].sum() == 3
    assert "regression to the mean" in str(res)
    assert (t["outside"] == ((t["actual"] < t["lower"]) | (t["actual"] > t["upper"]))).all()
    higher = benchmark(
        munis, outcome="share_public_support", frame_conditions=["unemployment"], better="higher"
    )
    assert higher.table.loc[higher.table["difference"].idxmax(), "rank"] == 1


def test_benchmark_validation(munis):
    m = munis.copy()
    m.loc[3, "unemployment"] = np.nan
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 40"):
        res = benchmark(m, outcome="share_public_support", frame_conditions=["unemployment"])
    assert res.nobs == 39
    with pytest.raises(SpecificationError, match="'model' parameter of benchmark"):
        benchmark(munis, outcome="share_public_support", frame_conditions=["unemployment"], model="glm")
    with pytest.raises(SpecificationError, match="needs weights"):
        benchmark(munis, outcome="share_public_support", frame_conditions=["unemployment"], model="wls")
    with pytest.raises(DataValidationError, match="one row per unit"):
        benchmark(
            pd.concat([munis, munis]), outcome="share_public_support", frame_conditions=["unemployment"]
        )


def _did_panel(rng, n_units=40, n_periods=2, effect=0.05):
    units = np.repeat(np.arange(n_units), n_periods)
    per = np.tile(np.arange(n_periods), n_units)
    treated = units < n_units // 3
    post = per >= n_periods // 2
    alpha = rng.normal(0.3, 0.05, n_units)[units]
    y = alpha + 0.02 * per + effect * (treated & post) + rng.normal(0, 0.02, len(units))
    return pd.DataFrame({"municipality": units, "period": per, "share": y, "project": treated, "post": post})


def test_did_equals_two_by_two_on_balanced_panel():
    d = _did_panel(np.random.default_rng(1))
    res = did(d, outcome="share", treated="project", post="post")
    m = res.means
    assert res.params["did"] == pytest.approx(
        m.loc["project", "change"] - m.loc["other", "change"], rel=1e-10
    )
    # standard error: statsmodels OLS with the same dummies, clustered by municipality
    x = pd.get_dummies(d[["municipality", "period"]].astype("category"), drop_first=True, dtype=float)
    x.insert(0, "did", (d["project"] & d["post"]).astype(float))
    x = sm.add_constant(x)
    ref = sm.OLS(d["share"], x).fit(cov_type="cluster", cov_kwds={"groups": d["municipality"]})
    assert res.bse["did"] == pytest.approx(ref.bse["did"], rel=1e-10)
    assert "40 clusters" in str(res)
    assert "regression to the mean" not in str(res)
    sel = did(d, outcome="share", treated="project", post="post", selected_on_outcome=True)
    assert "regression to the mean" in str(sel)


def test_did_monte_carlo_bias_and_coverage():
    rng = np.random.default_rng(7)
    est, cover = [], []
    for _ in range(150):
        res = did(_did_panel(rng, n_units=30, n_periods=4), outcome="share", treated="project", post="post")
        est.append(res.params["did"])
        lo, hi = res.conf_int().loc["did"]
        cover.append(lo <= 0.05 <= hi)
    est = np.asarray(est)
    assert abs(est.mean() - 0.05) < 4 * est.std() / np.sqrt(len(est))
    assert 0.88 <= np.mean(cover) <= 0.995


def test_did_validation():
    d = _did_panel(np.random.default_rng(2))
    d.loc[0, "project"] = not d.loc[0, "project"]
    with pytest.raises(DataValidationError, match="constant within"):
        did(d, outcome="share", treated="project", post="post")


def test_regression_to_mean_selected_worst():
    rng = np.random.default_rng(3)
    n = 400
    level = rng.normal(0.3, 0.05, n)
    b = level + rng.normal(0, 0.05, n)
    f = level + rng.normal(0, 0.05, n)
    d = pd.DataFrame({"municipality": range(n), "b": b, "f": f})
    d["sel"] = d["b"] <= d["b"].quantile(0.1)
    out = regression_to_mean(d, baseline="b", followup="f", selected="sel")
    # worst performers improve without any effect, and the comparison-group regression explains it
    assert out["actual_change"].mean() > 0.03
    assert abs(out["excess_change"].mean()) < 3 * out["excess_change"].std() / np.sqrt(len(out)) + 0.01
    slope, icpt = np.polyfit(d.loc[~d["sel"], "b"], d.loc[~d["sel"], "f"], 1)
    np.testing.assert_allclose(out["expected_followup"], icpt + slope * out["baseline"], rtol=1e-12)


def test_decompose_share_change_hand_computed():
    before = pd.DataFrame({"person_id": [1, 2, 3, 4, 5], "ready": [1, 0, 0, 1, 1], "m": "A"})
    after = pd.DataFrame({"person_id": [1, 2, 3, 6, 7, 8], "ready": [1, 1, 0, 0, 0, 0], "m": "A"})
    t = decompose_share_change(before, after, value_col="ready", by=["m"])
    r = t.data.iloc[0]
    assert (r["n_stayers"], r["n_leavers"], r["n_entrants"]) == (3, 2, 3)
    assert r["share_before"] == 3 / 5 and r["share_after"] == 2 / 6
    assert r["within"] == pytest.approx(2 / 3 - 1 / 3, rel=1e-15)
    assert r["inflow"] == pytest.approx(3 / 6 * (0 - 2 / 3), rel=1e-15)
    assert r["outflow"] == pytest.approx(2 / 5 * (1 / 3 - 1), rel=1e-15)
    assert r["within"] + r["composition"] == pytest.approx(r["change"], rel=1e-14)
    t0 = decompose_share_change(before, after, value_col="ready")
    assert t0.data["change"].iloc[0] == pytest.approx(r["change"], rel=1e-15)
    assert t0.to_frame()["change"].isna().all()  # 2 leavers: masked on export


# ---------------------------------------------------------------------------------------------
# disclosure control of the per-unit table
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def small_units():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"municipality": [f"M{i:02d}" for i in range(12)], "u": rng.uniform(2, 8, 12)})
    d["share"] = 0.2 + 0.02 * d["u"] + rng.normal(0, 0.03, 12)
    d["persons"] = [2] + [40 + 5 * i for i in range(11)]  # M00 is based on 2 persons
    return d


def test_benchmark_summary_masks_small_unit_fitted_on_the_others(small_units):
    from evaltools.reporting.disclosure import MASK_MARKER

    res = benchmark(small_units, outcome="share", frame_conditions=["u"], project=["M00", "M05"])
    t = res.table
    assert res.n_small_units == 1
    assert t.loc[t["masked"], "municipality"].tolist() == ["M00"]
    assert t["n_persons"].tolist() == small_units["persons"].tolist()
    assert t["actual"].notna().all()  # the analysis table stays exact
    # the regression uses the 11 publishable units only; M00 is predicted out of sample
    keep = small_units["persons"] > 3
    x = sm.add_constant(small_units.loc[keep, ["u"]].to_numpy())
    fit = sm.OLS(small_units.loc[keep, "share"].to_numpy(), x).fit()
    np.testing.assert_allclose(res.params.to_numpy(), fit.params, rtol=1e-10)
    pred = fit.get_prediction(sm.add_constant(small_units[["u"]].to_numpy())).summary_frame()
    np.testing.assert_allclose(t["expected"], pred["mean"], rtol=1e-10)
    np.testing.assert_allclose(t["upper"], pred["obs_ci_upper"], rtol=1e-10)
    assert res.nobs == 11 and res.national_average == pytest.approx(small_units.loc[keep, "share"].mean())
    assert pd.isna(t.loc[0, "rank"]) and sorted(t["rank"].dropna()) == list(range(1, 12))
    ut = res.unit_table()
    assert ut.table.loc[0, ["actual", "difference", "rank", "raw_difference"]].isna().all()
    assert ut.table.loc[1:, "actual"].notna().all()
    assert ut.table["expected"].notna().all()  # a function of the public frame conditions only
    assert (ut.n_primary, ut.n_secondary) == (1, 0)
    s = res.summary()
    unit = s.tables[1]
    assert unit.loc["M00", "actual"] == MASK_MARKER
    assert dict(s.header)["Project average"] == MASK_MARKER
    assert "use the 11 other units only" in str(res)


def _published(res):
    s = res.summary()
    ut = res.unit_table()
    return (
        res.params.to_numpy(),
        res.bse.to_numpy(),
        ut.table.drop(columns=["n_persons"]).astype(str).to_numpy(),
        [v for k, v in s.header if k != "Project average"],
    )


def test_benchmark_published_numbers_do_not_depend_on_masked_outcomes(small_units):
    """The attack of solving X'y = X'X beta and the residual sum of squares has nothing to work on."""
    res = benchmark(small_units, outcome="share", frame_conditions=["u"])
    for fake in (0.0, 0.9, -5.0):
        other = benchmark(
            small_units.assign(share=small_units["share"].where(small_units["persons"] > 3, fake)),
            outcome="share",
            frame_conditions=["u"],
        )
        for a, b in zip(_published(res), _published(other)):
            np.testing.assert_array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    # refitting without a further unit (masked in a linked table) masks it too
    r2 = res.refit_without(["M05"], note="Masked in a linked table.")
    assert r2.table["masked"].sum() == 2 and r2.nobs == 10
    assert "Masked in a linked table." in str(r2)


def test_benchmark_suppression_opt_out_warns(small_units):
    from evaltools.exceptions import DisclosureWarning

    res = benchmark(small_units, outcome="share", frame_conditions=["u"])
    with pytest.warns(DisclosureWarning):
        ut = res.unit_table(suppress=False)
    assert not ut.mask.to_numpy().any() and ut.table["actual"].notna().all()
    with pytest.warns(DisclosureWarning):
        s = res.summary(suppress=False)
    assert "turned off" in " ".join(s.footnotes)


def test_benchmark_without_counts_is_flagged(munis):
    res = benchmark(munis, outcome="share_public_support", frame_conditions=["unemployment"])
    assert not res.table["masked"].any() and res.table["n_persons"].isna().all()
    assert "were not checked for small cells" in str(res)
    with pytest.raises(DataValidationError, match="count_col"):
        benchmark(munis, outcome="share_public_support", frame_conditions=["unemployment"], count_col="n")


def test_benchmark_no_small_units_nothing_masked(small_units):
    d = small_units.assign(persons=small_units["persons"].where(small_units["persons"] > 3, 50))
    res = benchmark(d, outcome="share", frame_conditions=["u"])
    assert not res.table["masked"].any()
    assert not res.unit_table().mask.to_numpy().any()


def test_benchmark_plot_leaves_out_masked_units(small_units):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evaltools.exceptions import DisclosureWarning

    res = benchmark(small_units, outcome="share", frame_conditions=["u"])
    ax = res.plot()
    assert len(ax.get_yticklabels()) == 11 and "1 units" in ax.get_xlabel()
    with pytest.warns(DisclosureWarning):
        ax = res.plot(suppress=False)
    assert len(ax.get_yticklabels()) == 12
    plt.close("all")
