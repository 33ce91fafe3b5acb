"""Results of :class:`evaltools.selection.StaggeredDiD`: ATT(g, t) and their aggregations."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools._validation import check_option
from evaltools.exceptions import EvaltoolsWarning, SpecificationError
from evaltools.reporting.results import EstimationResults, TestResult, level_label
from evaltools.reporting.summary import Summary
from evaltools.selection._staggered_core import CellFit, aggregate, bootstrap_draws, cell_se, sup_t

__all__ = ["AggregatedATT", "StaggeredDiDResults"]

_KINDS = ("dynamic", "group", "calendar", "simple")
_BANDS = ("pointwise", "uniform")
_ESTIMATOR_TEXT = {
    "dr": "doubly robust (Sant'Anna and Zhao 2020)",
    "ipw": "normalised inverse probability weighting (Abadie 2005)",
    "reg": "outcome regression (Heckman, Ichimura and Todd 1997)",
}


def _check_alpha(alpha: float) -> float:
    if not isinstance(alpha, (float, int)) or not 0 < alpha < 1:
        raise SpecificationError(f"alpha must be a number in (0, 1); got {alpha!r}.")
    return float(alpha)


def _labels(values: np.ndarray) -> np.ndarray:
    """Periods, cohorts and event times as integers when they are whole numbers."""
    v = np.asarray(values, dtype=float)
    if len(v) and np.all(np.isfinite(v)) and np.all(v == np.round(v)):
        return v.astype(np.int64)
    return v


def _covariance(inf: np.ndarray, se: np.ndarray) -> np.ndarray:
    n = inf.shape[0]
    cov = inf.T @ inf / n**2
    bad = np.isnan(se)
    cov[bad, :] = np.nan
    cov[:, bad] = np.nan
    return cov


class _BandMixin:
    """Simultaneous (sup-t) bands from stored multiplier-bootstrap draws."""

    _draws: np.ndarray | None
    _n_units: int
    _params: pd.Series

    @property
    def n_boot(self) -> int:
        """Number of bootstrap draws (0 if the bootstrap was skipped)."""
        return 0 if self._draws is None else int(self._draws.shape[0])

    def critical_value(self, alpha: float = 0.05) -> float:
        """Sup-t critical value of the simultaneous band (bootstrap; as R ``did``).

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the simultaneous coverage.

        Returns
        -------
        float
            NaN when no bootstrap was run.
        """
        alpha = _check_alpha(alpha)
        if self._draws is None:
            return float("nan")
        return sup_t(self._draws, self._n_units, alpha)[1]

    @property
    def bse_boot(self) -> pd.Series:
        """Bootstrap standard errors (interquartile range / 1.349, as R ``did``)."""
        idx = self._params.index
        if self._draws is None:
            return pd.Series(np.nan, index=idx, name="std_err_boot")
        return pd.Series(sup_t(self._draws, self._n_units, 0.05)[0], index=idx, name="std_err_boot")

    def conf_int(self, alpha: float = 0.05, *, band: str = "pointwise") -> pd.DataFrame:
        """Pointwise (analytic) confidence intervals or the simultaneous (uniform) band.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the (simultaneous) coverage.
        band : {"pointwise", "uniform"}, default="pointwise"
            ``"uniform"``: estimate +- sup-t critical value x bootstrap SE, covering all
            estimates jointly (needs ``n_boot > 0`` in ``fit``).

        Returns
        -------
        DataFrame
            Columns ``lower`` and ``upper``.
        """
        check_option("band", band, _BANDS, f"{type(self).__name__}.conf_int")
        alpha = _check_alpha(alpha)
        if band == "pointwise":
            return EstimationResults.conf_int(self, alpha)  # type: ignore[arg-type]
        if self._draws is None:
            raise SpecificationError("A uniform band needs the multiplier bootstrap: fit with n_boot > 0.")
        se, crit = sup_t(self._draws, self._n_units, alpha)
        crit = self._checked_crit(crit, alpha)
        p = self._params.to_numpy()
        return pd.DataFrame({"lower": p - crit * se, "upper": p + crit * se}, index=self._params.index)

    @staticmethod
    def _checked_crit(crit: float, alpha: float) -> float:
        z = stats.norm.ppf(1 - alpha / 2)
        if not np.isfinite(crit):
            warnings.warn(
                "The simultaneous critical value is NaN (no estimate has a positive bootstrap "
                "SE); the band is pointwise.",
                EvaltoolsWarning,
                stacklevel=4,
            )
            return z
        if crit < z:
            warnings.warn(
                f"The simultaneous critical value {crit:.3f} is below the pointwise {z:.3f}; "
                "the band is pointwise.",
                EvaltoolsWarning,
                stacklevel=4,
            )
            return z
        if crit >= 7:
            warnings.warn(
                f"The simultaneous critical value {crit:.2f} is very large: groups are small or "
                "outcomes vary little.",
                EvaltoolsWarning,
                stacklevel=4,
            )
        return crit

    def _band_columns(self, frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
        if self._draws is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EvaltoolsWarning)
                b = self.conf_int(alpha, band="uniform")
            frame["band_lower"] = b["lower"].to_numpy()
            frame["band_upper"] = b["upper"].to_numpy()
        return frame


class StaggeredDiDResults(_BandMixin, EstimationResults):
    """Group-time average treatment effects ATT(g, t) (read-only).

    ``params`` is indexed by ``(group, time)``; ``bse`` are the influence-function
    standard errors (clustered by unit), ``cov_params()`` their joint covariance.

    Attributes
    ----------
    attgt : DataFrame
        One row per cell: ``group``, ``time``, ``base_period``, ``event_time``, ``post``,
        ``n_treated``, ``n_control``, ``estimate``, ``std_err``.
    pretest : TestResult or None
        Wald test that all pre-treatment ATT(g, t) are zero (parallel pre-trends).
    counts : dict
        Rows and units in each preparation step (dropped rows by reason).
    seed : int
        Seed of the bootstrap multipliers.
    """

    attgt: pd.DataFrame
    pretest: TestResult | None
    counts: dict[str, Any]
    seed: int
    _cells: CellFit

    def __init__(self, model: Any, cells: CellFit, *, n_boot: int, seed: int) -> None:
        n = cells.inf.shape[0]
        idx = pd.MultiIndex.from_arrays([_labels(cells.group), _labels(cells.time)], names=["group", "time"])
        se = cell_se(cells.inf)
        se[np.isnan(cells.att)] = np.nan
        cov = _covariance(cells.inf, se)
        params = pd.Series(cells.att, index=idx, name="att")
        attgt = pd.DataFrame(
            {
                "group": _labels(cells.group),
                "time": _labels(cells.time),
                "base_period": _labels(cells.base),
                "event_time": _labels(cells.time - cells.group),
                "post": cells.group <= cells.time,
                "n_treated": cells.n_treated,
                "n_control": cells.n_control,
                "estimate": cells.att,
                "std_err": se,
            }
        )
        draws = bootstrap_draws(cells.inf, n_boot, seed) if n_boot > 0 else None
        pretest = _pretest(cells, se)
        c = model.counts
        notes = [
            f"ATT(g,t) by {_ESTIMATOR_TEXT[model.estimator]}; comparison units "
            f"{model.control_group.replace('_', '-')}; {model.base_period} base period"
            + (f"; anticipation {model.anticipation:g} period(s)" if model.anticipation else "")
            + ".",
            f"Standard errors from the influence functions, clustered on {model.unit} ({n:,} units).",
        ]
        if model.covariate_names:
            notes.append(
                "Covariates (values of each comparison's earlier period): "
                + ", ".join(model.covariate_names)
                + "."
            )
        if draws is not None:
            notes.append(
                f"Simultaneous bands: multiplier bootstrap with Rademacher weights, {n_boot:,} draws "
                f"(seed {seed}), sup-t critical value."
            )
        dropped = [
            (c.get("rows_missing", 0), "rows with missing values"),
            (c.get("units_unbalanced", 0), "units not observed in every period"),
            (c.get("units_treated_first_period", 0), "units treated in the first period"),
            (c.get("rows_after_last_cohort", 0), "rows from the last cohort's first period on"),
        ]
        for k, what in dropped:
            if k:
                notes.append(f"Dropped {k:,} {what}.")
        if c.get("units_treated_after_window", 0):
            notes.append(
                f"{c['units_treated_after_window']:,} units first treated after the last period "
                "count as never treated."
            )
        notes.extend(f"Not estimated: {s}." for s in cells.notes)
        header = [
            ("Units", n),
            ("Periods", c.get("periods", "")),
            ("Cohorts", len(np.unique(cells.group))),
            ("Outcome", model.outcome),
        ]
        if pretest is not None:
            header.append(
                ("Pre-trend Wald chi2", f"{pretest.statistic:.3f} (df {pretest.df}, p {pretest.pvalue:.4f})")
            )
        super().__init__(
            params,
            pd.DataFrame(cov, index=idx, columns=idx),
            nobs=n,
            model=model,
            title="Group-time average treatment effects (Callaway-Sant'Anna)",
            header=header,
            footnotes=notes,
            extra={
                "attgt": attgt,
                "pretest": pretest,
                "counts": dict(c),
                "seed": seed,
                "_cells": cells,
                "_draws": draws,
                "_n_units": n,
            },
        )

    # ------------------------------------------------------------------
    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy table: estimate, std_err, stat, pvalue, lower, upper (pointwise), band_lower/upper, counts."""
        out = EstimationResults.to_frame(self, alpha)
        out = self._band_columns(out, alpha)
        out["n_treated"] = self.attgt["n_treated"].to_numpy()
        out["n_control"] = self.attgt["n_control"].to_numpy()
        return out

    def _summary_header(self, alpha: float) -> tuple[tuple[str, object], ...]:
        return (*self._header, ("Confidence level", level_label(alpha)))

    def summary(self, alpha: float = 0.05) -> Summary:
        """Summary: the ATT(g, t) table at level ``1 - alpha`` with header facts and footnotes."""
        return super().summary(_check_alpha(alpha))

    def aggregate(
        self,
        kind: str = "dynamic",
        *,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        balance_e: float | None = None,
        na_rm: bool = False,
    ) -> AggregatedATT:
        """Aggregate the ATT(g, t) (R ``did::aggte``).

        Parameters
        ----------
        kind : {"dynamic", "group", "calendar", "simple"}, default="dynamic"
            ``"dynamic"``: event study, average effect by event time ``e = t - g``
            (cohorts weighted by size); its overall effect is the mean over ``e >= 0``.
            ``"group"``: average post-treatment effect of each cohort; overall weighted by
            cohort size.  ``"calendar"``: average effect of the treated cohorts in each
            period; overall the mean over periods.  ``"simple"``: all post-treatment
            cells weighted by cohort size.
        min_e, max_e : float, default=-inf, inf
            Event times kept in the event study; ``max_e`` also limits the post-treatment
            cells used by ``"group"`` and ``"simple"``.
        balance_e : float, optional
            Event study on cohorts observed for at least ``balance_e`` periods after
            treatment (fixed composition across event times ``<= balance_e``).
        na_rm : bool, default=False
            Drop cells whose ATT could not be estimated instead of raising.

        Returns
        -------
        AggregatedATT
        """
        where = "StaggeredDiDResults.aggregate"
        check_option("kind", kind, _KINDS, where)
        for name, v in (("min_e", min_e), ("max_e", max_e)):
            if not isinstance(v, (int, float, np.integer, np.floating)):
                raise SpecificationError(f"The {name!r} parameter of {where} must be a number; got {v!r}.")
        if balance_e is not None and (
            kind != "dynamic" or not isinstance(balance_e, (int, float, np.integer, np.floating))
        ):
            raise SpecificationError(
                f"{where}: balance_e applies to kind='dynamic' only and must be a number."
            )
        cells = self._cells
        bad = np.isnan(cells.att)
        if bad.any():
            if not na_rm:
                ex = ", ".join(f"ATT({g:g},{t:g})" for g, t in zip(cells.group[bad][:3], cells.time[bad][:3]))
                raise SpecificationError(
                    f"{where}: {int(bad.sum())} ATT(g,t) could not be estimated ({ex}); "
                    "pass na_rm=True to aggregate the others."
                )
            keep = ~bad
            cells = replace(
                cells,
                group=cells.group[keep],
                time=cells.time[keep],
                base=cells.base[keep],
                att=cells.att[keep],
                inf=cells.inf[:, keep],
                n_treated=cells.n_treated[keep],
                n_control=cells.n_control[keep],
            )
        agg = aggregate(
            kind,
            cells,
            self.model._design,
            min_e=float(min_e),
            max_e=float(max_e),
            balance_e=None if balance_e is None else float(balance_e),
        )
        if kind == "dynamic" and len(agg["labels"]) == 0:
            raise SpecificationError(f"{where}: no event times within min_e={min_e} and max_e={max_e}.")
        return AggregatedATT(self, kind, agg, min_e=min_e, max_e=max_e, balance_e=balance_e)

    def plot(self, ax: Any = None, *, alpha: float = 0.05, **kwargs: Any) -> Any:
        """Event-study plot of the dynamic aggregation with pointwise intervals and uniform band.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (a new figure if omitted).
        alpha : float, default=0.05
            One minus the coverage of the intervals and the band.
        **kwargs
            Passed to ``Axes.errorbar``.

        Returns
        -------
        matplotlib Axes
        """
        return self.aggregate("dynamic", na_rm=True).plot(ax=ax, alpha=alpha, **kwargs)


