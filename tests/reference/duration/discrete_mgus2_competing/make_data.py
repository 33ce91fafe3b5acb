"""Write mgus2_py.csv: person-years of survival::mgus2 with competing exits (1 = PCM, 2 = death).

Run from the repository root:  .venv/bin/python tests/reference/duration/discrete_mgus2_competing/make_data.py
Source: tests/reference/duration/aj_mgus2/mgus2.csv (survival 3.5-3).  Exit time: ptime if PCM, else
futime (months); year j covers months (12(j-1), 12j].  Persons with missing hgb are left out (documented
in PROVENANCE.md); one row per person-year at risk.
"""

from pathlib import Path

import numpy as np
import pandas as pd

here = Path(__file__).parent
m = pd.read_csv(here.parent / "aj_mgus2" / "mgus2.csv")
m = m[m["hgb"].notna()].copy()
etime = np.where(m["pstat"] == 0, m["futime"], m["ptime"])
cause = np.where(m["pstat"] == 1, 1, np.where(m["death"] == 1, 2, 0))
years = np.ceil(etime / 12).astype(int)
rows = np.repeat(np.arange(len(m)), years)
year = np.concatenate([np.arange(1, k + 1) for k in years])
last = np.r_[np.diff(rows) != 0, True]
out = pd.DataFrame({
    "id": m["id"].to_numpy()[rows],
    "year": year,
    "exit": np.where(last, cause[rows], 0),
    "male": (m["sex"].to_numpy()[rows] == "M").astype(int),
    "age10": m["age"].to_numpy()[rows] / 10.0,
    "hgb": m["hgb"].to_numpy()[rows],
})
out.to_csv(here / "mgus2_py.csv", index=False)
print(out.shape, out["exit"].value_counts().to_dict())
