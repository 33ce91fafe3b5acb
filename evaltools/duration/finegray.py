"""Fine-Gray subdistribution hazards regression for competing exits.

The model is fitted as R does it: ``survival::finegray`` expands the data with
censoring weights and a weighted Cox model (:class:`~evaltools.duration.cox.CoxPH`)
is fitted to the expanded rows.  Persons who leave by a competing exit stay in
the risk set after their exit with weight ``G(t-) / G(T-)`` (``G`` the
censoring distribution; with delayed entry also ``H(t-) / H(T-)``, ``H`` the
entry distribution, as Geskus 2011).  Counting-process rows ``(start, stop]``
carry time-varying covariates; strata give separate baseline subdistribution
hazards (and separate censoring distributions); standard errors can be
model-based, robust, clustered on persons, or the Fine and Gray (1999)
variance that also accounts for estimating ``G`` (as ``cmprsk::crr``).

Results agree with R ``survival::finegray`` + ``coxph(weights = fgwt)`` and with
``cmprsk::crr`` (``tests/reference/duration/finegray_*``).

References
----------
Fine, J.P. and Gray, R.J. (1999). A proportional hazards model for the
subdistribution of a competing risk. *JASA* 94, 496-509.
Geskus, R.B. (2011). Cause-specific cumulative incidence estimation and the
Fine and Gray model under both left truncation and right censoring.
*Biometrics* 67, 39-49.
Therneau, T., Crowson, C. and Atkinson, E. Multi-state models and competing
risks (vignette of the R package survival).

Examples
--------
>>> import numpy as np
>>> from evaltools.datasets.rossi import load_person_weeks
>>> from evaltools.duration import FineGray
>>> pw = load_person_weeks()
>>> exit_type = np.where(pw["event"] == 1, np.where(pw["id"] % 3 == 0, "other", "arrest"), "none")
>>> model = FineGray.from_formula("~ fin + age + prio + employed", pw.assign(exit=exit_type),
...                               cause="arrest", event="exit", censored="none",
...                               start="start", stop="stop", id="id")
>>> res = model.fit()
>>> print(round(res.params["employed"], 2))
-1.3
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from evaltools._model.data import FormulaMixin
from evaltools._model.design import Design
from evaltools._validation import as_list, check_columns, check_option, raise_for_rows
from evaltools.duration import _cox_core as cox_core
from evaltools.duration import _finegray_core as core
from evaltools.duration._finegray_results import FineGrayResults, build_results
from evaltools.duration.cox import CoxPH, design_matrix
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

__all__ = ["FineGray", "FineGrayResults"]

_WHERE = "FineGray"
_COV_TYPES = ("nonrobust", "robust", "cluster", "fine-gray")


class FineGray(FormulaMixin):
    """Fine-Gray proportional subdistribution hazards model.

    :meth:`from_formula` builds the model from a right-hand-side formula
    (formulaic syntax, e.g. ``"~ age + C(sex) + sanction"``; categorical
    variables get treatment coding, the intercept is removed) and the
    keyword arguments below.

    Parameters
    ----------
    data : DataFrame
        One row per person (right-censored data, ``start=None``) or one row per
        interval ``(start, stop]`` with constant covariates (counting-process
        data; needs ``id``).  Never modified.
    covariates : sequence of str, optional
        Numeric covariate columns.  Give either ``covariates`` or ``exog`` (or
        use :meth:`from_formula`).
    exog : array-like or DataFrame, optional
        Covariate matrix with one row per row of ``data`` (by position).
    cause : object
        The exit type modelled (a value of ``event``).
    event : str, default="event"
        Column with the exit type at ``stop``; ``censored`` marks rows without
        an exit, every other value is an exit type.
    censored : object, default=0
        Value of ``event`` meaning "no exit" (censored, or a row followed by
        the person's next row).
    start : str, optional
        Interval start (counting-process data).  Rows are at risk at ``t`` when
        ``start < t <= stop``; a person whose first row starts after the
        earliest exit time enters late (left truncation).
    stop : str, default="stop"
        Interval end or exit time.
    id : str, optional
        Person identifier (required with ``start``).  A person's rows must be
        contiguous (no overlaps or gaps) with the exit on the last row.
    strata : str or sequence of str, optional
        Strata with separate baseline subdistribution hazards and separate
        censoring (and entry) distributions, as ``finegray(... + strata(s))``
        followed by ``coxph(... + strata(s))``.
    weights : str, optional
        Positive case weights; they multiply the censoring weights (the
        censoring distribution itself is unweighted, as in R).
    convention : {"survival", "cmprsk"}, default="survival"
        Tie rule for the censoring distribution.  ``"survival"`` (R
        ``finegray``): exits at a censoring time come first and are not in the
        censoring risk set.  ``"cmprsk"`` (R ``cmprsk::crr``): the ordinary
        reverse Kaplan-Meier, exits at a censoring time are in its risk set.
        With ``convention="cmprsk"`` and ``fit(ties="breslow", cov_type="fine-gray")``
        the results are those of ``crr``.

    Notes
    -----
    Rows with missing values in a used column are dropped with a
    :class:`~evaltools.exceptions.MissingValueWarning` (whole persons are
    dropped when ``id`` is given, so that no person loses part of the
    follow-up); the count is in the results summary.  Competing exits are kept
    in the risk set with their covariates at the exit.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaltools.duration import FineGray
    >>> d = pd.DataFrame({"t": [2, 3, 3, 5, 6, 7, 8, 9], "exit": [1, 2, 1, 0, 1, 2, 0, 1],
    ...                   "x": [0.5, 0.1, 1.2, -0.3, 0.8, -1.0, 0.2, -0.6]})
    >>> FineGray.from_formula("~ x", d, cause=1, event="exit", stop="t").fit().params.round(3).tolist()
    [1.903]
    """

    _formula_target = "exog"
    _formula_kwargs = ("cause", "event", "censored", "start", "stop", "id", "strata", "weights", "convention")
    _formula_hint = "Name the time and exit-type columns with the stop=, event= (and start=) keywords."

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        covariates: Sequence[str] | None = None,
        exog: Any = None,
        cause: Any = None,
        event: str = "event",
        censored: Any = 0,
        start: str | None = None,
        stop: str = "stop",
        id: str | None = None,  # noqa: A002 - column role name from the style guide
        strata: str | Sequence[str] | None = None,
        weights: str | None = None,
        convention: str = "survival",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{_WHERE}: 'data' must be a pandas DataFrame; got {type(data).__name__}."
            )
        if (covariates is None) == (exog is None):
            raise SpecificationError(
                f"{_WHERE}: give exactly one of 'covariates' (column names) or 'exog' (a matrix); "
                "use FineGray.from_formula for a formula."
            )
        check_option("convention", convention, ["survival", "cmprsk"], _WHERE)
        if start is not None and id is None:
            raise SpecificationError(
                f"{_WHERE}: counting-process data (start={start!r}) need a person identifier: "
                "pass id='column'."
            )
        self.cause, self.event, self.censored = cause, event, censored
        self.start, self.stop, self.id = start, stop, id
        self.strata = as_list(strata)
        self.weights = weights
        self.convention = convention
        roles = [c for c in (start, stop, event, id) if c is not None] + self.strata
        roles += [weights] if weights else []
        check_columns(data, roles, _WHERE, role="start/stop/event/id/strata/weights")
        self._formula_spec: Any = None
        self._formula_design: Any = None
        self.formula: str | None = None
        if covariates is not None:
            design = Design.from_columns(data, as_list(covariates), _WHERE)
        else:
            design = Design.from_matrix(exog, data, _WHERE)
        self.exog_names, X = design.names, design.X
        self._covariate_columns: list[str] | None = design.columns
        if X.shape[1] == 0:
            raise SpecificationError(f"{_WHERE}: the model has no covariates.")
        self._prepare(data, X, roles)

    # ------------------------------------------------------------------
    def _prepare(self, data: pd.DataFrame, X: np.ndarray, roles: list[str]) -> None:
        n_total = len(data)
        role_na = np.column_stack([data[c].isna().to_numpy() for c in roles])
        x_na = np.isnan(X)
        bad = role_na.any(axis=1) | x_na.any(axis=1)
        self.n_total = n_total
        self.dropped_columns: dict[str, int] = {}
        if bad.any():
            counts = dict(zip(roles, role_na.sum(axis=0).tolist()))
            counts.update(dict(zip(self.exog_names, x_na.sum(axis=0).tolist())))
            self.dropped_columns = {k: int(v) for k, v in counts.items() if v}
            extra = ""
            if self.id is not None and not data[self.id].isna().all():
                bad_ids = pd.unique(data[self.id][bad].dropna())
                bad = bad | data[self.id].isin(bad_ids).to_numpy()
                extra = f" ({len(bad_ids):,} persons with a missing value are dropped entirely)"
            warnings.warn(
                f"{_WHERE}: dropped {int(bad.sum()):,} of {n_total:,} rows with missing values{extra} "
                f"(missing per column: {self.dropped_columns}). Impute or remove them first to silence this.",
                MissingValueWarning,
                stacklevel=4,
            )
        self.n_dropped = int(bad.sum())
        self._rows = np.flatnonzero(~bad)
        self.data = data
        frame = data if self.n_dropped == 0 else data.iloc[self._rows]
        self.nobs = len(frame)
        if self.nobs == 0:
            raise DataValidationError(f"{_WHERE}: no rows left after removing rows with missing values.")
        X = X[~bad] if self.n_dropped else X
        id_cols = [self.id] if self.id else []
        time_cols = [c for c in (self.start, self.stop) if c is not None]
        for c in time_cols:
            if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
                raise DataValidationError(
                    f"{_WHERE}: column {c!r} must be numeric (times); got dtype {frame[c].dtype}. "
                    "Convert it, e.g. to week numbers."
                )
        stop = frame[self.stop].to_numpy(dtype=float)
        start = frame[self.start].to_numpy(dtype=float) if self.start else None
        show = id_cols + time_cols
        raise_for_rows(
            frame,
            ~np.isfinite(stop) | (~np.isfinite(start) if start is not None else False),
            rule=f"{_WHERE}: columns {time_cols} must be finite",
            fix="Replace infinite times by the end of follow-up.",
            columns=show,
        )
        if start is not None:
            raise_for_rows(
                frame,
                stop <= start,
                rule=f"{_WHERE}: column {self.stop!r} must be greater than {self.start!r} in every row "
                "(zero or negative interval length)",
                fix="Remove zero-length intervals or fix the interval bounds.",
                columns=show,
            )
        else:
            raise_for_rows(
                frame,
                stop <= 0,
                rule=f"{_WHERE}: column {self.stop!r} must be positive (zero or negative times)",
                fix="Correct these times, or give start= and id= for rows that begin after time 0.",
                columns=show,
            )
            start = np.zeros(self.nobs)
        # exit types
        ev = frame[self.event]
        values = [
            v.item() if isinstance(v, np.generic) else v for v in pd.unique(ev) if not _same(v, self.censored)
        ]
        if not any(_same(v, self.cause) for v in values):
            shown = sorted(map(repr, values))[:10]
            raise SpecificationError(
                f"{_WHERE}: cause={self.cause!r} does not occur in column {self.event!r} (exit types found: "
                f"{shown}; censored={self.censored!r}). Pass one of the exit types as cause=."
            )
        self.competing = sorted(
            (v for v in values if not _same(v, self.cause)), key=lambda v: (str(type(v)), v)
        )
        status = np.zeros(self.nobs, dtype=np.int8)  # 0 none, 1 modelled exit, 2 competing exit
        exited = ~(ev == self.censored).to_numpy()
        status[exited] = 2
        status[(ev == self.cause).to_numpy()] = 1
        self.n_exit_by_type = {
            self.cause: int((status == 1).sum()),
            **{v: int((ev == v).sum()) for v in self.competing},
        }
        raise_for_rows(
            frame,
            ~np.isfinite(X).all(axis=1),
            rule=f"{_WHERE}: covariates must be finite (no inf)",
            fix="Replace infinite covariate values.",
            columns=show,
        )
        if self.weights:
            wcol = frame[self.weights]
            if not pd.api.types.is_numeric_dtype(wcol) or pd.api.types.is_bool_dtype(wcol):
                raise DataValidationError(f"{_WHERE}: weights column {self.weights!r} must be numeric.")
            w = wcol.to_numpy(dtype=float)
            raise_for_rows(
                frame,
                ~(np.isfinite(w) & (w > 0)),
                rule=f"{_WHERE}: weights column {self.weights!r} must be finite and > 0",
                fix="Remove rows with zero weight or fix the weights.",
                columns=show + [self.weights],
            )
        else:
            w = np.ones(self.nobs)
        if self.strata:
            grp = frame.groupby(self.strata, sort=True, observed=True)
            stratum = grp.ngroup().to_numpy().astype(np.int64)
            keys = list(grp.groups.keys())
            if len(self.strata) == 1:
                self.strata_labels = [f"{self.strata[0]}={k}" for k in keys]
            else:
                # several strata: the group keys are tuples
                self.strata_labels = [
                    ", ".join(f"{s}={v}" for s, v in zip(self.strata, cast("tuple[Any, ...]", k)))
                    for k in keys
                ]
        else:
            stratum = np.zeros(self.nobs, dtype=np.int64)
            self.strata_labels = []
        # persons
        if self.id:
            pid, _ = pd.factorize(frame[self.id])
            pid = pid.astype(np.int64)
            o = np.lexsort((start, pid))
            same = pid[o][1:] == pid[o][:-1]
            mask = np.zeros(self.nobs, bool)
            mask[o[1:][same & (start[o][1:] < stop[o][:-1])]] = True
            raise_for_rows(
                frame,
                mask,
                rule=f"{_WHERE}: intervals of the same {self.id!r} must not overlap",
                fix="Split the person's follow-up into non-overlapping (start, stop] intervals.",
                columns=show,
            )
            mask[:] = False
            mask[o[1:][same & (start[o][1:] > stop[o][:-1])]] = True
            raise_for_rows(
                frame,
                mask,
                rule=f"{_WHERE}: rows of the same {self.id!r} must be contiguous (a gap between the previous "
                "row's stop and this row's start)",
                fix="Fill the gap with a row (the censoring weights need continuous follow-up) or split the "
                "person into separate ids.",
                columns=show,
            )
            mask[:] = False
            mask[o[:-1][same & (status[o][:-1] != 0)]] = True
            raise_for_rows(
                frame,
                mask,
                rule=f"{_WHERE}: an exit must be on the last row of its {self.id!r} (rows follow an exit)",
                fix="Remove the rows after the exit.",
                columns=show + [self.event],
            )
            if self.strata:
                first_s = np.full(int(pid.max()) + 1, -1)
                first_s[pid[o]] = stratum[o]  # last assignment wins: any row's stratum
                raise_for_rows(
                    frame,
                    first_s[pid] != stratum,
                    rule=f"{_WHERE}: strata {self.strata} must be constant within each {self.id!r}",
                    fix="Strata define separate censoring distributions per person group; use a covariate "
                    "for characteristics that change over time.",
                    columns=show + self.strata,
                )
            first = np.zeros(self.nobs, bool)
            last = np.zeros(self.nobs, bool)
            first[o[np.r_[True, ~same]]] = True
            last[o[np.r_[~same, True]]] = True
        else:
            pid = np.arange(self.nobs, dtype=np.int64)
            first = last = np.ones(self.nobs, bool)
        self.n_persons = int(pid.max()) + 1
        self.delay = bool((start[first] > stop.min()).any())
        self.n_delayed_entry = int((start[first] > start[first].min()).sum()) if self.delay else 0
        self._X, self._start, self._stop, self._status = X, start, stop, status
        self._w, self._stratum, self._pid, self._first, self._last = w, stratum, pid, first, last
        self._expand()

    def _expand(self) -> None:
        """Censoring weights and the expanded rows (R ``finegray``), one pass per stratum."""
        start, stop, status = self._start, self._stop, self._status
        n_s = int(self._stratum.max()) + 1
        curves: list[core.WeightCurve] = []
        parts: list[tuple[np.ndarray, ...]] = []
        for g in range(n_s):
            rows = np.flatnonzero(self._stratum == g)
            s, t, st = start[rows], stop[rows], status[rows]
            last = self._last[rows]
            curve = core.weight_curve(
                s,
                t,
                st != 0,
                last & (st == 0),
                self._first[rows],
                convention=self.convention,
                delay=self.delay,
            )
            curves.append(curve)
            if not (st == 1).any():
                parts.append((rows, s, t, np.ones(len(rows))))
                continue
            r, ns, nt, f = core.expand(curve, s, t, last & (st == 2), t[st == 1])
            parts.append((rows[r], ns, nt, f))
        row = np.concatenate([p[0] for p in parts])
        factor = np.concatenate([p[3] for p in parts])
        if not np.isfinite(factor).all():
            bad_rows = np.unique(row[~np.isfinite(factor)])
            at = max(c.entry_zero for c in curves if np.isfinite(c.entry_zero))
            ids = (
                self.data[self.id].iloc[self._rows[bad_rows[:3]]].tolist()
                if self.id
                else bad_rows[:3].tolist()
            )
            raise DataValidationError(
                f"{_WHERE}: at entry time {at:g} everybody under observation had just entered (all earlier "
                "entrants had left), so the estimated entry distribution is zero before it and "
                f"{len(bad_rows):,} competing exits before that time would get infinite censoring weights "
                f"(e.g. {self.id or 'row'}={ids}). Start the analysis at time {at:g}: drop the persons who "
                "leave before it and the earlier rows of the others."
            )
        keep = factor > 0
        self._curves = curves
        self._exp_row = row[keep]
        self._exp_start = np.concatenate([p[1] for p in parts])[keep]
        self._exp_stop = np.concatenate([p[2] for p in parts])[keep]
        self._exp_w = factor[keep] * self._w[self._exp_row]
        self.n_expanded = int(keep.sum())

    # ------------------------------------------------------------------
    def _design(self, data: Any) -> np.ndarray:
        return design_matrix(self, data, "FineGrayResults.predict_cumulative_incidence")

    def fit(
        self,
        *,
        ties: str = "efron",
        cov_type: str = "cluster",
        cluster: str | None = None,
        tol: float = 1e-9,
        max_iter: int = 50,
    ) -> FineGrayResults:
        """Fit the weighted Cox model to the expanded data.

        Parameters
        ----------
        ties : {"efron", "breslow"}, default="efron"
            Tied exit times (``crr`` uses Breslow's method).
        cov_type : {"nonrobust", "robust", "cluster", "fine-gray"}, default="cluster"
            ``"nonrobust"``: inverse information of the weighted fit (R's
            ``se(coef)``; it treats the weights as known and is too small).
            ``"robust"``: Lin-Wei sandwich with every input row as a cluster
            (its expanded pieces together), as ``coxph(..., cluster = row)``.
            ``"cluster"``: sandwich summing over ``cluster`` (default the
            persons: ``id``, or the rows when each row is a person), as
            ``coxph(..., cluster = id)``.  ``"fine-gray"``: the person-clustered
            sandwich plus the term for estimating the censoring distribution
            (Fine and Gray 1999; ``cmprsk::crr``); needs no delayed entry and no
            case weights.
        cluster : str, optional
            Column of the model data defining clusters (only with ``cov_type="cluster"``).
        tol : float, default=1e-9
            Convergence tolerance on the relative change of the log pseudo-likelihood.
        max_iter : int, default=50
            Maximum number of Newton iterations.

        Returns
        -------
        FineGrayResults
            A new read-only results object; the model is not modified.
        """
        check_option("ties", ties, ["efron", "breslow"], "FineGray.fit")
        check_option("cov_type", cov_type, _COV_TYPES, "FineGray.fit")
        if cluster is not None and cov_type != "cluster":
            raise SpecificationError(
                f"FineGray.fit: cluster={cluster!r} is only used with cov_type='cluster'; "
                f"got cov_type={cov_type!r}."
            )
        if cov_type == "fine-gray" and (self.delay or self.weights):
            what = "delayed entry" if self.delay else f"case weights ({self.weights!r})"
            raise SpecificationError(
                f"FineGray.fit: cov_type='fine-gray' is not available with {what}: "
                "its censoring term assumes "
                "unweighted persons followed from the start. Use cov_type='cluster'."
            )
        clusters, cluster_name = self._clusters(cov_type, cluster)
        frame = pd.DataFrame(
            {
                "start": self._exp_start,
                "stop": self._exp_stop,
                "event": self._status[self._exp_row] == 1,
                "w": self._exp_w,
                "stratum": self._stratum[self._exp_row],
            }
        )
        exog = pd.DataFrame(self._X[self._exp_row], columns=self.exog_names)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cox = CoxPH(
                    frame,
                    exog=exog,
                    start="start",
                    stop="stop",
                    event="event",
                    weights="w",
                    strata="stratum" if self.strata else None,
                )
                cox_res = cox.fit(ties=ties, cov_type="nonrobust", tol=tol, max_iter=max_iter)
            except (SpecificationError, DataValidationError) as err:
                msg = str(err).replace("CoxPH.fit", "FineGray.fit").replace("CoxPH", _WHERE)
                raise type(err)(msg) from None
        for wmsg in caught:
            warnings.warn(
                str(wmsg.message).replace("CoxPH.fit", "FineGray.fit").replace("CoxPH", _WHERE),
                wmsg.category,
                stacklevel=2,
            )
        st = cox_res._state
        beta = cox_res.params.to_numpy()
        cov_naive = cox_res.cov_naive.to_numpy()
        if cov_type == "nonrobust":
            cov = cov_naive
        else:
            resid = cox_core.score_residuals(st["X"], st["index"], st["ev"]) * st["w"][:, None]
            src = self._exp_row[cox._active]
            if cov_type == "robust":
                groups, size = src, self.nobs
            elif cov_type == "cluster":
                if clusters is None:  # pragma: no cover - _clusters returns codes for cov_type="cluster"
                    raise SpecificationError("FineGray.fit: cov_type='cluster' found no cluster codes.")
                groups, size = clusters[src], int(clusters.max()) + 1
            else:
                groups, size = self._pid[src], self.n_persons
            sums = np.stack(
                [np.bincount(groups, resid[:, j], minlength=size) for j in range(len(beta))], axis=1
            )
            if cov_type == "fine-gray":
                sums = sums + self._censoring_term(beta, st)
            meat = sums.T @ sums
            cov = cov_naive @ meat @ cov_naive
        return build_results(
            self,
            cox_res=cox_res,
            cov=cov,
            ties=ties,
            cov_type=cov_type,
            cluster_name=cluster_name,
            n_clusters=None if clusters is None else int(len(np.unique(clusters))),
        )

    def _censoring_term(self, beta: np.ndarray, st: dict[str, Any]) -> np.ndarray:
        last = np.flatnonzero(self._last)
        p_stratum = np.empty(self.n_persons, dtype=np.int64)
        p_exit = np.empty(self.n_persons)
        p_cens = np.zeros(self.n_persons, bool)
        p_stratum[self._pid[last]] = self._stratum[last]
        p_exit[self._pid[last]] = self._stop[last]
        p_cens[self._pid[last]] = self._status[last] == 0
        comp_rows = last[self._status[last] == 2]
        xc = self._X[comp_rows] - st["mean"]
        return core.censoring_term(
            curves=self._curves,
            convention=self.convention,
            person_stratum=p_stratum,
            person_exit=p_exit,
            person_censored=p_cens,
            comp_person=self._pid[comp_rows],
            comp_r=np.exp(xc @ beta - st["ev"].shift),
            comp_x=xc,
            index=st["index"],
            ev=st["ev"],
        )

    def _clusters(self, cov_type: str, cluster: str | None) -> tuple[np.ndarray | None, str | None]:
        if cov_type != "cluster":
            return None, ("persons" if cov_type == "fine-gray" else None)
        if cluster is None:
            return self._pid, (self.id or "rows (one row per person)")
        check_columns(self.data, [cluster], "FineGray.fit", role="cluster")
        col = self.data[cluster].iloc[self._rows]
        if col.isna().any():
            raise DataValidationError(
                f"FineGray.fit: cluster column {cluster!r} has {int(col.isna().sum()):,} missing values "
                "among the "
                f"{self.nobs:,} rows used. Fill them (e.g. with the person id) or drop those rows first."
            )
        codes, _ = pd.factorize(col)
        return codes.astype(np.int64), cluster


def _same(a: Any, b: Any) -> bool:
    """Equality for exit-type labels (numbers compare by value, so 1 == 1.0)."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
