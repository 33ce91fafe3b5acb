"""Write the input tables of this reference case (run from the repository root).

    PYTHONPATH=.:tests/data .venv/bin/python tests/reference/data/spells_tmerge/make_input.py
"""

from pathlib import Path

from data_panel_factory import random_panel

from evaltools.data import default_codes

HERE = Path(__file__).parent
panel = random_panel(2024, n_persons=100, n_weeks=80)
panel.states.assign(state=panel.states["state"].astype(str)).to_csv(HERE / "states.csv", index=False)
panel.persons[["person_id", "obs_start", "obs_end"]].to_csv(HERE / "persons.csv", index=False)
for name in ("mentor", "activation"):
    panel.events[name][["person_id", "week", "end_week"]].to_csv(HERE / f"{name}.csv", index=False)
cols = ["code", "benefit", "activation", "public_support", "censoring"]
default_codes().table[cols].to_csv(HERE / "codes.csv", index=False)
