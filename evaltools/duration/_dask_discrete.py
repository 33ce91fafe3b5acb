"""Discrete-time hazard on a Dask DataFrame by collapsed sufficient statistics.

The binomial likelihood of the model depends on the person-periods only
through the cells (baseline period x covariate pattern): the number of
person-periods and of exits per cell.  Each partition validates its rows with
the in-memory rules and collapses them to cells; the client adds the cells over
partitions and runs the in-memory fit
(:meth:`evaltools.duration.DiscreteHazard.fit`) on the collapsed table, which
is exactly what the in-memory model fits after collapsing.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools.duration._dask_cox import check_disjoint, check_frame, map_partitions
from evaltools.duration._discrete_results import DiscreteHazardResults
from evaltools.duration.discrete import DiscreteHazard, missing_rows
from evaltools.exceptions import DataValidationError, MissingValueWarning

__all__ = ["discrete_hazard_dask"]

_WHERE = "discrete_hazard_dask"


def _cells_part(part: pd.DataFrame, model: _Cells) -> dict[str, Any]:
    """Check one partition's person-periods with the in-memory row rules and collapse them to cells."""
    part = part.reset_index(drop=True)
    covs, roles = model.exog_names, model._roles()
    X = part[covs].to_numpy(dtype=float) if covs else np.zeros((len(part), 0))
    bad = missing_rows(part, X, roles)
    frame = part.loc[~bad, roles].reset_index(drop=True)
    X = X[~bad]
    out: dict[str, Any] = {
        "n_total": len(part),
        "n_dropped": int(bad.sum()),
        "n_ids": None,
        "id_range": None,
        "id_values": None,
    }
    checker = copy.copy(model)
    dur, ev = checker._check_rows(frame, X) if len(frame) else (np.zeros(0, np.int64), np.zeros(0))
    if model.id and len(frame):
        out["n_ids"] = checker.n_persons
        v = frame[model.id]
        numeric = pd.api.types.is_numeric_dtype(v)
        out["id_range"] = (v.min(), v.max()) if numeric else None
        out["id_values"] = None if numeric else pd.unique(v)
    key = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    key["__d"] = dur
    key["__n"] = 1.0
    key["__e"] = (ev == 1).astype(float)
    out["cells"] = key.groupby([*key.columns[:-2]], sort=False).sum().reset_index()
    return out


class _Cells(DiscreteHazard):
    """A :class:`DiscreteHazard` whose rows are cells (period x covariate pattern) with trial and exit counts.

    The options are checked on the frame's metadata as in memory; the row
    rules, the baseline and rank checks, the collapsed design and the fit are
    :class:`DiscreteHazard`'s, with each cell weighted by its person-periods.
    """

    _where = _WHERE

    def __init__(self, meta: pd.DataFrame, **options: Any) -> None:  # noqa: D107 - internal
        self.formula, self._formula_spec = None, None
        self.exog_names = self._set_options(meta, **options) or []

    def _encode_hint(self) -> str:
        return "Encode it first (e.g. dummy columns made with map_partitions)."

    def _load(self, cells: pd.DataFrame, counts: dict[str, Any]) -> None:
        self.n_total, self.n_dropped = counts["n_total"], counts["n_dropped"]
        self.nobs, self.n_persons = counts["nobs"], counts["n_persons"]
        p = len(self.exog_names)
        self._X = cells[[f"x{j}" for j in range(p)]].to_numpy(dtype=float) if p else np.zeros((len(cells), 0))
        self._dur = cells["__d"].to_numpy(np.int64)
        self._cell_trials = cells["__n"].to_numpy(float)
        self._cell_events = cells["__e"].to_numpy(float)
        self._baseline_groups(self._dur)
        self._check_baseline_events()
        self._check_rank()

    def _trials(self) -> np.ndarray:
        return self._cell_trials

    def _outcomes(self) -> np.ndarray:
        return self._cell_events


def discrete_hazard_dask(
    data: Any,
    *,
    covariates: Sequence[str] | None = None,
    duration: str = "duration",
    event: str = "event",
    link: str = "logit",
    baseline: str = "week",
    bands: Sequence[int] | None = None,
    id: str | None = None,  # noqa: A002 - column role name from the style guide
    max_iter: int = 100,
    tol: float = 1e-14,
) -> DiscreteHazardResults:
    """:class:`~evaltools.duration.DiscreteHazard` on a Dask DataFrame of person-periods, via collapsed cells.

    Parameters
    ----------
    data : dask DataFrame
        Person-period rows (e.g. :func:`evaltools.data.dask.to_person_period_dask`);
        with ``id``, every id's rows in one partition.
    covariates : sequence of str, optional
        Numeric covariate columns.  The cells are the distinct (period,
        covariate pattern) combinations, so discrete covariates keep the table
        small; a continuous covariate makes about one cell per row.
    duration, event, link, baseline, bands, id
        As in :class:`~evaltools.duration.DiscreteHazard`.
    max_iter, tol
        As in :meth:`evaltools.duration.DiscreteHazard.fit`.

    Returns
    -------
    DiscreteHazardResults
        Equal to ``DiscreteHazard(data.compute(), ...).fit(collapse=True)``
        (model-based standard errors; cluster-robust ones need the person
        level and are not offered here).
    """
    check_frame(data, _WHERE)
    model = _Cells(
        data._meta,
        covariates=[] if covariates is None else covariates,
        duration=duration,
        event=event,
        link=link,
        baseline=baseline,
        bands=bands,
        id=id,
    )
    parts = map_partitions(data, _cells_part, model)
    n_total = sum(q["n_total"] for q in parts)
    n_dropped = sum(q["n_dropped"] for q in parts)
    if n_dropped:
        warnings.warn(
            f"{_WHERE}: dropped {n_dropped:,} of {n_total:,} rows with missing values. Impute or remove them "
            "first to silence this.",
            MissingValueWarning,
            stacklevel=2,
        )
    if n_total - n_dropped == 0:
        raise DataValidationError(f"{_WHERE}: no rows left after removing rows with missing values.")
    n_persons = None
    if id:
        check_disjoint([q["id_range"] for q in parts], [q["id_values"] for q in parts], id, "ids", _WHERE)
        n_persons = sum(q["n_ids"] or 0 for q in parts)
    cells = pd.concat([q["cells"] for q in parts], ignore_index=True)
    keys = [c for c in cells.columns if c not in ("__n", "__e")]
    cells = cells.groupby(keys, sort=False).sum().reset_index()
    if cells["__e"].sum() == 0:
        raise DataValidationError(f"{_WHERE}: column {event!r} has no exits; the model cannot be fit.")
    counts = dict(n_total=n_total, n_dropped=n_dropped, nobs=n_total - n_dropped, n_persons=n_persons)
    model._load(cells, counts)
    return model.fit(collapse=True, max_iter=max_iter, tol=tol)
