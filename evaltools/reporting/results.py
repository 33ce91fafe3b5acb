"""Base class for read-only estimation results.

Subclasses pass labelled estimates and a covariance matrix to
:class:`EstimationResults`; everything else (``bse``, ``tvalues``, ``pvalues``,
``conf_int``, ``to_frame``, ``summary``, ``_repr_html_``) is derived here so
that every family presents results the same way (statsmodels names).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.reporting.summary import Summary

__all__ = ["EstimationResults", "ReadOnlyMixin"]


class ReadOnlyMixin:
    """Forbid attribute assignment after ``_freeze()`` (cached properties still work)."""

    _frozen: bool = False

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen and not isinstance(getattr(type(self), name, None), cached_property):
            raise AttributeError(
                f"{type(self).__name__} is read-only; attribute {name!r} cannot be set. "
                "Fit the model again to get new results."
            )
        object.__setattr__(self, name, value)


class EstimationResults(ReadOnlyMixin):
    """Read-only results of a parametric estimator.

    Parameters
    ----------
    params : Series
        Point estimates, labelled.
    cov : DataFrame
        Covariance matrix of ``params`` (same labels).
    nobs : int
        Number of observations used (rows, persons or spells; see ``nobs_label``).
    model : object, optional
        The model that produced the results.
    dist : {"normal", "t"}, default="normal"
        Reference distribution for tests and intervals.
    df_resid : float, optional
        Residual degrees of freedom (needed for ``dist="t"``).
    title : str, default="Estimation results"
        Title used by :meth:`summary`.
    header : sequence of (str, object), optional
        Extra facts shown in the summary header.
    footnotes : sequence of str, optional
        Sentences stating estimator details (ties, clustering, dropped rows...).
    extra : dict, optional
        Family-specific values stored as read-only attributes.
    """

    def __init__(
        self,
        params: pd.Series,
        cov: pd.DataFrame,
        nobs: int,
        *,
        model: Any = None,
        dist: str = "normal",
        df_resid: float | None = None,
        title: str = "Estimation results",
        header: Sequence[tuple[str, object]] = (),
        footnotes: Sequence[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        params = pd.Series(params, dtype=float).copy()
        cov = pd.DataFrame(cov, index=params.index, columns=params.index, dtype=float).copy()
        self._params = params
        self._cov = cov
        self.nobs = int(nobs)
        self.model = model
        self._dist = dist
        self.df_resid = df_resid
        self._title = title
        self._header = tuple(header)
        self._footnotes = tuple(footnotes)
        for k, v in (extra or {}).items():
            object.__setattr__(self, k, v)
        self._freeze()

    # -- core estimates --------------------------------------------------
    @property
    def params(self) -> pd.Series:
        """Point estimates (a copy)."""
        return self._params.copy()

    def cov_params(self) -> pd.DataFrame:
        """Covariance matrix of the estimates (a copy)."""
        return self._cov.copy()

    @cached_property
    def bse(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(
            np.sqrt(np.clip(np.diag(self._cov.to_numpy()), 0, None)), index=self._params.index, name="std_err"
        )

    @cached_property
    def tvalues(self) -> pd.Series:
        """Ratio of estimate to standard error (z or t statistic)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self._params / self.bse).rename("stat")

    def _ref(self) -> Any:
        if self._dist == "t" and self.df_resid is not None:
            return stats.t(self.df_resid)
        return stats.norm()

    @cached_property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values."""
        return pd.Series(
            2 * self._ref().sf(np.abs(self.tvalues.to_numpy())), index=self._params.index, name="pvalue"
        )

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level.

        Returns
        -------
        DataFrame
            Columns ``lower`` and ``upper``, indexed like :attr:`params`.
        """
        if not 0 < alpha < 1:
            from evaltools.exceptions import SpecificationError

            raise SpecificationError(f"alpha must be in (0, 1); got {alpha!r}.")
        q = self._ref().ppf(1 - alpha / 2)
        lo = self._params - q * self.bse
        hi = self._params + q * self.bse
        return pd.DataFrame({"lower": lo, "upper": hi})

    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy coefficient table: estimate, std_err, stat, pvalue, lower, upper."""
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                "estimate": self._params,
                "std_err": self.bse,
                "stat": self.tvalues,
                "pvalue": self.pvalues,
                "lower": ci["lower"],
                "upper": ci["upper"],
            }
        )

    # -- presentation ------------------------------------------------------
    def _summary_tables(self) -> list[pd.DataFrame]:
        return [self.to_frame()]

    def summary(self, alpha: float = 0.05) -> Summary:
        """Summary table with header facts and footnotes."""
        tables = self._summary_tables() if alpha == 0.05 else [self.to_frame(alpha)]
        header = (("No. observations", self.nobs), *self._header)
        return Summary(title=self._title, header=header, tables=tables, footnotes=self._footnotes)

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self._params)} parameters, nobs={self.nobs:,}>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()
