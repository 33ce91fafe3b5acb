"""Every panel indicator on a DaskPanel equals the in-memory result exactly."""

import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
import dask  # noqa: E402

import evaltools.indicators as ind  # noqa: E402
from evaltools.data.dask import partition_panel  # noqa: E402
from evaltools.indicators import _dask  # noqa: E402
from evaltools.synth import generate  # noqa: E402


@pytest.fixture(scope="module")
def panels():
    panel = generate(seed=5, n_persons=800, years=3, att=False).panel
    return panel, partition_panel(panel, npartitions=4)


def _targets(panel):
    lo, hi = panel.week_range
    targets = [
        ind.FTETarget("a", 50.0, {"benefit": "adagpenge"}),
        ind.FTETarget("b", 30.0, {"benefit": "kontanthjaelp"}, ages=(16, 29)),
        ind.FTETarget("c", 5.0, {"public_support": True}, persons_where={"municipality": "Herlev"}),
    ]
    return {"targets": targets, "baseline": (lo, lo + 51), "actual": (hi - 51, hi)}


CASES = [
    ("fte", {"by": ("benefit", "municipality")}),
    ("fte", {"by": ("age_group",), "period": "quarter", "codes_where": {"public_support": True}}),
    ("activation_rate", {"by": ("benefit",)}),
    ("company_oriented_share", {"by": ("municipality",)}),
    ("company_oriented_share", {"definition": "participants", "persons_where": {"sex": "F"}}),
    ("tool_mix_by_duration", {"gap_rule": "calendar_month"}),
    ("target_table", None),
    ("cohort_self_support", {}),
    ("cohort_self_support", {"by": ("age_group", "sex"), "left_censoring": "obs_start"}),
    (
        "job_ready_share",
        {"category_col": "readiness", "ready": "match1", "benefit": ["kontanthjaelp", "integrationsydelse"]},
    ),
    ("first_contact_within", {}),
    ("first_contact_within", {"event": "offer", "by": ("benefit", "age_group"), "horizons": (5, 14)}),
]


@pytest.mark.filterwarnings("ignore::evaltools.exceptions.DisclosureWarning")
@pytest.mark.parametrize(("name", "kw"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_identical_to_in_memory(panels, name, kw):
    panel, dp = panels
    kw = _targets(panel) if kw is None else kw
    func = getattr(ind, name)
    mem = func(panel, **kw)
    with dask.config.set(scheduler="synchronous"):
        par = func(dp, **kw)
    pd.testing.assert_frame_equal(par.data, mem.data, check_exact=True)
    assert par.footnotes == mem.footnotes
    assert par.keys == mem.keys and par.layout == mem.layout and par.extra_counts == mem.extra_counts
    if name != "target_table":  # target tables are numbered (never linked to each other)
        assert par.linkage.family == mem.linkage.family
        assert par.linkage.dims == mem.linkage.dims
    # suppression runs once, on the combined table
    pd.testing.assert_frame_equal(par.to_frame(), mem.to_frame())
    assert par.suppressed().n_primary == mem.suppressed().n_primary


def test_small_cells_are_judged_on_the_combined_table(panels):
    panel, dp = panels
    kw = {"by": ("municipality",), "period": "year", "window": panel.week_range}
    with dask.config.set(scheduler="synchronous"):
        t = ind.fte(dp, **kw)
        parts = _partition_panels(dp)
    keys = ["municipality", "period"]
    total = t.data.set_index(keys)["persons"]
    per_part = pd.concat(
        [ind.fte(q, **kw).data.set_index(keys)["persons"].reindex(total.index, fill_value=0) for q in parts],
        axis=1,
    )
    assert (per_part.sum(axis=1) == total).all()
    small_everywhere = (per_part <= 3).all(axis=1).to_numpy() & (total > 3).to_numpy()
    assert small_everywhere.any()
    shown = ~t.suppressed(empty="keep").mask["persons"].to_numpy()
    assert shown[small_everywhere].all()


def _partition_panels(dp):
    shell = _dask.as_panel(dp)
    return _dask.map_panels(shell, lambda p: p)


def test_distributed_cluster(panels):
    distributed = pytest.importorskip("distributed")
    panel, dp = panels
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        par = ind.first_contact_within(dp)
        f = ind.fte(dp, by=("municipality",))
    pd.testing.assert_frame_equal(par.data, ind.first_contact_within(panel).data, check_exact=True)
    pd.testing.assert_frame_equal(f.data, ind.fte(panel, by=("municipality",)).data, check_exact=True)
