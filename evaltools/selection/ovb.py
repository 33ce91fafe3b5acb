"""Omitted-variable-bias sensitivity of a linear-regression coefficient (Cinelli & Hazlett 2020).

For the coefficient of a treatment ``D`` in the OLS regression of ``Y`` on ``D``
and covariates ``X``, an omitted confounder ``Z`` is described by two partial
R-squared values: ``R2_{D~Z|X}`` (share of the residual variance of the
treatment it explains) and ``R2_{Y~Z|D,X}`` (share of the residual variance of
the outcome).  The bias of the estimate is then bounded by

``|bias| = sqrt(R2_{Y~Z|D,X} R2_{D~Z|X} / (1 - R2_{D~Z|X})) * se * sqrt(dof)``

(Cinelli & Hazlett 2020, eq. 11), so the whole sensitivity analysis uses only
the estimate, its standard error and the residual degrees of freedom.  This
module computes

* the partial R-squared of the treatment with the outcome, ``R2_{Y~D|X}``;
* the robustness values ``RV_q`` (the strength, equal on both sides, that
  moves the estimate by ``100 q`` %) and ``RV_{q,alpha}`` (that makes the
  adjusted ``1 - alpha`` interval include ``(1 - q)`` times the estimate);
* bounds on the strength of a confounder ``k_D`` / ``k_Y`` times as strong as
  an observed benchmark covariate (or group of covariates), with the
  bias-adjusted estimates, standard errors, t-values and intervals;
* the contour plot of the adjusted estimate (or t-value) over the two partial
  R-squared values (:meth:`OVBResults.plot`).

:func:`ovb_sensitivity` fits the regression (a DataFrame) or takes a fitted
statsmodels OLS/WLS result; :func:`ovb_sensitivity_from_estimate` works from
the numbers of any linear-regression coefficient with classical standard
errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._validation import check_columns, warn_dropped
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.reporting.results import ReadOnlyMixin
from evaltools.reporting.summary import Summary
from evaltools.selection._ovb_design import fit_design

__all__ = ["OVBResults", "ovb_sensitivity", "ovb_sensitivity_from_estimate", "robustness_value"]

_W = "ovb_sensitivity"


# ---------------------------------------------------------------- closed forms
def robustness_value(t_statistic: Any, dof: float, *, q: float = 1.0, alpha: float | None = None) -> Any:
    """Robustness value ``RV_q`` or ``RV_{q,alpha}`` of a regression coefficient.

    Parameters
    ----------
    t_statistic : float or array-like
        t-value of the coefficient (classical standard error).
    dof : float
        Residual degrees of freedom of the regression.
    q : float, default=1.0
        Fraction of the estimate that the confounder should remove (1: bring it
        to zero).
    alpha : float, optional
        With ``alpha``: the strength that makes the adjusted ``1 - alpha``
        interval reach ``(1 - q)`` times the estimate.

    Returns
    -------
    float or ndarray
        The robustness value in [0, 1].

    Notes
    -----
    With ``f_q = q |t| / sqrt(dof)`` and, for ``alpha``,
    ``f_crit = |t*_{alpha/2, dof-1}| / sqrt(dof - 1)`` and ``f = f_q - f_crit``:
    ``RV = (sqrt(f^4 + 4 f^2) - f^2) / 2`` for ``f > 0`` and 0 otherwise
    (Cinelli & Hazlett 2020, eq. 17-18).  When ``f_q > 1 / f_crit`` the bound
    ``R2_{D~Z|X} <= 1`` binds and ``RV = (f_q^2 - f_crit^2) / (1 + f_q^2)`` (as
    R ``sensemakr::robustness_value``).

    Examples
    --------
    >>> round(float(robustness_value(4.18445, 783)), 5)
    0.13878
    """
    t = np.abs(np.asarray(t_statistic, dtype=float))
    _check_dof(dof)
    fq = q * t / np.sqrt(dof)
    fcrit = 0.0 if alpha is None else abs(stats.t.ppf(alpha / 2, dof - 1)) / np.sqrt(dof - 1)
    f = fq - fcrit
    with np.errstate(invalid="ignore", divide="ignore"):
        rv = np.where(f > 0, 0.5 * (np.sqrt(f**4 + 4 * f**2) - f**2), 0.0)
        if alpha is not None and fcrit > 0:
            rv = np.where((f > 0) & (fq > 1 / fcrit), (fq**2 - fcrit**2) / (1 + fq**2), rv)
    return float(rv) if rv.ndim == 0 else rv


def _check_dof(dof: float) -> None:
    if not np.isfinite(dof) or dof <= 1:
        raise SpecificationError(f"{_W}: the residual degrees of freedom must exceed 1; got {dof!r}.")


def _check_r2(name: str, v: np.ndarray, *, one_ok: bool = False) -> None:
    v = np.asarray(v, dtype=float)
    bad = ~np.isfinite(v) | (v < 0) | ((v > 1) if one_ok else (v >= 1))
    if np.any(bad):
        raise SpecificationError(
            f"{_W}: {name} must be partial R-squared values in [0, {'1]' if one_ok else '1)'}; got "
            f"{v.ravel()[bad.ravel()][:5]}."
        )


def _bound(r2dxj: float, r2yxj: float, kd: float, ky: float) -> tuple[float, float]:
    """Partial R2 of a confounder kd / ky times as strong as the benchmark (C&H 2020, eq. 19-20, fn. 10)."""
    r2dz = kd * r2dxj / (1 - r2dxj)
    r2zxj = kd * r2dxj**2 / ((1 - kd * r2dxj) * (1 - r2dxj))
    if r2dz >= 1 or not 0 <= r2zxj < 1:
        return float("nan"), float("nan")
    r2yz = ((np.sqrt(ky) + np.sqrt(r2zxj)) / np.sqrt(1 - r2zxj)) ** 2 * (r2yxj / (1 - r2yxj))
    return float(r2dz), float(min(r2yz, 1.0))


# ---------------------------------------------------------------- results
class OVBResults(ReadOnlyMixin):
    """Result of :func:`ovb_sensitivity` (read-only).

    Attributes
    ----------
    treatment, outcome : str
        Names of the treatment and the outcome.
    estimate, se, t_statistic : float
        The treatment coefficient, its classical standard error and t-value.
    dof : float
        Residual degrees of freedom of the regression.
    r2yd_x : float
        Partial R-squared of the treatment with the outcome, ``t^2 / (t^2 + dof)``:
        a confounder explaining all the residual variance of the outcome must
        explain at least this share of the treatment's to remove the estimate.
    f2yd_x : float
        Partial Cohen's f-squared, ``t^2 / dof``.
    rv_q, rv_qa : float
        Robustness values for ``q`` without and with ``alpha``.
    q, alpha : float
        The fraction of the estimate and the significance level used.
    reduce : bool
        Whether the adjustment moves the estimate towards zero.
    benchmarks : DataFrame
        Per benchmark covariate (group): ``r2dxj_x`` (partial R2 with the
        treatment given the other covariates) and ``r2yxj_dx`` (with the
        outcome given the treatment and the other covariates).
    bounds : DataFrame
        Per benchmark and multiplier: ``kd``, ``ky``, ``r2dz_x``, ``r2yz_dx``
        and the adjusted ``estimate``, ``se``, ``t``, ``lower``, ``upper``.
    nobs : int or None
        Rows used (None when built from numbers).
    n_dropped : int
        Rows dropped for missing values.
    """

    treatment: str
    outcome: str
    estimate: float
    se: float
    t_statistic: float
    dof: float
    r2yd_x: float
    f2yd_x: float
    rv_q: float
    rv_qa: float
    q: float
    alpha: float
    reduce: bool
    benchmarks: pd.DataFrame
    bounds: pd.DataFrame
    nobs: int | None
    n_dropped: int
    _bound_spec: list[tuple[Any, float, float, float, float]]

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)
        self._freeze()

    # -- adjustment functions ------------------------------------------------
    def bias(self, r2dz_x: Any, r2yz_dx: Any) -> Any:
        """Largest absolute bias of a confounder with the given partial R-squared values.

        Parameters
        ----------
        r2dz_x, r2yz_dx : float or array-like
            Partial R2 of the confounder with the treatment (given the
            covariates) and with the outcome (given treatment and covariates).

        Returns
        -------
        float or ndarray
        """
        a = np.asarray(r2dz_x, dtype=float)
        b = np.asarray(r2yz_dx, dtype=float)
        _check_r2("r2dz_x", a)
        _check_r2("r2yz_dx", b, one_ok=True)
        out = np.sqrt(b * a / (1 - a)) * self.se * np.sqrt(self.dof)
        return float(out) if out.ndim == 0 else out

    def adjusted_estimate(self, r2dz_x: Any, r2yz_dx: Any, *, reduce: bool | None = None) -> Any:
        """Bias-adjusted estimate ``sign(b) (|b| -/+ bias)`` (towards zero when ``reduce``)."""
        red = self.reduce if reduce is None else bool(reduce)
        return np.sign(self.estimate) * (abs(self.estimate) + (-1 if red else 1) * self.bias(r2dz_x, r2yz_dx))

    def adjusted_se(self, r2dz_x: Any, r2yz_dx: Any) -> Any:
        """Standard error of the regression that includes the confounder.

        ``sqrt((1 - R2_{Y~Z|D,X}) / (1 - R2_{D~Z|X})) * se * sqrt(dof / (dof - 1))``.
        """
        a = np.asarray(r2dz_x, dtype=float)
        b = np.asarray(r2yz_dx, dtype=float)
        _check_r2("r2dz_x", a)
        _check_r2("r2yz_dx", b, one_ok=True)
        out = np.sqrt((1 - b) / (1 - a)) * self.se * np.sqrt(self.dof / (self.dof - 1))
        return float(out) if out.ndim == 0 else out

    def adjusted_t(self, r2dz_x: Any, r2yz_dx: Any, *, reduce: bool | None = None, h0: float = 0.0) -> Any:
        """t-value of the adjusted estimate against ``h0``."""
        return (self.adjusted_estimate(r2dz_x, r2yz_dx, reduce=reduce) - h0) / self.adjusted_se(
            r2dz_x, r2yz_dx
        )

    def adjusted_ci(
        self, r2dz_x: Any, r2yz_dx: Any, *, alpha: float | None = None, reduce: bool | None = None
    ) -> tuple[Any, Any]:
        """Adjusted ``1 - alpha`` interval (t quantile with ``dof - 1`` degrees of freedom)."""
        a = self.alpha if alpha is None else float(alpha)
        tc = stats.t.ppf(1 - a / 2, self.dof - 1)
        est = self.adjusted_estimate(r2dz_x, r2yz_dx, reduce=reduce)
        se = self.adjusted_se(r2dz_x, r2yz_dx)
        return est - tc * se, est + tc * se

    # -- tables ------------------------------------------------------------------
    def _bounds(self, alpha: float) -> pd.DataFrame:
        rows = []
        for label, kd, ky, r2dxj, r2yxj in self._bound_spec:
            r2dz, r2yz = _bound(r2dxj, r2yxj, kd, ky)
            if np.isnan(r2dz):
                est = se = lo = hi = float("nan")
            else:
                est = float(self.adjusted_estimate(r2dz, r2yz))
                se = float(self.adjusted_se(r2dz, r2yz))
                lo, hi = (float(v) for v in self.adjusted_ci(r2dz, r2yz, alpha=alpha))
            rows.append(
                dict(
                    bound=_label(label, kd, ky),
                    benchmark=label,
                    kd=kd,
                    ky=ky,
                    r2dz_x=r2dz,
                    r2yz_dx=r2yz,
                    estimate=est,
                    se=se,
                    t=est / se if se > 0 else float("nan"),
                    lower=lo,
                    upper=hi,
                )
            )
        cols = ["benchmark", "kd", "ky", "r2dz_x", "r2yz_dx", "estimate", "se", "t", "lower", "upper"]
        if not rows:
            return pd.DataFrame(columns=cols, index=pd.Index([], name="bound"))
        return pd.DataFrame(rows).set_index("bound")[cols]

    def to_frame(self, alpha: float | None = None) -> pd.DataFrame:
        """Sensitivity statistics of the treatment coefficient as a one-row table."""
        a = self.alpha if alpha is None else float(alpha)
        rv_qa = robustness_value(self.t_statistic, self.dof, q=self.q, alpha=a)
        return pd.DataFrame(
            {
                "estimate": [self.estimate],
                "se": [self.se],
                "t": [self.t_statistic],
                "dof": [self.dof],
                "r2yd_x": [self.r2yd_x],
                f"rv_q{self.q:g}": [self.rv_q],
                f"rv_q{self.q:g}_alpha{a:g}": [rv_qa],
            },
            index=pd.Index([self.treatment], name="treatment"),
        )

    def summary(self, alpha: float | None = None) -> Summary:
        """Summary: sensitivity statistics, benchmark bounds and footnotes.

        Parameters
        ----------
        alpha : float, optional
            Significance level of ``RV_{q,alpha}`` and the adjusted intervals
            (default: the one given when the results were computed).
        """
        a = self.alpha if alpha is None else float(alpha)
        stats_tab = self.to_frame(a)
        rv_qa = float(stats_tab.iloc[0].to_numpy(dtype=float)[-1])
        target = (1 - self.q) * self.estimate
        reach = "zero" if target == 0 else f"{target:.4g}"  # (1 - 1) * (-b) is -0.0: say zero
        foot = [
            f"Cinelli & Hazlett (2020) omitted-variable-bias sensitivity of the {self.treatment!r} "
            "coefficient"
            + (f" on {self.outcome!r}" if self.outcome else "")
            + f" ({self.dof:g} residual degrees of freedom).",
            f"Partial R2 of the treatment with the outcome: {self.r2yd_x:.2%}; a confounder that explains "
            "all the residual variance of the outcome must explain at least this share of the treatment's to "
            "remove the estimate.",
            f"Robustness value: confounders explaining {self.rv_q:.2%} of the residual variance of both "
            f"the treatment and the outcome {'remove' if self.q == 1 else f'remove {self.q:.0%} of'} the "
            "estimate; "
            f"{rv_qa:.2%} make the adjusted {1 - a:.0%} interval reach {reach}.",
        ]
        tables = [stats_tab]
        if self._bound_spec:
            tables.append(self._bounds(a))
            foot.append(
                "Bounds: a confounder kd (ky) times as strong as the benchmark covariate(s) in explaining "
                "the residual variance of the treatment (outcome), orthogonal to the covariates; adjusted "
                f"{'towards' if self.reduce else 'away from'} zero, {1 - a:.0%} intervals with dof - 1."
            )
        if self.n_dropped:
            foot.append(f"{self.n_dropped:,} rows with missing values were dropped.")
        header: list[tuple[str, object]] = [
            ("Treatment", self.treatment),
            ("Estimate", self.estimate),
            ("Std. error", self.se),
        ]
        if self.nobs is not None:
            header.insert(1, ("No. observations", self.nobs))
        return Summary(
            title="Omitted-variable-bias sensitivity", header=tuple(header), tables=tables, footnotes=foot
        )

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    # -- plot ----------------------------------------------------------------------
    def plot(
        self,
        ax: Any = None,
        *,
        sensitivity_of: str = "estimate",
        lim: float | None = None,
        lim_y: float | None = None,
        n_grid: int = 200,
        **kwargs: Any,
    ) -> Any:
        """Contour plot of the adjusted estimate (or t-value) over the confounder's partial R-squared values.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is created when omitted.
        sensitivity_of : {"estimate", "t-value"}, default="estimate"
            Contours of the adjusted estimate, or of its t-value (the red line
            is then the critical value at ``alpha``).
        lim, lim_y : float, optional
            Upper ends of the horizontal (treatment) and vertical (outcome)
            axes; default ``max(0.4, 1.2 x the largest bound)``, below 1.
        n_grid : int, default=200
            Grid points per axis.
        **kwargs
            Passed to ``Axes.contour``.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if sensitivity_of not in ("estimate", "t-value"):
            raise SpecificationError(
                "The 'sensitivity_of' parameter of OVBResults.plot must be a str among "
                f"{{'estimate', 't-value'}}. Got {sensitivity_of!r} instead."
            )
        b = self.bounds
        top_x = float(np.nanmax(b["r2dz_x"])) if len(b) and b["r2dz_x"].notna().any() else 0.0
        top_y = float(np.nanmax(b["r2yz_dx"])) if len(b) and b["r2yz_dx"].notna().any() else 0.0
        lx = min(max(0.4, 1.2 * top_x), 0.99) if lim is None else float(lim)
        ly = min(max(0.4, 1.2 * top_y), 0.99) if lim_y is None else float(lim_y)
        if not (0 < lx < 1 and 0 < ly <= 1):
            raise SpecificationError(f"OVBResults.plot: lim and lim_y must lie in (0, 1); got {lx}, {ly}.")
        gx = np.linspace(0, lx, n_grid)
        gy = np.linspace(0, min(ly, 1 - 1e-12), n_grid)
        xx, yy = np.meshgrid(gx, gy)
        if sensitivity_of == "estimate":
            zz = self.adjusted_estimate(xx, yy)
            threshold, z0, what = 0.0, self.estimate, "adjusted estimate"
        else:
            zz = self.adjusted_t(xx, yy)
            threshold = float(np.sign(self.estimate) * stats.t.ppf(1 - self.alpha / 2, self.dof - 1))
            z0, what = self.t_statistic, "adjusted t-value"
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        cs = ax.contour(
            xx,
            yy,
            zz,
            levels=kwargs.pop("levels", 10),
            colors=kwargs.pop("colors", "grey"),
            linewidths=0.8,
            **kwargs,
        )
        ax.clabel(cs, inline=True, fontsize=7, fmt="%.3g")
        if np.nanmin(zz) <= threshold <= np.nanmax(zz):
            ct = ax.contour(xx, yy, zz, levels=[threshold], colors="red", linestyles="--", linewidths=1.4)
            ax.clabel(ct, inline=True, fontsize=7, fmt="%.3g")
        ax.plot([0], [0], marker="^", color="black", ls="none", clip_on=False)
        ax.annotate(f"unadjusted ({z0:.3g})", (0, 0), xytext=(6, 6), textcoords="offset points", fontsize=8)
        for label, row in b.iterrows():
            if np.isnan(row["r2dz_x"]):
                continue
            val = row["estimate"] if sensitivity_of == "estimate" else row["t"]
            ax.plot([row["r2dz_x"]], [row["r2yz_dx"]], marker="D", color="red", ls="none")
            ax.annotate(
                f"{label} ({val:.3g})",
                (row["r2dz_x"], row["r2yz_dx"]),
                xytext=(6, -10),
                textcoords="offset points",
                fontsize=8,
                color="red",
            )
        ax.set_xlim(0, lx)
        ax.set_ylim(0, ly)
        ax.set_xlabel("partial R\N{SUPERSCRIPT TWO} of confounder with the treatment (share)")
        ax.set_ylabel("partial R\N{SUPERSCRIPT TWO} of confounder with the outcome (share)")
        ax.set_title(f"Sensitivity of the {what} of {self.treatment!r} to omitted confounders", fontsize=10)
        return ax


