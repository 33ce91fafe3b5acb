"""Notebook 00 (your own data): a DREAM wide file and a persons file to spells, KM, Cox and an indicator table.

The numbers are read from the notebook's key results and checked against the example files themselves
(read here with pandas, independently of the notebook's code path) and against the library run directly.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from nbrun import NOTEBOOKS, run_notebook

from evaltools.data import build_spells, left_censored, read_dream
from evaltools.exceptions import InputWarning

NB = "00_your_own_data.ipynb"
OWN = NOTEBOOKS.parent / "data_samples" / "own_data"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_notebook(NB, tmp_path_factory.mktemp("nb00"))


@pytest.fixture(scope="module")
def files() -> tuple[pd.DataFrame, pd.DataFrame]:
    wide = pd.read_csv(OWN / "dream_wide.csv", dtype=str, keep_default_na=False)
    persons = pd.read_csv(OWN / "persons.csv", dtype={"PNR": str})
    return wide, persons


def test_files_are_read_completely(key: dict, files) -> None:
    wide, persons = files
    weeks = [c for c in wide.columns if c.startswith("y_")]
    assert key["n_persons"] == len(wide) == len(persons)
    never_coded = int((wide[weeks] == "").all(axis=1).sum())  # persons with a blank row: noted, kept
    assert key["input_notes"].get("no_coded_weeks", 0) == never_coded > 0
    assert key["n_weeks"] == len(weeks) == 156
    assert key["n_coded_weeks"] == int((wide[weeks] != "").to_numpy().sum())  # every non-blank cell is a row
    assert key["no_background"] == 0 and key["validation_ok"]


def test_spells_events_and_survival(key: dict) -> None:
    with pytest.warns(InputWarning, match="no coded week in their window"):
        panel = read_dream(OWN / "dream_wide.csv")
    sp = build_spells(panel, benefit="kontanthjaelp")
    left, _ = left_censored(panel, sp["person_id"], sp["start_week"])
    assert [n for _, n in key["steps"]] == [len(sp), int((~left).sum())]
    assert key["n_spells"] == int((~left).sum())
    assert key["n_events"] == int((sp.loc[~left, "exit"].astype(str) == "self_support").sum()) > 20
    assert key["km_groups"] == ["F", "M"]
    for v in key["km_median"].values():
        assert v is None or 0 < v <= key["n_weeks"]


def test_cox_model(key: dict) -> None:
    assert 0 < key["cox_events"] <= key["n_events"] < key["cox_rows"]
    assert "age" in key["cox_terms"] and any(t.startswith("C(sex)") for t in key["cox_terms"])
    for t in key["cox_terms"]:
        assert math.isfinite(key["cox_params"][t]) and 0 < key["cox_se"][t] < 5, t
    assert abs(key["cox_params"]["age"]) < 0.2  # a per-year log hazard ratio


def test_indicator_table_leaves_out_empty_benefits(key: dict) -> None:
    assert key["fte_rows_shown"] < key["fte_rows_all"]
    assert "kontanthjaelp" in key["fte_benefits_shown"] and "starthjaelp" not in key["fte_benefits_shown"]
    assert key["fte_total_2011"] > 0


def test_rerun_for_one_municipality(tmp_path, files, key: dict) -> None:
    _, persons = files
    muni = persons["municipality"].value_counts().index[0]
    k = run_notebook(NB, tmp_path, municipality=muni)
    assert k["steps"][-1][0] == f"... in {muni}" and 0 < k["n_spells"] < key["n_spells"]
    assert 0 < k["fte_total_2011"] < key["fte_total_2011"]


def test_partitioned_store_gives_the_same_panel_and_table(key: dict, files) -> None:
    wide, _ = files
    weeks = [c for c in wide.columns if c.startswith("y_")]
    assert key["store_partitions"] == -(-len(wide) // 100)  # batches of 100 persons
    assert key["store_state_rows"] == key["n_coded_weeks"]
    # runs of one code: fewer than the coded weeks, at least one per person-spell of equal codes
    cells = wide[weeks].to_numpy()
    changes = int(((cells[:, 1:] != cells[:, :-1]) & (cells[:, 1:] != "")).sum() + (cells[:, 0] != "").sum())
    assert key["store_runs"] == changes < key["store_state_rows"]
    assert key["store_same_fte"] is True
    assert key["store_year_persons"] == len(wide)
    assert key["store_year_weeks"][1] - key["store_year_weeks"][0] + 1 in (52, 53)
