"""Linked-table disclosure control on the shipped sample panel: the attacks, and the release that stops them.

The attacker in this file is independent of :mod:`evaltools.reporting.audit`:
it only reads the exported tables (masked cells are missing) and differences
published totals against their published parts until nothing changes.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools import indicators as ind
from evaltools.data import read_panel
from evaltools.exceptions import DisclosureWarning, SpecificationError
from evaltools.reporting import DisclosureRule, Release, audit
from evaltools.synth import MUNICIPALITIES

SAMPLE = Path(__file__).parents[2] / "data_samples" / "sample_panel"
DIMS = ("municipality", "sex", "origin")
GROUPINGS = [by for r in (3, 2, 1) for by in itertools.combinations(DIMS, r)]


@pytest.fixture(scope="module")
def sample_release():
    panel = read_panel(SAMPLE)
    lo, hi = panel.week_range
    rel = Release()
    for by in GROUPINGS:
        rel.add(ind.fte(panel, by=by, period="month"), name="fte_" + "_".join(by))
    rel.add(ind.fte(panel, by=DIMS, period="quarter"), name="fte_quarter")
    targets = [
        ind.FTETarget(
            f"{m} {label}", 5.0, {"benefit": "adagpenge"}, {"municipality": m, "origin": "western"}, a
        )
        for m in ("Herlev", "Nyborg", "Odense")
        for label, a in (("all", (16, 66)), ("<30", (16, 29)), ("30+", (30, 66)))
    ]
    rel.add(
        ind.target_table(panel, targets, baseline=(lo + 156, lo + 207), actual=(lo + 208, hi)), name="targets"
    )
    for by in (("municipality", "benefit"), ("municipality",), ("benefit",)):
        rel.add(ind.first_contact_within(panel, by=by), name="first_contact_" + "_".join(by))
    cohort = ind.cohort_self_support(panel, by=("municipality",))
    rel.add(cohort, name="cohort_municipality")
    rel.add(ind.cohort_self_support(panel, by=("municipality", "sex")), name="cohort_municipality_sex")
    frame = pd.DataFrame(
        [(m[0], m[1], 100 * m[2]) for m in MUNICIPALITIES],
        columns=["municipality", "unemployment", "nonwestern"],
    )
    d1 = cohort.data[cohort.data["period"] == "2012-Q3"].merge(frame, on="municipality")
    bench = ind.benchmark(d1, outcome="share", frame_conditions=["unemployment", "nonwestern"])
    rel.add(bench, name="benchmark", source="cohort_municipality", where={"period": "2012-Q3"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisclosureWarning)
        single = rel.protect(joint=False)
    joint = rel.protect()
    return rel, single, joint


# ----------------------------------------------------------------------------------------------
# an attacker that reads only the exports
# ----------------------------------------------------------------------------------------------
def _difference(fine: pd.DataFrame, coarse: list[tuple[pd.DataFrame, list[str]]], value: str) -> int:
    """Cells of ``fine`` recovered exactly by differencing published totals against their parts."""
    fine = fine.copy()
    start = int(fine[value].isna().sum())
    for _ in range(50):
        before = int(fine[value].isna().sum())
        for tab, keys in coarse:
            tot = tab.dropna(subset=[value]).set_index(keys)[value]
            g = fine.groupby(keys, observed=True)[value]
            n_missing = g.transform(lambda s: s.isna().sum())
            known = g.transform("sum")
            idx = pd.MultiIndex.from_frame(fine[keys]) if len(keys) > 1 else pd.Index(fine[keys[0]])
            total = tot.reindex(idx).to_numpy()
            fill = fine[value].isna().to_numpy() & (n_missing.to_numpy() == 1) & ~np.isnan(total)
            fine.loc[fill, value] = total[fill] - known.to_numpy()[fill]
        if int(fine[value].isna().sum()) == before:
            break
    return start - int(fine[value].isna().sum())


def _fte_attack(prot, value: str) -> int:
    fine = prot["fte_" + "_".join(DIMS)].table
    coarse = [(prot["fte_" + "_".join(by)].table, [*by, "period"]) for by in GROUPINGS[1:]]
    return _difference(fine, coarse, value)


def _quarter_attack(prot) -> int:
    fine = prot["fte_" + "_".join(DIMS)].table
    q = pd.PeriodIndex(fine["period"], freq="M").asfreq("Q")
    fine = fine.assign(quarter=[f"{p.year}-Q{p.quarter}" for p in q])
    quarter = prot["fte_quarter"].table.rename(columns={"period": "quarter"})
    return _difference(fine, [(quarter, [*DIMS, "quarter"])], "person_weeks")


def _target_attack(prot) -> int:
    t = prot["targets"].table
    t[["muni", "group"]] = t["target_name"].str.rsplit(" ", n=1, expand=True)
    w = t.pivot(index="muni", columns="group", values="baseline_fte")
    rec = 0
    for _, r in w.iterrows():
        known = r.notna()
        rec += int(known.sum() == 2)  # "all" = "<30" + "30+": two published give the third
    return rec


# ----------------------------------------------------------------------------------------------
# the attacks of the issue, on tables suppressed one by one
# ----------------------------------------------------------------------------------------------
def test_tables_suppressed_one_by_one_leak_when_published_together(sample_release):
    _, single, _ = sample_release
    full = single["fte_municipality_sex_origin"]
    assert full.n_primary + full.n_secondary == 950  # 7,200 cells, masked as in a single export
    # differencing against the municipality x sex table alone, then against all six groupings
    m_s = single["fte_municipality_sex"].table
    recovered = _difference(full.table, [(m_s, ["municipality", "sex", "period"])], "persons")
    assert recovered == 526
    assert _fte_attack(single, "persons") == 574
    assert _quarter_attack(single) > 0
    rep = audit(single)
    cells = rep.cells[
        (rep.cells["table"] == "fte_municipality_sex_origin") & (rep.cells["quantity"] == "persons")
    ]
    assert len(cells) == 950
    assert int(cells["exact"].sum()) == 574
    assert int((cells["width"] <= 2).sum()) == 582  # bounded to within +-1 person
    assert rep.n_exact > 1000 and not rep.ok


def test_joint_release_stops_every_attack(sample_release):
    rel, _, joint = sample_release
    assert len(rel) >= 6
    assert _fte_attack(joint, "persons") == 0
    assert _fte_attack(joint, "person_weeks") == 0
    assert _quarter_attack(joint) == 0
    assert _target_attack(joint) == 0
    rep = audit(joint)
    assert len(rep.cells) > 5000
    assert rep.n_exact == 0 and rep.n_narrow == 0 and rep.ok
    counts = rep.cells[rep.cells["kind"] == "count"]
    assert (counts["width"] >= 3).all()
    # the bounds contain the truth
    assert (
        (rep.cells["lower"] <= rep.cells["value"] + 1e-6) & (rep.cells["value"] <= rep.cells["upper"] + 1e-6)
    ).all()
    assert {"fte_quarter", "targets", "cohort_municipality_sex", "first_contact_municipality_benefit"} <= set(
        rep.cells["table"]
    )
    assert "Disclosure audit" in str(rep) and "<table" in rep._repr_html_()


def test_information_loss_and_footnotes(sample_release):
    _, single, joint = sample_release
    loss = joint.information_loss()
    tot = loss.iloc[-1]
    assert tot["table"] == "all tables" and tot["rows"] > 19000
    assert tot["masked"] >= tot["primary"] > 1000
    assert tot["masked_single"] == single.information_loss().iloc[-1]["masked"]
    assert 0 < tot["share"] < 0.25
    full = joint["fte_municipality_sex_origin"]
    assert full.footnotes[-1].startswith(
        "Disclosure rule (jointly over 15 linked tables): cells based on 1 to 3"
    )
    assert full.n_primary == 526
    masked = full.mask["persons"].to_numpy()
    assert full.table.loc[masked, ["persons", "person_weeks", "fte", "share_pop"]].isna().all(axis=None)
    assert full.table.loc[~masked, "persons"].notna().all()
    np.testing.assert_array_equal(joint.row_mask("fte_municipality_sex_origin"), masked)
    assert "ProtectedRelease" in repr(joint) and joint.names[0] == "fte_municipality_sex_origin"


def test_benchmark_in_release_masks_units_masked_in_its_source(sample_release):
    _, single, joint = sample_release
    b = joint["benchmark"]
    src = joint["cohort_municipality"].table
    q = src[src["period"] == "2012-Q3"]
    masked_src = set(q.loc[q["persons"].isna(), "municipality"])
    t = b.table
    assert set(t.loc[t["masked"], "municipality"]) == masked_src
    assert b.nobs == int((~t["masked"]).sum())
    assert single["benchmark"].table["masked"].sum() == single["benchmark"].n_small_units
    assert "masked in linked tables" in str(b)


# ----------------------------------------------------------------------------------------------
# small releases with known answers
# ----------------------------------------------------------------------------------------------
def _two_way():
    cells = pd.DataFrame(
        {"r": ["a", "a", "b", "b", "c", "c"], "c": ["x", "y"] * 3, "persons": [2, 20, 30, 40, 25, 35]}
    )
    rows = cells.groupby("r", as_index=False)["persons"].sum()
    cols = cells.groupby("c", as_index=False)["persons"].sum()
    return cells, rows, cols


def test_two_way_table_with_margins_hand_checked():
    cells, rows, cols = _two_way()
    rel = Release()
    rel.add(cells, name="cells", keys=["r", "c"], count_col="persons", family="t")
    rel.add(rows, name="rows", keys=["r"], count_col="persons", family="t")
    rel.add(cols, name="cols", keys=["c"], count_col="persons", family="t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisclosureWarning)
        naive = Release().add(cells, name="cells", keys=["r", "c"], count_col="persons", family="t")
    prot = rel.protect()
    m = prot["cells"].mask["persons"].to_numpy()
    # (a, x) = 2 needs a rectangle: the cheapest is (a, y), (c, x), (c, y) (costs 20 + 25 + 35)
    assert m.tolist() == [True, True, False, False, True, True]
    rep = audit(prot)
    assert rep.ok
    ax = rep.cells[(rep.cells["row"] == 0) & (rep.cells["table"] == "cells")].iloc[0]
    # feasible transfers t around the rectangle: (a,x) = 2 + t with -2 <= t <= min(20, 25)
    assert (ax["lower"], ax["upper"]) == (0.0, 22.0)
    assert naive.protect().information_loss().iloc[0]["masked"] == 1


def test_hierarchy_region_over_municipality():
    d = pd.DataFrame({"municipality": ["A", "B", "C", "D"], "persons": [2, 30, 40, 50]})
    reg = pd.DataFrame({"region": ["N", "S"], "persons": [42, 80]})
    hier = {"region": ("municipality", {"A": "N", "C": "N", "B": "S", "D": "S"})}
    rel = Release(hierarchies=hier)
    rel.add(d, name="muni", keys=["municipality"], count_col="persons", family="h")
    rel.add(reg, name="region", keys=["region"], count_col="persons", family="h")
    single = rel.protect(joint=False)
    assert single["muni"].mask["persons"].tolist() == [True, True, False, False]
    assert audit(single).n_exact == 2  # A = N - C, then B = S - D
    prot = rel.protect()
    assert prot["muni"].mask["persons"].tolist() == [True, False, True, False]  # A and C, within N
    assert audit(prot).ok


def test_rules_threshold_protection_and_dominance():
    cells, rows, cols = _two_way()
    rule = DisclosureRule(threshold=5, protection=4)
    rel = Release(rule=rule)
    rel.add(
        cells.assign(persons=cells["persons"].replace({30: 4})),
        name="cells",
        keys=["r", "c"],
        count_col="persons",
        family="t",
    )
    rel.add(rows, name="rows", keys=["r"], count_col="persons", family="t")
    prot = rel.protect()
    assert prot["cells"].n_primary == 2
    assert (
        "1 to 5 persons" in prot["cells"].footnotes[-1]
        and "fewer than 4 persons" in prot["cells"].footnotes[-1]
    )
    rep = audit(prot)
    assert rep.ok and (rep.cells.loc[rep.cells["kind"] == "count", "width"] >= 4).all()
    # p% rule: a sum dominated by one contributor is sensitive although it has many persons
    earn = pd.DataFrame(
        {
            "g": ["a", "b", "c"],
            "persons": [10, 12, 15],
            "pay": [100.0, 120.0, 150.0],
            "top1": [95.0, 20.0, 20.0],
            "top2": [2.0, 15.0, 15.0],
        }
    )
    tot = pd.DataFrame({"persons": [37], "pay": [370.0]})
    rel = Release(rule=DisclosureRule(p_percent=10))
    rel.add(
        earn,
        name="pay",
        keys=["g"],
        count_col="persons",
        magnitudes=["pay"],
        family="e",
        contributions={"pay": ["top1", "top2"]},
    )
    rel.add(tot, name="tot", keys=[], count_col="persons", magnitudes=["pay"], family="e")
    prot = rel.protect()
    assert prot["pay"].n_primary == 1 and prot["pay"].mask["pay"].sum() == 2
    rep = audit(prot)
    pay = rep.cells[(rep.cells["quantity"] == "pay") & rep.cells["primary"]].iloc[0]
    # required upper protection 10% x 95 - (100 - 95 - 2) = 6.5
    assert pay["required"] == pytest.approx(6.5) and pay["width"] >= 6.5 and rep.ok
    assert "p% rule with p = 10" in prot["pay"].footnotes[-1]


def test_random_rounding_alternative():
    panel = read_panel(SAMPLE)
    r = Release(rule=DisclosureRule(method="round", rounding_base=5), seed=3)
    t = ind.fte(panel, by=DIMS, period="quarter")
    r.add(t, name="ms").add(ind.fte(panel, by=("municipality",), period="quarter"), name="m")
    prot = r.protect()
    out = prot["ms"].table
    assert (out["persons"] % 5 == 0).all() and not prot["ms"].mask.to_numpy().any()
    assert (np.abs(out["persons"] - t.data["persons"]) < 5).all()
    assert (np.abs(out["person_weeks"] - t.data["person_weeks"]) < 5).all()
    np.testing.assert_allclose(out["fte"], out["person_weeks"] / out["weeks"])
    np.testing.assert_allclose(out["share_pop"], out["fte"] / out["population"])
    assert "randomly rounded" in prot["ms"].footnotes[-1]
    rep = audit(prot)
    assert len(rep.cells) == int(t.data["persons"].between(1, 3).sum()) * 2 > 0
    counts = rep.cells[rep.cells["kind"] == "count"]
    assert counts["width"].min() >= 3 and rep.n_exact == 0
    assert ((counts["lower"] <= counts["value"]) & (counts["value"] <= counts["upper"])).all()


def test_release_validation():
    df = pd.DataFrame({"k": ["a", "b"], "persons": [1, 5]})
    rel = Release()
    with pytest.raises(SpecificationError, match="keys"):
        rel.add(df, name="x")
    with pytest.raises(SpecificationError, match="not in table"):
        rel.add(df, name="x", keys=["k"], count_col="n")
    rel.add(df, name="x", keys=["k"], count_col="persons")
    with pytest.raises(SpecificationError, match="already registered"):
        rel.add(df, name="x", keys=["k"], count_col="persons")
    with pytest.raises(SpecificationError, match="IndicatorTable, a BenchmarkResults or a DataFrame"):
        rel.add([1, 2], name="y")
    with pytest.raises(SpecificationError, match="DisclosureRule"):
        Release(rule=3)
    with pytest.raises(SpecificationError, match="'method' parameter"):
        DisclosureRule(method="noise")
    with pytest.raises(SpecificationError, match="no tables"):
        Release().protect()
    with pytest.raises(SpecificationError, match="no table 'z'"):
        rel.protect()["z"]
    with pytest.raises(SpecificationError, match="ProtectedRelease"):
        audit(df)
