"""Benchmark: Fine-Gray regression on person-week rows with three exit types, evaltools vs R.

Simulated benefit spells, one row per person-week ``(t-1, t]``: exits to self-support (the
modelled exit), education and other benefits compete; covariates ``x1`` (normal), ``x2``
(binary), ``x3`` (normal) and a time-varying ``sanction`` dummy that switches on during the
spell; delayed entry (inflow before the window) for a fifth of the persons, random censoring and
administrative censoring at week 104.

Methods (each in its own process, the fit timed after the data are in memory):

* ``evaltools``: ``FineGray(...).fit(cov_type="cluster")`` (censoring weights, expansion,
  weighted Cox, person-clustered standard errors).
* ``R``: ``survival::finegray`` + ``coxph(weights = fgwt, cluster = id)`` via ``Rscript``, the
  same model, timed inside R (``system.time``) after ``read.csv`` (skipped if R is absent).
* ``lifelines``: ``CoxTimeVaryingFitter`` with ``weights_col`` on the expanded rows that
  evaltools builds (lifelines has no Fine-Gray model; this times only its Cox stage, without
  clustered standard errors).  Slow on large inputs, so not run by default.

Usage::

    .venv/bin/python benchmarks/bench_finegray.py --rows 1000000
    .venv/bin/python benchmarks/bench_finegray.py --rows 100000 --methods evaltools R lifelines
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

COVS = ["x1", "x2", "x3", "sanction"]
EXITS = {1: "self-support", 2: "education", 3: "other benefits"}


def simulate(rows: int, seed: int = 1) -> pd.DataFrame:
    """Simulate about ``rows`` person-week rows (about 25 weeks per person)."""
    rng = np.random.default_rng(seed)
    n = max(int(rows / 25.0), 20)
    horizon = 104
    x1, x2, x3 = rng.normal(size=n), rng.integers(0, 2, n).astype(float), rng.normal(size=n)
    entry = np.where(rng.random(n) < 0.2, rng.integers(1, 20, n), 0)
    cens = rng.integers(10, 3 * horizon, n)
    sanction = np.zeros(n)
    alive = np.ones(n, bool)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ["id", "start", "stop", "exit", *COVS]}
    ids = np.arange(n)
    base = np.log(np.array([0.020, 0.008, 0.012]))
    beta = np.array([[0.4, -0.3, 0.1, 0.5], [-0.2, 0.3, 0.0, -0.4], [0.1, 0.0, -0.2, 0.3]])
    for t in range(1, horizon + 1):
        at = np.flatnonzero(alive & (entry < t) & (t <= cens))
        if len(at) == 0:
            continue
        X = np.column_stack([x1[at], x2[at], x3[at], sanction[at]])
        haz = np.exp(base[None, :] + X @ beta.T - 0.005 * t)
        p_any = 1 - np.exp(-haz.sum(axis=1))
        ex = rng.random(len(at)) < p_any
        u = rng.random(len(at)) * haz.sum(axis=1)
        kind = 1 + (u > haz[:, 0]) + (u > haz[:, 0] + haz[:, 1])
        cols["id"].append(ids[at])
        cols["start"].append(np.full(len(at), t - 1.0))
        cols["stop"].append(np.full(len(at), float(t)))
        cols["exit"].append(np.where(ex, kind, 0).astype(np.int8))
        for name, arr in zip(COVS, X.T):
            cols[name].append(arr.copy())
        alive[at[ex]] = False
        sanction[at] = np.maximum(sanction[at], (rng.random(len(at)) < 0.01).astype(float))
    return pd.DataFrame({k: np.concatenate(v) for k, v in cols.items()})


def fit_evaltools(df: pd.DataFrame) -> tuple[float, dict]:
    from evaltools.duration.finegray import FineGray

    res = FineGray(df, covariates=COVS, cause=1, event="exit", start="start", stop="stop", id="id").fit()
    return float(res.params["sanction"]), {
        "expanded_rows": res.n_expanded,
        "se_sanction": float(res.bse["sanction"]),
    }


def fit_lifelines(df: pd.DataFrame) -> tuple[float, dict]:
    from lifelines import CoxTimeVaryingFitter

    from evaltools.duration.finegray import FineGray

    m = FineGray(df, covariates=COVS, cause=1, event="exit", start="start", stop="stop", id="id")
    exp = pd.DataFrame(m._X[m._exp_row], columns=COVS)
    exp["start"], exp["stop"], exp["w"] = m._exp_start, m._exp_stop, m._exp_w
    exp["event"] = (m._status[m._exp_row] == 1).astype(int)
    exp["rid"] = np.arange(len(exp))
    t0 = time.perf_counter()
    ctv = CoxTimeVaryingFitter()
    ctv.fit(
        exp,
        id_col="rid",
        event_col="event",
        start_col="start",
        stop_col="stop",
        weights_col="w",
        show_progress=False,
    )
    return float(ctv.params_["sanction"]), {"cox_stage_only": True, "cox_seconds": time.perf_counter() - t0}


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
d <- read.csv(Sys.getenv("FG_CSV"))
d$ev <- factor(d$exit, 0:3, labels = c("censor", "self", "edu", "other"))
tm <- system.time({
  fg <- finegray(Surv(start, stop, ev) ~ x1 + x2 + x3 + sanction + id, data = d, id = id, etype = "self")
  fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x1 + x2 + x3 + sanction, data = fg, weights = fgwt,
               cluster = id)
})
cat(sprintf('{"seconds": %.6f, "beta": %.12g, "se": %.12g, "expanded_rows": %d}\n', tm[["elapsed"]],
            coef(fit)[["sanction"]], sqrt(diag(vcov(fit)))[4], nrow(fg)))
"""


