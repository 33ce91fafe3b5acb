from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data.weeks import index_to_isoweek, week_month
from evaltools.exceptions import DataValidationError, DisclosureWarning, SpecificationError
from evaltools.indicators import (
    activation_rate,
    company_oriented_share,
    fte,
    fte_dask,
    tool_mix_by_duration,
)

from .conftest import W0, random_panel


def _row(tab, **keys):
    d = tab.data
    m = np.ones(len(d), dtype=bool)
    for k, v in keys.items():
        m &= (d[k] == v).to_numpy()
    assert m.sum() == 1, keys
    return d.loc[m].iloc[0]


def test_fte_hand_computed(fte_panel):
    t = fte(fte_panel, by=("municipality", "benefit"), period="month")
    r = _row(t, municipality="A", benefit="adagpenge", period="2010-01")
    assert (r["weeks"], r["persons"], r["person_weeks"], r["fte"]) == (4, 1, 4.0, 1.0)
    assert r["population"] == 1.0  # person 3 is 70 years old
    assert r["share_pop"] == 1.0
    r = _row(t, municipality="B", benefit="kontanthjaelp", period="2010-01")
    assert r["fte"] == 2.0 and r["persons"] == 2  # persons 2 and 6, 4 weeks each
    assert r["population"] == (4 + 2 + 4) / 4  # person 5 observed from week 3
    assert r["share_pop"] == 2.0 / 2.5
    r = _row(t, municipality="B", benefit="kontanthjaelp", period="2010-02")
    assert r["fte"] == 3 / 4 and r["persons"] == 1 and r["population"] == 3.0
    # week 13 of 2010 has its Thursday on 1 April: March has 4 weeks
    r = _row(t, municipality="A", benefit="adagpenge", period="2010-03")
    assert (r["weeks"], r["fte"]) == (4, 1.0)
    assert set(t.data["benefit"]) >= {"adagpenge", "kontanthjaelp"}
    assert "censored" not in set(t.data["benefit"])


def test_fte_ages_none_counts_everyone(fte_panel):
    t = fte(fte_panel, by=("municipality",), period="quarter", ages=None)
    r = _row(t, municipality="A", period="2010-Q1")
    assert r["weeks"] == 12
    assert r["person_weeks"] == 12 + 5  # person 1 and the 70-year-old person 3
    assert r["population"] == 2.0


def test_activation_rate_hand_computed(fte_panel):
    t = activation_rate(fte_panel, period="quarter")
    r = _row(t, benefit="adagpenge", period="2010-Q1")
    assert r["fte"] == 1.0 and r["fte_activated"] == 4 / 12
    assert r["activation_rate"] == pytest.approx(1 / 3, rel=1e-15)
    r = _row(t, benefit="kontanthjaelp", period="2010-Q1")
    assert r["fte"] == 11 / 12 and r["persons"] == 2 and r["persons_activated"] == 2
    assert r["activation_rate"] == pytest.approx(4 / 11, rel=1e-15)
    assert np.isnan(_row(t, benefit="adagpenge", period="2010-Q2")["activation_rate"])


def test_company_oriented_share_both_definitions(fte_panel):
    t = company_oriented_share(fte_panel, period="quarter")
    r = _row(t, benefit="kontanthjaelp", period="2010-Q1")
    assert r["fte_activation"] == 4 / 12 and r["fte_company"] == 2 / 12 and r["share"] == 0.5
    assert _row(t, benefit="adagpenge", period="2010-Q1")["share"] == 1.0
    p = company_oriented_share(fte_panel, period="quarter", definition="participants")
    r = _row(p, benefit="kontanthjaelp", period="2010-Q1")
    assert (r["persons"], r["persons_company"], r["share"]) == (2, 1, 0.5)
    # Beskæftigelsesregion Nordjylland (2010) definition restricted to two types: vejledning never counts
    s = company_oriented_share(fte_panel, period="quarter", company=("loentilskud",))
    assert _row(s, benefit="kontanthjaelp", period="2010-Q1")["share"] == 0.0
    with pytest.raises(SpecificationError, match="'definition' parameter of company_oriented_share"):
        company_oriented_share(fte_panel, definition="fulltime")