def _label(label: str, kd: float, ky: float) -> str:
    return f"{kd:g}x {label}" if kd == ky else f"{kd:g}/{ky:g}x {label}"


def _multipliers(kd: Any, ky: Any) -> list[tuple[float, float]]:
    kd_ = np.atleast_1d(np.asarray(kd, dtype=float))
    ky_ = kd_ if ky is None else np.atleast_1d(np.asarray(ky, dtype=float))
    if kd_.size != ky_.size:
        if kd_.size == 1:
            kd_ = np.repeat(kd_, ky_.size)
        elif ky_.size == 1:
            ky_ = np.repeat(ky_, kd_.size)
        else:
            raise SpecificationError(
                f"{_W}: kd and ky must have the same length; got {kd_.size} and {ky_.size}."
            )
    if np.any(~np.isfinite(kd_)) or np.any(kd_ <= 0) or np.any(~np.isfinite(ky_)) or np.any(ky_ <= 0):
        raise SpecificationError(f"{_W}: kd and ky must be positive numbers; got kd={kd!r}, ky={ky!r}.")
    return [(float(a), float(b)) for a, b in zip(kd_, ky_, strict=True)]


def _check_q_alpha(q: float, alpha: float) -> None:
    if not (isinstance(q, int | float) and 0 < q <= 1):
        raise SpecificationError(f"{_W}: q must be a number in (0, 1]; got {q!r}.")
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise SpecificationError(f"{_W}: alpha must be a number in (0, 1); got {alpha!r}.")


