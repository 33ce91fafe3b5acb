import warnings

import numpy as np
import pandas as pd
import pytest
from data_panel_factory import random_panel

from evaltools.data import (
    build_spells,
    self_supporting_at,
    to_counting_process,
    to_person_period,
    weeks_on_public_support,
    weeks_self_supporting,
)
from evaltools.exceptions import MissingValueWarning, SpecificationError

pytest.importorskip("dask.dataframe")
from evaltools.data.dask import (  # noqa: E402
    build_spells_dask,
    outcome_dask,
    partition_panel,
    to_counting_process_dask,
    to_person_period_dask,
)


@pytest.fixture(scope="module")
def panel():
    return random_panel(21, n_persons=30, n_weeks=60)


@pytest.mark.parametrize("rule", ["any_week", "calendar_month"])
def test_transforms_identical_to_pandas(panel, rule):
    dp = partition_panel(panel, npartitions=4)
    assert dp.npartitions == 4 and dp.states.npartitions == dp.persons.npartitions == 4
    sp = build_spells(panel, gap_rule=rule)
    spd = build_spells_dask(dp, gap_rule=rule)
    pd.testing.assert_frame_equal(spd.compute(scheduler="synchronous").reset_index(drop=True), sp)
    kw = {
        "treatments": ["mentor", "activation"],
        "covariates": ["sex"],
        "time_bands": (3, 8),
        "max_duration": 30,
    }
    cp = to_counting_process_dask(spd, dp, **kw).compute(scheduler="synchronous").reset_index(drop=True)
    pd.testing.assert_frame_equal(cp, to_counting_process(sp, panel, **kw))
    pp = to_person_period_dask(spd, dp, **kw).compute(scheduler="synchronous").reset_index(drop=True)
    pd.testing.assert_frame_equal(pp, to_person_period(sp, panel, **kw))


def test_outcomes_identical_to_pandas(panel):
    dp = partition_panel(panel, npartitions=3)
    rng = np.random.default_rng(0)
    ids = panel.persons["person_id"].to_numpy()
    refs = pd.DataFrame({"person_id": rng.choice(ids, 40), "week": rng.integers(*panel.week_range, 40)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingValueWarning)
        for func, kw in [
            (weeks_self_supporting, {"horizon": 10, "partial": "observed"}),
            (weeks_on_public_support, {"lookback": 20}),
            (self_supporting_at, {"horizon": 4}),
        ]:
            got = outcome_dask(func, dp, refs, **kw).compute(scheduler="synchronous").sort_index()
            exp = func(panel, refs, **kw)
            pd.testing.assert_series_equal(got, exp, check_index_type=False)


def test_errors(panel):
    dp = partition_panel(panel, npartitions=2)
    with pytest.raises(SpecificationError, match="'npartitions' parameter of partition_panel"):
        partition_panel(panel, npartitions=0)
    other = partition_panel(panel, npartitions=3)
    with pytest.raises(SpecificationError, match="partitioned differently"):
        to_counting_process_dask(build_spells_dask(other), dp)
    with pytest.raises(SpecificationError, match="outside the panel"):
        outcome_dask(weeks_on_public_support, dp, pd.Series([1], index=[10**9]))


def test_clear_error_without_dask(monkeypatch, panel):
    import evaltools.data.dask as edask

    def missing(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(edask.importlib, "import_module", missing)
    with pytest.raises(ImportError, match=r"pip install evaltools\[dask\]"):
        partition_panel(panel)
