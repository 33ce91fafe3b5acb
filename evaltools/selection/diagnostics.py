"""Covariate balance and overlap diagnostics.

:func:`balance_table` computes standardised mean differences (SMD) and
variance ratios of covariates between treated and controls, before and after
weighting or matching (the statistics of R ``cobalt::bal.tab``) and, with
``ks=True``, the distributional statistics of R ``Matching::MatchBalance``:
Kolmogorov-Smirnov statistic and p-value, mean / median / maximum differences
of the empirical CDFs and of the empirical QQ plot.  The returned
:class:`BalanceTable` has a :meth:`BalanceTable.love_plot`.
:func:`plot_overlap` draws the overlap histogram of propensity scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from evaltools._validation import check_columns, check_option, raise_for_rows
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["BalanceTable", "balance_table", "ecdf_balance", "ks_pvalue", "plot_overlap", "weighted_mean_var"]


def weighted_mean_var(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means and reliability-weighted (unbiased) variances of the columns of ``x``.

    Parameters
    ----------
    x : ndarray of shape (n, k)
        Values.
    w : ndarray of shape (n,)
        Non-negative weights; with equal weights the variance is the usual
        sample variance with ``n - 1`` in the denominator.

    Returns
    -------
    mean, var : ndarray of shape (k,)
        ``nan`` when fewer than two units have positive weight.
    """
    sw = w.sum()
    sw2 = (w * w).sum()
    if sw <= 0:
        return np.full(x.shape[1], np.nan), np.full(x.shape[1], np.nan)
    m = w @ x / sw
    # a column constant among the weighted units: its mean is that value and its variance exactly 0 (the
    # sums above round, e.g. to 7.300000000000001, and would give a spurious difference in means)
    pos = w > 0
    const = np.ptp(x[pos], axis=0) == 0 if pos.any() else np.zeros(x.shape[1], bool)
    if const.any():
        m = np.where(const, x[np.argmax(pos)], m)
    denom = sw - sw2 / sw
    with np.errstate(invalid="ignore", divide="ignore"):
        v = w @ (x - m) ** 2 / denom if denom > 0 else np.full(x.shape[1], np.nan)
    return m, v


