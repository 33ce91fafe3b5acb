"""Document the statsmodels PHReg counting-process pitfall (D7); writes statsmodels.json.

Run from the repository root:
    .venv/bin/python tests/reference/duration/startstop_pitfall/generate_statsmodels.py
statsmodels' PHReg treats a row with entry == t as at risk at t (``entry >= t``),
whereas R/lifelines/evaltools use (start, stop] (``start < t``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels
from formulaic import model_matrix
from statsmodels.duration.hazard_regression import PHReg

from evaltools.datasets.rossi import load_person_weeks

here = Path(__file__).parent
pw = load_person_weeks()
X = model_matrix("~ fin + age + race + wexp + mar + paro + prio + employed", pw).drop(columns="Intercept")
out: dict = {
    "versions": {"statsmodels": statsmodels.__version__, "numpy": np.__version__, "pandas": pd.__version__}
}
for name, entry in [("entry_start", pw["start"]), ("entry_start_plus_1e-6", pw["start"] + 1e-6)]:
    fit = PHReg(pw["stop"], X, status=pw["event"], entry=entry, ties="efron").fit()
    out[f"rossi_{name}"] = dict(zip(X.columns, map(float, fit.params)))
toy = pd.read_csv(here / "data.csv")
fit = PHReg(toy["stop"], toy[["x"]], status=toy["event"], entry=toy["start"], ties="efron").fit()
out["toy_entry_start"] = {"x": float(fit.params[0])}
(here / "statsmodels.json").write_text(json.dumps(out, indent=2))
print(json.dumps(out, indent=2))
