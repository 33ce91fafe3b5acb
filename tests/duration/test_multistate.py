"""MultiStateAalenJohansen against R survfit(Surv(start, stop, state) ~ 1, id = id).

References in tests/reference/duration/ms_*.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from evaltools.duration import AalenJohansen, MultiStateAalenJohansen
from evaltools.duration import _multistate_core as core
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

matplotlib.use("Agg")
REF = Path(__file__).resolve().parents[1] / "reference" / "duration"
RTOL = 1e-8  # closed form; agreement is ~1e-13


def _expected(case: str) -> dict:
    return json.loads((REF / case / "expected.json").read_text())


def _arr(values: list) -> np.ndarray:
    return np.array([np.nan if v == "NA" else v for v in np.ravel(values)], dtype=float).reshape(
        np.shape(values)
    )


def _check(res, ref: dict, group: str | None = None, *, with_risk: bool = True) -> None:
    times = np.asarray(ref["time"], dtype=float)
    sel = np.ones(len(times), bool) if group is None else np.asarray(ref["strata"]) == group
    times = times[sel]
    cols = [s if group is None else (group, s) for s in ref["states"]]
    np.testing.assert_allclose(
        res.prob_at(times)[cols].to_numpy(), _arr(ref["pstate"])[sel], rtol=RTOL, atol=1e-15
    )
    np.testing.assert_allclose(
        res.prob_at(times, column="std_err")[cols].to_numpy(),
        _arr(ref["std_err"])[sel],
        rtol=RTOL,
        atol=1e-15,
    )
    if with_risk:
        tab = res.state_probabilities
        if group is not None:
            tab = tab[tab[res.model.group] == group]
        ours = tab.pivot(index="time", columns="state", values="n_risk")[ref["states"]]
        common = np.intersect1d(ours.index.to_numpy(), times)  # R also lists split points of first rows
        r_risk = pd.DataFrame(_arr(ref["n_risk"])[sel], index=times, columns=ref["states"])
        np.testing.assert_array_equal(ours.loc[common].to_numpy(), r_risk.loc[common].to_numpy())


@pytest.fixture(scope="module")
def mgus2_ms() -> pd.DataFrame:
    return pd.read_csv(REF / "ms_mgus2" / "mgus2_ms.csv")


@pytest.fixture(scope="module")
def benefit() -> pd.DataFrame:
    return pd.read_csv(REF / "ms_benefit" / "benefit_ms.csv")


def test_mgus2_illness_death(mgus2_ms):
    ref = _expected("ms_mgus2")
    model = MultiStateAalenJohansen(mgus2_ms, start="tstart", stop="tstop", event="event", censored="censor")
    assert model.states == ["(s0)", "death", "pcm"] and model.n_persons == ref["data"]["nperson"]
    res = model.fit()
    _check(res, ref["pooled"])
    ref_t = np.asarray(ref["pooled"]["time"], dtype=float)
    lo = res.prob_at(ref_t, column="lower")[ref["pooled"]["states"]].to_numpy()
    np.testing.assert_allclose(lo, _arr(ref["pooled"]["lower"]), rtol=1e-7)
    res_s = MultiStateAalenJohansen(
        mgus2_ms, start="tstart", stop="tstop", event="event", censored="censor", group="sex"
    ).fit()
    for g in ("F", "M"):
        _check(res_s, ref["by_sex"], g)


@pytest.mark.parametrize("p0_variance, suffix", [(False, ""), (True, "_influence")])
def test_benefit_histories(benefit, p0_variance, suffix):
    """Cycles, persons starting in different states, delayed entry, ties, weights, groups, split rows."""
    ref = _expected("ms_benefit")
    kw = {"event": "to", "censored": "censor", "initial_state": "state"}
    _check(MultiStateAalenJohansen(benefit, **kw).fit(p0_variance=p0_variance), ref["unweighted" + suffix])
    _check(
        MultiStateAalenJohansen(benefit, weights="w", **kw).fit(p0_variance=p0_variance),
        ref["weighted" + suffix],
    )
    res = MultiStateAalenJohansen(benefit, weights="w", group="group", **kw).fit(p0_variance=p0_variance)
    for g in ("a", "b"):
        _check(res, ref["weighted_by_group" + suffix], g)
    p0 = _arr(ref["weighted_by_group" + suffix]["p0"])
    cols = ref["weighted_by_group"]["states"]
    np.testing.assert_allclose(res.initial_probabilities[cols].to_numpy(), p0, rtol=1e-12)


def test_competing_risks_equal_aalen_johansen():
    """One transient state: the same curves and standard errors as AalenJohansen (reference aj_mgus2)."""
    d = pd.read_csv(REF / "aj_mgus2" / "mgus2.csv")
    d = d.assign(
        etime=np.where(d["pstat"] == 0, d["futime"], d["ptime"]),
        ev=np.select([d["pstat"] == 1, d["death"] == 1], ["pcm", "death"], "censor"),
    )
    ms = MultiStateAalenJohansen(d, start=None, id=None, stop="etime", event="ev", censored="censor").fit()
    aj = AalenJohansen(d, duration="etime", event="ev", censored="censor").fit()
    t = aj.event_free["time"].to_numpy()
    for cause in ("pcm", "death"):
        sub = aj.cumulative_incidence.query("cause == @cause")
        np.testing.assert_allclose(ms.prob_at(t)[cause], sub["cif"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(
            ms.prob_at(t, column="std_err")[cause], sub["std_err"], rtol=1e-9, atol=1e-15
        )
    np.testing.assert_allclose(ms.prob_at(t, column="std_err")["(s0)"], aj.event_free["std_err"], rtol=1e-9)
    ref = _expected("aj_mgus2")["pooled"]
    np.testing.assert_allclose(ms.prob_at(ref["time"])["pcm"], ref["cif_pcm"], rtol=RTOL)
    np.testing.assert_allclose(ms.prob_at(ref["time"], column="std_err")["pcm"], ref["se_pcm"], rtol=RTOL)


# -- an independent oracle: the person-by-time recursion, on a four-state design -------------------
def _naive(start, stop, pid, frm, to, w, S, p0, i0):
    times = np.unique(stop[(to >= 0) & (to != frm)])
    U, p, out_p, out_v = i0.copy(), p0.copy(), [], []
    w_p = np.zeros(i0.shape[0])
    w_p[pid] = w
    for t in times:
        atr = (start < t) & (stop >= t)
        ws = np.bincount(frm[atr], w[atr], minlength=S)
        ev = atr & (stop == t) & (to >= 0) & (to != frm)
        H = np.zeros((S, S))
        np.add.at(H, (frm[ev], to[ev]), w[ev])
        for j in range(S):
            tot = H[j].sum()
            H[j] = H[j] / ws[j] if ws[j] > 0 else 0.0
            H[j, j] = 1 - tot / ws[j] if ws[j] > 0 else 1.0
        U = U @ H
        r = np.flatnonzero(atr)
        j = frm[r]
        d = np.where(ev[r], to[r], j)
        np.add.at(U, pid[r], (p[j] / ws[j])[:, None] * (np.eye(S)[d] - H[j]))
        p = p @ H
        out_p.append(p.copy())
        out_v.append((w_p[:, None] ** 2 * U**2).sum(axis=0))
    return times, np.array(out_p), np.array(out_v)


def _histories(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        s, t = int(rng.integers(0, 2)), float(rng.integers(0, 4))
        end = t + rng.integers(5, 30)
        while t < end:
            d = float(rng.geometric(0.25))
            if t + d >= end:
                rows.append((i, t, end, s, -1))
                break
            nxt = int(rng.choice([k for k in range(4) if k != s]))
            rows.append((i, t, t + d, s, nxt))
            t, s = t + d, nxt
    d = pd.DataFrame(rows, columns=["id", "start", "stop", "state", "to"])
    return d.assign(
        w=1.0 + (d["id"] % 4) / 3,
        to=d["to"].map({-1: "none", 0: "a", 1: "b", 2: "c", 3: "d"}),
        state=d["state"].map({0: "a", 1: "b", 2: "c", 3: "d"}),
    )


@pytest.mark.parametrize("cond_max", [1.5, 10.0, 1e2])
def test_fast_variance_equals_person_by_time_recursion(monkeypatch, cond_max):
    """Segment restarts (the smaller COND_MAX, the more) and singular steps give the same variances."""
    monkeypatch.setattr(core, "COND_MAX", cond_max)
    d = _histories(150, 5)
    m = MultiStateAalenJohansen(d, event="to", censored="none", initial_state="state", weights="w")
    S = len(m.states)
    p0, i0 = core.initial_distribution(m._start, m._stop, m._frm, m._to >= 0, m._w, m._pid, m.n_persons, S)
    fit = core.aalen_johansen_ms(m._start, m._stop, m._pid, m._frm, m._to, m._w, S, p0, i0)
    t, p, v = _naive(m._start, m._stop, m._pid, m._frm, m._to, m._w, S, p0, i0)
    np.testing.assert_array_equal(fit.time, t)
    np.testing.assert_allclose(fit.pstate, p, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fit.var, v, rtol=1e-9, atol=1e-18)


def test_validation(benefit):
    kw = {"event": "to", "censored": "censor", "initial_state": "state"}
    benefit = benefit.astype({"start": float, "stop": float})
    gap = benefit.copy()
    i = gap.index[gap["id"] == gap["id"].value_counts().idxmax()][1]
    gap.loc[i, "start"] += 0.5
    with pytest.raises(DataValidationError, match="must be contiguous"):
        MultiStateAalenJohansen(gap, **kw)
    ov = benefit.copy()
    ov.loc[i, "start"] -= 0.5
    with pytest.raises(DataValidationError, match="must not overlap"):
        MultiStateAalenJohansen(ov, **kw)
    bad = benefit.copy()
    bad.loc[i, "state"] = "education" if bad.loc[i, "state"] != "education" else "job"
    with pytest.raises(DataValidationError, match="must agree with the state reached"):
        MultiStateAalenJohansen(bad, **kw)
    wv = benefit.copy()
    wv.loc[i, "w"] = 99.0
    with pytest.raises(DataValidationError, match="weights must be constant within each 'id'"):
        MultiStateAalenJohansen(wv, weights="w", **kw)
    with pytest.raises(SpecificationError, match="need a person identifier"):
        MultiStateAalenJohansen(benefit, id=None, **kw)
    with pytest.raises(SpecificationError, match="'conf_type' parameter"):
        MultiStateAalenJohansen(benefit, **kw).fit(conf_type="logit")
    na = benefit.copy()
    na.loc[i, "stop"] = np.nan
    n_person = int((na["id"] == na.loc[i, "id"]).sum())
    with pytest.warns(MissingValueWarning, match=f"dropped {n_person} of"):
        m = MultiStateAalenJohansen(na, **kw)
    assert m.n_dropped == n_person


def test_presentation_and_read_only(benefit):
    before = benefit.copy()
    res = MultiStateAalenJohansen(benefit, event="to", censored="censor", initial_state="state").fit(
        alpha=0.1
    )
    pd.testing.assert_frame_equal(benefit, before)
    with pytest.raises(AttributeError, match="read-only"):
        res.states = []
    tab = res.state_probabilities
    wide = tab.pivot(index="time", columns="state", values="pstate")
    np.testing.assert_allclose(wide.sum(axis=1), 1.0, rtol=1e-12)
    assert ((tab["lower"] <= tab["pstate"] + 1e-15) | tab["lower"].isna()).all()
    assert "include the sampling variability" in str(res.summary())
    assert "<table" in res._repr_html_()
    at = res.prob_at([-1.0, 1e6])
    np.testing.assert_allclose(at.iloc[0], res.initial_probabilities.iloc[0][at.columns])
    assert at.iloc[1].isna().all()
    ax = res.plot()
    assert ax.get_title() and ax.get_xlabel() == "Time (stop)"
    ax = res.plot(kind="lines")
    assert len(ax.get_lines()) == len(res.states)
    with pytest.raises(SpecificationError, match="'kind' parameter"):
        res.plot(kind="pie")
    with pytest.raises(SpecificationError, match="'column' parameter"):
        res.prob_at([1.0], column="var")
