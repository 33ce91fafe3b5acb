"""Balance and Rosenbaum sensitivity of DynamicEvaluation results by elapsed band."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from evaltools.exceptions import SpecificationError  # noqa: E402
from evaltools.selection import balance_table, ecdf_balance, rosenbaum_bounds  # noqa: E402
from evaltools.selection._dynamic_sensitivity import BandRosenbaum, _match_band  # noqa: E402
from evaltools.selection.dynamic import DynamicEvaluation  # noqa: E402
from evaltools.selection.sensitivity import critical_gamma, pvalue_bounds  # noqa: E402
from evaltools.synth import generate  # noqa: E402

from .test_dynamic import BANDS, COV, _spell_cov, mc_config  # noqa: E402


@pytest.fixture(scope="module")
def draw():
    return generate(mc_config(), seed=11, n_persons=4096, years=4)


@pytest.fixture(scope="module", params=["ipw", "matching"])
def fit(draw, request):
    de = DynamicEvaluation(
        draw.panel,
        kind="loentilskud",
        benefit=["adagpenge", "kontanthjaelp"],
        covariates=COV,
        elapsed=BANDS,
        spell_covariates=_spell_cov(draw.panel),
        estimator=request.param,
    )
    return de.fit(progress=False)


def _band_frame(res, b):
    tab = res.model._table
    m = (tab["band"] == b).to_numpy()
    cols = res.model.design_columns
    frame = tab.loc[m, [f"x__{c}" for c in cols]].set_axis(cols, axis=1).reset_index(drop=True)
    frame["t"] = tab.loc[m, "treated"].to_numpy().astype(int)
    return frame, np.where(frame["t"] == 1, 1.0, res._weights[m])


def test_balance_by_band_matches_balance_table(fit):
    bb = fit.balance_by_band()
    det = fit.balance_by_band(detail=True)
    assert list(bb.index) == list(fit.params.index[:-1])
    for b, label in enumerate(bb.index):
        frame, w = _band_frame(fit, b)
        cols = [c for c in fit.model.design_columns if frame.loc[frame.t == 1, c].std() > 0]
        ref = balance_table(frame, "t", cols, weights=w, sd_denominator="treated").table
        np.testing.assert_allclose(
            det.loc[label].loc[cols, "smd_before"], ref["smd_before"], rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(
            det.loc[label].loc[cols, "smd_after"], ref["smd_after"], rtol=1e-10, atol=1e-12
        )
        ks = ecdf_balance(frame, "t", cols, weights=w)
        np.testing.assert_allclose(det.loc[label].loc[cols, "ks_before"], ks["ks_before"], rtol=1e-12)
        np.testing.assert_allclose(det.loc[label].loc[cols, "ks_after"], ks["ks_after"], rtol=1e-12)
        wc = w[frame.t == 0]
        assert bb.loc[label, "ess_controls"] == pytest.approx(wc.sum() ** 2 / (wc**2).sum(), rel=1e-12)
        assert bb.loc[label, "max_abs_smd_after"] == pytest.approx(det.loc[label, "smd_after"].abs().max())
        assert bb.loc[label, "n_treated"] == fit.by_elapsed["n_treated"].iloc[b]
    if fit.model.estimator == "ipw":
        np.testing.assert_allclose(bb["ess_controls"], fit.by_elapsed["ess_controls"], rtol=1e-10)
    # the weights improve balance on average
    assert (bb["max_ks_after"] <= bb["max_ks_before"] + 1e-12).mean() >= 0.75


def test_rosenbaum_by_band_pairs(fit):
    rb = fit.rosenbaum_bounds()
    assert isinstance(rb, BandRosenbaum)
    t = rb.table
    per = t.drop(index="pooled")
    assert (per["n_pairs"] + per["n_no_match"] + per["n_person_used"] == per["n_treated"]).all()
    assert t.loc["pooled", "n_pairs"] == per["n_pairs"].sum()
    # pooled bounds = the bounds of all pairs together; persons appear in at most one pair
    pr = rb.pairs
    assert len(pr) == t.loc["pooled", "n_pairs"]
    persons = np.r_[pr["treated_person"], pr["control_person"]]
    assert len(np.unique(persons)) == persons.size
    tab = fit.model._table
    assert (tab["treated"].to_numpy()[pr["treated_row"]] == 1).all()
    assert (tab["treated"].to_numpy()[pr["control_row"]] == 0).all()
    assert (tab["band"].to_numpy()[pr["treated_row"]] == tab["band"].to_numpy()[pr["control_row"]]).all()
    pooled = rosenbaum_bounds(
        pr["y_treated"], pr["y_control"], gammas=rb.bounds["pooled"].table.index, alternative=rb.alternative
    )
    pd.testing.assert_frame_equal(pooled.table, rb.bounds["pooled"].table)
    # the critical Gamma solves p_upper(Gamma) = alpha when the pairs are significant at Gamma = 1
    for label, row in t.iterrows():
        sub = pr if label == "pooled" else pr[pr["band"] == label]
        if row["pvalue"] < 0.05:
            up = (
                rosenbaum_bounds(
                    sub["y_treated"],
                    sub["y_control"],
                    gammas=[row["critical_gamma"]],
                    alternative=rb.alternative,
                )
                .table["pvalue_upper"]
                .iloc[0]
            )
            assert row["critical_gamma"] > 1 and up == pytest.approx(0.05, rel=1e-6)
        else:
            assert row["critical_gamma"] == 1.0
    ax = rb.plot()
    assert "Gamma" in ax.get_ylabel() and ax.get_title()
    assert "Risk-set matching" in str(rb)
    rb2 = fit.rosenbaum_bounds(unique_persons=False, caliper=None, test="sign", alternative="greater")
    assert (rb2.table["n_person_used"] == 0).all() and (rb2.table["n_no_match"] == 0).all()
    assert rb2.table.loc["pooled", "n_pairs"] == rb2.table.loc["pooled", "n_treated"]
    with pytest.raises(SpecificationError, match="alternative"):
        fit.rosenbaum_bounds(alternative="two-sided")
    with pytest.raises(SpecificationError, match="caliper"):
        fit.rosenbaum_bounds(caliper=-1)


def test_match_band_is_greedy_nearest_without_replacement():
    rng = np.random.default_rng(4)
    lt = rng.normal(0.5, 1, 30)
    lc = rng.normal(0, 1, 200)
    pt = np.arange(30)
    pc = 100 + rng.integers(0, 120, 200)  # several control rows per person
    used: set = set()
    ti, ci, n_cal, n_used = _match_band(lt, pt, lc, pc, 0.3, used)
    # brute force: same order, nearest available control, persons used once
    avail = np.ones(200, bool)
    bt, bc, bcal = [], [], 0
    for i in np.argsort(-lt, kind="stable"):
        dist = np.where(avail, np.abs(lc - lt[i]), np.inf)
        k = int(np.argmin(dist))
        if not np.isfinite(dist[k]) or dist[k] > 0.3:
            bcal += 1
            continue
        bt.append(i)
        bc.append(k)
        avail[pc == pc[k]] = False
    assert list(ti) == bt and list(ci) == bc and n_cal == bcal and n_used == 0
    assert len(set(pc[ci])) == len(ci)  # a control person at most once
    # persons in `used` are neither matched as controls nor as treated
    ti2, ci2, _, n_used2 = _match_band(lt, pt, lc, pc, None, {0, 1, int(pc[0])})
    assert n_used2 == 2 and 0 not in set(pt[ti2]) and int(pc[0]) not in set(pc[ci2])


def _pairs_mc(gamma0: float, reps: int, n_pairs: int, seed: int) -> dict[str, float]:
    """Pairs with a hidden u; the higher-u member is treated w.p. gamma0 / (1 + gamma0); no effect."""
    rng = np.random.default_rng(seed)
    rej_naive = rej_bound = 0
    for _ in range(reps):
        u = rng.normal(size=(n_pairs, 2))
        hi = np.argmax(u, axis=1)
        treat_hi = rng.random(n_pairs) < gamma0 / (1 + gamma0)
        tidx = np.where(treat_hi, hi, 1 - hi)
        y = u + rng.normal(scale=0.5, size=(n_pairs, 2))  # outcome driven by u only
        d = y[np.arange(n_pairs), tidx] - y[np.arange(n_pairs), 1 - tidx]
        d = d[d != 0]
        _, _, up = pvalue_bounds(d, np.array([1.0, gamma0]), "wilcoxon")
        rej_naive += up[0] < 0.05
        rej_bound += up[1] < 0.05
    return dict(naive=rej_naive / reps, bound=rej_bound / reps)


def test_gamma_bound_controls_size_monte_carlo():
    """Hidden confounder with within-pair odds Gamma0 = 2, no effect.

    The Gamma = 1 test rejects far too often, the Gamma0 upper bound at most at the nominal rate (Rosenbaum
    2002, sec. 4.3).
    """
    reps = 300
    mc = _pairs_mc(2.0, reps, 150, seed=5)
    se = np.sqrt(0.05 * 0.95 / reps)
    assert mc["naive"] > 0.3
    assert mc["bound"] <= 0.05 + 3 * se


@pytest.mark.slow
def test_gamma_bound_controls_size_monte_carlo_large():
    reps = 3000
    for g0 in (1.0, 1.5, 3.0):
        mc = _pairs_mc(g0, reps, 200, seed=int(10 * g0))
        assert mc["bound"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / reps), (g0, mc)


def test_critical_gamma_edge_cases():
    assert np.isnan(critical_gamma(np.array([])))
    assert critical_gamma(np.array([1.0, -1.0, 0.5, -0.5])) == 1.0  # not significant at Gamma = 1
    d = np.r_[np.ones(400), -np.ones(10)] * np.arange(1, 411)
    cg = critical_gamma(d)
    up = pvalue_bounds(d, np.array([cg]), "wilcoxon")[2][0]
    assert cg > 3 and up == pytest.approx(0.05, rel=1e-8)
    # all 5,000 pairs positive, sign test: p_upper = (Gamma / (1 + Gamma))^5000 = 0.05
    cg = critical_gamma(np.ones(5000), test="sign")
    assert (cg / (1 + cg)) ** 5000 == pytest.approx(0.05, rel=1e-8)
