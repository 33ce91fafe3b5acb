"""Benchmark of the partitioned panel store (``evaltools.data.PanelStoreWriter`` / ``read_panel_dask``).

Three parts, each size in its own subprocess so that the peak RSS (``VmHWM``
of ``/proc/self/status``) belongs to that size alone::

    python benchmarks/bench_store.py runs                      # run-length vs long layout
    python benchmarks/bench_store.py register --persons 200000 1000000 5000000 --years 30 --workers 1
    python benchmarks/bench_store.py csv --persons 200000 1000000   # DREAM CSV -> store

``runs`` compares the store (states as runs of equal code) with the single
layout (one row per coded person-week) on a panel of :mod:`evaltools.synth`
and on the register-shaped generator below: rows, bytes on disk, write and
read time.

``register`` streams a register-shaped synthetic store (persons entering and
leaving, about one third of observed weeks coded, benefit spells with a mean
of 30 weeks separated by gaps with a mean of 60 weeks, 98 municipalities)
chunk by chunk into :class:`~evaltools.data.PanelStoreWriter`, then runs the
pipeline lazily on it: kontanthjaelp spells with
:func:`~evaltools.data.dask.build_spells_dask` and full-time persons by
municipality x month with :func:`~evaltools.indicators.fte.fte_dask`.

``csv`` writes a DREAM-shaped wide CSV (one process) with the generator of
``bench_read_dream.py`` (``--csv-generator read_dream``, the default) or with
:func:`write_register_csv` (``--csv-generator register``, the spell structure of
``register``), then converts it to a store with :func:`evaltools.data.dream_to_store`
(the streaming reader; a second process).

Measured on the shared 2-core development machine under a load average of 9-12 (wall times
inflated about 5x over CPU time): states runs are 20x (synth) to 29x (register shape) fewer
rows than coded person-weeks and 2-7x smaller on disk.  Register shape, 30 years, 50,000
persons per partition: 200,000 persons in 282 s wall with 3.66 GB peak RSS; 1,000,000 persons
(417 M coded person-weeks, 14.2 M runs, 56 MB on disk) in 2,002 s wall / 408 CPU-s with
3.97 GB peak RSS, so memory is set by the partition size, not by the number of persons.
A DREAM-shaped CSV of ``--csv-generator register`` (30 years, 2.7 KB per person) converts to a
store in 9.9 s / 10.3 CPU-s with 558 MB peak RSS at 200,000 persons (543 MB), 43.5 s / 43.7 CPU-s
with 642 MB at 1,000,000 (2,717 MB; store 57 MB in 50 partitions) and 89.8 s / 92.1 CPU-s with
730 MB at 2,000,000 (5,434 MB), on an idle machine.

With ``--workers 1`` (one dask thread; load average 3-8): 5,000,000 persons x 30 years
(2,086 M coded person-weeks, 71.2 M runs, 100 partitions, 279 MB on disk; 19.2 M
kontanthjaelp spells, 7,220 FTE cells) in 3,122 s wall / 1,605 CPU-s (write 430 s wall /
242 CPU-s, spells 1,849 s, FTE 841 s) with 2.41 GB peak RSS; 200,000 persons in 206 s wall /
171 CPU-s with 2.10 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools.data import PanelStoreWriter, RegisterPanel, default_codes, isoweek_to_index, read_panel
from evaltools.data._store_parts import decode_runs, load_manifest

CODES = ("111", "112", "113", "701", "702", "703", "721", "731", "741", "890", "881", "521")
WEIGHTS = np.array([18, 3, 2, 20, 4, 3, 5, 4, 3, 25, 8, 5], dtype=float)


def _cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def register_chunk(seed: int, first_id: int, n: int, w0: int, n_weeks: int) -> RegisterPanel:
    """A register-shaped chunk of ``n`` persons with ids ``first_id ..`` (deterministic in ``seed``)."""
    from evaltools.synth.config import MUNICIPALITIES

    rng = np.random.default_rng([seed, first_id])
    start = np.where(rng.random(n) < 0.6, 0, rng.integers(0, n_weeks, n))
    stay = rng.integers(52, 2 * n_weeks, n)
    end = np.where(rng.random(n) < 0.85, n_weeks - 1, np.minimum(n_weeks - 1, start + stay))
    k = max(8, int(3 * n_weeks / 90) + 8)  # spell/gap pairs per person, enough for the window
    gap = rng.geometric(1 / 60, (n, k))
    spell = rng.geometric(1 / 30, (n, k))
    # spell j starts after spells 0..j-1 and gaps 1..j (a person enters the register with a spell)
    s0 = start[:, None] + np.cumsum(gap, axis=1) - gap[:, :1] + np.cumsum(spell, axis=1) - spell
    s1 = np.minimum(s0 + spell - 1, end[:, None])
    ok = s0 <= end[:, None]
    code = rng.choice(len(CODES), size=(n, k), p=WEIGHTS / WEIGHTS.sum())
    pid = np.repeat(np.arange(first_id, first_id + n, dtype=np.int64), k).reshape(n, k)
    codes = default_codes()
    runs = pd.DataFrame(
        {
            "person_id": pid[ok],
            "first_week": (w0 + s0[ok]).astype(np.int32),
            "last_week": (w0 + s1[ok]).astype(np.int32),
            "state": pd.Categorical(np.asarray(CODES)[code[ok]], dtype=codes.dtype()),
        }
    )
    names = [m[0] for m in MUNICIPALITIES]
    persons = pd.DataFrame(
        {
            "person_id": np.arange(first_id, first_id + n, dtype=np.int64),
            "obs_start": (w0 + start).astype(np.int32),
            "obs_end": (w0 + end).astype(np.int32),
            "sex": pd.Categorical(np.where(rng.random(n) < 0.5, "F", "M"), categories=["F", "M"]),
            "birth_year": rng.integers(1930, 2001, n).astype(np.int16),
            "municipality": pd.Categorical.from_codes(rng.integers(0, len(names), n), categories=names),
        }
    )
    meta = {"generator": "benchmarks/bench_store.py register_chunk", "seed": seed, "first_week": w0}
    return RegisterPanel(states=decode_runs(runs, codes.dtype()), persons=persons, codes=codes, meta=meta)


def _window(years: int) -> tuple[int, int]:
    w0 = int(isoweek_to_index(1991, 27))
    return w0, int(isoweek_to_index(1991 + years, 27)) - w0


def _progress(msg: str) -> None:
    """One progress line on stderr (the parent passes it through), with CPU time and peak RSS so far."""
    print(
        f"[{time.strftime('%H:%M:%S')}] {msg}  cpu={_cpu_s():.0f}s peak={_peak_mb():.0f}MB",
        file=sys.stderr,
        flush=True,
    )


def write_register_store(
    out: Path, n_persons: int, years: int, chunk: int, seed: int = 1, progress: bool = False
) -> Path:
    """Stream a register-shaped store of ``n_persons`` persons over ``years`` years into ``out``."""
    w0, n_weeks = _window(years)
    meta = {
        "generator": "benchmarks/bench_store.py",
        "seed": seed,
        "first_week": w0,
        "last_week": w0 + n_weeks - 1,
    }
    with PanelStoreWriter(out, codes=default_codes(), meta=meta, overwrite=True) as w:
        for first in range(1, n_persons + 1, chunk):
            w.append(register_chunk(seed, first, min(chunk, n_persons + 1 - first), w0, n_weeks))
            if progress:
                _progress(f"written persons {first}-{min(first + chunk - 1, n_persons)} of {n_persons}")
    return out


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def child_register(n_persons: int, years: int, chunk: int, workdir: Path) -> dict:
    """Generate, then run spells and FTE lazily; timings and peak RSS of this process."""
    from evaltools.data import read_panel_dask
    from evaltools.data.dask import build_spells_dask
    from evaltools.indicators.fte import fte_dask

    out = workdir / f"register_{n_persons}"
    t0 = time.perf_counter()
    write_register_store(out, n_persons, years, chunk, progress=True)
    t_write = time.perf_counter() - t0
    rss_write = _peak_mb()
    cpu_write = _cpu_s()
    man = load_manifest(out)
    t0 = time.perf_counter()
    dp = read_panel_dask(out)
    spells = build_spells_dask(dp, benefit="kontanthjaelp")
    n_spells = int(spells.map_partitions(len, meta=(None, "int64")).compute(scheduler="threads").sum())
    t_spells = time.perf_counter() - t0
    _progress(f"spells done ({n_spells} spells)")
    t0 = time.perf_counter()
    persons = dp.persons.compute(scheduler="threads").reset_index(drop=True)
    tab = fte_dask(dp.states, persons, codes=dp.codes, by=("municipality",), period="month")
    t_fte = time.perf_counter() - t0
    _progress(f"fte done ({len(tab.data)} rows)")
    return {
        "persons": n_persons,
        "years": years,
        "partitions": len(man["partitions"]),
        "person_weeks_coded": man["n_state_rows"],
        "runs": man["n_runs"],
        "store_mb": round(_dir_mb(out), 1),
        "write_s": round(t_write, 1),
        "cpu_write_s": round(cpu_write, 1),
        "peak_rss_write_mb": round(rss_write),
        "spells_s": round(t_spells, 1),
        "n_spells": n_spells,
        "fte_s": round(t_fte, 1),
        "fte_rows": len(tab.data),
        "cpu_s": round(_cpu_s(), 1),
        "peak_rss_mb": round(_peak_mb()),
    }


def child_runs(workdir: Path) -> dict:
    """Long (single layout) versus runs (store) on a synth panel and a register-shaped panel."""
    from evaltools.data import write_panel
    from evaltools.synth import generate

    res = {}
    w0, n_weeks = _window(30)
    panels = {
        "synth 20k x 5y": generate(seed=1, n_persons=20_000, years=5, att=False).panel,
        "register 20k x 30y": register_chunk(1, 1, 20_000, w0, n_weeks),
    }
    for name, panel in panels.items():
        single, store = workdir / "single", workdir / "store"
        t0 = time.perf_counter()
        write_panel(panel, single)
        t_ws = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_panel(panel, store, partition_persons=5_000)
        t_wp = time.perf_counter() - t0
        t0 = time.perf_counter()
        read_panel(single)
        t_rs = time.perf_counter() - t0
        t0 = time.perf_counter()
        read_panel(store)
        t_rp = time.perf_counter() - t0
        man = load_manifest(store)
        res[name] = {
            "coded_person_weeks": man["n_state_rows"],
            "runs": man["n_runs"],
            "rows_ratio": round(man["n_state_rows"] / man["n_runs"], 1),
            "states_mb_single": round((single / "states.parquet").stat().st_size / 2**20, 2),
            "states_mb_store": round(_dir_mb(store / "states"), 2),
            "write_s_single_store": [round(t_ws, 2), round(t_wp, 2)],
            "read_s_single_store": [round(t_rs, 2), round(t_rp, 2)],
        }
        shutil.rmtree(single)
        shutil.rmtree(store)
    return res


def write_register_csv(path: Path, n_persons: int, years: int, chunk: int = 20_000) -> Path:
    """A DREAM-shaped wide CSV (``PNR``, window and background columns, ``y_YYWW``) streamed by chunks."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from evaltools.data import dream_column

    w0, n_weeks = _window(years)
    names = [
        "PNR",
        "obs_start",
        "obs_end",
        "sex",
        "birth_year",
        "municipality",
        *dream_column(np.arange(n_weeks) + w0),
    ]
    writer = None
    try:
        for first in range(1, n_persons + 1, chunk):
            n = min(chunk, n_persons + 1 - first)
            panel = register_chunk(1, first, n, w0, n_weeks)
            st, p = panel.states, panel.persons
            wide = np.zeros((n, n_weeks), dtype=np.int16)
            code = st["state"].astype(str).to_numpy().astype(np.int16)
            wide[st["person_id"].to_numpy() - first, st["week"].to_numpy() - w0] = code
            cols = [pa.array(p["person_id"].to_numpy())] + [
                pa.array(p[c].to_numpy()) for c in ("obs_start", "obs_end")
            ]
            cols += [pa.array(p[c].astype(str).to_numpy()) for c in ("sex",)]
            cols += [pa.array(p["birth_year"].to_numpy()), pa.array(p["municipality"].astype(str).to_numpy())]
            cols += [pa.array(wide[:, j], mask=wide[:, j] == 0).cast(pa.string()) for j in range(n_weeks)]
            table = pa.Table.from_arrays(cols, names=names)
            if writer is None:
                opts = pacsv.WriteOptions(quoting_style="none")
                writer = pacsv.CSVWriter(str(path), table.schema, write_options=opts)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path


