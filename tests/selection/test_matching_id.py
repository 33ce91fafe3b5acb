"""``Matching(id=...)``: no unit is matched with a row of the same person."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaltools.datasets.nsw import load
from evaltools.exceptions import DataValidationError, OverlapWarning, SpecificationError
from evaltools.selection import _matching_core as core
from evaltools.selection.matching import Matching

X = ["age", "educ", "black", "hisp", "marr", "re74", "re75", "u74", "u75"]


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    d = load()
    return d.assign(u74=(d.re74 == 0) * 1, u75=(d.re75 == 0) * 1, y=d.re78 / 1000)


def _person_weeks(rng: np.random.Generator, n_persons: int = 300) -> pd.DataFrame:
    """Person-week rows: a placement row per placed person and not-yet-placed weeks, some of the same person.

    The trait ``a`` identifies the person (it is the same in every row of that person); ``week`` is the
    row's week. A placed person's rows just before the placement have the placement (and its lock-in) in
    their outcome window: their outcome is lowered by ``LOCKIN``.
    """
    a = rng.random(n_persons)
    placed = rng.random(n_persons) < _p_placed(a)
    start = rng.integers(20, 80, size=n_persons)
    rows = []
    for i in range(n_persons):
        if placed[i]:
            rows.append((i, a[i], start[i], 1, a[i] + TAU))
            for k in (1, 2):  # two weeks shortly before the placement
                rows.append((i, a[i], start[i] - k, 0, a[i] - LOCKIN))
        else:
            # two consecutive not-yet-placed weeks of a never-placed person, spread over the weeks as the
            # placed persons' weeks (so that the two kinds of control rows differ only in the outcome)
            for k in (1, 2):
                rows.append((i, a[i], start[i] - k, 0, a[i]))
    d = pd.DataFrame(rows, columns=["person", "a", "week", "treated", "y"])
    d["y"] = d["y"] + rng.normal(scale=0.5, size=len(d))
    return d


TAU, LOCKIN = 1.0, 1.5


def _p_placed(a: np.ndarray) -> np.ndarray:
    """Probability that a person with trait ``a`` is placed (linear, so the controls' mean outcome is too)."""
    return 0.2 + 0.6 * a


# --- (a) no matched pair shares an id -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(n_neighbors=3, bias_adjust=True),
        dict(n_neighbors=2, ties=False),
        dict(distance="pscore"),
        dict(distance="mahalanobis", caliper=1.0),
        dict(replace=False),
        dict(estimand="ATE"),
        dict(method="radius", caliper=0.3),
        dict(method="kernel"),
    ],
)
def test_no_pair_shares_an_id(kw):
    d = _person_weeks(np.random.default_rng(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        plain = Matching(d, outcome="y", treatment="treated", covariates=["a", "week"], **kw).fit()
        r = Matching(d, outcome="y", treatment="treated", covariates=["a", "week"], id="person", **kw).fit()
    m = r.matches
    assert len(m) > 0
    assert (d.loc[m["unit"], "person"].to_numpy() != d.loc[m["match"], "person"].to_numpy()).all()
    # without the option the same data do pair persons with their own weeks
    pm = plain.matches
    own = d.loc[pm["unit"], "person"].to_numpy() == d.loc[pm["match"], "person"].to_numpy()
    assert own.any()
    # every unit whose plain matches held its own rows is counted (without replacement the rows still
    # available at a unit's turn differ between the two runs)
    if kw.get("replace", True):
        assert r.n_same_id_nearest >= len(set(pm.loc[own, "unit"]))
    assert r.n_same_id_nearest > 0 and r.n_same_id_candidates > 0
    assert plain.n_same_id_nearest is None and plain.n_same_id_candidates is None
    assert "same 'person'" in str(r.summary())


def _own_matched(d: pd.DataFrame, res) -> int:
    m = res.matches
    own = d.loc[m["unit"], "person"].to_numpy() == d.loc[m["match"], "person"].to_numpy()
    return len(set(m.loc[own, "unit"]))


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_counts_of_excluded_candidates(estimand):
    d = _person_weeks(np.random.default_rng(2))
    kw = dict(outcome="y", treatment="treated", covariates=["a", "week"], estimand=estimand, n_neighbors=2)
    plain = Matching(d, **kw).fit()
    r = Matching(d, id="person", **kw).fit()
    n_t = r.n_treated
    # every placed person has exactly two own not-yet-placed weeks among the controls; for the ATE each of
    # those weeks also has its person's placement row among the treated
    assert r.n_same_id_candidates == (2 * n_t if estimand == "ATT" else 4 * n_t)
    # the units whose matches the option changes are those that were matched with their own rows
    assert r.n_same_id_nearest == _own_matched(d, plain) > 0.8 * n_t
    assert f"Same-id nearest excluded: {r.n_same_id_nearest}" in str(r.summary())


# --- (b) unique ids: identical to no option ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,vn",
    [
        (dict(), 0),
        (dict(n_neighbors=4, bias_adjust=True), 4),
        (dict(n_neighbors=4, bias_adjust=True, distance="mahalanobis"), 1),
        (dict(distance="pscore"), 2),
        (dict(caliper=0.5), 2),
        (dict(replace=False), 0),
        (dict(ties=False, n_neighbors=3), 1),
        (dict(estimand="ATE", bias_adjust=True), 3),
        (dict(method="kernel"), 0),
        (dict(exact=["black"]), 2),
    ],
)
def test_unique_ids_change_nothing(nsw, kw, vn):
    d = nsw.assign(pid=[f"p{i}" for i in range(len(nsw))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        a = Matching(d, outcome="y", treatment="treat", covariates=X, **kw).fit(variance_neighbors=vn)
        b = Matching(d, outcome="y", treatment="treat", covariates=X, id="pid", **kw)
        b = b.fit(variance_neighbors=vn)
    np.testing.assert_allclose(b.estimate, a.estimate, rtol=0, atol=0)
    np.testing.assert_allclose(b.bse.iloc[0], a.bse.iloc[0], rtol=0, atol=0)
    pd.testing.assert_frame_equal(b.matches, a.matches, check_exact=True)
    assert b.n_same_id_nearest == 0 and b.n_same_id_candidates == 0


# --- (c) a hand-computed case -----------------------------------------------------------------------------


@pytest.fixture
def hand() -> pd.DataFrame:
    # person A is placed at x = 0; its own earlier week (x = 0.1) is its nearest control, person C (x = 0.5)
    # the nearest control of another person; person B (x = 2) has D (x = 2.2) nearest
    return pd.DataFrame(
        {
            "person": ["A", "A", "C", "B", "D"],
            "x": [0.0, 0.1, 0.5, 2.0, 2.2],
            "t": [1, 0, 0, 1, 0],
            "y": [5.0, 4.0, 1.0, 3.0, 2.0],
        },
        index=[10, 11, 12, 13, 14],
    )


def test_hand_case_estimate_and_se(hand):
    plain = Matching(hand, outcome="y", treatment="t", covariates=["x"]).fit()
    r = Matching(hand, outcome="y", treatment="t", covariates=["x"], id="person").fit()
    assert plain.matches[["unit", "match"]].values.tolist() == [[10, 11], [13, 14]]
    assert r.matches[["unit", "match"]].values.tolist() == [[10, 12], [13, 14]]
    # plain: (5 - 4 + 3 - 2) / 2 = 1; with id: A against C, (5 - 1 + 3 - 2) / 2 = 2.5
    assert plain.estimate == pytest.approx(1.0, rel=1e-12)
    assert r.estimate == pytest.approx(2.5, rel=1e-12)
    # AI SE (Var.calc = 0), each control used once (K^2 - K = 0): ((4 - 2.5)^2 + (1 - 2.5)^2) / 2^2
    assert r.bse.iloc[0] == pytest.approx(np.sqrt(4.5 / 4), rel=1e-12)
    assert r.n_same_id_nearest == 1 and r.n_same_id_candidates == 1


def test_hand_case_bias_adjustment(hand):
    r = Matching(hand, outcome="y", treatment="t", covariates=["x"], id="person", bias_adjust=True).fit()
    # regression of y on x over the used controls C (0.5, 1) and D (2.2, 2): slope 1 / 1.7
    b = 1 / 1.7
    tau_a = 5 - (1 + (0.0 - 0.5) * b)
    tau_b = 3 - (2 + (2.0 - 2.2) * b)
    assert r.estimate == pytest.approx((tau_a + tau_b) / 2, rel=1e-12)


def test_hand_case_conditional_variance_excludes_the_same_person():
    # controls: A's two weeks (x = 0, 0.1; y = 0, 4), C (x = 0.3, y = 10), D (x = 3, y = 2);
    # placed: B (x = 0.2), F (x = 0.12), E (x = 2.9), each a person of its own
    d = pd.DataFrame(
        {
            "person": ["A", "A", "C", "D", "B", "F", "E"],
            "x": [0.0, 0.1, 0.3, 3.0, 0.2, 0.12, 2.9],
            "t": [0, 0, 0, 0, 1, 1, 1],
            "y": [0.0, 4.0, 10.0, 2.0, 6.0, 7.0, 3.0],
        }
    )
    r = Matching(d, outcome="y", treatment="t", covariates=["x"], id="person").fit(variance_neighbors=1)
    plain = Matching(d, outcome="y", treatment="t", covariates=["x"]).fit(variance_neighbors=1)
    # the placed share no person with a control: the matches are the same. B ties between A's week 0.1 and
    # C (both 0.1 away), F takes A's week 0.1, E takes D
    for res in (r, plain):
        m = res.matches
        assert sorted(zip(m["unit"], m["match"], strict=True)) == [(4, 1), (4, 2), (5, 1), (6, 3)]
    tau = np.array([6 - (4 + 10) / 2, 7 - 4, 3 - 2])
    est = tau.mean()
    assert r.estimate == pytest.approx(est, rel=1e-12) and plain.estimate == pytest.approx(est, rel=1e-12)
    # AI variance: sum over controls of sigma^2 (K^2 - sum of squared weights), plus the effects' spread.
    # Only A's week 0.1 has a non-zero factor: K = 1/2 + 1, squared weights 1/4 + 1, factor 1.
    # Its conditional variance comes from its nearest control of another person, C (y = 10): var(4, 10);
    # without the option its nearest control is A's own week 0 (y = 0): var(4, 0)
    spread = ((tau - est) ** 2).sum()
    assert r.bse.iloc[0] == pytest.approx(np.sqrt((np.var([4, 10], ddof=1) + spread) / 9), rel=1e-10)
    assert plain.bse.iloc[0] == pytest.approx(np.sqrt((np.var([4, 0], ddof=1) + spread) / 9), rel=1e-10)


# --- the neighbour search against brute force -------------------------------------------------------------


def _brute(zq, zp, m, tol, gq, gp):
    pairs = []
    for i in range(zq.shape[0]):
        d = ((zp - zq[i]) ** 2).sum(axis=1)
        d[gp == gq[i]] = np.inf
        ok = np.isfinite(d)
        if not ok.any():
            continue
        dm = np.sort(d[ok])[min(m, ok.sum()) - 1]
        pairs += [(i, j) for j in np.flatnonzero(ok & (d <= dm + tol))]
    return sorted(pairs)


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("m", [1, 3])
def test_other_group_search_equals_brute_force(k, m):
    rng = np.random.default_rng(7 + k + m)
    zq = np.round(rng.normal(size=(150, k)), 1)  # many exact ties
    zp = np.round(rng.normal(size=(300, k)), 1)
    gq = rng.integers(0, 60, size=150)
    gp = rng.integers(0, 60, size=300)
    q, p, own = core.knn_other_groups(zq, zp, m, 1e-5, gq, gp)
    assert sorted(zip(q.tolist(), p.tolist(), strict=True)) == _brute(zq, zp, m, 1e-5, gq, gp)
    # own_nearest: the unrestricted matches hold a unit of the query's group
    q0, p0 = core.knn_with_ties(zq, zp, m, 1e-5)
    expected = np.bincount(q0[gq[q0] == gp[p0]], minlength=150) > 0
    np.testing.assert_array_equal(own, expected)


def test_greedy_skips_the_same_group():
    zq = np.array([[0.0], [1.0]])
    zp = np.array([[0.01], [0.5], [1.01]])
    own = np.zeros(2, dtype=bool)
    q, p = core.greedy_without_replacement(
        zq, zp, 1, np.array([0, 1]), groups=(np.array([0, 1]), np.array([0, 2, 3])), own_nearest=own
    )
    assert q.tolist() == [0, 1] and p.tolist() == [1, 2]
    assert own.tolist() == [True, False]


# --- (d) Monte Carlo: self-matching biases the estimate, the option removes the bias ---------------------


def test_monte_carlo_person_weeks():
    # Placed persons' own weeks just before the placement are their nearest controls (same trait a) and
    # carry the lock-in: matching them adds about LOCKIN to the effect. Among other persons, the share of
    # such weeks at trait a is pi(a) = 2 p(a) / (2 p(a) + 2 (1 - p(a))) = p(a) (two rows per person either
    # way, at the same weeks), so the controls' mean outcome at a is a - LOCKIN p(a), linear in a
    # (removed exactly by the bias adjustment), and matching on other persons estimates
    # TAU + LOCKIN * E[p(a) | placed].
    rng = np.random.default_rng(20261203)
    reps = 40
    naive, fixed, target = np.empty(reps), np.empty(reps), np.empty(reps)
    for i in range(reps):
        d = _person_weeks(rng)
        kw = dict(outcome="y", treatment="treated", covariates=["a", "week"], bias_adjust=True)
        naive[i] = Matching(d, **kw).fit().estimate
        fixed[i] = Matching(d, id="person", **kw).fit().estimate
        a_placed = d.loc[d["treated"] == 1, "a"].to_numpy()
        target[i] = TAU + LOCKIN * np.mean(_p_placed(a_placed))
    mc = lambda v: v.std(ddof=1) / np.sqrt(reps)  # noqa: E731
    bias_naive = naive.mean() - target.mean()
    bias_fixed = fixed - target
    # naive: most placed persons are matched with their own weeks, whose lock-in then enters in full
    # instead of with weight p(a)
    assert bias_naive > 10 * mc(naive - target)
    assert bias_naive > 0.2 * LOCKIN
    assert abs(bias_fixed.mean()) < 4 * mc(bias_fixed) + 0.02


# --- input checks -----------------------------------------------------------------------------------------


def test_bad_id(hand):
    with pytest.raises(DataValidationError, match=r"\['pid'\] \(id\)"):
        Matching(hand, outcome="y", treatment="t", covariates=["x"], id="pid")
    with pytest.raises(SpecificationError, match="id must be a column name"):
        Matching(hand, outcome="y", treatment="t", covariates=["x"], id=["person"])
    with pytest.raises(DataValidationError, match=r"'person' has 1 missing values.*\[12\]"):
        Matching(hand.assign(person=["A", "A", None, "B", "D"]), outcome="y", treatment="t", covariates=["x"],
                 id="person")
    before = hand.copy()
    Matching(hand, outcome="y", treatment="t", covariates=["x"], id="person").fit()
    pd.testing.assert_frame_equal(hand, before)


# --- 1-D search with large tie sets, against brute force ----------------------------------------------------


def _brute_own_nearest(zq, zp, m, tol, gq, gp):
    """Whether a query's unrestricted tie-inclusive ``m`` nearest pool units hold one of its own group."""
    out = np.zeros(zq.shape[0], dtype=bool)
    for i in range(zq.shape[0]):
        d = ((zp - zq[i]) ** 2).sum(axis=1)
        dm = np.sort(d)[min(m, d.size) - 1]
        out[i] = bool(((gp == gq[i]) & (d <= dm + tol)).any())
    return out


@pytest.mark.parametrize("case", ["few_values", "self", "small_pool", "continuous"])
@pytest.mark.parametrize("m", [1, 2, 4])
@pytest.mark.parametrize("tol", [0.0, 1e-5])
def test_other_group_search_1d_ties_equals_brute_force(case, m, tol):
    rng = np.random.default_rng(["few_values", "self", "small_pool", "continuous"].index(case) * 10 + m)
    for _ in range(15):
        n_q, n_p = int(rng.integers(1, 120)), int(rng.integers(1, 120))
        if case == "small_pool":
            n_p = int(rng.integers(1, 6))
        if case == "continuous":
            zq, zp = rng.normal(size=(n_q, 1)), rng.normal(size=(n_p, 1))
        else:
            # a handful of distinct values: tie sets of dozens of units
            zq = rng.integers(0, 4, size=(n_q, 1)) * 0.37
            zp = rng.integers(0, 4, size=(n_p, 1)) * 0.37
        n_groups = int(rng.integers(1, 40))
        gq, gp = rng.integers(0, n_groups, size=n_q), rng.integers(0, n_groups, size=n_p)
        if case == "self":
            zq, gq = zp, gp
        q, p, own = core.knn_other_groups(zq, zp, m, tol, gq, gp)
        pairs = list(zip(q.tolist(), p.tolist(), strict=True))
        assert sorted(pairs) == _brute(zq, zp, m, tol, gq, gp)
        if np.isin(gq, gp).any():
            # in (query, pool) order: the conditional variances sum the matches' outcomes in this order
            assert pairs == _brute(zq, zp, m, tol, gq, gp)
        np.testing.assert_array_equal(own, _brute_own_nearest(zq, zp, m, tol, gq, gp))


def _brute_sigmas(z, t, y, person, j, tol):
    """AI conditional variances from the ``j`` nearest same-group rows of other persons (ties kept).

    The outcomes are summed one by one in row order of the matches, then the unit's own outcome.
    """
    sig = np.zeros(z.size)
    for i in range(z.size):
        mates = np.flatnonzero((t == t[i]) & (person != person[i]))
        if (t == t[i]).sum() < 2 or mates.size == 0:
            continue
        d = (z[mates] - z[i]) ** 2
        kth = np.sort(d)[min(j, d.size) - 1]
        s1 = s2 = 0.0
        for k in mates[d <= kth + tol]:
            s1 += y[k]
            s2 += y[k] ** 2
        cnt = float((d <= kth + tol).sum()) + 1.0
        s1, s2 = s1 + y[i], s2 + y[i] ** 2
        sig[i] = (s2 / cnt - (s1 / cnt) ** 2) * cnt / max(cnt - 1, 1)
    return sig


@pytest.mark.parametrize("j", [1, 3])
def test_conditional_variances_with_ties_equal_brute_force(j):
    rng = np.random.default_rng(40 + j)
    n = 400
    d = pd.DataFrame(
        {
            "person": rng.integers(0, 150, size=n),
            "x": rng.integers(0, 6, size=n).astype(float),
            "t": rng.integers(0, 2, size=n),
            "y": rng.normal(size=n),
        }
    )
    model = Matching(d, outcome="y", treatment="t", covariates=["x"], id="person")
    z = model._coordinates()
    t = d["t"].to_numpy() == 1
    sig = model._variance_sigmas(z, t, j)
    expected = _brute_sigmas(z[:, 0], t, d["y"].to_numpy(), d["person"].to_numpy(), j, model.tie_tolerance)
    np.testing.assert_array_equal(sig, expected)


def test_range_edges_move_over_whole_tie_sets():
    """A start range off by more than 64 positions inside tie sets is still made exact."""
    from evaltools.selection._matching_core import _exact_bounds

    sp = np.sort(np.r_[np.zeros(500), np.ones(1000), np.full(300, 2.0)])
    q = np.array([1.0, 0.5, 2.0])
    lim = np.array([0.0, 0.25, 1.0])
    lo, hi = _exact_bounds(sp, q, np.array([1400, 10, 1700]), np.array([1450, 20, 1750]),
                           lambda v, c: (v - c) ** 2 <= lim)
    assert lo.tolist() == [500, 0, 500] and hi.tolist() == [1500, 1500, 1800]
