"""Cox proportional hazards model for ``(start, stop]`` counting-process data.

The model handles time-varying covariates (one row per interval with constant
covariates), delayed entry, strata, case weights, Efron (default) or Breslow
ties and naive, robust or person-clustered (Lin-Wei) standard errors.  Results
agree with R ``survival::coxph`` (see ``tests/reference/duration/``).

Risk-set semantics: a row with interval ``(start, stop]`` is at risk at event
time ``t`` iff ``start < t <= stop``.  A row that *starts* at an event time is
therefore not in that event's risk set (R and lifelines behave the same way;
statsmodels ``PHReg(entry=start)`` includes it and gives different estimates).

Examples
--------
>>> from evaltools.datasets.rossi import load_person_weeks
>>> from evaltools.duration.cox import CoxPH
>>> pw = load_person_weeks()
>>> model = CoxPH.from_formula("~ fin + age + race + wexp + mar + paro + prio + employed", pw,
...                            start="start", stop="stop", event="event", id="id")
>>> res = model.fit(cov_type="cluster")
>>> print(round(res.params["employed"], 4))
-1.3283
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from evaltools._model.covariance import RENAMES, resolve_cov_type
from evaltools._model.data import FormulaMixin
from evaltools._model.design import Design
from evaltools._model.optimize import diverging_coefficients, newton_maximize, solve_step
from evaltools._validation import as_list, check_columns, check_option, raise_for_rows
from evaltools.duration import _cox_core as core
from evaltools.duration._cox_results import CoxResults, build_results
from evaltools.exceptions import (
    ConvergenceWarning,
    DataValidationError,
    MissingValueWarning,
    SpecificationError,
)

__all__ = ["CoxPH", "CoxResults"]

_WHERE = "CoxPH"


class CoxPH(FormulaMixin):
    """Cox proportional hazards model on ``(start, stop]`` counting-process data.

    :meth:`from_formula` builds the model from a right-hand-side formula
    (formulaic syntax, e.g. ``"~ fin + age + C(race)"``; categorical
    variables get treatment coding, the intercept is removed) and the
    keyword arguments below.

    Parameters
    ----------
    data : DataFrame
        One row per interval ``(start, stop]`` during which the covariates are
        constant.  Never modified.
    covariates : sequence of str, optional
        Numeric covariate columns of ``data``.  Give either ``covariates`` or
        ``exog`` (or use :meth:`from_formula` for categorical covariates).
    exog : array-like or DataFrame, optional
        Covariate matrix with one row per row of ``data`` (matched by position).
    start, stop, event : str
        Columns with the interval bounds and the event indicator (0/1 or bool;
        the event happens at ``stop``).
    id : str, optional
        Identifier of the unit whose rows form one follow-up: a **spell** id
        when the rows are the counting-process rows of benefit spells (as
        :func:`~evaltools.data.to_counting_process` writes them, ``spell_id``),
        a person id when each person has one follow-up.  When given, the
        intervals of one id must not overlap and an event must be on its last
        row (see ``recurrent``); the id is also the default cluster for
        ``cov_type="cluster"``.  With several spells per person, cluster on the
        person instead: ``fit(cov_type="cluster", cluster="person_id")``.
    strata : str or sequence of str, optional
        Columns defining strata with separate baseline hazards.
    weights : str, optional
        Column of positive case weights (as R ``coxph(weights=)``).
    recurrent : bool, default=False
        Allow events before a person's last row (Andersen-Gill recurrent
        events).  Requires ``id``-based checks to be meaningful.

    Notes
    -----
    Rows with missing values in any used column are dropped with a
    :class:`~evaltools.exceptions.MissingValueWarning` stating the count; the
    count is reported in the results summary.  Rows that are at risk at no
    event time do not enter the partial likelihood (they are kept, not dropped).

    Examples
    --------
    Exit from social assistance to self-support on the synthetic sample, with a
    time-varying sanction indicator and person-clustered standard errors:

    >>> from evaltools.data import build_spells, read_panel, to_counting_process
    >>> panel = read_panel("data_samples/sample_panel")  # doctest: +SKIP
    >>> spells = build_spells(panel, benefit="kontanthjaelp")  # doctest: +SKIP
    >>> rows = to_counting_process(spells, panel, treatments="sanction", covariates=["sex"],
    ...                            event_exits=["self_support"])  # doctest: +SKIP
    >>> res = CoxPH.from_formula("~ treated + C(sex)", rows, id="spell_id").fit(
    ...     cov_type="cluster", cluster="person_id")  # doctest: +SKIP
    >>> res.hazard_ratios["treated"]  # doctest: +SKIP

    The Rossi recidivism data (one follow-up per person, so ``id`` is the person):

    >>> from evaltools.datasets.rossi import load_person_weeks
    >>> pw = load_person_weeks()
    >>> res = CoxPH.from_formula("~ fin + age + prio + employed", pw, id="id").fit()
    >>> round(float(res.params["employed"]), 2)
    -1.35
    """

    _formula_target = "exog"
    _formula_kwargs = ("start", "stop", "event", "id", "strata", "weights", "recurrent")
    _formula_hint = "Name the start, stop and event columns with the start=, stop= and event= keywords."

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        covariates: Sequence[str] | None = None,
        exog: Any = None,
        start: str = "start",
        stop: str = "stop",
        event: str = "event",
        id: str | None = None,  # noqa: A002 - column role name from the style guide
        strata: str | Sequence[str] | None = None,
        weights: str | None = None,
        recurrent: bool = False,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{_WHERE}: 'data' must be a pandas DataFrame; got {type(data).__name__}. "
                "For a Dask DataFrame use evaltools.duration.dask.cox_dask."
            )
        if (covariates is None) == (exog is None):
            raise SpecificationError(
                f"{_WHERE}: give exactly one of 'covariates' (column names) or 'exog' (a matrix); "
                "use CoxPH.from_formula for a formula."
            )
        self.start, self.stop, self.event, self.id = start, stop, event, id
        self.strata = as_list(strata)
        self.weights = weights
        self.recurrent = bool(recurrent)
        roles = [start, stop, event] + ([id] if id else []) + self.strata + ([weights] if weights else [])
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
        self.n_dropped = int(bad.sum())
        self.dropped_columns: dict[str, int] = {}
        if self.n_dropped:
            counts = dict(zip(roles, role_na.sum(axis=0).tolist()))
            counts.update(dict(zip(self.exog_names, x_na.sum(axis=0).tolist())))
            self.dropped_columns = {k: int(v) for k, v in counts.items() if v}
            warnings.warn(
                f"{_WHERE}: dropped {self.n_dropped:,} of {n_total:,} rows with missing values "
                f"(missing per column: {self.dropped_columns}). Impute or remove them first to silence this.",
                MissingValueWarning,
                stacklevel=4,
            )
        keep = ~bad
        self._rows = np.flatnonzero(keep)
        self.data = data
        frame = data if self.n_dropped == 0 else data.iloc[self._rows]
        self.nobs = len(frame)
        if self.nobs == 0:
            raise DataValidationError(f"{_WHERE}: no rows left after removing rows with missing values.")
        if self.n_dropped:
            X = X[keep]
        ex_cols = [self.id] if self.id else []
        ex_cols += [self.start, self.stop]
        for c in (self.start, self.stop):
            if not pd.api.types.is_numeric_dtype(frame[c]):
                raise DataValidationError(
                    f"{_WHERE}: column {c!r} must be numeric (times); got dtype {frame[c].dtype}. "
                    "Convert it, e.g. to week numbers."
                )
        start = frame[self.start].to_numpy(dtype=float)
        stop = frame[self.stop].to_numpy(dtype=float)
        raise_for_rows(
            frame,
            ~np.isfinite(start) | ~np.isfinite(stop),
            rule=f"columns {self.start!r} and {self.stop!r} must be finite",
            fix="Replace infinite times by the end of follow-up.",
            columns=ex_cols,
        )
        raise_for_rows(
            frame,
            stop <= start,
            rule=f"column {self.stop!r} must be greater than {self.start!r} in every row "
            "(zero or negative interval length)",
            fix="Remove zero-length intervals or fix the interval bounds; an event at time 0 "
            "needs a start below 0.",
            columns=ex_cols,
        )
        ev_raw = frame[self.event]
        if pd.api.types.is_bool_dtype(ev_raw):
            event = ev_raw.to_numpy(dtype=bool)
        else:
            if not pd.api.types.is_numeric_dtype(ev_raw):
                raise DataValidationError(
                    f"{_WHERE}: column {self.event!r} must be 0/1 or bool; got dtype {ev_raw.dtype}. "
                    "Recode the event indicator as 1 = event at 'stop', 0 = censored."
                )
            ev_num = ev_raw.to_numpy(dtype=float)
            raise_for_rows(
                frame,
                (ev_num != 0) & (ev_num != 1),
                rule=f"column {self.event!r} must be 0 or 1",
                fix="Recode the event indicator (competing events: fit one model per cause, "
                "treating the other causes as censored).",
                columns=ex_cols + [self.event],
            )
            event = ev_num == 1
        if not event.any():
            raise DataValidationError(
                f"{_WHERE}: column {self.event!r} has no events; the model cannot be fit."
            )
        raise_for_rows(
            frame,
            ~np.isfinite(X).all(axis=1),
            rule="covariates must be finite (no inf)",
            fix="Replace infinite covariate values.",
            columns=ex_cols,
        )
        if self.weights:
            if not pd.api.types.is_numeric_dtype(frame[self.weights]):
                raise DataValidationError(f"{_WHERE}: weights column {self.weights!r} must be numeric.")
            w = frame[self.weights].to_numpy(dtype=float)
            raise_for_rows(
                frame,
                ~(np.isfinite(w) & (w > 0)),
                rule=f"weights column {self.weights!r} must be finite and > 0",
                fix="Remove rows with zero weight or fix the weights.",
                columns=ex_cols + [self.weights],
            )
        else:
            w = np.ones(self.nobs)
        # strata
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
        # id-level checks
        self.n_persons: int | None = None
        self._id_codes: np.ndarray | None
        self.n_delayed_entry = 0
        self.n_gaps = 0
        if self.id:
            idc, _ = pd.factorize(frame[self.id])
            self._id_codes = idc
            self.n_persons = int(idc.max()) + 1
            d_id = np.diff(idc)
            if np.all((d_id > 0) | ((d_id == 0) & (np.diff(start) > 0))):
                o = np.arange(self.nobs)  # already sorted by id then start: skip the sort
            else:
                o = np.lexsort((start, idc))
            same = idc[o][1:] == idc[o][:-1]
            overlap = same & (start[o][1:] < stop[o][:-1])
            mask = np.zeros(self.nobs, bool)
            mask[o[1:][overlap]] = True
            raise_for_rows(
                frame,
                mask,
                rule=f"intervals of the same {self.id!r} must not overlap (a row starts before the "
                "previous row of the person stops)",
                fix="Split the person's follow-up into non-overlapping (start, stop] intervals.",
                columns=ex_cols,
            )
            if not self.recurrent:
                mask = np.zeros(self.nobs, bool)
                mask[o[:-1][same & event[o][:-1]]] = True
                raise_for_rows(
                    frame,
                    mask,
                    rule=f"an event must be on the last row of its {self.id!r} (rows follow an event)",
                    fix="Remove the rows after the event, or pass recurrent=True for "
                    "recurrent-event (Andersen-Gill) data.",
                    columns=ex_cols + [self.event],
                )
            first = np.ones(self.nobs, bool)
            first[o[1:]] = ~same
            self.n_delayed_entry = int((start[first] > 0).sum())
            self.n_gaps = int((same & (start[o][1:] > stop[o][:-1])).sum())
        else:
            self._id_codes = None
            self.n_delayed_entry = int((start > 0).sum())
        self._check_collinear(X, stratum)
        self._start, self._stop, self._event, self._w, self._stratum = start, stop, event, w, stratum
        self._X = X
        self._index, self._active = core.build_index(start, stop, event, stratum)

    def _check_collinear(self, X: np.ndarray, stratum: np.ndarray) -> None:
        """Raise SpecificationError naming constant or collinear covariates (within strata)."""
        n_s = int(stratum.max()) + 1
        n = len(X)
        cnt = np.bincount(stratum, minlength=n_s).astype(float)
        sums = np.stack([np.bincount(stratum, X[:, j], minlength=n_s) for j in range(X.shape[1])], axis=1)
        shift = X[0]  # shift before forming the Gram matrix (reduces cancellation)
        sums_c = sums - cnt[:, None] * shift
        Xs = X - shift
        # within-stratum cross-products: sum (x - mean_s)(x - mean_s)'
        G = Xs.T @ Xs - (sums_c / np.maximum(cnt, 1)[:, None]).T @ sums_c
        var = np.clip(np.diag(G), 0.0, None) / n
        scale = np.sqrt(var)
        tol = 1e-10 * (1.0 + np.abs(X).max(axis=0))
        const = [nm for nm, sc, t in zip(self.exog_names, scale, tol) if sc <= t]
        if const:
            where = " within every stratum" if self.strata else ""
            raise SpecificationError(
                f"{_WHERE}: covariate(s) {const} are constant{where}, so their coefficients are not "
                "identified (the baseline hazard absorbs them). Remove them from the model."
            )
        G = G / n / np.outer(scale, scale)
        kept: list[int] = []
        for j in range(G.shape[0]):
            if kept:
                Gk = G[np.ix_(kept, kept)]
                c = G[kept, j]
                coef = np.linalg.solve(Gk, c)
                resid = G[j, j] - c @ coef
                if resid < 1e-9:
                    used = [self.exog_names[k] for k, b in zip(kept, coef) if abs(b) > 1e-8]
                    raise SpecificationError(
                        f"{_WHERE}: covariate {self.exog_names[j]!r} is a linear combination of {used}"
                        f"{' within strata' if self.strata else ''} (collinear covariates). "
                        "Remove one of them (with dummies, drop one level)."
                    )
            kept.append(j)

    # ------------------------------------------------------------------
    def _design(self, data: Any) -> np.ndarray:
        """Covariate matrix for new data (used by predictions)."""
        return design_matrix(self, data, "CoxResults.predict")

    def fit(
        self,
        *,
        ties: str = "efron",
        cov_type: str = "nonrobust",
        cluster: str | None = None,
        tol: float = 1e-9,
        max_iter: int = 50,
    ) -> CoxResults:
        """Maximise the partial likelihood by Newton-Raphson with step halving.

        Parameters
        ----------
        ties : {"efron", "breslow"}, default="efron"
            Method for tied event times.
        cov_type : {"nonrobust", "robust", "cluster"}, default="nonrobust"
            ``"nonrobust"``: inverse information (``"naive"``, its old name, is
            accepted with a ``FutureWarning`` for one release).  ``"robust"``: Lin-Wei sandwich
            with each row as its own cluster (R ``coxph(..., cluster=row)``;
            for split person data use ``"cluster"``).  ``"cluster"``: Lin-Wei sandwich summing score
            residuals by ``cluster`` (default: the ``id`` column), as R
            ``coxph(..., cluster=id)``.
        cluster : str, optional
            Column of the model data defining clusters (only with
            ``cov_type="cluster"``).
        tol : float, default=1e-9
            Convergence tolerance on the relative change of the log partial
            likelihood (R's ``eps``).
        max_iter : int, default=50
            Maximum number of Newton iterations.

        Returns
        -------
        CoxResults
            A new read-only results object; the model is not modified.
        """
        check_option("ties", ties, ["efron", "breslow"], "CoxPH.fit")
        cov_type = resolve_cov_type(cov_type, "CoxPH.fit", renames=RENAMES["cox"])
        if not (isinstance(tol, (float, int)) and 0 < tol < 1):
            raise SpecificationError(
                f"The 'tol' parameter of CoxPH.fit must be a float in (0, 1). Got {tol!r} instead."
            )
        if not (isinstance(max_iter, (int, np.integer)) and not isinstance(max_iter, bool) and max_iter >= 1):
            raise SpecificationError(
                f"The 'max_iter' parameter of CoxPH.fit must be a positive int. Got {max_iter!r} instead."
            )
        clusters, cluster_name = self._clusters(cov_type, cluster)
        efron = ties == "efron"
        act = self._active
        Xfull = self._X
        mean = Xfull.mean(axis=0)
        X = Xfull[act] - mean
        w = self._w[act]
        idx = self._index
        p = X.shape[1]
        ev0 = core.evaluate(np.zeros(p), X, w, idx, efron)
        res = newton_maximize(
            lambda b: core.evaluate(b, X, w, idx, efron),
            np.zeros(p),
            lambda e: (solve_step(e.information, e.score), 0.0),
            max_iter=max_iter,
            tol=tol,
            criterion="llf",
            llf=lambda e: float(e.loglik),
            state0=ev0,
        )
        beta, ev, converged, n_iter, step = res.params, res.state, res.converged, res.n_iter, res.step
        names = self.exog_names
        bad = diverging_coefficients(beta, solve_step(ev.information, ev.score), names)
        if not converged:
            worst = [names[j] for j in np.argsort(-np.abs(step))[: min(3, p)]]
            warnings.warn(
                f"CoxPH.fit did not converge in {max_iter} iterations (relative log-likelihood change above "
                f"tol={tol:g}); the largest last steps are for {worst}. Increase max_iter or check the "
                "covariates for separation.",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif bad:
            converged = False
            warnings.warn(
                f"CoxPH.fit: the log-likelihood converged but the coefficient(s) of {bad} keep growing "
                "(monotone likelihood / separation): the estimates are tending to +/- infinity and their "
                "standard errors are meaningless. Remove or recode these covariates.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return build_results(
            self,
            beta=beta,
            ev=ev,
            ev0=ev0,
            X=X,
            w=w,
            mean=mean,
            ties=ties,
            cov_type=cov_type,
            clusters=clusters,
            cluster_name=cluster_name,
            converged=converged,
            n_iter=n_iter,
            tol=tol,
        )

    def _clusters(self, cov_type: str, cluster: str | None) -> tuple[np.ndarray | None, str | None]:
        if cov_type != "cluster":
            if cluster is not None:
                raise SpecificationError(
                    f"CoxPH.fit: cluster={cluster!r} is only used with cov_type='cluster'; "
                    f"got cov_type={cov_type!r}."
                )
            return None, None
        name = cluster if cluster is not None else self.id
        if name is None:
            raise SpecificationError(
                "CoxPH.fit: cov_type='cluster' needs a cluster column: pass cluster='column' "
                "or give id= to CoxPH."
            )
        if name == self.id and self._id_codes is not None:
            return self._id_codes, name
        check_columns(self.data, [name], "CoxPH.fit", role="cluster")
        col = self.data[name].iloc[self._rows]
        if col.isna().any():
            raise DataValidationError(
                f"CoxPH.fit: cluster column {name!r} has {int(col.isna().sum()):,} missing values among the "
                f"{self.nobs:,} rows used. Fill them (e.g. with the person id) or drop those rows "
                "before CoxPH."
            )
        codes, _ = pd.factorize(col)
        return codes, name


def design_matrix(model: Any, data: Any, where: str) -> np.ndarray:
    """Covariate matrix of new data in the encoding of a fitted model (formula, columns or matrix).

    ``model`` has ``_covariate_columns`` and ``exog_names`` (as :class:`CoxPH`)
    and, when built by ``from_formula``, ``_formula_design``; ``where`` names
    the calling method in error messages.
    """
    design = getattr(model, "_formula_design", None)
    if design is not None:
        return np.asarray(design.transform(data, where))
    if model._covariate_columns is not None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{where}: predictions need a DataFrame with the covariate columns.")
        check_columns(data, model._covariate_columns, where, role="covariates")
        return data[model._covariate_columns].to_numpy(dtype=float)
    X = np.asarray(data, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    if X.shape[1] != len(model.exog_names):
        raise SpecificationError(
            f"{where}: predictions need {len(model.exog_names)} covariate columns; got {X.shape[1]}."
        )
    return X

