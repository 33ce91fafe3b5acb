"""Inverse-probability weighting (IPW) and augmented IPW (doubly robust) estimators.

Standard errors come from the stacked estimating equations of the
propensity model (logit/probit), the outcome regressions (OLS) and the
potential-outcome means, i.e. the M-estimation sandwich that Stata ``teffects``
and statsmodels ``TreatmentEffect`` use; they account for estimating the
propensity score.  With a scikit-learn propensity or outcome model the nuisance
functions are treated as known (valid for AIPW with cross-fitting, which is
used by default for scikit-learn outcome models).

An :class:`~evaltools.exceptions.ExtremeWeightWarning` is issued when, in either
arm, the largest weight exceeds 20 times the arm's mean weight or the Kish
effective sample size falls below 10% of the arm's size; effective sample
sizes and the largest weights are always reported in the results.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._model.binary import binary_hessian, binary_score_obs
from evaltools._model.covariance import centred_cluster_covariance as cluster_covariance
from evaltools._model.data import FormulaMixin
from evaltools._model.names import renamed_arguments
from evaltools._validation import check_columns, check_option, warn_dropped
from evaltools.exceptions import DataValidationError, ExtremeWeightWarning, SpecificationError
from evaltools.reporting.results import EstimationResults
from evaltools.selection.diagnostics import BalanceTable, _binary_treatment, balance_table
from evaltools.selection.propensity import (
    PropensityResults,
    PropensityScore,
    _check_missing,
    check_trim,
    crump_alpha,
)

__all__ = ["IPW", "AIPW", "WeightingResults"]

_MAX_RELATIVE_WEIGHT = 20.0
_MIN_ESS_FRACTION = 0.1


class _Target:
    """Estimating equation ``sum_i A_i - B_i * theta = 0`` with derivatives of A, B w.r.t. nuisances."""

    def __init__(
        self,
        a: np.ndarray,
        b: np.ndarray,
        da: dict[str, np.ndarray] | None = None,
        db: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.a, self.b = a, b
        self.da, self.db = da or {}, db or {}
        self.theta = float(a.sum() / b.sum())

    def influence(self, nuis_if: dict[str, np.ndarray]) -> np.ndarray:
        psi = self.a - self.b * self.theta
        for k, ifk in nuis_if.items():
            d = np.zeros(ifk.shape[1])
            if k in self.da:
                d = d + self.da[k].mean(axis=0)
            if k in self.db:
                d = d - self.theta * self.db[k].mean(axis=0)
            psi = psi + ifk @ d
        return psi / self.b.mean()


class _WeightingBase(FormulaMixin):
    """Shared specification handling for :class:`IPW` and :class:`AIPW`."""

    _formula_lhs = "outcome"
    _name = "IPW"
    _estimands: tuple[str, ...] = ("ATE", "ATT")

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        treatment: str,
        covariates: Sequence[str] | None = None,
        pscore: PropensityResults | None = None,
        estimand: str = "ATE",
        method: Any = "logit",
        trim: float | str | None = None,
        cluster: str | None = None,
    ) -> None:
        w = self._name
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{w}: data must be a pandas DataFrame; got {type(data).__name__}.")
        self.estimand = check_option("estimand", estimand, self._estimands, w)
        check_columns(data, [outcome, treatment], w)
        if pscore is None and not covariates:
            raise SpecificationError(
                f"{w}: pass 'covariates' (for a {method} propensity model) or a fitted "
                "'pscore' (PropensityResults)."
            )
        if pscore is not None and not isinstance(pscore, PropensityResults):
            raise SpecificationError(
                f"{w}: 'pscore' must be a PropensityResults from PropensityScore.fit(); "
                f"got {type(pscore).__name__}."
            )
        if pscore is not None and not pscore.pscore.index.equals(data.index):
            raise DataValidationError(
                f"{w}: the PropensityResults were fitted on data with a different index; "
                "fit the propensity model on the same DataFrame."
            )
        check_trim(trim, w)
        self.outcome, self.treatment = outcome, treatment
        self.covariates = list(covariates) if covariates else []
        check_columns(data, self.covariates, w, "covariates")
        self.method, self.trim = method, trim
        self._data = data
        self.cluster = cluster
        if cluster is not None:
            warnings.warn(
                f"{w}(cluster={cluster!r}): cluster is a fit argument, as in every estimator of evaltools; "
                f"pass {w}(...).fit(cluster={cluster!r}). The __init__ argument is accepted for one release.",
                FutureWarning,
                stacklevel=3,
            )
            self._check_cluster(cluster, w)
        self._t = _binary_treatment(data, treatment, w)
        y = data[outcome]
        if not pd.api.types.is_numeric_dtype(y):
            raise DataValidationError(f"{w}: outcome column {outcome!r} must be numeric; got {y.dtype}.")
        _check_missing(y.astype(float).to_frame(), w, "outcome")
        self._y = y.to_numpy(dtype=float)
        self._pscore_given = pscore

    def _check_cluster(self, cluster: str, where: str) -> None:
        check_columns(self._data, [cluster], where, "cluster")
        miss = self._data[cluster].isna().to_numpy()
        if miss.any():
            raise DataValidationError(
                f"{where}: cluster column {cluster!r} has {int(miss.sum()):,} missing values (e.g. index "
                f"{list(map(str, self._data.index[miss][:3]))}). Fill or drop them first."
            )

    def _fit_cluster(self, cluster: str | None) -> str | None:
        """The cluster column of a fit: ``fit(cluster=)``, else the (deprecated) ``__init__`` argument."""
        if cluster is None:
            return self.cluster
        if not isinstance(cluster, str):
            raise SpecificationError(
                f"The 'cluster' parameter of {self._name}.fit must be a column name (str) or None. "
                f"Got {cluster!r} instead."
            )
        self._check_cluster(cluster, f"{self._name}.fit")
        return cluster

    # -- propensity -------------------------------------------------------
    def _propensity(self) -> tuple[PropensityResults, np.ndarray, dict[str, Any]]:
        """Fit (or take) the propensity model, apply trimming, return results, kept mask and trim info."""
        data = self._data
        if self._pscore_given is not None:
            ps = self._pscore_given
            design = ps.model._x
            pmethod = ps.model.method
        else:
            ps = PropensityScore(
                data, treatment=self.treatment, covariates=self.covariates, method=self.method
            ).fit()
            design, pmethod = ps.model._x, self.method
        keep = np.ones(len(data), dtype=bool)
        info: dict[str, Any] = {"n_trimmed_treated": 0, "n_trimmed_control": 0, "trim_bounds": None}
        if self.trim is not None:
            a = (
                crump_alpha(np.clip(ps.pscore.to_numpy(), 1e-12, 1 - 1e-12))
                if self.trim == "optimal"
                else float(self.trim)
            )
            p = ps.pscore.to_numpy()
            keep = (p >= a) & (p <= 1 - a)
            t = self._t
            info = {
                "n_trimmed_treated": int((~keep & t).sum()),
                "n_trimmed_control": int((~keep & ~t).sum()),
                "trim_bounds": (a, 1 - a),
            }
            if not (keep & t).any() or not (keep & ~t).any():
                raise DataValidationError(
                    f"{self._name}: trimming to [{a:.4g}, {1 - a:.4g}] leaves no "
                    "treated or no control units; there is no common support."
                )
            warn_dropped(
                int((~keep).sum()),
                len(data),
                f"propensity score outside [{a:.4g}, {1 - a:.4g}]",
                self._name,
                stacklevel=4,
            )
            if (~keep).any():
                sub = data.loc[keep]
                ps = PropensityScore(
                    sub, treatment=self.treatment, method=pmethod, _design=design.loc[keep]
                ).fit()
        p = ps.pscore.to_numpy()
        bad = (p <= 0) | (p >= 1)
        if bad.any():
            raise DataValidationError(
                f"{self._name}: {int(bad.sum()):,} units have an estimated propensity score of exactly "
                "0 or 1, so their inverse-probability weights are infinite (no overlap). Trim (trim=0.1 or "
                "'optimal') or change the propensity specification."
            )
        return ps, keep, info

    @staticmethod
    def _ps_influence(ps: PropensityResults) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Influence functions of the propensity coefficients and dp/dgamma (None for classifiers)."""
        link = ps._link
        if link is None:
            return None, None
        from scipy.stats import norm

        params = ps.params.to_numpy()
        x = ps.model._x.to_numpy()
        t = ps.model._t.astype(float)
        s = binary_score_obs(params, x, t, link)
        h = binary_hessian(params, x, t, link) / x.shape[0]
        if_g = s @ np.linalg.inv(-h).T
        lin = x @ params
        if ps.method == "logit":
            p = 1.0 / (1.0 + np.exp(-lin))
            dp = (p * (1 - p))[:, None] * x
        else:
            dp = norm.pdf(lin)[:, None] * x
        return if_g, dp

    def _ess_checks(self, w: np.ndarray, t: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        msgs = []
        for name, m in (("treated", t), ("control", ~t)):
            ww = w[m]
            ess = float(ww.sum() ** 2 / (ww * ww).sum())
            share = float(ww.max() / ww.sum())
            out[f"ess_{name}"] = ess
            out[f"max_share_{name}"] = share
            out[f"max_weight_{name}"] = float(ww.max())
            rel = float(ww.max() / ww.mean())
            if rel > _MAX_RELATIVE_WEIGHT or ess < _MIN_ESS_FRACTION * m.sum():
                msgs.append(
                    f"{name}: max weight {ww.max():.4g} ({rel:.1f} times the mean, {share:.1%} of the "
                    f"group's total), effective sample size {ess:,.1f} of {int(m.sum()):,}"
                )
        if msgs:
            warnings.warn(
                f"{self._name}: extreme weights ({'; '.join(msgs)}). The estimate rests on few units; "
                "trim the propensity score (trim=0.1 or 'optimal') or revisit the specification.",
                ExtremeWeightWarning,
                stacklevel=3,
            )
        out["extreme_weights"] = bool(msgs)
        return out


class IPW(_WeightingBase):
    """Inverse-probability-weighting estimator of the ATE or ATT.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    outcome : str
        Outcome column.
    treatment : str
        Binary (0/1 or bool) treatment column.
    covariates : sequence of str, optional
        Covariates of the propensity model (ignored when ``pscore`` is given).
    pscore : PropensityResults, optional
        A fitted propensity model (e.g. from
        :meth:`PropensityScore.from_formula`) on the same data.
    estimand : {"ATE", "ATT"}, default="ATE"
        ATE weights ``1/e`` and ``1/(1-e)``; ATT weights ``1`` and ``e/(1-e)``.
    normalize : bool, default=True
        Hajek (weights normalised to sum to one within each arm) instead of
        Horvitz-Thompson.
    stabilize : bool, default=False
        Report stabilised weights (multiplied by the marginal treatment
        shares).  The point estimate is unchanged -- stabilisation only
        rescales the weights of each arm -- but the reported weights and
        their maximum are easier to read.
    method : {"logit", "probit"} or scikit-learn classifier, default="logit"
        Propensity model when ``pscore`` is not given.
    trim : float or "optimal", optional
        Drop units with propensity scores outside ``[trim, 1 - trim]``
        (``"optimal"``: the Crump et al. 2009 cut-off) and re-fit the
        propensity model on the kept units; counts are reported.
    cluster : str, optional
        Deprecated here: pass ``cluster=`` to :meth:`fit` (accepted with a
        ``FutureWarning`` for one release).
    """

    _name = "IPW"

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        treatment: str,
        covariates: Sequence[str] | None = None,
        pscore: PropensityResults | None = None,
        estimand: str = "ATE",
        normalize: bool = True,
        stabilize: bool = False,
        method: Any = "logit",
        trim: float | str | None = None,
        cluster: str | None = None,
    ) -> None:
        super().__init__(
            data,
            outcome=outcome,
            treatment=treatment,
            covariates=covariates,
            pscore=pscore,
            estimand=estimand,
            method=method,
            trim=trim,
            cluster=cluster,
        )
        self.normalize, self.stabilize = bool(normalize), bool(stabilize)

    def fit(self, *, cluster: str | None = None) -> WeightingResults:
        """Estimate; returns :class:`WeightingResults` (the model is not modified).

        Parameters
        ----------
        cluster : str, optional
            Column of cluster ids (e.g. ``"person_id"`` when a person
            contributes several rows, as in a comparison group of
            person-weeks).  The stacked-estimating-equation covariance then
            sums the influence functions within clusters,
            ``G / (G - 1) * sum_g S_g S_g' / n^2`` (the propensity-model term
            included).

        Returns
        -------
        WeightingResults
        """
        cluster = self._fit_cluster(cluster)
        ps, keep, info = self._propensity()
        p = ps.pscore.to_numpy()
        t = self._t[keep]
        y = self._y[keep]
        tf = t.astype(float)
        if_g, dp = self._ps_influence(ps)
        nuis = {} if if_g is None else {"g": if_g}

        def d(v: np.ndarray) -> dict[str, np.ndarray]:
            return {} if dp is None else {"g": v[:, None] * dp}

        one = np.ones_like(y)
        if self.estimand == "ATE":
            w1, w0 = tf / p, (1 - tf) / (1 - p)
            dw1, dw0 = -tf / p**2, (1 - tf) / (1 - p) ** 2
            m1 = _Target(
                w1 * y, w1 if self.normalize else one, d(dw1 * y), d(dw1) if self.normalize else None
            )
            m0 = _Target(
                w0 * y, w0 if self.normalize else one, d(dw0 * y), d(dw0) if self.normalize else None
            )
            w = w1 + w0
        else:
            w0 = (1 - tf) * p / (1 - p)
            dw0 = (1 - tf) / (1 - p) ** 2
            m1 = _Target(tf * y, tf)
            m0 = _Target(w0 * y, w0 if self.normalize else tf, d(dw0 * y), d(dw0) if self.normalize else None)
            w = tf + w0
        if self.stabilize:
            pbar = tf.mean()
            w = np.where(
                t,
                w * (pbar if self.estimand == "ATE" else 1.0),
                w * ((1 - pbar) if self.estimand == "ATE" else (1 - pbar) / pbar),
            )
        diag = self._ess_checks(w, t)
        kind = "Hajek (normalised)" if self.normalize else "Horvitz-Thompson (unnormalised)"
        return WeightingResults._build(
            self,
            ps,
            keep,
            info,
            [m1, m0],
            nuis,
            w,
            diag,
            f"Inverse-probability weighting, {kind} weights" + (", stabilised" if self.stabilize else ""),
            cluster,
        )


