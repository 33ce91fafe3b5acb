"""Write dream.csv: a small DREAM wide extract for the SAS reader test (run from the repository root)."""

from pathlib import Path

import numpy as np
import pandas as pd

from evaltools.data import dream_column, isoweek_to_index

rng = np.random.default_rng(7)
n, k = 40, 60
lo = int(isoweek_to_index(2014, 40))
codes = np.array(["", "", "", "111", "701", "890", "651", "731"])
cells = codes[rng.integers(0, len(codes), size=(n, k))]
cells[3, 50] = "997"
cells[3, 51:] = ""
frame = pd.DataFrame(cells, columns=dream_column(np.arange(lo, lo + k)))
frame.insert(0, "sex", rng.choice(["F", "M"], size=n))
frame.insert(0, "PNR", np.arange(1001, 1001 + n))
for m in (1, 2, 3):
    frame[f"branche_2015_{m:02d}"] = rng.choice(["", "4711", "8610"], size=n)
frame["ak15"] = rng.choice(["", "1", "2"], size=n)
frame.to_csv(Path(__file__).with_name("dream.csv"), index=False)
