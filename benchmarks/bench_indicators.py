"""Benchmark: standard indicators on a synthetic sparse panel (default 1M persons x 5 years).

Usage::

    python benchmarks/bench_indicators.py --persons 100000          # small run
    python benchmarks/bench_indicators.py --persons 1000000 --partitions 8

Reports the wall time of full-time persons by municipality x benefit x month,
the activation rate and the company-oriented share, each by municipality x month,
plus the same FTE table through dask partitions (checked identical).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evaltools.data.codes import default_codes
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import isoweek_to_index
from evaltools.indicators import activation_rate, company_oriented_share, fte


def synthetic_panel(n: int, years: int = 5, n_muni: int = 98, seed: int = 0) -> RegisterPanel:
    rng = np.random.default_rng(seed)
    codes = default_codes()
    usable = [i for i, c in enumerate(codes.codes) if c not in ("997", "998", "999")]
    lo = int(isoweek_to_index(2010, 1))
    n_weeks = 52 * years
    k = rng.poisson(3, n)
    pid = np.repeat(np.arange(n, dtype=np.int64), k)
    start = rng.integers(0, n_weeks, len(pid))
    length = np.minimum(rng.geometric(1 / 20, len(pid)), n_weeks - start)
    code = rng.choice(usable, len(pid))
    rows_pid = np.repeat(pid, length)
    offs = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    rows_week = np.repeat(start, length) + offs + lo
    rows_code = np.repeat(code, length)
    order = np.lexsort((rows_week, rows_pid))
    rows_pid, rows_week, rows_code = rows_pid[order], rows_week[order], rows_code[order]
    keep = np.ones(len(rows_pid), dtype=bool)
    keep[1:] = (rows_pid[1:] != rows_pid[:-1]) | (rows_week[1:] != rows_week[:-1])
    states = pd.DataFrame(
        {
            "person_id": rows_pid[keep],
            "week": rows_week[keep].astype(np.int32),
            "state": pd.Categorical.from_codes(rows_code[keep], categories=list(codes.codes)),
        }
    )
    persons = pd.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64),
            "obs_start": np.full(n, lo, dtype=np.int32),
            "obs_end": np.full(n, lo + n_weeks - 1, dtype=np.int32),
            "birth_year": rng.integers(1945, 1995, n).astype(np.int16),
            "municipality": pd.Categorical(rng.integers(0, n_muni, n).astype(str)),
        }
    )
    return RegisterPanel(states=states, persons=persons, codes=codes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=4)
    args = ap.parse_args()
    t0 = time.perf_counter()
    panel = synthetic_panel(args.persons)
    print(f"panel: {panel!r} built in {time.perf_counter() - t0:.1f}s")
    timings = {}
    t = time.perf_counter()
    a = fte(panel, by=("municipality", "benefit"), period="month")
    timings["fte muni x benefit x month"] = time.perf_counter() - t
    t = time.perf_counter()
    activation_rate(panel, by=("municipality",), period="month")
    timings["activation_rate muni x month"] = time.perf_counter() - t
    t = time.perf_counter()
    company_oriented_share(panel, by=("municipality",), period="month")
    timings["company_oriented_share muni x month"] = time.perf_counter() - t
    t = time.perf_counter()
    b = fte(panel, by=("municipality", "benefit"), period="month", partitions=args.partitions)
    timings[f"fte via dask, {args.partitions} partitions"] = time.perf_counter() - t
    pd.testing.assert_frame_equal(a.data, b.data)
    for k, v in timings.items():
        print(f"{k:45s} {v:7.2f} s")
    print(f"{'total (standard indicators)':45s} {sum(list(timings.values())[:3]):7.2f} s")


if __name__ == "__main__":
    main()
