"""Reference values for evaltools.selection.IPW / AIPW from statsmodels TreatmentEffect.

Run from the repository root:  .venv/bin/python tests/reference/selection/nsw_ipw/generate.py
Input: evaltools/datasets/nsw/{nsw_dw.csv,cps1.csv} (read directly, not through evaltools).
"""

from __future__ import annotations

import datetime
import json
import sys
import warnings

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm
from statsmodels.treatment.treatment_effects import TreatmentEffect

nsw = pd.read_csv("evaltools/datasets/nsw/nsw_dw.csv")
cps = pd.read_csv("evaltools/datasets/nsw/cps1.csv")


def prepare(d: pd.DataFrame) -> pd.DataFrame:
    # earnings in $1000s (jtrain2 units) and scaled polynomial terms: statsmodels' GMM step uses
    # numerical derivatives and a Nelder-Mead step, which are inaccurate when regressors are badly scaled
    d = d.reset_index(drop=True).copy()
    for c in ("re74", "re75", "re78"):
        d[c] = d[c] / 1000
    d["u74"] = (d.re74 == 0).astype(float)
    d["u75"] = (d.re75 == 0).astype(float)
    d["age2"], d["age3"] = d.age**2 / 100, d.age**3 / 1000
    d["educ2"], d["educ_re74"] = d.educ**2, d.educ * d.re74
    return d


PS = [
    "age",
    "age2",
    "age3",
    "educ",
    "educ2",
    "marr",
    "nodegree",
    "black",
    "hisp",
    "re74",
    "re75",
    "u74",
    "u75",
    "educ_re74",
]
OUT = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75", "u74", "u75"]
samples = {"experimental": prepare(nsw), "cps": prepare(pd.concat([nsw[nsw.treat == 1], cps]))}
out: dict = {}
for name, d in samples.items():
    t = d.treat.to_numpy()
    z = sm.add_constant(d[PS])
    sel = sm.Logit(t, z).fit(method="newton", disp=0, tol=1e-10, maxiter=100)
    xo = sm.add_constant(d[OUT])
    te = TreatmentEffect(sm.OLS(d.re78.to_numpy(), xo), t, results_select=sel)
    res = {}
    calls = {
        "ipw_ate": (lambda te=te: te.ipw(), lambda te=te: te.ipw(return_results=False)),
        "ipw_att": (
            lambda te=te: te.ipw(effect_group=1),
            lambda te=te: te.ipw(return_results=False, effect_group=1),
        ),
        "aipw_ate": (lambda te=te: te.aipw(), lambda te=te: te.aipw(return_results=False)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, (full, closed) in calls.items():
            r = full()
            # TreatmentEffectResults is a t_test on the GMM params: rows ATE (effect), POM0, POM1
            res[key] = {
                "effect": float(r.effect[0]),
                "pom0": float(r.effect[1]),
                "pom1": float(r.effect[2]),
                "effect_se": float(r.sd[0]),
                "pom0_se": float(r.sd[1]),
                "pom1_se": float(r.sd[2]),
                "closed_form_effect_pom0_pom1": [float(np.squeeze(v)) for v in closed()],
            }
    res["logit_params"] = [float(v) for v in sel.params]
    out[name] = res
out["meta"] = {
    "python": sys.version.split()[0],
    "statsmodels": statsmodels.__version__,
    "numpy": np.__version__,
    "pandas": pd.__version__,
    "date": datetime.date.today().isoformat(),
    "ps_covariates": PS,
    "outcome_covariates": OUT,
}
with open("tests/reference/selection/nsw_ipw/expected.json", "w") as f:
    json.dump(out, f, indent=1)
