"""Nearest-neighbour, radius and kernel matching estimators of ATT / ATE / ATC.

:class:`Matching` implements the Abadie-Imbens (2006) matching estimator with
their variance estimator and the Abadie-Imbens (2011) regression bias
adjustment, following R ``Matching::Match`` (Sekhon 2011) step by step so that
results agree with it: covariates are standardised by their sample standard
deviation, the distance is ``inverse_variance`` (``Weight = 1``) or
``mahalanobis`` (``Weight = 2``), ties within ``tie_tolerance`` of the k-th
distance are all kept and averaged, and the variance is either the
homoskedastic ``Var.calc = 0`` estimator or the heteroskedasticity-robust
estimator with ``variance_neighbors = J`` same-group matches.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._model.data import FormulaMixin, missing_message
from evaltools._validation import check_columns, check_option
from evaltools.exceptions import DataValidationError, OverlapWarning, SpecificationError
from evaltools.reporting.results import EstimationResults
from evaltools.selection import _matching_core as core
from evaltools.selection.diagnostics import BalanceTable, _binary_treatment, balance_table
from evaltools.selection.propensity import PropensityResults, PropensityScore

__all__ = ["Matching", "MatchingResults"]

_W = "Matching"
_CCC = float(np.sqrt(np.finfo(float).eps))


class Matching(FormulaMixin):
    """Matching estimator of average treatment effects.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    outcome : str
        Outcome column.
    treatment : str
        Binary (0/1 or bool) treatment column.
    covariates : sequence of str
        Numeric covariates: the matching variables for ``distance`` in
        {"inverse_variance", "mahalanobis"}, the propensity-model covariates
        for ``distance="pscore"`` when ``pscore`` is not given, and the
        regressors of the bias adjustment.
    estimand : {"ATT", "ATE", "ATC"}, default="ATT"
        Average effect on the treated, on everyone, or on the controls.
    method : {"nearest", "radius", "kernel"}, default="nearest"
        ``nearest``: ``n_neighbors`` nearest units of the other group.
        ``radius``: all units within distance ``caliper`` (equal weights).
        ``kernel``: Epanechnikov kernel weights with ``bandwidth``.
    distance : {"inverse_variance", "mahalanobis", "pscore"}, default="inverse_variance"
        Metric on standardised matching variables: diagonal (R ``Weight=1``),
        Mahalanobis (R ``Weight=2``) or the propensity score (1-D, searched by
        sorting).
    pscore : str, array, Series or PropensityResults, optional
        Propensity score for ``distance="pscore"``; when omitted a logit of
        ``treatment`` on ``covariates`` is fitted.
    n_neighbors : int, default=1
        Neighbours per unit (``nearest``).
    replace : bool, default=True
        Match with replacement.  Without replacement units are matched
        greedily in data order, ties are broken by row order, and no
        Abadie-Imbens standard error is available (R ``Matching`` has none
        either); the standard error is then the paired-difference SE.
    caliper : float, optional
        ``nearest``: drop matches further than ``caliper`` standard deviations
        of any matching variable (R ``Matching`` semantics); units left without
        a match are counted as unmatched and excluded.  ``radius``: the radius
        on the standardised distance.
    exact : sequence of str, optional
        Categorical columns matched exactly (matching runs within cells).
    id : str, optional
        Column identifying the person (or other unit) a row belongs to.  A row
        is then never matched with a row of the same person: its matches are
        the nearest rows of *other* persons (same ``n_neighbors``, tie,
        caliper and replacement rules), and the conditional variances of the
        heteroskedasticity-robust SE (``fit(variance_neighbors=J)``) use the
        ``J`` nearest same-group rows of other persons.  Use it for
        person-week data, where a placed person's own earlier weeks are
        among the controls and would otherwise be its nearest matches.  The
        bias adjustment is unchanged.  The results count the rows whose
        matches the restriction changed (``n_same_id_nearest``) and the
        same-person candidates left out (``n_same_id_candidates``).
    bias_adjust : bool, default=False
        Abadie-Imbens (2011) regression adjustment on ``covariates`` (fitted on
        matched controls, weighted by the number of times they are used).
    ties : bool, default=True
        Keep all units tied at the k-th distance (``nearest``).  With
        ``ties=False`` ties are broken by row order.
    tie_tolerance : float, default=1e-5
        Tolerance on the squared distance for ties (R ``distance.tolerance``).
    bandwidth : float, optional
        Kernel bandwidth on the standardised distance; default
        ``1.06 * n ** (-1/5)``.

    Examples
    --------
    >>> from evaltools.datasets.nsw import load
    >>> d = load().assign(u74=lambda x: (x.re74 == 0) * 1, u75=lambda x: (x.re75 == 0) * 1)
    >>> X = ["age", "educ", "black", "hisp", "marr", "re74", "re75", "u74", "u75"]
    >>> m = Matching(d.assign(y=d.re78 / 1000), outcome="y", treatment="treat", covariates=X,
    ...              n_neighbors=4).fit()
    >>> round(m.estimate, 3)
    1.995
    """

    _formula_lhs = "outcome"

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        treatment: str,
        covariates: Sequence[str],
        estimand: str = "ATT",
        method: str = "nearest",
        distance: str = "inverse_variance",
        pscore: Any = None,
        n_neighbors: int = 1,
        replace: bool = True,
        caliper: float | None = None,
        exact: Sequence[str] | None = None,
        id: str | None = None,
        bias_adjust: bool = False,
        ties: bool = True,
        tie_tolerance: float = 1e-5,
        bandwidth: float | None = None,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{_W}: data must be a pandas DataFrame; got {type(data).__name__}.")
        self.estimand = check_option("estimand", estimand, ("ATT", "ATE", "ATC"), _W)
        self.method = check_option("method", method, ("nearest", "radius", "kernel"), _W)
        self.distance = check_option("distance", distance, ("inverse_variance", "mahalanobis", "pscore"), _W)
        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int | np.integer) or n_neighbors < 1:
            raise SpecificationError(f"{_W}: n_neighbors must be a positive integer; got {n_neighbors!r}.")
        if caliper is not None and not (np.isfinite(caliper) and caliper > 0):
            raise SpecificationError(
                f"{_W}: caliper must be a positive number of standard deviations; got {caliper!r}."
            )
        if method == "radius" and caliper is None:
            raise SpecificationError(f"{_W}: method='radius' needs a caliper (the radius).")
        if bandwidth is not None and not (np.isfinite(bandwidth) and bandwidth > 0):
            raise SpecificationError(f"{_W}: bandwidth must be positive; got {bandwidth!r}.")
        if not replace and method != "nearest":
            raise SpecificationError(f"{_W}: replace=False is only available with method='nearest'.")
        if not replace and estimand == "ATE":
            raise SpecificationError(f"{_W}: replace=False supports estimand 'ATT' or 'ATC', not 'ATE'.")
        if bias_adjust and not replace:
            raise SpecificationError(f"{_W}: bias_adjust=True requires replace=True (as in R Matching).")
        covariates = list(covariates)
        exact = list(exact or [])
        check_columns(data, [outcome, treatment], _W)
        check_columns(data, covariates, _W, "covariates")
        check_columns(data, exact, _W, "exact")
        if id is not None:
            if not isinstance(id, str):
                raise SpecificationError(f"{_W}: id must be a column name; got {id!r}.")
            check_columns(data, [id], _W, "id")
        if not covariates and not (distance == "pscore" and pscore is not None):
            raise SpecificationError(f"{_W}: 'covariates' must name at least one column.")
        self.outcome, self.treatment, self.covariates, self.exact = outcome, treatment, covariates, exact
        self.id = id
        self.n_neighbors = int(n_neighbors)
        self.replace, self.caliper, self.ties = bool(replace), caliper, bool(ties)
        self.bias_adjust = bool(bias_adjust)
        self.tie_tolerance, self.bandwidth = float(tie_tolerance), bandwidth
        self._index = data.index
        self._t = _binary_treatment(data, treatment, _W)
        y = data[outcome]
        if not pd.api.types.is_numeric_dtype(y):
            raise DataValidationError(f"{_W}: outcome column {outcome!r} must be numeric; got {y.dtype}.")
        x = data[covariates].astype(float) if covariates else pd.DataFrame(index=data.index)
        msg = missing_message(pd.concat([y.astype(float), x], axis=1),
                              {"outcome": [outcome], "covariates": list(x.columns)}, _W)
        if msg is not None:
            raise DataValidationError(msg)
        if exact and data[exact].isna().any().any():
            raise DataValidationError(
                f"{_W}: exact-matching columns {exact} have missing values; "
                "recode missing as its own category or drop those rows."
            )
        self._y = y.to_numpy(dtype=float)
        self._x = x.to_numpy()
        self._groups: np.ndarray | None = None
        if id is not None:
            ids = data[id]
            n_na = int(ids.isna().sum())
            if n_na:
                rows = list(data.index[ids.isna().to_numpy()][:3])
                raise DataValidationError(
                    f"{_W}: id column {id!r} has {n_na:,} missing values (e.g. at rows {rows}); every row "
                    "needs the person it belongs to. Fill in the ids or drop those rows before matching."
                )
            self._groups = pd.factorize(ids, sort=False)[0].astype(np.intp)
        self._cells = (
            data.groupby(exact, sort=True, dropna=False).ngroup().to_numpy()
            if exact
            else np.zeros(len(data), dtype=np.intp)
        )
        self._pscore_source = "none"
        if distance == "pscore":
            self._v = self._resolve_pscore(data, pscore)[:, None]
        else:
            if pscore is not None:
                raise SpecificationError(f"{_W}: 'pscore' is only used with distance='pscore'.")
            self._v = self._x
        self._data_cov = data[covariates].copy() if covariates else None

    def _resolve_pscore(self, data: pd.DataFrame, pscore: Any) -> np.ndarray:
        if pscore is None:
            res = PropensityScore(data, treatment=self.treatment, covariates=self.covariates).fit()
            self._pscore_source = f"logit of {self.treatment} on {len(self.covariates)} covariates"
            return res.pscore.to_numpy()
        if isinstance(pscore, PropensityResults):
            self._pscore_source = f"{pscore.method} propensity model"
            p = pscore.pscore.reindex(data.index).to_numpy()
        elif isinstance(pscore, str):
            check_columns(data, [pscore], _W, "pscore")
            self._pscore_source = f"column {pscore!r}"
            p = data[pscore].to_numpy(dtype=float)
        elif isinstance(pscore, pd.Series):
            self._pscore_source = "user-supplied scores"
            p = pscore.reindex(data.index).to_numpy(dtype=float)
        else:
            self._pscore_source = "user-supplied scores"
            p = np.asarray(pscore, dtype=float)
        if p.shape != (len(data),) or not np.isfinite(p).all():
            raise DataValidationError(
                f"{_W}: pscore must give one finite value per row of data "
                f"({len(data):,}); got shape {p.shape} with "
                f"{int((~np.isfinite(p)).sum()) if p.ndim == 1 else 'unknown'} "
                "non-finite values."
            )
        return p

    # ------------------------------------------------------------------
    def _coordinates(self) -> np.ndarray:
        """Transformed coordinates in which the squared Euclidean distance is the matching metric."""
        v = self._v
        n = v.shape[0]
        mu = v.mean(axis=0)
        var = np.maximum(_CCC, (v * v).sum(axis=0)) / n - mu**2
        # a constant column gives 0 up to rounding (possibly -1e-17): clip before the square root,
        # else NaN coordinates would leave every unit without a match
        sd = np.sqrt(np.maximum(var, 0.0)) * np.sqrt(n / (n - 1))
        sd = np.where(sd < _CCC, _CCC, sd)
        vs = (v - mu) / sd
        k = v.shape[1]
        wm = np.eye(k)
        if self.distance == "mahalanobis":
            s = vs.T @ vs / n
            if np.linalg.eigvalsh(s).min() > 1e-7:
                wm = np.linalg.inv(s)
        if np.linalg.eigvalsh(wm).min() < _CCC:
            wm = wm + np.eye(k) * _CCC
        chol_lower = np.linalg.cholesky(wm)
        return vs @ chol_lower

    def _find(
        self, z: np.ndarray, q_mask: np.ndarray, p_mask: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Matches of ``q_mask`` units among ``p_mask`` units, within exact cells (global indices).

        Also returns, with ``id``, which query units had a row of their own person among their
        unrestricted matches (a boolean array over all units) and how many (query, pool) candidate
        pairs of the same person were left out.
        """
        qs, ps, ws = [], [], []
        own = np.zeros(n, dtype=bool)
        n_candidates = 0
        h = self.bandwidth if self.bandwidth is not None else 1.06 * n ** (-0.2)
        g = self._groups
        for cell in np.unique(self._cells[q_mask]):
            qi = np.flatnonzero(q_mask & (self._cells == cell))
            pi = np.flatnonzero(p_mask & (self._cells == cell))
            if pi.size == 0:
                continue
            gq = gp = None
            if g is not None:
                gq, gp = g[qi], g[pi]
                codes, counts = np.unique(gp, return_counts=True)
                at = np.clip(np.searchsorted(codes, gq), 0, codes.size - 1)
                n_candidates += int(np.where(codes[at] == gq, counts[at], 0).sum())
            if self.method == "nearest":
                m = min(self.n_neighbors, pi.size)
                cal = None
                if self.caliper is not None:
                    # R Matching: caliper in population SDs of the unstandardised variables
                    width = self.caliper * self._v.std(axis=0)
                    cal = (self._v[qi], self._v[pi], width)
                if not self.replace:
                    own_q = np.zeros(qi.size, dtype=bool)
                    grp = None if gq is None or gp is None else (gq, gp)
                    q, p = core.greedy_without_replacement(
                        z[qi], z[pi], m, np.arange(qi.size), cal, groups=grp, own_nearest=own_q
                    )
                elif gq is not None and gp is not None:
                    q, p, own_q = core.knn_other_groups(
                        z[qi], z[pi], m, self.tie_tolerance if self.ties else 0.0, gq, gp, cal
                    )
                    if not self.ties:
                        q, p = self._first_m(z[qi], z[pi], q, p, m)
                elif self.ties:
                    q, p = core.knn_with_ties(z[qi], z[pi], m, self.tie_tolerance, cal)
                else:
                    q, p = self._knn_no_ties(z[qi], z[pi], m, cal)
                if gq is not None:
                    own[qi[own_q]] = True
                q, p = qi[q], pi[p]
                w = core.pair_weights(q, n)
            else:
                radius = self.caliper if self.method == "radius" else h
                if radius is None:
                    raise SpecificationError(f"{_W}: method='radius' needs a caliper (the radius).")
                q, p, dist = core.within_radius(z[qi], z[pi], float(radius))
                raw = None if self.method == "radius" else 0.75 * (1 - (dist / h) ** 2)
                if raw is not None:
                    pos = raw > 0
                    q, p, raw = q[pos], p[pos], raw[pos]
                if gq is not None and gp is not None:
                    other = gq[q] != gp[p]
                    own[qi[np.unique(q[~other])]] = True
                    q, p = q[other], p[other]
                    raw = None if raw is None else raw[other]
                q, p = qi[q], pi[p]
                w = core.pair_weights(q, n, raw)
            qs.append(q)
            ps.append(p)
            ws.append(w)
        if not qs:
            e = np.empty(0, np.intp)
            return e, e, np.empty(0), own, n_candidates
        q, p, w = np.concatenate(qs), np.concatenate(ps), np.concatenate(ws)
        srt = np.argsort(q, kind="stable")
        return q[srt], p[srt], w[srt], own, n_candidates

    @staticmethod
    def _knn_no_ties(zq: np.ndarray, zp: np.ndarray, m: int, cal: Any) -> tuple[np.ndarray, np.ndarray]:
        q, p = core.knn_with_ties(zq, zp, m, 0.0, cal)
        return Matching._first_m(zq, zp, q, p, m)

    @staticmethod
    def _first_m(
        zq: np.ndarray, zp: np.ndarray, q: np.ndarray, p: np.ndarray, m: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first ``m`` pairs of every query by distance, ties broken by pool row order."""
        d = ((zq[q] - zp[p]) ** 2).sum(axis=1)
        o = np.lexsort((p, d, q))
        q, p = q[o], p[o]
        first = np.searchsorted(q, q, side="left")
        keep = (np.arange(q.size) - first) < m
        return q[keep], p[keep]

    def _variance_sigmas(self, z: np.ndarray, t: np.ndarray, j: int) -> np.ndarray:
        """AI (2006) conditional variances from ``j`` same-group neighbours (R ``Var.calc = j``)."""
        n = z.shape[0]
        sig = np.zeros(n)
        y = self._y
        for g in (True, False):
            for cell in np.unique(self._cells[t == g]):
                idx = np.flatnonzero((t == g) & (self._cells == cell))
                if idx.size < 2:
                    continue
                m = min(j + 1, idx.size)
                width = None
                if self.caliper is not None and self.method == "nearest":
                    # as R's VarCalcMatchC: same-group neighbours must also lie within the caliper
                    width = self.caliper * self._v.std(axis=0)
                gi = None if self._groups is None else self._groups[idx]
                if gi is not None and np.unique(gi).size < idx.size:
                    # some person has several rows in this group: the neighbours are the j nearest rows of
                    # other persons (the unit's own row is excluded with the rest of its person's rows)
                    cal = None if width is None else (self._v[idx], self._v[idx], width)
                    q, p, _ = core.knn_other_groups(z[idx], z[idx], j, self.tie_tolerance, gi, gi, cal)
                    cnt: np.ndarray = np.bincount(q, minlength=idx.size) + 1.0
                    yi = y[idx]
                    yp = yi[p]
                    s1 = np.bincount(q, weights=yp, minlength=idx.size) + yi
                    s2 = np.bincount(q, weights=yp * yp, minlength=idx.size) + yi * yi
                elif z.shape[1] == 1:
                    # 1-D: tie sets can be huge (many equal scores), so use ranges and cumulative sums
                    order = np.argsort(z[idx, 0], kind="stable")
                    sv = z[idx, 0][order]
                    ys = y[idx][order]
                    # the caliper is on the unstandardised score: convert to the z scale
                    w_z = None
                    if width is not None:
                        # z is an affine function of the score: rescale the caliper width
                        w_z = float(width[0] * np.ptp(z[:, 0]) / max(np.ptp(self._v[:, 0]), 1e-300))
                    lo, hi = core.knn_range_1d(sv, sv, m, self.tie_tolerance, w_z)
                    c1 = np.concatenate(([0.0], np.cumsum(ys)))
                    c2 = np.concatenate(([0.0], np.cumsum(ys * ys)))
                    cnt = np.empty(idx.size)
                    s1 = np.empty(idx.size)
                    s2 = np.empty(idx.size)
                    cnt[order] = hi - lo
                    s1[order] = c1[hi] - c1[lo]
                    s2[order] = c2[hi] - c2[lo]
                else:
                    cal = None if width is None else (self._v[idx], self._v[idx], width)
                    q, p = core.knn_with_ties(z[idx], z[idx], m, self.tie_tolerance, cal)
                    other = q != p
                    q, p = q[other], p[other]
                    cnt = np.bincount(q, minlength=idx.size) + 1.0
                    s1 = np.bincount(q, weights=y[idx][p], minlength=idx.size) + y[idx]
                    s2 = np.bincount(q, weights=y[idx][p] ** 2, minlength=idx.size) + y[idx] ** 2
                mean = s1 / cnt
                sig[idx] = np.where(cnt > 1, (s2 / cnt - mean**2) * cnt / np.maximum(cnt - 1, 1), 0.0)
        return sig

    def fit(self, *, variance_neighbors: int = 0) -> MatchingResults:
        """Match and estimate.

        Parameters
        ----------
        variance_neighbors : int, default=0
            ``0``: R ``Matching``'s default variance (``Var.calc = 0``, which
            assumes a constant conditional variance of the unit-level effects).
            ``J >= 1``: Abadie-Imbens (2006) heteroskedasticity-robust
            variance with conditional variances estimated from ``J`` nearest
            units of the same group (R ``Var.calc = J``).

        Returns
        -------
        MatchingResults
        """
        if (
            isinstance(variance_neighbors, bool)
            or not isinstance(variance_neighbors, int | np.integer)
            or variance_neighbors < 0
        ):
            raise SpecificationError(
                f"{_W}.fit: variance_neighbors must be a non-negative integer; got {variance_neighbors!r}."
            )
        t = self._t
        n = t.size
        z = self._coordinates()
        directions = {"ATT": [True], "ATC": [False], "ATE": [True, False]}[self.estimand]
        y = self._y
        q_all, p_all, w_all = [], [], []
        own_nearest = np.zeros(n, dtype=bool)
        n_candidates = 0
        for g in directions:
            q, p, w, own, n_cand = self._find(z, t == g, t != g, n)
            q_all.append(q)
            p_all.append(p)
            w_all.append(w)
            own_nearest |= own
            n_candidates += n_cand
        q = np.concatenate(q_all)
        p = np.concatenate(p_all)
        w = np.concatenate(w_all)
        query_units = np.zeros(n, dtype=bool)
        for g in directions:
            query_units |= t == g
        matched = np.zeros(n, dtype=bool)
        matched[q] = True
        n_query = int(query_units.sum())
        n_matched = int(matched.sum())
        n_unmatched = n_query - n_matched
        if n_matched == 0:
            raise DataValidationError(
                f"{_W}.fit: no unit found a match (caliper={self.caliper}, exact={self.exact}); there is no "
                "common support. Widen the caliper, drop exact-matching columns or check the data."
            )
        if n_unmatched:
            warnings.warn(
                f"{_W}.fit: {n_unmatched:,} of {n_query:,} units to be matched found no match "
                f"(caliper={self.caliper}, exact={self.exact}, replace={self.replace}) and are excluded; "
                f"the estimand is the {self.estimand} for the matched units only.",
                OverlapWarning,
                stacklevel=2,
            )
        kcount = np.bincount(p, weights=w, minlength=n)
        kkcount = np.bincount(p, weights=w * w, minlength=n)
        zb = self._x  # covariates of the bias adjustment (used only with bias_adjust=True)
        # bias adjustment coefficients: regression on units used as matches, weighted by use
        alpha_by_group = {True: None, False: None}
        if self.bias_adjust:
            if self._x.shape[1] == 0:
                raise SpecificationError(f"{_W}: bias_adjust=True needs covariates.")
            for g in {not d for d in directions}:
                sel = (t == g) & (kcount > 0)
                xx = np.column_stack([np.ones(sel.sum()), zb[sel]])
                sw = np.sqrt(kcount[sel])
                coef = np.linalg.lstsq(xx * sw[:, None], y[sel] * sw, rcond=None)[0]
                alpha_by_group[g] = coef[1:]
        # per-pair effects (sign: treated minus control)
        yq, yp = y[q], y[p]
        sign = np.where(t[q], 1.0, -1.0)
        adj = np.zeros(q.size)
        if self.bias_adjust:
            for g in (True, False):
                a = alpha_by_group[g]
                if a is not None:
                    s = t[p] == g
                    adj[s] = (zb[q[s]] - zb[p[s]]) @ a
        tau_pair = sign * (yq - (yp + adj))
        tau_i = np.bincount(q, weights=w * tau_pair, minlength=n)
        est = float(tau_i[matched].mean())
        # variance (Abadie-Imbens 2006 as in R Matching::Match)
        if self.replace:
            if variance_neighbors == 0:
                sig2 = np.full(n, 0.5 * float((w * (tau_pair - est) ** 2).sum()) / n_matched)
            else:
                sig2 = self._variance_sigmas(z, t, int(variance_neighbors))
            if self.estimand == "ATE":
                var = (sig2 * (kcount**2 + 2 * kcount - kkcount)).sum()
            else:
                pool = ~query_units
                var = (sig2[pool] * (kcount[pool] ** 2 - kkcount[pool])).sum()
            var = (var + ((tau_i[matched] - est) ** 2).sum()) / n_matched**2
            se_kind = (
                "Abadie-Imbens (2006) SE with homoskedastic conditional variance (R Matching Var.calc=0)"
                if variance_neighbors == 0
                else f"Abadie-Imbens (2006) heteroskedasticity-robust SE, conditional variances from "
                f"{variance_neighbors} same-group neighbours "
                f"(R Matching Var.calc={variance_neighbors})"
            )
        else:
            var = float(np.var(tau_i[matched], ddof=1)) / n_matched
            se_kind = "SE of the mean of matched-pair differences (no Abadie-Imbens SE without replacement)"
        return MatchingResults(
            self,
            est=est,
            var=float(var),
            q=q,
            p=p,
            w=w,
            tau_pair=tau_pair,
            tau_i=tau_i,
            matched=matched,
            query_units=query_units,
            kcount=kcount,
            se_kind=se_kind,
            variance_neighbors=int(variance_neighbors),
            n_same_id_nearest=int(own_nearest.sum()) if self._groups is not None else None,
            n_same_id_candidates=n_candidates if self._groups is not None else None,
        )


class MatchingResults(EstimationResults):
    """Results of :meth:`Matching.fit` (read-only).

    Attributes
    ----------
    estimate : float
        The ATT, ATE or ATC.
    estimand : str
        ``"ATT"``, ``"ATE"`` or ``"ATC"``.
    nobs : int
        Units used, treated and controls ("No. observations" in the summary, as for IPW and AIPW).
    n_treated, n_control : int
        Units in the data.
    n_matched, n_unmatched : int
        Units to be matched that did / did not find a match.
    n_unique_matches : int
        Distinct units used as matches.
    unit_weights : Series
        Frequency weights of the matched sample (1 per matched query unit
        plus the number of times a unit is used as a match), aligned to the
        data index.
    unit_effects : Series
        Imputed unit-level effects of the matched query units.
    n_pairs : int
        Rows of the matched-set table (unit, match) pairs.
    variance_neighbors : int
        Neighbours used for the conditional-variance estimate of the SE.
    n_same_id_nearest : int or None
        With ``Matching(id=...)``: units to be matched whose nearest matches
        without the restriction (``n_neighbors``, ties included; every unit
        within the radius or bandwidth for ``radius`` / ``kernel``) held a row of
        their own person, i.e. whose matches the restriction changed.  ``None``
        without ``id``.
    n_same_id_candidates : int or None
        With ``id``: (unit, candidate) pairs left out because both rows belong
        to the same person (candidates of the other group in the same exact
        cell).  ``None`` without ``id``.
    """

    model: Matching
    estimate: float
    estimand: str
    n_treated: int
    n_control: int
    n_matched: int
    n_unmatched: int
    n_unique_matches: int
    n_pairs: int
    unit_weights: pd.Series
    unit_effects: pd.Series
    variance_neighbors: int
    n_same_id_nearest: int | None
    n_same_id_candidates: int | None
    _pairs: pd.DataFrame

    def __init__(
        self,
        model: Matching,
        *,
        est: float,
        var: float,
        q: np.ndarray,
        p: np.ndarray,
        w: np.ndarray,
        tau_pair: np.ndarray,
        tau_i: np.ndarray,
        matched: np.ndarray,
        query_units: np.ndarray,
        kcount: np.ndarray,
        se_kind: str,
        variance_neighbors: int,
        n_same_id_nearest: int | None = None,
        n_same_id_candidates: int | None = None,
    ) -> None:
        idx = model._index
        t = model._t
        name = model.estimand
        params = pd.Series([est], index=[name])
        cov = pd.DataFrame([[var]], index=[name], columns=[name])
        n_unmatched = int(query_units.sum() - matched.sum())
        unit_w = pd.Series(matched.astype(float) + kcount, index=idx, name="weight")
        pairs = pd.DataFrame({"unit": idx[q], "match": idx[p], "weight": w, "effect": tau_pair})
        if model.method == "nearest":
            spec = (
                f"{model.n_neighbors}-nearest-neighbour matching "
                f"{'with' if model.replace else 'without'} replacement on "
                + {
                    "inverse_variance": "covariates (inverse-variance distance)",
                    "mahalanobis": "covariates (Mahalanobis distance)",
                    "pscore": f"the propensity score ({model._pscore_source})",
                }[model.distance]
                + ("; ties averaged" if model.ties and model.replace else "; ties broken by row order")
            )
        elif model.method == "radius":
            spec = f"Radius matching within {model.caliper} SD on the {model.distance} distance"
        else:
            h = model.bandwidth if model.bandwidth is not None else 1.06 * len(t) ** (-0.2)
            spec = f"Epanechnikov kernel matching, bandwidth {h:.4g} (standardised {model.distance} distance)"
        foot = [
            f"Estimand: {name} ({ {'ATT': 'average effect on the treated', 'ATE': 'average treatment effect', 'ATC': 'average effect on the controls'}[name] }).",  # noqa: E501
            spec + ".",
            se_kind + ".",
        ]
        if model.caliper is not None and model.method == "nearest":
            foot.append(
                f"Caliper: matches restricted to within {model.caliper} (population) SD of every "
                "matching variable."
            )
        if model.exact:
            foot.append(f"Exact matching on {model.exact}.")
        if model.id is not None:
            foot.append(
                f"No unit is matched with a row of the same {model.id!r}: {n_same_id_candidates:,} same-"
                f"{model.id} candidates left out; the nearest matches of {n_same_id_nearest:,} units "
                "would otherwise have included their own rows."
            )
        if model.bias_adjust:
            foot.append(
                f"Abadie-Imbens (2011) regression bias adjustment on {len(model.covariates)} covariates."
            )
        if n_unmatched:
            foot.append(f"{n_unmatched:,} units found no match and were excluded from the estimate.")
        if model.distance == "pscore" and model.method == "nearest" and model.replace:
            foot.append("The SE treats the propensity score as known (no Abadie-Imbens 2016 correction).")
        if model.method == "kernel":
            foot.append("The SE treats the kernel weights as fixed (bandwidth choice not accounted for).")
        header = [
            ("Estimand", name),
            ("Treated", int(t.sum())),
            ("Controls", int((~t).sum())),
            ("Matched units", int(matched.sum())),
            ("Unmatched units", n_unmatched),
            ("Distinct matches used", int(np.unique(p).size)),
        ]
        if model.id is not None:
            header.append(("Same-id nearest excluded", int(n_same_id_nearest or 0)))
        extra = {
            "estimate": float(est),
            "estimand": name,
            "n_treated": int(t.sum()),
            "n_control": int((~t).sum()),
            "n_matched": int(matched.sum()),
            "n_unmatched": n_unmatched,
            "n_unique_matches": int(np.unique(p).size),
            "n_pairs": int(q.size),
            "unit_weights": unit_w,
            "unit_effects": pd.Series(tau_i[matched], index=idx[matched], name="effect"),
            "variance_neighbors": variance_neighbors,
            "n_same_id_nearest": n_same_id_nearest,
            "n_same_id_candidates": n_same_id_candidates,
            "_pairs": pairs,
        }
        super().__init__(
            params,
            cov,
            int(t.size),  # every unit used (treated and controls), as IPW and AIPW count them
            model=model,
            title=f"Matching estimate of the {name}",
            header=header,
            footnotes=foot,
            extra=extra,
        )

    @property
    def matches(self) -> pd.DataFrame:
        """Matched-set table: one row per (unit, match) pair with its weight and pair effect."""
        return self._pairs.copy()

    def balance(self, covariates: Sequence[str] | None = None, **kwargs: Any) -> BalanceTable:
        """Covariate balance before and after matching (see :func:`balance_table`).

        Parameters
        ----------
        covariates : sequence of str, optional
            Defaults to the model's covariates.
        **kwargs
            Passed to :func:`balance_table` (``sd_denominator``, ``threshold``, ``ks``; with
            ``ks=True`` the distributional statistics after matching are computed on the matched
            pairs, as R ``Matching::MatchBalance``).

        Returns
        -------
        BalanceTable
        """
        m = self.model
        cov = list(covariates) if covariates is not None else m.covariates
        if m._data_cov is None or not set(cov) <= set(m._data_cov.columns):
            raise SpecificationError(
                f"MatchingResults.balance: covariates must be among the model's covariates {m.covariates}."
            )
        frame = m._data_cov[cov].assign(**{"__t": m._t.astype(int)})
        return balance_table(frame, "__t", cov, matched=self, **kwargs)
