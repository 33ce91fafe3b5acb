"""Shared draws for the synth tests (generated once per session)."""

from __future__ import annotations

import pytest

from evaltools.synth import SAMPLE_SEED, generate
from evaltools.synth.sample import SAMPLE_PERSONS, SAMPLE_START_YEAR, SAMPLE_YEARS


@pytest.fixture(scope="session")
def sample_draw():
    """The shipped sample's specification, regenerated without the counterfactual runs."""
    return generate(
        seed=SAMPLE_SEED,
        n_persons=SAMPLE_PERSONS,
        years=SAMPLE_YEARS,
        start_year=SAMPLE_START_YEAR,
        att=False,
    )


@pytest.fixture(scope="session")
def small_with_truth():
    """A small draw with the true ATTs simulated."""
    return generate(seed=11, n_persons=6_000, years=4)
