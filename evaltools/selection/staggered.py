"""Staggered-adoption difference-in-differences (Callaway and Sant'Anna 2021).

When units (municipalities, jobcentres, persons) adopt a reform at different
times and its effect differs across adoption cohorts or grows with exposure,
the two-way fixed-effects regressions of :mod:`evaltools.selection.panel`
average effects with weights that can be negative and use already-treated
units as controls (Goodman-Bacon 2021; Sun and Abraham 2021).  Callaway and
Sant'Anna instead estimate every *group-time* average treatment effect
ATT(g, t), the effect in period t for the cohort first treated in period g, by
a two-period DiD against never-treated or not-yet-treated units, and then
aggregate the ATT(g, t) into an event study, cohort effects, calendar-time
effects or one overall effect.

This module reproduces R ``did`` (``att_gt`` and ``aggte``) for balanced panels:
the 2x2 estimators are the doubly robust, normalised IPW and outcome-regression
panel estimators of Sant'Anna and Zhao (2020) (R ``DRDID``), standard errors
come from the influence functions (one per unit, so they are clustered by
unit), and simultaneous confidence bands come from the multiplier bootstrap
with Rademacher weights and a sup-t critical value, as in ``did``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._model.design import Design as CovariateDesign
from evaltools._validation import check_columns, check_kwargs, check_option, format_examples, raise_for_rows
from evaltools.exceptions import (
    DataValidationError,
    DroppedRowsWarning,
    EvaltoolsWarning,
    MissingValueWarning,
    SpecificationError,
)
from evaltools.selection._staggered_core import Design, estimate_cells
from evaltools.selection._staggered_results import StaggeredDiDResults

__all__ = ["StaggeredDiD"]

_W = "StaggeredDiD"
_ESTIMATORS = ("dr", "ipw", "reg")
_CONTROLS = ("never_treated", "not_yet_treated")
_BASES = ("varying", "universal")


class StaggeredDiD:
    """Group-time average treatment effects under staggered adoption (Callaway and Sant'Anna 2021).

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period (not modified).
    outcome : str
        Outcome column (numeric).
    unit : str
        Unit identifier (e.g. ``"municipality"``); standard errors are clustered on it.
    time : str
        Period column, numeric and increasing in calendar time (e.g. a year or the
        ``t`` index made by :func:`~evaltools.selection.indicator_panel`).
    group : str
        First period in which the unit is treated, in the units of ``time``; 0, NaN
        or +inf for never-treated units.  Must be constant within a unit.  Units first
        treated after the last period count as never treated; units treated in the
        first period are dropped with a warning (no pre-period).
    covariates : str or sequence of str, optional
        Pre-treatment covariates for conditional parallel trends: a formula right-hand
        side in formulaic syntax (``"lpop + I(lpop**2)"``) or a list of column names.
        Each 2x2 comparison uses the covariate values of its earlier period.  An
        intercept is always included.
    control_group : {"never_treated", "not_yet_treated"}, default="never_treated"
        Comparison units: never treated, or never treated plus units first treated
        after ``max(t, base period) + anticipation``.
    estimator : {"dr", "ipw", "reg"}, default="dr"
        Doubly robust (Sant'Anna and Zhao 2020, R ``did``'s default), normalised inverse
        probability weighting (Abadie 2005) or outcome regression (Heckman, Ichimura and
        Todd 1997).
    base_period : {"varying", "universal"}, default="varying"
        Pre-treatment cells compare consecutive periods (``"varying"``) or every cell
        is compared with period ``g - anticipation - 1`` (``"universal"``, whose own cell
        is reported as 0).  Post-treatment cells always use ``g - anticipation - 1``.
    anticipation : int or float, default=0
        Number of periods before ``g`` in which units may already react.
    weights : str, optional
        Time-invariant sampling weights (constant within unit).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evaltools.selection import StaggeredDiD
    >>> rng = np.random.default_rng(0)
    >>> n, T = 300, 5
    >>> g = rng.choice([0, 3, 4], size=n)
    >>> d = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
    ...                   "g": np.repeat(g, T)})
    >>> d["y"] = rng.normal(size=len(d)) + 0.5 * ((d["g"] > 0) & (d["t"] >= d["g"]))
    >>> res = StaggeredDiD(d, outcome="y", unit="unit", time="t", group="g").fit(n_boot=199, seed=1)
    >>> es = res.aggregate("dynamic")
    >>> bool(abs(es.overall_att - 0.5) < 3 * es.overall_se)  # true effect 0.5
    True
    >>> es.conf_int(band="uniform").shape  # simultaneous band over event times -2..2
    (5, 2)
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        unit: str,
        time: str,
        group: str,
        covariates: str | Sequence[str] | None = None,
        control_group: str = "never_treated",
        estimator: str = "dr",
        base_period: str = "varying",
        anticipation: float = 0,
        weights: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_kwargs({k: v for k, v in kwargs.items() if k != "_design"}, [], _W)
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{_W}: 'data' must be a pandas DataFrame; got {type(data).__name__}.")
        self.control_group = check_option("control_group", control_group, _CONTROLS, _W)
        self.estimator = check_option("estimator", estimator, _ESTIMATORS, _W)
        self.base_period = check_option("base_period", base_period, _BASES, _W)
        is_scalar = bool(np.isscalar(anticipation))
        if not is_scalar or not np.isfinite(anticipation) or anticipation < 0:
            raise SpecificationError(
                f"The 'anticipation' parameter of {_W} must be a number >= 0. Got {anticipation!r} instead."
            )
        self.anticipation = float(anticipation)
        for name, col in (("outcome", outcome), ("unit", unit), ("time", time), ("group", group)):
            if not isinstance(col, str):
                raise SpecificationError(f"{_W}: {name!r} must be a column name; got {col!r}.")
        self.outcome, self.unit, self.time, self.group, self.weights = outcome, unit, time, group, weights
        cols = [outcome, unit, time, group] + ([weights] if weights is not None else [])
        check_columns(data, cols, _W)
        if len(set(cols)) != len(cols):
            raise SpecificationError(
                f"{_W}: outcome, unit, time, group and weights must be different columns; got {cols}."
            )
        design_x = kwargs.get("_design")
        self.covariates = covariates
        if design_x is None:
            design_x = _covariate_matrix(data, covariates)
        self.covariate_names = [c for c in design_x.columns if c != "Intercept"]
        self.counts: dict[str, int] = {}
        self._prepare(data, design_x)

    # ------------------------------------------------------------------
    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, **kwargs: Any) -> StaggeredDiD:
        """Build the model from ``"outcome ~ covariates"`` (formulaic syntax; ``"y ~ 1"`` for none).

        Parameters
        ----------
        formula : str
            E.g. ``"lemp ~ lpop"``.
        data : DataFrame
            Long panel.
        **kwargs
            ``unit``, ``time``, ``group`` and the options of :class:`StaggeredDiD`.

        Returns
        -------
        StaggeredDiD

        Examples
        --------
        >>> # StaggeredDiD.from_formula("lemp ~ lpop", mpdta, unit="countyreal", time="year",
        >>> #                           group="first.treat")
        """
        if not isinstance(formula, str) or formula.count("~") != 1 or not formula.split("~")[0].strip():
            raise SpecificationError(
                f"{_W}.from_formula: the formula must look like 'y ~ x1 + x2' (or 'y ~ 1'); got {formula!r}."
            )
        lhs, rhs = (s.strip() for s in formula.split("~"))
        if "outcome" in kwargs or "covariates" in kwargs:
            raise SpecificationError(
                f"{_W}.from_formula: give the outcome and covariates in the formula, not as keywords."
            )
        return cls(data, outcome=lhs, covariates=rhs, **kwargs)

    # ------------------------------------------------------------------
    def _prepare(self, data: pd.DataFrame, x_df: pd.DataFrame) -> None:
        u, tcol, gcol, ycol = self.unit, self.time, self.group, self.outcome
        for c in (ycol, tcol) + ((self.weights,) if self.weights else ()):
            if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
                raise DataValidationError(
                    f"{_W}: column {c!r} has dtype {data[c].dtype}; it must be numeric."
                )
        if not pd.api.types.is_numeric_dtype(data[gcol]):
            raise DataValidationError(
                f"{_W}: column {gcol!r} (group = first treated period) has dtype "
                f"{data[gcol].dtype}; it must be numeric, with 0 or NaN for never treated."
            )
        frame = pd.DataFrame(
            {
                "_u": data[u].to_numpy(),
                "_t": data[tcol].to_numpy(dtype=float),
                "_y": data[ycol].to_numpy(dtype=float),
                "_g": data[gcol].to_numpy(dtype=float),
            },
            index=data.index,
        )
        frame["_w"] = data[self.weights].to_numpy(dtype=float) if self.weights else 1.0
        g = frame["_g"].to_numpy()
        frame["_g"] = np.where(np.isnan(g) | np.isinf(g) | (g == 0), 0.0, g)
        xa = x_df.to_numpy(dtype=float)
        self.counts["rows"] = len(frame)
        miss = frame[["_u", "_t", "_y", "_w"]].isna().any(axis=1).to_numpy() | np.isnan(xa).any(axis=1)
        if miss.any():
            warnings.warn(
                f"{_W}: dropped {int(miss.sum()):,} of {len(frame):,} rows with missing values in "
                f"the outcome, unit, time, weights or covariates.",
                MissingValueWarning,
                stacklevel=3,
            )
        self.counts["rows_missing"] = int(miss.sum())
        frame, xa = frame.loc[~miss], xa[~miss]
        if frame.empty:
            raise DataValidationError(f"{_W}: no complete rows left.")
        raise_for_rows(
            frame.rename(columns={"_u": u, "_t": tcol}),
            frame.duplicated(["_u", "_t"], keep=False),
            rule=f"each ({u}, {tcol}) pair must occur once",
            columns=[u, tcol],
            fix="Aggregate to one row per unit and period first.",
        )
        if (frame["_w"] < 0).any():
            raise_for_rows(
                frame.rename(columns={"_u": u, "_t": tcol}),
                frame["_w"] < 0,
                rule=f"weights {self.weights!r} must be non-negative",
                columns=[u, tcol],
                fix="Pass non-negative sampling weights.",
            )
        for c, name in (("_g", gcol), ("_w", self.weights or "weights")):
            nun = frame.groupby("_u", sort=False)[c].nunique()
            bad = nun.index[nun > 1]
            if len(bad):
                ex = ", ".join(map(str, bad[:3]))
                raise DataValidationError(
                    f"{_W}: column {name!r} must be constant within each {u}; "
                    f"{len(bad):,} units vary ({u}={ex}{', ...' if len(bad) > 3 else ''}). "
                    f"Use the unit's first treatment period / a time-invariant weight."
                )
        times = np.sort(frame["_t"].unique())
        if (frame["_g"] == 0).any() and times.min() <= 0:
            raise DataValidationError(
                f"{_W}: group 0 means never treated, but {tcol!r} has values <= 0 "
                f"(min {times.min():g}). Shift the periods to start at 1 or code "
                f"never-treated units as NaN."
            )
        late = frame["_g"] > times.max()
        self.counts["units_treated_after_window"] = int(frame.loc[late, "_u"].nunique())
        frame.loc[late, "_g"] = 0.0
        glist = np.sort(frame["_g"].unique())
        if not (glist == 0).any():
            if self.control_group == "never_treated":
                raise DataValidationError(
                    f"{_W}: there are no never-treated units (group 0/NaN); use "
                    "control_group='not_yet_treated'."
                )
            keep_t = frame["_t"] < glist.max() - self.anticipation
            self.counts["rows_after_last_cohort"] = int((~keep_t).sum())
            if (~keep_t).any():
                warnings.warn(
                    f"{_W}: no never-treated units; dropped {int((~keep_t).sum()):,} rows from "
                    f"period {glist.max() - self.anticipation:g} on (the last cohort, first treated "
                    f"in {glist.max():g}, serves only as comparison).",
                    DroppedRowsWarning,
                    stacklevel=3,
                )
            frame, xa = frame.loc[keep_t.to_numpy()], xa[keep_t.to_numpy()]
            times = np.sort(frame["_t"].unique())
            glist = glist[glist < glist.max()]
        glist = glist[glist > 0]
        first = times[0]
        glist = glist[glist > first + self.anticipation]
        early = (frame["_g"] > 0) & (frame["_g"] <= first)
        self.counts["units_treated_first_period"] = int(frame.loc[early, "_u"].nunique())
        if early.any():
            warnings.warn(
                f"{_W}: dropped {frame.loc[early, '_u'].nunique():,} units already treated in the "
                f"first period {first:g} (no pre-treatment period).",
                DroppedRowsWarning,
                stacklevel=3,
            )
            keep = frame["_g"].isin(np.r_[0.0, glist]).to_numpy()
            frame, xa = frame.loc[keep], xa[keep]
            times = np.sort(frame["_t"].unique())
            glist = glist[glist > times[0] + self.anticipation]
        # balanced panel
        n_per = frame.groupby("_u", sort=False)["_t"].transform("size").to_numpy()
        unbalanced = n_per < len(times)
        self.counts["units_unbalanced"] = int(frame.loc[unbalanced, "_u"].nunique())
        if unbalanced.any():
            ex = format_examples(frame.rename(columns={"_u": u}), unbalanced, [u], 3)
            warnings.warn(
                f"{_W}: dropped {self.counts['units_unbalanced']:,} units ({int(unbalanced.sum()):,} "
                f"rows) not observed in all {len(times)} periods, to make the panel balanced ({ex}).",
                DroppedRowsWarning,
                stacklevel=3,
            )
            frame, xa = frame.loc[~unbalanced], xa[~unbalanced]
        if len(glist) == 0:
            raise DataValidationError(
                f"{_W}: no treated cohort with a pre-treatment period. Column {gcol!r} must "
                f"hold the first treated period (0/NaN if never treated); periods are "
                f"{times.min():g}..{times.max():g}."
            )
        if len(times) < 2:
            raise DataValidationError(f"{_W}: at least two periods are needed; got {len(times)}.")
        order = np.lexsort((frame["_t"].to_numpy(), pd.factorize(frame["_u"], sort=True)[0]))
        frame, xa = frame.iloc[order], xa[order]
        n_units = frame["_u"].nunique()
        n_t = len(times)
        y = frame["_y"].to_numpy().reshape(n_units, n_t)
        x = xa.reshape(n_units, n_t, xa.shape[1])
        first_rows = frame.iloc[::n_t]
        self._units = first_rows["_u"].to_numpy()
        g_unit = first_rows["_g"].to_numpy()
        present = np.r_[0.0, glist] if (g_unit == 0).any() else np.asarray(glist, dtype=float)
        sizes = {float(gv): int((g_unit == gv).sum()) for gv in present}
        small = [gv for gv, s in sizes.items() if s < len(self.covariate_names) + 5]
        if small:
            warnings.warn(
                f"{_W}: small groups (fewer than {len(self.covariate_names) + 5} units): "
                f"{', '.join(f'{gv:g} ({sizes[gv]})' for gv in small)}.",
                EvaltoolsWarning,
                stacklevel=3,
            )
        if self.control_group == "never_treated" and not (g_unit == 0).any():
            raise DataValidationError(
                f"{_W}: no never-treated units left after the checks above; use "
                "control_group='not_yet_treated'."
            )
        self._design = Design(
            y=y,
            x=x,
            w=first_rows["_w"].to_numpy(),
            g=g_unit,
            times=times,
            groups=np.asarray(glist, dtype=float),
        )
        self.counts["units"] = int(n_units)
        self.counts["periods"] = int(n_t)
        self.group_sizes = sizes

    @property
    def nobs(self) -> int:
        """Number of units in the balanced panel."""
        return int(self._design.y.shape[0])

    def fit(
        self, *, n_boot: int = 999, seed: int | None = None, max_iter: int = 25, tol: float = 1e-8
    ) -> StaggeredDiDResults:
        """Estimate every ATT(g, t) and return :class:`StaggeredDiDResults` (the model is not modified).

        Parameters
        ----------
        n_boot : int, default=999
            Multiplier-bootstrap draws (Rademacher weights) for simultaneous confidence
            bands; 0 skips the bootstrap (pointwise analytic intervals only).
        seed : int, optional
            Seed of the bootstrap multipliers (also used by :meth:`StaggeredDiDResults.aggregate`).
        max_iter : int, default=25
            Maximum IRLS iterations of each propensity logit (R ``glm`` default).
        tol : float, default=1e-8
            Relative deviance change at which the logit stops (R ``glm`` default).

        Returns
        -------
        StaggeredDiDResults
        """
        if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
            raise SpecificationError(
                f"The 'n_boot' parameter of {_W}.fit must be an int >= 0. Got {n_boot!r}."
            )
        if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
            raise SpecificationError(
                f"The 'max_iter' parameter of {_W}.fit must be an int >= 1. Got {max_iter!r}."
            )
        if not (isinstance(tol, float) and tol > 0):
            raise SpecificationError(f"The 'tol' parameter of {_W}.fit must be a float > 0. Got {tol!r}.")
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        elif not isinstance(seed, (int, np.integer)):
            raise SpecificationError(
                f"The 'seed' parameter of {_W}.fit must be an int or None. Got {seed!r}."
            )
        cells = estimate_cells(
            self._design,
            method=self.estimator,
            control_group="never" if self.control_group == "never_treated" else "not_yet",
            base_period=self.base_period,
            anticipation=self.anticipation,
            max_iter=int(max_iter),
            tol=float(tol),
        )
        return StaggeredDiDResults(self, cells, n_boot=int(n_boot), seed=int(seed))


def _covariate_matrix(data: pd.DataFrame, covariates: str | Sequence[str] | None) -> pd.DataFrame:
    """Design matrix of the covariates with an intercept column named ``Intercept``.

    ``NaN`` in the rows with a missing covariate (a missing category included).
    """
    if covariates is None:
        return pd.DataFrame({"Intercept": np.ones(len(data))}, index=data.index)
    if isinstance(covariates, str):
        rhs = covariates.split("~", 1)[1] if "~" in covariates else covariates
    elif isinstance(covariates, Sequence) and all(isinstance(c, str) for c in covariates):
        check_columns(data, list(covariates), _W, "covariates")
        rhs = " + ".join(f"`{c}`" for c in covariates) if covariates else "1"
    else:
        raise SpecificationError(
            f"{_W}: 'covariates' must be a formula right-hand side or a list of column "
            f"names; got {covariates!r}."
        )
    _, design = CovariateDesign.from_formula(data, "~ " + rhs, _W, intercept=True)
    x = design.frame()
    if "Intercept" not in x.columns:
        x.insert(0, "Intercept", 1.0)
    else:
        x = x[["Intercept"] + [c for c in x.columns if c != "Intercept"]]
    return x
