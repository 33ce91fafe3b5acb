"""Create spells.csv for the mph_glm reference case (run from the repository root).

    PYTHONPATH=. .venv/bin/python tests/reference/duration/mph_glm/make_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaltools.duration.montecarlo import simulate_toe

spells = simulate_toe(1500, seed=20261123)
rng = np.random.default_rng(7)
# delayed entry for a fifth of the spells (entry week 1-5, only if the spell is observed after it)
entry = np.where(rng.random(len(spells)) < 0.2, rng.integers(1, 6, len(spells)), 0)
ok = (spells["duration"].to_numpy() > entry) & ~(spells["treatment_week"].to_numpy() <= entry)
spells["entry"] = np.where(ok, entry, 0)
spells = spells.drop(columns="type")
spells.to_csv(Path(__file__).with_name("spells.csv"), index=False, float_format="%.17g")
