"""Benchmark: 1-nearest-neighbour propensity-score matching with replacement.

Compares evaltools' sorted 1-D search (``np.searchsorted`` on the sorted
control scores, inside :class:`evaltools.selection.Matching`) with a
straightforward implementation (for every treated unit, scan all controls).
The naive method is timed on at most ``--naive-treated`` treated units and
extrapolated linearly.  ``causalinference`` is not installed, so it is not
compared.

Usage::

    python benchmarks/bench_matching.py --controls 100000 --treated 5000
    python benchmarks/bench_matching.py --controls 1000000 --treated 50000   # full scale
"""

from __future__ import annotations

import argparse
import time

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


if __name__ == "__main__":
    main()
