"""Joint disclosure control of linked tables on the shipped sample panel.

Registers the fte tables by municipality x sex x origin x month and every
coarser grouping (plus the quarterly table), protects them jointly and audits
the result; prints the timings against single-table suppression of the same
tables (the peer: each table's own export) measured in the same run, and the
information loss of both.  Usage::

    python benchmarks/bench_release.py [--groupings 7] [--quarter]
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from pathlib import Path

from evaltools import indicators as ind
from evaltools.data import read_panel
from evaltools.exceptions import DisclosureWarning
from evaltools.reporting import Release, audit

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "sample_panel"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groupings", type=int, default=7, help="number of groupings (1-7, finest first)")
    ap.add_argument("--quarter", action="store_true", help="also the quarterly finest table")
    args = ap.parse_args(argv)
    panel = read_panel(SAMPLE)
    dims = ("municipality", "sex", "origin")
    groupings = [by for r in (3, 2, 1) for by in itertools.combinations(dims, r)][: args.groupings]
    rel = Release()
    for by in groupings:
        rel.add(ind.fte(panel, by=by, period="month"), name="fte_" + "_".join(by))
    if args.quarter:
        rel.add(ind.fte(panel, by=dims, period="quarter"), name="fte_quarter")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisclosureWarning)
        t0 = time.perf_counter()
        single = rel.protect(joint=False)
        t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    joint = rel.protect(compare=False)
    t_joint = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep_joint = audit(joint)
    t_audit = time.perf_counter() - t0
    rep_single = audit(single)
    n_cells = sum(len(single[n].table) for n in single.names)
    print(f"{len(rel)} tables, {n_cells:,} rows")
    print(
        f"single-table suppression: {t_single:6.2f} s  (audit: {rep_single.n_exact:,} exact, "
        f"{rep_single.n_narrow:,} narrow of {len(rep_single.cells):,} masked numbers)"
    )
    print(f"joint protection:         {t_joint:6.2f} s  = {t_joint / t_single:5.1f} x single")
    print(
        f"audit of the joint release: {t_audit:6.2f} s  ({rep_joint.n_exact} exact, {rep_joint.n_narrow} "
        f"narrow of {len(rep_joint.cells):,})"
    )
    ls, lj = single.information_loss().iloc[-1], joint.information_loss().iloc[-1]
    print(
        f"rows masked: single {int(ls['masked']):,} ({100 * ls['share']:.1f} %), joint {int(lj['masked']):,} "
        f"({100 * lj['share']:.1f} %)"
    )


if __name__ == "__main__":
    main()
