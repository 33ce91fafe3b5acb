"""Multi-state state-occupation probabilities (Aalen-Johansen) for persons moving between states.

Benefit histories are sequences of states (benefit, job, education, other
benefits ...) with transitions in both directions.  Given one row per person
and interval ``(start, stop]`` spent in one state, with the state entered at
``stop`` in ``event``, :class:`MultiStateAalenJohansen` estimates the
probability of being in each state at every time, with infinitesimal-jackknife
standard errors, as R ``survfit(Surv(start, stop, event) ~ 1, id = id)``
(``tests/reference/duration/ms_*``).  Competing risks are the special case of
one transient state.

Examples
--------
>>> import pandas as pd
>>> from evaltools.duration import MultiStateAalenJohansen
>>> d = pd.DataFrame({"id": [1, 1, 2, 3, 3, 4], "start": [0, 3, 0, 0, 2, 0], "stop": [3, 6, 4, 2, 5, 7],
...                   "to": ["job", "benefit", 0, "job", 0, "job"]})
>>> res = MultiStateAalenJohansen(d, event="to", initial_state=None, entry_state="benefit").fit()
>>> res.states
['benefit', 'job']
>>> res.prob_at([2, 4, 6]).round(3).to_numpy().tolist()
[[0.75, 0.25], [0.5, 0.5], [1.0, 0.0]]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, raise_for_rows
from evaltools.duration import _multistate_core as core
from evaltools.duration._nonparametric_base import check_fit
from evaltools.duration._nonparametric_core import conf_band
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError
from evaltools.reporting.results import ReadOnlyMixin
from evaltools.reporting.summary import Summary

__all__ = ["MultiStateAalenJohansen", "MultiStateResults"]

_WHERE = "MultiStateAalenJohansen"


def _label(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


class MultiStateAalenJohansen:
    """Aalen-Johansen estimator of state-occupation probabilities for multi-state data.

    Parameters
    ----------
    data : DataFrame
        One row per person and interval ``(start, stop]`` spent in one state
        (or one row per person with ``start=None``).  Never modified.
    start : str or None, default="start"
        Interval start; ``None`` for one row per person followed from time 0.
        A person whose first row starts later enters late (left truncation).
    stop : str, default="stop"
        Interval end.
    event : str, default="event"
        State entered at ``stop``; ``censored`` marks rows ending without a
        transition (censoring, or a split followed by the person's next row).
    id : str or None, default="id"
        Person identifier; a person's rows must be contiguous (no gaps or
        overlaps).  ``None``: every row is a person (needs ``start=None``).
    censored : object, default=0
        Value of ``event`` meaning "no transition".
    initial_state : str, optional
        Column whose value on a person's first row is the state the person
        starts in (values on later rows must agree with the state reached).
        Default: everybody starts in ``entry_state``.
    entry_state : object, default="(s0)"
        Name of the common starting state when ``initial_state`` is not given
        (R's ``"(s0)"``); may equal a state of ``event``.
    group : str, optional
        Column defining groups with separate curves.
    weights : str, optional
        Positive person weights (constant within a person).

    Notes
    -----
    States are ordered as R does: starting states that are never entered
    first, then the states of ``event`` in sorted order.  Rows with missing
    values are dropped with a warning, together with the rest of the person's
    rows (so that no gap is created).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        start: str | None = "start",
        stop: str = "stop",
        event: str = "event",
        id: str | None = "id",  # noqa: A002 - column role name from the style guide
        censored: Any = 0,
        initial_state: str | None = None,
        entry_state: Any = "(s0)",
        group: str | None = None,
        weights: str | None = None,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{_WHERE}: 'data' must be a pandas DataFrame; got {type(data).__name__}."
            )
        if start is not None and id is None:
            raise SpecificationError(
                f"{_WHERE}: (start, stop] rows need a person identifier: pass id='column' (or start=None "
                "for one row per person)."
            )
        self.start, self.stop, self.event, self.id = start, stop, event, id
        self.censored, self.initial_state, self.entry_state = censored, initial_state, entry_state
        self.group, self.weights = group, weights
        cols = [c for c in (start, stop, event, id, initial_state, group, weights) if c is not None]
        check_columns(data, cols, _WHERE, role="start/stop/event/id/initial_state/group/weights")
        self.n_total = len(data)
        bad = data[cols].isna().any(axis=1).to_numpy()
        if bad.any() and id is not None:
            bad |= data[id].isin(pd.unique(data[id][bad].dropna())).to_numpy()
        self.n_dropped = int(bad.sum())
        if self.n_dropped:
            warnings.warn(
                f"{_WHERE}: dropped {self.n_dropped:,} of {self.n_total:,} rows with missing values in "
                f"{[c for c in cols if data[c].isna().any()]} (whole persons).",
                MissingValueWarning,
                stacklevel=2,
            )
        df = data.loc[~bad, cols]
        if len(df) == 0:
            raise DataValidationError(f"{_WHERE}: no rows left after removing rows with missing values.")
        self._prepare(df)

    def _prepare(self, df: pd.DataFrame) -> None:
        tcols = [c for c in (self.start, self.stop) if c is not None]
        for c in tcols + ([self.weights] if self.weights else []):
            if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
                raise DataValidationError(f"{_WHERE}: column {c!r} must be numeric; got dtype {df[c].dtype}.")
        stop = df[self.stop].to_numpy(dtype=float)
        idc = [self.id] if self.id else []
        show = idc + tcols
        if self.start is not None:
            start = df[self.start].to_numpy(dtype=float)
        else:
            start = np.full(len(df), min(0.0, float(stop.min())) - 1.0)
        raise_for_rows(
            df,
            ~np.isfinite(start) | ~np.isfinite(stop),
            rule=f"{_WHERE}: times must be finite",
            fix="Replace infinite times by the end of follow-up.",
            columns=show,
        )
        raise_for_rows(
            df,
            stop <= start,
            rule=f"{_WHERE}: column {self.stop!r} must be greater than {self.start!r} "
            "(zero or negative length)",
            fix="Remove zero-length intervals or fix the bounds.",
            columns=show,
        )
        if self.weights:
            w = df[self.weights].to_numpy(dtype=float)
            raise_for_rows(
                df,
                ~(np.isfinite(w) & (w > 0)),
                rule=f"{_WHERE}: weights column {self.weights!r} must be finite and > 0",
                fix="Drop persons with zero weight explicitly.",
                columns=show + [self.weights],
            )
        else:
            w = np.ones(len(df))
        ev = df[self.event]
        ev_states = sorted(
            {_label(v) for v in pd.unique(ev) if not _eq(v, self.censored)}, key=lambda v: (str(type(v)), v)
        )
        if self.initial_state is not None:
            init_vals = {_label(v) for v in pd.unique(df[self.initial_state])}
        else:
            init_vals = {self.entry_state}
        extra = sorted((v for v in init_vals if v not in ev_states), key=lambda v: (str(type(v)), v))
        self.states = extra + ev_states
        if len(self.states) < 2:
            raise DataValidationError(
                f"{_WHERE}: column {self.event!r} has no transitions out of the starting state (every value "
                f"equals censored={self.censored!r} or the starting state)."
            )
        code = {s: i for i, s in enumerate(self.states)}
        to = np.full(len(df), -1, dtype=np.int64)
        for s in ev_states:
            to[(ev == s).to_numpy()] = code[s]
        pid = pd.factorize(df[self.id])[0].astype(np.int64) if self.id else np.arange(len(df), dtype=np.int64)
        o = np.lexsort((start, pid))
        same = pid[o][1:] == pid[o][:-1]
        mask = np.zeros(len(df), bool)
        mask[o[1:][same & (start[o][1:] < stop[o][:-1])]] = True
        raise_for_rows(
            df,
            mask,
            rule=f"{_WHERE}: intervals of the same {self.id!r} must not overlap",
            fix="Split the follow-up into non-overlapping intervals.",
            columns=show,
        )
        mask[:] = False
        mask[o[1:][same & (start[o][1:] > stop[o][:-1])]] = True
        raise_for_rows(
            df,
            mask,
            rule=f"{_WHERE}: rows of the same {self.id!r} must be contiguous (a gap between a row's "
            "start and the previous row's stop)",
            fix="Fill the gap with a row in the state occupied, or end "
            "the person with a censored row and start a new id.",
            columns=show,
        )
        # state occupied during each row: the initial state, then the last state entered
        start, stop, to, pid, w = start[o], stop[o], to[o], pid[o], w[o]
        frame = df.iloc[o]
        first = np.r_[True, ~same]
        if self.initial_state is not None:
            init = frame[self.initial_state].map(lambda v: code[_label(v)]).to_numpy(dtype=np.int64)
        else:
            init = np.full(len(df), code[self.entry_state], dtype=np.int64)
        prev_to = pd.Series(np.where(to >= 0, to, np.nan)).groupby(pid).shift(1)
        entered = prev_to.groupby(pid).ffill().to_numpy()
        frm = np.where(np.isnan(entered), init[np.flatnonzero(first)][np.cumsum(first) - 1], entered).astype(
            np.int64
        )
        if self.initial_state is not None:
            raise_for_rows(
                frame,
                init != frm,
                rule=f"{_WHERE}: column {self.initial_state!r} must agree with the state "
                "reached through the earlier rows of the person",
                fix="Give the initial state on the first "
                "row and the states in 'event'; later values must follow from the transitions.",
                columns=show + [self.initial_state],
            )
        wfirst = w[np.flatnonzero(first)][np.cumsum(first) - 1]
        raise_for_rows(
            frame,
            w != wfirst,
            rule=f"{_WHERE}: weights must be constant within each {self.id!r}",
            fix="Use one weight per person.",
            columns=show + ([self.weights] if self.weights else []),
        )
        if self.group is not None:
            gcodes, glabels = pd.factorize(frame[self.group], sort=True)
            self.group_labels = [_label(v) for v in glabels]
        else:
            gcodes = np.zeros(len(df), dtype=np.int64)
            self.group_labels = [None]
        gfirst = gcodes[np.flatnonzero(first)][np.cumsum(first) - 1]
        raise_for_rows(
            frame,
            gcodes != gfirst,
            rule=f"{_WHERE}: group {self.group!r} must be constant within each {self.id!r}",
            fix="Groups split persons, not rows.",
            columns=show,
        )
        last = np.r_[~same, True]
        self._start, self._stop, self._to, self._frm, self._pid = start, stop, to, frm, pid
        self._w, self._group, self._last, self._first = w, gcodes, last, first
        self.n_rows = len(df)
        self.n_persons = int(pid.max()) + 1
        self.n_delayed_entry = int((start[first] > start[first].min()).sum()) if self.start else 0

    def fit(
        self, *, conf_type: str = "log", alpha: float = 0.05, se: bool = True, p0_variance: bool = True
    ) -> MultiStateResults:
        """Estimate the state-occupation probabilities.

        Parameters
        ----------
        conf_type : {"log", "log-log", "plain"}, default="log"
            Scale of the pointwise intervals (R's default for multi-state curves is ``"log"``).
        alpha : float, default=0.05
            One minus the confidence level.
        se : bool, default=True
            Compute infinitesimal-jackknife standard errors.
        p0_variance : bool, default=True
            Include the sampling variability of the starting distribution when
            persons start in different states (R ``survfit(..., influence = TRUE)``).
            ``False`` treats ``p0`` as known, which is what R reports by default.

        Returns
        -------
        MultiStateResults
        """
        z = check_fit(f"{_WHERE}.fit", conf_type, alpha)
        S = len(self.states)
        frames, p0s = [], {}
        for g, lab in enumerate(self.group_labels):
            sel = np.flatnonzero(self._group == g)
            pid, uniq = pd.factorize(self._pid[sel])
            pid = pid.astype(np.int64)
            start, stop, frm, to, w = (
                a[sel] for a in (self._start, self._stop, self._frm, self._to, self._w)
            )
            p0, i0 = core.initial_distribution(start, stop, frm, to >= 0, w, pid, len(uniq), S)
            if not p0_variance:
                i0[:] = 0.0
            fit = core.aalen_johansen_ms(start, stop, pid, frm, to, w, S, p0, i0, se=se)
            p0s[lab] = p0
            frames.append(self._table(fit, start, stop, frm, to, self._last[sel], p0, lab, z, conf_type))
        table = pd.concat(frames, ignore_index=True)
        return MultiStateResults(self, table, p0s, conf_type, alpha, p0_variance)

    def _table(
        self,
        fit: core.MSFit,
        start: np.ndarray,
        stop: np.ndarray,
        frm: np.ndarray,
        to: np.ndarray,
        last: np.ndarray,
        p0: np.ndarray,
        lab: Any,
        z: float,
        conf_type: str,
    ) -> pd.DataFrame:
        S = len(self.states)
        cens = last & (to < 0)
        grid = np.unique(np.concatenate([stop[to >= 0], stop[last]]))
        J = len(grid)
        pos = np.searchsorted(fit.time, grid, side="right") - 1
        ok = pos >= 0
        pc = np.maximum(pos, 0)
        pstate = np.where(ok[:, None], fit.pstate[pc], p0)
        var = np.where(ok[:, None], fit.var[pc], fit.var0)
        lo_ = np.searchsorted(grid, start, side="right")
        hi_ = np.searchsorted(grid, stop, side="right") - 1
        key = frm * (J + 1)
        dn = np.bincount(key + lo_, minlength=S * (J + 1)) - np.bincount(key + hi_ + 1, minlength=S * (J + 1))
        n_risk = np.cumsum(dn.reshape(S, J + 1), axis=1)[:, :J].T
        moved = (to >= 0) & (to != frm)
        n_in = np.bincount(hi_[moved] * S + to[moved], minlength=J * S).reshape(J, S)
        n_cens = np.bincount(hi_[cens], minlength=J)
        se = np.sqrt(np.clip(var, 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, up = conf_band(pstate, se / pstate, conf_type, z)
        out = pd.DataFrame(
            {
                "time": np.repeat(grid, S),
                "state": np.tile(np.asarray(self.states, dtype=object), J),
                "n_risk": n_risk.ravel(),
                "n_event": n_in.ravel(),
                "n_censor": np.repeat(n_cens, S),
                "pstate": pstate.ravel(),
                "std_err": se.ravel(),
                "lower": lo.ravel(),
                "upper": up.ravel(),
            }
        )
        if self.group is not None:
            out.insert(0, self.group, lab)
        return out


class MultiStateResults(ReadOnlyMixin):
    """Results of :class:`MultiStateAalenJohansen` (read-only).

    Attributes
    ----------
    state_probabilities : DataFrame
        Long table ``[group], time, state, n_risk, n_event, n_censor, pstate,
        std_err, lower, upper`` at every transition and censoring time
        (``n_risk``: rows at risk in the state just before ``time``;
        ``n_event``: transitions into the state at ``time``; unweighted counts).
    initial_probabilities : DataFrame
        Starting distribution ``p0`` per group (one column per state).
    states : list
        States in the order used.
    conf_type : str
    alpha : float
    p0_variance : bool
    n_persons, n_rows, n_dropped : int
    """

    def __init__(
        self,
        model: MultiStateAalenJohansen,
        table: pd.DataFrame,
        p0: dict,
        conf_type: str,
        alpha: float,
        p0_variance: bool,
    ) -> None:
        self.model = model
        self._table = table
        self.states = list(model.states)
        self.initial_probabilities = pd.DataFrame(
            [p0[g] for g in model.group_labels],
            columns=pd.Index(self.states, name="state"),
            index=pd.Index(
                ["all" if g is None else g for g in model.group_labels], name=model.group or "group"
            ),
        )
        self.conf_type, self.alpha, self.p0_variance = conf_type, alpha, p0_variance
        self.n_persons, self.n_rows, self.n_dropped = model.n_persons, model.n_rows, model.n_dropped
        self._freeze()

    @property
    def state_probabilities(self) -> pd.DataFrame:
        """State-occupation table (a copy)."""
        return self._table.copy()

    def _by_group(self) -> list[tuple[Any, pd.DataFrame]]:
        g = self.model.group
        if g is None:
            return [(None, self._table)]
        return [(lab, self._table[self._table[g] == lab]) for lab in self.model.group_labels]

    def prob_at(self, times: Sequence[float], column: str = "pstate") -> pd.DataFrame:
        """State-occupation probabilities (or ``column``, e.g. ``"std_err"``) at arbitrary times.

        Parameters
        ----------
        times : sequence of float
            Time points; before the first time the starting distribution is
            returned (standard error 0), after a group's last time NaN.
        column : {"pstate", "std_err", "lower", "upper"}, default="pstate"
            Quantity to look up.

        Returns
        -------
        DataFrame
            Index ``time``; one column per state (``(group, state)`` with groups).
        """
        if column not in ("pstate", "std_err", "lower", "upper"):
            raise SpecificationError(
                "The 'column' parameter of MultiStateResults.prob_at must be a str among "
                f"{{'pstate', 'std_err', 'lower', 'upper'}}. Got {column!r} instead."
            )
        at = np.asarray(times, dtype=float).ravel()
        out = {}
        for lab, tab in self._by_group():
            wide = tab.pivot(index="time", columns="state", values=column)[self.states]
            t = wide.index.to_numpy()
            pos = np.searchsorted(t, at, side="right") - 1
            p0 = self.initial_probabilities.loc["all" if lab is None else lab]
            before = p0.to_numpy() if column in ("pstate", "lower", "upper") else np.zeros(len(self.states))
            vals = np.where((pos >= 0)[:, None], wide.to_numpy()[np.maximum(pos, 0)], before)
            vals[at > t.max()] = np.nan
            for k, s in enumerate(self.states):
                out[s if lab is None else (lab, s)] = vals[:, k]
        res = pd.DataFrame(out, index=pd.Index(at, name="time"))
        res.columns.name = "state" if self.model.group is None else None
        return res

    def summary(self) -> Summary:
        """Summary: transitions into each state and its probability at the last time, per group."""
        rows = []
        for lab, tab in self._by_group():
            t_last = tab["time"].max()
            end = tab[tab["time"] == t_last].set_index("state")
            for s in self.states:
                rows.append(
                    {
                        "group": "all" if lab is None else lab,
                        "state": s,
                        "n_entered": int(tab.loc[tab["state"] == s, "n_event"].sum()),
                        "last_time": t_last,
                        "pstate": end.loc[s, "pstate"],
                        "std_err": end.loc[s, "std_err"],
                    }
                )
        tbl = pd.DataFrame(rows).set_index(["group", "state"])
        notes = [
            "Aalen-Johansen estimator of state-occupation probabilities from (start, stop] rows (a row is at "
            "risk at t when start < t <= stop); infinitesimal-jackknife standard errors over persons (as R "
            f"survfit(..., id =)); {100 * (1 - self.alpha):g}% pointwise intervals on the "
            f"{self.conf_type} scale.",
        ]
        m = self.model
        if (self.initial_probabilities.to_numpy() < 1).all(axis=1).any():
            notes.append(
                "Persons start in different states; the standard errors "
                + ("include" if self.p0_variance else "ignore")
                + " the sampling variability of the starting distribution."
            )
        if m.n_delayed_entry:
            notes.append(
                f"{m.n_delayed_entry:,} persons enter after the earliest entry time (left truncation)."
            )
        if m.weights:
            notes.append(f"Person weights from column {m.weights!r}; counts are unweighted.")
        notes.append(
            f"{m.n_dropped:,} rows dropped for missing values." if m.n_dropped else "No rows dropped."
        )
        return Summary(
            "Multi-state Aalen-Johansen state occupation",
            header=[("No. persons", self.n_persons), ("No. rows", self.n_rows), ("States", len(self.states))],
            tables=[tbl],
            footnotes=notes,
        )

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return f"<MultiStateResults: {len(self.states)} states, {self.n_persons:,} persons>"

    def plot(
        self, ax: Any = None, *, kind: str = "stacked", ci: bool = True, group: Any = None, **kwargs: Any
    ) -> Any:
        """Plot state-occupation probabilities.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        kind : {"stacked", "lines"}, default="stacked"
            Stacked areas (the probabilities add up to one) or one step line per
            state with pointwise bands (``ci``).
        ci : bool, default=True
            Shade the confidence bands (``kind="lines"`` only).
        group : object, optional
            Group to draw (default: the first group).
        **kwargs
            Passed to ``Axes.stackplot`` or ``Axes.step``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if kind not in ("stacked", "lines"):
            raise SpecificationError(
                f"The 'kind' parameter of MultiStateResults.plot must be a str among {{'stacked', 'lines'}}. "
                f"Got {kind!r} instead."
            )
        groups = dict(self._by_group())
        lab = self.model.group_labels[0] if group is None else group
        if lab not in groups:
            raise SpecificationError(f"MultiStateResults.plot: group {lab!r} not among {list(groups)}.")
        tab = groups[lab]
        wide = tab.pivot(index="time", columns="state", values="pstate")[self.states]
        p0 = self.initial_probabilities.loc["all" if lab is None else lab].to_numpy()
        t0 = float(self.model._start.min()) if self.model.start else 0.0
        t = np.r_[t0, wide.index.to_numpy()]
        vals = np.vstack([p0, wide.to_numpy()])
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if kind == "stacked":
            ax.stackplot(t, vals.T, labels=[str(s) for s in self.states], step="post", **kwargs)
            ax.set_ylim(0, 1)
        else:
            for k, s in enumerate(self.states):
                (line,) = ax.step(t, vals[:, k], where="post", label=str(s), **kwargs)
                if ci:
                    sub = tab[tab["state"] == s]
                    ax.fill_between(
                        t,
                        np.r_[p0[k], sub["lower"].to_numpy()],
                        np.r_[p0[k], sub["upper"].to_numpy()],
                        step="post",
                        alpha=0.2,
                        color=line.get_color(),
                        linewidth=0,
                    )
        ax.set_xlabel(f"Time ({self.model.stop})")
        ax.set_ylabel("Probability of being in state")
        title = "State occupation (Aalen-Johansen)"
        ax.set_title(title if lab is None else f"{title}: {self.model.group}={lab}")
        ax.legend(loc="best", fontsize=8)
        return ax


def _eq(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
