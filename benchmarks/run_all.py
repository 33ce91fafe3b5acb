"""Run every benchmark at the sizes named in the issues (or small sizes with --quick).

Each benchmark prints its own timings and the ratios against the peers measured
in the same run (lifelines, statsmodels, naive implementations).  Usage::

    python benchmarks/run_all.py            # full sizes (takes a while on 2 cores)
    python benchmarks/run_all.py --quick    # small sizes, a smoke run
    python benchmarks/run_all.py cox mph    # a selection
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name -> (script, full-size arguments, quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "data": ("bench_data_transforms.py", ["--persons", "200000"], ["--persons", "5000"]),
    "synth": ("bench_synth.py", ["--persons", "1000000", "--jobs", "2"], ["--persons", "20000"]),
    "indicators": ("bench_indicators.py", ["--persons", "1000000"], ["--persons", "20000"]),
    "cox": ("bench_cox.py", ["--rows", "1000000", "--repeat", "3", "--trace"], ["--rows", "20000"]),
    "finegray": ("bench_finegray.py", ["--rows", "1000000"], ["--rows", "20000"]),
    "discrete": ("bench_discrete.py", ["--rows", "200000"], ["--rows", "20000"]),
    "matching": ("bench_matching.py", ["--controls", "1000000", "--treated", "50000"],
                 ["--controls", "20000", "--treated", "1000"]),
    "heckman": ("bench_heckman.py", ["--rows", "200000"], ["--rows", "5000"]),
    "dynamic": ("bench_dynamic.py", ["--persons", "20000", "--extra-covariates", "37"],
                ["--persons", "5000"]),
    "release": ("bench_release.py", ["--groupings", "7", "--quarter"], ["--groupings", "2"]),
    "mph": ("bench_mph.py", ["--persons", "5000"], ["--persons", "1000", "--max-points", "3"]),
    "survival_aipw": ("bench_survival_aipw.py", ["--persons", "200000", "--no-r"], ["--persons", "3000"]),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {list(BENCHMARKS)})")
    ap.add_argument("--quick", action="store_true", help="small sizes")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    failed = []
    for name in args.names or list(BENCHMARKS):
        script, full, quick = BENCHMARKS[name]
        if not (HERE / script).is_file():
            print(f"== {name}: {script} not present, skipped")
            continue
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"\n== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        print(f"== {name}: exit {rc}, {time.perf_counter() - t0:.1f} s wall", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"\nFailed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
