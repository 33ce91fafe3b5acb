"""Benchmark: estimators and indicators by partition reduction on Dask vs the in-memory path.

**Cox.**  Person-week counting-process rows ``(t-1, t]`` from the DGP of
``bench_cox.py`` (5 covariates, two of them time-varying, delayed entry, 104
distinct event times), generated partition by partition with
``dask.dataframe.from_map``: a Dask fit never holds more than the partitions
in flight (each pass regenerates them).  The in-memory fit concatenates the
same partitions into one pandas frame.  Both fit Efron ties with standard
errors clustered on the person.  Every run is its own process, so its peak
resident memory (``VmHWM`` from ``/proc/self/status``) is its own.  Printed:
wall time, peak memory, and the largest relative difference of coefficients,
standard errors and log partial likelihood between the two fits of the same rows.

**Indicators.**  The synthetic sample panel (``data_samples/sample_panel``)
in memory and split into partitions (``partition_panel``): full-time persons
by municipality and month, activation rate, first interview within 1 and 3
months and cohort self-support; the tables must be identical.

Usage::

    .venv/bin/python benchmarks/bench_partitioned.py --rows 10000000 --memory-rows 2000000 10000000
    .venv/bin/python benchmarks/bench_partitioned.py --rows 1000000 --memory-rows 1000000 --skip-indicators
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cox import COVS, simulate  # noqa: E402

ROWS_PER_PART = 500_000


def make_part(i: int) -> pd.DataFrame:
    """Partition ``i``: about 500,000 person-week rows of its own persons (ids offset by partition)."""
    d = simulate(ROWS_PER_PART, seed=1000 + i)
    d["id"] = d["id"].to_numpy(np.int64) + i * 10_000_000
    return d.sort_values(["id", "start"], kind="stable", ignore_index=True)


def peak_mb() -> float:
    """Peak resident set size of this process (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_cox(mode: str, n_parts: int) -> dict:
    t0 = time.perf_counter()
    if mode == "dask":
        import dask
        import dask.dataframe as dd

        from evaltools.duration.dask import cox_dask

        meta = make_part(0).iloc[:0]
        frame = dd.from_map(make_part, list(range(n_parts)), meta=meta, enforce_metadata=False)
        with dask.config.set(scheduler="threads", num_workers=2):
            res = cox_dask(frame, covariates=COVS, id="id", ties="efron", cov_type="cluster")
        nobs, n_iter = res.nobs, res.n_iter
    else:
        from evaltools.duration import CoxPH

        frame = pd.concat([make_part(i) for i in range(n_parts)], ignore_index=True)
        res = CoxPH(frame, covariates=COVS, id="id").fit(ties="efron", cov_type="cluster")
        nobs, n_iter = res.nobs, res.n_iter
    return {
        "mode": mode,
        "parts": n_parts,
        "rows": int(nobs),
        "seconds": time.perf_counter() - t0,
        "peak_mb": peak_mb(),
        "params": res.params.tolist(),
        "bse": res.bse.tolist(),
        "llf": float(res.llf),
        "n_iter": int(n_iter),
    }


INDICATORS = {
    "fte by municipality x month": ("fte", {"by": ("municipality",)}),
    "activation rate by benefit": ("activation_rate", {"by": ("benefit",)}),
    "first interview within 1/3 months": ("first_contact_within", {}),
    "cohort self-support": ("cohort_self_support", {}),
}


def child_indicators(mode: str, n_parts: int) -> dict:
    import hashlib

    import dask

    import evaltools.indicators as ind
    from evaltools.data import read_panel
    from evaltools.data.dask import partition_panel

    panel = read_panel(HERE.parent / "data_samples" / "sample_panel")
    t_load = time.perf_counter()
    src = panel if mode == "memory" else partition_panel(panel, npartitions=n_parts)
    out = {"mode": mode, "persons": panel.n_persons, "states": len(panel.states), "tables": {}}
    with dask.config.set(scheduler="threads", num_workers=2):
        for label, (name, kw) in INDICATORS.items():
            t0 = time.perf_counter()
            tab = getattr(ind, name)(src, **kw)
            sec = time.perf_counter() - t0
            digest = hashlib.sha256(pd.util.hash_pandas_object(tab.data, index=False).to_numpy()).hexdigest()
            out["tables"][label] = {"seconds": sec, "rows": len(tab.data), "digest": digest}
    out["seconds"] = time.perf_counter() - t_load
    out["peak_mb"] = peak_mb()
    return out


def _run(args: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rel(a: list[float], b: list[float]) -> float:
    a_, b_ = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a_ - b_) / np.abs(b_)))


def main() -> None:
    """Command-line entry point: every run in its own process; print the figures and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of the Dask Cox fit")
    ap.add_argument("--memory-rows", type=int, nargs="*", default=[2_000_000], help="sizes fit both ways")
    ap.add_argument("--partitions", type=int, default=8, help="partitions of the sample panel")
    ap.add_argument("--skip-indicators", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("TASK", "MODE"), help=argparse.SUPPRESS)
    ap.add_argument("--parts", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        task, mode = a.child
        res = child_cox(mode, a.parts) if task == "cox" else child_indicators(mode, a.parts)
        print(json.dumps(res))
        return
    print("Cox (Efron ties, SEs clustered on person): Dask partition reduction vs in-memory CoxPH")
    print(f"{'rows':>12} {'path':>8} {'parts':>6} {'seconds':>9} {'peak MB':>9} {'iter':>5}")
    fits: dict[tuple[int, str], dict] = {}
    sizes = sorted({*a.memory_rows, a.rows})
    for rows in sizes:
        parts = max(1, round(rows / ROWS_PER_PART))
        modes = ["dask", "memory"] if rows in a.memory_rows else ["dask"]
        for mode in modes:
            r = _run(["--child", "cox", mode, "--parts", str(parts)])
            fits[(rows, mode)] = r
            print(
                f"{r['rows']:>12,} {mode:>8} {parts:>6} {r['seconds']:>9.1f} "
                f"{r['peak_mb']:>9.0f} {r['n_iter']:>5}"
            )
        if len(modes) == 2:
            d, m = fits[(rows, "dask")], fits[(rows, "memory")]
            print(
                f"{'':>12} same rows: max rel. diff coef {_rel(d['params'], m['params']):.1e}, "
                f"SE {_rel(d['bse'], m['bse']):.1e}, loglik {_rel([d['llf']], [m['llf']]):.1e}; "
                f"time ratio dask/memory {d['seconds'] / m['seconds']:.2f}, "
                f"peak memory ratio {d['peak_mb'] / m['peak_mb']:.2f}"
            )
    if a.skip_indicators:
        return
    print(f"\nIndicators on the sample panel: in memory vs partition_panel(npartitions={a.partitions})")
    mem = _run(["--child", "ind", "memory", "--parts", str(a.partitions)])
    par = _run(["--child", "ind", "dask", "--parts", str(a.partitions)])
    print(f"{mem['persons']:,} persons, {mem['states']:,} states rows")
    print(f"{'indicator':<36} {'rows':>7} {'memory s':>9} {'dask s':>8} {'identical':>10}")
    for label in INDICATORS:
        x, y = mem["tables"][label], par["tables"][label]
        same = x["digest"] == y["digest"]
        print(f"{label:<36} {x['rows']:>7,} {x['seconds']:>9.2f} {y['seconds']:>8.2f} {str(same):>10}")
    print(f"peak memory: in memory {mem['peak_mb']:.0f} MB, partitioned {par['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
