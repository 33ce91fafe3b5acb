"""Write the small example files of ``notebooks/00_your_own_data.ipynb`` from the synthetic sample.

``dream_wide.csv`` is a DREAM extract in the wide layout (``PNR`` and one ``y_YYWW`` column per week,
2010-W01..2012-W52, blank = no transfer that week) and ``persons.csv`` the background table that a
register extract delivers separately (one row per ``PNR``). Both are cut from ``data_samples/sample_panel``
(synthetic; no real person): 1,000 persons drawn with a fixed seed among those observed for the whole
window, with pseudonymous string ids. Rerun with

    python data_samples/own_data/make_example.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from evaltools.data import isoweek_to_index, read_panel, to_dream_wide

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_panel"
N_PERSONS = 1_000
SEED = 2010
PERSON_COLUMNS = ["PNR", "sex", "birth_year", "origin", "education", "municipality"]


def main() -> None:
    """Write ``dream_wide.csv`` and ``persons.csv`` next to this script."""
    panel = read_panel(SAMPLE)
    lo, hi = int(isoweek_to_index(2010, 1)), int(isoweek_to_index(2012, 52))
    p = panel.persons
    eligible = p.loc[(p["obs_start"] <= lo) & (p["obs_end"] >= hi), "person_id"].to_numpy()
    ids = np.sort(np.random.default_rng(SEED).choice(eligible, size=N_PERSONS, replace=False))
    sub = panel.subset(ids)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # codes before 2010 are left out on purpose
        wide = to_dream_wide(sub, weeks=(lo, hi))
    pnr = {pid: f"P{pid:06d}" for pid in sub.persons["person_id"]}
    wide["PNR"] = wide["PNR"].map(pnr)
    weeks = [c for c in wide.columns if str(c).startswith("y_")]
    wide[["PNR", *weeks]].to_csv(HERE / "dream_wide.csv", index=False)
    persons = sub.persons.assign(PNR=sub.persons["person_id"].map(pnr))
    persons[PERSON_COLUMNS].to_csv(HERE / "persons.csv", index=False)


if __name__ == "__main__":
    main()
