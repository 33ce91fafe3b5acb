"""Duration estimators on Dask DataFrames, by reduction of sums over partitions (optional ``dask`` extra).

The estimators whose likelihood or estimate is a function of sums over rows
are computed partition by partition; only the sums travel to the client:

* :func:`cox_dask` -- :class:`~evaltools.duration.CoxPH` (Breslow or Efron
  ties, strata, case weights, nonrobust / robust / clustered standard errors):
  per Newton iteration the per-event-time risk-set sums of ``w exp(xb)``,
  ``w x exp(xb)`` and ``w x x' exp(xb)`` (and the tied-death sums of Efron's
  approximation) are added over partitions; robust and clustered standard
  errors need one more pass with the global sums;
* :func:`kaplan_meier_dask`, :func:`nelson_aalen_dask` and :func:`aalen_johansen_dask` -- entries, exits,
  events by cause and censorings at every distinct time are added over
  partitions (Greenwood standard errors follow); the Aalen-Johansen
  infinitesimal-jackknife variance needs a second pass of per-time range sums;
* :func:`discrete_hazard_dask` -- :class:`~evaltools.duration.DiscreteHazard`
  on the collapsed cells (baseline period x covariate pattern: person-periods
  and exits) added over partitions, then the in-memory fit on the cells.

Each returns the same estimates as the in-memory estimator on the computed
frame (to rounding: sums are added in a different order).  The Dask frame
must hold every row of a person (and of a cluster) in one partition, as the
frames of :mod:`evaltools.data.dask` do; this is checked where it matters.
Computation uses Dask's current scheduler (the local threaded scheduler, or a
``dask.distributed`` client when one is active).  Every pass recomputes the
partitions from their source unless ``persist=True``, so the peak memory is
that of one partition per worker plus the per-event-time sums.

Examples
--------
>>> rows = to_counting_process_dask(spells, dp, treatments="mentor")  # doctest: +SKIP
>>> res = cox_dask(rows, covariates=["treated"], id="spell_id")  # doctest: +SKIP
>>> res.params, res.bse                                          # doctest: +SKIP
"""

from evaltools.duration._dask_cox import PartitionedCoxResults, cox_dask
from evaltools.duration._dask_curves import aalen_johansen_dask, kaplan_meier_dask, nelson_aalen_dask
from evaltools.duration._dask_discrete import discrete_hazard_dask

__all__ = [
    "cox_dask",
    "PartitionedCoxResults",
    "kaplan_meier_dask",
    "nelson_aalen_dask",
    "aalen_johansen_dask",
    "discrete_hazard_dask",
]