class BalanceTable:
    """Covariate balance before and after adjustment.

    Parameters
    ----------
    table : DataFrame
        One row per covariate with columns ``mean_treated_before``,
        ``mean_control_before``, ``smd_before``, ``var_ratio_before`` and, when
        weights were given, the same four columns with suffix ``_after``.
    threshold : float
        SMD threshold drawn in the love plot and used by :attr:`n_imbalanced`.
    """

    def __init__(self, table: pd.DataFrame, threshold: float = 0.1) -> None:
        self._table = table.copy()
        self.threshold = float(threshold)

    @property
    def table(self) -> pd.DataFrame:
        """The balance table (a copy)."""
        return self._table.copy()

    @property
    def adjusted(self) -> bool:
        """Whether the table has ``_after`` columns."""
        return "smd_after" in self._table.columns

    @property
    def n_imbalanced(self) -> int:
        """Number of covariates with ``|SMD| > threshold`` after (or, if unadjusted, before) adjustment."""
        col = "smd_after" if self.adjusted else "smd_before"
        return int((self._table[col].abs() > self.threshold).sum())

    def love_plot(self, ax: Any = None, *, absolute: bool = True, title: str | None = None) -> Any:
        """Dot plot of (absolute) SMDs before and after adjustment.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is created when omitted.
        absolute : bool, default=True
            Plot ``|SMD|``.
        title : str, optional
            Axes title (default "Covariate balance"); ``""`` for none.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.3 * len(self._table) + 1.5))
        pos = np.arange(len(self._table))
        f = np.abs if absolute else (lambda v: v)
        ax.scatter(
            f(self._table["smd_before"].to_numpy()),
            pos,
            marker="o",
            facecolors="none",
            edgecolors="C3",
            label="before",
        )
        if self.adjusted:
            ax.scatter(f(self._table["smd_after"].to_numpy()), pos, marker="o", color="C0", label="after")
        ax.axvline(self.threshold, color="grey", ls="--", lw=0.8)
        if not absolute:
            ax.axvline(-self.threshold, color="grey", ls="--", lw=0.8)
        ax.axvline(0, color="black", lw=0.5)
        ax.set_yticks(pos)
        ax.set_yticklabels(list(map(str, self._table.index)))
        ax.invert_yaxis()
        ax.set_xlabel("|standardised mean difference| (pooled SD units)" if absolute
                      else "standardised mean difference (pooled SD units)")
        ax.legend(loc="best", frameon=False)
        title = ("Covariate balance" + (" before / after adjustment" if self.adjusted else "")) \
            if title is None else title
        if title:
            ax.set_title(title)
        return ax

    def __repr__(self) -> str:
        from evaltools.reporting.tables import text_table

        return f"BalanceTable(threshold={self.threshold})\n{text_table(self._table)}"

    def _repr_html_(self) -> str:
        from evaltools.reporting.tables import html_table

        return html_table(self._table, title=f"Covariate balance (|SMD| threshold {self.threshold:g})")


def _resolve_weights(data: pd.DataFrame, weights: Any, matched: Any) -> np.ndarray | None:
    if weights is not None and matched is not None:
        raise SpecificationError("balance_table: pass either 'weights' or 'matched', not both.")
    if matched is not None:
        w = getattr(matched, "unit_weights", None)
        if w is None:
            raise SpecificationError(
                "balance_table: 'matched' must be a MatchingResults (or any object with a "
                f"'unit_weights' Series); got {type(matched).__name__}."
            )
        weights = w
    if weights is None:
        return None
    if isinstance(weights, str):
        check_columns(data, [weights], "balance_table", "weights")
        w = data[weights].to_numpy(dtype=float)
    elif isinstance(weights, pd.Series):
        w = weights.reindex(data.index).to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (len(data),):
        raise DataValidationError(
            f"balance_table: weights must have one value per row of data ({len(data):,}); "
            f"got shape {w.shape}."
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataValidationError(
            f"balance_table: weights must be finite and non-negative; {int(bad.sum()):,} rows are not. "
            "Fix or drop those rows."
        )
    return w


def balance_table(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    weights: Any = None,
    matched: Any = None,
    sd_denominator: str = "pooled",
    threshold: float = 0.1,
    ks: bool = False,
) -> BalanceTable:
    """Standardised mean differences and variance ratios before and after adjustment.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    treatment : str
        Column with the binary (0/1 or bool) treatment indicator.
    covariates : sequence of str
        Numeric covariate columns.
    weights : str, array or Series, optional
        Adjustment weights (IPW weights or matching frequency weights); a
        column name, or values aligned to ``data``.
    matched : MatchingResults, optional
        Use the unit weights implied by a matching (each matched treated unit
        counts once, each control as often as it is used, fractionally for
        ties).
    sd_denominator : {"pooled", "treated", "control"}, default="pooled"
        Standard deviation in the SMD denominator, always computed on the
        *unadjusted* sample so that before and after are comparable:
        ``sqrt((s1^2 + s0^2) / 2)`` or the treated or control SD.
    threshold : float, default=0.1
        SMD threshold flagged in the love plot.
    ks : bool, default=False
        Add the distributional statistics of :func:`ecdf_balance` (KS
        statistic and p-value, eCDF and eQQ differences) before and after.

    Returns
    -------
    BalanceTable
        ``table`` indexed by covariate.
    """
    check_option("sd_denominator", sd_denominator, ("pooled", "treated", "control"), "balance_table")
    covariates = list(covariates)
    check_columns(data, [treatment, *covariates], "balance_table")
    t = _binary_treatment(data, treatment, "balance_table")
    x = data[covariates].to_numpy(dtype=float)
    nan = np.isnan(x).any(axis=1)
    raise_for_rows(
        data.reset_index(),
        nan,
        rule="covariates must not be missing",
        fix="Drop or impute the missing covariate values first.",
        columns=[data.reset_index().columns[0], *covariates[:3]],
    )
    w = _resolve_weights(data, weights, matched)
    one = np.ones(len(data))
    m1, v1 = weighted_mean_var(x[t], one[t])
    m0, v0 = weighted_mean_var(x[~t], one[~t])
    if sd_denominator == "pooled":
        sd = np.sqrt((v1 + v0) / 2)
    elif sd_denominator == "treated":
        sd = np.sqrt(v1)
    else:
        sd = np.sqrt(v0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "mean_treated_before": m1,
            "mean_control_before": m0,
            "smd_before": np.where(sd > 0, (m1 - m0) / sd, 0.0),
            "var_ratio_before": v1 / v0,
        }
        if w is not None:
            a1, s1 = weighted_mean_var(x[t], w[t])
            a0, s0 = weighted_mean_var(x[~t], w[~t])
            out.update(
                {
                    "mean_treated_after": a1,
                    "mean_control_after": a0,
                    "smd_after": np.where(sd > 0, (a1 - a0) / sd, 0.0),
                    "var_ratio_after": s1 / s0,
                }
            )
    tab = pd.DataFrame(out, index=pd.Index(covariates, name="covariate"))
    if ks:
        tab = tab.join(_ecdf_table(data, t, x, covariates, w, matched))
    return BalanceTable(tab, threshold)


def _binary_treatment(data: pd.DataFrame, treatment: str, where: str) -> np.ndarray:
    """Validate a 0/1 treatment column and return it as a bool array."""
    col = data[treatment]
    if col.isna().any():
        raise_for_rows(
            data.reset_index(),
            col.isna().to_numpy(),
            rule=f"{where}: treatment column {treatment!r} must not be missing",
            fix="Drop the rows with a missing treatment first.",
            columns=[data.reset_index().columns[0], treatment],
        )
    values = pd.unique(col)
    if col.dtype == bool:
        t = col.to_numpy()
    else:
        ok = set(np.asarray(values).tolist()) <= {0, 1}
        if not ok:
            shown = sorted(map(str, values))[:6]
            raise DataValidationError(
                f"{where}: treatment column {treatment!r} must be binary (0/1 or bool); "
                f"found {len(values)} distinct values, e.g. {shown}. Recode it to 0/1 "
                "(multi-valued treatments are not supported)."
            )
        t = col.to_numpy() == 1
    n1 = int(t.sum())
    if n1 == 0 or n1 == len(t):
        raise DataValidationError(
            f"{where}: treatment column {treatment!r} has only one value "
            f"({n1:,} treated of {len(t):,} rows); both treated and control units are needed."
        )
    return t


def plot_overlap(pscore: Any, treatment: Any, ax: Any = None, *, bins: int = 40, density: bool = True,
                 title: str | None = None) -> Any:
    """Mirrored histogram of propensity scores for treated (up) and controls (down).

    Parameters
    ----------
    pscore : array-like
        Estimated propensity scores.
    treatment : array-like of 0/1 or bool
        Treatment indicator aligned with ``pscore``.
    ax : matplotlib Axes, optional
        Axes to draw on.
    bins : int, default=40
        Number of bins on [0, 1].
    density : bool, default=True
        Normalise each histogram to a density.
    title : str, optional
        Axes title (default "Propensity-score overlap"); ``""`` for none.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    p = np.asarray(pscore, dtype=float)
    t = np.asarray(treatment).astype(bool)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    edges = np.linspace(0, 1, bins + 1)
    h1, _ = np.histogram(p[t], bins=edges, density=density)
    h0, _ = np.histogram(p[~t], bins=edges, density=density)
    width = np.diff(edges)
    ax.bar(edges[:-1], h1, width=width, align="edge", color="C0", alpha=0.7, label=f"treated (n={t.sum():,})")
    ax.bar(
        edges[:-1], -h0, width=width, align="edge", color="C1", alpha=0.7, label=f"control (n={(~t).sum():,})"
    )
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("propensity score")
    ax.set_ylabel("density (controls mirrored)" if density else "count (controls mirrored)")
    ax.legend(loc="best", frameon=False)
    title = "Propensity-score overlap" if title is None else title
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------ distributional balance
def _pkolmogorov(x: float, tol: float = 1e-6) -> float:
    """Limiting Kolmogorov distribution ``P(K <= x)`` (the series of R's ``C_pKS2``, same truncation)."""
    if x <= 0:
        return 0.0
    if x < 1:
        zs = -(np.pi / 2 * np.pi / 4) / (x * x)
        ks = np.arange(1, int(np.sqrt(2 - np.log(tol))), 2, dtype=float)
        return float(np.sum(np.exp(ks * ks * zs - np.log(x))) * np.sqrt(2 * np.pi))
    z, s, k, old, new = -2 * x * x, -1.0, 1, 0.0, 1.0
    while abs(old - new) > tol:
        old = new
        new += 2 * s * np.exp(z * k * k)
        s, k = -s, k + 1
    return float(new)


