"""Command line: ``python -m evaltools.synth --persons N --years Y --seed S --out DIR``."""

from __future__ import annotations

import argparse
import sys
import time

from evaltools.synth.generate import generate_to_disk


def main(argv: list[str] | None = None) -> int:
    """Generate a synthetic panel into a directory (see ``--help``)."""
    ap = argparse.ArgumentParser(
        prog="python -m evaltools.synth",
        description="Generate a synthetic DREAM-like register panel with known causal effects.",
    )
    ap.add_argument("--persons", type=int, required=True, help="number of persons")
    ap.add_argument("--years", type=int, default=5, help="years of weekly data (default 5)")
    ap.add_argument("--seed", type=int, required=True, help="master seed")
    ap.add_argument("--out", required=True, help="output directory (read it with evaltools.data.read_panel)")
    ap.add_argument("--start-year", type=int, default=2008, help="first ISO year (default 2008)")
    ap.add_argument("--chunk-size", type=int, default=32_768, help="persons per chunk (memory bound)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument(
        "--att-persons",
        type=int,
        default=100_000,
        help="persons used to simulate the true ATTs (default 100000; 0 = skip)",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = generate_to_disk(
        args.out,
        seed=args.seed,
        n_persons=args.persons,
        years=args.years,
        start_year=args.start_year,
        chunk_size=args.chunk_size,
        att=args.att_persons,
        n_jobs=args.jobs,
        progress=True,
    )
    print(f"wrote {out} ({args.persons:,} persons, {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
