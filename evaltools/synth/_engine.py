"""Weekly discrete-time simulation of one block of persons (the generator's engine).

The simulation is vectorised over the persons of a block and loops over weeks
only.  Every random number comes from the block's own generator in a fixed
order: person attributes first, then one ``(n, N_CHANNELS)`` array of uniforms
per week whatever the state of the persons.  Re-running a block with a
programme switched off therefore uses exactly the same draws (common random
numbers), which is how the counterfactual paths behind the true ATTs are made.

Burn-in: the weekly loop starts ``SynthConfig.burn_in_years`` ISO years before
the observation window, from a rough initial state, so that the stocks on each
benefit, the elapsed durations of spells in progress, exhausted a-dagpenge
entitlements, the førtidspension stock and programme histories at the window
start come from the model's own dynamics.  Nothing is censored during the
burn-in (the persons are a sample of the population present at the window
start); codes and point events of the burn-in are not kept, and programme,
mentor and benefit spells in progress at the window start are kept with their
start clipped to the first window week (benefit spells keep their true start
in ``spell_start_week`` of the assessment table).  Programme and mentor switches
of the counterfactual runs act in the window only; they resume from a snapshot
of the factual run taken at the window start (state and random-number stream),
so the burn-in is simulated once per block.

Population: the persons present at the window start, refugees/family-reunified
persons arriving during the window, and persons turning 16 during the window
(``SynthConfig.entrants_per_year``), who replace those leaving at 65 (birthdays are
spread over the year), by death or emigration.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaltools.data.weeks import index_to_isoweek, isoweek_to_index
from evaltools.synth.config import MUNICIPALITIES, PROGRAMMES, SynthConfig

__all__ = ["BLOCK_SIZE", "BlockOutput", "draw_persons", "simulate_block", "MENTOR_SWITCH", "burn_in_weeks"]

#: Persons per RNG block; output is identical for any chunking made of whole blocks.
BLOCK_SIZE = 4096
#: Value of ``disabled`` that switches mentor starts off.
MENTOR_SWITCH = len(PROGRAMMES) + 1
N_CHANNELS = 20
#: ``arrival`` of persons who are not immigrants (week indices before 1990 are negative).
NO_ARRIVAL = -(2**40)

# engine states
JOB, EDU, DP, KH, IY, SDP, FOEP, GONE, WAIT = range(9)
BENEFIT_STATES = (DP, KH, IY, SDP)
_BENEFIT_NAME = {DP: "adagpenge", KH: "kontanthjaelp", IY: "integrationsydelse", SDP: "sygedagpenge"}

# code of each (state, programme) pair; 0 = no code (self-supporting)
_CODE = np.zeros((9, len(PROGRAMMES) + 1), dtype=np.int16)
_CODE[EDU, :] = 651
_CODE[DP, :] = (111, 112, 113, 112, 114, 114)
_CODE[KH, :] = (701, 702, 703, 705, 706, 704)
_CODE[IY, :] = (721, 722, 723, 725, 724, 724)
_CODE[SDP, :] = 890
_CODE[FOEP, :] = 783
# public support states (the ``support_weeks_prior5y`` history)
_PUBLIC = np.zeros(9, dtype=np.int64)
_PUBLIC[[DP, KH, IY, SDP, FOEP]] = 1

MENTOR_REASONS = (
    "support_activity",
    "guidance_work_tasks",
    "clarify_resources",
    "personal_social",
    "retention_job",
    "education_support",
    "other",
)
_REASON_HOURS = np.array([3.5, 3.4, 4.3, 6.8, 3.4, 3.8, 4.0])
# reason choice weights by mentor context: company placement, special course, passive, retention
_REASON_MIX = np.array(
    [
        [0.56, 0.22, 0.10, 0.08, 0.0, 0.0, 0.04],
        [0.45, 0.02, 0.22, 0.26, 0.0, 0.0, 0.05],
        [0.10, 0.00, 0.35, 0.40, 0.0, 0.0, 0.15],
        [0.00, 0.10, 0.00, 0.05, 0.55, 0.30, 0.00],
    ]
).cumsum(axis=1)
SANCTION_KINDS = ("missed_interview", "refused_offer")
MIGRANT_STATUS = ("none", "refugee", "family_reunified", "other_immigrant", "descendant")
EDUCATION = ("basic", "vocational", "higher")
ORIGIN = ("danish", "western", "non_western")


@dataclass
class PersonDraws:
    """Person attributes of one block (engine arrays, not yet labelled)."""

    muni: np.ndarray
    origin: np.ndarray
    migrant: np.ndarray
    arrival: np.ndarray  # week index (may be negative: before 1990); NO_ARRIVAL = not an immigrant
    female: np.ndarray
    birth_year: np.ndarray
    education: np.ndarray
    insured: np.ndarray
    het: np.ndarray
    hist: np.ndarray  # drawn benefit history in weeks (of 260); drives the hazards with ``prop``
    birth_frac: np.ndarray  # time of birth within the birth year (fraction of a year; not published)
    entry: np.ndarray  # week of the 16th birthday of persons entering in the window; NO_ARRIVAL = none
    prop: np.ndarray  # benefit propensity in weeks (drives the hazards): hist, or a draw for entrants


@dataclass
class BlockOutput:
    """Everything one simulation run of a block produces."""

    codes: np.ndarray | None  # (T, n) int16
    obs_start: np.ndarray
    obs_end: np.ndarray
    events: dict[str, dict[str, np.ndarray]] | None
    first_start: np.ndarray  # (n, P + 1) first programme/mentor start (t index, -1 = never)
    selfsup_cum: np.ndarray  # (T + 1, n) cumulative weeks self-supporting
    snapshot: dict[str, Any] | None = None  # state and RNG state at the window start (factual run)
    support_prior: np.ndarray | None = None  # weeks on public support in the 260 weeks before the window


def burn_in_weeks(cfg: SynthConfig, year0: int) -> int:
    """Number of burn-in weeks simulated before the window starting in ISO year ``year0``."""
    if cfg.burn_in_years <= 0:
        return 0
    return int(isoweek_to_index(year0, 1) - isoweek_to_index(year0 - cfg.burn_in_years, 1))


def _cat(rng_u: np.ndarray, cum: np.ndarray) -> np.ndarray:
    return np.minimum((rng_u[:, None] >= cum[None, :]).sum(axis=1), len(cum) - 1)


def draw_persons(
    rng: np.random.Generator, n: int, cfg: SynthConfig, w0: int, T: int, year0: int
) -> PersonDraws:
    """Draw the person attributes of a block (fixed order and sizes)."""
    mw = np.array([m[3] for m in MUNICIPALITIES])
    muni = _cat(rng.random(n), np.cumsum(mw / mw.sum()))
    nw_share = np.array([m[2] for m in MUNICIPALITIES])[muni]
    u = rng.random(n)
    p_nw = np.minimum(0.5, 1.3 * nw_share + 0.04)
    origin = np.where(u < p_nw, 2, np.where(u < p_nw + 0.05, 1, 0)).astype(np.int8)
    u = rng.random(n)
    mig_nw = _cat(u, np.cumsum([0.0, 0.38, 0.24, 0.14, 0.24]))
    mig_w = np.where(u < 0.8, 3, 4)
    migrant = np.where(origin == 2, mig_nw, np.where(origin == 1, mig_w, 0)).astype(np.int8)
    u = rng.random(n)
    u2 = rng.random(n)
    is_fam_ref = (migrant == 1) | (migrant == 2)
    arrival = np.where(
        (migrant >= 1) & (migrant <= 3),
        np.where(is_fam_ref & (u < cfg.share_arrivals), w0 + np.floor(u2 * T), w0 - 1 - np.floor(u2 * 600)),
        NO_ARRIVAL,
    ).astype(np.int64)
    female = rng.random(n) < 0.47
    u = rng.random(n)
    # year0 - birth_year in 16..65 (the oldest turn 65 during the first window year)
    age = np.where(u < 0.25, 16 + 14 * rng.random(n), 30 + 36 * rng.random(n) ** 1.15)
    arrivals_in = arrival >= w0
    age = np.where(arrivals_in, 18 + 27 * rng.random(n), age)
    birth_year = (year0 - np.floor(age)).astype(np.int16)
    u = rng.random(n)
    edu_cum = np.where(origin[:, None] == 2, [[0.55, 0.80, 1.0]], [[0.32, 0.76, 1.0]])
    education = np.minimum((u[:, None] >= edu_cum).sum(axis=1), 2).astype(np.int8)
    insured = rng.random(n) < np.where(education == 0, 0.45, 0.78) * np.where(origin == 2, 0.65, 1.0)
    insured &= ~arrivals_in
    het = _cat(rng.random(n), np.cumsum(cfg.het_probs)).astype(np.int8)
    a = np.array([2.7, 1.1, 0.45])[het]
    b = np.array([0.65, 1.1, 1.6])[het]
    hist = np.floor(260 * rng.beta(a, b))
    hist0 = hist
    young = (year0 - birth_year) < 21
    hist = np.where(young, np.floor(hist * 0.4), hist)
    hist = np.where(arrivals_in | (arrival > w0 - 260), 0, hist).astype(np.int16)
    birth_frac = rng.random(n)
    # open population: persons turning 16 in the window enter it (they replace the cohorts that
    # leave at 65, by death or emigration, so the stocks do not drift down with an ageing closed cohort)
    u = rng.random(n)
    u2 = rng.random(n)
    entrant = (arrival == NO_ARRIVAL) & (u < cfg.entrants_per_year * T / 52.1775)  # not immigrants
    entry = np.where(entrant, w0 + np.floor(u2 * T), NO_ARRIVAL).astype(np.int64)
    born = year0 - 16 + (entry - w0 + 0.5) / 52.1775  # birth time in years
    birth_year = np.where(entrant, np.floor(born), birth_year).astype(np.int16)
    birth_frac = np.where(entrant, born - np.floor(born), birth_frac)
    # entrants have no history yet; their benefit propensity (the hazard driver) is that of young persons
    prop = np.where(entrant, np.floor(hist0 * 0.4), hist).astype(np.int16)
    hist = np.where(entrant, 0, hist).astype(np.int16)
    return PersonDraws(
        muni,
        origin,
        migrant,
        arrival,
        female,
        birth_year,
        education,
        insured,
        het,
        hist,
        birth_frac,
        entry,
        prop,
    )


class _Recorder:
    """Collect event rows week by week as arrays (concatenated at the end)."""

    def __init__(self, names: dict[str, tuple[str, ...]]) -> None:
        self.cols = names
        self.parts: dict[str, dict[str, list[np.ndarray]]] = {k: {c: [] for c in v} for k, v in names.items()}

    def add(self, name: str, **cols: np.ndarray | int) -> None:
        n = None
        for v in cols.values():
            if isinstance(v, np.ndarray):
                n = len(v)
                break
        if not n:
            return
        for c, v in cols.items():
            self.parts[name][c].append(np.broadcast_to(np.asarray(v), (n,)).copy())

    def finish(self) -> dict[str, dict[str, np.ndarray]]:
        out = {}
        for name, cols in self.parts.items():
            out[name] = {
                c: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for c, v in cols.items()
            }
        return out


def simulate_block(
    seed_seq: np.random.SeedSequence,
    n: int,
    cfg: SynthConfig,
    w0: int,
    T: int,
    year0: int,
    *,
    disabled: int = 0,
    record: bool = True,
    resume: dict[str, Any] | None = None,
) -> tuple[PersonDraws, BlockOutput]:
    """Simulate ``n`` persons over weeks ``w0 .. w0 + T - 1`` (after the burn-in).

    Parameters
    ----------
    seed_seq : SeedSequence
        The block's seed sequence (the same for factual and counterfactual runs).
    n : int
        Persons in the block.
    cfg : SynthConfig
        Parameters.
    w0, T, year0 : int
        First week index, number of weeks, and the ISO year of ``w0``.
    disabled : int, default=0
        0 = factual world; 1..P switches programme ``PROGRAMMES[disabled-1]`` off
        (its starts do not happen); ``MENTOR_SWITCH`` switches mentor starts off.
    record : bool, default=True
        Record codes and event tables (off for counterfactual runs).  A recording
        run also returns ``BlockOutput.snapshot``, the state at the window start.
    resume : dict, optional
        A snapshot of the factual run of the same block (same ``seed_seq``, ``cfg``,
        window): start at the window start from that state instead of re-simulating
        the burn-in.  The switches in ``disabled`` act in the window only.

    Returns
    -------
    (PersonDraws, BlockOutput)
    """
    rng = np.random.Generator(np.random.PCG64(seed_seq))
    p = draw_persons(rng, n, cfg, w0, T, year0)
    P = len(PROGRAMMES)
    idx_all = np.arange(n)
    # ---- fixed per-person multipliers -------------------------------------------------
    unemp = np.array([m[1] for m in MUNICIPALITIES])[p.muni]
    het_exit = np.asarray(cfg.het_exit)[p.het]
    het_prog = np.asarray(cfg.het_programme)[p.het]
    tilt = np.asarray(cfg.het_company_tilt)[p.het]
    het_sanc = np.asarray(cfg.het_sanction)[p.het]
    het_ment = (
        np.asarray(cfg.het_mentor)[p.het]
        * np.where(p.female, 1.0, 1.3)
        * np.where(p.origin == 2, 2.8, 1.0)
        * np.where((year0 - p.birth_year) < 29, 9.0, 1.0)
        * (0.05 + 2.5 * (p.prop / 260.0) ** 2.2)
    )
    ment_ready = np.array([1.0, 1.0, 0.38, 0.05])
    mcap = cfg.mentor_max_weeks
    het_in = np.asarray(cfg.het_inflow)[p.het]
    hist_share = p.prop / 260.0
    lockin = np.array([1.0] + [cfg.lockin[k] for k in PROGRAMMES])
    post = np.array([1.0] + [cfg.post[k] for k in PROGRAMMES])
    sanc_upper = np.array([b[0] for b in cfg.sanction_effect])
    sanc_mult = np.array([b[1] for b in cfg.sanction_effect] + [1.0])
    exit_job_b = np.zeros(9)
    exit_sick_b = np.zeros(9)
    sanc_b = np.zeros(9)
    ment_b = np.zeros(9)
    for s, name in _BENEFIT_NAME.items():
        exit_job_b[s] = cfg.exit_job[name]
        exit_sick_b[s] = cfg.exit_sick.get(name, 0.0)
        sanc_b[s] = cfg.sanction_hazard.get(name, 0.0)
        ment_b[s] = cfg.mentor_passive.get(name, 0.0)
    prog_h = np.zeros((9, 3))
    for s, name in ((DP, "adagpenge"), (KH, "kontanthjaelp"), (IY, "integrationsydelse")):
        prog_h[s] = cfg.programme_hazard[name]
    int_first = np.zeros((9, 2))
    for s, name in _BENEFIT_NAME.items():
        int_first[s] = cfg.interview_first[name]
    # programme mix rows: 0 DP, 1-3 KH match 1-3, 4 IY
    mix = np.array(
        [
            cfg.programme_mix[k]
            for k in (
                "adagpenge",
                "kontanthjaelp_match1",
                "kontanthjaelp_match2",
                "kontanthjaelp_match3",
                "integrationsydelse",
            )
        ]
    )
    dur_lo = np.array([0] + [cfg.programme_duration[k][0] for k in PROGRAMMES])
    dur_hi = np.array([0] + [cfg.programme_duration[k][1] for k in PROGRAMMES])
    foep_r = np.array([0.0, cfg.exit_foep["match1"], cfg.exit_foep["match2"], cfg.exit_foep["match3"]])
    # age groups of the exit hazard use the current age (ISO year of the week minus birth year),
    # updated each ISO year: persons age into the 50+ group as the older cohorts leave at 65
    xb_fixed = (
        np.array([0.0, 0.10, 0.25])[p.education]
        - 0.25 * (p.origin == 2)
        - 0.05 * p.female
        - 0.08 * (unemp - 5.0)
        - 0.6 * hist_share
    )

    def _aged(iso_year: int) -> tuple[np.ndarray, np.ndarray]:
        age_now = iso_year - p.birth_year
        xb = xb_fixed + 0.15 * (age_now < 30) - 0.45 * (age_now >= 50)
        return np.exp(xb) * het_exit, np.exp(cfg.foep_age_slope * (age_now - 45.0))

    inflow_h = (
        cfg.inflow
        * het_in
        * np.exp(0.8 * hist_share + 0.1 * (unemp - 5.0) + 0.3 * (p.origin == 2) - 0.3 * (p.education == 2))
    )
    score_ready = (
        0.9 * (p.het.astype(float) - 1.0)
        + 0.4 * (p.education == 2)
        - 0.8 * hist_share
        + 0.2 * ((year0 - p.birth_year) < 30)
        - 0.3 * (p.origin == 2)
    )
    p_m1 = 1.0 / (1.0 + np.exp(-(score_ready - 0.15)))
    p_m3 = 1.0 / (1.0 + np.exp(score_ready + 2.3))
    # ---- initial state at the start of the burn-in ---------------------------------------------
    B = burn_in_weeks(cfg, year0)
    wb = w0 - B
    st = np.full(n, JOB, dtype=np.int8)
    u0 = rng.random((n, 5))
    age_b = (year0 - p.birth_year) - B / 52.1775
    arrived_before = (p.arrival != NO_ARRIVAL) & (p.arrival < wb)
    on_ben = u0[:, 0] < np.minimum(0.95, cfg.share_on_benefit_at_start * (0.2 + 2.0 * hist_share))
    on_ben &= age_b >= 18
    young = age_b < 25
    st = np.where(young & (u0[:, 1] < 0.25), EDU, st)
    # elapsed durations up to the drawn history; insured persons beyond the 104 weeks are on kontanthjælp
    dur0 = np.floor(u0[:, 3] * p.hist).astype(np.int32)
    dp_ok = p.insured & (dur0 < cfg.dp_max_weeks)
    st = np.where(on_ben, np.where(u0[:, 1] < 0.08, SDP, np.where(dp_ok, DP, KH)), st)
    in_integration = arrived_before & (wb - p.arrival < cfg.integration_weeks) & (u0[:, 2] < 0.85)
    st = np.where(in_integration, IY, st)
    # førtidspension stock: prevalence rising with benefit history and age (absorbing state)
    p_foep = (
        cfg.foep_at_burn_in * hist_share**2 * np.clip((age_b - 20.0) / 25.0, 0.0, 2.0) ** cfg.foep_age_power
    )
    st = np.where(~in_integration & (u0[:, 4] < p_foep), FOEP, st)
    st = np.where((p.arrival >= wb) | (p.entry >= w0), WAIT, st).astype(np.int8)
    on_ben = np.isin(st, (DP, KH, SDP))
    dur = np.where(on_ben, np.where(st == SDP, np.minimum(dur0, 52), dur0), 0).astype(np.int32)
    dur = np.where(in_integration, wb - p.arrival, dur).astype(np.int32)
    spell_start = (wb - dur).astype(np.int64)
    readiness = np.where(u0[:, 2] < p_m1, 1, np.where(u0[:, 2] > 1 - p_m3, 3, 2)).astype(np.int8)
    readiness = np.where(st == DP, np.where(u0[:, 2] < 0.9, 1, 2), readiness).astype(np.int8)
    prog = np.zeros(n, dtype=np.int8)
    prog_left = np.zeros(n, dtype=np.int32)
    prog_start = np.zeros(n, dtype=np.int64)
    post_prog = np.zeros(n, dtype=np.int8)
    since_sanc = np.full(n, 10**6, dtype=np.int64)
    ment_left = np.zeros(n, dtype=np.int32)
    interviewed = dur > 13
    dp_used = np.where(st == DP, dur, 0).astype(np.int32)
    # simulated weeks on public support in the 260 weeks before the window: the part before the burn-in
    # from the drawn history (at least the elapsed part of the spell in progress), the burn-in as simulated
    pre = max(260 - B, 0)
    support_prior = np.where(
        st == FOEP, pre, np.maximum(np.round(p.hist * pre / 260.0), np.minimum(dur * on_ben, pre))
    )
    support_prior = np.where(st == WAIT, 0, support_prior).astype(np.int64)
    t_begin = -B
    if resume is not None:
        rng.bit_generator.state = copy.deepcopy(resume["rng"])
        st, dur, spell_start, readiness = (
            resume[k].copy() for k in ("st", "dur", "spell_start", "readiness")
        )
        prog, prog_left, prog_start, post_prog = (
            resume[k].copy() for k in ("prog", "prog_left", "prog_start", "post_prog")
        )
        since_sanc, ment_left, interviewed, dp_used = (
            resume[k].copy() for k in ("since_sanc", "ment_left", "interviewed", "dp_used")
        )
        t_begin = 0
    snapshot: dict[str, Any] | None = None
    obs_start = np.where(p.arrival >= w0, p.arrival, np.where(p.entry >= w0, p.entry, w0)).astype(np.int64)
    obs_end = np.full(n, w0 + T - 1, dtype=np.int64)
    first_start = np.full((n, P + 1), -1, dtype=np.int32)
    selfsup = np.zeros((T + 1, n), dtype=np.int16)
    codes = np.zeros((T, n), dtype=np.int16) if record else None
    rec = _Recorder(
        {
            "activation": ("person_id", "week", "end_week", "kind"),
            "mentor": ("person_id", "week", "dur", "hours", "internal", "reason", "price"),
            "interview": ("person_id", "week", "first"),
            "offer": ("person_id", "week", "kind"),
            "sanction": ("person_id", "week", "kind"),
            "assessment": ("person_id", "week", "end_week", "benefit", "readiness"),
        }
    )
    # 65th birthday spread over the birth year (a common week per birth year made yearly spikes of 999)
    age65_week = (w0 + np.floor((p.birth_year + 65 - year0 + p.birth_frac) * 52.1775)).astype(np.int64)
    # benefits (and mentors) from the 18th birthday: kontanthjælp and a-dagpenge need age 18
    age18_week = (w0 + np.floor((p.birth_year + 18 - year0 + p.birth_frac) * 52.1775)).astype(np.int64)
    iso_year = index_to_isoweek(np.arange(w0 + t_begin, w0 + T))[0]
    death_h = 0.00002 * np.exp(0.09 * (year0 - p.birth_year - 40.0))
    emig_h = np.where(p.origin > 0, cfg.emigration_immigrant, cfg.emigration)
    is_young30 = (year0 - p.birth_year) < 30
    edu_h = np.where(is_young30, cfg.exit_edu_young, cfg.exit_edu_other) * np.sqrt(het_exit)

    def end_spells(who: np.ndarray, wk: int) -> None:
        if not record or not who.any():
            return
        i = idx_all[who & np.isin(st, BENEFIT_STATES) & (spell_start <= wk)]
        rec.add(
            "assessment",
            person_id=i,
            week=spell_start[i],
            end_week=np.maximum(spell_start[i], wk),
            benefit=st[i],
            readiness=readiness[i],
        )

    def end_programmes(who: np.ndarray, wk: int) -> None:
        i = idx_all[who & (prog > 0)]
        if record and len(i):
            rec.add(
                "activation",
                person_id=i,
                week=prog_start[i],
                end_week=np.maximum(prog_start[i], wk),
                kind=prog[i],
            )

    for t in range(t_begin, T):
        wk = w0 + t
        window = t >= 0
        if t == 0 and record and resume is None:
            snapshot = {
                "rng": copy.deepcopy(rng.bit_generator.state),
                "st": st.copy(),
                "dur": dur.copy(),
                "spell_start": spell_start.copy(),
                "readiness": readiness.copy(),
                "prog": prog.copy(),
                "prog_left": prog_left.copy(),
                "prog_start": prog_start.copy(),
                "post_prog": post_prog.copy(),
                "since_sanc": since_sanc.copy(),
                "ment_left": ment_left.copy(),
                "interviewed": interviewed.copy(),
                "dp_used": dp_used.copy(),
            }
        off = disabled if window else 0  # switches act in the window only
        if t == t_begin or iso_year[t - t_begin] != iso_year[t - t_begin - 1]:
            base_exit, foep_age = _aged(int(iso_year[t - t_begin]))
        U = rng.random((n, N_CHANNELS), dtype=np.float32)
        # 1. arrivals (start on integrationsydelse)
        arr = (st == WAIT) & (p.arrival == wk)
        if arr.any():
            st[arr] = IY
            dur[arr] = 0
            spell_start[arr] = wk
            interviewed[arr] = False
            readiness[arr] = np.where(U[arr, 14] < p_m1[arr], 1, np.where(U[arr, 14] > 1 - p_m3[arr], 3, 2))
        ent = (st == WAIT) & (p.entry == wk)  # 16th birthday: enters self-supporting (no code)
        st[ent] = JOB
        # 2. censoring: emigration 997, death 998, age 65 999 (independent of the state: same in all worlds)
        alive = (st != GONE) & (st != WAIT) & window  # nobody leaves during the burn-in
        c65 = alive & (wk >= age65_week)
        cdeath = alive & ~c65 & (U[:, 13] < death_h)
        cemig = alive & ~c65 & ~cdeath & (U[:, 13] > 1.0 - emig_h)
        cens = c65 | cdeath | cemig
        if cens.any():
            end_programmes(cens, wk - 1)
            end_spells(cens, wk - 1)
            obs_end[cens] = wk
            st[cens] = GONE
            prog[cens] = 0
        ben = np.isin(st, (DP, KH, IY))
        # 3. interviews
        onb = ben | (st == SDP)
        band = np.where(dur <= 4, 0, 1)
        h_int = np.where(interviewed, cfg.interview_followup, int_first[st, band])
        iv = onb & (U[:, 12] < h_int)
        if record and window and iv.any():
            i = idx_all[iv]
            rec.add("interview", person_id=i, week=wk, first=~interviewed[i])
        interviewed |= iv
        # 4. programme starts
        pband = np.where(dur <= 4, 0, np.where(dur <= 13, 1, 2))
        r_mult = np.array([1.0, 1.0, 0.9, 0.35])[readiness]
        h_prog = prog_h[st, pband] * het_prog * r_mult
        cand = ben & (prog == 0) & (U[:, 4] < h_prog)
        if cand.any():
            i = idx_all[cand]
            row = np.where(st[i] == DP, 0, np.where(st[i] == IY, 4, readiness[i]))
            w = mix[row].copy()
            w[:, 0] *= tilt[i]
            w[:, 1] *= tilt[i]
            cw = np.cumsum(w, axis=1)
            kind = 1 + np.minimum((U[i, 5][:, None] * cw[:, -1:] >= cw).sum(axis=1), P - 1)
            ok = kind != off
            i, kind = i[ok], kind[ok]
            d = dur_lo[kind] + np.floor(U[i, 6] * (dur_hi[kind] - dur_lo[kind] + 1)).astype(np.int32)
            prog[i] = kind
            prog_left[i] = d
            prog_start[i] = wk
            if window:
                fs = first_start[i, kind - 1]
                first_start[i, kind - 1] = np.where(fs < 0, t, fs)
            if record and window:
                rec.add("offer", person_id=i, week=wk, kind=kind)
            # mentors attached to the programme (internal)
            company = kind <= 3
            pm = np.where(company, cfg.mentor_at_company, cfg.mentor_at_course * (kind == 4))
            pm = pm * het_ment[i] * ment_ready[readiness[i]] * np.where(st[i] == DP, 0.06, 1.0)
            pm = cfg.mentor_internal_max * -np.expm1(-pm / cfg.mentor_internal_max)  # overlap: < max
            mstart = (ment_left[i] == 0) & (U[i, 8] < pm) & (off != MENTOR_SWITCH)
            if mstart.any():
                j = i[mstart]
                ctx = np.where(company[mstart], 0, 1)
                dm = np.maximum(2, np.round(d[mstart] * (0.4 + 1.3 * U[j, 10]))).astype(np.int32)
                _start_mentor(rec, record, j, wk, dm, True, ctx, U, ment_left, first_start, t, P, mcap)
        # 5. passive mentors (external)
        pm = ment_b[st] * het_ment * ment_ready[readiness]
        mp = onb & (prog == 0) & (ment_left == 0) & (U[:, 8] < pm) & (off != MENTOR_SWITCH)
        if mp.any():
            j = idx_all[mp]
            d = (4 + np.floor(U[j, 10] * 27)).astype(np.int32)
            _start_mentor(
                rec, record, j, wk, d, False, np.full(len(j), 2), U, ment_left, first_start, t, P, mcap
            )
        # 6. sanctions
        sc = ben & (U[:, 7] < sanc_b[st] * het_sanc)
        if sc.any():
            since_sanc[sc] = 0
            if record and window:
                i = idx_all[sc]
                kind_s = (U[i, 7] < 0.5 * sanc_b[st[i]] * het_sanc[i]).astype(np.int8)
                rec.add("sanction", person_id=i, week=wk, kind=kind_s)
        # 7. record this week's code and self-support
        if record and not window and t >= -260:
            support_prior += _PUBLIC[st]
        if window and codes is not None:  # codes is allocated exactly when recording
            codes[t] = _CODE[st, prog]
            if cens.any():
                codes[t, cemig] = 997
                codes[t, cdeath] = 998
                codes[t, c65] = 999
        if window:
            selfsup[t + 1] = selfsup[t] + ((st == JOB) | (st == EDU))
        # 8. transitions at the end of the week -----------------------------------------------
        s_idx = np.searchsorted(sanc_upper, since_sanc, side="right")
        eff = np.where(prog > 0, lockin[prog], post[post_prog]) * sanc_mult[s_idx]
        mentor_on = ment_left > 0
        eff = eff * np.where(mentor_on, cfg.mentor_job_effect, 1.0)
        dd = (1.0 + dur / 26.0) ** -0.35
        r_exit = np.array([1.0, 1.0, 0.6, 0.3])[readiness]
        h_job = np.where(ben, exit_job_b[st] * dd * base_exit * r_exit * eff, 0.0)
        h_job = np.where(st == SDP, exit_job_b[SDP] * dd * np.sqrt(base_exit), h_job)
        h_edu = np.where(ben, edu_h * np.where(mentor_on, cfg.mentor_edu_effect, 1.0), 0.0)
        h_sick = np.where(ben, exit_sick_b[st], 0.0)
        h_foep = np.where(ben & (st != DP), foep_r[readiness], 0.0)
        h_foep = np.where((st == SDP) & (dur > 26), cfg.exit_foep["sygedagpenge"], h_foep) * foep_age
        h_kh = np.where(st == SDP, 0.004, 0.0)
        H = np.stack([h_job, h_edu, h_sick, h_foep, h_kh], axis=1)
        Hc = np.cumsum(H, axis=1)
        tot = np.minimum(Hc[:, -1], 0.95)
        ex = onb & (U[:, 0] < tot)
        dest = np.minimum((U[:, 1][:, None] * Hc[:, -1:] >= Hc).sum(axis=1), 4)
        # self-supporting persons
        inflow = (st == JOB) & (U[:, 2] < inflow_h) & (wk >= age18_week)
        to_edu_from_job = (st == JOB) & ~inflow & is_young30 & (U[:, 2] > 1.0 - 0.0015)
        edu_out = (st == EDU) & (U[:, 2] < cfg.edu_exit)
        edu_kh = (st == EDU) & ~edu_out & (U[:, 2] > 1.0 - 0.002) & (wk >= age18_week)
        # programme bookkeeping: completions and ends by exit
        prog_left = np.where(prog > 0, prog_left - 1, prog_left)
        done = (prog > 0) & (prog_left <= 0) & ~ex
        end_programmes(done | (ex & (prog > 0)), wk)
        post_prog = np.where(done, prog, post_prog).astype(np.int8)
        prog = np.where(done | ex, 0, prog).astype(np.int8)
        ment_left = np.maximum(ment_left - 1, 0)
        since_sanc += 1
        dur += 1
        dp_used = np.where(st == DP, dp_used + 1, dp_used)
        # retention mentors at exit to job/education
        exit_ok = ex & (dest <= 1)
        rm = exit_ok & (ment_left == 0) & (U[:, 9] < cfg.mentor_retention * het_ment)
        if off != MENTOR_SWITCH and t + 1 < T and rm.any():
            j = idx_all[rm]
            d = (4 + np.floor(U[j, 10] * 13)).astype(np.int32)
            _start_mentor(
                rec,
                record,
                j,
                wk + 1,
                d,
                False,
                np.full(len(j), 3),
                U,
                ment_left,
                first_start,
                t + 1 if window else -1,
                P,
                mcap,
            )
        # new states
        new = st.copy()
        new = np.where(ex & (dest == 0), JOB, new)
        new = np.where(ex & (dest == 1), EDU, new)
        new = np.where(ex & (dest == 2), SDP, new)
        new = np.where(ex & (dest == 3), FOEP, new)
        new = np.where(ex & (dest == 4), KH, new)
        new = np.where(inflow, np.where(U[:, 3] < 0.15, SDP, np.where(p.insured, DP, KH)), new)
        new = np.where(to_edu_from_job, EDU, new)
        new = np.where(edu_out, JOB, new)
        new = np.where(edu_kh, KH, new)
        exhaust = (st == DP) & ~ex & (dp_used >= cfg.dp_max_weeks)
        new = np.where(exhaust, KH, new)
        int_end = (st == IY) & ~ex & (wk + 1 - p.arrival >= cfg.integration_weeks)
        new = np.where(int_end, KH, new)
        changed = new != st
        end_spells(changed, wk)
        ended_prog = changed & (prog > 0)
        end_programmes(ended_prog, wk)
        prog = np.where(changed, 0, prog).astype(np.int8)
        st = new.astype(np.int8)
        started = changed & np.isin(st, BENEFIT_STATES)
        if started.any():
            dur[started] = 0
            spell_start[started] = wk + 1
            interviewed[started] = False
            post_prog[started] = 0
            u = U[started, 14]
            rdy = np.where(u < p_m1[started], 1, np.where(u > 1 - p_m3[started], 3, 2))
            rdy = np.where(st[started] == DP, np.where(u < 0.9, 1, 2), rdy)
            readiness[started] = rdy
        reset_dp = changed & np.isin(st, (JOB, EDU))
        dp_used[reset_dp] = 0
    # window end: close open programmes and spells
    last = w0 + T - 1
    still = st != GONE
    end_programmes(still & (prog > 0), last)
    end_spells(still, last)
    events = _clip_to_window(rec.finish(), w0) if record else None
    # published history: the drawn history (which drives the hazards), raised where the simulated path
    # needs more weeks (a spell in progress since before the window, a førtidspension stock)
    published_prior = (
        np.where(obs_start > w0, 0, np.maximum(p.hist, np.minimum(support_prior, 260))) if record else None
    )
    return p, BlockOutput(codes, obs_start, obs_end, events, first_start, selfsup, snapshot, published_prior)


def _clip_to_window(ev: dict[str, dict[str, np.ndarray]], w0: int) -> dict[str, dict[str, np.ndarray]]:
    """Keep spell events that reach into the window; clip their first week to ``w0``.

    Benefit spells (``assessment``) keep their true start; the person-level clip to
    ``obs_start`` happens when the tables are labelled.
    """
    out = dict(ev)
    a = ev["activation"]
    keep = a["end_week"] >= w0
    out["activation"] = {c: v[keep] for c, v in a.items()}
    out["activation"]["week"] = np.maximum(out["activation"]["week"], w0)
    m = ev["mentor"]
    end = m["week"] + m["dur"] - 1
    keep = end >= w0
    out["mentor"] = {c: v[keep] for c, v in m.items()}
    start = np.maximum(m["week"][keep], w0)
    out["mentor"]["dur"] = (end[keep] - start + 1).astype(m["dur"].dtype)
    out["mentor"]["week"] = start
    s = ev["assessment"]
    keep = s["end_week"] >= w0
    out["assessment"] = {c: v[keep] for c, v in s.items()}
    return out


def _start_mentor(
    rec: _Recorder,
    record: bool,
    j: np.ndarray,
    wk: int,
    d: np.ndarray,
    internal: bool,
    ctx: np.ndarray,
    U: np.ndarray,
    ment_left: np.ndarray,
    first_start: np.ndarray,
    t: int,
    P: int,
    cap: int | None = None,
) -> None:
    if cap is not None and t >= 0:  # a policy of the window: burn-in spells are history
        d = np.minimum(d, cap).astype(d.dtype)
    ment_left[j] = d
    if t >= 0:  # mentor starts decided in the burn-in are history, not treatments in the window
        fs = first_start[j, P]
        first_start[j, P] = np.where(fs < 0, t, fs)
    if not record:
        return
    cum = _REASON_MIX[ctx]
    reason = np.minimum((U[j, 11][:, None] * cum[:, -1:] >= cum).sum(axis=1), len(MENTOR_REASONS) - 1)
    hours = np.round(_REASON_HOURS[reason] * (0.4 + 1.2 * U[j, 15]) * 2) / 2
    hours = np.maximum(hours, 1.0)
    price = np.where(internal, 200.0 + 200.0 * U[j, 16], 300.0 + 180.0 * U[j, 16]).round()
    rec.add("mentor", person_id=j, week=wk, dur=d, hours=hours, internal=internal, reason=reason, price=price)
