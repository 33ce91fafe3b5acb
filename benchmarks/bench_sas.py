"""Benchmark: ``read_dream`` of a DREAM-shaped SAS7BDAT file against the same file as CSV.

A register-shaped wide CSV (``PNR``, window and background columns and ``years`` of weekly
``y_YYWW`` text columns, :func:`bench_store.write_register_csv`) is written and converted to
SAS7BDAT with R's haven (``Rscript``; the benchmark stops with a message when R or haven is not
installed, since pyreadstat cannot write SAS7BDAT).  Each measurement runs in its own process
and reports CPU seconds, wall seconds and peak RSS (``ru_maxrss``):

``csv``
    ``read_dream`` of the CSV.
``sas``
    ``read_dream`` of the SAS7BDAT file: batches read as lists (pyreadstat's dict output)
    and the text weekly cells coded through the CSV reader's fast path.
``sas-frame``
    The same file read batch by batch as DataFrames and coded column by column (the path a
    batch outside the simple case takes), for the ratio.

The panels of the three reads are checked to be equal.

Usage::

    .venv/bin/python benchmarks/bench_sas.py                    # 10,000 persons, 30 years
    .venv/bin/python benchmarks/bench_sas.py --persons 40000 --batch-rows 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

R_WRITE = """
library(haven)
a <- commandArgs(TRUE)
d <- read.csv(a[1], colClasses = "character", na.strings = character(0), check.names = FALSE)
for (c in c("PNR", "obs_start", "obs_end", "birth_year")) d[[c]] <- as.numeric(d[[c]])
write_sas(d, a[2])
"""

CHILD = """
import json, resource, sys, time, warnings
import pandas as pd
from evaltools.data import read_dream
path, how, batch_rows, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if how == "sas-frame":
    from evaltools.data._sources import BatchSource, SasSource
    SasSource.coded_batches = BatchSource.coded_batches
t, w = time.process_time(), time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    p = read_dream(path, batch_rows=batch_rows)
cpu, wall = time.process_time() - t, time.perf_counter() - w
pd.to_pickle((p.states, p.persons), out)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"cpu": cpu, "wall": wall, "rss_mb": rss}))
"""


def _have_haven() -> bool:
    if shutil.which("Rscript") is None:
        return False
    r = subprocess.run(["Rscript", "-e", "library(haven)"], capture_output=True)
    return r.returncode == 0


def _measure(path: Path, how: str, batch_rows: int, out: Path) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), how, str(batch_rows), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=10_000)
    ap.add_argument("--years", type=int, default=30)
    ap.add_argument("--batch-rows", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if not _have_haven():
        print("bench_sas: skipped, writing SAS7BDAT needs Rscript with the haven package.")
        return
    sys.path.insert(0, str(HERE))
    import pandas as pd
    from bench_store import write_register_csv

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        csv, sas = d / "dream.csv", d / "dream.sas7bdat"
        write_register_csv(csv, args.persons, args.years)
        (d / "write.R").write_text(R_WRITE)
        subprocess.run(["Rscript", str(d / "write.R"), str(csv), str(sas)], check=True, capture_output=True)
        rows: dict[str, list[dict]] = {}
        for _ in range(args.repeat):
            for how, path in (("csv", csv), ("sas", sas), ("sas-frame", sas)):
                rows.setdefault(how, []).append(_measure(path, how, args.batch_rows, d / f"{how}.pkl"))
        base = pd.read_pickle(d / "csv.pkl")
        for how in ("sas", "sas-frame"):
            got = pd.read_pickle(d / f"{how}.pkl")
            pd.testing.assert_frame_equal(got[0], base[0])
            pd.testing.assert_frame_equal(got[1], base[1])
        print(
            f"read_dream, {args.persons:,} persons, {args.years} years, batch_rows={args.batch_rows:,} "
            f"(median of {args.repeat}; panels equal)"
        )
        med = {how: {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in rs[0]} for how, rs in rows.items()}
        for how, m in med.items():
            print(
                f"  {how:<10} CPU {m['cpu']:6.1f} s  wall {m['wall']:6.1f} s  "
                f"peak RSS {m['rss_mb']:6.0f} MB  CPU ms/person {1000 * m['cpu'] / args.persons:.3f}"
            )
        print(
            f"  ratios: sas-frame/sas CPU {med['sas-frame']['cpu'] / med['sas']['cpu']:.2f}, "
            f"sas/csv CPU {med['sas']['cpu'] / med['csv']['cpu']:.2f}"
        )


if __name__ == "__main__":
    main()
