import warnings

import numpy as np
import pandas as pd
import pytest
from data_panel_factory import dense_states, random_panel
from hypothesis import given, settings
from hypothesis import strategies as st

from evaltools.data import self_supporting_at, weeks_on_public_support, weeks_self_supporting
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError


def _brute(panel, pid, ref, lo_off, hi_off, pred, partial):
    d = dense_states(panel)
    win = panel.persons.set_index("person_id")
    out = []
    for p, r in zip(pid, ref):
        s, e = win.loc[p, "obs_start"], win.loc[p, "obs_end"]
        a, b = r + lo_off, r + hi_off
        if partial == "na" and (a < s or b > e):
            out.append(pd.NA)
            continue
        g = d[(d["person_id"] == p) & (d["week"] >= a) & (d["week"] <= b)]
        out.append(int(sum(pred(c) for c in g["code"])))
    return out


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), partial=st.sampled_from(["na", "observed"]))
def test_window_counts_match_brute_force(seed, partial):
    p = random_panel(seed, n_persons=6, n_weeks=70)
    rng = np.random.default_rng(seed)
    pid = rng.choice(p.persons["person_id"].to_numpy(), 10)
    lo, hi = p.week_range
    ref = rng.integers(lo - 5, hi + 5, 10)
    refs = pd.DataFrame({"person_id": pid, "week": ref}, index=np.arange(100, 110))
    ps = set(p.codes.codes_where(public_support=True))
    su = set(p.codes.codes_where(benefit="su"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingValueWarning)
        got = weeks_on_public_support(p, refs, lookback=20, partial=partial)
        got_ss = weeks_self_supporting(p, refs, horizon=15, partial=partial, definition="no_code_or_su")
    assert got.index.equals(refs.index)
    exp = _brute(p, pid, ref, -20, -1, lambda c: c in ps, partial)
    assert [None if pd.isna(x) else int(x) for x in got] == [None if x is pd.NA else x for x in exp]
    exp_ss = _brute(p, pid, ref, 1, 15, lambda c: c is None or c in su, partial)
    assert [None if pd.isna(x) else int(x) for x in got_ss] == [None if x is pd.NA else x for x in exp_ss]


def test_self_supporting_at_and_warning():
    p = random_panel(8)
    d = dense_states(p).set_index(["person_id", "week"])["code"]
    ids = p.persons["person_id"].to_numpy()
    ref = pd.Series(p.persons["obs_start"].to_numpy() + 3, index=ids)
    got = self_supporting_at(p, ref, 10)
    assert got.name == "self_supporting_h10" and str(got.dtype) == "boolean"
    exp = [d.get((i, r + 10)) is None for i, r in zip(ids, ref)]
    assert got.tolist() == exp
    with pytest.warns(MissingValueWarning, match=r"12 of 12 reference rows have a window that is not fully"):
        out = self_supporting_at(p, ref, 1000)
    assert out.isna().all()


def test_bad_inputs():
    p = random_panel(8)
    with pytest.raises(
        DataValidationError, match=r"name persons not in panel.persons \(e.g. person_id=\[1\]\)"
    ):
        weeks_self_supporting(p, pd.Series([p.week_range[0]], index=[1]))
    with pytest.raises(SpecificationError, match="The 'definition' parameter of self_supporting_at must be"):
        self_supporting_at(p, pd.Series([1], index=p.persons["person_id"][:1]), 1, definition="job")
    with pytest.raises(SpecificationError, match="'ref_weeks' parameter"):
        weeks_on_public_support(p, [1, 2])
    with pytest.raises(DataValidationError, match="missing week"):
        weeks_on_public_support(p, pd.Series([np.nan], index=p.persons["person_id"][:1]))
