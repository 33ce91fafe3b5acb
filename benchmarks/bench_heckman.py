"""Benchmark: Heckman two-step and ML fits on simulated selection data.

Bivariate-normal selection model with 10 outcome covariates and 2 excluded
selection covariates (rho = 0.5).  Times the model construction, the two-step
fit and the ML fit (BFGS with analytic gradient + Newton polish with a
finite-difference Hessian of the analytic gradient).

Usage::

    .venv/bin/python benchmarks/bench_heckman.py --rows 20000
    .venv/bin/python benchmarks/bench_heckman.py --rows 1000000
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from evaltools.selection.heckman import Heckman


def simulate(rows: int, k: int = 10, seed: int = 1) -> pd.DataFrame:
    """Simulate ``rows`` units with ``k`` shared covariates and two excluded instruments."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, k))
    W = rng.normal(size=(rows, 2))
    u = rng.normal(size=rows)
    e = 0.8 * (0.5 * u + np.sqrt(0.75) * rng.normal(size=rows))
    s = (0.2 + X @ np.full(k, 0.1) + W @ np.array([0.7, -0.5]) + u > 0).astype(int)
    y = np.where(s == 1, 1.0 + X @ np.linspace(-0.5, 0.5, k) + e, np.nan)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(k)])
    df["w0"], df["w1"], df["s"], df["y"] = W[:, 0], W[:, 1], s, y
    return df


def main() -> None:
    """Run the benchmark and print timings."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    df = simulate(args.rows)
    xs = [c for c in df.columns if c.startswith("x")]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = Heckman(df, outcome="y", selection="s", outcome_covariates=xs,
                    selection_covariates=[*xs, "w0", "w1"])
    t1 = time.perf_counter()
    two = m.fit(method="twostep")
    t2 = time.perf_counter()
    ml = m.fit(method="ml")
    t3 = time.perf_counter()
    print(f"rows={args.rows:,} selected={two.n_selected:,}")
    print(f"construct {t1 - t0:.3f}s  twostep {t2 - t1:.3f}s  ml {t3 - t2:.3f}s (converged={ml.converged})")
    print(f"rho: twostep {two.rho:.4f}  ml {ml.rho:.4f} (true 0.5); sigma ml {ml.sigma:.4f} (true 0.8)")


if __name__ == "__main__":
    main()
