"""Benchmark: full NPMLE path of the timing-of-events model.

Targets: the full path on the durmod ``datagen`` design (5,000 persons, 8,663 rows; data in
``tests/reference/duration/toe_durmod_d5``) in under 10 s on 2 cores (durmod: about 12.7 s for an
8-point path), with a log-likelihood at least as high as the stored path; 100k persons in minutes.
The Monte Carlo reports the Hessian, model-average and (``--boot B``) path-bootstrap inference of
the AIC-selected NPMLE.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --d5
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --persons 5000 --max-points 10
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --persons 5000 --programme   # two treatments
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --monte-carlo --reps 100 --persons 5000 --jobs 2
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --monte-carlo --programme --reps 50 --jobs 2
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --monte-carlo --reps 100 --persons 3000 --jobs 2
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --monte-carlo --reps 30 --persons 3000 --boot 19
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

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


D5 = Path(__file__).parents[1] / "tests" / "reference" / "duration" / "toe_durmod_d5"


def bench_d5(max_points: int, seed: int) -> None:
    """Time the NPMLE path on the durmod datagen design and compare the log-likelihoods."""
    from evaltools.duration.mph import TimingOfEvents

    d = pd.read_csv(D5 / "d5.csv.gz")
    d["event"] = d["d"].where(d["d"] != "none")
    d["treated"] = d["alpha"].astype(int)
    model = TimingOfEvents(d, id="id", duration="duration", event="event", treated="treated",
                           exit_covariates=["x1", "x2"], treatment_covariates=["x1", "x2"], timing="exact")
    t0, c0 = time.perf_counter(), time.process_time()
    path = model.fit(max_points=max_points, seed=seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    prev = json.loads((D5 / "expected_path.json").read_text())["previous_lbfgsb_path"]
    print(f"{model!r}")
    print(f"D5 path: {len(path)} fits in {wall:.2f} s wall / {cpu:.2f} s CPU (stop: {path.stop_reason})")
    print(f"  stored L-BFGS-B path: {prev['wall']:.1f} s wall / {prev['cpu']:.1f} s CPU; "
          f"ratio CPU {prev['cpu'] / cpu:.1f}x")
    print(f"  final log L {path.path['llf'].iloc[-1]:.6f} ({len(path)} points) vs stored "
          f"{prev['loglike'][-1]:.6f} ({len(prev['loglike'])} points)")
    print(path.path.to_string())


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
    ap.add_argument("--boot", type=int, default=0, help="path-bootstrap replicates per replication")
    ap.add_argument("--d5", action="store_true", help="time the path on the durmod datagen design")
    args = ap.parse_args()
    if args.d5:
        bench_d5(max(args.max_points, 20), args.seed)
    elif args.monte_carlo:
        t0 = time.perf_counter()
        tab = run_monte_carlo(args.reps, args.persons, seed=args.seed, n_jobs=args.jobs,
                              max_points=min(args.max_points, 5), multistart=args.multistart,
                              dgp=PROGRAMME_DGP if args.programme else None, n_boot=args.boot)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(tab.round(4).to_string())
        pts = pd.Series(tab.attrs["points"]).value_counts().sort_index()
        print("points selected by AIC:", pts.to_dict())
        print(f"time: {time.perf_counter() - t0:.1f} s")
    else:
        bench_path(args.persons, args.max_points, args.multistart, args.seed, args.programme)


if __name__ == "__main__":
    main()
