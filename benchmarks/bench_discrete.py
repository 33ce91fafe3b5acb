"""Benchmark: discrete-time hazard on person-weeks vs statsmodels GLM with week dummies.

Targets: collapsible model on 200k person-weeks < 0.2 s; non-collapsible model
(continuous covariates + 104 week effects) < 2 s and < 500 MB (statsmodels GLM: ~30 s, 2.7 GB).

Data: the ToE-style generator of ``duration_anchors.md`` section 5.1 (cloglog exit index
-3.0 + 0.5 x1 - 0.3 x2 + 0.2 x3 + 0.4 x4 + 0.3 treat + v - 0.01 t, x4 AR(1), entry week 0-19,
up to 104 weeks; about 30 person-weeks per person).  Each method runs in its own process so
that the peak resident memory (ru_maxrss) is its own.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_discrete.py --rows 20000          # quick
    PYTHONPATH=. .venv/bin/python benchmarks/bench_discrete.py --rows 200000         # targets
    PYTHONPATH=. .venv/bin/python benchmarks/bench_discrete.py --rows 200000 --skip-statsmodels
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

METHODS = (
    "evaltools_collapsible",
    "evaltools_continuous",
    "statsmodels_collapsible",
    "statsmodels_continuous",
)


def simulate(rows: int, seed: int = 1) -> pd.DataFrame:
    """Person-week rows from the section 5.1 DGP (about ``rows`` rows)."""
    rng = np.random.default_rng(seed)
    n = max(int(rows / 30), 50)
    T = 104
    x1, x2, x3 = rng.normal(size=n), rng.integers(0, 2, n), rng.normal(size=n)
    v = rng.normal(scale=0.5, size=n)
    x4 = np.empty((n, T))
    x4[:, 0] = rng.normal(scale=0.3 / np.sqrt(1 - 0.81), size=n)
    innov = rng.normal(scale=0.3, size=(n, T))
    for t in range(1, T):  # AR(1) over weeks (104 vectorised steps, not a per-person loop)
        x4[:, t] = 0.9 * x4[:, t - 1] + innov[:, t]
    t = np.arange(1, T + 1)
    treat_haz = -np.expm1(-np.exp(-4 + 0.5 * x1 + v))
    treat_start = np.where(rng.random((n, T)) < treat_haz[:, None], t[None, :], T + 1).min(axis=1)
    treat = (t[None, :] > treat_start[:, None]).astype(float)  # effect from the following week
    eta = (
        -3.0
        + 0.5 * x1[:, None]
        - 0.3 * x2[:, None]
        + 0.2 * x3[:, None]
        + 0.4 * x4
        + 0.3 * treat
        + v[:, None]
        - 0.01 * t[None, :]
    )
    exits = rng.random((n, T)) < -np.expm1(-np.exp(eta))
    entry = rng.integers(0, 20, n)
    exits &= t[None, :] > entry[:, None]
    first = np.where(exits.any(axis=1), exits.argmax(axis=1) + 1, T)
    at_risk = (t[None, :] > entry[:, None]) & (t[None, :] <= first[:, None])
    pid, wk = np.nonzero(at_risk)
    d = pd.DataFrame(
        {
            "id": pid,
            "week": wk + 1,
            "x1": x1[pid],
            "x2": x2[pid],
            "x3": x3[pid],
            "x4": x4[pid, wk],
            "treat": treat[pid, wk],
            "event": exits[pid, wk].astype(int),
        }
    )
    d["x1q"] = pd.qcut(d["x1"], 4, labels=False).astype(float)
    return d


def run_one(method: str, rows: int) -> dict:
    """Fit one method and report the fit time, peak RSS and the treatment coefficient."""
    d = simulate(rows)
    # one baseline parameter per week; a week without exits is pooled with the next week with exits
    # (bands end at exit weeks), so that every baseline parameter is estimable: ~104 at 200k rows
    exit_weeks = np.unique(d.loc[d["event"] == 1, "week"])
    bands = [int(w) for w in exit_weeks[:-1]]
    band = np.searchsorted(bands, d["week"].to_numpy(), side="left")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    collapsible = method.endswith("collapsible")
    covs = ["x1q", "x2", "treat"] if collapsible else ["x1", "x2", "x3", "x4", "treat"]
    import statsmodels.api as sm

    from evaltools.duration.discrete import DiscreteHazard

    t0 = time.perf_counter()
    if method.startswith("evaltools"):
        res = DiscreteHazard(
            d, covariates=covs, duration="week", link="cloglog", baseline="bands", bands=bands
        ).fit()
        beta, se, extra = (
            res.params["treat"],
            res.bse["treat"],
            {"collapsed": res.collapsed, "cells": res.n_cells},
        )
    else:
        X = pd.get_dummies(band, prefix="w", dtype=float)
        X[covs] = d[covs].astype(float)
        fam = sm.families.Binomial(link=sm.families.links.CLogLog())
        res = sm.GLM(d["event"].astype(float), X, family=fam).fit(tol=1e-10)
        beta, se, extra = res.params["treat"], res.bse["treat"], {}
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "method": method,
        "baseline_params": len(bands) + 1,
        "rows": len(d),
        "seconds": dt,
        "peak_rss_mb": rss / 1024,
        "rss_before_fit_mb": rss0 / 1024,
        "beta_treat": float(beta),
        "se_treat": float(se),
        **extra,
    }


def main() -> None:
    """Command-line entry point: run every method in a subprocess and print ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20000, help="approximate number of person-weeks")
    ap.add_argument("--skip-statsmodels", action="store_true")
    ap.add_argument("--method", choices=METHODS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.method:
        print(json.dumps(run_one(args.method, args.rows)))
        return
    out = {}
    for m in METHODS:
        if args.skip_statsmodels and m.startswith("statsmodels"):
            continue
        proc = subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--method", m],
            capture_output=True,
            text=True,
            check=True,
        )
        out[m] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = out[m]
        print(
            f"{m:24s} rows={r['rows']:,} baseline={r['baseline_params']} fit={r['seconds']:.3f} s "
            f"peak RSS={r['peak_rss_mb']:.0f} MB "
            f"(before fit {r['rss_before_fit_mb']:.0f} MB) beta_treat={r['beta_treat']:.6f} "
            f"se={r['se_treat']:.6f} {r.get('cells', '')}"
        )
    for kind in ("collapsible", "continuous"):
        a, b = out.get(f"evaltools_{kind}"), out.get(f"statsmodels_{kind}")
        if a and b:
            print(
                f"{kind}: statsmodels / evaltools time ratio = {b['seconds'] / a['seconds']:.1f}x; "
                f"|beta difference| = {abs(a['beta_treat'] - b['beta_treat']):.2e}"
            )


if __name__ == "__main__":
    main()