class AIPW(_WeightingBase):
    """Augmented IPW (doubly robust) estimator of the ATE or ATT.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    outcome : str
        Outcome column.
    treatment : str
        Binary (0/1 or bool) treatment column.
    covariates : sequence of str, optional
        Covariates of the propensity model (ignored when ``pscore`` is given)
        and, unless ``outcome_covariates`` is given, of the outcome models.
    outcome_covariates : sequence of str, optional
        Regressors of the outcome models (fitted separately in each arm).
    pscore : PropensityResults, optional
        A fitted propensity model on the same data.
    estimand : {"ATE", "ATT"}, default="ATE"
        ATE: ``mean(m1 - m0 + T(Y - m1)/e - (1-T)(Y - m0)/(1-e))`` (Stata
        ``teffects aipw``, statsmodels ``aipw``).  ATT: the doubly robust
        ``mean_T(Y - m0) - sum_C w (Y - m0) / sum_C w`` with ``w = e/(1-e)``.
    outcome_model : "ols" or scikit-learn regressor, default="ols"
        Outcome regression; a regressor is cloned and fitted per arm.
    method : {"logit", "probit"} or scikit-learn classifier, default="logit"
        Propensity model when ``pscore`` is not given.
    trim : float or "optimal", optional
        As for :class:`IPW`.
    n_folds : int, optional
        Cross-fitting folds for scikit-learn nuisance models (default 5 when
        any nuisance model is a scikit-learn estimator; ignored otherwise).
    seed : int, default=0
        Seed of the fold assignment (``random_state``, the old name, is
        accepted with a ``FutureWarning`` for one release).
    cluster : str, optional
        Deprecated here: pass ``cluster=`` to :meth:`fit` (accepted with a
        ``FutureWarning`` for one release).
    """

    _name = "AIPW"

    @renamed_arguments(random_state="seed")
    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        treatment: str,
        covariates: Sequence[str] | None = None,
        outcome_covariates: Sequence[str] | None = None,
        pscore: PropensityResults | None = None,
        estimand: str = "ATE",
        outcome_model: Any = "ols",
        method: Any = "logit",
        trim: float | str | None = None,
        n_folds: int | None = None,
        seed: int = 0,
        cluster: str | None = None,
    ) -> None:
        super().__init__(
            data,
            outcome=outcome,
            treatment=treatment,
            covariates=covariates,
            pscore=pscore,
            estimand=estimand,
            method=method,
            trim=trim,
            cluster=cluster,
        )
        if isinstance(outcome_model, str):
            check_option("outcome_model", outcome_model, ("ols",), "AIPW")
        elif not (hasattr(outcome_model, "fit") and hasattr(outcome_model, "predict")):
            raise SpecificationError(
                "The 'outcome_model' parameter of AIPW must be 'ols' or a scikit-learn "
                f"regressor with fit/predict. Got {outcome_model!r} instead."
            )
        oc = list(outcome_covariates) if outcome_covariates is not None else self.covariates
        if not oc:
            raise SpecificationError(
                "AIPW: pass 'outcome_covariates' (or 'covariates') for the outcome model."
            )
        check_columns(data, oc, "AIPW", "outcome_covariates")
        _check_missing(data[oc].astype(float), "AIPW", "outcome covariates")
        self.outcome_covariates = oc
        self.outcome_model = outcome_model
        if n_folds is not None and (not isinstance(n_folds, int) or n_folds < 2):
            raise SpecificationError(f"AIPW: n_folds must be an integer >= 2; got {n_folds!r}.")
        self.n_folds, self.seed = n_folds, seed

    def _outcome_fits(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> tuple[dict, dict, dict]:
        """Predictions m1, m0 for all units and (OLS) the influence functions and design."""
        pred, ifs, des = {}, {}, {}
        if isinstance(self.outcome_model, str):
            xd = np.column_stack([np.ones(len(y)), x])
            for g in (True, False):
                m = t == g
                beta, *_ = np.linalg.lstsq(xd[m], y[m], rcond=None)
                pred[g] = xd @ beta
                bread = np.linalg.pinv(xd[m].T @ xd[m] / len(y))
                ifs[g] = (m * (y - pred[g]))[:, None] * xd @ bread.T
                des[g] = xd
            return pred, ifs, des
        from sklearn.base import clone

        k = self.n_folds or 5
        folds = np.random.default_rng(self.seed).permutation(len(y)) % k
        for g in (True, False):
            out = np.empty(len(y))
            for f in range(k):
                tr = (folds != f) & (t == g)
                if tr.sum() < 2:
                    raise DataValidationError(
                        f"AIPW: fold {f} has fewer than 2 {'treated' if g else 'control'} "
                        "units for the outcome model; use fewer folds."
                    )
                est = clone(self.outcome_model).fit(x[tr], y[tr])
                out[folds == f] = est.predict(x[folds == f])
            pred[g] = out
        return pred, ifs, des

    def fit(self, *, cluster: str | None = None) -> WeightingResults:
        """Estimate; returns :class:`WeightingResults` (the model is not modified).

        Parameters
        ----------
        cluster : str, optional
            As for :meth:`IPW.fit`: cluster-robust standard errors (the
            propensity and outcome-model terms included).

        Returns
        -------
        WeightingResults
        """
        cluster = self._fit_cluster(cluster)
        ps, keep, info = self._propensity()
        p = ps.pscore.to_numpy()
        t = self._t[keep]
        y = self._y[keep]
        tf = t.astype(float)
        x = self._data.loc[keep, self.outcome_covariates].to_numpy(dtype=float)
        pred, if_b, des = self._outcome_fits(x, y, t)
        m1, m0 = pred[True], pred[False]
        if_g, dp = self._ps_influence(ps)
        nuis: dict[str, np.ndarray] = {}
        if if_g is not None:
            nuis["g"] = if_g
        if if_b:
            nuis["b1"], nuis["b0"] = if_b[True], if_b[False]

        def dg(v: np.ndarray) -> dict[str, np.ndarray]:
            return {} if dp is None else {"g": v[:, None] * dp}

        one = np.ones_like(y)
        if self.estimand == "ATE":
            da1 = dg(-tf * (y - m1) / p**2)
            da0 = dg((1 - tf) * (y - m0) / (1 - p) ** 2)
            if if_b:
                da1["b1"] = (1 - tf / p)[:, None] * des[True]
                da0["b0"] = (1 - (1 - tf) / (1 - p))[:, None] * des[False]
            t1 = _Target(m1 + tf * (y - m1) / p, one, da1)
            t0 = _Target(m0 + (1 - tf) * (y - m0) / (1 - p), one, da0)
            targets = [t1, t0]
            w = tf / p + (1 - tf) / (1 - p)
        else:
            odds = (1 - tf) * p / (1 - p)
            t1 = _Target(tf * y, tf)
            da_a = {"b0": tf[:, None] * des[False]} if if_b else {}
            ta = _Target(tf * m0, tf, da_a)
            da_b = dg((1 - tf) * (y - m0) / (1 - p) ** 2)
            if if_b:
                da_b["b0"] = -odds[:, None] * des[False]
            tb = _Target(odds * (y - m0), odds, da_b, dg((1 - tf) / (1 - p) ** 2))
            targets = [t1, ta, tb]
            w = tf + odds
        diag = self._ess_checks(w, t)
        om = (
            "OLS by arm"
            if isinstance(self.outcome_model, str)
            else (f"{type(self.outcome_model).__name__} by arm, {self.n_folds or 5}-fold cross-fitted")
        )
        return WeightingResults._build(
            self,
            ps,
            keep,
            info,
            targets,
            nuis,
            w,
            diag,
            f"Augmented IPW (doubly robust); outcome model: {om}",
            cluster,
        )


class WeightingResults(EstimationResults):
    """Results of :class:`IPW` or :class:`AIPW` (read-only).

    ``params`` holds the effect (labelled by the estimand) and the two
    potential-outcome means ``POM1`` and ``POM0`` (for the ATT: means of
    ``Y(1)`` and ``Y(0)`` among the treated), with their joint covariance.

    Attributes
    ----------
    estimate : float
        The ATE or ATT.
    weights : Series
        Unit weights (aligned to the data index; ``nan`` for trimmed units).
    pscore : PropensityResults
        The propensity model used (re-fitted on the kept units after trimming).
    ess_treated, ess_control : float
        Kish effective sample sizes ``(sum w)^2 / sum w^2``.
    n_trimmed_treated, n_trimmed_control : int
        Units dropped by trimming.
    n_clusters : int or None
        Number of clusters when fitted with ``cluster`` (else None).
    influence : DataFrame
        Influence functions of the effect and the two potential-outcome means.
    estimand : str
        ``"ATE"`` or ``"ATT"``.
    n_treated, n_control : int
        Units used in each arm.
    trim_bounds : tuple of float or None
        Propensity-score bounds of the trimming (None without trimming).
    max_share_treated, max_share_control, max_weight_treated, max_weight_control : float
        Largest weight in each arm, as a share of the arm's total and absolute.
    extreme_weights : bool
        Whether an :class:`~evaltools.exceptions.ExtremeWeightWarning` was issued.
    """

    estimate: float
    estimand: str
    weights: pd.Series
    pscore: PropensityResults
    n_treated: int
    n_control: int
    n_trimmed_treated: int
    n_trimmed_control: int
    trim_bounds: tuple[float, float] | None
    ess_treated: float
    ess_control: float
    max_share_treated: float
    max_share_control: float
    max_weight_treated: float
    max_weight_control: float
    extreme_weights: bool
    influence: pd.DataFrame
    n_clusters: int | None

    @classmethod
    def _build(
        cls,
        model: _WeightingBase,
        ps: PropensityResults,
        keep: np.ndarray,
        info: dict,
        targets: list[_Target],
        nuis: dict[str, np.ndarray],
        w: np.ndarray,
        diag: dict,
        what: str,
        cluster: str | None = None,
    ) -> WeightingResults:
        ifs = [tg.influence(nuis) for tg in targets]
        if len(targets) == 2:
            mu1, mu0 = targets[0].theta, targets[1].theta
            if1, if0 = ifs
        else:
            mu1 = targets[0].theta
            mu0 = targets[1].theta + targets[2].theta
            if1, if0 = ifs[0], ifs[1] + ifs[2]
        n = if1.size
        est = mu1 - mu0
        mat = np.column_stack([if1 - if0, if1, if0])
        n_clusters = None
        if cluster is None:
            cov = mat.T @ mat / n**2
        else:
            codes, uniq = pd.factorize(model._data[cluster].to_numpy()[keep])
            n_clusters = len(uniq)
            if n_clusters < 2:
                raise DataValidationError(
                    f"{model._name}: cluster column {cluster!r} has {n_clusters} cluster among the "
                    f"{n:,} units used; clustered standard errors need at least two."
                )
            cov = cluster_covariance(mat / n, codes)  # mat / n: the sum-form influence functions
        name = model.estimand
        labels = [name, "POM1", "POM0"]
        t = model._t[keep]
        weights = pd.Series(np.nan, index=model._data.index, name="weight")
        weights[keep] = w
        foot = [
            f"Estimand: {name} ("
            f"{'average treatment effect' if name == 'ATE' else 'average effect on the treated'}); "
            f"POM1/POM0 are the potential-outcome means{' among the treated' if name == 'ATT' else ''}.",
            what + ".",
            f"Propensity score: {ps.method}"
            + (
                " (scores treated as known in the SE)."
                if ps._link is None
                else "; SEs from the stacked estimating equations (they account for the estimated propensity"
                " score"
                + (
                    " and outcome regressions)."
                    if isinstance(getattr(model, "outcome_model", "ols"), str) and isinstance(model, AIPW)
                    else ")."
                )
            ),
            f"Effective sample sizes: treated {diag['ess_treated']:,.1f} of {int(t.sum()):,}, control "
            f"{diag['ess_control']:,.1f} of {int((~t).sum()):,}; largest weight {max(diag['max_weight_treated'], diag['max_weight_control']):.4g}.",  # noqa: E501
        ]
        if n_clusters is not None:
            foot.append(
                f"Standard errors clustered by {cluster!r} ({n_clusters:,} clusters; small-sample "
                "factor G/(G-1))."
            )
        if info["trim_bounds"] is not None:
            lo, hi = info["trim_bounds"]
            foot.append(
                f"Trimmed to propensity scores in [{lo:.4g}, {hi:.4g}]: dropped "
                f"{info['n_trimmed_treated']:,} treated and {info['n_trimmed_control']:,} control units; "
                "propensity model re-fitted on the kept units."
            )
        if diag["extreme_weights"]:
            foot.append(
                "Warning: extreme weights (see ExtremeWeightWarning); the estimate rests on few units."
            )
        header = [
            ("Estimand", name),
            ("Treated", int(t.sum())),
            ("Controls", int((~t).sum())),
            ("ESS treated", round(diag["ess_treated"], 1)),
            ("ESS control", round(diag["ess_control"], 1)),
            ("Trimmed", info["n_trimmed_treated"] + info["n_trimmed_control"]),
        ]
        if n_clusters is not None:
            header.append(("Clusters", n_clusters))
        extra = {
            "estimate": float(est),
            "estimand": name,
            "weights": weights,
            "pscore": ps,
            "n_treated": int(t.sum()),
            "n_control": int((~t).sum()),
            **info,
            **diag,
            "influence": pd.DataFrame(mat, index=model._data.index[keep], columns=labels),
            "n_clusters": n_clusters,
        }
        title = f"{'AIPW' if isinstance(model, AIPW) else 'IPW'} estimate of the {name}"
        return cls(
            pd.Series([est, mu1, mu0], index=labels),
            pd.DataFrame(cov, index=labels, columns=labels),
            n,
            model=model,
            title=title,
            header=header,
            footnotes=foot,
            extra=extra,
        )

    def balance(self, covariates: Sequence[str] | None = None, **kwargs: Any) -> BalanceTable:
        """Covariate balance before and after weighting (see :func:`balance_table`).

        Parameters
        ----------
        covariates : sequence of str, optional
            Defaults to the propensity model's covariates (when given by name).
        **kwargs
            Passed to :func:`balance_table`.

        Returns
        -------
        BalanceTable
            Computed on the kept (untrimmed) units.
        """
        m = self.model
        cov = list(covariates) if covariates is not None else (m.covariates or self.pscore.model.covariates)
        check_columns(m._data, cov, "WeightingResults.balance", "covariates")
        keep = self.weights.notna().to_numpy()
        return balance_table(
            m._data.loc[keep], m.treatment, cov, weights=self.weights[keep].to_numpy(), **kwargs
        )
