"""Benchmark: reading a DREAM-shaped wide file, whole-file reader vs the streaming reader.

A DREAM-shaped wide CSV is generated in chunks (never whole in memory): integer ids ``PNR``,
``sex``, ``kom`` (municipality) and ``birth_year``, and 1,540 weekly columns
``y_9127 .. y_2052`` (1991-W27 .. 2020-W52).  Each person alternates blank runs (mean 26 weeks)
and coded runs (mean 14 weeks, one benefit code per run), about 35% of cells coded; 3% of the
persons end with an absorbing code (emigration, death, old-age pension) followed by blank weeks.
Beyond 100,000 persons the weekly histories repeat under new ids (faster to generate).

Each measurement runs in its own process and reports wall time and peak RSS (``VmHWM`` of
``/proc/self/status``):

``whole``
    The whole-file path: the strict pyarrow read of every column into pandas, one code lookup
    per weekly column (``as_code_strings`` and ``pandas.Categorical``), the sparse states from
    the code matrix, the window check, the absorbing rule and the panel, as ``read_dream``
    read files before it streamed.
``stream``
    ``read_dream`` (the batches of ``iter_dream`` concatenated into one panel).
``iterate``
    ``iter_dream``: the batches are consumed and dropped (what a writer of a partitioned store
    holds in memory); the coded person-weeks are counted.
``store``
    ``dream_to_store`` into a temporary partitioned store (``--store``, at the ``--scale`` sizes).

Usage::

    .venv/bin/python benchmarks/bench_read_dream.py                       # 20k: whole vs stream
    .venv/bin/python benchmarks/bench_read_dream.py --repeat 3            # medians of 3 runs each
    .venv/bin/python benchmarks/bench_read_dream.py --scale 200000 1000000  # iterate, memory vs N
    .venv/bin/python benchmarks/bench_read_dream.py --scale 200000 --store  # and dream_to_store
    .venv/bin/python benchmarks/bench_read_dream.py --formats             # CSV vs CSV.gz/Parquet
    .venv/bin/python benchmarks/bench_read_dream.py --skip-whole --quoted --arrow  # quoted cells

``--quoted`` also writes the file with every field in quotes (``"111"``, ``""``, as QUOTE_ALL
writers and R's ``write.csv`` of text columns write it); ``--arrow`` also reads each file with
every block handed to pyarrow (``stream-alone``: each block read by pyarrow on its own, as an
odd block is; ``stream-arrow``: the whole file through pyarrow's streaming reader).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FIRST = (1991, 27)
N_WEEKS = 1540
CODES = np.array(["111", "112", "113", "701", "702", "731", "741", "783", "890", "651", "412", "521"])
WEIGHTS = np.array([0.3, 0.06, 0.04, 0.12, 0.04, 0.08, 0.06, 0.03, 0.1, 0.07, 0.05, 0.05])
ABSORBING = np.array(["997", "998", "999"])


def _columns() -> list[str]:
    from evaltools.data import dream_column, isoweek_to_index

    lo = int(isoweek_to_index(*FIRST))
    return list(dream_column(np.arange(lo, lo + N_WEEKS)))


def _cells(codes: np.ndarray) -> np.ndarray:
    """Fixed 4-byte cell slots (``,111`` or ``,`` + padding) for code indices (-1 blank)."""
    labels = np.array([",", *[f",{c}" for c in [*CODES, *ABSORBING]]], dtype="S4")
    return labels.view(np.uint8).reshape(-1, 4)[codes + 1]


def _bodies(rng: np.random.Generator, n: int) -> list[bytes]:
    """The lines of ``n`` persons without their id (``,sex,kom,birth_year,y_9127,...\n``)."""
    runs = 120
    blank = rng.geometric(1 / 26, size=(n, runs))
    coded = rng.geometric(1 / 14, size=(n, runs))
    lengths = np.stack([blank, coded], axis=2).reshape(n, 2 * runs)
    lengths[:, 0] = rng.integers(1, 80, size=n)
    ends = np.cumsum(lengths, axis=1)
    code_of_run = rng.choice(len(CODES), size=(n, 2 * runs), p=WEIGHTS / WEIGHTS.sum())
    code_of_run[:, 0::2] = -1
    off = (np.arange(n) * (max(int(ends[:, -1].max()), N_WEEKS) + 1))[:, None]
    run = np.searchsorted((ends + off).ravel(), (np.arange(N_WEEKS)[None, :] + off).ravel(), side="right")
    run = np.minimum(run.reshape(n, N_WEEKS) - (np.arange(n) * 2 * runs)[:, None], 2 * runs - 1)
    mat = np.take_along_axis(code_of_run, run, axis=1)
    leaving = np.flatnonzero(rng.random(n) < 0.03)
    at = rng.integers(200, N_WEEKS, size=len(leaving))
    absorb = len(CODES) + rng.integers(0, len(ABSORBING), size=len(leaving))
    for i, w, a in zip(leaving, at, absorb):
        mat[i, w] = a
        mat[i, w + 1 :] = -1
    cells = _cells(mat).reshape(n, N_WEEKS * 4)
    sex = rng.choice(np.array([b",F", b",M"]), size=n)
    kom = rng.choice(
        np.array([b",101", b",147", b",151", b",157", b",461", b",561", b",751", b",851"]), size=n
    )
    birth = np.char.encode(np.char.mod(",%d", rng.integers(1940, 2000, size=n)), "ascii")
    head = np.char.add(np.char.add(sex, kom), birth)
    width = max(len(h) for h in head.tolist())
    head_b = head.astype(f"S{width}").view(np.uint8).reshape(n, width)
    line = np.concatenate([head_b, cells, np.full((n, 1), ord("\n"), np.uint8)], axis=1)
    keep = line != 0
    buf = line[keep].tobytes()
    ends_b = np.cumsum(keep.sum(axis=1))
    starts = np.r_[0, ends_b[:-1]]
    return [buf[a:b] for a, b in zip(starts.tolist(), ends_b.tolist())]


def _quote(data: bytes) -> bytes:
    """Lines with every field in quotes (``"111"``, ``""`` for a blank), as QUOTE_ALL writers write."""
    return b'"' + data[:-1].replace(b",", b'","').replace(b"\n", b'"\n"') + b'"\n'


def generate(
    path: Path,
    n: int,
    *,
    seed: int = 1,
    chunk: int = 5000,
    distinct: int = 100_000,
    quoted: bool = False,
) -> Path:
    """Write a DREAM-shaped wide CSV (or ``.csv.gz``) of ``n`` persons, ``chunk`` persons at a time.

    The first ``distinct`` persons are drawn; further persons repeat their weekly histories under
    new ids (the reader's work is the same, the generation is faster).  ``quoted``: every field
    in quotes (the same persons and cells).
    """
    q = _quote if quoted else (lambda data: data)
    rng = np.random.default_rng(seed)
    opener = gzip.open if path.name.endswith(".gz") else open
    cache: list[list[bytes]] = []
    n_cache = max(distinct // chunk, 1)
    with opener(path, "wb") as f:
        f.write(q((",".join(["PNR", "sex", "kom", "birth_year", *_columns()]) + "\n").encode()))
        for k, start in enumerate(range(0, n, chunk)):
            m = min(chunk, n - start)
            if k < n_cache:
                bodies = _bodies(rng, m)
                cache.append(bodies)
            else:
                bodies = cache[k % n_cache][:m]
            first = 100_000_000 + start
            f.write(q(b"".join(str(first + j).encode() + b for j, b in enumerate(bodies))))
    return path


# -- measured in a child process ---------------------------------------------------------
def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _whole(path: str) -> int:
    """The whole-file path of ``read_dream`` before it streamed (same checks, same panel)."""
    import pandas as pd

    from evaltools.data import RegisterPanel
    from evaltools.data._load import as_code_strings, load_table
    from evaltools.data._reading import apply_absorbing, coverage_notes, sort_states
    from evaltools.data.checks import check_window
    from evaltools.data.codes import default_codes
    from evaltools.data.contract import DREAM_PATTERNS, IdCollector, classify_ids
    from evaltools.data.weeks import parse_dream_columns

    codes = default_codes()
    df, src = load_table(
        path,
        where="read_dream",
        text=lambda c: c.startswith("y_") or c == "PNR",
        id_col="PNR",
        patterns=DREAM_PATTERNS,
    )
    weekly = parse_dream_columns([str(c) for c in df.columns])
    wcols = sorted(weekly, key=weekly.get)
    widx = np.array([weekly[c] for c in wcols], dtype=np.int32)
    ids = classify_ids(df["PNR"], column="PNR", source=src)
    collector = IdCollector("PNR", fix="")
    collector.add(ids, src)
    pid, _ = collector.finish()
    cats = list(codes.codes)
    mat = np.empty((len(df), len(wcols)), dtype=np.int16)
    for j, c in enumerate(wcols):
        s = as_code_strings(df[c], where="read_dream")
        mat[:, j] = pd.Categorical(s.to_numpy(dtype=object, na_value=None), categories=cats).codes
    rows, cols = np.nonzero(mat >= 0)
    states = pd.DataFrame(
        {
            "person_id": pid[rows],
            "week": widx[cols],
            "state": pd.Categorical.from_codes(mat[rows, cols], dtype=codes.dtype()),
        }
    )
    del mat
    states = sort_states(states)
    pers = pd.DataFrame({"person_id": pid, "obs_start": widx.min(), "obs_end": widx.max()})
    for c in ("sex", "kom", "birth_year"):
        pers[c] = df[c].array
    assert check_window(states, pers) is None
    shown = pid
    pers, _ = apply_absorbing(
        states, pers, codes, mode="end_observation", where="read_dream", id_name="PNR", shown=shown
    )
    coverage_notes(states, pers, where="read_dream", id_name="PNR", shown=shown)
    panel = RegisterPanel(states=states, persons=pers, codes=codes)
    return len(panel.states)


def child(method: str, path: str, batch_rows: int) -> None:
    """Run one method and print a JSON line with rows, seconds and peak RSS."""
    import warnings

    from evaltools.data import iter_dream, read_dream

    warnings.simplefilter("ignore")
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru0.ru_utime + ru0.ru_stime
    t0 = time.perf_counter()
    if method == "whole":
        n = _whole(path)
    elif method == "stream":
        n = len(read_dream(path, batch_rows=batch_rows, progress=False).states)
    elif method in ("stream-arrow", "stream-alone"):
        from evaltools.data import _fastcsv
        from evaltools.data._sources import CsvSource

        _fastcsv.block_cells = lambda *a, **k: None  # type: ignore[assignment]  # no block is simple
        if method == "stream-arrow":  # and none is read alone: pyarrow's streaming reader reads the file
            CsvSource._block_alone = lambda *a, **k: None  # type: ignore[method-assign]
        n = len(read_dream(path, batch_rows=batch_rows, progress=False).states)
    elif method == "iterate":
        n = sum(len(p.states) for p in iter_dream(path, batch_rows=batch_rows, progress=False))
    elif method == "store":
        from evaltools.data import dream_to_store
        from evaltools.data._store_parts import load_manifest

        with tempfile.TemporaryDirectory(dir=Path(path).parent) as tmp:
            out = dream_to_store(path, Path(tmp) / "store", batch_rows=batch_rows, progress=False)
            n = int(load_manifest(out)["n_state_rows"])
    else:
        raise SystemExit(f"unknown method {method}")
    dt = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime - cpu0
    print(
        json.dumps({"method": method, "coded": n, "seconds": dt, "cpu": cpu, "peak_rss_mb": _peak_rss_mb()})
    )


def run(method: str, path: Path, batch_rows: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(path), "--batch-rows", str(batch_rows)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    """The medians of some runs of one method, and the CPU seconds of every run."""
    out = {k: float(np.median([r[k] for r in runs])) for k in ("seconds", "cpu", "peak_rss_mb")}
    out["coded"] = runs[0]["coded"]
    out["cpu_runs"] = [r["cpu"] for r in runs]
    return out


def _show(tag: str, r: dict, size_mb: float) -> None:
    runs = r.get("cpu_runs", [])
    each = f"  CPU per run {', '.join(f'{c:.2f}' for c in runs)} s" if len(runs) > 1 else ""
    print(
        f"{tag:<34} {r['seconds']:8.2f} s (CPU {r['cpu']:7.2f} s)  peak RSS {r['peak_rss_mb']:7.0f} MB  "
        f"{r['coded']:>13,} coded person-weeks  ({size_mb:,.0f} MB file){each}"
    )


def _paths(tmpd: Path, path: Path, n: int, args: argparse.Namespace, size: float) -> None:
    """The fast path against pyarrow's, on the plain and (``--quoted``) the fully quoted file."""
    files = [("plain", path, size)]
    if args.quoted:
        qpath = generate(tmpd / f"dream_{n}_quoted.csv", n, quoted=True)
        files.append(("quoted", qpath, qpath.stat().st_size / 2**20))
    methods = ["stream", *(["stream-alone", "stream-arrow"] if args.arrow else [])]
    label = {
        "stream": "fast path",
        "stream-alone": "blocks read by pyarrow alone",
        "stream-arrow": "pyarrow streaming reader",
    }
    for kind, p, mb in files:
        runs: dict[str, list[dict]] = {m: [] for m in methods}
        for _ in range(max(args.repeat, 1)):
            for m in methods:
                runs[m].append(run(m, p, args.batch_rows))
        res = {m: _summary(r) for m, r in runs.items()}
        for m in methods:
            _show(f"{kind}: {label[m]}", res[m], mb)
        base = res["stream"]
        for m in methods[1:]:
            assert res[m]["coded"] == base["coded"], (m, res[m], base)
            print(
                f"  {kind}: {label[m]} / fast path: CPU time {res[m]['cpu'] / base['cpu']:.1f}x, "
                f"peak RSS {res[m]['peak_rss_mb'] / base['peak_rss_mb']:.2f}x"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"))
    ap.add_argument("--persons", type=int, default=20_000, help="persons for whole vs stream")
    ap.add_argument("--scale", type=int, nargs="*", default=[], help="persons for the iterate runs")
    ap.add_argument("--formats", action="store_true", help="also time CSV.gz and Parquet")
    ap.add_argument("--store", action="store_true", help="also time dream_to_store at the --scale sizes")
    ap.add_argument("--quoted", action="store_true", help="also a file with every field in quotes")
    ap.add_argument(
        "--arrow",
        action="store_true",
        help="also read with every block handed to pyarrow (alone, and the whole file streamed)",
    )
    ap.add_argument("--batch-rows", type=int, default=20_000)
    ap.add_argument("--skip-whole", action="store_true")
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs of each reader at --persons (medians are reported)"
    )
    ap.add_argument("--dir", default=None, help="folder for the generated files (default: a temp dir)")
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.batch_rows)
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmpd = Path(tmp)
        n = args.persons
        t0 = time.perf_counter()
        path = generate(tmpd / f"dream_{n}.csv", n)
        size = path.stat().st_size / 2**20
        print(f"generated {n:,} persons x {N_WEEKS:,} weeks in {time.perf_counter() - t0:.1f} s")
        methods = ["stream"] if args.skip_whole else ["stream", "whole"]
        runs: dict[str, list[dict]] = {m: [] for m in methods}
        for _ in range(max(args.repeat, 1)):  # interleaved, so that both see the same machine load
            for m in methods:
                runs[m].append(run(m, path, args.batch_rows))
        s = _summary(runs["stream"])
        _show(f"read_dream (streaming), {n:,}", s, size)
        if not args.skip_whole:
            w = _summary(runs["whole"])
            _show(f"whole-file reader, {n:,}", w, size)
            assert w["coded"] == s["coded"], (w, s)
            print(
                f"ratio whole/streaming: time {w['seconds'] / s['seconds']:.1f}x, "
                f"CPU time {w['cpu'] / s['cpu']:.1f}x, peak RSS {w['peak_rss_mb'] / s['peak_rss_mb']:.1f}x"
                + (f" (medians of {args.repeat} runs each, interleaved)" if args.repeat > 1 else "")
            )
        if args.quoted or args.arrow:
            _paths(tmpd, path, n, args, size)
        if args.formats:
            import pandas as pd

            gz = generate(tmpd / f"dream_{n}.csv.gz", n)
            g = run("stream", gz, args.batch_rows)
            _show(f"read_dream CSV.gz, {n:,}", g, gz.stat().st_size / 2**20)
            pq = tmpd / f"dream_{n}.parquet"
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame.to_parquet(pq, index=False)
            del frame
            p = run("stream", pq, args.batch_rows)
            _show(f"read_dream Parquet, {n:,}", p, pq.stat().st_size / 2**20)
            print(
                f"ratio CSV.gz/CSV {g['seconds'] / s['seconds']:.2f}x, "
                f"Parquet/CSV {p['seconds'] / s['seconds']:.2f}x"
            )
        base = None
        for m in args.scale:
            t0 = time.perf_counter()
            big = generate(tmpd / f"dream_{m}.csv", m)
            gen = time.perf_counter() - t0
            r = run("iterate", big, args.batch_rows)
            _show(f"iter_dream, {m:,} (gen {gen:.0f} s)", r, big.stat().st_size / 2**20)
            if args.store:
                st = run("store", big, args.batch_rows)
                _show(f"dream_to_store, {m:,}", st, big.stat().st_size / 2**20)
            base = base or r
            print(
                f"  vs {args.scale[0]:,}: persons {m / args.scale[0]:.1f}x, time "
                f"{r['seconds'] / base['seconds']:.1f}x, "
                f"peak RSS {r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x"
            )
            big.unlink()


if __name__ == "__main__":
    main()
