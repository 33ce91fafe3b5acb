"""Cox proportional hazards by reduction over Dask partitions (see :mod:`evaltools.duration.dask`)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd

from evaltools._model.covariance import RENAMES, resolve_cov_type
from evaltools._validation import check_columns, check_option
from evaltools.duration import _reduce_cox as rc
from evaltools.duration._cox_results import CoxResults, _inv, assemble
from evaltools.duration.cox import CoxPH
from evaltools.exceptions import (
    ConvergenceWarning,
    DataValidationError,
    MissingValueWarning,
    SpecificationError,
)

__all__ = ["cox_dask", "PartitionedCoxResults", "check_frame", "check_disjoint", "map_partitions"]

_WHERE = "cox_dask"


def _dask() -> Any:
    try:
        import dask
    except ImportError as exc:  # pragma: no cover - dask is a declared extra
        raise ImportError(
            "evaltools.duration.dask needs the optional dask dependency. Install it with "
            "`pip install evaltools[dask]`."
        ) from exc
    return dask


def check_frame(data: Any, where: str) -> None:
    """Raise unless ``data`` is a Dask DataFrame."""
    if not (hasattr(data, "to_delayed") and hasattr(data, "npartitions") and hasattr(data, "_meta")):
        raise SpecificationError(
            f"{where}: 'data' must be a Dask DataFrame partitioned by person (e.g. from "
            f"evaltools.data.dask); got {type(data).__name__}. For a pandas DataFrame use the in-memory "
            "estimator."
        )


def map_partitions(data: Any, func: Any, *args: Any) -> list[Any]:
    """``func(partition, *args)`` on every partition; the (small) results, in partition order."""
    dask = _dask()
    shared = [
        dask.delayed(a, pure=True) if isinstance(a, (np.ndarray, rc.Layout, rc.GroupTerms)) else a
        for a in args
    ]
    tasks = [dask.delayed(func, pure=True)(p, *shared) for p in data.to_delayed()]
    return list(dask.compute(*tasks))


def check_disjoint(
    ranges: Sequence[Any], values: Sequence[Any], col: str, what: str, where: str = _WHERE
) -> None:
    """Rows of one id/cluster must lie in one partition: value ranges (or value sets) must not overlap."""
    rr = [r for r in ranges if r is not None]
    if rr and len(rr) == len([v for v in values if v is None]):
        rr = sorted(rr, key=lambda t: (t[0], t[1]))
        for (_, hi), (lo, _) in zip(rr[:-1], rr[1:]):
            if lo <= hi:
                raise DataValidationError(
                    f"{where}: the rows of some {what} ({col!r}) are spread over several partitions (value "
                    f"ranges overlap around {col}={lo}). Partition the frame by person, e.g. with "
                    "evaltools.data.dask or set_index('person_id')."
                )
        return
    seen: set[Any] = set()
    for v in values:
        if v is None:
            continue
        s = set(v.tolist())
        both = seen & s
        if both:
            raise DataValidationError(
                f"{where}: the rows of some {what} ({col!r}) are spread over several partitions (e.g. "
                f"{col}={sorted(both, key=str)[:3]}). Partition the frame by person."
            )
        seen |= s


_ROW_LEVEL = ("data", "_rows", "_active", "_event", "_start", "_stop", "_index", "_weights")
_NO_ROWS = (
    "This result was computed from a Dask DataFrame by partition reduction; row-level quantities "
    "(Schoenfeld residuals, the proportional-hazards test, refitting) are not kept. Fit CoxPH on the "
    "computed frame (or a sample of persons) for them."
)


class _PartitionedCox(CoxPH):
    """The options and counts of a :func:`cox_dask` fit in the form of :class:`CoxPH` (no rows).

    :class:`~evaltools.duration.CoxResults` reads the strata, labels,
    covariate names and counts from its model; predictions for new data use
    :meth:`CoxPH._design` on the covariate columns.
    """

    def __init__(self, **attrs: Any) -> None:  # noqa: D107 - internal
        self.__dict__.update(attrs)

    def __getattr__(self, name: str) -> Any:
        if name in _ROW_LEVEL:
            raise SpecificationError(_NO_ROWS)
        raise AttributeError(name)


class PartitionedCoxResults(CoxResults):
    """Results of :func:`cox_dask` (read-only): :class:`~evaltools.duration.CoxResults` of a partitioned fit.

    Every attribute, the summary, :meth:`to_frame`, :meth:`plot`, the baseline
    hazard and the predictions are those of
    :class:`~evaltools.duration.CoxResults`; row-level diagnostics
    (:meth:`schoenfeld_residuals`, :meth:`test_proportional_hazards`) raise
    :class:`~evaltools.exceptions.SpecificationError`.

    Attributes
    ----------
    n_partitions : int
        Number of partitions reduced over.
    """

    n_partitions: int

    def schoenfeld_residuals(self) -> pd.DataFrame:
        """Not available for a partitioned fit (needs the rows); raises :class:`SpecificationError`."""
        raise SpecificationError(_NO_ROWS)

    def test_proportional_hazards(self, transform: str = "km") -> pd.DataFrame:
        """Not available for a partitioned fit (needs the rows); raises :class:`SpecificationError`."""
        raise SpecificationError(_NO_ROWS)


def _scan(data: Any, spec: rc.CoxSpec) -> tuple[list[dict[str, Any]], rc.Layout, list[str]]:
    scans = map_partitions(data, rc.scan_part, spec)
    strata = list(spec.strata)
    if strata:
        lev = pd.concat([s["strata"] for s in scans if s["strata"] is not None]).drop_duplicates()
        lev = lev.sort_values(strata, kind="stable").reset_index(drop=True)
        strata_index = pd.MultiIndex.from_frame(lev)
        if len(strata) == 1:
            labels = [f"{strata[0]}={k}" for k in lev[strata[0]]]
        else:
            labels = [
                ", ".join(f"{s}={v}" for s, v in zip(strata, row)) for row in lev.itertuples(index=False)
            ]
    else:
        strata_index, labels = None, []
    evs = pd.concat([s["events"] for s in scans]).drop_duplicates()
    if len(evs) == 0:
        raise DataValidationError(f"{_WHERE}: column {spec.event!r} has no events; the model cannot be fit.")
    ev_times = np.unique(evs[spec.stop].to_numpy(dtype=float))
    n_t = len(ev_times) + 1
    scode = (
        strata_index.get_indexer(pd.MultiIndex.from_frame(evs[strata]))
        if strata_index is not None
        else np.zeros(len(evs))
    )
    gkeys = np.unique(
        scode.astype(np.int64) * n_t + np.searchsorted(ev_times, evs[spec.stop].to_numpy(float))
    )
    nobs = sum(s["nobs"] for s in scans)
    if nobs == 0:
        raise DataValidationError(f"{_WHERE}: no rows left after removing rows with missing values.")
    mean = np.sum([s["xsum"] for s in scans], axis=0) / nobs
    return scans, rc.Layout(strata_index, ev_times, gkeys, mean), labels


def _evaluate(data: Any, spec: rc.CoxSpec, layout: rc.Layout, beta: np.ndarray, efron: bool) -> rc.Sums:
    parts = map_partitions(data, rc.sums_part, spec, layout, beta)
    return rc.evaluate_sums(rc.combine_sums(parts), len(beta), efron)


def _solve(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(info, score, rcond=None)[0]


def cox_dask(
    data: Any,
    *,
    covariates: Sequence[str],
    start: str = "start",
    stop: str = "stop",
    event: str = "event",
    id: str | None = None,  # noqa: A002 - column role name from the style guide
    strata: str | Sequence[str] | None = None,
    weights: str | None = None,
    recurrent: bool = False,
    ties: str = "efron",
    cov_type: str = "nonrobust",
    cluster: str | None = None,
    tol: float = 1e-9,
    max_iter: int = 50,
    persist: bool = False,
) -> PartitionedCoxResults:
    """Cox proportional hazards fit on a Dask DataFrame of counting-process rows, by partition reduction.

    Same model, options and estimates as ``CoxPH(data.compute(), covariates=...,
    ...).fit(ties=..., cov_type=..., cluster=...)`` (coefficients, standard
    errors and log partial likelihood agree to rounding), without holding the
    rows in memory: each Newton iteration is one pass over the partitions.

    Parameters
    ----------
    data : dask DataFrame
        Counting-process rows, every person's (and cluster's) rows in one
        partition (e.g. :func:`evaltools.data.dask.to_counting_process_dask`).
    covariates : sequence of str
        Numeric covariate columns (formulas are not supported here: encode
        dummies first, e.g. with ``map_partitions``).
    start, stop, event, id, strata, weights, recurrent
        As in :class:`~evaltools.duration.CoxPH`.
    ties : {"efron", "breslow"}, default="efron"
        Tie method.
    cov_type : {"nonrobust", "robust", "cluster"}, default="nonrobust"
        As in :meth:`evaltools.duration.CoxPH.fit`; ``"robust"`` and
        ``"cluster"`` cost one more pass.
    cluster : str, optional
        Cluster column for ``cov_type="cluster"`` (default: ``id``).
    tol, max_iter
        Newton-Raphson convergence tolerance (relative log-likelihood change) and iteration limit.
    persist : bool, default=False
        Keep the partitions in (worker) memory between passes instead of
        recomputing them from their source.

    Returns
    -------
    PartitionedCoxResults
    """
    check_frame(data, _WHERE)
    check_option("ties", ties, ["efron", "breslow"], _WHERE)
    cov_type = resolve_cov_type(cov_type, _WHERE, renames=RENAMES["cox"])
    if not (isinstance(tol, (float, int)) and 0 < tol < 1):
        raise SpecificationError(
            f"The 'tol' parameter of {_WHERE} must be a float in (0, 1). Got {tol!r} instead."
        )
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise SpecificationError(
            f"The 'max_iter' parameter of {_WHERE} must be a positive int. Got {max_iter!r}."
        )
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covs:
        raise SpecificationError(f"{_WHERE}: the model has no covariates.")
    strata_l = [strata] if isinstance(strata, str) else list(strata or [])
    if cov_type != "cluster" and cluster is not None:
        raise SpecificationError(f"{_WHERE}: cluster={cluster!r} is only used with cov_type='cluster'.")
    if cov_type == "cluster" and cluster is None and id is None:
        raise SpecificationError(f"{_WHERE}: cov_type='cluster' needs cluster='column' or id=.")
    meta = data._meta
    roles = [start, stop, event] + ([id] if id else []) + strata_l + ([weights] if weights else [])
    check_columns(meta, roles, _WHERE, role="start/stop/event/id/strata/weights")
    check_columns(meta, covs, _WHERE, role="covariates")
    for c in covs:
        if not (pd.api.types.is_numeric_dtype(meta[c]) or pd.api.types.is_bool_dtype(meta[c])):
            raise SpecificationError(
                f"{_WHERE}: covariate column {c!r} is not numeric (dtype {meta[c].dtype}). Encode it first."
            )
    clus = cluster if cov_type == "cluster" and cluster is not None and cluster != id else None
    if clus is not None:
        check_columns(meta, [clus], _WHERE, role="cluster")
    spec = rc.CoxSpec(tuple(covs), start, stop, event, id, tuple(strata_l), weights, bool(recurrent), clus)
    if persist:
        data = data.persist()
    scans, layout, labels = _scan(data, spec)
    n_total = sum(s["n_total"] for s in scans)
    nobs = sum(s["nobs"] for s in scans)
    n_dropped = n_total - nobs
    dropped: dict[str, int] = {}
    for s in scans:
        for k, v in s["dropped"].items():
            dropped[k] = dropped.get(k, 0) + v
    if n_dropped:
        warnings.warn(
            f"{_WHERE}: dropped {n_dropped:,} of {n_total:,} rows with missing values (missing per column: "
            f"{dropped}). Impute or remove them first to silence this.",
            MissingValueWarning,
            stacklevel=2,
        )
    rc.check_collinear(
        rc.combine_moments([s["moments"] for s in scans]),
        np.max([s["xabsmax"] for s in scans], axis=0),
        covs,
        bool(strata_l),
    )
    n_persons = None
    if id:
        check_disjoint([s.get("id_range") for s in scans], [s.get("id_values") for s in scans], id, "ids")
        n_persons = sum(s["n_ids"] or 0 for s in scans)
    efron = ties == "efron"
    p = len(covs)
    beta = np.zeros(p)
    ev = _evaluate(data, spec, layout, beta, efron)
    ev0 = ev
    converged, n_iter, step = False, 0, np.zeros(p)
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter used after the loop
        step = _solve(ev.info, ev.score)
        new_beta = beta + step
        new = _evaluate(data, spec, layout, new_beta, efron)
        halvings = 0
        while (
            not np.isfinite(new.loglik) or new.loglik < ev.loglik - 1e-12 * abs(ev.loglik)
        ) and halvings < 40:
            step = step / 2
            new_beta = beta + step
            new = _evaluate(data, spec, layout, new_beta, efron)
            halvings += 1
        done = abs(new.loglik - ev.loglik) <= tol * max(abs(new.loglik), 1e-300)
        beta, ev = new_beta, new
        if done:
            converged = True
            break
    final_step = _solve(ev.info, ev.score)
    diverging = np.abs(final_step) > 1e-3 * np.maximum(1.0, np.abs(beta))
    if not converged:
        worst = [covs[j] for j in np.argsort(-np.abs(step))[: min(3, p)]]
        warnings.warn(
            f"{_WHERE} did not converge in {max_iter} iterations; the largest last steps are for {worst}. "
            "Increase max_iter or check the covariates for separation.",
            ConvergenceWarning,
            stacklevel=2,
        )
    elif diverging.any():
        converged = False
        warnings.warn(
            f"{_WHERE}: the log-likelihood converged but the coefficient(s) of "
            f"{[covs[j] for j in np.flatnonzero(diverging)]} keep growing (monotone likelihood / "
            "separation). "
            "Remove or recode these covariates.",
            ConvergenceWarning,
            stacklevel=2,
        )
    cov_naive = _inv(ev.info)
    n_clusters = None
    cluster_name = None
    if cov_type == "nonrobust":
        cov = cov_naive
    else:
        if cov_type == "cluster":
            cluster_name = clus or id
            if clus is not None:
                check_disjoint(
                    [s.get("cluster_range") for s in scans],
                    [s.get("cluster_values") for s in scans],
                    clus,
                    "clusters",
                )
                n_clusters = sum(s["n_clusters"] for s in scans)
            else:
                n_clusters = n_persons
        gt = rc.group_terms(ev)
        meat = np.sum(map_partitions(data, rc.meat_part, spec, layout, beta, gt, cov_type), axis=0)
        cov = cov_naive @ meat @ cov_naive
    return _results(
        beta,
        cov,
        cov_naive,
        ev,
        ev0,
        layout,
        labels,
        scans,
        dict(
            ties=ties,
            cov_type=cov_type,
            cluster_name=cluster_name,
            n_clusters=n_clusters,
            n_persons=n_persons,
            converged=converged,
            n_iter=n_iter,
            tol=tol,
            n_total=n_total,
            nobs=nobs,
            n_dropped=n_dropped,
            dropped=dropped,
            spec=spec,
            npartitions=data.npartitions,
        ),
    )


def _results(
    beta: np.ndarray,
    cov: np.ndarray,
    cov_naive: np.ndarray,
    ev: rc.Sums,
    ev0: rc.Sums,
    layout: rc.Layout,
    labels: list[str],
    scans: list[dict[str, Any]],
    o: dict[str, Any],
) -> PartitionedCoxResults:
    spec: rc.CoxSpec = o["spec"]
    names = list(spec.covariates)
    model = _PartitionedCox(
        exog_names=names,
        _covariate_columns=names,
        _formula_spec=None,
        strata=list(spec.strata),
        strata_labels=labels,
        weights=spec.weights,
        id=spec.id,
        nobs=o["nobs"],
        n_total=o["n_total"],
        n_dropped=o["n_dropped"],
        dropped_columns=o["dropped"],
        n_persons=o["n_persons"],
        n_delayed_entry=sum(s["n_delayed_entry"] for s in scans),
        n_gaps=sum(s["n_gaps"] for s in scans),
    )
    n_t = len(layout.ev_times) + 1
    index = SimpleNamespace(group_time=layout.ev_times[layout.gkeys % n_t], group_stratum=layout.gkeys // n_t)
    npart = o["npartitions"]
    res = assemble(
        model,
        beta=beta,
        cov=cov,
        cov_naive=cov_naive,
        llf=ev.loglik,
        llnull=ev0.loglik,
        score0=ev0.score,
        info0=ev0.info,
        ties=o["ties"],
        cov_type=o["cov_type"],
        cluster_name=o["cluster_name"],
        n_clusters=o["n_clusters"],
        converged=o["converged"],
        n_iter=o["n_iter"],
        tol=o["tol"],
        n_events=sum(s["n_events"] for s in scans),
        n_inactive=0,
        state={"index": index, "ev": ev, "mean": layout.mean},
        cls=PartitionedCoxResults,
        label="Cox PH (counting process, partitioned)",
        method_notes=[
            f"Computed by reduction over {npart:,} partitions (risk-set sums added per event time)."
        ],
        header_extra=[("Partitions", npart)],
        fields_extra={"n_partitions": npart},
    )
    return cast(PartitionedCoxResults, res)