def test_tool_mix_by_duration(fte_panel):
    t = tool_mix_by_duration(fte_panel, duration_bands=(0, 4, np.inf))
    d = t.data
    assert set(d["activation"]) == {
        "virksomhedspraktik",
        "loentilskud",
        "vejledning_opkvalificering",
        "virksomhedscenter",
        "saerligt_forloeb",
    }
    r = _row(t, benefit="kontanthjaelp", duration="4+", activation="virksomhedspraktik")
    assert r["fte"] == 2 / 52 and r["share"] == 1.0
    r = _row(t, benefit="kontanthjaelp", duration="0-3", activation="vejledning_opkvalificering")
    assert r["fte"] == 2 / 52 and r["share"] == 1.0
    r = _row(t, benefit="adagpenge", duration="4+", activation="loentilskud")
    assert r["fte"] == 4 / 52 and r["persons"] == 1


def _brute_force(panel, by_person, period_fn, ages=(16, 66)):
    """Dense person-week reference computed with plain pandas."""
    p = panel.persons
    rows = [
        (pid, w) for pid, a, b in zip(p["person_id"], p["obs_start"], p["obs_end"]) for w in range(a, b + 1)
    ]
    dense = pd.DataFrame(rows, columns=["person_id", "week"]).merge(p, on="person_id")
    dense["age"] = index_to_isoweek(dense["week"].to_numpy())[0] - dense["birth_year"]
    dense = dense[(dense["age"] >= ages[0]) & (dense["age"] <= ages[1])]
    dense["period"] = period_fn(dense["week"].to_numpy())
    weeks = pd.Series(period_fn(np.arange(*panel.week_range))).value_counts()
    lo, hi = panel.week_range
    weeks = pd.Series(period_fn(np.arange(lo, hi + 1))).value_counts()
    pop = (
        dense.groupby([by_person, "period"]).size()
        / weeks.reindex(
            dense.groupby([by_person, "period"]).size().index.get_level_values("period")
        ).to_numpy()
    )
    st = panel.states.astype({"state": str}).merge(dense, on=["person_id", "week"])
    st["benefit"] = st["state"].map(panel.codes.mapping("benefit"))
    st = st[st["benefit"] != "censored"]
    g = st.groupby([by_person, "benefit", "period"])
    out = pd.DataFrame({"person_weeks": g.size(), "persons": g["person_id"].nunique()})
    out["fte"] = out["person_weeks"] / weeks.reindex(out.index.get_level_values("period")).to_numpy()
    return out, pop


def test_fte_matches_dense_brute_force():
    panel = random_panel(seed=3)
    t = fte(panel, by=("municipality", "benefit"), period="month")
    ref, pop = _brute_force(panel, "municipality", lambda w: np.datetime_as_string(week_month(w)))
    d = t.data.set_index(["municipality", "benefit", "period"])
    got = d.loc[ref.index]
    np.testing.assert_array_equal(got["person_weeks"].to_numpy(), ref["person_weeks"].to_numpy())
    np.testing.assert_array_equal(got["persons"].to_numpy(), ref["persons"].to_numpy())
    np.testing.assert_allclose(got["fte"].to_numpy(), ref["fte"].to_numpy(), rtol=1e-15)
    # cells absent from the reference are empty
    assert d["person_weeks"].sum() == ref["person_weeks"].sum()
    pp = d.groupby(level=["municipality", "period"])["population"].first()
    np.testing.assert_allclose(pp.loc[pop.index].to_numpy(), pop.to_numpy(), rtol=1e-14)


def test_fte_age_groups_sum_to_total():
    panel = random_panel(seed=4)
    a = fte(panel, by=("age_group",), period="quarter").data
    b = fte(panel, by=(), period="quarter").data
    s = a.groupby("period", sort=False)[["person_weeks", "population"]].sum()
    np.testing.assert_allclose(s["person_weeks"].to_numpy(), b["person_weeks"].to_numpy())
    np.testing.assert_allclose(s["population"].to_numpy(), b["population"].to_numpy(), rtol=1e-12)