def child_csv_write(n_persons: int, years: int, workdir: Path, generator: str) -> dict:
    """Write the DREAM-shaped CSV (its own process, so that the conversion's peak RSS is its own)."""
    csv = workdir / f"dream_{n_persons}.csv"
    t0 = time.perf_counter()
    if generator == "read_dream":  # the generator of bench_read_dream.py (1,540 weeks, 35% coded)
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_read_dream import generate

        generate(csv, n_persons)
    else:
        write_register_csv(csv, n_persons, years)
    return {"csv_mb": round(csv.stat().st_size / 2**20), "generate_csv_s": round(time.perf_counter() - t0, 1)}


def child_csv(n_persons: int, years: int, workdir: Path) -> dict:
    """DREAM CSV -> store with the streaming reader."""
    import warnings

    from evaltools.data import dream_to_store

    csv = workdir / f"dream_{n_persons}.csv"
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = dream_to_store(csv, workdir / f"store_{n_persons}", progress=False)
    t_conv = time.perf_counter() - t0
    man = load_manifest(out)
    return {
        "persons": n_persons,
        "store_mb": round(_dir_mb(out), 1),
        "csv_to_store_s": round(t_conv, 1),
        "cpu_s": round(_cpu_s(), 1),
        "peak_rss_mb": round(_peak_mb()),
        "partitions": len(man["partitions"]),
    }