def _make(
    estimate: float,
    se: float,
    dof: float,
    *,
    treatment: str,
    outcome: str | None,
    q: float,
    alpha: float,
    reduce: bool,
    bench: list[tuple[str, float, float]],
    mult: list[tuple[float, float]],
    nobs: int | None,
    n_dropped: int,
) -> OVBResults:
    _check_q_alpha(q, alpha)
    _check_dof(dof)
    if not (np.isfinite(estimate) and np.isfinite(se) and se > 0):
        raise SpecificationError(f"{_W}: estimate must be finite and se positive; got {estimate!r}, {se!r}.")
    t = estimate / se
    spec = [(lab, kd, ky, r2d, r2y) for lab, r2d, r2y in bench for kd, ky in mult]
    res = OVBResults(
        treatment=treatment,
        outcome=outcome,
        estimate=float(estimate),
        se=float(se),
        t_statistic=float(t),
        dof=float(dof),
        r2yd_x=float(t**2 / (t**2 + dof)),
        f2yd_x=float(t**2 / dof),
        rv_q=float(robustness_value(t, dof, q=q)),
        rv_qa=float(robustness_value(t, dof, q=q, alpha=alpha)),
        q=float(q),
        alpha=float(alpha),
        reduce=bool(reduce),
        benchmarks=pd.DataFrame(
            {"r2dxj_x": [b[1] for b in bench], "r2yxj_dx": [b[2] for b in bench]},
            index=pd.Index([b[0] for b in bench], name="benchmark"),
        ),
        nobs=nobs,
        n_dropped=n_dropped,
        _bound_spec=spec,
        bounds=None,
    )
    object.__setattr__(res, "bounds", res._bounds(alpha))
    impossible = res.bounds.index[res.bounds["r2dz_x"].isna()].tolist()
    if impossible:
        import warnings

        warnings.warn(
            f"{_W}: the bounds {impossible} imply R2_{{D~Z|X}} >= 1 (impossible kd); they are NaN. "
            "Use a smaller kd.",
            stacklevel=3,
        )
    return res


