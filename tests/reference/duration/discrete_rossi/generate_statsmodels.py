"""Reference fits of discrete-time hazards on Rossi person-weeks with statsmodels GLM (Binomial).

Run from the repository root:  .venv/bin/python tests/reference/duration/discrete_rossi/generate_statsmodels.py
Writes statsmodels.json (repr floats: full double precision).  Design: one dummy per duration band
(no intercept) plus covariates, one row per person-week, exactly as DiscreteHazard(baseline="bands").
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm

HERE = Path(__file__).parent
BANDS = [4, 8, 13, 26, 39]
LABELS = ["1-4", "5-8", "9-13", "14-26", "27-39", "40+"]
d = pd.read_csv(HERE / "rossi_pw.csv")
band = np.searchsorted(BANDS, d["week"].to_numpy(), side="left")
dummies = pd.DataFrame({f"week[{lab}]": (band == k).astype(float) for k, lab in enumerate(LABELS)})
CASES = {
    "logit_bands": ("logit", ["fin", "age", "prio", "employed", "mar"]),
    "cloglog_bands": ("cloglog", ["fin", "age", "prio", "employed", "mar"]),
    "cloglog_discrete": ("cloglog", ["fin", "mar", "employed"]),
}
out = {"versions": {"statsmodels": statsmodels.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                    "pandas": pd.__version__}, "bands": BANDS}
for name, (link, covs) in CASES.items():
    X = pd.concat([dummies, d[covs].astype(float)], axis=1)
    lk = sm.families.links.Logit() if link == "logit" else sm.families.links.CLogLog()
    model = sm.GLM(d["event"].astype(float), X, family=sm.families.Binomial(link=lk))
    res = model.fit(tol=1e-14, maxiter=200)
    G = d["id"].nunique()
    rob = model.fit(tol=1e-14, maxiter=200, cov_type="cluster",
                    cov_kwds={"groups": d["id"].to_numpy(), "use_correction": False})
    out[name] = {
        "link": link, "covariates": covs, "names": list(X.columns),
        "params": [float(v) for v in res.params], "bse": [float(v) for v in res.bse],
        "llf": float(res.llf), "nobs": int(res.nobs),
        # statsmodels without correction; evaltools applies G/(G-1) (Stata's ML convention)
        "bse_cluster_G_over_G1": [float(v) for v in np.sqrt(np.diag(rob.cov_params()) * G / (G - 1))],
        "n_clusters": int(G),
    }
(HERE / "statsmodels.json").write_text(json.dumps(out, indent=1))
print(json.dumps({k: out[k]["params"][-3:] for k in CASES}, indent=1))
