"""Base class for read-only estimation results.

Subclasses pass labelled estimates and a covariance matrix to
:class:`EstimationResults`; everything else (``bse``, ``tvalues``, ``pvalues``,
``conf_int``, ``to_frame``, ``summary``, ``plot``, ``_repr_html_``) is derived
here so that every family presents results the same way (statsmodels names).

Family-specific values (``llf``, ``hazard_ratios``, ``n_events`` ...) are
declared on the subclass as annotated class attributes, so that type checkers
and IDEs see them::

    class CoxResults(EstimationResults):
        llf: float
        n_events: int

and passed to the constructor in ``fields``; a value that is not declared, or
a declared field without a value, is an error.  Results are read-only after
construction.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.exceptions import SpecificationError
from evaltools.reporting.summary import Summary

__all__ = [
    "EstimationResults",
    "ReadOnlyMixin",
    "TestResult",
    "check_alpha",
    "chi2_test",
    "deprecated_alias",
    "interval_columns",
    "level_label",
]


class TestResult(NamedTuple):
    """A test: statistic, degrees of freedom and p-value.

    The p-value is that of the test's reference distribution, which is the
    chi-squared distribution with ``df`` degrees of freedom unless the result
    documents otherwise (e.g. the boundary mixture ``0.5 chi2(0) + 0.5 chi2(1)``
    of a likelihood-ratio test of a variance being zero).
    """

    statistic: float
    df: int
    pvalue: float


def chi2_test(stat: float, df: int) -> TestResult:
    """A chi-squared test with ``df`` degrees of freedom (NaN p-value for a NaN statistic)."""
    return TestResult(float(stat), int(df), float(stats.chi2.sf(stat, df)))


def check_alpha(alpha: float, where: str = "alpha") -> float:
    """Check ``0 < alpha < 1`` and return it as a float.

    Raises
    ------
    SpecificationError
        If ``alpha`` is not a number strictly between 0 and 1.
    """
    try:
        ok = 0 < float(alpha) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SpecificationError(
            f"The 'alpha' parameter of {where} must be a float in (0, 1) (one minus the confidence "
            f"level, e.g. 0.05 for 95% intervals). Got {alpha!r} instead."
        )
    return float(alpha)


def interval_columns(
    table: pd.DataFrame,
    alpha: float,
    *,
    estimate: str = "estimate",
    std_err: str = "std_err",
    lower: str = "lower",
    upper: str = "upper",
) -> pd.DataFrame:
    """Copy of ``table`` with Wald (normal) intervals at level ``1 - alpha`` in ``lower``/``upper``.

    Used for secondary tables (ancillary parameters, effects by band) that
    store an estimate and its standard error, so that ``summary(alpha=...)``
    shows them at the requested level.
    """
    q = stats.norm.ppf(1 - check_alpha(alpha) / 2)
    out = table.copy()
    out[lower] = out[estimate] - q * out[std_err]
    out[upper] = out[estimate] + q * out[std_err]
    return out


class _DeprecatedAlias:
    """Read-only attribute alias that emits a ``FutureWarning`` naming the new attribute."""

    def __init__(self, new: str) -> None:
        self.new = new
        self.old = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.old = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        warnings.warn(
            f"{type(obj).__name__}.{self.old} is deprecated and will be removed in the next release; "
            f"use .{self.new}.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(obj, self.new)


def deprecated_alias(new: str) -> Any:
    """Class attribute: a read-only alias of ``new`` that warns (``FutureWarning``) on access.

    Examples
    --------
    >>> class R:
    ...     llf = 1.0
    ...     loglike = deprecated_alias("llf")
    """
    return _DeprecatedAlias(new)


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
    extra : mapping, optional
        Values of the fields the subclass declares as annotated class
        attributes (see :meth:`result_fields`); every declared field without a
        class-level default must be given, and nothing else.

    Raises
    ------
    TypeError
        If ``extra`` names an undeclared field or a declared field is missing
        (a programming error in the estimator, not a user error).
    """

    nobs: int
    model: Any
    df_resid: float | None
    _params: pd.Series
    _cov: pd.DataFrame
    _dist: str
    _title: str
    _header: tuple[tuple[str, object], ...]
    _footnotes: tuple[str, ...]

    _fields: ClassVar[tuple[str, ...]] = ()
    _required: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        base = set(inspect.get_annotations(EstimationResults))
        names: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            if klass in (object, ReadOnlyMixin, EstimationResults) or not hasattr(klass, "__dict__"):
                continue
            for name, ann in inspect.get_annotations(klass).items():
                if name in base or "ClassVar" in str(ann):
                    continue
                names[name] = None
        cls._fields = tuple(names)
        cls._required = frozenset(n for n in names if not hasattr(cls, n))

    @classmethod
    def result_fields(cls) -> tuple[str, ...]:
        """Names of the family-specific fields declared on this results class."""
        return cls._fields

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
        extra: Mapping[str, Any] | None = None,
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
        values = dict(extra or {})
        cls = type(self)
        unknown = sorted(set(values) - set(cls._fields))
        missing = sorted(cls._required - set(values))
        if unknown or missing:
            raise TypeError(
                f"{cls.__name__}: "
                + (f"undeclared result field(s) {unknown}; declare them as annotated class attributes. "
                   if unknown else "")
                + (f"missing value(s) for declared field(s) {missing}." if missing else "")
            )
        for k, v in values.items():
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
        alpha = check_alpha(alpha, f"{type(self).__name__}.conf_int")
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
    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        """Tables of :meth:`summary`, every interval at level ``1 - alpha`` (override per family)."""
        return [self.to_frame(alpha)]

    def _summary_header(self, alpha: float) -> tuple[tuple[str, object], ...]:
        return (("No. observations", self.nobs), *self._header, ("Confidence level", level_label(alpha)))

    def summary(self, alpha: float = 0.05) -> Summary:
        """Summary: header facts, every table with intervals at level ``1 - alpha``, footnotes.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level of every interval in every table.

        Returns
        -------
        Summary
        """
        alpha = check_alpha(alpha, f"{type(self).__name__}.summary")
        return Summary(
            title=self._title,
            header=self._summary_header(alpha),
            tables=self._summary_tables(alpha),
            footnotes=self._footnotes,
        )

    def plot(self, ax: Any = None, *, alpha: float = 0.05, **kwargs: Any) -> Any:
        """Coefficient plot: estimates with confidence intervals (see :func:`~evaltools.reporting.coefplot`).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        alpha : float, default=0.05
            One minus the confidence level.
        **kwargs
            Passed to :func:`~evaltools.reporting.coefplot`.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from evaltools.reporting.coefplot import coefplot

        return coefplot(self, ax=ax, alpha=alpha, **kwargs)

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self._params)} parameters, nobs={self.nobs:,}>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def level_label(alpha: float) -> str:
    """``"95%"`` for ``alpha=0.05``: the confidence level shown in summaries."""
    return f"{100 * (1 - alpha):g}%"
