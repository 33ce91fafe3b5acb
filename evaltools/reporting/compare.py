"""Side-by-side coefficient tables across models and estimators.

:func:`compare` puts the estimates of several results objects next to each
other, one column per model, with the standard error (or t statistic,
p-value or interval) below each estimate and significance stars on request,
like statsmodels' ``summary_col`` and linearmodels' ``compare``.  Parameters
missing from a model are left blank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_option
from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import EstimationResults, check_alpha, level_label
from evaltools.reporting.summary import Summary, format_number

__all__ = ["Comparison", "compare"]

_STATS = ("std_err", "stat", "pvalue", "conf_int")
_STAR_LEVELS = (0.1, 0.05, 0.01)


def _as_mapping(
    results: tuple[Any, ...], names: Sequence[str] | None
) -> dict[str, EstimationResults]:
    if len(results) == 1 and isinstance(results[0], Mapping):
        items = list(results[0].items())
        if names is not None:
            raise SpecificationError("compare: pass 'names' or a dict of results, not both.")
        named = [(str(k), v) for k, v in items]
    else:
        flat: list[Any] = []
        for r in results:
            if isinstance(r, (list, tuple)):
                flat.extend(r)
            else:
                flat.append(r)
        if names is not None:
            names = list(names)
            if len(names) != len(flat):
                raise SpecificationError(
                    f"compare: {len(names)} name(s) for {len(flat)} results; give one name per "
                    "results object."
                )
        named = list(zip(names if names is not None else _default_names(flat), flat, strict=True))
    if not named:
        raise SpecificationError("compare: pass at least one results object.")
    for name, r in named:
        if not isinstance(r, EstimationResults):
            raise SpecificationError(
                f"compare: {name!r} is a {type(r).__name__}, not an evaltools results object (it needs "
                "params, bse, pvalues and conf_int); fit an evaltools model or wrap the results first."
            )
    keys = [n for n, _ in named]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise SpecificationError(f"compare: model names must be unique; {dup} appear more than once.")
    return dict(named)


def _default_names(results: Iterable[Any]) -> list[str]:
    base = [type(r).__name__.removesuffix("Results") or type(r).__name__ for r in results]
    out = []
    for i, b in enumerate(base):
        out.append(f"({i + 1}) {b}" if base.count(b) > 1 else b)
    return out


def _flat(obj: pd.Series | pd.DataFrame) -> Any:
    """Row labels of a MultiIndex (e.g. ATT(g, t)) joined to strings, so that models can be aligned."""
    if isinstance(obj.index, pd.MultiIndex):
        obj = obj.copy()
        obj.index = pd.Index([", ".join(map(str, t)) for t in obj.index])
    return obj


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "*" * sum(p < lev for lev in _STAR_LEVELS)


class Comparison:
    """Side-by-side coefficient table returned by :func:`compare` (read-only).

    Attributes
    ----------
    results : dict of str to EstimationResults
        The compared results, by model name.
    params, bse, pvalues : DataFrame
        One column per model, one row per parameter (NaN where a model lacks it).
    alpha : float
        One minus the confidence level of the intervals.
    """

    def __init__(
        self,
        results: dict[str, EstimationResults],
        *,
        stars: bool,
        alpha: float,
        stat: str,
        digits: int,
        params: Sequence[Any] | None,
    ) -> None:
        self.results = dict(results)
        self.alpha = alpha
        self._stars = stars
        self._stat = stat
        self._digits = digits
        order: dict[Any, None] = {}
        for r in self.results.values():
            order.update(dict.fromkeys(_flat(r.params).index))
        if params is not None:
            unknown = [p for p in params if p not in order]
            if unknown:
                raise SpecificationError(
                    f"compare: parameter(s) {unknown} are in none of the models; known: {list(order)[:20]}."
                )
            order = dict.fromkeys(params)
        self._index = pd.Index(list(order), name="parameter", tupleize_cols=False)

    def _wide(self, attr: str) -> pd.DataFrame:
        cols = {n: _flat(getattr(r, attr)).reindex(self._index) for n, r in self.results.items()}
        return pd.DataFrame(cols, index=self._index)

    @property
    def params(self) -> pd.DataFrame:
        """Estimates, one column per model."""
        return self._wide("params")

    @property
    def bse(self) -> pd.DataFrame:
        """Standard errors, one column per model."""
        return self._wide("bse")

    @property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values, one column per model."""
        return self._wide("pvalues")

    def to_frame(self) -> pd.DataFrame:
        """Numbers of the table: columns ``(model, estimate|std_err|stat|pvalue|lower|upper)``.

        Returns
        -------
        DataFrame
            Indexed by parameter; intervals at level ``1 - alpha``.
        """
        parts = {n: _flat(r.to_frame(self.alpha)).reindex(self._index) for n, r in self.results.items()}
        out = pd.concat(parts, axis=1, names=["model", "statistic"])
        out.index.name = "parameter"
        return out

    def _fmt(self, x: float) -> str:
        return "" if not np.isfinite(x) else f"{x:.{self._digits}f}"

    def table(self) -> pd.DataFrame:
        """The display table: estimate rows (with stars) and a statistic row under each, then model facts.

        Returns
        -------
        DataFrame of str
        """
        frame = self.to_frame()
        rows: list[tuple[str, list[str]]] = []
        for p in self._index:
            est_row, stat_row = [], []
            for n in self.results:
                f = frame[n].loc[p]
                est = float(f["estimate"])
                star = _stars(float(f["pvalue"])) if self._stars else ""
                est_row.append(self._fmt(est) + star if np.isfinite(est) else "")
                if not np.isfinite(est):
                    stat_row.append("")
                elif self._stat == "conf_int":
                    lo, hi = self._fmt(float(f["lower"])), self._fmt(float(f["upper"]))
                    stat_row.append(f"[{lo}, {hi}]" if lo and hi else "")
                else:
                    v = self._fmt(float(f[self._stat]))
                    stat_row.append(f"({v})" if v else "")
            rows.append((str(p), est_row))
            rows.append(("", stat_row))
        facts = [("No. observations", [format_number(r.nobs) for r in self.results.values()])]
        llf = [getattr(r, "llf", None) for r in self.results.values()]
        if any(isinstance(v, (int, float)) for v in llf):
            facts.append(
                ("Log-likelihood", [format_number(v, self._digits) if v is not None else "" for v in llf])
            )
        cov = [getattr(r, "cov_type", None) for r in self.results.values()]
        if any(isinstance(v, str) for v in cov):
            facts.append(("Covariance", [v if isinstance(v, str) else "" for v in cov]))
        rows.extend(facts)
        body = pd.DataFrame([r for _, r in rows], columns=list(self.results), index=[lab for lab, _ in rows])
        body.index.name = None
        return body

    def _notes(self) -> list[str]:
        what = {
            "std_err": "Standard errors in parentheses",
            "stat": "z (or t) statistics in parentheses",
            "pvalue": "p-values in parentheses",
            "conf_int": f"{level_label(self.alpha)} confidence intervals in brackets",
        }[self._stat]
        notes = [f"{what}; each model's own covariance (see its summary footnotes)."]
        if self._stars:
            notes.append("* p < 0.1, ** p < 0.05, *** p < 0.01 (two-sided).")
        return notes

    def summary(self) -> Summary:
        """The table as a :class:`~evaltools.reporting.summary.Summary` (text, HTML, LaTeX)."""
        return Summary(title="Model comparison", tables=[self.table()], footnotes=self._notes())

    def as_text(self) -> str:
        """Render as fixed-width plain text."""
        return self.summary().as_text()

    def as_html(self) -> str:
        """Render as an HTML fragment."""
        return self.summary().as_html()

    def as_latex(self) -> str:
        """Render as a LaTeX tabular (footnotes as comments)."""
        return self.summary().as_latex()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return f"<Comparison: {len(self.results)} models, {len(self._index)} parameters>"

    def _repr_html_(self) -> str:
        return self.as_html()


