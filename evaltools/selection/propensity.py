"""Propensity-score models, common support and trimming.

:class:`PropensityScore` fits ``P(T = 1 | X)`` by logit or probit
(the package's Newton-Raphson, with coefficient table) or by any scikit-learn classifier (cloned
before fitting).  :class:`PropensityResults` holds the scores aligned to the
data index and offers common-support diagnostics, trimming (min/max rule or
Crump, Hotz, Imbens and Mitnik 2009) and the overlap plot.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd

from evaltools._model.binary import Link, fit_binary
from evaltools._model.data import FormulaMixin, missing_message
from evaltools._model.names import renamed_arguments
from evaltools._validation import check_columns, check_option
from evaltools.exceptions import (
    ConvergenceWarning,
    DataValidationError,
    OverlapWarning,
    SpecificationError,
)
from evaltools.reporting.results import EstimationResults
from evaltools.selection.diagnostics import _binary_treatment, plot_overlap

__all__ = ["PropensityScore", "PropensityResults", "TrimResult", "crump_alpha"]

_WHERE = "PropensityScore"
_EXTREME = 1e-10


def _design_from_columns(data: pd.DataFrame, covariates: Sequence[str], where: str) -> pd.DataFrame:
    covariates = list(covariates)
    if not covariates:
        raise SpecificationError(f"{where}: 'covariates' must name at least one column.")
    check_columns(data, covariates, where, "covariates")
    x = data[covariates]
    nonnum = [c for c in covariates if not (pd.api.types.is_numeric_dtype(x[c]) or x[c].dtype == bool)]
    if nonnum:
        raise DataValidationError(
            f"{where}: covariate column(s) {nonnum} are not numeric. Encode them (e.g. with "
            "pandas.get_dummies) or use from_formula, which expands categorical columns."
        )
    return x.astype(float)


def _check_missing(x: pd.DataFrame, where: str, role: str = "covariates") -> None:
    """Raise the package's missing-value error for the columns of ``x`` (all of one ``role``)."""
    msg = missing_message(x, {role: list(x.columns)}, where)
    if msg is not None:
        raise DataValidationError(msg)


