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

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, check_option, raise_for_rows
from evaltools.duration import _discrete_core as core
from evaltools.duration._dask_cox import check_disjoint, check_frame, map_partitions
from evaltools.duration._discrete_results import DiscreteHazardResults
from evaltools.duration.discrete import DiscreteHazard
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

__all__ = ["discrete_hazard_dask"]

_WHERE = "discrete_hazard_dask"


def _cells_part(part: pd.DataFrame, o: dict[str, Any]) -> dict[str, Any]:
    """Validate one partition's person-periods (as DiscreteHazard does) and collapse them to cells."""
    part = part.reset_index(drop=True)
    covs, dcol, ecol, idc = o["covariates"], o["duration"], o["event"], o["id"]
    roles = [dcol, ecol] + ([idc] if idc else [])
    X = part[covs].to_numpy(dtype=float) if covs else np.zeros((len(part), 0))
    bad = part[roles].isna().any(axis=1).to_numpy() | np.isnan(X).any(axis=1)
    frame = part.loc[~bad, roles].reset_index(drop=True)
    X = X[~bad]
    out: dict[str, Any] = {
        "n_total": len(part),
        "n_dropped": int(bad.sum()),
        "n_ids": None,
        "id_range": None,
        "id_values": None,
    }
    ex = ([idc] if idc else []) + [dcol]
    dur = frame[dcol].to_numpy(dtype=float)
    raise_for_rows(
        frame,
        ~(np.isfinite(dur) & (dur == np.round(dur)) & (dur >= 1)),
        rule=f"DiscreteHazard: column {dcol!r} must be a positive integer period index (1 = first period; "
        "zero, negative or fractional periods are invalid)",
        fix="Number the periods of each spell 1, 2, ... (person-period rows, one per period at risk).",
        columns=ex,
    )
    ev = frame[ecol].to_numpy(dtype=float)
    raise_for_rows(
        frame,
        (ev != 0) & (ev != 1),
        rule=f"DiscreteHazard: column {ecol!r} must be binary (0/1 or bool)",
        fix="Recode the exit indicator; for several exit types use MultinomialHazard.",
        columns=ex + [ecol],
    )
    raise_for_rows(
        frame,
        ~np.all(np.isfinite(X), axis=1),
        rule="DiscreteHazard: covariates must be finite (no inf)",
        fix="Replace infinite covariate values.",
        columns=ex,
    )
    dur = dur.astype(np.int64)
    if idc and len(frame):
        checker = DiscreteHazard.__new__(DiscreteHazard)
        checker.id, checker.duration = idc, dcol
        checker._check_person_periods(frame, dur, ev, ex)
        out["n_ids"] = checker.n_persons
        v = frame[idc]
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
    """A DiscreteHazard whose data are collapsed cells (trials and events per pattern x period)."""

    def __init__(self, cells: pd.DataFrame, o: dict[str, Any], counts: dict[str, Any]) -> None:  # noqa: D107
        self.link, self.baseline, self.bands = o["link"], o["baseline"], o["bands"]
        self.duration, self.event, self.id = o["duration"], o["event"], o["id"]
        self.formula, self._formula_spec = None, None
        self.exog_names = list(o["covariates"])
        self.n_total, self.n_dropped = counts["n_total"], counts["n_dropped"]
        self.nobs, self.n_persons = counts["nobs"], counts["n_persons"]
        p = len(self.exog_names)
        self._X = cells[[f"x{j}" for j in range(p)]].to_numpy(dtype=float) if p else np.zeros((len(cells), 0))
        self._dur = cells["__d"].to_numpy(np.int64)
        self._trials = cells["__n"].to_numpy(float)
        self._events = cells["__e"].to_numpy(float)
        self._ev = (self._events > 0).astype(float)
        self._baseline_groups(self._dur)
        self._check_baseline_events()
        self._check_rank()

    def _check_baseline_events(self) -> None:
        B = len(self.baseline_names)
        trials = np.bincount(self._g, weights=self._trials, minlength=B)
        events = np.bincount(self._g, weights=self._events, minlength=B)
        for mask, what, est in ((events == 0, "no exits", "-inf"), (events == trials, "only exits", "+inf")):
            if mask.any():
                names = [self.baseline_names[k] for k in np.flatnonzero(mask)]
                shown = names[:6] + (["..."] if len(names) > 6 else [])
                raise DataValidationError(
                    f"{_WHERE}: {len(names)} baseline period(s) have person-periods but {what}: {shown} "
                    f"({int(trials[mask].sum()):,} rows); their baseline hazard is not estimable (the "
                    "estimate "
                    f"would be {est}). Merge them with neighbouring periods using "
                    "baseline='bands' and bands=[...]."
                )

    def _sorted(self) -> core.Design:
        order = np.argsort(self._g, kind="stable")
        gs = self._g[order]
        starts = np.flatnonzero(np.r_[True, np.diff(gs) != 0])
        return core.Design(
            gs, starts, np.ascontiguousarray(self._X[order]), self._trials[order], self._events[order]
        )

    def _check_rank(self) -> None:
        p = self._X.shape[1]
        if p == 0:
            return
        from scipy import linalg

        d = self._sorted()
        D, C, H = core.information(d, d.trials)
        S = H - C.T @ (C / D[:, None])
        scale = np.sqrt(np.clip(np.diag(H), 1e-300, None))
        Ss = S / np.outer(scale, scale)
        const = np.diag(Ss) < 1e-10
        if const.any():
            raise SpecificationError(
                f"{_WHERE}: covariate(s) {[self.exog_names[j] for j in np.flatnonzero(const)]} are constant "
                "within "
                "every baseline period, so they are collinear with the baseline dummies; drop them."
            )
        _, R, piv = linalg.qr(Ss, pivoting=True)
        diag = np.abs(np.diag(R))
        dep = piv[diag < 1e-9 * diag[0]]
        if len(dep):
            raise SpecificationError(
                f"{_WHERE}: covariate(s) {[self.exog_names[j] for j in sorted(dep)]} are linear "
                "combinations of "
                "the other covariates and the baseline dummies (perfect collinearity); drop them."
            )

    def _design(
        self, collapse: Any, cluster_codes: np.ndarray | None
    ) -> tuple[core.Design, bool, np.ndarray]:
        return self._sorted(), True, np.zeros(0, dtype=np.int64)


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
    covs = [] if covariates is None else ([covariates] if isinstance(covariates, str) else list(covariates))
    check_option("link", link, core.LINKS, _WHERE)
    meta = data._meta
    check_columns(meta, [duration, event] + ([id] if id else []), _WHERE, role="duration/event/id")
    check_columns(meta, covs, _WHERE, role="covariates")
    for c in covs:
        if not (pd.api.types.is_numeric_dtype(meta[c]) or pd.api.types.is_bool_dtype(meta[c])):
            raise SpecificationError(
                f"{_WHERE}: covariate column {c!r} is not numeric (dtype {meta[c].dtype})."
            )
    probe = DiscreteHazard.__new__(DiscreteHazard)
    probe._where = _WHERE
    check_option("baseline", baseline, ("week", "bands", "none"), _WHERE)
    if baseline == "bands":
        bands = probe._check_bands(bands)
    elif bands is not None:
        raise SpecificationError(
            f"{_WHERE}: 'bands' is only used with baseline='bands'; got baseline={baseline!r}."
        )
    o = dict(
        covariates=covs, duration=duration, event=event, id=id, link=link, baseline=baseline, bands=bands
    )
    parts = map_partitions(data, _cells_part, o)
    n_total = sum(q["n_total"] for q in parts)
    n_dropped = sum(q["n_dropped"] for q in parts)
    if n_dropped:
        import warnings

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
    return _Cells(cells, o, counts).fit(collapse=True, max_iter=max_iter, tol=tol)