def _psmirnov_exact_upper(stat: float, n_x: int, n_y: int, pooled: np.ndarray) -> float:
    """Exact ``P(D >= stat)`` of the two-sample statistic, ties in ``pooled`` respected (R ``psmirnov``)."""
    n = n_x + n_y
    srt = np.sort(pooled)
    ties = np.r_[np.diff(srt) != 0, True]
    q = (0.5 + np.floor(stat * n_x * n_y - 1e-7)) / (n_x * n_y)
    u = np.array([0])
    diag = np.array([1.0])
    for k in range(1, n + 1):
        u = np.r_[u, u[-1] + 1]
        v = k - u
        bit = (u <= n_x) & (v <= n_y) & (u >= 0) & (v >= 0)
        u, v = u[bit], v[bit]
        diag = (np.r_[diag, 0.0] + np.r_[0.0, diag])[bit]
        if ties[k - 1]:
            diag = diag * (q > np.abs(u / n_x - v / n_y))
    logdenom = special.gammaln(n + 1) - special.gammaln(n_x + 1) - special.gammaln(n_y + 1)
    return float(1 - diag[0] / np.exp(logdenom))


def ks_pvalue(
    statistic: float, n_x: float, n_y: float, *, pooled: Any = None, exact: bool | None = None
) -> float:
    """Two-sided p-value of the two-sample Kolmogorov-Smirnov statistic, as R ``ks.test``.

    Parameters
    ----------
    statistic : float
        ``max |F_x - F_y|``.
    n_x, n_y : float
        Sample sizes (Kish effective sizes for weighted samples; the
        asymptotic distribution is then an approximation).
    pooled : array-like, optional
        The pooled sample; needed for the exact distribution with ties.
    exact : bool, optional
        Exact distribution (default when ``n_x * n_y < 10000`` and ``pooled`` is
        given, as R), otherwise the limiting Kolmogorov distribution of
        ``sqrt(n_x n_y / (n_x + n_y)) D``.

    Returns
    -------
    float
    """
    if exact is None:
        whole = float(n_x).is_integer() and float(n_y).is_integer()
        exact = pooled is not None and n_x * n_y < 10000 and whole
    if exact:
        if pooled is None:
            raise SpecificationError("ks_pvalue: the exact p-value needs the pooled sample (pooled=).")
        p = _psmirnov_exact_upper(statistic, int(n_x), int(n_y), np.asarray(pooled, dtype=float))
    else:
        small = statistic < np.finfo(float).eps
        p = 1.0 if small else 1 - _pkolmogorov(np.sqrt(n_x * n_y / (n_x + n_y)) * statistic)
    return float(min(1.0, max(0.0, p)))