def compare(
    *results: Any,
    names: Sequence[str] | None = None,
    stars: bool = False,
    alpha: float = 0.05,
    stat: str = "std_err",
    params: Sequence[Any] | None = None,
    digits: int = 3,
) -> Comparison:
    """Side-by-side coefficient table of several fitted models.

    Parameters
    ----------
    *results : EstimationResults, or one list or dict of them
        The results to compare, e.g. ``compare(cox, cox_strata)`` or
        ``compare({"naive": r1, "cluster": r2})`` (the keys name the columns).
    names : sequence of str, optional
        Column names (default: the results class, numbered when repeated).
    stars : bool, default=False
        Mark estimates with ``*`` (p < 0.1), ``**`` (p < 0.05), ``***`` (p < 0.01).
    alpha : float, default=0.05
        One minus the confidence level of the intervals (``stat="conf_int"``
        and :meth:`Comparison.to_frame`).
    stat : {"std_err", "stat", "pvalue", "conf_int"}, default="std_err"
        What to show under each estimate.
    params : sequence, optional
        Parameters to show, in this order (default: all, in order of appearance).
    digits : int, default=3
        Decimal places.

    Returns
    -------
    Comparison
        With ``to_frame()``, ``table()``, ``summary()``, ``params``/``bse``/``pvalues``
        (one column per model) and ``_repr_html_`` for notebooks.

    See Also
    --------
    coefplot : the same comparison as a figure.

    Examples
    --------
    >>> from evaltools.datasets import rossi
    >>> from evaltools.duration import CoxPH
    >>> d = rossi.load().assign(start=0)
    >>> a = CoxPH.from_formula("~ fin + age", d, stop="week", event="arrest").fit()
    >>> b = CoxPH.from_formula("~ fin + age + prio", d, stop="week", event="arrest").fit()
    >>> tab = compare(a, b, names=["base", "with prio"], stars=True)
    >>> list(tab.params.columns)
    ['base', 'with prio']
    """
    alpha = check_alpha(alpha, "compare")
    check_option("stat", stat, _STATS, "compare")
    return Comparison(_as_mapping(results, names), stars=bool(stars), alpha=alpha, stat=stat,
                      digits=int(digits), params=params)