def _pretest(cells: CellFit, se: np.ndarray) -> TestResult | None:
    """Wald test of ``ATT(g, t) = 0`` for all pre-treatment cells (as R ``did::att_gt``)."""
    pre = np.flatnonzero((cells.group > cells.time) & ~np.isnan(se) & ~np.isnan(cells.att))
    if len(pre) == 0:
        return None
    n = cells.inf.shape[0]
    v = cells.inf[:, pre].T @ cells.inf[:, pre] / n
    if 1.0 / np.linalg.cond(v, 1) <= np.finfo(float).eps:
        warnings.warn(
            "Pre-trend Wald test not reported: singular covariance of the pre-treatment ATT(g,t).",
            EvaltoolsWarning,
            stacklevel=3,
        )
        return None
    a = cells.att[pre]
    stat = float(n * a @ np.linalg.solve(v, a))
    return TestResult(stat, len(pre), float(stats.chi2.sf(stat, len(pre))))


class AggregatedATT(_BandMixin, EstimationResults):
    """An aggregation of ATT(g, t): event study, cohort, calendar-time or overall effects (read-only).

    ``params`` is indexed by event time, cohort or period (``"ATT"`` for ``kind="simple"``);
    ``overall_att`` / ``overall_se`` hold the summary effect of the aggregation.

    Attributes
    ----------
    kind : {"dynamic", "group", "calendar", "simple"}
        The aggregation.
    overall_att, overall_se : float
        Summary effect of the aggregation and its standard error.
    influence : ndarray
        Influence functions of the aggregated effects (units x estimates).
    overall_influence : ndarray
        Influence function of the overall effect.
    """

    kind: str
    overall_att: float
    overall_se: float
    influence: np.ndarray
    overall_influence: np.ndarray
    _parent: StaggeredDiDResults

    def __init__(
        self,
        parent: StaggeredDiDResults,
        kind: str,
        agg: dict,
        *,
        min_e: float,
        max_e: float,
        balance_e: float | None,
    ) -> None:
        model = parent.model
        n = parent._n_units
        name = {"dynamic": "event_time", "group": "group", "calendar": "time", "simple": "effect"}[kind]
        if kind == "simple":
            idx = pd.Index(["ATT"], name=name)
            att = np.array([agg["overall_att"]])
            inf = agg["overall_inf"][:, None]
        else:
            idx = pd.Index(_labels(agg["labels"]), name=name)
            att, inf = agg["att"], agg["inf"]
        se = cell_se(inf)
        cov = _covariance(inf, se)
        o_se = cell_se(agg["overall_inf"][:, None])[0]
        draws = bootstrap_draws(inf, parent.n_boot, parent.seed) if parent.n_boot else None
        title = {
            "dynamic": "Event study (dynamic aggregation of ATT(g,t))",
            "group": "Average effect by cohort (group aggregation of ATT(g,t))",
            "calendar": "Average effect by period (calendar aggregation of ATT(g,t))",
            "simple": "Overall ATT (simple aggregation of post-treatment ATT(g,t))",
        }[kind]
        overall_text = {
            "dynamic": "mean of the event-time effects for e >= 0",
            "group": "cohort effects weighted by cohort size",
            "calendar": "mean of the period effects",
            "simple": "post-treatment ATT(g,t) weighted by cohort size",
        }[kind]
        notes = [
            f"Overall: {overall_text}; SE includes the estimation of the cohort-size weights.",
            *parent._footnotes,
        ]
        if kind == "dynamic" and (np.isfinite(min_e) or np.isfinite(max_e) or balance_e is not None):
            notes.insert(
                0,
                f"Event times {min_e:g}..{max_e:g}"
                + (f", cohorts balanced up to e = {balance_e:g}" if balance_e is not None else "")
                + ".",
            )
        header = [
            ("Kind", kind),
            ("Overall ATT", float(agg["overall_att"])),
            ("Overall SE", float(o_se)),
            ("Units", n),
            ("Outcome", model.outcome),
        ]
        super().__init__(
            pd.Series(att, index=idx, name="att"),
            pd.DataFrame(cov, index=idx, columns=idx),
            nobs=n,
            model=model,
            title=title,
            header=header,
            footnotes=notes,
            extra={
                "kind": kind,
                "overall_att": float(agg["overall_att"]),
                "overall_se": float(o_se),
                "influence": inf,
                "overall_influence": agg["overall_inf"],
                "_draws": draws,
                "_n_units": n,
                "_parent": parent,
            },
        )

    def overall_conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        """Pointwise confidence interval of the overall effect."""
        z = stats.norm.ppf(1 - _check_alpha(alpha) / 2)
        return self.overall_att - z * self.overall_se, self.overall_att + z * self.overall_se

    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy table: estimate, std_err, stat, pvalue, lower, upper (pointwise), band_lower/upper."""
        return self._band_columns(EstimationResults.to_frame(self, alpha), alpha)

    def _summary_header(self, alpha: float) -> tuple[tuple[str, object], ...]:
        return (*self._header, ("Confidence level", level_label(alpha)))

    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        lo, hi = self.overall_conf_int(alpha)
        overall = pd.DataFrame(
            {"estimate": [self.overall_att], "std_err": [self.overall_se], "lower": [lo], "upper": [hi]},
            index=pd.Index(["overall"], name=""),
        )
        return [overall] if self.kind == "simple" else [overall, self.to_frame(alpha)]

    def summary(self, alpha: float = 0.05) -> Summary:
        """Summary at level ``1 - alpha``: overall effect and the table of aggregated effects."""
        return super().summary(_check_alpha(alpha))

    def plot(self, ax: Any = None, *, alpha: float = 0.05, **kwargs: Any) -> Any:
        """Estimates with pointwise intervals (bars) and the simultaneous band (shaded); returns the Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (a new figure if omitted).
        alpha : float, default=0.05
            One minus the coverage.
        **kwargs
            Passed to ``Axes.errorbar``.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        alpha = _check_alpha(alpha)
        if ax is None:
            _, ax = plt.subplots()
        x = np.arange(1) if self.kind == "simple" else self._params.index.to_numpy(dtype=float)
        est = self._params.to_numpy()
        ci = self.conf_int(alpha)
        pct = f"{100 * (1 - alpha):g}%"
        if self._draws is not None and self.kind != "simple":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EvaltoolsWarning)
                band = self.conf_int(alpha, band="uniform")
            ax.fill_between(
                x,
                band["lower"],
                band["upper"],
                color="C0",
                alpha=0.15,
                step=None,
                label=f"{pct} simultaneous band",
            )
        if self.kind == "dynamic":
            pre = x < 0
            for mask, colour, lab in ((pre, "grey", "pre-treatment"), (~pre, "C3", "post-treatment")):
                if mask.any():
                    kw = {"fmt": "o", "capsize": 3, "color": colour, "label": f"{lab} ({pct} pointwise)"}
                    kw.update(kwargs)
                    ax.errorbar(
                        x[mask],
                        est[mask],
                        yerr=[
                            est[mask] - ci["lower"].to_numpy()[mask],
                            ci["upper"].to_numpy()[mask] - est[mask],
                        ],
                        **kw,
                    )
            ax.axvline(-0.5, color="grey", ls=":", lw=1)
            ax.set_xlabel("event time e = t - g (periods since first treatment)")
        else:
            kw = {"fmt": "o", "capsize": 3, "color": "C3", "label": f"estimate ({pct} pointwise)"}
            kw.update(kwargs)
            ax.errorbar(x, est, yerr=[est - ci["lower"].to_numpy(), ci["upper"].to_numpy() - est], **kw)
            ax.set_xlabel(
                {"group": "cohort g (first treated period)", "calendar": "period t", "simple": ""}[self.kind]
            )
            if self.kind == "simple":
                ax.set_xticks([0], ["overall ATT"])
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylabel(f"ATT on {self.model.outcome} (outcome units)")
        ax.set_title(f"{self._title}; overall {self.overall_att:.3g} (SE {self.overall_se:.2g})", fontsize=9)
        ax.legend(fontsize=8)
        return ax

    def __repr__(self) -> str:
        return (
            f"<AggregatedATT {self.kind}: {len(self._params)} estimates, overall {self.overall_att:.4g} "
            f"(SE {self.overall_se:.3g})>"
        )
