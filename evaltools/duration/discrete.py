"""Discrete-time (grouped-time) hazard models on person-period rows.

:class:`DiscreteHazard` fits ``P(exit in period t | at risk) = F(alpha_t + x_t' beta)``
with a logit or complementary log-log link ``F`` (the cloglog model is the
grouped-time proportional hazards model of Prentice and Gloeckler), a
piecewise baseline by week or duration band and time-varying covariates.
:class:`MultinomialHazard` fits cause-specific competing exits by a
multinomial logit with one baseline per exit type.

When every covariate is discrete the person-periods are collapsed to cells
(baseline period x covariate pattern) with event and trial counts; the
binomial likelihood of the cells equals the Bernoulli likelihood of the rows,
so estimates and standard errors are identical.  Otherwise the baseline
parameters are eliminated inside each Newton step (block structure), so
hundreds of week effects cost no more than a handful of covariates.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from evaltools.duration.discrete import DiscreteHazard
>>> rng = np.random.default_rng(0)
>>> rows = pd.DataFrame({"duration": np.tile(np.arange(1, 11), 500), "x": rng.integers(0, 2, 5000)})
>>> rows["event"] = (rng.random(5000) < 0.05 + 0.05 * rows["x"]).astype(int)
>>> res = DiscreteHazard(rows, covariates=["x"], baseline="bands", bands=[3, 6]).fit()
>>> res.collapsed
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special

from evaltools._model.covariance import cluster_sums, sandwich, score_meat
from evaltools._model.data import FormulaMixin
from evaltools._validation import check_columns, check_option, raise_for_rows
from evaltools.duration import _discrete_core as core
from evaltools.duration._discrete_results import (
    DiscreteHazardResults,
    MultinomialHazardResults,
    build_binomial_results,
    build_multinomial_results,
)
from evaltools.exceptions import (
    ConvergenceWarning,
    DataValidationError,
    MissingValueWarning,
    SpecificationError,
)

__all__ = ["DiscreteHazard", "DiscreteHazardResults", "MultinomialHazard", "MultinomialHazardResults"]

_BASELINES = ("bands", "week", "none")
_COV_TYPES = ("nonrobust", "cluster")
_COLLAPSE = ("auto", True, False)
_MAX_LEVELS = 100  # a covariate with at most this many distinct values counts as discrete


def missing_rows(data: pd.DataFrame, X: np.ndarray, roles: list[str]) -> np.ndarray:
    """Rows with a missing value in a role column or a covariate (dropped, with a warning)."""
    role_na = np.column_stack([data[c].isna().to_numpy() for c in roles])
    return role_na.any(axis=1) | np.isnan(X).any(axis=1)


class DiscreteHazard(FormulaMixin):
    """Discrete-time hazard model (binary exit per person-period).

    :meth:`from_formula` builds the model from a one-sided formula
    (formulaic syntax, e.g. ``"~ age + C(region) + treated"``; the baseline
    replaces the intercept) and the keyword arguments below.

    Parameters
    ----------
    data : DataFrame
        One row per person-period at risk (e.g. from
        :func:`evaltools.data.person_period.to_person_period`).  Never modified.
    covariates : sequence of str, optional
        Numeric covariate columns (may vary over periods).  Give ``covariates``,
        ``exog`` or neither (baseline only); use :meth:`from_formula` for categorical terms.
    exog : array-like or DataFrame, optional
        Covariate matrix, one row per row of ``data``.
    duration : str, default="duration"
        Period index: positive integers 1, 2, ... (weeks since spell start).
    event : str, default="event"
        1 if the spell ends in this period, else 0.
    link : {"logit", "cloglog"}, default="logit"
        ``"cloglog"`` gives the grouped-time proportional hazards model.
    baseline : {"week", "bands", "none"}, default="week"
        One baseline parameter per distinct period, per duration band, or a single intercept.
    bands : sequence of int, optional
        Inclusive upper bounds of the duration bands for ``baseline="bands"``;
        ``[4, 13, 26]`` gives bands 1-4, 5-13, 14-26 and 27+.
    id : str, optional
        Person (spell) identifier: checked for duplicate periods and rows after
        an exit; default cluster for ``cov_type="cluster"``.

    Notes
    -----
    Rows with missing values in used columns are dropped with a
    :class:`~evaltools.exceptions.MissingValueWarning`; the count is reported
    in the summary.  A baseline period with no exits (or only exits) has an
    infinite maximum-likelihood estimate and raises an error naming the
    periods; merge them with ``bands``.
    """

    _where = "DiscreteHazard"
    _competing = False
    _formula_target = "exog"
    _formula_kwargs: tuple[str, ...] = ("duration", "event", "baseline", "bands", "id", "link")
    _formula_hint = "Name the duration and event columns with duration= and event=."

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        covariates: Sequence[str] | None = None,
        exog: Any = None,
        duration: str = "duration",
        event: str = "event",
        link: str = "logit",
        baseline: str = "week",
        bands: Sequence[int] | None = None,
        id: str | None = None,  # noqa: A002 - column role name from the style guide
    ) -> None:
        w = self._where
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{w}: 'data' must be a pandas DataFrame; got {type(data).__name__}. "
                "For a Dask DataFrame use evaltools.duration.dask.discrete_hazard_dask."
            )
        if covariates is not None and exog is not None:
            raise SpecificationError(f"{w}: give 'covariates' (column names) or 'exog' (a matrix), not both.")
        covariates = self._set_options(
            data, covariates=covariates, duration=duration, event=event, link=link, baseline=baseline,
            bands=bands, id=id,
        )
        roles = self._roles()
        self.formula: str | None = getattr(self, "formula", None)
        self._formula_spec: Any = getattr(self, "_formula_spec", None)
        if covariates is not None:
            self.exog_names = covariates
            X = data[covariates].to_numpy(dtype=float)
        elif exog is not None:
            if isinstance(exog, pd.DataFrame):
                self.exog_names = [str(c) for c in exog.columns]
                X = exog.to_numpy(dtype=float)
            else:
                X = np.asarray(exog, dtype=float)
                X = X[:, None] if X.ndim == 1 else X
                self.exog_names = [f"x{j}" for j in range(X.shape[1])]
            if X.ndim != 2 or X.shape[0] != len(data):
                raise SpecificationError(
                    f"{w}: 'exog' must have one row per row of 'data' ({len(data):,}); got shape {X.shape}."
                )
        else:
            self.exog_names = []
            X = np.zeros((len(data), 0))
        self._prepare(data, X, roles)

    # ------------------------------------------------------------------------------------------
    def _set_options(
        self,
        columns: pd.DataFrame,
        *,
        covariates: Sequence[str] | None,
        duration: str,
        event: str,
        link: str,
        baseline: str,
        bands: Sequence[int] | None,
        id: str | None,  # noqa: A002
    ) -> list[str] | None:
        """Check and store the options; ``columns`` is the data (or an empty frame with its dtypes).

        Returns the covariate columns as a list (None when not given).
        """
        w = self._where
        if not self._competing:
            check_option("link", link, core.LINKS, w)
        self.link = link
        check_option("baseline", baseline, _BASELINES, w)
        if baseline == "bands":
            bands = self._check_bands(bands)
        elif bands is not None:
            raise SpecificationError(
                f"{w}: 'bands' is only used with baseline='bands'; got baseline={baseline!r}."
            )
        self.baseline, self.bands = baseline, bands
        self.duration, self.event, self.id = duration, event, id
        check_columns(columns, self._roles(), w, role="duration/event/id")
        if covariates is None:
            return None
        covs = [covariates] if isinstance(covariates, str) else list(covariates)
        check_columns(columns, covs, w, role="covariates")
        for c in covs:
            if not (pd.api.types.is_numeric_dtype(columns[c]) or pd.api.types.is_bool_dtype(columns[c])):
                raise SpecificationError(
                    f"{w}: covariate column {c!r} is not numeric (dtype {columns[c].dtype}). "
                    f"{self._encode_hint()}"
                )
        return covs

    def _encode_hint(self) -> str:
        return f"Encode it first or use {self._where}.from_formula, which creates dummy columns."

    def _roles(self) -> list[str]:
        return [self.duration, self.event] + ([self.id] if self.id else [])

    def _check_bands(self, bands: Sequence[int] | None) -> list[int]:
        w = self._where
        if bands is None:
            raise SpecificationError(
                f"{w}: baseline='bands' needs bands=, the inclusive upper bounds of the duration bands "
                "(e.g. bands=[4, 13, 26] for 1-4, 5-13, 14-26, 27+)."
            )
        b = np.asarray(list(bands), dtype=float)
        if b.ndim != 1 or len(b) == 0 or np.any(b != np.round(b)) or np.any(b < 1) or np.any(np.diff(b) <= 0):
            raise SpecificationError(
                f"{w}: 'bands' must be strictly increasing positive integers; got {list(bands)!r}."
            )
        return [int(v) for v in b]

    def _prepare(self, data: pd.DataFrame, X: np.ndarray, roles: list[str]) -> None:
        w = self._where
        n_total = len(data)
        bad = missing_rows(data, X, roles)
        self.n_total, self.n_dropped = n_total, int(bad.sum())
        if self.n_dropped:
            warnings.warn(
                f"{w}: dropped {self.n_dropped:,} of {n_total:,} rows with missing values. "
                "Impute or remove them first to silence this.",
                MissingValueWarning,
                stacklevel=3,
            )
            X = X[~bad]
        frame = data.loc[~bad, roles] if self.n_dropped else data[roles]
        self.nobs = len(frame)
        if self.nobs == 0:
            raise DataValidationError(f"{w}: no rows left after removing rows with missing values.")
        dur, ev = self._check_rows(frame, X)
        if self._competing:
            self.causes = sorted(int(v) for v in np.unique(ev) if v > 0)
            if not self.causes:
                raise DataValidationError(f"{w}: column {self.event!r} has no exits.")
        elif not (ev == 1).any():
            raise DataValidationError(f"{w}: column {self.event!r} has no exits; the model cannot be fit.")
        self._frame = frame
        self._dur, self._ev, self._X = dur, ev, X
        self._baseline_groups(dur)
        self._check_baseline_events()
        self._check_rank()

    def _check_rows(self, frame: pd.DataFrame, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row rules on complete rows (periods, exit codes, finite covariates, person-periods).

        Returns the periods (int) and exit codes (float); sets ``n_persons``.
        The rules are per row or per id, so they hold for any split of the
        rows into parts that keep every id's rows together.
        """
        w = self._where
        ex_cols = ([self.id] if self.id else []) + [self.duration]
        if not pd.api.types.is_numeric_dtype(frame[self.duration]) or pd.api.types.is_bool_dtype(
            frame[self.duration]
        ):
            raise DataValidationError(
                f"{w}: column {self.duration!r} must hold integer periods 1, 2, ...; got dtype "
                f"{frame[self.duration].dtype}."
            )
        dur = frame[self.duration].to_numpy(dtype=float)
        raise_for_rows(
            frame,
            ~(np.isfinite(dur) & (dur == np.round(dur)) & (dur >= 1)),
            rule=f"{w}: column {self.duration!r} must be a positive integer period index (1 = first period; "
            "zero, negative or fractional periods are invalid)",
            fix="Number the periods of each spell 1, 2, ... (person-period rows, one per period at risk).",
            columns=ex_cols,
        )
        dur = dur.astype(np.int64)
        ev_raw = frame[self.event]
        if not (pd.api.types.is_numeric_dtype(ev_raw) or pd.api.types.is_bool_dtype(ev_raw)):
            raise DataValidationError(
                f"{w}: column {self.event!r} must be numeric; got dtype {ev_raw.dtype}."
            )
        ev = ev_raw.to_numpy(dtype=float)
        if self._competing:
            raise_for_rows(
                frame,
                ~((ev >= 0) & (ev == np.round(ev))),
                rule=f"{w}: column {self.event!r} must hold exit codes 0 (no exit), 1, 2, ...",
                fix="Recode the exit types as integers with 0 for periods without an exit.",
                columns=ex_cols + [self.event],
            )
        else:
            raise_for_rows(
                frame,
                (ev != 0) & (ev != 1),
                rule=f"{w}: column {self.event!r} must be binary (0/1 or bool)",
                fix="Recode the exit indicator; for several exit types use MultinomialHazard.",
                columns=ex_cols + [self.event],
            )
        raise_for_rows(
            frame,
            ~np.isfinite(X).all(axis=1),
            rule=f"{w}: covariates must be finite (no inf)",
            fix="Replace infinite covariate values.",
            columns=ex_cols,
        )
        self.n_persons: int | None = None
        if self.id:
            self._check_person_periods(frame, dur, ev, ex_cols)
        return dur, ev

    def _check_person_periods(
        self, frame: pd.DataFrame, dur: np.ndarray, ev: np.ndarray, cols: list[str]
    ) -> None:
        idc, _ = pd.factorize(frame[self.id])
        self.n_persons = int(idc.max()) + 1
        o = np.lexsort((dur, idc))
        same = idc[o][1:] == idc[o][:-1]
        dup = np.zeros(len(dur), bool)
        dup[o[1:]] = same & (dur[o][1:] == dur[o][:-1])
        raise_for_rows(
            frame,
            dup,
            rule=f"{self._where}: each ({self.id}, {self.duration}) pair must be unique",
            fix="Remove duplicated person-periods (one row per person and period at risk).",
            columns=cols,
        )
        after = np.zeros(len(dur), bool)
        after[o[:-1]] = same & (ev[o][:-1] > 0)
        raise_for_rows(
            frame,
            after,
            rule=f"{self._where}: an exit must be in the person's last period",
            fix="Drop the periods after the exit (the person is no longer at risk).",
            columns=cols,
        )

    def _baseline_groups(self, dur: np.ndarray) -> None:
        d = self.duration
        if self.baseline == "week":
            levels, g = np.unique(dur, return_inverse=True)
            self.baseline_names = [f"{d}[{v}]" for v in levels]
            self._period_to_group = {int(v): i for i, v in enumerate(levels)}
        elif self.baseline == "bands":
            b = np.asarray(self.bands)
            raw = np.searchsorted(b, dur, side="left")
            lows = np.r_[1, b + 1]
            labels = [f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in zip(lows[:-1], b, strict=True)]
            labels.append(f"{lows[-1]}+")
            used, g = np.unique(raw, return_inverse=True)
            self.n_empty_bands = len(labels) - len(used)
            self.baseline_names = [f"{d}[{labels[k]}]" for k in used]
            self._band_used = used
        else:
            g = np.zeros(len(dur), dtype=np.int64)
            self.baseline_names = ["Intercept"]
        self._g = g.astype(np.int64)

    def group_of(self, periods: np.ndarray) -> np.ndarray:
        """Baseline parameter index for each period (-1 where the model has none)."""
        periods = np.asarray(periods, dtype=np.int64)
        if self.baseline == "week":
            return np.array([self._period_to_group.get(int(p), -1) for p in periods], dtype=np.int64)
        if self.baseline == "bands":
            raw = np.searchsorted(np.asarray(self.bands), periods, side="left")
            pos = np.searchsorted(self._band_used, raw)
            pos = np.clip(pos, 0, len(self._band_used) - 1)
            return np.where(self._band_used[pos] == raw, pos, -1)
        return np.zeros(len(periods), dtype=np.int64)

    def _trials(self) -> np.ndarray:
        """Person-periods per design row (one per row of the data)."""
        return np.ones(len(self._g))

    def _outcomes(self) -> np.ndarray:
        """Exits per design row: ``(n,)`` for one exit type, ``(n, K)`` by type with competing exits."""
        if self._competing:
            return np.column_stack([self._ev == c for c in self.causes]).astype(float)
        return (self._ev == 1).astype(float)

    def _check_baseline_events(self) -> None:
        B = len(self.baseline_names)
        trials = np.bincount(self._g, weights=self._trials(), minlength=B)
        events = np.bincount(self._g, weights=self._outcomes(), minlength=B)
        for mask, what, est in ((events == 0, "no exits", "-inf"), (events == trials, "only exits", "+inf")):
            if mask.any():
                names = [self.baseline_names[k] for k in np.flatnonzero(mask)]
                shown = names[:6] + (["..."] if len(names) > 6 else [])
                raise DataValidationError(
                    f"{self._where}: {len(names)} baseline period(s) have person-periods but {what}: "
                    f"{shown} ({int(trials[mask].sum()):,} rows); their baseline hazard is not estimable "
                    f"(the estimate would be {est}). Merge them with neighbouring periods using "
                    "baseline='bands' and bands=[...]."
                )

    def _check_rank(self) -> None:
        p = self._X.shape[1]
        if p == 0:
            return
        g, X = self._g, self._X
        order = np.argsort(g, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(g[order]) != 0])
        trials = self._trials()[order]
        d = core.Design(g[order], starts, X[order], trials, np.zeros(len(g)))
        D, C, H = core.information(d, trials)
        S = H - C.T @ (C / D[:, None])
        scale = np.sqrt(np.clip(np.diag(H), 1e-300, None))
        Ss = S / np.outer(scale, scale)
        const = np.diag(Ss) < 1e-10
        if const.any():
            names = [self.exog_names[j] for j in np.flatnonzero(const)]
            raise SpecificationError(
                f"{self._where}: covariate(s) {names} are constant within every baseline period, so they are "
                "collinear with the baseline dummies; drop them (a constant needs no column: the baseline "
                "includes it)."
            )
        _, R, piv = linalg.qr(Ss, pivoting=True)
        diag = np.abs(np.diag(R))
        dep = piv[diag < 1e-9 * diag[0]]
        if len(dep):
            names = [self.exog_names[j] for j in sorted(dep)]
            raise SpecificationError(
                f"{self._where}: covariate(s) {names} are linear combinations of the other covariates and "
                "the baseline dummies (perfect collinearity); drop them or redefine the covariates."
            )

    # ------------------------------------------------------------------------------------------
    def _design(
        self, collapse: Any, cluster_codes: np.ndarray | None
    ) -> tuple[core.Design, bool, np.ndarray]:
        """Sorted rows or cells; also returns, per design row, the cluster code (or empty)."""
        g, X = self._g, self._X
        n, p = X.shape
        Y = self._outcomes()  # (n, K) with competing causes, else (n,); cell sums after collapsing
        trials = self._trials()
        do = False
        if collapse is True:
            do = True
        elif collapse == "auto" and all(pd.Series(X[:, j]).nunique() <= _MAX_LEVELS for j in range(p)):
            do = True
        cl = cluster_codes
        if do:
            key = pd.DataFrame(X) if p else pd.DataFrame(index=range(n))
            key["__g"] = g
            if cl is not None:
                key["__cl"] = cl
            cell = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
            n_cells = int(cell.max()) + 1
            if collapse == "auto" and n_cells > n / 2:
                do = False
        if do:
            corder = np.argsort(cell, kind="stable")
            first = corder[np.flatnonzero(np.r_[True, np.diff(cell[corder]) != 0])]
            trials = np.bincount(cell, weights=trials, minlength=n_cells)
            if Y.ndim == 2:
                Yc = np.column_stack(
                    [np.bincount(cell, weights=Y[:, k], minlength=n_cells) for k in range(Y.shape[1])]
                )
            else:
                Yc = np.bincount(cell, weights=Y, minlength=n_cells)
            g, X, Y = g[first], X[first], Yc
            cl = cl[first] if cl is not None else None
        order = np.argsort(g, kind="stable")
        gs = g[order]
        starts = np.flatnonzero(np.r_[True, np.diff(gs) != 0])
        design = core.Design(gs, starts, np.ascontiguousarray(X[order]), trials[order], Y[order])
        return design, do, (cl[order] if cl is not None else np.zeros(0, dtype=np.int64))

    def _clusters(self, cov_type: str, cluster: str | None) -> tuple[np.ndarray | None, str | None]:
        w = f"{self._where}.fit"
        check_option("cov_type", cov_type, _COV_TYPES, w)
        if cov_type == "nonrobust":
            if cluster is not None:
                raise SpecificationError(f"{w}: 'cluster' is only used with cov_type='cluster'.")
            return None, None
        col = cluster or self.id
        if col is None:
            raise SpecificationError(
                f"{w}: cov_type='cluster' needs cluster= (a column) or id= in the model."
            )
        data = self._frame if col in self._frame.columns else None
        if data is None:
            raise SpecificationError(
                f"{w}: the cluster column must be the model's id column ({self.id!r}); got {col!r}. "
                "Pass id= to the model to cluster on another column."
            )
        codes, _ = pd.factorize(data[col])
        return codes.astype(np.int64), col

    def _start(self, d: core.Design) -> np.ndarray:
        ev = d.events if d.events.ndim == 1 else d.events.sum(axis=1)
        h = np.clip(d.gsum(ev) / d.gsum(d.trials), 1e-6, 1 - 1e-6)
        a = special.logit(h) if self.link == "logit" else np.log(-np.log1p(-h))
        return np.r_[a, np.zeros(d.X.shape[1])]

    def fit(
        self,
        *,
        collapse: bool | str = "auto",
        cov_type: str = "nonrobust",
        cluster: str | None = None,
        max_iter: int = 100,
        tol: float = 1e-14,
    ) -> DiscreteHazardResults:
        """Fit by Fisher scoring (Newton for the logit link) on the binomial likelihood.

        Parameters
        ----------
        collapse : {"auto", True, False}, default="auto"
            Collapse person-periods to cells (baseline period x covariate pattern).
            ``"auto"`` collapses when every covariate has at most 100 distinct
            values and the cells number at most half the rows.
        cov_type : {"nonrobust", "cluster"}, default="nonrobust"
            Model-based (inverse expected information) or cluster-robust sandwich
            standard errors with the ``G / (G - 1)`` small-sample factor.
        cluster : str, optional
            Cluster column (default: the model's ``id``).
        max_iter : int, default=100
            Maximum iterations.
        tol : float, default=1e-14
            Convergence tolerance on the Newton decrement ``g' H^{-1} g`` (quadratic convergence makes
            the final step cheap; estimates are then accurate to ~1e-12).

        Returns
        -------
        DiscreteHazardResults
        """
        w = f"{self._where}.fit"
        check_option("collapse", collapse, _COLLAPSE, w)
        codes, ccol = self._clusters(cov_type, cluster)
        d, collapsed, cl = self._design(collapse, codes)
        fit = core.fit_binomial(d, self.link, self._start(d), max_iter=max_iter, tol=tol, where=w)
        self._warn_separation(fit, d)
        cov = fit.cov
        n_clusters = None
        if codes is not None:
            cov, n_clusters = self._sandwich(fit.cov, d, cl, [fit.score_factor])
        return build_binomial_results(
            self, fit, cov, d, collapsed=collapsed, cov_type=cov_type, cluster=ccol, n_clusters=n_clusters
        )

    def _warn_separation(self, fit: core.Fit, d: core.Design) -> None:
        if not fit.converged or d.X.shape[1] == 0:
            return
        B, p = d.n_groups, d.X.shape[1]
        beta = fit.params.reshape(-1, B + p)[:, B:]
        sd = d.X.std(axis=0)
        big = np.abs(beta * sd).max(axis=0) > 15
        se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
        if big.any() or not np.all(np.isfinite(se)):
            names = [self.exog_names[j] for j in np.flatnonzero(big)]
            warnings.warn(
                f"{self._where}.fit: coefficient(s) for {names} are extremely large, which indicates "
                "complete or quasi-complete separation (a covariate value that always or never exits); "
                "the estimates and standard errors are not meaningful. Merge categories or drop it.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _sandwich(
        self, bread: np.ndarray, d: core.Design, cl: np.ndarray, factors: list[np.ndarray]
    ) -> tuple[np.ndarray, int]:
        G = int(cl.max()) + 1
        B = d.n_groups
        blocks = []
        for u in factors:
            sa = np.bincount(cl * B + d.g, weights=u, minlength=G * B).reshape(G, B)
            blocks += [sa, cluster_sums(u[:, None] * d.X, cl, G)]
        return sandwich(bread, score_meat(np.hstack(blocks)), factor=G / (G - 1)), G


