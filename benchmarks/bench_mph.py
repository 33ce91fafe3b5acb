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
    # per-replication records (estimates, SEs, bootstrap draws) for several interval types:
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --monte-carlo --reps 100 --persons 3000 --boot 29 \
        --jobs 1 --record mc_boot.jsonl
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mph.py --intervals mc_boot.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
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


def record_rep(r: int, seed: np.random.SeedSequence, persons: int, max_points: int, n_boot: int,
               dgp: ToEDGP) -> dict[str, object]:
    """One Monte Carlo replication with everything needed to form several intervals afterwards."""
    names = list(dgp.true_params())
    spells = simulate_toe(persons, seed, dgp)
    model = toe_model(spells, dgp)
    fit_seed = int(seed.generate_state(1)[0])
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = model.fit(max_points=max_points, seed=fit_seed)
        sel = path.best("aic")
        ma = path.model_average("aic")
        boot = path.bootstrap(n_boot=n_boot, seed=fit_seed) if n_boot else None
    rec: dict[str, object] = {
        "rep": r, "points": int(sel.n_points), "path_points": [int(m) for m in path.path.index],
        "aic": [float(x) for x in path.path["aic"]], "names": names,
        "est": [float(sel.params[k]) for k in names], "se_hessian": [float(sel.bse[k]) for k in names],
        "est_ma": [float(ma.params[k]) for k in names], "se_ma": [float(ma.bse[k]) for k in names]}
    if boot is not None:
        rec["se_boot"] = [float(boot.bse[k]) for k in names]
        rec["boot_points"] = [int(m) for m in boot.boot_points]
        rec["draws"] = boot.boot_params[names].to_numpy().tolist()
    rec["cpu"] = time.process_time() - t0
    return rec


def run_recorded(reps: int, persons: int, seed: int, max_points: int, n_boot: int, dgp: ToEDGP,
                 out: Path) -> None:
    """Run the Monte Carlo in-process, appending one JSON line per replication to ``out``.

    Replications already in ``out`` are skipped, so an interrupted run can be resumed.
    """
    seeds = np.random.SeedSequence(seed).spawn(int(reps))
    done = set()
    if out.exists():
        done = {json.loads(line)["rep"] for line in out.read_text().splitlines() if line.strip()}
    for r, s in enumerate(seeds):
        if r in done:
            continue
        rec = record_rep(r, s, persons, max_points, n_boot, dgp)
        with out.open("a") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(f"rep {r}: {rec['points']} points, {rec['cpu']:.1f} s CPU", flush=True)


def interval_table(records: list[dict], truth: dict[str, float], alpha: float = 0.05) -> pd.DataFrame:
    """Coverage of several intervals (level ``1 - alpha``) from per-replication records.

    ``hessian``: estimate +- z * Hessian SE (points treated as known); ``model_average``: averaged
    estimate +- z * unconditional SE; ``boot_iqr``: estimate +- z * robust bootstrap SE (the default
    of ``MPHPath.bootstrap``, interquartile range / 1.349); ``boot_sd`` and ``boot_sd_t``: estimate
    +- z (or t with B - 1 degrees of freedom) * standard deviation of the replicates;
    ``boot_percentile``: empirical quantiles of the replicates; ``boot_basic``: 2 * estimate minus
    those quantiles.
    """
    from scipy import stats

    from evaltools.duration._mph_inference import robust_boot_cov

    names = records[0]["names"]
    true = np.array([truth[k] for k in names])
    z = stats.norm.ppf(1 - alpha / 2)
    est = np.array([r["est"] for r in records])
    ints: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    se = np.array([r["se_hessian"] for r in records])
    ints["hessian"] = (est, se, est - z * se, est + z * se)
    ema, sma = np.array([r["est_ma"] for r in records]), np.array([r["se_ma"] for r in records])
    ints["model_average"] = (ema, sma, ema - z * sma, ema + z * sma)
    if "draws" in records[0]:
        draws = [np.asarray(r["draws"], dtype=float) for r in records]
        draws = [d[np.all(np.isfinite(d), axis=1)] for d in draws]
        srob = np.array([np.sqrt(np.diag(robust_boot_cov(d))) for d in draws])
        ssd = np.array([d.std(axis=0, ddof=1) for d in draws])
        tq = stats.t.ppf(1 - alpha / 2, np.array([len(d) for d in draws]) - 1)[:, None]
        ints["boot_iqr"] = (est, srob, est - z * srob, est + z * srob)
        ints["boot_sd"] = (est, ssd, est - z * ssd, est + z * ssd)
        ints["boot_sd_t"] = (est, ssd, est - tq * ssd, est + tq * ssd)
        qlo = np.array([np.quantile(d, alpha / 2, axis=0) for d in draws])
        qhi = np.array([np.quantile(d, 1 - alpha / 2, axis=0) for d in draws])
        ints["boot_percentile"] = (est, srob, qlo, qhi)
        ints["boot_basic"] = (est, srob, 2 * est - qhi, 2 * est - qlo)
    rows = []
    R = len(records)
    for label, (b, s, lo, hi) in ints.items():
        cover = (lo <= true) & (true <= hi)
        for k, name in enumerate(names):
            p = cover[:, k].mean()
            rows.append({"interval": label, "parameter": name, "true": true[k],
                         "bias": b[:, k].mean() - true[k], "sd": b[:, k].std(ddof=1),
                         "mean_se": s[:, k].mean(), "median_se": np.median(s[:, k]),
                         "coverage": p, "mc_se": np.sqrt(p * (1 - p) / R), "n_reps": R})
    return pd.DataFrame(rows).set_index(["interval", "parameter"])


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
    ap.add_argument("--record", type=Path, help="Monte Carlo in-process, one JSON line per replication")
    ap.add_argument("--intervals", type=Path, help="coverage of several intervals from a --record file")
    args = ap.parse_args()
    dgp = PROGRAMME_DGP if args.programme else ToEDGP()
    if args.intervals:
        recs = [json.loads(line) for line in args.intervals.read_text().splitlines() if line.strip()]
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(interval_table(recs, dgp.true_params()).round(4).to_string())
        pts = pd.Series([r["points"] for r in recs]).value_counts().sort_index()
        print("points selected by AIC:", pts.to_dict())
    elif args.record:
        run_recorded(args.reps, args.persons, args.seed, min(args.max_points, 5), args.boot, dgp, args.record)
    elif args.d5:
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
