"""Benchmark: 1-nearest-neighbour propensity-score matching with replacement.

Compares evaltools' sorted 1-D search (``np.searchsorted`` on the sorted
control scores, inside :class:`evaltools.selection.Matching`) with a
straightforward implementation (for every treated unit, scan all controls).
The naive method is timed on at most ``--naive-treated`` treated units and
extrapolated linearly.  ``causalinference`` is not installed, so it is not
compared.

A second part times ``Matching(..., id=...)`` with the Abadie-Imbens
conditional variances (``fit(variance_neighbors=1)``) on one covariate, with
large tie sets (few distinct values) and without ties, against the same fit
without ``id`` (CPU time, best of ``--repeat``).  With ``id`` every match and
every same-group neighbour is a pair of rows (the matches of a row leave out
its own person's rows), so the ratio grows with the size of the tie sets.

Usage::

    python benchmarks/bench_matching.py --controls 100000 --treated 5000
    python benchmarks/bench_matching.py --controls 1000000 --treated 50000   # full scale
    python benchmarks/bench_matching.py --id-rows 100000 --id-values 200
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from evaltools.selection import _matching_core as core
from evaltools.selection.matching import Matching


def naive_1nn(p_t: np.ndarray, p_c: np.ndarray) -> np.ndarray:
    """Index of the nearest control for every treated unit (first on ties)."""
    out = np.empty(p_t.size, dtype=np.intp)
    for i, v in enumerate(p_t):
        out[i] = np.argmin(np.abs(p_c - v))
    return out


def person_weeks(n: int, n_values: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` rows of ``n // 3`` persons; one covariate with ``n_values`` distinct values (0: continuous)."""
    x = rng.integers(0, n_values, n).astype(float) if n_values else rng.normal(size=n)
    t = (rng.random(n) < 0.3).astype(int)
    return pd.DataFrame(
        {"person": rng.integers(0, n // 3, n), "x": x, "t": t, "y": 0.1 * x + t + rng.normal(size=n)}
    )


def cpu_best(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU time of ``repeat`` calls."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return float(best)


def bench_id(n: int, n_values: int, repeat: int, rng: np.random.Generator) -> None:
    """CPU time of Matching.fit(variance_neighbors=1) with and without ``id``, with and without ties."""
    print(f"\nMatching(id=...).fit(variance_neighbors=1), {n:,} rows, CPU best of {repeat}")
    for label, k in ((f"ties ({n_values} values)", n_values), ("no ties", 0)):
        d = person_weeks(n, k, rng)
        times = [
            cpu_best(
                lambda d=d, kw=kw: Matching(d, outcome="y", treatment="t", covariates=["x"], **kw).fit(
                    variance_neighbors=1
                ),
                repeat,
            )
            for kw in ({}, {"id": "person"})
        ]
        print(
            f"  {label:18s} without id {times[0]:7.3f} s   with id {times[1]:7.3f} s   "
            f"ratio {times[1] / times[0]:5.1f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--controls", type=int, default=100_000)
    ap.add_argument("--treated", type=int, default=5_000)
    ap.add_argument(
        "--naive-treated",
        type=int,
        default=2_000,
        help="treated units on which the naive scan is timed (then extrapolated)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--id-rows", type=int, default=30_000, help="rows of the id= timing (0 skips it)")
    ap.add_argument("--id-values", type=int, default=200, help="distinct covariate values in the id= timing")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    # continuous scores (no ties) so that both methods have a unique answer
    p_c = 1 / (1 + np.exp(-rng.normal(-1.0, 1.0, a.controls)))
    p_t = 1 / (1 + np.exp(-rng.normal(-0.5, 1.0, a.treated)))

    t0 = time.perf_counter()
    q, p = core.knn_with_ties(p_t[:, None], p_c[:, None], 1, 0.0)
    t_core = time.perf_counter() - t0

    data = pd.DataFrame(
        {
            "t": np.r_[np.ones(a.treated), np.zeros(a.controls)].astype(int),
            "ps": np.r_[p_t, p_c],
            "y": rng.normal(size=a.treated + a.controls),
        }
    )
    t0 = time.perf_counter()
    res = Matching(
        data, outcome="y", treatment="t", covariates=[], distance="pscore", pscore="ps", tie_tolerance=0.0
    ).fit()
    t_fit = time.perf_counter() - t0

    k = min(a.naive_treated, a.treated)
    t0 = time.perf_counter()
    ref = naive_1nn(p_t[:k], p_c)
    t_naive = (time.perf_counter() - t0) * a.treated / k

    first = np.searchsorted(q, np.arange(k))
    same = np.abs(p_c[p[first]] - p_t[:k]) == np.abs(p_c[ref] - p_t[:k])
    print(f"controls={a.controls:,} treated={a.treated:,}")
    print(f"sorted 1-D search (core):        {t_core:8.3f} s")
    se = res.bse.iloc[0]
    print(f"Matching.fit (incl. AI SE):       {t_fit:8.3f} s   ATT={res.estimate:.4f} (SE {se:.4f})")
    print(f"naive scan (extrapolated from {k:,}): {t_naive:8.3f} s")
    print(f"speed-up core vs naive:          {t_naive / t_core:8.1f}x")
    print(f"speed-up Matching.fit vs naive:  {t_naive / t_fit:8.1f}x")
    print(f"same nearest distances on the {k:,} checked units: {bool(same.all())}")
    if a.id_rows:
        bench_id(a.id_rows, a.id_values, a.repeat, rng)


if __name__ == "__main__":
    main()
