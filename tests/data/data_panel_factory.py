"""Random register panels for the data-layer tests (not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltools.data import RegisterPanel, isoweek_to_index

# codes used by the generator: passive/active benefits, SU, and the two absorbing kinds
ACTIVE = ["111", "112", "701", "702", "703", "704", "721", "890", "881", "651", "521"]
START_YEARS = (2003, 2004, 2008, 2009, 2014, 2015, 2019, 2020, 1998, 1992)


def random_panel(
    seed: int,
    n_persons: int = 12,
    n_weeks: int = 80,
    *,
    p_absorb: float = 0.15,
    with_events: bool = True,
    varying_window: bool = True,
    start_year: int | None = None,
) -> RegisterPanel:
    """Panel with runs of codes and blanks, week-53 years, absorbing ends and events."""
    rng = np.random.default_rng(seed)
    year = start_year if start_year is not None else START_YEARS[seed % len(START_YEARS)]
    lo = int(isoweek_to_index(year, 40))
    rows, persons, act, mentor = [], [], [], []
    ids = np.sort(rng.choice(np.arange(1, 10 * n_persons + 1), n_persons, replace=False)) * 1000 + 7
    for pid in ids.tolist():
        s = lo + (int(rng.integers(0, 10)) if varying_window else 0)
        e = lo + n_weeks - 1 - (int(rng.integers(0, 10)) if varying_window else 0)
        persons.append((pid, s, e, rng.choice(["M", "F"]), int(rng.integers(1950, 2000))))
        w = s
        while w <= e:
            run = int(rng.geometric(0.15))
            code = None if rng.random() < 0.35 else ACTIVE[int(rng.integers(len(ACTIVE)))]
            for ww in range(w, min(w + run, e + 1)):
                if code is not None:
                    rows.append((pid, ww, code))
            if code in ("701", "111") and rng.random() < 0.5 and with_events:
                t = w + int(rng.integers(0, run))
                if t <= e:
                    (mentor if rng.random() < 0.5 else act).append((pid, t, min(t + 3, e)))
            w += run
            if rng.random() < p_absorb / 5 and w <= e:
                absorb = "997" if rng.random() < 0.5 else "783"
                rows.extend((pid, ww, absorb) for ww in range(w, e + 1))
                break
    states = pd.DataFrame(rows, columns=["person_id", "week", "state"])
    pers = pd.DataFrame(persons, columns=["person_id", "obs_start", "obs_end", "sex", "birth_year"])
    events = {}
    if with_events:
        events = {
            "activation": pd.DataFrame(act, columns=["person_id", "week", "end_week"]).assign(kind="vp"),
            "mentor": pd.DataFrame(mentor, columns=["person_id", "week", "end_week"]),
        }
    return RegisterPanel(states=states, persons=pers, events=events, meta={"seed": seed})


def dense_states(panel: RegisterPanel) -> pd.DataFrame:
    """Brute-force dense person-week table (person_id, week, code or None), by Python loops."""
    lookup = {
        (p, w): s
        for p, w, s in panel.states[["person_id", "week", "state"]].astype(object).itertuples(index=False)
    }
    out = []
    for p, s, e in panel.persons[["person_id", "obs_start", "obs_end"]].itertuples(index=False):
        for w in range(int(s), int(e) + 1):
            out.append((int(p), w, lookup.get((int(p), w))))
    return pd.DataFrame(out, columns=["person_id", "week", "code"])
