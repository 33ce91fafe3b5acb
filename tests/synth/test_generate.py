"""Tests of evaltools.synth.generate: structure, reproducibility, chunk invariance, options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data._store_parts import load_manifest
from evaltools.data.panel import RegisterPanel
from evaltools.data.store import read_panel
from evaltools.exceptions import SpecificationError
from evaltools.synth import SynthConfig, content_checksums, generate, generate_to_disk
from evaltools.synth.__main__ import main as cli_main
from evaltools.synth._engine import BLOCK_SIZE


def test_panel_structure_and_validation(sample_draw):
    panel = sample_draw.panel
    assert isinstance(panel, RegisterPanel)
    assert panel.n_persons == 20_000
    report = panel.validate(raise_=False)
    assert report.ok, str(report)
    assert set(panel.events) == {"activation", "mentor", "interview", "offer", "sanction", "assessment"}
    for col in (
        "sex",
        "birth_year",
        "origin",
        "migrant_status",
        "education",
        "municipality",
        "readiness",
        "support_weeks_prior5y",
        "insured",
        "arrival_week",
    ):
        assert col in panel.persons.columns
    # the unobserved type is hidden, never in the person table
    assert "het_type" not in panel.persons.columns
    assert list(sample_draw.hidden.columns) == ["person_id", "het_type"]
    assert set(sample_draw.hidden["het_type"].astype(str)) == {"low", "medium", "high"}
    assert panel.persons["municipality"].nunique() == 20
    # every code used is in the code table; activation weeks carry activation codes
    used = set(panel.states["state"].astype(str))
    assert {"111", "113", "701", "702", "705", "706", "721", "890", "783", "651"} <= used
    assert used <= set(panel.codes.codes)
    # point events have end_week == week
    for name in ("interview", "offer", "sanction"):
        ev = panel.events[name]
        assert (ev["end_week"] == ev["week"]).all()
    mentor = panel.events["mentor"]
    assert set(mentor["provider"].astype(str)) == {"internal", "external"}
    assert (mentor["hours_per_week"] > 0).all()


def test_activation_codes_match_activation_events(sample_draw):
    """Each activation week in the states lies inside an activation event of the same kind."""
    panel = sample_draw.panel
    act_map = panel.codes.mapping("activation")
    st = panel.states
    kind = st["state"].astype(str).map(act_map)
    act = st[kind.isin(["virksomhedspraktik", "loentilskud", "virksomhedscenter"]).to_numpy()]
    ev = panel.events["activation"]
    n_weeks = int(
        (
            ev.loc[ev["kind"].isin(["virksomhedspraktik", "loentilskud", "virksomhedscenter"]), "end_week"]
            - ev["week"]
            + 1
        ).sum()
    )
    # states are the weeks of the events (events end in the exit week, which is coded too)
    assert len(act) == n_weeks


def test_same_seed_same_panel_and_chunk_invariance():
    n = 2 * BLOCK_SIZE + 500
    a = generate(seed=5, n_persons=n, years=2, chunk_size=BLOCK_SIZE, att=False)
    b = generate(seed=5, n_persons=n, years=2, chunk_size=10 * BLOCK_SIZE, att=False)
    assert content_checksums(a.panel) == content_checksums(b.panel)
    pd.testing.assert_frame_equal(a.hidden, b.hidden)
    c = generate(seed=6, n_persons=n, years=2, att=False)
    assert content_checksums(c.panel)["states"] != content_checksums(a.panel)["states"]


def test_parallel_workers_give_identical_output():
    n = 2 * BLOCK_SIZE
    a = generate(seed=8, n_persons=n, years=1, att=False)
    b = generate(seed=8, n_persons=n, years=1, att=False, n_jobs=2, chunk_size=2 * BLOCK_SIZE)
    assert content_checksums(a.panel) == content_checksums(b.panel)


def test_generate_does_not_depend_on_att_flag():
    a = generate(seed=3, n_persons=1500, years=2, att=False)
    b = generate(seed=3, n_persons=1500, years=2, att=True)
    assert content_checksums(a.panel) == content_checksums(b.panel)
    assert a.truth.att.empty or a.truth.att["n_treated"].sum() == 0
    assert b.truth.att["n_treated"].sum() > 0


def test_generate_to_disk_equals_generate(tmp_path):
    res = generate(seed=4, n_persons=3000, years=2, att=False)
    out = generate_to_disk(tmp_path / "p", seed=4, n_persons=3000, years=2, att=0, chunk_size=BLOCK_SIZE)
    back = read_panel(out)
    assert content_checksums(back) == content_checksums(res.panel)
    assert (out / "truth.json").is_file()
    hid = pd.read_parquet(out / "hidden" / "het_type.parquet")
    assert np.array_equal(hid["person_id"].to_numpy(), res.hidden["person_id"].to_numpy())


def test_generate_to_disk_writes_a_store_of_one_partition_per_chunk(tmp_path):
    n = BLOCK_SIZE + 300
    res = generate(seed=9, n_persons=n, years=1, att=False)
    out = generate_to_disk(tmp_path / "p", seed=9, n_persons=n, years=1, att=0, chunk_size=BLOCK_SIZE)
    man = load_manifest(out)
    assert [p["n_persons"] for p in man["partitions"]] == [BLOCK_SIZE, 300]
    assert man["meta"]["seed"] == 9 and man["meta"]["n_persons"] == n
    back = read_panel(out)
    for table in ("states", "persons"):
        pd.testing.assert_frame_equal(getattr(back, table), getattr(res.panel, table))
    for k, v in res.panel.events.items():
        pd.testing.assert_frame_equal(back.events[k], v)
    assert dict(back.meta) == dict(res.panel.meta)
    assert not [p for p in tmp_path.iterdir() if p.name != "p"]


def test_cli(tmp_path, capsys):
    rc = cli_main(
        [
            "--persons",
            "800",
            "--years",
            "1",
            "--seed",
            "2",
            "--out",
            str(tmp_path / "cli"),
            "--att-persons",
            "0",
        ]
    )
    assert rc == 0
    panel = read_panel(tmp_path / "cli")
    assert (tmp_path / "cli" / "manifest.json").is_file()
    assert panel.n_persons == 800
    assert panel.meta["seed"] == 2


def test_observation_window_and_censoring(sample_draw):
    panel = sample_draw.panel
    p = panel.persons
    lo, hi = panel.meta["first_week"], panel.meta["last_week"]
    assert p["obs_start"].min() == lo and p["obs_end"].max() == hi
    # persons arriving during the window start on integrationsydelse in their arrival week
    arr = p[p["arrival_week"].notna() & (p["arrival_week"] >= lo)]
    assert len(arr) > 0
    assert (arr["obs_start"].to_numpy() == arr["arrival_week"].to_numpy()).all()
    first = panel.states.groupby("person_id")["state"].first().astype(str).map(panel.codes.mapping("benefit"))
    first_arr = panel.states.groupby("person_id")["week"].first().reindex(arr["person_id"]).to_numpy()
    assert first.reindex(arr["person_id"]).isin(["integrationsydelse", "censored"]).all()
    assert (first_arr == arr["arrival_week"].to_numpy()).all()
    # censoring codes end observation
    cens = panel.states[panel.states["state"].astype(str).isin(["997", "998", "999"])]
    end = p.set_index("person_id").loc[cens["person_id"], "obs_end"].to_numpy()
    assert (cens["week"].to_numpy() == end).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_persons": 0}, "n_persons"),
        ({"n_persons": 10, "years": 0}, "years"),
        ({"n_persons": 10, "start_year": 1900}, "start_year"),
        ({"n_persons": 10, "seed": -1}, "seed"),
        ({"n_persons": 10, "chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_arguments(kwargs, match):
    kw = {"seed": 1} | kwargs
    with pytest.raises(SpecificationError, match=match):
        generate(**kw)


def test_config_validation():
    with pytest.raises(SpecificationError, match="lockin"):
        SynthConfig(lockin={"loentilskud": 0.5})
    with pytest.raises(SpecificationError, match="het_probs"):
        SynthConfig(het_probs=(0.5, 0.5, 0.5))
    cfg = SynthConfig()
    assert cfg.sanction_multiplier(0) == 1.9 and cfg.sanction_multiplier(13) == 1.0
    assert cfg.to_dict()["lockin"]["loentilskud"] == cfg.lockin["loentilskud"]
    with pytest.raises(SpecificationError, match="mentor_max_weeks"):
        SynthConfig(mentor_max_weeks=0)
    with pytest.raises(SpecificationError, match="mentor_internal_max"):
        SynthConfig(mentor_internal_max=1.5)


def test_mentor_cap_policy_on_common_random_numbers():
    """A cap that never binds reproduces the panel; a binding cap shortens spells and changes few paths."""
    kw = dict(seed=5, n_persons=3000, years=3, att=False)
    base = generate(**kw)
    loose = generate(SynthConfig(mentor_max_weeks=10_000), **kw)
    assert content_checksums(loose.panel) == content_checksums(base.panel)
    capped = generate(SynthConfig(mentor_max_weeks=13), **kw)
    m0, m1 = base.panel.events["mentor"], capped.panel.events["mentor"]
    first = base.panel.first_week  # spells running at the window start began in the (uncapped) burn-in
    m0, m1 = m0[m0["week"] > first], m1[m1["week"] > first]
    d1 = m1["end_week"] - m1["week"] + 1
    assert d1.max() <= 13 and (m0["end_week"] - m0["week"] + 1).max() > 13
    # the same persons; only mentor recipients' paths can change (common random numbers)
    pd.testing.assert_frame_equal(capped.panel.persons.drop(columns="readiness"),
                                  base.panel.persons.drop(columns="readiness"))
    s0 = base.panel.states.set_index(["person_id", "week"])["state"].astype(str)
    s1 = capped.panel.states.set_index(["person_id", "week"])["state"].astype(str)
    both = s0.index.union(s1.index)
    diff = s0.reindex(both) != s1.reindex(both)
    changed = set(both[diff.to_numpy()].get_level_values(0))
    assert len(changed) < 0.1 * kw["n_persons"]
