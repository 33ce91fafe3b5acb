"""Seeded generator of synthetic DREAM-like register panels with known causal effects.

Entry points: :func:`generate` (in memory, returns a :class:`SynthResult`) and
:func:`generate_to_disk` (streams chunks into a partitioned panel store,
memory bounded; used by ``python -m evaltools.synth``).

Reproducibility: persons are simulated in fixed blocks of
:data:`~evaltools.synth._engine.BLOCK_SIZE` persons; block ``b`` draws all its
random numbers from ``np.random.SeedSequence(seed, spawn_key=(b,))`` (the
``b``-th child that ``SeedSequence(seed).spawn`` would give).  Chunks are made
of whole blocks, so the output is identical for every ``chunk_size`` and
number of worker processes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaltools.data.codes import default_codes
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import isoweek_to_index
from evaltools.exceptions import SpecificationError
from evaltools.synth import _engine as E
from evaltools.synth.config import HET_TYPES, MUNICIPALITIES, PROGRAMMES, SynthConfig
from evaltools.synth.truth import ESTIMAND, HORIZONS, TREATMENTS, Truth, structural_effects

__all__ = ["SynthResult", "generate", "generate_to_disk", "GENERATOR_VERSION"]

#: Bumped whenever the simulation changes its output for a given seed.
GENERATOR_VERSION = "3"
_EVENT_NAMES = ("activation", "mentor", "interview", "offer", "sanction", "assessment")


@dataclass(frozen=True)
class SynthResult:
    """Output of :func:`generate`.

    Attributes
    ----------
    panel : RegisterPanel
        The synthetic register panel (states, persons, events).
    truth : Truth
        Structural hazard ratios and the simulated ATTs.
    hidden : DataFrame
        ``person_id`` and the unobserved heterogeneity type ``het_type``
        (``"low"``/``"medium"``/``"high"`` employability); never part of ``panel``.
    potential : DataFrame
        One row per treated person and treatment: ``person_id``, ``treatment``,
        ``start_week``, and weeks self-supporting with (``y1_52``, ``y1_156``) and
        without (``y0_52``, ``y0_156``) the treatment (NaN without full follow-up).
        Empty when the truth was not simulated.
    config : SynthConfig
        The parameters used.
    """

    panel: RegisterPanel
    truth: Truth
    hidden: pd.DataFrame
    potential: pd.DataFrame
    config: SynthConfig


def _window(start_year: int, years: int) -> tuple[int, int]:
    w0 = int(isoweek_to_index(start_year, 1))
    w1 = int(isoweek_to_index(start_year + years, 1))
    return w0, w1 - w0


def _check_args(n_persons: int, years: int, start_year: int, chunk_size: int, seed: int) -> None:
    for name, v, lo in (("n_persons", n_persons, 1), ("years", years, 1), ("chunk_size", chunk_size, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
            raise SpecificationError(
                f"The {name!r} parameter of generate must be an int >= {lo}. Got {v!r} instead."
            )
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise SpecificationError(
            f"The 'seed' parameter of generate must be an int >= 0. Got {seed!r} instead."
        )
    if not isinstance(start_year, (int, np.integer)) or not 1992 <= start_year <= 2080:
        raise SpecificationError(
            "The 'start_year' parameter of generate must be an int in [1992, 2080]. "
            f"Got {start_year!r} instead."
        )


def _label(values: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(np.asarray(values, dtype=np.int64), categories=pd.Index(list(labels)))


def _run_block(args: tuple[int, int, int, SynthConfig, int, int, int, bool]) -> dict[str, Any]:
    """Simulate block ``b`` and return its tables (top-level so worker processes can run it)."""
    b, n, seed, cfg, w0, T, year0, att = args
    seq = np.random.SeedSequence(seed, spawn_key=(b,))
    p, out = E.simulate_block(seq, n, cfg, w0, T, year0)
    if out.codes is None or out.events is None or out.support_prior is None:
        raise SpecificationError(f"generate: block {b} was simulated without recording its history.")
    pid = np.arange(n, dtype=np.int64) + b * E.BLOCK_SIZE + 1
    # states: nonzero codes in person-major order
    ci, ti = np.nonzero(out.codes.T)
    code_vals = out.codes.T[ci, ti]
    states = pd.DataFrame(
        {"person_id": pid[ci], "week": (w0 + ti).astype(np.int32), "code": code_vals.astype(np.int16)}
    )
    ev = out.events
    assess = ev["assessment"]
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "obs_start": out.obs_start.astype(np.int32),
            "obs_end": out.obs_end.astype(np.int32),
            "sex": np.where(p.female, "F", "M"),
            "birth_year": p.birth_year.astype(np.int16),
            "origin": p.origin.astype(np.int8),
            "migrant_status": p.migrant.astype(np.int8),
            "arrival_week": p.arrival.astype(np.int64),
            "education": p.education.astype(np.int8),
            "municipality": p.muni.astype(np.int8),
            "insured": p.insured.astype(bool),
            "support_weeks_prior5y": out.support_prior.astype(np.int16),
        }
    )
    # readiness at the person's first assessed spell in the window
    first_r = np.zeros(n, dtype=np.int8)
    if len(assess["person_id"]):
        order = np.lexsort((assess["week"], assess["person_id"]))
        ap = assess["person_id"][order]
        firsts = np.r_[True, ap[1:] != ap[:-1]]
        first_r[ap[firsts]] = assess["readiness"][order][firsts]
    persons["readiness"] = first_r
    events = {}
    for name in _EVENT_NAMES:
        cols = dict(ev[name])
        cols["person_id"] = (
            pid[cols["person_id"].astype(np.int64)] if len(cols["person_id"]) else np.zeros(0, np.int64)
        )
        events[name] = pd.DataFrame(cols)
    hidden = pd.DataFrame({"person_id": pid, "het_type": p.het.astype(np.int8)})
    potential = []
    if att:
        cum_f = out.selfsup_cum
        for k in range(len(TREATMENTS)):
            s = out.first_start[:, k]
            treated = np.flatnonzero(s >= 0)
            if not len(treated):
                continue
            _, cf = E.simulate_block(
                seq, n, cfg, w0, T, year0, disabled=k + 1, record=False, resume=out.snapshot
            )
            row = {
                "person_id": pid[treated],
                "treatment": np.full(len(treated), k, np.int8),
                "start_week": (w0 + s[treated]).astype(np.int32),
            }
            for h in HORIZONS:
                ok = s[treated] + h <= T
                tt, ss = treated[ok], s[treated][ok]
                y1 = np.full(len(treated), np.nan)
                y0 = np.full(len(treated), np.nan)
                y1[ok] = cum_f[ss + h, tt] - cum_f[ss, tt]
                y0[ok] = cf.selfsup_cum[ss + h, tt] - cf.selfsup_cum[ss, tt]
                row[f"y1_{h}"] = y1
                row[f"y0_{h}"] = y0
            potential.append(pd.DataFrame(row))
    pot = pd.concat(potential, ignore_index=True) if potential else _empty_potential()
    return {"states": states, "persons": persons, "events": events, "hidden": hidden, "potential": pot}


def _empty_potential() -> pd.DataFrame:
    cols: dict[str, Any] = {
        "person_id": np.zeros(0, np.int64),
        "treatment": np.zeros(0, np.int8),
        "start_week": np.zeros(0, np.int32),
    }
    for h in HORIZONS:
        cols[f"y1_{h}"] = np.zeros(0)
        cols[f"y0_{h}"] = np.zeros(0)
    return pd.DataFrame(cols)


def _finish_tables(block: dict[str, Any], w_last: int) -> dict[str, Any]:
    """Turn engine integer columns into labelled categorical columns."""
    codes = default_codes()
    cat_codes = list(codes.codes)
    lookup = np.full(1000, -1, dtype=np.int64)
    for j, c in enumerate(cat_codes):
        lookup[int(c)] = j
    st = block["states"]
    states = pd.DataFrame(
        {
            "person_id": st["person_id"].to_numpy(),
            "week": st["week"].to_numpy(),
            "state": pd.Categorical.from_codes(lookup[st["code"].to_numpy()], dtype=codes.dtype()),
        }
    )
    per = block["persons"].copy()
    per["sex"] = pd.Categorical(per["sex"], categories=["F", "M"])
    per["origin"] = _label(per["origin"], E.ORIGIN)
    per["migrant_status"] = _label(per["migrant_status"], E.MIGRANT_STATUS)
    arr = per["arrival_week"].to_numpy()
    no_arrival = arr == E.NO_ARRIVAL
    per["arrival_week"] = pd.array(np.where(no_arrival, 0, arr).astype(np.int32), dtype="Int32")
    per.loc[no_arrival, "arrival_week"] = pd.NA
    per["education"] = _label(per["education"], E.EDUCATION)
    per["municipality"] = _label(per["municipality"], tuple(m[0] for m in MUNICIPALITIES))
    rdy = per["readiness"].to_numpy()
    per["readiness"] = pd.Categorical.from_codes(
        rdy.astype(np.int64) - 1, categories=pd.Index(["match1", "match2", "match3"])
    )
    pids = per["person_id"].to_numpy()
    obs_end = per["obs_end"].to_numpy()
    obs_start = per["obs_start"].to_numpy()
    ev = block["events"]
    out_ev: dict[str, pd.DataFrame] = {}
    a = ev["activation"]
    out_ev["activation"] = pd.DataFrame(
        {
            "person_id": a["person_id"],
            "week": a["week"].astype(np.int32),
            "end_week": a["end_week"].astype(np.int32),
            "kind": _label(a["kind"].astype(np.int64) - 1, PROGRAMMES),
        }
    )
    m = ev["mentor"]
    pe = obs_end[np.searchsorted(pids, m["person_id"])]
    out_ev["mentor"] = pd.DataFrame(
        {
            "person_id": m["person_id"],
            "week": m["week"].astype(np.int32),
            "end_week": np.minimum(m["week"] + m["dur"] - 1, pe).astype(np.int32),
            "hours_per_week": m["hours"].astype(float),
            "provider": pd.Categorical(
                np.where(m["internal"].astype(bool), "internal", "external"),
                categories=["internal", "external"],
            ),
            "reason": _label(m["reason"], E.MENTOR_REASONS),
            "hourly_price_dkk": m["price"].astype(float),
        }
    )
    i = ev["interview"]
    out_ev["interview"] = pd.DataFrame(
        {
            "person_id": i["person_id"],
            "week": i["week"].astype(np.int32),
            "end_week": i["week"].astype(np.int32),
            "kind": pd.Categorical(
                np.where(i["first"].astype(bool), "first", "followup"), categories=["first", "followup"]
            ),
        }
    )
    o = ev["offer"]
    out_ev["offer"] = pd.DataFrame(
        {
            "person_id": o["person_id"],
            "week": o["week"].astype(np.int32),
            "end_week": o["week"].astype(np.int32),
            "kind": _label(o["kind"].astype(np.int64) - 1, PROGRAMMES),
        }
    )
    s = ev["sanction"]
    out_ev["sanction"] = pd.DataFrame(
        {
            "person_id": s["person_id"],
            "week": s["week"].astype(np.int32),
            "end_week": s["week"].astype(np.int32),
            "kind": _label(s["kind"], E.SANCTION_KINDS),
        }
    )
    a = ev["assessment"]
    ben = np.array(["", "", "adagpenge", "kontanthjaelp", "integrationsydelse", "sygedagpenge"])
    out_ev["assessment"] = pd.DataFrame(
        {
            "person_id": a["person_id"],
            "week": np.maximum(a["week"], obs_start[np.searchsorted(pids, a["person_id"])]).astype(np.int32),
            "end_week": a["end_week"].astype(np.int32),
            "spell_start_week": a["week"].astype(np.int32),
            "benefit": pd.Categorical(
                ben[a["benefit"].astype(np.int64)],
                categories=["adagpenge", "kontanthjaelp", "integrationsydelse", "sygedagpenge"],
            ),
            "readiness": pd.Categorical.from_codes(
                a["readiness"].astype(np.int64) - 1, categories=pd.Index(["match1", "match2", "match3"])
            ),
        }
    )
    # spells that ended before the window (censored in the first week) have no in-window weeks
    asm = out_ev["assessment"]
    out_ev["assessment"] = asm[asm["end_week"] >= asm["week"]]
    for k, v in out_ev.items():
        out_ev[k] = v.sort_values(["person_id", "week"], kind="stable", ignore_index=True)
    hid = block["hidden"].copy()
    hid["het_type"] = _label(hid["het_type"], HET_TYPES)
    pot = block["potential"].copy()
    pot["treatment"] = _label(pot["treatment"], TREATMENTS)
    return {"states": states, "persons": per, "events": out_ev, "hidden": hid, "potential": pot}


def _iter_chunks(
    cfg: SynthConfig,
    seed: int,
    n_persons: int,
    years: int,
    start_year: int,
    chunk_size: int,
    att_persons: int,
    n_jobs: int,
    progress: bool,
) -> Iterator[dict[str, Any]]:
    w0, T = _window(start_year, years)
    n_blocks = -(-n_persons // E.BLOCK_SIZE)
    att_blocks = -(-att_persons // E.BLOCK_SIZE) if att_persons > 0 else 0
    per_chunk = max(1, chunk_size // E.BLOCK_SIZE)
    tasks = [
        (b, min(E.BLOCK_SIZE, n_persons - b * E.BLOCK_SIZE), seed, cfg, w0, T, start_year, b < att_blocks)
        for b in range(n_blocks)
    ]
    chunks = [tasks[i : i + per_chunk] for i in range(0, n_blocks, per_chunk)]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(chunks), unit="chunk", desc="synth")
    pool = ProcessPoolExecutor(max_workers=n_jobs) if n_jobs > 1 else None
    try:
        for chunk in chunks:
            results = list(pool.map(_run_block, chunk)) if pool else [_run_block(t) for t in chunk]
            merged = _merge_blocks(results)
            yield _finish_tables(merged, w0 + T - 1)
            if bar is not None:
                bar.update(1)
    finally:
        if pool is not None:
            pool.shutdown()
        if bar is not None:
            bar.close()


def _merge_blocks(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("states", "persons", "hidden", "potential"):
        out[key] = pd.concat([r[key] for r in results], ignore_index=True)
    out["events"] = {
        name: {
            c: np.concatenate([np.asarray(r["events"][name][c]) for r in results])
            for c in results[0]["events"][name].columns
        }
        for name in _EVENT_NAMES
    }
    return out


def _att_table(potential: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for k in TREATMENTS:
        sub = potential[potential["treatment"] == k]
        for h in HORIZONS:
            ok = sub[f"y1_{h}"].notna()
            d = (sub.loc[ok, f"y1_{h}"] - sub.loc[ok, f"y0_{h}"]).to_numpy(dtype=float)
            n = len(d)
            rows.append(
                {
                    "treatment": k,
                    "horizon_weeks": h,
                    "att": float(d.mean()) if n else float("nan"),
                    "se": float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
                    "n_treated": n,
                    "mean_treated": float(sub.loc[ok, f"y1_{h}"].mean()) if n else float("nan"),
                    "mean_counterfactual": float(sub.loc[ok, f"y0_{h}"].mean()) if n else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def _meta(cfg: SynthConfig, seed: int, n_persons: int, years: int, start_year: int, att_persons: int) -> dict:
    w0, T = _window(start_year, years)
    return {
        "generator": "evaltools.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "n_persons": int(n_persons),
        "years": int(years),
        "start_year": int(start_year),
        "first_week": w0,
        "last_week": w0 + T - 1,
        "burn_in_weeks": E.burn_in_weeks(cfg, start_year),
        "block_size": E.BLOCK_SIZE,
        "att_persons": int(min(att_persons, n_persons)),
        "synthetic": True,
        "config": json.loads(json.dumps(cfg.to_dict(), default=list)),
    }


def generate(
    config: SynthConfig | None = None,
    *,
    seed: int,
    n_persons: int = 20_000,
    years: int = 5,
    start_year: int = 2008,
    chunk_size: int = 65_536,
    att: bool | int = True,
    n_jobs: int = 1,
    progress: bool = False,
) -> SynthResult:
    """Generate a synthetic register panel with known causal effects.

    Parameters
    ----------
    config : SynthConfig, optional
        Generator parameters (default: ``SynthConfig()``).
    seed : int
        Master seed; the output is a deterministic function of ``(config, seed,
        n_persons, years, start_year)`` whatever ``chunk_size`` and ``n_jobs``.
    n_persons : int, default=20_000
        Number of persons.
    years : int, default=5
        Length of the observation window in ISO years.
    start_year : int, default=2008
        First ISO year of the window.
    chunk_size : int, default=65_536
        Persons per chunk (rounded down to whole blocks of 4,096); bounds memory.
    att : bool or int, default=True
        Simulate counterfactual paths for the true ATTs: ``True`` for all persons,
        an int for the first that many persons (rounded up to whole blocks;
        the ATT is a population quantity, so a 100k subsample is plenty), ``False``
        for none (``truth.att`` is then empty).
    n_jobs : int, default=1
        Worker processes for the blocks of a chunk.
    progress : bool, default=False
        Show a tqdm progress bar over chunks.

    Returns
    -------
    SynthResult

    Examples
    --------
    >>> from evaltools.synth import generate
    >>> res = generate(seed=1, n_persons=2_000, years=2)
    >>> res.panel.n_persons
    2000
    """
    cfg = config if config is not None else SynthConfig()
    _check_args(n_persons, years, start_year, chunk_size, seed)
    att_persons = n_persons if att is True else (0 if att is False else int(att))
    parts = list(
        _iter_chunks(cfg, seed, n_persons, years, start_year, chunk_size, att_persons, n_jobs, progress)
    )
    states = pd.concat([c["states"] for c in parts], ignore_index=True)
    persons = pd.concat([c["persons"] for c in parts], ignore_index=True)
    events = {k: pd.concat([c["events"][k] for c in parts], ignore_index=True) for k in _EVENT_NAMES}
    hidden = pd.concat([c["hidden"] for c in parts], ignore_index=True)
    potential = pd.concat([c["potential"] for c in parts], ignore_index=True)
    meta = _meta(cfg, seed, n_persons, years, start_year, att_persons)
    panel = RegisterPanel(states=states, persons=persons, events=events, meta=meta)
    truth_meta = {k: meta[k] for k in meta if k != "config"} | {"estimand": ESTIMAND}
    truth = Truth(structural_effects(cfg), _att_table(potential), truth_meta)
    return SynthResult(panel=panel, truth=truth, hidden=hidden, potential=potential, config=cfg)


def generate_to_disk(
    out: str | Path,
    config: SynthConfig | None = None,
    *,
    seed: int,
    n_persons: int,
    years: int = 5,
    start_year: int = 2008,
    chunk_size: int = 65_536,
    att: bool | int = 100_000,
    n_jobs: int = 1,
    progress: bool = False,
) -> Path:
    """Generate chunk by chunk straight into a partitioned panel store (one partition per chunk).

    Memory stays bounded by one chunk; the store is written with
    :class:`~evaltools.data.PanelStoreWriter` (a temporary sibling folder renamed
    on success, replacing an earlier panel at ``out``).  Besides the panel
    files the directory gets
    ``truth.json`` (the :class:`Truth`), ``hidden/het_type.parquet`` (the
    unobserved types) and ``hidden/potential.parquet`` (the simulated potential
    outcomes of every treated person, :attr:`SynthResult.potential`, for
    :func:`~evaltools.synth.att_for_sample`); the hidden files are kept apart
    from the panel.  Parameters are as in
    :func:`generate`; ``att`` defaults to the first 100,000 persons.

    Returns
    -------
    Path
        The directory written; read it with :func:`evaltools.data.store.read_panel`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from evaltools.data.store import PanelStoreWriter

    cfg = config if config is not None else SynthConfig()
    _check_args(n_persons, years, start_year, chunk_size, seed)
    att_persons = n_persons if att is True else (0 if att is False else int(att))
    meta = _meta(cfg, seed, n_persons, years, start_year, att_persons)
    codes = default_codes()
    dest = Path(out)
    potentials = []
    with PanelStoreWriter(dest, codes=codes, meta=meta, overwrite=True) as store:
        (store.staging / "hidden").mkdir()
        hidden: pq.ParquetWriter | None = None
        try:
            for c in _iter_chunks(
                cfg, seed, n_persons, years, start_year, chunk_size, att_persons, n_jobs, progress
            ):
                store.append(
                    RegisterPanel(
                        states=c["states"], persons=c["persons"], events=c["events"], codes=codes, meta=meta
                    )
                )
                table = pa.Table.from_pandas(c["hidden"], preserve_index=False)
                if hidden is None:
                    hidden = pq.ParquetWriter(store.staging / "hidden" / "het_type.parquet", table.schema)
                hidden.write_table(table)
                potentials.append(c["potential"])
        finally:
            if hidden is not None:
                hidden.close()
        pot = pd.concat(potentials, ignore_index=True)
        pot.to_parquet(store.staging / "hidden" / "potential.parquet", index=False, compression="zstd")
        truth_meta = {k: meta[k] for k in meta if k != "config"} | {"estimand": ESTIMAND}
        Truth(structural_effects(cfg), _att_table(pot), truth_meta).to_json(store.staging / "truth.json")
    return dest
