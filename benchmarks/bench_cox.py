"""Benchmark: Cox with time-varying covariates, evaltools vs lifelines and statsmodels.

Simulated person-week data (the ToE-style DGP of duration_anchors.md section 5.1): 5 covariates
(x1 normal, x2 binary, x3 normal, x4 AR(1) time-varying, ``treat`` time-varying dummy), up to 104
weeks, delayed entry uniform on weeks 0-19, rows ``(t-1, t]``, selection on unobservables.
``--times continuous`` draws exit times uniformly within the week (thousands of distinct event
times instead of 104).

Each method runs in its own process (peak RSS per method); the fit is timed with Efron ties.
Statsmodels gets ``entry = start + 1e-6`` so that it uses the same (start, stop] risk sets.

Usage::

    .venv/bin/python benchmarks/bench_cox.py --rows 200000
    .venv/bin/python benchmarks/bench_cox.py --rows 1000000 --methods evaltools statsmodels lifelines
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

COVS = ["x1", "x2", "x3", "x4", "treat"]


def simulate(rows: int, times: str = "weekly", seed: int = 1) -> pd.DataFrame:
    """Simulate about ``rows`` person-week rows (6,600 persons give about 200k rows)."""
    rng = np.random.default_rng(seed)
    n = max(int(round(rows * 6600 / 201763)), 10)
    horizon = 104
    x1, x2, x3 = rng.normal(size=n), rng.integers(0, 2, n).astype(float), rng.normal(size=n)
    v = rng.normal(0, 0.5, size=n)
    entry = rng.integers(0, 20, size=n)
    x4 = rng.normal(0, 0.3 / np.sqrt(1 - 0.81), size=n)
    treat_on = np.zeros(n, bool)
    alive = np.ones(n, bool)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ["id", "start", "stop", "event", *COVS]}
    ids = np.arange(n)
    for t in range(1, horizon + 1):
        x4 = 0.9 * x4 + rng.normal(0, 0.3, size=n)
        at = alive & (entry < t)
        idx_ = np.flatnonzero(at)
        if len(idx_) == 0:
            continue
        lin = -3.0 + 0.5 * x1 - 0.3 * x2 + 0.2 * x3 + 0.4 * x4 + 0.3 * treat_on + v - 0.01 * t
        p_exit = 1 - np.exp(-np.exp(lin[idx_]))
        ev = rng.random(len(idx_)) < p_exit
        stop = np.full(len(idx_), float(t))
        if times == "continuous":
            stop = np.where(ev, t - 1 + rng.uniform(0.001, 1.0, len(idx_)), stop)
        cols["id"].append(ids[idx_])
        cols["start"].append(np.full(len(idx_), t - 1.0))
        cols["stop"].append(stop)
        cols["event"].append(ev.astype(np.int8))
        for name, arr in zip(COVS, (x1, x2, x3, x4, treat_on.astype(float))):
            cols[name].append(arr[idx_].copy())
        alive[idx_[ev]] = False
        lin_p = -4.0 + 0.5 * x1 + v
        treat_on |= at & (rng.random(n) < 1 - np.exp(-np.exp(lin_p)))  # takes effect next week
    return pd.DataFrame({k: np.concatenate(v_) for k, v_ in cols.items()})


def fit_evaltools(df: pd.DataFrame) -> float:
    from evaltools.duration.cox import CoxPH

    res = CoxPH(df, covariates=COVS, id="id").fit(ties="efron")
    return float(res.params["treat"])


def fit_statsmodels(df: pd.DataFrame) -> float:
    from statsmodels.duration.hazard_regression import PHReg

    res = PHReg(
        df["stop"].to_numpy(),
        df[COVS].to_numpy(),
        status=df["event"].to_numpy(),
        entry=df["start"].to_numpy() + 1e-6,
        ties="efron",
    ).fit()
    return float(res.params[-1])


def fit_lifelines(df: pd.DataFrame) -> float:
    from lifelines import CoxTimeVaryingFitter

    ctv = CoxTimeVaryingFitter()
    ctv.fit(
        df[["id", "start", "stop", "event", *COVS]],
        id_col="id",
        event_col="event",
        start_col="start",
        stop_col="stop",
        show_progress=False,
    )
    return float(ctv.params_["treat"])


METHODS = {"evaltools": fit_evaltools, "statsmodels": fit_statsmodels, "lifelines": fit_lifelines}


def worker(method: str, rows: int, times: str, trace: bool, repeat: int = 1) -> dict:
    df = simulate(rows, times)
    fn = METHODS[method]
    # import outside the timed region (library import time is not fit time)
    __import__(
        {
            "evaltools": "evaltools.duration.cox",
            "statsmodels": "statsmodels.duration.hazard_regression",
            "lifelines": "lifelines",
        }[method]
    )
    elapsed = np.inf
    for _ in range(repeat):  # best of `repeat` runs (the machine is shared)
        t0 = time.perf_counter()
        est = fn(df)
        elapsed = min(elapsed, time.perf_counter() - t0)
    out = {
        "method": method,
        "rows": len(df),
        "events": int(df["event"].sum()),
        "distinct_event_times": int(df.loc[df["event"] == 1, "stop"].nunique()),
        "seconds": elapsed,
        "beta_treat": est,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if trace:
        tracemalloc.start()
        fn(df)
        out["fit_peak_traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--times", choices=["weekly", "continuous"], default="weekly")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--repeat", type=int, default=1, help="time the best of this many fits")
    ap.add_argument("--trace", action="store_true", help="also measure the fit's traced peak allocation")
    ap.add_argument("--worker", choices=list(METHODS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.times, args.trace, args.repeat)))
        return
    results = []
    for m in args.methods:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            m,
            "--rows",
            str(args.rows),
            "--times",
            args.times,
            "--repeat",
            str(args.repeat),
        ]
        if args.trace and m == "evaltools":
            cmd.append("--trace")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    table = pd.DataFrame(results).set_index("method")
    ours = table.loc["evaltools", "seconds"] if "evaltools" in table.index else np.nan
    table["ratio_vs_evaltools"] = table["seconds"] / ours
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4))
    others = table.drop(index="evaltools", errors="ignore")
    if len(others) and np.isfinite(ours):
        print(
            f"speed-up vs the fastest other method ({others['seconds'].idxmin()}): "
            f"{others['seconds'].min() / ours:.1f}x"
        )


if __name__ == "__main__":
    main()
