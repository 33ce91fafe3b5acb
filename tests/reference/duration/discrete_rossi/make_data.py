"""Write rossi_pw.csv: Rossi person-weeks (one row per week at risk) with 0/1-coded covariates.

Run from the repository root:  PYTHONPATH=. .venv/bin/python tests/reference/duration/discrete_rossi/make_data.py
Source: evaltools/datasets/rossi/rossi.csv (carData 3.0-5), unfolded with
evaltools.datasets.rossi.load_person_weeks() (week w covers (w-1, w]; employed = status in that week).
"""

from pathlib import Path

from evaltools.datasets.rossi import load_person_weeks

pw = load_person_weeks()
out = pw[["id", "stop", "event", "employed", "age", "prio"]].rename(columns={"stop": "week"})
for c, yes in [("fin", "yes"), ("mar", "married"), ("wexp", "yes"), ("paro", "yes"), ("race", "black")]:
    out[c] = (pw[c] == yes).astype(int)
out.to_csv(Path(__file__).with_name("rossi_pw.csv"), index=False)
print(out.shape, int(out["event"].sum()))
