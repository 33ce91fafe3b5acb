"""Covariate balance and overlap diagnostics.

:func:`balance_table` computes standardised mean differences (SMD) and
variance ratios of covariates between treated and controls, before and after
weighting or matching (the statistics of R ``cobalt::bal.tab``).  The returned
:class:`BalanceTable` has a :meth:`BalanceTable.love_plot`.
:func:`plot_overlap` draws the overlap histogram of propensity scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, check_option, raise_for_rows
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["BalanceTable", "balance_table", "plot_overlap", "weighted_mean_var"]


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
        return f"BalanceTable(threshold={self.threshold})\n{self._table.round(4).to_string()}"

    def _repr_html_(self) -> str:
        return self._table.round(4).to_html()


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
    return BalanceTable(pd.DataFrame(out, index=pd.Index(covariates, name="covariate")), threshold)


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