class MultinomialHazard(DiscreteHazard):
    """Cause-specific competing exits: multinomial-logit hazard on person-period rows.

    ``P(exit type k in period t | at risk) = exp(eta_k) / (1 + sum_j exp(eta_j))``
    with ``eta_k = alpha_{k,t} + x_t' beta_k``: each exit type has its own
    baseline and covariate effects; "no exit" is the reference outcome.

    Parameters
    ----------
    data : DataFrame
        Person-period rows.  Never modified.
    covariates, exog : optional
        As in :class:`DiscreteHazard`.
    duration : str, default="duration"
        Period index 1, 2, ...
    event : str, default="event"
        Exit type: 0 = no exit in this period, 1, 2, ... = exit types.
    baseline : {"week", "bands", "none"}, default="week"
        Baseline per exit type.
    bands : sequence of int, optional
        Band upper bounds for ``baseline="bands"``.
    id : str, optional
        Person identifier (checks, clustering).
    """

    _where = "MultinomialHazard"
    _competing = True
    _formula_kwargs = ("duration", "event", "baseline", "bands", "id")

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        covariates: Sequence[str] | None = None,
        exog: Any = None,
        duration: str = "duration",
        event: str = "event",
        baseline: str = "week",
        bands: Sequence[int] | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(
            data,
            covariates=covariates,
            exog=exog,
            duration=duration,
            event=event,
            link="logit",
            baseline=baseline,
            bands=bands,
            id=id,
        )

    def _check_baseline_events(self) -> None:
        B = len(self.baseline_names)
        for c in self.causes:
            events = np.bincount(self._g, weights=(self._ev == c).astype(float), minlength=B)
            if (events == 0).any():
                names = [self.baseline_names[k] for k in np.flatnonzero(events == 0)][:6]
                raise DataValidationError(
                    f"{self._where}: exit type {c} has no exits in baseline period(s) {names}; the "
                    "baseline hazard there is not estimable (-inf). Merge periods with baseline='bands' "
                    "and bands=[...]."
                )

    def fit(
        self,
        *,
        collapse: bool | str = "auto",
        cov_type: str = "nonrobust",
        cluster: str | None = None,
        max_iter: int = 100,
        tol: float = 1e-14,
    ) -> MultinomialHazardResults:
        """Fit by Newton-Raphson; options as :meth:`DiscreteHazard.fit`.

        Returns
        -------
        MultinomialHazardResults
        """
        w = f"{self._where}.fit"
        check_option("collapse", collapse, _COLLAPSE, w)
        codes, ccol = self._clusters(cov_type, cluster)
        d, collapsed, cl = self._design(collapse, codes)
        K = len(self.causes)
        tot = d.gsum(d.trials)
        start = []
        for k in range(K):
            h = np.clip(d.gsum(d.events[:, k]) / tot, 1e-6, 1 - 1e-6)
            start.append(np.r_[np.log(h), np.zeros(d.X.shape[1])])
        fit = core.fit_multinomial(d, np.array(start), max_iter=max_iter, tol=tol, where=w)
        self._warn_separation(fit, d)
        cov, n_clusters = fit.cov, None
        if codes is not None:
            cov, n_clusters = self._sandwich(fit.cov, d, cl, [fit.score_factor[:, k] for k in range(K)])
        return build_multinomial_results(
            self, fit, cov, d, collapsed=collapsed, cov_type=cov_type, cluster=ccol, n_clusters=n_clusters
        )
