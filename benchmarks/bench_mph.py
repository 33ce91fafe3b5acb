"""Benchmark: full NPMLE path of the timing-of-events model.

Target (issue #5): a full path (<= 10 points) on 5k persons / ~10k spell rows in <= 15 s on
2 cores (durmod: 12.7 s for 8 points); 100k persons in minutes.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --persons 5000 --max-points 10
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --persons 5000 --programme   # two treatments
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --monte-carlo --reps 100 --persons 5000 --jobs 2
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --monte-carlo --programme --reps 50 --jobs 2
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from evaltools.duration.montecarlo import ToEDGP, run_monte_carlo, simulate_toe, toe_model

PROGRAMME_DGP = ToEDGP(programme_points=(-4.0, -2.8))


def bench_path(persons: int, max_points: int, multistart: int, seed: int, programme: bool = False) -> None:
    """Time data preparation and the NPMLE path on simulated data."""
    dgp = PROGRAMME_DGP if programme else ToEDGP()
    spells = simulate_toe(persons, seed=seed, dgp=dgp)
    t0 = time.perf_counter()
    model = toe_model(spells, dgp)
    t1 = time.perf_counter()
    path = model.fit(max_points=max_points, multistart=multistart, seed=seed)
    t2 = time.perf_counter()
    print(f"{model!r}; hazards {list(model.hazards)}")
    print(f"prepare: {t1 - t0:.2f} s   path ({len(path)} fits, stop: {path.stop_reason}): {t2 - t1:.2f} s")
    print(path.path.to_string())
    best = path.best("aic")
    truth = dgp.true_params()
    print(pd.DataFrame({"estimate": best.params[list(truth)], "std_err": best.bse[list(truth)],
                        "true": pd.Series(truth)}).round(4).to_string())


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=5000)
    ap.add_argument("--max-points", type=int, default=10)
    ap.add_argument("--multistart", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--programme", action="store_true",
                    help="two treatments: a sanction-like one and a programme with lock-in/post effects")
    ap.add_argument("--monte-carlo", action="store_true", help="run the Monte Carlo table instead")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if args.monte_carlo:
        t0 = time.perf_counter()
        tab = run_monte_carlo(args.reps, args.persons, seed=args.seed, n_jobs=args.jobs,
                              max_points=min(args.max_points, 5), multistart=args.multistart,
                              dgp=PROGRAMME_DGP if args.programme else None)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(tab.round(4).to_string())
        pts = pd.Series(tab.attrs["points"]).value_counts().sort_index()
        print("points selected by AIC:", pts.to_dict())
        print(f"time: {time.perf_counter() - t0:.1f} s")
    else:
        bench_path(args.persons, args.max_points, args.multistart, args.seed, args.programme)


if __name__ == "__main__":
    main()
