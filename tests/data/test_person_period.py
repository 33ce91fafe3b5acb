import numpy as np
import pandas as pd
from data_panel_factory import random_panel

from evaltools.data import build_spells, to_person_period


def test_person_period_rows_and_columns():
    p = random_panel(4, n_persons=8)
    sp = build_spells(p, gap_rule=2)
    pp = to_person_period(sp, p, treatments="mentor", covariates=["sex", "birth_year"])
    assert list(pp.columns) == [
        "spell_id",
        "person_id",
        "benefit",
        "week",
        "duration",
        "event",
        "exit",
        "treated",
        "in_activation",
        "sex",
        "birth_year",
    ]
    assert len(pp) == sp["duration"].sum()
    g = pp.groupby("spell_id")
    assert (g["duration"].max().to_numpy() == sp["duration"].to_numpy()).all()
    assert (g["week"].min().to_numpy() == sp["start_week"].to_numpy()).all()
    last = pp["duration"] == pp["spell_id"].map(sp.set_index("spell_id")["duration"])
    assert (pp.loc[~last, "exit"].astype(str) == "none").all()
    assert (pp.loc[last, "exit"].astype(str).to_numpy() == sp["exit"].astype(str).to_numpy()).all()
    assert pp["event"].sum() == (~sp["censored"]).sum()
    # in_activation: code of that calendar week has activation != "none"
    act = p.codes.mapping("activation")
    code = pp.merge(p.states, on=["person_id", "week"], how="left")["state"].astype(object)
    expect = np.array([c is not None and not pd.isna(c) and act[c] != "none" for c in code])
    assert (pp["in_activation"].to_numpy() == expect).all()