class PropensityScore(FormulaMixin):
    """Propensity-score model ``P(T = 1 | X)``.

    :meth:`from_formula` builds the model from a formula such as
    ``"treat ~ age + I(age**2) + educ"`` (formulaic syntax; the left-hand
    side is the treatment, an intercept is included unless removed with
    ``- 1``) and ``method``.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    treatment : str
        Binary (0/1 or bool) treatment column.
    covariates : sequence of str
        Numeric covariate columns (use :meth:`from_formula` for transformations
        and categorical expansion).
    method : {"logit", "probit"} or scikit-learn classifier, default="logit"
        Model.  A classifier must implement ``fit`` and ``predict_proba``; it is
        cloned, never modified.
    add_constant : bool, default=True
        Add an intercept (logit/probit with ``covariates``).

    Examples
    --------
    >>> from evaltools.datasets.nsw import load
    >>> ps = PropensityScore(load(), treatment="treat", covariates=["age", "educ", "re75"]).fit()
    >>> ps.pscore.shape
    (445,)
    """

    _formula_lhs = "treatment"
    _formula_kwargs = ("method",)
    _formula_intercept = True
    _formula_defaults = (("add_constant", False),)

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        treatment: str,
        covariates: Sequence[str] | None = None,
        method: Any = "logit",
        add_constant: bool = True,
        _design: pd.DataFrame | None = None,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{_WHERE}: data must be a pandas DataFrame; got {type(data).__name__}.")
        check_columns(data, [treatment], _WHERE, "treatment")
        if isinstance(method, str):
            check_option("method", method, ("logit", "probit"), _WHERE)
        elif not (hasattr(method, "fit") and hasattr(method, "predict_proba")):
            raise SpecificationError(
                f"The 'method' parameter of {_WHERE} must be 'logit', 'probit' or a scikit-learn "
                f"classifier with fit/predict_proba. Got {method!r} instead."
            )
        self.treatment = treatment
        self.method = method
        self._t = _binary_treatment(data, treatment, _WHERE)
        if _design is not None:
            x = _design
        else:
            if covariates is None:
                raise SpecificationError(f"{_WHERE}: pass 'covariates' or use PropensityScore.from_formula.")
            x = _design_from_columns(data, covariates, _WHERE)
            if add_constant and isinstance(method, str):
                x = pd.concat([pd.Series(1.0, index=x.index, name="Intercept"), x], axis=1)
        _check_missing(x, _WHERE)
        self.covariates = [c for c in x.columns if c != "Intercept"]
        self._x = x
        self._index = data.index

    @renamed_arguments(maxiter="max_iter")
    def fit(self, *, max_iter: int = 100) -> PropensityResults:
        """Fit the model and return :class:`PropensityResults` (the model is not modified).

        Parameters
        ----------
        max_iter : int, default=100
            Maximum Newton iterations (logit/probit; ``maxiter``, the old
            name, is accepted with a ``FutureWarning`` for one release).

        Returns
        -------
        PropensityResults

        Raises
        ------
        DataValidationError
            When covariates perfectly predict treatment (complete separation).
        """
        t = self._t.astype(float)
        x = self._x
        if isinstance(self.method, str):
            xa = x.to_numpy()
            with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
                link = cast(Link, self.method)  # checked in __init__
                fit = fit_binary(xa, t, link=link, max_iter=max_iter)
            p = fit.fitted
            if not np.all(np.isfinite(fit.params)) or np.allclose(p, t, rtol=0.0, atol=1e-8):
                raise self._separation_error()
            lin = xa @ fit.params
            conv = fit.converged
            if not conv:
                warnings.warn(
                    f"{_WHERE}.fit: {self.method} did not converge in {max_iter} iterations.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            params = pd.Series(fit.params, index=x.columns)
            cov = pd.DataFrame(fit.cov, index=x.columns, columns=x.columns)
            extra_model = {"llf": float(fit.llf), "converged": conv, "_link": self.method}
        else:
            from sklearn.base import clone

            est = clone(self.method)
            est.fit(x.to_numpy(), self._t.astype(int))
            classes = list(getattr(est, "classes_", [0, 1]))
            p = est.predict_proba(x.to_numpy())[:, classes.index(1)]
            with np.errstate(divide="ignore"):
                lin = np.log(p) - np.log1p(-p)
            params = pd.Series(dtype=float)
            cov = pd.DataFrame(dtype=float)
            extra_model = {"llf": float("nan"), "converged": True, "_link": None, "estimator": est}
        p = np.asarray(p, dtype=float)
        n_extreme = int(((p < _EXTREME) | (p > 1 - _EXTREME)).sum())
        if n_extreme:
            warnings.warn(
                f"{_WHERE}.fit: {n_extreme:,} of {p.size:,} units have a propensity score within "
                f"{_EXTREME:g} of 0 or 1 (quasi-complete separation); their treatment is almost "
                "determined by the covariates. Consider trimming (PropensityResults.trim) or a "
                "simpler specification.",
                OverlapWarning,
                stacklevel=2,
            )
        return PropensityResults(self, p, lin, params, cov, n_extreme=n_extreme, **extra_model)

    def _separation_error(self) -> DataValidationError:
        return DataValidationError(
            f"{_WHERE}.fit: the covariates perfectly predict treatment {self.treatment!r} (complete "
            f"separation in the {self.method} model), so propensity scores of 0 or 1 leave no overlap. "
            "Remove or coarsen the covariate(s) that determine treatment, or restrict the sample to "
            "units that could receive either treatment."
        )


@dataclass(frozen=True)
class TrimResult:
    """Outcome of :meth:`PropensityResults.trim`.

    Attributes
    ----------
    keep : Series of bool
        True for units kept, aligned to the data index.
    lower, upper : float
        Propensity-score bounds of the kept region.
    method : str
        ``"crump"`` or ``"minmax"``.
    alpha : float
        The Crump cut-off used (``nan`` for minmax).
    n_dropped_treated, n_dropped_control : int
        Units outside the bounds.
    """

    keep: pd.Series
    lower: float
    upper: float
    method: str
    alpha: float
    n_dropped_treated: int
    n_dropped_control: int

    @property
    def n_dropped(self) -> int:
        """Total number of units trimmed."""
        return self.n_dropped_treated + self.n_dropped_control

    def describe(self) -> str:
        """One sentence for summary footnotes."""
        rule = (
            f"Crump et al. (2009) rule alpha={self.alpha:.4g}"
            if self.method == "crump"
            else "min/max common-support rule"
        )
        return (
            f"Trimmed to propensity scores in [{self.lower:.4g}, {self.upper:.4g}] ({rule}): "
            f"dropped {self.n_dropped_treated:,} treated and {self.n_dropped_control:,} control units."
        )


def check_trim(trim: object, where: str) -> None:
    """Validate a ``trim`` argument: None, ``"optimal"`` (Crump et al.) or a float in (0, 0.5)."""
    if trim is not None and not (
        trim == "optimal" or (isinstance(trim, float | int) and not isinstance(trim, bool) and 0 < trim < 0.5)
    ):
        raise SpecificationError(
            f"The 'trim' parameter of {where} must be None, 'optimal' or a float in (0, 0.5). "
            f"Got {trim!r} instead."
        )


def crump_alpha(pscore: np.ndarray) -> float:
    """Optimal trimming cut-off of Crump, Hotz, Imbens and Mitnik (2009).

    With ``g = 1 / (e (1 - e))``, no trimming is needed (``alpha = 0``) when
    ``max g <= 2 mean g``; otherwise ``gamma`` solves
    ``gamma = 2 E[g | g <= gamma]`` and ``alpha = 1/2 - sqrt(1/4 - 1/gamma)``.

    Parameters
    ----------
    pscore : ndarray
        Propensity scores strictly inside (0, 1).

    Returns
    -------
    float
        The cut-off ``alpha``; keep units with ``alpha <= e <= 1 - alpha``.
    """
    e = np.asarray(pscore, dtype=float)
    g = np.sort(1.0 / (e * (1.0 - e)))
    if g[-1] <= 2.0 * g.mean():
        return 0.0
    cm = np.cumsum(g) / np.arange(1, g.size + 1)
    # first k with g_k > 2 * mean(g_1..g_k): gamma is the fixed point just below it
    k = int(np.argmax(g > 2.0 * cm))
    gamma = 2.0 * cm[k - 1] if k > 0 else g[0]
    gamma = max(gamma, 4.0)
    return float(0.5 - np.sqrt(0.25 - 1.0 / gamma))


class PropensityResults(EstimationResults):
    """Fitted propensity-score model (read-only).

    Attributes
    ----------
    pscore : Series
        Estimated ``P(T = 1 | X)`` aligned to the data index.
    linear_predictor : Series
        Index ``x'b`` (logit/probit) or ``logit(pscore)`` (classifiers).
    treated : Series of bool
        The treatment indicator.
    llf : float
        Log-likelihood (logit/probit).
    n_extreme : int
        Units with scores within 1e-10 of 0 or 1.
    method : str
        The method name (``"logit"``, ``"probit"`` or the classifier's class name).
    converged : bool
        Whether the likelihood maximiser converged (always True for classifiers).
    estimator : object
        The fitted clone of a classifier (classifiers only).
    """

    model: PropensityScore
    pscore: pd.Series
    linear_predictor: pd.Series
    treated: pd.Series
    llf: float
    n_extreme: int
    method: str
    converged: bool
    estimator: Any = None
    _link: Link | None

    def __init__(
        self,
        model: PropensityScore,
        p: np.ndarray,
        lin: np.ndarray,
        params: pd.Series,
        cov: pd.DataFrame,
        **extra: Any,
    ) -> None:
        idx = model._index
        method = model.method if isinstance(model.method, str) else type(model.method).__name__
        t = model._t
        foot = [
            f"Propensity score P({model.treatment}=1 | X) estimated by {method} on "
            f"{len(model.covariates)} covariate column(s).",
        ]
        if not isinstance(model.method, str):
            foot.append("Classifier scores have no coefficient table; a clone of the estimator was fitted.")
        header = [
            ("Model", method),
            ("Treated", int(t.sum())),
            ("Controls", int((~t).sum())),
            ("Log-likelihood", round(extra.get("llf", float("nan")), 4)),
        ]
        extra.update(
            {
                "pscore": pd.Series(p, index=idx, name="pscore"),
                "linear_predictor": pd.Series(lin, index=idx, name="linear_predictor"),
                "treated": pd.Series(t, index=idx, name=model.treatment),
                "method": method,
            }
        )
        super().__init__(
            params,
            cov,
            len(p),
            model=model,
            title="Propensity score model",
            header=header,
            footnotes=foot,
            extra=extra,
        )

    @cached_property
    def _design(self) -> np.ndarray:
        return self.model._x.to_numpy()

    def common_support(self) -> pd.DataFrame:
        """Range of scores by group and units outside the overlap region.

        Returns
        -------
        DataFrame
            Rows ``treated``/``control``; columns ``n``, ``min``, ``max``,
            ``n_below_overlap``, ``n_above_overlap``.  The overlap region is
            ``[max(min_t, min_c), min(max_t, max_c)]`` (stored in ``attrs``).
        """
        p = self.pscore.to_numpy()
        t = self.treated.to_numpy()
        lo = max(p[t].min(), p[~t].min())
        hi = min(p[t].max(), p[~t].max())
        rows = {}
        for name, m in (("treated", t), ("control", ~t)):
            rows[name] = {
                "n": int(m.sum()),
                "min": p[m].min(),
                "max": p[m].max(),
                "n_below_overlap": int((p[m] < lo).sum()),
                "n_above_overlap": int((p[m] > hi).sum()),
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.attrs["overlap"] = (float(lo), float(hi))
        if lo > hi:
            warnings.warn(
                "PropensityResults.common_support: treated and control scores do not overlap at all.",
                OverlapWarning,
                stacklevel=2,
            )
        return out

    def trim(self, method: str = "crump", alpha: float | str = 0.1) -> TrimResult:
        """Trim units with extreme propensity scores.

        Parameters
        ----------
        method : {"crump", "minmax"}, default="crump"
            ``"crump"`` keeps ``alpha <= e <= 1 - alpha`` (Crump et al. 2009);
            ``"minmax"`` keeps the overlap region of the two groups' ranges.
        alpha : float or "optimal", default=0.1
            Crump cut-off; ``0.1`` is the authors' rule of thumb, ``"optimal"``
            solves their variance-minimising condition (:func:`crump_alpha`).

        Returns
        -------
        TrimResult
            The kept mask (aligned to the data index) with counts; apply it
            with ``data[result.keep]``.
        """
        check_option("method", method, ("crump", "minmax"), "PropensityResults.trim")
        p = self.pscore.to_numpy()
        t = self.treated.to_numpy()
        if method == "crump":
            if isinstance(alpha, str):
                check_option("alpha", alpha, ("optimal",), "PropensityResults.trim")
                a = crump_alpha(np.clip(p, 1e-12, 1 - 1e-12))
            else:
                a = float(alpha)
                if not 0 <= a < 0.5:
                    raise SpecificationError(
                        f"PropensityResults.trim: alpha must be in [0, 0.5); got {alpha!r}."
                    )
            lo, hi = a, 1 - a
        else:
            a = float("nan")
            lo = max(p[t].min(), p[~t].min())
            hi = min(p[t].max(), p[~t].max())
        keep = (p >= lo) & (p <= hi)
        if not (keep & t).any() or not (keep & ~t).any():
            raise DataValidationError(
                f"PropensityResults.trim: no {'treated' if not (keep & t).any() else 'control'} units have "
                f"propensity scores in [{lo:.4g}, {hi:.4g}]; there is no common support."
            )
        return TrimResult(
            pd.Series(keep, index=self.pscore.index, name="keep"),
            float(lo),
            float(hi),
            method,
            a,
            int((~keep & t).sum()),
            int((~keep & ~t).sum()),
        )

    def plot_overlap(self, ax: Any = None, **kwargs: Any) -> Any:
        """Mirrored histogram of treated and control scores (see :func:`plot_overlap`)."""
        return plot_overlap(self.pscore.to_numpy(), self.treated.to_numpy(), ax=ax, **kwargs)

    plot = plot_overlap
