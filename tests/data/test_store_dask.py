import warnings

import numpy as np
import pandas as pd
import pytest
from data_panel_factory import random_panel

from evaltools.data import (
    build_spells,
    read_panel_dask,
    self_supporting_at,
    to_counting_process,
    to_person_period,
    weeks_on_public_support,
    weeks_self_supporting,
    write_panel,
)
from evaltools.data._store_parts import load_manifest
from evaltools.exceptions import DataValidationError, MissingValueWarning

pytest.importorskip("dask.dataframe")
from evaltools.data.dask import (  # noqa: E402
    DaskPanel,
    build_spells_dask,
    outcome_dask,
    partition_panel,
    to_counting_process_dask,
    to_person_period_dask,
)


@pytest.fixture(scope="module")
def panel():
    return random_panel(21, n_persons=30, n_weeks=60)


@pytest.fixture
def store(panel, tmp_path):
    return write_panel(panel, tmp_path / "s", partition_persons=7)


def test_lazy_panel_has_the_structure_of_partition_panel(panel, store):
    dp = read_panel_dask(store)
    man = load_manifest(store)
    assert dp.npartitions == len(man["partitions"]) == 5
    assert dp.divisions[0] == panel.persons["person_id"].min()
    assert dp.divisions[-1] == panel.persons["person_id"].max()
    ref = partition_panel(panel, npartitions=2)
    for table in ("states", "persons"):
        frame = getattr(dp, table)
        assert frame.known_divisions and tuple(frame.divisions) == dp.divisions
        assert frame._meta.dtypes.to_dict() == getattr(ref, table)._meta.dtypes.to_dict()
        got = frame.compute(scheduler="synchronous")
        exp = getattr(ref, table).compute(scheduler="synchronous")
        pd.testing.assert_frame_equal(got, exp)
    assert dp.dtypes["persons"] == ref.dtypes["persons"]
    assert set(dp.events) == set(panel.events)
    for k in panel.events:
        assert tuple(dp.events[k].divisions) == dp.divisions
        pd.testing.assert_frame_equal(dp.events[k].compute(), ref.events[k].compute())
    assert isinstance(DaskPanel.from_store(store), DaskPanel)


@pytest.mark.parametrize("rule", ["any_week", "calendar_month"])
def test_transforms_on_the_store_equal_in_memory(panel, store, rule):
    dp = DaskPanel.from_store(store)
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
    pp = to_person_period_dask(spd, dp, **kw).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(pp, to_person_period(sp, panel, **kw))


def test_outcomes_on_the_store_equal_in_memory(panel, store):
    dp = read_panel_dask(store)
    rng = np.random.default_rng(1)
    ids = panel.persons["person_id"].to_numpy()
    refs = pd.DataFrame({"person_id": rng.choice(ids, 50), "week": rng.integers(*panel.week_range, 50)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingValueWarning)
        for func, kw in [
            (weeks_self_supporting, {"horizon": 10, "partial": "observed"}),
            (weeks_on_public_support, {"lookback": 20}),
            (self_supporting_at, {"horizon": 4}),
        ]:
            got = outcome_dask(func, dp, refs, **kw).compute(scheduler="synchronous").sort_index()
            pd.testing.assert_series_equal(got, func(panel, refs, **kw), check_index_type=False)


def test_opening_reads_no_state_data(panel, store):
    man = load_manifest(store)
    for p in man["partitions"]:
        (store / "states" / p["file"]).unlink()
    dp = read_panel_dask(store)  # the manifest and schemas suffice
    assert dp.npartitions == 5
    with pytest.raises(DataValidationError, match=r"states/part-0000\d.parquet is missing"):
        dp.states.compute(scheduler="synchronous")