def fit_r(df: pd.DataFrame) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "d.csv")
        df.to_csv(csv, index=False)
        script = os.path.join(tmp, "fg.R")
        with open(script, "w") as fh:
            fh.write(R_SCRIPT)
        proc = subprocess.run(
            ["Rscript", script], capture_output=True, text=True, check=True, env={**os.environ, "FG_CSV": csv}
        )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["beta"], {
        "seconds_in_R": out["seconds"],
        "expanded_rows": out["expanded_rows"],
        "se_sanction": out["se"],
    }


METHODS = {"evaltools": fit_evaltools, "R": fit_r, "lifelines": fit_lifelines}


def worker(method: str, rows: int, repeat: int) -> dict:
    df = simulate(rows)
    if method == "evaltools":
        __import__("evaltools.duration.finegray")
    elapsed, est, info = np.inf, np.nan, {}
    for _ in range(repeat):  # best of `repeat` runs (the machine is shared)
        t0 = time.perf_counter()
        est, info = METHODS[method](df)
        elapsed = min(elapsed, time.perf_counter() - t0)
    if method == "R":
        elapsed = info.pop("seconds_in_R")  # fit time inside R (excludes writing and reading the CSV)
    if method == "lifelines":
        elapsed = info.pop("cox_seconds")
    return {
        "method": method,
        "rows": len(df),
        "persons": int(df["id"].nunique()),
        **{f"exits_{v}": int((df["exit"] == k).sum()) for k, v in EXITS.items()},
        "seconds": elapsed,
        "beta_sanction": est,
        **info,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--methods", nargs="+", default=["evaltools", "R"], choices=list(METHODS))
    ap.add_argument("--repeat", type=int, default=1, help="time the best of this many fits")
    ap.add_argument("--worker", choices=list(METHODS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.repeat)))
        return
    results = []
    for m in args.methods:
        if m == "R" and shutil.which("Rscript") is None:
            print("Rscript not found: R skipped")
            continue
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            m,
            "--rows",
            str(args.rows),
            "--repeat",
            str(args.repeat),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    table = pd.DataFrame(results).set_index("method")
    ours = table.loc["evaltools", "seconds"] if "evaltools" in table.index else np.nan
    table["ratio_vs_evaltools"] = table["seconds"] / ours
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.T)
    others = table.drop(index="evaltools", errors="ignore")
    if len(others) and np.isfinite(ours):
        print(
            f"evaltools fit: {ours:.2f} s; "
            + "; ".join(f"{m}: {s:.2f} s ({s / ours:.1f}x)" for m, s in others["seconds"].items())
        )


if __name__ == "__main__":
    main()
