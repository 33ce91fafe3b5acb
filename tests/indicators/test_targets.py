"""Target tables (evaltools.indicators.targets): baseline and actual full-time persons per target."""

from __future__ import annotations

import pytest

from evaltools.exceptions import SpecificationError
from evaltools.indicators import FTETarget, target_table

from .conftest import W0


def test_target_table_herlev_style(fte_panel):
    targets = [
        FTETarget("1.b A-dagpenge", 0.5, {"benefit": "adagpenge"}),
        FTETarget(
            "KH in B",
            1.0,
            {"benefit": "kontanthjaelp"},
            persons_where={"municipality": "B"},
            direction="at_least",
        ),
    ]
    t = target_table(fte_panel, targets, baseline=(W0, W0 + 11), actual=(W0 + 12, W0 + 23))
    d = t.data.set_index("target_name")
    assert d.loc["1.b A-dagpenge", "baseline_fte"] == 1.0
    assert d.loc["1.b A-dagpenge", "actual_fte"] == 0.0
    assert d.loc["1.b A-dagpenge", "required_pct"] == -50.0
    assert bool(d.loc["1.b A-dagpenge", "attained"])
    assert d.loc["KH in B", "baseline_fte"] == 11 / 12
    assert not bool(d.loc["KH in B", "attained"])


def test_target_table_reproduces_herlev_uddannelseshjaelp_target():
    # Herlev's Beskæftigelsesplan 2018, target 1.a: at most 150 full-time persons on uddannelseshjaelp,
    # 24 fewer than the baseline
    from .conftest import make_panel, person

    persons = [person(i, "Herlev", 1990, start=1, end=104) for i in range(1, 175)]
    spells = [(i, "731", 1, 104 if i <= 150 else 52) for i in range(1, 175)]
    panel = make_panel(spells, persons)
    t = target_table(
        panel,
        [
            FTETarget(
                "1.a Uddannelseshjaelp",
                150,
                {"benefit": "uddannelseshjaelp"},
                persons_where={"municipality": "Herlev"},
                ages=(16, 29),
            )
        ],
        baseline=(W0, W0 + 51),
        actual=(W0 + 52, W0 + 103),
    )
    r = t.data.iloc[0]
    assert (r["baseline_fte"], r["actual_fte"], r["required_change"]) == (174.0, 150.0, -24.0)
    assert r["required_pct"] == 100 * (150 - 174) / 174  # -13.8 %
    assert bool(r["attained"]) and r["gap"] == 0.0
    assert t.to_frame()["actual_fte"].iloc[0] == 150.0  # 150 persons: not suppressed


def test_target_table_complementary_suppression_on_sample():
    """A masked "<30" row must not be the published "all" minus the published "30 and over"."""
    from pathlib import Path

    from evaltools.data import read_panel
    from evaltools.reporting import Release, audit

    panel = read_panel(Path(__file__).parents[2] / "data_samples" / "sample_panel")
    lo, hi = panel.week_range
    targets = [
        FTETarget(f"{m} {label}", 5.0, {"benefit": "adagpenge"}, {"municipality": m, "origin": "western"}, a)
        for m in ("Herlev", "Nyborg", "Odense")
        for label, a in (("all", (16, 66)), ("<30", (16, 29)), ("30+", (30, 66)))
    ]
    t = target_table(panel, targets, baseline=(lo + 156, lo + 207), actual=(lo + 208, hi))
    s = t.suppressed()
    out = s.table.assign(muni=lambda d: d["target_name"].str.split(" ").str[0])
    small = t.data["persons"].between(1, 3).to_numpy()
    assert s.mask["baseline_fte"].to_numpy()[small].all() and s.n_primary == int(small.sum())
    for _, g in out.groupby("muni"):
        # "all" = "<30" + "30+" (person-weeks): one masked row among three would be recovered
        assert g["baseline_fte"].isna().sum() != 1
    assert s.n_secondary >= 1 and "Disclosure rule" in s.footnotes[-1]
    assert audit(Release().add(t, name="targets").protect()).ok
    with pytest.raises(SpecificationError, match="unique"):
        target_table(panel, targets[:1] * 2, baseline=(lo, lo + 9), actual=(lo + 10, lo + 19))
