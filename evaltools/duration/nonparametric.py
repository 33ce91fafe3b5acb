"""Nonparametric survival: Kaplan-Meier, Nelson-Aalen and Aalen-Johansen.

All three estimators accept delayed entry (left truncation: a row with
``(entry, stop]`` is at risk at ``t`` iff ``entry < t <= stop``, as R
``survival``), groups and (for Kaplan-Meier and Nelson-Aalen) case weights.
Computation sorts once and uses cumulative sums, so a million rows take well
under a second.  Results agree with R ``survival::survfit`` (see
``tests/reference/duration/km_*`` and ``aj_*``).

Examples
--------
>>> import pandas as pd
>>> from evaltools.duration.nonparametric import KaplanMeier
>>> d = pd.DataFrame({"weeks": [3, 5, 5, 8, 12], "exit": [1, 1, 0, 1, 0]})
>>> res = KaplanMeier(d, duration="weeks", event="exit").fit()
>>> res.survival_function["survival"].round(3).tolist()
[0.8, 0.6, 0.3, 0.3]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools.duration import _nonparametric_core as core
from evaltools.duration._nonparametric_base import (
    CurveResults,
    Prepared,
    check_fit,
    plot_curves,
    quantile_time,
    step_lookup,
    time_label,
)
from evaltools.reporting.summary import Summary

__all__ = [
    "KaplanMeier",
    "KaplanMeierResults",
    "NelsonAalen",
    "NelsonAalenResults",
    "AalenJohansen",
    "AalenJohansenResults",
]


# ---------------------------------------------------------------------------------------------------
class KaplanMeier:
    """Kaplan-Meier (product-limit) survival estimator.

    Parameters
    ----------
    data : DataFrame
        One row per spell (or per interval ``(entry, stop]`` with delayed entry).  Never modified.
    duration : str, default="duration"
        Column with the exit or censoring time (ignored when ``stop`` is given).
    stop : str, optional
        Alternative name for the exit-time column (counting-process data).
    event : str, default="event"
        0/1 or bool event indicator.
    entry : str, optional
        Column with the entry time (left truncation); default: every row enters at 0.
    group : str, optional
        Column defining groups with separate curves.
    weights : str, optional
        Column of positive case weights (as R ``survfit(weights=)``).

    Notes
    -----
    Tied times are handled by the product-limit formula (all events at ``t``
    before censorings at ``t``).  Rows with missing values are dropped with a
    :class:`~evaltools.exceptions.MissingValueWarning`; the count is in the summary.

    Examples
    --------
    Weeks on benefit until exit, by group; a median whose upper limit is not
    reached within the follow-up is reported as such:

    >>> import pandas as pd
    >>> d = pd.DataFrame({"weeks": [3, 5, 5, 8, 12, 2, 4, 9, 20, 26],
    ...                   "exit": [1, 1, 0, 1, 0, 1, 1, 0, 1, 0], "group": list("aaaaabbbbb")})
    >>> res = KaplanMeier(d, duration="weeks", event="exit", group="group").fit()
    >>> res.median_survival()["median"].tolist()
    [8.0, 20.0]
    >>> res.survival_at([4, 10]).round(2)["b"].tolist()
    [0.6, 0.6]

    On register spells (``build_spells``) the duration is in weeks and the
    event is an exit to a destination, e.g. ``exit == "self_support"``:

    >>> from evaltools.data import build_spells, read_panel
    >>> panel = read_panel("data_samples/sample_panel")  # doctest: +SKIP
    >>> sp = build_spells(panel, benefit="kontanthjaelp")  # doctest: +SKIP
    >>> sp["to_job"] = (sp["exit"] == "self_support").astype(int)  # doctest: +SKIP
    >>> KaplanMeier(sp, duration="duration", event="to_job").fit().plot()  # doctest: +SKIP
    """

    _where = "KaplanMeier"

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        duration: str = "duration",
        stop: str | None = None,
        event: str = "event",
        entry: str | None = None,
        group: str | None = None,
        weights: str | None = None,
    ) -> None:
        self._prep = Prepared(
            data,
            where=self._where,
            duration=duration,
            stop=stop,
            event=event,
            entry=entry,
            group=group,
            weights=weights,
            competing=False,
        )

    def _tables(self) -> list[tuple[Any, core.RiskTable]]:
        p = self._prep
        return [
            (lab, core.risk_table(p.entry[s], p.stop[s], p.cause[s], p.weight[s], 1)) for lab, s in p.groups()
        ]

    def fit(self, *, conf_type: str = "log-log", alpha: float = 0.05) -> KaplanMeierResults:
        """Estimate the survival curves.

        Parameters
        ----------
        conf_type : {"log-log", "log", "plain"}, default="log-log"
            Scale of the pointwise confidence intervals (R ``survfit`` ``conf.type``).
        alpha : float, default=0.05
            One minus the confidence level.

        Returns
        -------
        KaplanMeierResults
        """
        z = check_fit(f"{self._where}.fit", conf_type, alpha)
        frames = []
        for lab, tab in self._tables():
            surv, se_log = core.km_greenwood(tab)
            lo, hi = core.conf_band(surv, se_log, conf_type, z)
            with np.errstate(invalid="ignore"):
                se = surv * se_log
            f = pd.DataFrame(
                {
                    "time": tab.time,
                    "n_risk": tab.n_risk,
                    "n_event": tab.n_event[:, 0],
                    "n_censor": tab.n_censor,
                    "survival": surv,
                    "std_err": se,
                    "lower": lo,
                    "upper": hi,
                }
            )
            if self._prep.group_col is not None:
                f.insert(0, self._prep.group_col, lab)
            frames.append(f)
        return KaplanMeierResults(self, pd.concat(frames, ignore_index=True), conf_type, alpha)


class KaplanMeierResults(CurveResults):
    """Results of :class:`KaplanMeier` (read-only).

    Attributes
    ----------
    survival_function : DataFrame
        One row per distinct exit time and group: ``[group], time, n_risk, n_event,
        n_censor, survival, std_err`` (Greenwood standard error of the survival),
        ``lower, upper`` (pointwise limits on the ``conf_type`` scale).
    conf_type : str
        Confidence-interval scale.
    alpha : float
        One minus the confidence level.
    n_dropped : int
        Rows dropped for missing values.
    """

    _title = "Kaplan-Meier survival"

    def __init__(self, model: KaplanMeier, table: pd.DataFrame, conf_type: str, alpha: float) -> None:
        self.model = model
        self._prep = model._prep
        self._table = table
        self.conf_type = conf_type
        self.alpha = alpha
        self.n_dropped = self._prep.n_dropped
        self._freeze()

    @property
    def survival_function(self) -> pd.DataFrame:
        """Survival table (a copy)."""
        return self._table.copy()

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Survival at arbitrary times (right-continuous step function).

        Parameters
        ----------
        times : sequence of float
            Time points; NaN beyond the last observed time of a group.

        Returns
        -------
        DataFrame
            Index ``time``; one column per group (``"survival"`` without groups).
        """
        at = np.asarray(times, dtype=float).ravel()
        out = {}
        for lab, tab in self._groups_of(self._table):
            t = tab["time"].to_numpy()
            out["survival" if lab is None else lab] = step_lookup(
                t, tab["survival"].to_numpy(), at, 1.0, t.max()
            )
        return pd.DataFrame(out, index=pd.Index(at, name="time"))

    def median_survival(self) -> pd.DataFrame:
        """Median survival time with confidence limits (as R ``print.survfit``).

        The median is the first time the curve is at or below 0.5; where the
        curve equals 0.5 exactly on a flat stretch, the midpoint of that stretch.
        The limits apply the same rule to the lower and upper pointwise limits.

        Returns
        -------
        DataFrame
            Columns ``median``, ``lower``, ``upper`` (NaN if not reached), one row per group.
        """
        rows = {}
        for lab, tab in self._groups_of(self._table):
            t = tab["time"].to_numpy()
            ev = tab["n_event"].to_numpy() > 0
            rows["all" if lab is None else lab] = {
                "median": quantile_time(t[ev], tab["survival"].to_numpy()[ev]),
                "lower": quantile_time(t[ev], tab["lower"].to_numpy()[ev]),
                "upper": quantile_time(t[ev], tab["upper"].to_numpy()[ev]),
            }
        out = pd.DataFrame(rows).T
        if self._prep.group_col is not None:
            out.index.name = self._prep.group_col
        return out

    def summary(self) -> Summary:
        """Summary: number of rows, events and median survival per group."""
        med = self.median_survival()
        counts = []
        for lab, tab in self._groups_of(self._table):
            counts.append(
                {"group": "all" if lab is None else lab, "n_events": self._prep.count(tab["n_event"].sum())}
            )
        tbl = pd.DataFrame(counts).set_index("group")
        tbl.index = med.index
        tbl = pd.concat([tbl, med.rename(columns=lambda c: f"median_{c}" if c != "median" else c)], axis=1)
        level = f"{100 * (1 - self.alpha):g}%"
        notes = [
            f"Product-limit estimator; tied exit times: events before censorings. Greenwood standard "
            f"errors; {level} pointwise intervals on the {self.conf_type} scale.",
            *self._prep.footnotes(),
        ]
        unreached = tbl[["median", "median_lower", "median_upper"]].isna()
        if unreached.to_numpy().any():
            # the curve (or its limit) stays above one half within the follow-up: say so, not a blank cell
            for c in unreached.columns:
                tbl[c] = tbl[c].astype(object).where(~unreached[c], "not reached")
            notes.append("'not reached': the curve (or its confidence limit) stays above 0.5 during "
                         "follow-up.")
        header = [("No. rows", self._prep.n_used), ("Groups", len(self._prep.group_labels))]
        return Summary(self._title, header=header, tables=[tbl], footnotes=notes)

    def plot(self, ax: Any = None, *, ci: bool = True, at_risk: bool = False, time_unit: str = "weeks",
             title: str | None = None, **kwargs: Any) -> Any:
        """Plot the survival curves as step functions.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        ci : bool, default=True
            Shade the pointwise confidence band.
        at_risk : bool, default=False
            Print the number at risk at the x ticks below the axes.
        time_unit : str, default="weeks"
            Unit of the duration column, shown in the x-axis label (register spells are weekly).
        title : str, optional
            Axes title (default: the estimator and the group column); ``""`` for none.
        **kwargs
            Passed to ``Axes.step``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        return plot_curves(self, ax, "survival", "Survival probability", ci, at_risk, start=1.0, title=title,
                           time_unit=time_unit, **kwargs)

    def __repr__(self) -> str:
        return f"<KaplanMeierResults: {len(self._prep.group_labels)} group(s), {self._prep.n_used:,} rows>"


# ---------------------------------------------------------------------------------------------------
class NelsonAalen(KaplanMeier):
    """Nelson-Aalen cumulative hazard estimator.

    Takes the same arguments as :class:`KaplanMeier`.  The variance is
    ``sum d / Y**2`` (R ``survfit(ctype = 1)``'s ``std.chaz``).
    """

    _where = "NelsonAalen"

    def fit(self, *, conf_type: str = "log", alpha: float = 0.05) -> NelsonAalenResults:  # type: ignore[override]
        """Estimate the cumulative hazards.

        Parameters
        ----------
        conf_type : {"log", "plain"}, default="log"
            ``"log"``: ``H * exp(+-z se / H)``; ``"plain"``: ``H +- z se`` (lower limit clipped at 0).
        alpha : float, default=0.05
            One minus the confidence level.

        Returns
        -------
        NelsonAalenResults
        """
        z = check_fit(f"{self._where}.fit", conf_type, alpha, ("log", "plain"))
        frames = []
        for lab, tab in self._tables():
            H, se = core.nelson_aalen(tab)
            with np.errstate(divide="ignore", invalid="ignore"):
                if conf_type == "log":
                    lo, hi = H * np.exp(-z * se / H), H * np.exp(z * se / H)
                    lo, hi = np.where(H > 0, lo, np.nan), np.where(H > 0, hi, np.nan)
                else:
                    lo, hi = np.clip(H - z * se, 0, None), H + z * se
            f = pd.DataFrame(
                {
                    "time": tab.time,
                    "n_risk": tab.n_risk,
                    "n_event": tab.n_event[:, 0],
                    "n_censor": tab.n_censor,
                    "cumulative_hazard": H,
                    "std_err": se,
                    "lower": lo,
                    "upper": hi,
                }
            )
            if self._prep.group_col is not None:
                f.insert(0, self._prep.group_col, lab)
            frames.append(f)
        return NelsonAalenResults(self, pd.concat(frames, ignore_index=True), conf_type, alpha)


class NelsonAalenResults(CurveResults):
    """Results of :class:`NelsonAalen` (read-only).

    Attributes
    ----------
    cumulative_hazard : DataFrame
        ``[group], time, n_risk, n_event, n_censor, cumulative_hazard, std_err, lower, upper``.
    conf_type : str
    alpha : float
    n_dropped : int
    """

    _title = "Nelson-Aalen cumulative hazard"

    def __init__(self, model: NelsonAalen, table: pd.DataFrame, conf_type: str, alpha: float) -> None:
        self.model = model
        self._prep = model._prep
        self._table = table
        self.conf_type = conf_type
        self.alpha = alpha
        self.n_dropped = self._prep.n_dropped
        self._freeze()

    @property
    def cumulative_hazard(self) -> pd.DataFrame:
        """Cumulative hazard table (a copy)."""
        return self._table.copy()

    def cumulative_hazard_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Cumulative hazard at arbitrary times (NaN beyond a group's last time).

        Parameters
        ----------
        times : sequence of float
            Time points.

        Returns
        -------
        DataFrame
            Index ``time``; one column per group.
        """
        at = np.asarray(times, dtype=float).ravel()
        out = {}
        for lab, tab in self._groups_of(self._table):
            t = tab["time"].to_numpy()
            out["cumulative_hazard" if lab is None else lab] = step_lookup(
                t, tab["cumulative_hazard"].to_numpy(), at, 0.0, t.max()
            )
        return pd.DataFrame(out, index=pd.Index(at, name="time"))

    def summary(self) -> Summary:
        """Summary: events and cumulative hazard at the last time, per group."""
        rows = {}
        for lab, tab in self._groups_of(self._table):
            rows["all" if lab is None else lab] = {
                "n_events": self._prep.count(tab["n_event"].sum()),
                "last_time": tab["time"].iloc[-1],
                "cumulative_hazard": tab["cumulative_hazard"].iloc[-1],
                "std_err": tab["std_err"].iloc[-1],
            }
        notes = [
            "Nelson-Aalen estimator; variance sum d/Y^2 (R survfit ctype = 1); "
            f"{100 * (1 - self.alpha):g}% pointwise intervals on the {self.conf_type} scale.",
            *self._prep.footnotes(),
        ]
        return Summary(
            self._title,
            header=[("No. rows", self._prep.n_used)],
            tables=[pd.DataFrame(rows).T],
            footnotes=notes,
        )

    def plot(self, ax: Any = None, *, ci: bool = True, at_risk: bool = False, time_unit: str = "weeks",
             title: str | None = None, **kwargs: Any) -> Any:
        """Plot the cumulative hazards; returns the matplotlib Axes (see :meth:`KaplanMeierResults.plot`)."""
        return plot_curves(
            self, ax, "cumulative_hazard", "Cumulative hazard (expected exits per person)", ci, at_risk,
            start=0.0, title=title, time_unit=time_unit, **kwargs
        )

    def __repr__(self) -> str:
        return f"<NelsonAalenResults: {len(self._prep.group_labels)} group(s), {self._prep.n_used:,} rows>"


# ---------------------------------------------------------------------------------------------------
class AalenJohansen:
    """Aalen-Johansen cumulative incidence for competing exits.

    Parameters
    ----------
    data : DataFrame
        One row per spell (or interval with delayed entry).  Never modified.
    duration : str, default="duration"
        Exit or censoring time (ignored when ``stop`` is given).
    stop : str, optional
        Alternative name for the exit-time column.
    event : str, default="event"
        Exit type; rows equal to ``censored`` are censored, every other value is a cause.
    entry : str, optional
        Entry time (left truncation).
    group : str, optional
        Column defining groups.
    censored : object, default=0
        Value of ``event`` that means censored.

    Notes
    -----
    Standard errors are the infinitesimal-jackknife ones of R ``survfit`` for
    multi-state data (one row per person).  With no delayed entry the
    event-free probability's standard error equals Greenwood's.
    """

    _where = "AalenJohansen"

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        duration: str = "duration",
        stop: str | None = None,
        event: str = "event",
        entry: str | None = None,
        group: str | None = None,
        censored: Any = 0,
    ) -> None:
        self._prep = Prepared(
            data,
            where=self._where,
            duration=duration,
            stop=stop,
            event=event,
            entry=entry,
            group=group,
            weights=None,
            competing=True,
            censored=censored,
        )
        self.causes = list(self._prep.causes)

    def _estimates(self) -> list[tuple[Any, core.RiskTable, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per group: label, risk table, event-free survival and its SE, CIF per cause and its SE."""
        p = self._prep
        K = len(p.causes)
        out = []
        for lab, sel in p.groups():
            tab = core.risk_table(p.entry[sel], p.stop[sel], p.cause[sel], p.weight[sel], K)
            out.append((lab, tab, *core.aalen_johansen(tab, p.cause[sel], p.weight[sel])))
        return out

    def fit(self, *, conf_type: str = "log", alpha: float = 0.05) -> AalenJohansenResults:
        """Estimate cumulative incidence curves.

        Parameters
        ----------
        conf_type : {"log", "log-log", "plain"}, default="log"
            Scale of the pointwise intervals (R's default for multi-state curves is ``"log"``).
        alpha : float, default=0.05
            One minus the confidence level.

        Returns
        -------
        AalenJohansenResults
        """
        z = check_fit(f"{self._where}.fit", conf_type, alpha)
        p = self._prep
        frames, free = [], []
        for lab, tab, surv, se_s, cif, se_c in self._estimates():
            g = {} if p.group_col is None else {p.group_col: lab}
            with np.errstate(divide="ignore", invalid="ignore"):
                lo_s, hi_s = core.conf_band(surv, se_s / surv, conf_type, z)
            free.append(
                pd.DataFrame(
                    {
                        **g,
                        "time": tab.time,
                        "n_risk": tab.n_risk,
                        "n_event": tab.n_event.sum(axis=1),
                        "n_censor": tab.n_censor,
                        "survival": surv,
                        "std_err": se_s,
                        "lower": lo_s,
                        "upper": hi_s,
                    }
                )
            )
            for k, cause in enumerate(p.causes):
                with np.errstate(divide="ignore", invalid="ignore"):
                    lo, hi = core.conf_band(cif[:, k], se_c[:, k] / cif[:, k], conf_type, z)
                frames.append(
                    pd.DataFrame(
                        {
                            **g,
                            "cause": cause,
                            "time": tab.time,
                            "n_risk": tab.n_risk,
                            "n_event": tab.n_event[:, k],
                            "cif": cif[:, k],
                            "std_err": se_c[:, k],
                            "lower": lo,
                            "upper": hi,
                        }
                    )
                )
        return AalenJohansenResults(
            self, pd.concat(frames, ignore_index=True), pd.concat(free, ignore_index=True), conf_type, alpha
        )


class AalenJohansenResults(CurveResults):
    """Results of :class:`AalenJohansen` (read-only).

    Attributes
    ----------
    cumulative_incidence : DataFrame
        Long table: ``[group], cause, time, n_risk, n_event, cif, std_err, lower, upper``.
    event_free : DataFrame
        Probability of no exit of any type (all-cause Kaplan-Meier):
        ``[group], time, n_risk, n_event, n_censor, survival, std_err, lower, upper``.
    causes : list
        Exit types in the order used.
    conf_type : str
    alpha : float
    n_dropped : int
    """

    _title = "Aalen-Johansen cumulative incidence"

    def __init__(
        self, model: AalenJohansen, table: pd.DataFrame, free: pd.DataFrame, conf_type: str, alpha: float
    ) -> None:
        self.model = model
        self._prep = model._prep
        self._table = table
        self._free = free
        self.causes = list(model.causes)
        self.conf_type = conf_type
        self.alpha = alpha
        self.n_dropped = self._prep.n_dropped
        self._freeze()

    @property
    def cumulative_incidence(self) -> pd.DataFrame:
        """Cumulative incidence table (a copy)."""
        return self._table.copy()

    @property
    def event_free(self) -> pd.DataFrame:
        """Event-free probability table (a copy)."""
        return self._free.copy()

    def cif_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Cumulative incidence at arbitrary times (NaN beyond a group's last time).

        Parameters
        ----------
        times : sequence of float
            Time points.

        Returns
        -------
        DataFrame
            Index ``time``; one column per cause (``(group, cause)`` with groups).
        """
        at = np.asarray(times, dtype=float).ravel()
        out = {}
        for lab, tab in self._groups_of(self._table):
            for cause in self.causes:
                sub = tab[tab["cause"] == cause]
                t = sub["time"].to_numpy()
                key = cause if lab is None else (lab, cause)
                out[key] = step_lookup(t, sub["cif"].to_numpy(), at, 0.0, t.max())
        return pd.DataFrame(out, index=pd.Index(at, name="time"))

    def summary(self) -> Summary:
        """Summary: events and cumulative incidence at the last time, per group and cause."""
        rows = []
        for lab, tab in self._groups_of(self._table):
            for cause in self.causes:
                sub = tab[tab["cause"] == cause]
                rows.append(
                    {
                        "group": "all" if lab is None else lab,
                        "cause": cause,
                        "n_events": self._prep.count(sub["n_event"].sum()),
                        "last_time": sub["time"].iloc[-1],
                        "cif": sub["cif"].iloc[-1],
                        "std_err": sub["std_err"].iloc[-1],
                    }
                )
        tbl = pd.DataFrame(rows).set_index(["group", "cause"])
        tbl.index = tbl.index.set_names([self._prep.group_col or "group", "cause"])
        notes = [
            "Aalen-Johansen estimator of the cumulative incidence of each exit type (competing risks); "
            "infinitesimal-jackknife standard errors (as R survfit multi-state); "
            f"{100 * (1 - self.alpha):g}% pointwise intervals on the {self.conf_type} scale.",
            *self._prep.footnotes(),
        ]
        return Summary(
            self._title,
            header=[("No. rows", self._prep.n_used), ("Exit types", len(self.causes))],
            tables=[tbl],
            footnotes=notes,
        )

    def plot(self, ax: Any = None, *, ci: bool = True, at_risk: bool = False, time_unit: str = "weeks",
             title: str | None = None, **kwargs: Any) -> Any:
        """Plot cumulative incidence curves (one per cause and group).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on.
        ci : bool, default=True
            Shade pointwise confidence bands.
        at_risk : bool, default=False
            Print numbers at risk below the axes.
        time_unit : str, default="weeks"
            Unit of the duration column, shown in the x-axis label.
        title : str, optional
            Axes title (default: the estimator); ``""`` for none.
        **kwargs
            Passed to ``Axes.step``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for lab, tab in self._groups_of(self._table):
            for cause in self.causes:
                sub = tab[tab["cause"] == cause]
                t = np.r_[0.0, sub["time"].to_numpy()]
                name = str(cause) if lab is None else f"{lab}: {cause}"
                (line,) = ax.step(t, np.r_[0.0, sub["cif"].to_numpy()], where="post", label=name, **kwargs)
                if ci:
                    ax.fill_between(
                        t,
                        np.r_[0.0, sub["lower"].to_numpy()],
                        np.r_[0.0, sub["upper"].to_numpy()],
                        step="post",
                        alpha=0.2,
                        color=line.get_color(),
                        linewidth=0,
                    )
        ax.set_xlabel(time_label(self, time_unit))
        ax.set_ylabel("Cumulative incidence (probability)")
        ax.legend(loc="best")
        title = self._title if title is None else title
        if title:
            ax.set_title(title)
        if at_risk:
            self._draw_at_risk(ax)
        return ax

    def __repr__(self) -> str:
        return f"<AalenJohansenResults: {len(self.causes)} cause(s), {self._prep.n_used:,} rows>"
