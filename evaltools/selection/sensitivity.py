"""Sensitivity analysis for selection on unobservables.

* :func:`rosenbaum_bounds`: Rosenbaum (2002, ch. 4) bounds on the one-sided
  p-value of the Wilcoxon signed-rank test or the sign test for matched pairs,
  for a range of values of Gamma (the odds ratio of treatment assignment
  within a pair due to an unobserved confounder), and the matching bounds on
  the Hodges-Lehmann point estimate.  Same statistics as R ``rbounds::psens``
  (normal approximation for the signed-rank test, as in Rosenbaum's text) and
  ``rbounds::binarysens`` (exact binomial for the sign test).
* :func:`oster_bounds` / :func:`oster_delta`: Oster (2019) coefficient
  stability: the degree of selection on unobservables relative to
  observables (``delta``) that would explain away a treatment coefficient, and
  the bias-adjusted coefficient ``beta*`` for a given ``delta`` and ``R_max``
  (Stata ``psacalc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._validation import check_columns, check_kwargs, check_option, warn_dropped
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.reporting.results import ReadOnlyMixin
from evaltools.reporting.summary import Summary

__all__ = [
    "OsterResults",
    "RosenbaumBounds",
    "critical_gamma",
    "oster_bounds",
    "oster_delta",
    "pvalue_bounds",
    "rosenbaum_bounds",
]

_HL_MAX_PAIRS = 5000


class RosenbaumBounds(ReadOnlyMixin):
    """Result of :func:`rosenbaum_bounds` (read-only).

    Attributes
    ----------
    table : DataFrame
        One row per Gamma: ``pvalue_lower``, ``pvalue_upper`` (bounds on the
        one-sided p-value) and, for the Wilcoxon test, ``hl_lower`` and
        ``hl_upper`` (bounds on the Hodges-Lehmann estimate).
    test : str
        ``"wilcoxon"`` or ``"sign"``.
    statistic : float
        Observed test statistic (sum of positive ranks, or number of positive
        differences).
    n_pairs : int
        Pairs used (non-zero differences).
    n_zero : int
        Pairs with a zero difference, dropped as in Rosenbaum (2002).
    alternative : str
        ``"greater"`` (treated outcomes larger) or ``"less"``.
    """

    def __init__(self, table: pd.DataFrame, *, test: str, statistic: float, n_pairs: int, n_zero: int,
                 n_missing: int, alternative: str) -> None:
        self.table = table
        self.test = test
        self.statistic = statistic
        self.n_pairs = n_pairs
        self.n_zero = n_zero
        self.n_missing = n_missing
        self.alternative = alternative
        self._freeze()

    def critical_gamma(self, alpha: float = 0.05) -> float:
        """Smallest Gamma in the table whose upper p-value bound exceeds ``alpha`` (inf if none)."""
        hit = self.table.index[self.table["pvalue_upper"].to_numpy() > alpha]
        return float(hit[0]) if len(hit) else float("inf")

    def summary(self) -> Summary:
        """Summary with the bounds table and footnotes."""
        name = "Wilcoxon signed-rank" if self.test == "wilcoxon" else "sign"
        foot = [
            f"Rosenbaum bounds for the one-sided {name} test of no effect (alternative: treated outcomes "
            f"{'larger' if self.alternative == 'greater' else 'smaller'}) on {self.n_pairs:,} matched pairs.",
            "Gamma is the largest odds ratio of treatment within a pair caused by an unobserved covariate; "
            "pvalue_upper is the p-value under the least favourable assignment.",
        ]
        if self.test == "wilcoxon":
            foot.append("p-values use the normal approximation with average ranks for ties (as "
                        "rbounds::psens); hl_lower/hl_upper bound the Hodges-Lehmann estimate of an additive "
                        "effect.")
        else:
            foot.append("p-values are exact binomial tail probabilities (as rbounds::binarysens).")
        if self.n_zero:
            foot.append(f"{self.n_zero:,} pairs with a zero difference were dropped.")
        if self.n_missing:
            foot.append(f"{self.n_missing:,} pairs with a missing outcome were dropped.")
        return Summary(title="Rosenbaum sensitivity analysis",
                       header=(("Pairs", self.n_pairs), ("Test statistic", self.statistic),
                               ("Critical Gamma (5%)", self.critical_gamma())),
                       tables=[self.table], footnotes=foot)

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def _pair_differences(treated: Any, control: Any) -> tuple[np.ndarray, int]:
    if control is None:
        matches = getattr(treated, "matches", None)
        if not isinstance(matches, pd.DataFrame) or "effect" not in matches.columns:
            raise SpecificationError(
                "rosenbaum_bounds: pass the treated and control outcomes of the matched pairs as two arrays, "
                "or a matching result with a 'matches' table (one row per pair with an 'effect' column)."
            )
        if getattr(treated, "estimand", "ATT") != "ATT":
            raise SpecificationError("rosenbaum_bounds: a matching result must estimate the ATT (treated "
                                     "units matched to controls).")
        w = matches["weight"].to_numpy(dtype=float) if "weight" in matches.columns else np.ones(len(matches))
        if not np.allclose(w, 1.0) or matches["unit"].duplicated().any():
            raise SpecificationError(
                "rosenbaum_bounds needs 1:1 matched pairs; the matching result has several matches (or "
                "fractional weights) per treated unit. Refit with n_neighbors=1 and ties=False, or pass the "
                "pair outcomes as arrays."
            )
        return matches["effect"].to_numpy(dtype=float), 0
    t = np.asarray(treated, dtype=float).ravel()
    c = np.asarray(control, dtype=float).ravel()
    if t.shape != c.shape:
        raise DataValidationError(
            f"rosenbaum_bounds: treated and control outcomes must have one value per pair; got {t.size} "
            f"treated and {c.size} control values."
        )
    d = t - c
    miss = np.isnan(d)
    return d[~miss], int(miss.sum())


def _hl_estimate(walsh_sorted: np.ndarray, e: float) -> float:
    """Solve #{Walsh averages > tau} = e for tau (mid-point of the sup/inf solutions)."""
    m = walsh_sorted.size
    hi = walsh_sorted[min(max(m - int(np.floor(e)), 1), m) - 1]
    lo = walsh_sorted[min(max(m - int(np.ceil(e)) + 1, 1), m) - 1]
    return float((hi + lo) / 2)