def ovb_sensitivity(
    data: Any,
    *,
    treatment: str,
    outcome: str | None = None,
    covariates: Sequence[str] | None = None,
    benchmark_covariates: Any = None,
    kd: Any = 1.0,
    ky: Any = None,
    q: float = 1.0,
    alpha: float = 0.05,
    reduce: bool = True,
) -> OVBResults:
    """Cinelli-Hazlett sensitivity of an OLS treatment coefficient to omitted confounders.

    Parameters
    ----------
    data : DataFrame or statsmodels regression results
        The data (the regression ``outcome ~ treatment + covariates`` with an
        intercept is fitted; rows with missing values are dropped with a
        warning), or a fitted statsmodels OLS/WLS result with
        ``cov_type="nonrobust"`` (its design is reused; ``outcome`` and
        ``covariates`` must then be omitted).
    treatment : str
        The treatment column (regressor of interest).
    outcome : str
        The outcome column (DataFrame input).
    covariates : sequence of str
        Covariate columns (DataFrame input); categorical, object and bool
        columns become dummies (first level omitted).
    benchmark_covariates : str, sequence or dict, optional
        Observed covariates whose explanatory power bounds the confounder's:
        a name, a list of names (each its own benchmark; a categorical
        covariate is the group of its dummies), nested lists for groups
        (``[["female", "pastvoted"]]``) or a dict ``{label: [columns]}``.
    kd, ky : float or sequence of float, default=1.0 and ``kd``
        Multipliers: the confounder explains ``kd`` times the benchmark's
        share of the residual variance of the treatment and ``ky`` times of
        the outcome.
    q : float, default=1.0
        Fraction of the estimate of interest for the robustness values.
    alpha : float, default=0.05
        Significance level of ``RV_{q,alpha}`` and the adjusted intervals.
    reduce : bool, default=True
        Adjust towards zero (the confounder explains part of the effect).

    Returns
    -------
    OVBResults

    Notes
    -----
    Classical (homoskedastic) standard errors are required: the bias formula
    rests on ``se * sqrt(dof) = sd(Y resid) / sd(D resid)``.  The partial R2 of
    a benchmark (group) ``X_j`` is ``F p / (F p + dof)`` from the Wald
    statistic of its coefficients, in the treatment regression
    ``D ~ X`` and in the outcome regression.  The bound for a confounder
    ``k_D``, ``k_Y`` times as strong as ``X_j`` and orthogonal to the
    covariates is ``R2_{D~Z|X} = k_D R2_{D~Xj|X-j} / (1 - R2_{D~Xj|X-j})`` and
    ``R2_{Y~Z|D,X} <= ((sqrt(k_Y) + sqrt(r)) / sqrt(1 - r))^2 R2_{Y~Xj|D,X-j} /
    (1 - R2_{Y~Xj|D,X-j})`` with ``r = k_D R2_{D~Xj}^2 / ((1 - k_D R2_{D~Xj})
    (1 - R2_{D~Xj}))`` (Cinelli & Hazlett 2020, Section 6.1; capped at 1).
    Adjusted intervals use the t quantile with ``dof - 1`` degrees of freedom.
    They treat the confounder's partial R2 values as known; for a benchmark
    bound, whose R2 values are estimated, the interval does not carry that
    uncertainty (in the package's Monte Carlo, with a confounder exactly as
    strong as the benchmark omitted, the 1x adjusted estimate is unbiased but
    its 95% interval covered the truth in 73% of samples; at the confounder's
    true R2 values the coverage is nominal).

    References
    ----------
    Cinelli, C. and Hazlett, C. (2020). Making sense of sensitivity: extending
    omitted variable bias. JRSS Series B 82(1), 39-67.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"x": rng.normal(size=500), "w": rng.normal(size=500)})
    >>> d["t"] = d.x + rng.normal(size=500)
    >>> d["y"] = 0.5 * d.t + d.x + d.w + rng.normal(size=500)
    >>> res = ovb_sensitivity(d, outcome="y", treatment="t", covariates=["x", "w"], benchmark_covariates="x")
    >>> bool(0 < res.rv_qa < res.rv_q < 1)
    True
    """
    if not isinstance(treatment, str):
        raise SpecificationError(f"{_W}: treatment must be a column name (str); got {treatment!r}.")
    if isinstance(data, pd.DataFrame):
        if outcome is None or covariates is None:
            raise SpecificationError(f"{_W}: with a DataFrame, pass outcome= and covariates=.")
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        cols = [outcome, treatment, *covariates]
        if len(set(cols)) != len(cols):
            raise SpecificationError(
                f"{_W}: outcome, treatment and covariates must be distinct columns; got {cols}."
            )
        check_columns(data, cols, _W)
        for c in (outcome, treatment):
            if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])):
                raise DataValidationError(
                    f"{_W}: column {c!r} has dtype {data[c].dtype}; it must be numeric."
                )
        miss = data[cols].isna().any(axis=1).to_numpy()
        warn_dropped(int(miss.sum()), len(data), f"missing values in {cols}", _W)
        d = data.loc[~miss, cols]
        parts: list[pd.Series | pd.DataFrame] = [
            pd.Series(1.0, index=d.index, name="Intercept"), d[treatment].astype(float)
        ]
        groups: dict[str, list[int]] = {}
        pos = 2
        for c in covariates:
            s = d[c]
            if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_bool_dtype(s):
                dm = pd.get_dummies(s.astype(str), prefix=c, prefix_sep="[", drop_first=True, dtype=float)
                dm.columns = [f"{col}]" for col in dm.columns]
                parts.append(dm)
                groups[c] = list(range(pos, pos + dm.shape[1]))
                pos += dm.shape[1]
            else:
                parts.append(s.astype(float))
                groups[c] = [pos]
                pos += 1
        Xf = pd.concat(parts, axis=1)
        names = list(Xf.columns)
        est, se, dof, bench = fit_design(
            d[outcome].to_numpy(float), Xf.to_numpy(float), names, 1, groups, benchmark_covariates
        )
        nobs, n_drop = len(d), int(miss.sum())
    else:
        model = getattr(data, "model", None)
        if model is None or not hasattr(model, "wexog") or not hasattr(data, "params"):
            raise SpecificationError(
                f"{_W}: data must be a DataFrame or a fitted statsmodels OLS/WLS result; got "
                f"{type(data).__name__}. For other linear-regression coefficients use "
                "ovb_sensitivity_from_estimate()."
            )
        if outcome is not None or covariates is not None:
            raise SpecificationError(
                f"{_W}: with a fitted result, omit outcome= and covariates= (the design is the result's)."
            )
        if getattr(data, "cov_type", "nonrobust") != "nonrobust":
            raise SpecificationError(
                f"{_W}: the result has cov_type={data.cov_type!r}; the Cinelli-Hazlett bias formula needs "
                "the classical (nonrobust) standard error. Refit with cov_type='nonrobust'."
            )
        names = list(model.exog_names)
        if treatment not in names:
            raise SpecificationError(
                f"{_W}: treatment {treatment!r} is not a regressor of the result ({names[:8]})."
            )
        groups = {n: [i] for i, n in enumerate(names)}
        est, se, dof, bench = fit_design(
            np.asarray(model.wendog, float),
            np.asarray(model.wexog, float),
            names,
            names.index(treatment),
            groups,
            benchmark_covariates,
        )
        outcome = getattr(model, "endog_names", None)
        nobs, n_drop = int(data.nobs), 0
    return _make(
        est,
        se,
        dof,
        treatment=treatment,
        outcome=outcome,
        q=q,
        alpha=alpha,
        reduce=reduce,
        bench=bench,
        mult=_multipliers(kd, ky),
        nobs=nobs,
        n_dropped=n_drop,
    )


