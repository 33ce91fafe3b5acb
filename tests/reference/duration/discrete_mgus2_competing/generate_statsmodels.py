"""Reference multinomial-logit discrete-time competing-risks fit with statsmodels MNLogit.

Run from the repository root:  .venv/bin/python tests/reference/duration/discrete_mgus2_competing/generate_statsmodels.py
Design: one dummy per duration band (no constant) plus covariates; outcome 0 = no exit (reference),
1 = PCM, 2 = death; Newton-Raphson to gradient tolerance 1e-14.  Writes statsmodels.json (repr floats).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm

HERE = Path(__file__).parent
BANDS = [2, 5, 10]
LABELS = ["1-2", "3-5", "6-10", "11+"]
d = pd.read_csv(HERE / "mgus2_py.csv")
band = np.searchsorted(BANDS, d["year"].to_numpy(), side="left")
X = pd.DataFrame({f"year[{lab}]": (band == k).astype(float) for k, lab in enumerate(LABELS)})
X[["male", "age10", "hgb"]] = d[["male", "age10", "hgb"]].astype(float)
res = sm.MNLogit(d["exit"], X).fit(method="newton", maxiter=200, gtol=1e-14, disp=False)
out = {
    "versions": {"statsmodels": statsmodels.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                 "pandas": pd.__version__},
    "bands": BANDS, "names": list(X.columns), "causes": [1, 2],
    # params/bse as [cause][name]
    "params": [[float(v) for v in res.params[k]] for k in range(2)],
    "bse": [[float(v) for v in res.bse[k]] for k in range(2)],
    "llf": float(res.llf), "nobs": int(res.nobs), "converged": bool(res.mle_retvals["converged"]),
}
(HERE / "statsmodels.json").write_text(json.dumps(out, indent=1))
print(res.summary())
