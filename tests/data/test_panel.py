import numpy as np
import pandas as pd
from data_panel_factory import dense_states, random_panel

from evaltools.data import read_panel, write_panel


def test_to_long_dense_and_sparse():
    p = random_panel(1)
    dense = p.to_long(dense=True)
    assert len(dense) == p.n_person_weeks
    assert dense["week"].dtype == np.int32 and isinstance(dense["state"].dtype, pd.CategoricalDtype)
    brute = dense_states(p)
    assert (
        dense["state"].astype(object).where(dense["state"].notna(), None).tolist() == brute["code"].tolist()
    )
    sparse = p.to_long()
    pd.testing.assert_frame_equal(sparse, p.states)
    sparse["week"] = 0  # a copy
    assert (p.states["week"] != 0).all()


def test_subset_and_store_round_trip(tmp_path):
    p = random_panel(2)
    keep = p.persons["person_id"].to_numpy()[::3]
    s = p.subset(keep)
    assert s.persons["person_id"].tolist() == sorted(keep.tolist())
    assert set(s.states["person_id"]) <= set(keep) and set(s.events["mentor"]["person_id"]) <= set(keep)
    assert len(s.states) == p.states["person_id"].isin(keep).sum()
    assert s.validate(raise_=False).ok
    write_panel(s, tmp_path / "panel")
    r = read_panel(tmp_path / "panel")
    pd.testing.assert_frame_equal(r.states, s.states)
    pd.testing.assert_frame_equal(r.events["activation"], s.events["activation"])