def ovb_sensitivity_from_estimate(
    estimate: float,
    se: float,
    dof: float,
    *,
    treatment: str = "treatment",
    benchmarks: Any = None,
    kd: Any = 1.0,
    ky: Any = None,
    q: float = 1.0,
    alpha: float = 0.05,
    reduce: bool = True,
) -> OVBResults:
    """Cinelli-Hazlett sensitivity from the numbers of any linear-regression coefficient.

    Parameters
    ----------
    estimate, se : float
        The coefficient and its classical standard error.
    dof : float
        Residual degrees of freedom of the regression.
    treatment : str, default="treatment"
        Label of the coefficient.
    benchmarks : dict or DataFrame, optional
        ``{label: (r2dxj_x, r2yxj_dx)}`` or a frame with those two columns
        indexed by label: partial R2 of each benchmark with the treatment
        (given the other covariates) and with the outcome (given the treatment
        and the other covariates).
    kd, ky, q, alpha, reduce
        As in :func:`ovb_sensitivity`.

    Returns
    -------
    OVBResults

    Examples
    --------
    >>> res = ovb_sensitivity_from_estimate(0.09731582, 0.02325654, 783)
    >>> round(res.r2yd_x, 5), round(res.rv_q, 5), round(res.rv_qa, 5)
    (0.02187, 0.13878, 0.07626)
    """
    bench: list[tuple[str, float, float]] = []
    if benchmarks is not None:
        if isinstance(benchmarks, pd.DataFrame):
            if not {"r2dxj_x", "r2yxj_dx"} <= set(benchmarks.columns):
                raise SpecificationError(f"{_W}: benchmarks must have columns 'r2dxj_x' and 'r2yxj_dx'.")
            items = [(str(i), r["r2dxj_x"], r["r2yxj_dx"]) for i, r in benchmarks.iterrows()]
        elif isinstance(benchmarks, Mapping):
            items = [(str(k), *tuple(v)) for k, v in benchmarks.items()]
        else:
            raise SpecificationError(
                f"{_W}: benchmarks must be a dict or DataFrame; got {type(benchmarks).__name__}."
            )
        for lab, r2d, r2y in items:
            _check_r2(f"benchmark {lab!r} partial R2", np.array([r2d, r2y], dtype=float))
            bench.append((lab, float(r2d), float(r2y)))
    return _make(
        float(estimate),
        float(se),
        float(dof),
        treatment=treatment,
        outcome=None,
        q=q,
        alpha=alpha,
        reduce=reduce,
        bench=bench,
        mult=_multipliers(kd, ky),
        nobs=None,
        n_dropped=0,
    )
