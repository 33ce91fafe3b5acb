"""Spells and counting-process rows against an independent R implementation (rle + survival::tmerge).

Reference: tests/reference/data/spells_tmerge (see PROVENANCE.md there).  All values are integers
or labels, so the comparison is exact.
"""

import json
from pathlib import Path

import pandas as pd

from evaltools.data import RegisterPanel, build_spells, to_counting_process

REF = Path(__file__).resolve().parents[1] / "reference" / "data" / "spells_tmerge"


def _panel():
    states = pd.read_csv(REF / "states.csv", dtype={"state": str})
    persons = pd.read_csv(REF / "persons.csv")
    events = {n: pd.read_csv(REF / f"{n}.csv") for n in ("mentor", "activation")}
    return RegisterPanel(states=states, persons=persons, events=events)


def test_spells_and_counting_process_match_r():
    expected = json.loads((REF / "expected.json").read_text())
    panel = _panel()
    sp = build_spells(panel)
    exp_sp = pd.DataFrame(expected["spells"])
    got_sp = sp[list(exp_sp.columns)].astype({"benefit": str, "exit": str})
    pd.testing.assert_frame_equal(got_sp, exp_sp, check_dtype=False)

    cp = to_counting_process(sp, panel, treatments=["mentor", "activation"])
    exp_cp = pd.DataFrame(expected["counting"])
    assert exp_cp["treated_mentor"].sum() > 0 and exp_cp["treated_activation"].sum() > 0
    assert exp_cp["in_activation"].sum() > 0
    pd.testing.assert_frame_equal(cp[list(exp_cp.columns)], exp_cp, check_dtype=False)