def _ecdf_diffs(x1: np.ndarray, x0: np.ndarray, w1: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """``|F1 - F0|`` at the sorted unique pooled values (weighted empirical CDFs)."""
    vals = np.unique(np.r_[x1, x0])

    def cdf(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        o = np.argsort(x, kind="stable")
        cw = np.r_[0.0, np.cumsum(w[o])]
        return cw[np.searchsorted(x[o], vals, side="right")] / cw[-1]

    return np.abs(cdf(x1, w1) - cdf(x0, w0))


def _seq_int(n_to: int, length: int) -> np.ndarray:
    """``seq.int(1, n_to, length.out = length)`` with R's floating-point rule (from both ends)."""
    out = np.empty(length)
    out[0] = 1.0
    if length > 1:
        out[-1] = float(n_to)
    if length > 2:
        by = (n_to - 1.0) / (length - 1)
        i = np.arange(1, length - 1)
        out[1:-1] = np.where(i < length // 2, 1.0 + i * by, n_to - (length - 1 - i) * by)
    return out


def _eqq_diffs(x1: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Empirical QQ differences of R ``Matching::qqstats(standardize=FALSE)`` (larger sample thinned)."""
    s1, s0 = np.sort(x1), np.sort(x0)
    if s0.size < s1.size:
        s1 = s1[np.floor(_seq_int(s1.size, s0.size)).astype(int) - 1]
    elif s0.size > s1.size:
        s0 = s0[np.floor(_seq_int(s0.size, s1.size)).astype(int) - 1]
    return np.abs(s1 - s0)


def _ecdf_stats(x1: np.ndarray, x0: np.ndarray, w1: np.ndarray | None, w0: np.ndarray | None,
                dummy: bool) -> dict[str, float]:
    weighted = w1 is not None
    a = np.ones(x1.size) if w1 is None else w1
    b = np.ones(x0.size) if w0 is None else w0
    pos1, pos0 = a > 0, b > 0
    x1, x0, a, b = x1[pos1], x0[pos0], a[pos1], b[pos0]
    d = _ecdf_diffs(x1, x0, a, b)
    stat = float(d.max())
    if dummy:
        p = float("nan")
    elif weighted:
        n1, n0 = a.sum() ** 2 / (a**2).sum(), b.sum() ** 2 / (b**2).sum()
        p = ks_pvalue(stat, n1, n0, exact=False)
    else:
        p = ks_pvalue(stat, x1.size, x0.size, pooled=np.r_[x1, x0])
    out = {"ks": stat, "ks_pvalue": p, "ecdf_mean": float(d.mean()), "ecdf_median": float(np.median(d)),
           "ecdf_max": stat}
    if weighted:
        out.update(eqq_mean=np.nan, eqq_median=np.nan, eqq_max=np.nan)
    else:
        q = _eqq_diffs(x1, x0)
        out.update(eqq_mean=float(q.mean()), eqq_median=float(np.median(q)), eqq_max=float(q.max()))
    return out


def _matched_pairs(data: pd.DataFrame, t: np.ndarray, matched: Any) -> tuple[np.ndarray, np.ndarray]:
    pairs = getattr(matched, "matches", None)
    if not isinstance(pairs, pd.DataFrame) or not {"unit", "match"} <= set(pairs.columns):
        raise SpecificationError(
            "balance_table: 'matched' needs a 'matches' table (unit, match) for ks=True."
        )
    u = data.index.get_indexer(pairs["unit"])  # type: ignore[arg-type]  # pandas-stubs: any array-like is accepted
    m = data.index.get_indexer(pairs["match"])  # type: ignore[arg-type]  # pandas-stubs: any array-like is accepted
    if (u < 0).any() or (m < 0).any():
        raise DataValidationError(
            "balance_table: the matched pairs refer to rows not in data; pass the data the matching was "
            "fitted on."
        )
    tu = t[u]
    return np.where(tu, u, m), np.where(tu, m, u)


def _ecdf_table(data: pd.DataFrame, t: np.ndarray, x: np.ndarray, covariates: list[str], w: np.ndarray | None,
                matched: Any) -> pd.DataFrame:
    pairs = _matched_pairs(data, t, matched) if matched is not None else None
    rows = []
    for j in range(len(covariates)):
        col = x[:, j]
        dummy = np.unique(col).size < 3
        r = {f"{k}_before": v for k, v in _ecdf_stats(col[~t], col[t], None, None, dummy).items()}
        if pairs is not None:
            after = _ecdf_stats(col[pairs[0]], col[pairs[1]], None, None, dummy)
            r.update({f"{k}_after": v for k, v in after.items()})
        elif w is not None:
            after = _ecdf_stats(col[t], col[~t], w[t], w[~t], dummy)
            r.update({f"{k}_after": v for k, v in after.items()})
        rows.append(r)
    return pd.DataFrame(rows, index=pd.Index(covariates, name="covariate"))


def ecdf_balance(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    weights: Any = None,
    matched: Any = None,
) -> pd.DataFrame:
    """Distributional balance: KS statistics and p-values, eCDF and eQQ differences, before and after.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    treatment : str
        Binary treatment column.
    covariates : sequence of str
        Numeric covariates.
    weights : str, array or Series, optional
        Adjustment weights (e.g. IPW): the "after" statistics use weighted
        empirical CDFs (as R ``cobalt::bal.tab``), the KS p-value the limiting
        distribution at the Kish effective sample sizes (an approximation),
        and the eQQ differences are not defined (NaN).
    matched : MatchingResults, optional
        A matching: the "after" statistics are computed on the matched pairs,
        one row per (treated, control) pair, unweighted, as R
        ``Matching::MatchBalance``.

    Returns
    -------
    DataFrame
        Per covariate, with suffixes ``_before`` and ``_after``: ``ks`` (the
        maximum eCDF difference), ``ks_pvalue`` (two-sided, as R ``ks.test``:
        exact with ties when ``n1 * n0 < 10000``, else asymptotic; NaN for
        covariates with fewer than three distinct values, as MatchBalance),
        ``ecdf_mean``, ``ecdf_median``, ``ecdf_max`` (differences of the
        empirical CDFs at the pooled values, MatchBalance's "eCDF diff") and
        ``eqq_mean``, ``eqq_median``, ``eqq_max`` (raw empirical-QQ
        differences, the larger sample thinned to the smaller's size).

    References
    ----------
    Sekhon, J. S. (2011). Multivariate and propensity score matching software
    with automated balance optimization: the Matching package for R. Journal of
    Statistical Software 42(7).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0, 0], "x": [1.0, 2.0, 3.0, 0.0, 1.0, 1.0, 2.0]})
    >>> round(float(ecdf_balance(d, "t", ["x"]).loc["x", "ks_before"]), 4)
    0.4167
    """
    b = balance_table(data, treatment, covariates, weights=weights, matched=matched, ks=True).table
    keep = [c for c in b.columns if c.split("_")[0] in ("ks", "ecdf", "eqq")]
    return b[keep]
