from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import isoweek_to_index

W0 = int(isoweek_to_index(2010, 1))  # Monday 4 January 2010


def make_panel(spells, persons, events=None):
    """spells: list of (person_id, code, first ISO week of 2010 (1-based), last week)."""
    rows = []
    for pid, code, a, b in spells:
        for k in range(a, b + 1):
            rows.append((pid, W0 + k - 1, code))
    states = pd.DataFrame(rows, columns=["person_id", "week", "state"])
    ev = {}
    for name, lst in (events or {}).items():
        t = pd.DataFrame(lst)
        t["week"] = W0 + t["week"] - 1
        t["end_week"] = t["week"]
        ev[name] = t
    return RegisterPanel(states=states, persons=pd.DataFrame(persons), events=ev)


def person(pid, muni, birth, start=1, end=52, **kw):
    return {
        "person_id": pid,
        "obs_start": W0 + start - 1,
        "obs_end": W0 + end - 1,
        "birth_year": birth,
        "municipality": muni,
        **kw,
    }


@pytest.fixture
def fte_panel():
    persons = [
        person(1, "A", 1980),
        person(2, "B", 1990),
        person(3, "A", 1940),  # aged 70: outside 16-66
        person(5, "B", 1985, start=3),  # no codes, observed from week 3
        person(6, "B", 1985),
    ]
    spells = [
        (1, "111", 1, 8),
        (1, "113", 9, 12),
        (2, "701", 1, 5),
        (2, "702", 6, 7),
        (3, "701", 1, 5),
        (6, "701", 1, 2),
        (6, "704", 3, 4),
    ]
    return make_panel(spells, persons)


def random_panel(seed=0, n=150, muni=("A", "B", "C")):
    rng = np.random.default_rng(seed)
    codes = ["111", "112", "113", "114", "701", "702", "703", "704", "721", "890", "651", "997"]
    persons, spells = [], []
    for pid in range(1, n + 1):
        start = int(rng.integers(1, 20))
        end = int(rng.integers(30, 105))
        persons.append(
            person(
                pid,
                str(rng.choice(muni)),
                int(rng.integers(1935, 2000)),
                start=start,
                end=end,
                origin=str(rng.choice(["danish", "non_western"])),
            )
        )
        w = start
        while w <= end:
            length = int(rng.integers(1, 12))
            if rng.random() < 0.6:
                spells.append((pid, str(rng.choice(codes)), w, min(end, w + length - 1)))
            w += length
    return make_panel(spells, persons)