def test_partitions_and_dask_give_identical_results():
    dd = pytest.importorskip("dask.dataframe")
    panel = random_panel(seed=5)
    base = fte(panel, by=("municipality", "activation"), period="quarter").data
    part = fte(panel, by=("municipality", "activation"), period="quarter", partitions=4).data
    pd.testing.assert_frame_equal(base, part)
    ddf = dd.from_pandas(panel.states.set_index("person_id"), npartitions=3, sort=True)
    via = fte_dask(
        ddf, panel.persons, by=("municipality", "activation"), period="quarter", scheduler="synchronous"
    ).data
    pd.testing.assert_frame_equal(base, via)
    # a person split over partitions is refused
    bad = dd.from_pandas(panel.states.reset_index(drop=True), npartitions=7, sort=False)
    with pytest.raises(DataValidationError, match="several partitions"):
        fte_dask(bad, panel.persons, scheduler="synchronous")


def test_total_public_support_and_person_filter(fte_panel):
    t = fte(
        fte_panel,
        by=("municipality",),
        period="month",
        codes_where={"public_support": True},
        persons_where={"municipality": "B"},
    )
    assert set(t.data["municipality"]) == {"B"}
    assert _row(t, period="2010-01")["fte"] == 2.0


@pytest.mark.filterwarnings("ignore:Complementary suppression had to use empty cells")
def test_exports_are_suppressed_by_default(fte_panel, tmp_path):
    t = fte(fte_panel, by=("municipality", "benefit"), period="month")
    out = t.to_frame()
    small = t.data["persons"].between(1, 3)
    assert out.loc[small, "fte"].isna().all()
    assert "Small-cell suppression" in t.to_html()
    t.to_csv(tmp_path / "x.csv")
    back = pd.read_csv(tmp_path / "x.csv", comment="#", na_values=[".."])
    assert back["fte"].isna().sum() >= small.sum()
    with pytest.warns(DisclosureWarning):
        raw = t.to_frame(suppress=False)
    assert raw["fte"].notna().all()
    assert "A" in str(t)


@pytest.mark.filterwarnings("ignore:Complementary suppression had to use empty cells")
def test_rate_rows_masked_on_small_numerator(fte_panel):
    t = activation_rate(fte_panel, period="quarter")
    out = t.to_frame()
    r = (t.data["benefit"] == "kontanthjaelp") & (t.data["period"] == "2010-Q1")
    assert out.loc[r, "activation_rate"].isna().all()


def test_bad_inputs(fte_panel):
    with pytest.raises(SpecificationError, match="'period' parameter of fte"):
        fte(fte_panel, period="fortnight")
    with pytest.raises(SpecificationError, match="cannot group by 'colour'"):
        fte(fte_panel, by=("colour",))
    p2 = type(fte_panel)(states=fte_panel.states, persons=fte_panel.persons.drop(columns="birth_year"))
    with pytest.raises(DataValidationError, match="birth_year"):
        fte(p2)
    assert len(fte(p2, ages=None).data) > 0


def test_tool_mix_window_and_period(fte_panel):
    t = tool_mix_by_duration(fte_panel, duration_bands=(0, 4, np.inf), period="quarter", window=(W0, W0 + 25))
    r = _row(t, benefit="adagpenge", duration="4+", activation="loentilskud", period="2010-Q1")
    assert r["weeks"] == 12 and r["fte"] == 4 / 12
    with pytest.raises(SpecificationError, match="remove it from by"):
        tool_mix_by_duration(fte_panel, by=("activation",))


def test_tool_mix_uses_the_spell_gap_rule():
    from .conftest import make_panel, person

    panel = make_panel([(1, "701", 1, 3), (1, "702", 6, 7)], [person(1, "A", 1980)])
    t = tool_mix_by_duration(panel, duration_bands=(0, 4, np.inf))
    assert _row(t, benefit="kontanthjaelp", duration="0-3", activation="virksomhedspraktik")["fte"] == 2 / 52
    t = tool_mix_by_duration(panel, duration_bands=(0, 4, np.inf), gap_rule=3)
    assert _row(t, benefit="kontanthjaelp", duration="4+", activation="virksomhedspraktik")["fte"] == 2 / 52