def _spawn(args: list[str]) -> dict:
    """Run one part in a child process; its stderr (progress, warnings) is passed through."""
    cmd = [sys.executable, __file__, "--child", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None and proc.stdout is not None
    tail: list[str] = []
    for line in proc.stderr:
        sys.stderr.write(line)
        sys.stderr.flush()
        tail = [*tail[-2:], line.rstrip()]
    stdout = proc.stdout.read()
    if proc.wait():
        return {"args": args, "returncode": proc.returncode, "error": tail}
    return json.loads(stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=["runs", "register", "csv", "csv-write"])
    ap.add_argument("--persons", type=int, nargs="*", default=[200_000])
    ap.add_argument("--years", type=int, default=30)
    ap.add_argument("--chunk", type=int, default=50_000, help="persons per chunk (= per partition)")
    ap.add_argument("--workdir", default=None, help="scratch directory (default: a temporary one)")
    ap.add_argument(
        "--workers", type=int, default=None, help="threads of the dask scheduler (default: one per core)"
    )
    ap.add_argument(
        "--csv-generator",
        choices=["read_dream", "register"],
        default="read_dream",
        help="CSV of bench_read_dream.py (default) or of write_register_csv here (--years)",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_store_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.child:
            if args.workers:
                import dask

                dask.config.set(num_workers=args.workers)
            if args.part == "runs":
                out = child_runs(work)
            elif args.part == "register":
                out = child_register(args.persons[0], args.years, args.chunk, work)
            elif args.part == "csv-write":
                out = child_csv_write(args.persons[0], args.years, work, args.csv_generator)
            else:
                out = child_csv(args.persons[0], args.years, work)
            print(json.dumps(out))
            return
        if args.part == "runs":
            print(json.dumps(_spawn(["runs", "--workdir", str(work)]), indent=1))
            return
        common = ["--years", str(args.years), "--chunk", str(args.chunk), "--workdir", str(work)]
        common += ["--workers", str(args.workers)] if args.workers else []
        for n in args.persons:
            t0 = time.perf_counter()
            gen = ["--csv-generator", args.csv_generator]
            pre = _spawn(["csv-write", "--persons", str(n), *gen, *common]) if args.part == "csv" else {}
            res = {**pre, **_spawn([args.part, "--persons", str(n), *common])}
            res["wall_s"] = round(time.perf_counter() - t0, 1)
            print(json.dumps(res), flush=True)
            for p in work.iterdir():
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    finally:
        if not args.workdir and not args.child:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
