"""Timing of the evaltools.data transforms on a synthetic panel.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_data_transforms.py --persons 20000 --weeks 260

The panel is a vectorised Markov chain over persons (loop over weeks only): each week a person
stays in the current state with probability 0.9, else moves to blank or a random code.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evaltools.data import (
    RegisterPanel,
    build_spells,
    read_dream,
    to_counting_process,
    to_dream_wide,
    to_person_period,
    validate,
    weeks_on_public_support,
    weeks_self_supporting,
)

CODES = np.array(["", "111", "112", "701", "702", "703", "721", "890", "651"], dtype=object)


def make_panel(n: int, weeks: int, seed: int = 0) -> RegisterPanel:
    rng = np.random.default_rng(seed)
    state = rng.integers(0, len(CODES), n)
    mat = np.empty((n, weeks), dtype=np.int8)
    for w in range(weeks):
        move = rng.random(n) < 0.1
        state = np.where(move, rng.integers(0, len(CODES), n), state)
        mat[:, w] = state
    rows, cols = np.nonzero(mat > 0)
    start = 1500
    states = pd.DataFrame({"person_id": rows + 1, "week": start + cols, "state": CODES[mat[rows, cols]]})
    persons = pd.DataFrame(
        {"person_id": np.arange(1, n + 1), "obs_start": start, "obs_end": start + weeks - 1}
    )
    persons["sex"] = rng.choice(["M", "F"], n)
    on_kh = states[states["state"] == "701"]
    mentor = on_kh.sample(frac=0.02, random_state=seed).drop_duplicates("person_id")
    mentor = mentor[["person_id", "week"]].assign(end_week=mentor["week"])
    return RegisterPanel(states=states, persons=persons, events={"mentor": mentor})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--weeks", type=int, default=260)
    args = ap.parse_args()
    t0 = time.perf_counter()
    panel = make_panel(args.persons, args.weeks)
    print(f"{panel!r}  (generated in {time.perf_counter() - t0:.2f}s)")
    ref = pd.Series(panel.persons["obs_start"].to_numpy() + args.weeks // 2, index=panel.persons["person_id"])
    steps = {
        "validate": lambda: validate(panel),
        "build_spells any_week": lambda: build_spells(panel),
        "build_spells calendar_month": lambda: build_spells(panel, gap_rule="calendar_month"),
        "to_counting_process": lambda: to_counting_process(
            build_spells(panel), panel, treatments="mentor", covariates=["sex"]
        ),
        "to_person_period": lambda: to_person_period(build_spells(panel), panel, treatments="mentor"),
        "weeks_self_supporting 52": lambda: weeks_self_supporting(panel, ref, 52, partial="observed"),
        "weeks_on_public_support 260": lambda: weeks_on_public_support(panel, ref, 260, partial="observed"),
        "to_dream_wide + read_dream": lambda: read_dream(to_dream_wide(panel)),
    }
    for name, fn in steps.items():
        t0 = time.perf_counter()
        out = fn()
        n = len(out) if hasattr(out, "__len__") else getattr(out, "n_persons", "")
        print(f"{name:32s} {time.perf_counter() - t0:7.2f}s  rows={n}")


if __name__ == "__main__":
    main()