def pvalue_bounds(d: np.ndarray, gammas: np.ndarray, test: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Test statistic and lower / upper one-sided p-value bounds for non-zero pair differences ``d``.

    The statistics of :func:`rosenbaum_bounds` (positive differences support the alternative).

    Parameters
    ----------
    d : ndarray
        Pair differences, zeros removed.
    gammas : ndarray
        Values of Gamma >= 1.
    test : {"wilcoxon", "sign"}
        Test.

    Returns
    -------
    statistic : float
    pvalue_lower, pvalue_upper : ndarray
    """
    g = np.asarray(gammas, dtype=float)
    p_plus = g / (1 + g)
    p_minus = 1 / (1 + g)
    if test == "wilcoxon":
        q = stats.rankdata(np.abs(d), method="average")
        t_obs = float(q[d > 0].sum())
        sq, sq2 = q.sum(), (q**2).sum()
        up = stats.norm.sf((t_obs - p_plus * sq) / np.sqrt(p_plus * (1 - p_plus) * sq2))
        lo = stats.norm.sf((t_obs - p_minus * sq) / np.sqrt(p_minus * (1 - p_minus) * sq2))
    else:
        t_obs = float((d > 0).sum())
        up = stats.binom.sf(t_obs - 1, d.size, p_plus)
        lo = stats.binom.sf(t_obs - 1, d.size, p_minus)
    return t_obs, np.asarray(lo, dtype=float), np.asarray(up, dtype=float)


def critical_gamma(d: np.ndarray, alpha: float = 0.05, test: str = "wilcoxon") -> float:
    """Smallest Gamma at which the upper p-value bound reaches ``alpha`` (1 if already at Gamma = 1).

    Parameters
    ----------
    d : ndarray
        Non-zero pair differences (positive = in the direction of the alternative).
    alpha : float, default=0.05
        Significance level.
    test : {"wilcoxon", "sign"}, default="wilcoxon"
        Test.

    Returns
    -------
    float
        The root of ``pvalue_upper(Gamma) = alpha`` (found by Brent's method on
        ``log Gamma``); ``inf`` if the bound stays below ``alpha`` up to
        Gamma = 10^6.
    """
    from scipy.optimize import brentq

    d = np.asarray(d, dtype=float)
    if d.size == 0:
        return float("nan")

    def f(lg: float) -> float:
        return float(pvalue_bounds(d, np.array([np.exp(lg)]), test)[2][0]) - alpha

    if f(0.0) >= 0:
        return 1.0
    top = np.log(1e6)
    if f(top) < 0:
        return float("inf")
    return float(np.exp(brentq(f, 0.0, top, xtol=1e-12)))


def rosenbaum_bounds(
    treated: Any,
    control: Any = None,
    *,
    gammas: Sequence[float] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0),
    test: str = "wilcoxon",
    alternative: str = "greater",
) -> RosenbaumBounds:
    """Rosenbaum bounds for matched pairs.

    Parameters
    ----------
    treated : array-like or matching result
        Outcomes of the treated unit of each pair, or a 1:1 ATT matching
        result with a ``matches`` table (columns ``unit``, ``weight``,
        ``effect``), e.g. from :class:`evaltools.selection.matching.Matching`.
    control : array-like, optional
        Outcomes of the matched control of each pair (same order).
    gammas : sequence of float, default=(1, 1.5, 2, 2.5, 3, 4, 5)
        Values of Gamma >= 1.
    test : {"wilcoxon", "sign"}, default="wilcoxon"
        Wilcoxon signed-rank test (normal approximation, average ranks for
        ties) or sign test (exact binomial).
    alternative : {"greater", "less"}, default="greater"
        Direction of the effect under the alternative.

    Returns
    -------
    RosenbaumBounds
        ``table`` indexed by Gamma.

    Notes
    -----
    With ``d_i`` the pair differences (zeros dropped), ``q_i`` the ranks of
    ``|d_i|`` and ``T = sum_i q_i 1[d_i > 0]``, the upper bound on the p-value
    at Gamma uses ``p+ = Gamma / (1 + Gamma)``: ``E = p+ sum q_i``,
    ``V = p+ (1 - p+) sum q_i^2``, ``p = 1 - Phi((T - E) / sqrt(V))``; the
    lower bound uses ``p- = 1 / (1 + Gamma)`` (Rosenbaum 2002, sec. 4.3.3).
    The Hodges-Lehmann bounds solve ``T(d - tau) = E`` with ``T`` written as
    the number of positive Walsh averages (Rosenbaum 2002, sec. 4.3.5); they
    are computed for up to 5,000 pairs (NaN above).

    References
    ----------
    Rosenbaum, P. R. (2002). *Observational Studies*, 2nd ed. Springer, ch. 4.

    Examples
    --------
    >>> res = rosenbaum_bounds([38, 23, 41, 18, 37], [16, 18, 18, 24, 19], gammas=[1, 2])
    >>> res.table.columns.tolist()
    ['pvalue_lower', 'pvalue_upper', 'hl_lower', 'hl_upper']
    """
    where = "rosenbaum_bounds"
    check_option("test", test, ["wilcoxon", "sign"], where)
    check_option("alternative", alternative, ["greater", "less"], where)
    g = np.asarray(gammas, dtype=float).ravel()
    if g.size == 0 or np.any(~np.isfinite(g)) or np.any(g < 1):
        raise SpecificationError(f"{where}: every Gamma must be a finite number >= 1; got {list(gammas)!r}.")
    d, n_missing = _pair_differences(treated, control)
    n_all = d.size + n_missing
    warn_dropped(n_missing, n_all, "missing outcome in the pair", where)
    if alternative == "less":
        d = -d
    zero = d == 0
    n_zero = int(zero.sum())
    d = d[~zero]
    s = d.size
    if s == 0:
        raise DataValidationError(
            f"{where}: all {n_all:,} pair differences are zero or missing; nothing to test."
        )
    p_plus = g / (1 + g)
    p_minus = 1 / (1 + g)
    t_obs, lo, up = pvalue_bounds(d, g, test)
    if test == "wilcoxon":
        table = pd.DataFrame({"pvalue_lower": lo, "pvalue_upper": up}, index=pd.Index(g, name="gamma"))
        hl_lo = np.full(g.size, np.nan)
        hl_hi = np.full(g.size, np.nan)
        if s <= _HL_MAX_PAIRS:
            i, j = np.triu_indices(s)
            walsh = np.sort((d[i] + d[j]) / 2)
            m = walsh.size
            for k in range(g.size):
                hl_lo[k] = _hl_estimate(walsh, p_plus[k] * m)   # more positive Walsh averages -> smaller tau
                hl_hi[k] = _hl_estimate(walsh, p_minus[k] * m)
        sign = -1.0 if alternative == "less" else 1.0
        if sign < 0:
            hl_lo, hl_hi = -hl_hi, -hl_lo
        table["hl_lower"], table["hl_upper"] = hl_lo, hl_hi
    else:
        table = pd.DataFrame({"pvalue_lower": lo, "pvalue_upper": up}, index=pd.Index(g, name="gamma"))
    return RosenbaumBounds(table, test=test, statistic=t_obs, n_pairs=s, n_zero=n_zero, n_missing=n_missing,
                           alternative=alternative)


# ------------------------------------------------------------------- Oster
class OsterResults(ReadOnlyMixin):
    """Result of :func:`oster_bounds` (read-only).

    Attributes
    ----------
    beta_short, r2_short : float
        Treatment coefficient and R-squared without the controls.
    beta_controlled, r2_controlled : float
        Treatment coefficient and R-squared with the controls.
    rmax : float
        Assumed R-squared of the hypothetical regression including the
        unobservables.
    delta : float
        Proportional selection (unobservables relative to observables) that
        would make the true coefficient equal ``beta_target``.
    beta_target : float
        Coefficient value used for ``delta`` (default 0).
    beta_star : float
        Bias-adjusted coefficient for ``delta_assumed`` (the real root of
        Oster's equation closest to ``beta_controlled``).
    beta_star_roots : ndarray
        All real roots.
    beta_star_approx : float
        Oster's first-order approximation
        ``beta~ - delta (beta_short - beta~) (Rmax - R~) / (R~ - R_short)``.
    delta_assumed : float
        The delta used for ``beta_star``.
    identified_set : tuple of float
        ``(min, max)`` of ``beta_controlled`` and ``beta_star``.
    nobs : int
        Rows used.
    """

    outcome: str
    treatment: str
    controls: list[str]
    short_controls: list[str]
    beta_short: float
    r2_short: float
    beta_controlled: float
    r2_controlled: float
    rmax: float
    rmax_rule: str
    delta: float
    beta_target: float
    beta_star: float
    beta_star_roots: np.ndarray
    beta_star_approx: float
    delta_assumed: float
    identified_set: tuple[float, float]
    var_y: float
    var_x: float
    tau_x: float
    nobs: int
    n_dropped: int

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self._freeze()

    def summary(self) -> Summary:
        """Summary table with footnotes."""
        tab = pd.DataFrame(
            {"value": [self.beta_short, self.r2_short, self.beta_controlled, self.r2_controlled, self.rmax,
                       self.delta, self.beta_star, self.beta_star_approx]},
            index=["beta (short)", "R2 (short)", "beta (controlled)", "R2 (controlled)", "R_max",
                   f"delta for beta = {self.beta_target:g}", f"beta* (delta = {self.delta_assumed:g})",
                   "beta* (first-order approximation)"],
        )
        foot = [
            f"Oster (2019) coefficient stability for {self.treatment!r} with outcome {self.outcome!r}: "
            f"short regression on {self.short_controls or 'a constant'}, controlled regression adds "
            f"{self.controls}.",
            f"R_max = {self.rmax:.4f}{' (' + self.rmax_rule + ')' if self.rmax_rule else ''}; delta and "
            "beta* use the exact formulas of Oster (2019, Propositions 2-3; Stata psacalc).",
            f"Identified set [{self.identified_set[0]:.4f}, {self.identified_set[1]:.4f}]; it excludes 0: "
            f"{not (self.identified_set[0] <= 0 <= self.identified_set[1])}.",
        ]
        if self.n_dropped:
            foot.append(f"{self.n_dropped:,} rows with missing values were dropped.")
        return Summary(title="Oster (2019) bounds", header=(("No. observations", self.nobs),),
                       tables=[tab], footnotes=foot)

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def _ols_r2(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    yc = y - y.mean()
    return coef, float(1 - resid @ resid / (yc @ yc)), resid


def _oster_terms(v: float, d0: float, r0: float, rt: float, rmax: float, sy2: float, sx2: float,
                 tx: float) -> tuple[float, float]:
    c3 = tx * sx2 - tx**2
    num = v * (rt - r0) * sy2 * tx + v * sx2 * tx * d0**2 + 2 * v**2 * tx * d0 * sx2 + v**3 * c3
    den = (rmax - rt) * sy2 * d0 * sx2 + v * (rmax - rt) * sy2 * (sx2 - tx) + v**2 * tx * d0 * sx2 + v**3 * c3
    return num, den


def oster_bounds(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    controls: Sequence[str],
    short_controls: Sequence[str] = (),
    rmax: float | None = None,
    rmax_multiplier: float = 1.3,
    beta: float = 0.0,
    delta: float = 1.0,
) -> OsterResults:
    """Oster (2019) coefficient-stability bounds for a treatment coefficient.

    Parameters
    ----------
    data : DataFrame
        The data (not modified); rows with missing values in the used columns
        are dropped with a warning.
    outcome, treatment : str
        Outcome and treatment columns.
    controls : sequence of str
        Observed controls added in the controlled regression.
    short_controls : sequence of str, default=()
        Controls kept in both regressions (psacalc's ``mcontrol``); the short
        regression is ``outcome ~ treatment + short_controls``.
    rmax : float, optional
        R-squared of the hypothetical full regression; default
        ``min(rmax_multiplier * R~, 1)`` (Oster's recommendation 1.3 R~).
    rmax_multiplier : float, default=1.3
        Used when ``rmax`` is None.
    beta : float, default=0.0
        Target coefficient for ``delta`` (0: how much selection on
        unobservables would explain the effect away).
    delta : float, default=1.0
        Proportional selection assumed for ``beta_star``.

    Returns
    -------
    OsterResults

    Notes
    -----
    With ``beta_o, R_o`` from the short and ``beta~, R~`` from the controlled
    regression, ``sigma_y^2 = Var(y)``, ``sigma_x^2 = Var(x)`` and ``tau_x``
    the variance of the treatment's residual on the controls, ``delta``
    solves Oster's Proposition 3 at ``nu = beta~ - beta``; ``beta* = beta~ - nu``
    with ``nu`` the real root closest to 0 of the cubic obtained for a given
    ``delta`` (a quadratic when ``delta = 1``, Proposition 2).

    References
    ----------
    Oster, E. (2019). Unobservable selection and coefficient stability:
    theory and evidence. Journal of Business & Economic Statistics 37(2), 187-204.
    """
    where = "oster_bounds"
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{where}: 'data' must be a pandas DataFrame.")
    controls = [controls] if isinstance(controls, str) else list(controls)
    short_controls = [short_controls] if isinstance(short_controls, str) else list(short_controls)
    if not controls:
        raise SpecificationError(f"{where}: 'controls' must name at least one control column.")
    cols = [outcome, treatment, *short_controls, *controls]
    check_columns(data, cols, where)
    overlap = set(controls) & set(short_controls)
    if overlap or treatment in controls or outcome in cols[1:]:
        raise SpecificationError(f"{where}: outcome, treatment, controls and short_controls must be distinct "
                                 f"columns; {sorted(overlap) or [treatment]} appear twice.")
    for c in cols:
        if not pd.api.types.is_numeric_dtype(data[c]):
            raise DataValidationError(f"{where}: column {c!r} has dtype {data[c].dtype}; it must be numeric. "
                                      "Encode categories as dummies.")
    miss = data[cols].isna().any(axis=1).to_numpy()
    warn_dropped(int(miss.sum()), len(data), f"missing values in {cols}", where)
    d = data.loc[~miss, cols].to_numpy(dtype=float)
    y, x = d[:, 0], d[:, 1]
    n = len(y)
    one = np.ones((n, 1))
    ws = d[:, 2:2 + len(short_controls)]
    wc = d[:, 2 + len(short_controls):]
    Xs = np.column_stack([one, x, ws])
    Xc = np.column_stack([one, x, ws, wc])
    if np.linalg.matrix_rank(Xc) < Xc.shape[1]:
        raise DataValidationError(
            f"{where}: the treatment and controls are collinear; drop a redundant control."
        )
    bs, r0, _ = _ols_r2(y, Xs)
    bc, rt, _ = _ols_r2(y, Xc)
    _, _, xres = _ols_r2(x, np.column_stack([one, ws, wc]))
    sy2 = float(np.var(y, ddof=1))
    sx2 = float(np.var(x, ddof=1))
    tx = float(xres @ xres / (n - 1))
    rule = ""
    if rmax is None:
        rmax = min(rmax_multiplier * rt, 1.0)
        rule = f"{rmax_multiplier:g} x R~" + (", capped at 1" if rmax_multiplier * rt > 1 else "")
    rmax = float(rmax)
    if not rt < rmax <= 1:
        raise SpecificationError(f"{where}: rmax must lie in (R~, 1] = ({rt:.4f}, 1]; got {rmax!r}.")
    if rt <= r0:
        raise DataValidationError(f"{where}: the controls do not raise the R-squared (R_short = {r0:.6f}, "
                                  f"R~ = {rt:.6f}); Oster's bounds are not defined.")
    beta_o, beta_t = float(bs[1]), float(bc[1])
    d0 = beta_o - beta_t
    num, den = _oster_terms(beta_t - beta, d0, r0, rt, rmax, sy2, sx2, tx)
    delta_beta = num / den if den != 0 else np.inf
    c3 = tx * sx2 - tx**2
    coefs = [
        (1 - delta) * c3,
        (2 - delta) * tx * d0 * sx2,
        (rt - r0) * sy2 * tx + sx2 * tx * d0**2 - delta * (rmax - rt) * sy2 * (sx2 - tx),
        -delta * (rmax - rt) * sy2 * d0 * sx2,
    ]
    while len(coefs) > 1 and coefs[0] == 0:
        coefs = coefs[1:]
    roots = np.roots(coefs)
    scale = max(abs(beta_t), abs(d0), 1e-300)
    real = np.sort(roots[np.abs(roots.imag) <= 1e-9 * scale].real)
    betas = beta_t - real
    beta_star = float(betas[np.argmin(np.abs(real))]) if real.size else float("nan")
    approx = beta_t - delta * d0 * (rmax - rt) / (rt - r0)
    ident = (min(beta_t, beta_star), max(beta_t, beta_star))
    return OsterResults(
        outcome=outcome, treatment=treatment, controls=controls, short_controls=short_controls,
        beta_short=beta_o, r2_short=r0, beta_controlled=beta_t, r2_controlled=rt, rmax=rmax, rmax_rule=rule,
        delta=float(delta_beta), beta_target=float(beta), beta_star=beta_star, beta_star_roots=np.sort(betas),
        beta_star_approx=float(approx), delta_assumed=float(delta), identified_set=ident,
        var_y=sy2, var_x=sx2, tau_x=tx, nobs=n, n_dropped=int(miss.sum()),
    )


def oster_delta(data: pd.DataFrame, **kwargs: Any) -> float:
    """Oster's delta for ``beta`` (default 0): :func:`oster_bounds` (same arguments) ``.delta``.

    Parameters
    ----------
    data : DataFrame
        The data.
    **kwargs
        Keyword arguments of :func:`oster_bounds`.

    Returns
    -------
    float
        The proportional selection on unobservables relative to observables
        that would make the treatment coefficient equal ``beta``.
    """
    allowed = ["outcome", "treatment", "controls", "short_controls", "rmax", "rmax_multiplier", "beta"]
    check_kwargs(kwargs, allowed, "oster_delta")
    return oster_bounds(data, **kwargs).delta
