"""Benchmark: doubly robust (AIPTW, AIPCW) survival effects, evaltools vs riskRegression::ate.

Simulated register-like spells: one spell per person, weekly durations up to 104 weeks (ties, as in
DREAM; censoring during a week at ``w - 0.5``), 5 covariates (two of them confounders), a logit
treatment, a Cox-type exit hazard and covariate-dependent censoring plus administrative censoring at 104
weeks.  evaltools fits the logit propensity, Cox outcome and Cox censoring models and reports survival at
13, 26 and 52 weeks, their differences and ratios, and the RMST difference to 104 weeks, with
influence-function SEs including the nuisance terms.  The peer, ``riskRegression::ate(estimator =
"AIPTW,AIPCW")`` (run through ``Rscript`` when available, on the same data and models), reports survival
at the three times only (no RMST), so the ratio is conservative.  With tied times its estimates are not
comparable (it enumerates tied censoring times with multiplicity; see
:mod:`evaltools.selection.survival_aipw`); after breaking the ties the two agree to 12 digits.  The IPW
Kaplan-Meier estimator with a 200-replication bootstrap (``IPWSurvival``) is timed as the in-package
alternative.

Usage::

    .venv/bin/python benchmarks/bench_survival_aipw.py --persons 20000
    .venv/bin/python benchmarks/bench_survival_aipw.py --persons 1000000 --no-r --no-ipw
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

COVS = ["x1", "x2", "x3", "x4", "x5"]

R_SCRIPT = r"""
suppressPackageStartupMessages({library(survival); library(riskRegression)})
a <- commandArgs(TRUE); d <- read.csv(a[1]); d$treat <- factor(d$treat)
f <- "x1 + x2 + x3 + x4 + x5"
el <- system.time({
  ps <- glm(as.formula(paste("treat ~", f)), data = d, family = binomial())
  cox <- function(lhs) coxph(as.formula(paste(lhs, f)), data = d, ties = "breslow", x = TRUE, y = TRUE)
  ev <- cox("Surv(weeks, exit) ~ treat +")
  ce <- cox("Surv(weeks, exit == 0) ~")
  r <- ate(event = ev, treatment = ps, censor = ce, data = d, times = c(13, 26, 52), cause = 1,
           estimator = "AIPTW,AIPCW", verbose = FALSE)
})[["elapsed"]]
m <- r$meanRisk[treatment == "1" & time == 52]
cat(el, 1 - m$estimate, m$se, "\n")
"""


def simulate(persons: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(persons, 5))
    x[:, 1] = x[:, 1] > 0
    treat = (rng.random(persons) < 1 / (1 + np.exp(-(-0.5 + 0.6 * x[:, 0] - 0.4 * x[:, 1])))).astype(int)
    lam = 0.03 * np.exp(0.5 * x[:, 0] + 0.3 * x[:, 1] + 0.2 * x[:, 2] - 0.3 * treat)
    t = rng.exponential(1 / lam)
    c = np.minimum(rng.exponential(1 / (0.01 * np.exp(0.3 * x[:, 0] + 0.2 * x[:, 3]))), 104.0)
    weeks = np.maximum(np.ceil(np.minimum(t, c)), 1.0)
    weeks = np.where((t > c) & (c < 104.0), weeks - 0.5, weeks)  # censored during the week: life-table rule
    d = pd.DataFrame(x, columns=COVS)
    return d.assign(treat=treat, weeks=weeks, exit=(t <= c).astype(int))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--no-r", action="store_true", help="skip riskRegression")
    ap.add_argument("--no-ipw", action="store_true", help="skip the IPW bootstrap")
    args = ap.parse_args()
    from evaltools.selection import AIPWSurvival, IPWSurvival

    d = simulate(args.persons)
    rows = []
    t0 = time.perf_counter()
    res = AIPWSurvival(d, duration="weeks", event="exit", treatment="treat", covariates=COVS).fit(
        times=[13, 26, 52], tau=104
    )
    rows.append(
        {
            "method": "evaltools AIPWSurvival",
            "seconds": time.perf_counter() - t0,
            "surv_treated[52]": res.params["surv_treated[52]"],
            "se": res.bse["surv_treated[52]"],
        }
    )
    if not args.no_ipw:
        t0 = time.perf_counter()
        ipw = IPWSurvival(d, duration="weeks", event="exit", treatment="treat", covariates=COVS).fit(
            tau=104, times=[13, 26, 52], n_boot=200, seed=1, progress=False
        )
        rows.append(
            {
                "method": "evaltools IPWSurvival (bootstrap 200)",
                "seconds": time.perf_counter() - t0,
                "surv_treated[52]": ipw.params["surv_treated[52]"],
                "se": ipw.bse["surv_treated[52]"],
            }
        )
    if not args.no_r and shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            csv, script = Path(tmp) / "d.csv", Path(tmp) / "run.R"
            d.to_csv(csv, index=False)
            script.write_text(R_SCRIPT)
            out = subprocess.run(
                ["Rscript", str(script), str(csv)], capture_output=True, text=True, env=os.environ.copy()
            )
            if out.returncode == 0:
                el, s, se = map(float, out.stdout.split())
                rows.append({"method": "riskRegression::ate", "seconds": el, "surv_treated[52]": s, "se": se})
            else:
                print("riskRegression failed:", out.stderr.strip().splitlines()[-1:])
    table = pd.DataFrame(rows).set_index("method")
    table["ratio_vs_evaltools"] = table["seconds"] / table["seconds"].iloc[0]
    print(f"{args.persons:,} persons, {int(d['exit'].sum()):,} exits, {d['weeks'].nunique()} distinct weeks")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(5))


if __name__ == "__main__":
    main()
