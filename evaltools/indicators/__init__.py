"""Labour-market indicators, monitoring and municipal benchmarking (jobindsats-style).

Every indicator returns an :class:`IndicatorTable`; its exports (DataFrame,
CSV, Excel, HTML, notebook display) apply small-cell suppression by default
(see :mod:`evaltools.reporting.disclosure`).

Every indicator that takes a panel also takes a
:class:`~evaltools.data.dask.DaskPanel` (split by person, e.g. with
:func:`~evaltools.data.dask.partition_panel`): states and events are then
processed partition by partition, counts are added over partitions, shares
are computed on the combined counts and suppression is applied once, to the
combined table; the result is identical to the in-memory one
(:mod:`evaltools.indicators._dask`).  :func:`benchmark`, :func:`did`,
:func:`regression_to_mean` and :func:`decompose_share_change` work on unit-level
tables (such as the ``data`` of an indicator), which are small whatever the
size of the panel.
"""

from evaltools.indicators._table import IndicatorTable
from evaltools.indicators.benchmark import (
    BenchmarkResults,
    DiDResults,
    benchmark,
    decompose_share_change,
    did,
    regression_to_mean,
)
from evaltools.indicators.cohort import cohort_self_support, first_contact_within, job_ready_share
from evaltools.indicators.fte import (
    activation_rate,
    company_oriented_share,
    fte,
    fte_dask,
    tool_mix_by_duration,
)
from evaltools.indicators.plots import plot_caterpillar, plot_funnel, plot_timeseries
from evaltools.indicators.targets import FTETarget, target_table

__all__ = [
    "IndicatorTable",
    "fte",
    "fte_dask",
    "activation_rate",
    "company_oriented_share",
    "tool_mix_by_duration",
    "FTETarget",
    "target_table",
    "cohort_self_support",
    "job_ready_share",
    "first_contact_within",
    "benchmark",
    "BenchmarkResults",
    "did",
    "DiDResults",
    "regression_to_mean",
    "decompose_share_change",
    "plot_timeseries",
    "plot_caterpillar",
    "plot_funnel",
]
