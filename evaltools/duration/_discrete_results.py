"""Results objects of :mod:`evaltools.duration.discrete`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.duration import _discrete_core as core
from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import EstimationResults

if TYPE_CHECKING:  # pragma: no cover
    from evaltools.duration.discrete import DiscreteHazard, MultinomialHazard

__all__ = [
    "DiscreteHazardResults",
    "MultinomialHazardResults",
    "build_binomial_results",
    "build_multinomial_results",
]


def _profile_matrix(model: DiscreteHazard, exog: Any) -> tuple[np.ndarray, pd.Index]:
    """Covariate rows for prediction (zeros = the reference profile when ``exog`` is None)."""
    p = len(model.exog_names)
    if exog is None:
        return np.zeros((1, p)), pd.Index(["reference"], name="profile")
    if isinstance(exog, dict):
        exog = pd.DataFrame([exog])
    if isinstance(exog, pd.Series):
        exog = exog.to_frame().T
    if isinstance(exog, pd.DataFrame):
        design = getattr(model, "_formula_design", None)
        if design is not None:
            frame = design.transform_frame(exog, "predict")
        else:
            missing = [c for c in model.exog_names if c not in exog.columns]
            if missing:
                raise SpecificationError(f"predict: covariate column(s) {missing} are missing from exog.")
            frame = exog[model.exog_names]
        frame = frame.reindex(columns=model.exog_names, fill_value=0.0)
        return frame.to_numpy(dtype=float), pd.Index(exog.index, name="profile")
    X = np.atleast_2d(np.asarray(exog, dtype=float))
    if X.shape[1] != p:
        raise SpecificationError(
            f"predict: exog must have {p} columns ({model.exog_names}); got {X.shape[1]}."
        )
    return X, pd.RangeIndex(X.shape[0], name="profile")


def _durations(model: DiscreteHazard, durations: Any) -> np.ndarray:
    if durations is None:
        return np.arange(1, int(model._dur.max()) + 1)
    t = np.asarray(durations, dtype=float).ravel()
    if np.any(t < 1) or np.any(t != np.round(t)):
        raise SpecificationError("predict: durations must be positive integer periods.")
    return t.astype(np.int64)


def _footnotes(
    model: DiscreteHazard,
    *,
    collapsed: bool,
    n_cells: int,
    cov_type: str,
    cluster: str | None,
    n_clusters: int | None,
    link: str,
) -> list[str]:
    what = {
        "logit": "logit link (proportional odds of exit per period)",
        "cloglog": "complementary log-log link (grouped-time proportional hazards)",
        "mlogit": "multinomial logit over exit types (no exit = reference)",
    }[link]
    base = {
        "week": f"one parameter per observed period of {model.duration!r} ({len(model.baseline_names)})",
        "bands": f"one parameter per duration band ({len(model.baseline_names)}; upper bounds {model.bands})",
        "none": "a single intercept (constant hazard)",
    }[model.baseline]
    notes = [
        f"Discrete-time hazard, {what}; baseline: {base}. Exits are grouped by period, so tied exit times "
        "need no correction: the likelihood is exact for grouped (period) data.",
    ]
    n_empty = int(getattr(model, "n_empty_bands", 0))
    if model.baseline == "bands" and n_empty:
        notes.append(f"{n_empty} band(s) without person-periods have no parameter.")
    if collapsed:
        notes.append(
            f"Estimated on {n_cells:,} cells (baseline period x covariate pattern"
            f"{' x cluster' if cluster else ''}) collapsed from {model.nobs:,} person-periods; "
            "estimates and standard errors are identical to the row-level fit."
        )
    if cov_type == "cluster":
        notes.append(
            f"Standard errors clustered on {cluster!r} ({n_clusters:,} clusters; sandwich with "
            "G/(G-1) correction)."
        )
    else:
        notes.append("Standard errors from the inverse expected (Fisher) information.")
    notes.append(
        f"{model.n_dropped:,} rows dropped for missing values." if model.n_dropped else "No rows dropped."
    )
    return notes


class DiscreteHazardResults(EstimationResults):
    """Results of :class:`~evaltools.duration.discrete.DiscreteHazard` (read-only).

    Attributes
    ----------
    params, bse, tvalues, pvalues : Series
        Baseline parameters (``duration[...]`` or ``Intercept``) then covariate
        effects (log odds ratios for logit, log hazard ratios for cloglog).
    llf : float
        Log-likelihood of the person-period Bernoulli model (no binomial constants).
    aic, bic : float
        Information criteria (BIC with ``n`` = person-periods).
    link, baseline, cov_type : str
        Options used.
    collapsed : bool
        Whether the fit used collapsed cells.
    n_cells : int
        Number of rows in the estimation design (cells if collapsed).
    n_events, n_persons, n_clusters, n_dropped : int or None
        Counts (``n_persons`` needs ``id``).
    converged : bool
    n_iter : int
    """

    model: DiscreteHazard
    llf: float
    aic: float
    bic: float
    link: str
    baseline: str
    cov_type: str
    collapsed: bool
    n_cells: int
    n_events: Any
    n_persons: int | None
    n_clusters: int | None
    n_dropped: int
    converged: bool
    n_iter: int

    def _linear(self, X: np.ndarray, periods: np.ndarray, cause: int = 0) -> tuple[np.ndarray, np.ndarray]:
        m = self.model
        B = len(m.baseline_names)
        q = B + len(m.exog_names)
        theta = self.params.to_numpy().reshape(-1, q)[cause]
        g = m.group_of(periods)
        alpha = np.where(g >= 0, theta[:B][np.clip(g, 0, None)], np.nan)
        return alpha[:, None] + (X @ theta[B:])[None, :], g

    def predict_hazard(self, exog: Any = None, durations: Any = None) -> pd.DataFrame:
        """Predicted exit probability per period for covariate profiles.

        Parameters
        ----------
        exog : DataFrame, dict or array, optional
            Covariate profiles (raw variables if the model came from a formula);
            default: all covariates zero.
        durations : sequence of int, optional
            Periods (default ``1 .. max observed``); NaN for periods without a baseline parameter.

        Returns
        -------
        DataFrame
            Index ``duration``, one column per profile.
        """
        X, idx = _profile_matrix(self.model, exog)
        t = _durations(self.model, durations)
        eta, _ = self._linear(X, t)
        return pd.DataFrame(core.link_mean(eta, self.link), index=pd.Index(t, name="duration"), columns=idx)

    def predict_survival(self, exog: Any = None, durations: Any = None) -> pd.DataFrame:
        """Probability of no exit up to and including each period, ``prod_{s <= t} (1 - h_s)``.

        Parameters
        ----------
        exog : DataFrame, dict or array, optional
            Covariate profiles (default: all zero).
        durations : sequence of int, optional
            Periods (default ``1 .. max observed``).

        Returns
        -------
        DataFrame
            Index ``duration``, one column per profile.
        """
        t = _durations(self.model, durations)
        full = np.arange(1, int(t.max()) + 1)
        h = self.predict_hazard(exog, full)
        return (1.0 - h).cumprod(axis=0).loc[t]

    def plot(
        self, ax: Any = None, *, exog: Any = None, ci: bool = True, alpha: float = 0.05,
        title: str | None = None, **kwargs: Any
    ) -> Any:
        """Plot the baseline hazard by period (at the reference or a given profile).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on.
        exog : dict or one-row DataFrame, optional
            Covariate profile (default: all covariates zero).
        ci : bool, default=True
            Pointwise interval for the baseline parameter (covariate effects held fixed).
        alpha : float, default=0.05
            One minus the confidence level.
        title : str, optional
            Axes title (default: the model and the profile); ``""`` for none.
        **kwargs
            Passed to ``Axes.step``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.2))
        if title is None:
            title = (f"Discrete-time hazard ({self.link}), "
                     + ("all covariates zero" if exog is None else "covariate profile given"))
        if title:
            ax.set_title(title)
        X, _ = _profile_matrix(self.model, exog)
        t = _durations(self.model, None)
        eta, g = self._linear(X[:1], t)
        (line,) = ax.step(t, core.link_mean(eta[:, 0], self.link), where="mid", **kwargs)
        if ci:
            z = stats.norm.ppf(1 - alpha / 2)
            se = np.where(g >= 0, self.bse.to_numpy()[np.clip(g, 0, None)], np.nan)
            lo, hi = (
                core.link_mean(eta[:, 0] - z * se, self.link),
                core.link_mean(eta[:, 0] + z * se, self.link),
            )
            ax.fill_between(t, lo, hi, step="mid", alpha=0.2, color=line.get_color(), linewidth=0)
        ax.set_xlabel(f"Period ({self.model.duration})")
        ax.set_ylabel("Hazard (exit probability per period)")
        return ax


def _common_extra(
    model: DiscreteHazard,
    fit: core.Fit,
    d: core.Design,
    *,
    collapsed: bool,
    cov_type: str,
    cluster: str | None,
    n_clusters: int | None,
) -> dict[str, Any]:
    k = len(fit.params)
    n = model.nobs
    return {
        "llf": fit.llf,
        "aic": -2 * fit.llf + 2 * k,
        "bic": -2 * fit.llf + np.log(n) * k,
        "baseline": model.baseline,
        "collapsed": bool(collapsed),
        "n_cells": int(len(d.g)),
        "n_persons": model.n_persons,
        "n_clusters": n_clusters,
        "n_dropped": model.n_dropped,
        "cov_type": cov_type,
        "converged": fit.converged,
        "n_iter": fit.n_iter,
    }


def build_binomial_results(
    model: DiscreteHazard,
    fit: core.Fit,
    cov: np.ndarray,
    d: core.Design,
    *,
    collapsed: bool,
    cov_type: str,
    cluster: str | None,
    n_clusters: int | None,
) -> DiscreteHazardResults:
    """Assemble :class:`DiscreteHazardResults` from a binomial fit."""
    names = model.baseline_names + model.exog_names
    extra = _common_extra(
        model, fit, d, collapsed=collapsed, cov_type=cov_type, cluster=cluster, n_clusters=n_clusters
    )
    extra.update(link=model.link, n_events=int(d.events.sum()))
    header = [
        ("Link", model.link),
        ("Baseline", model.baseline),
        ("Events", extra["n_events"]),
        ("Log-likelihood", fit.llf),
        ("AIC", extra["aic"]),
        ("Converged", fit.converged),
    ]
    if model.n_persons is not None:
        header.insert(3, ("Persons", model.n_persons))
    return DiscreteHazardResults(
        pd.Series(fit.params, index=names),
        pd.DataFrame(cov, index=names, columns=names),
        model.nobs,
        model=model,
        title=f"Discrete-time hazard ({model.link})",
        header=header,
        footnotes=_footnotes(
            model,
            collapsed=collapsed,
            n_cells=len(d.g),
            cov_type=cov_type,
            cluster=cluster,
            n_clusters=n_clusters,
            link=model.link,
        ),
        extra=extra,
    )


class MultinomialHazardResults(DiscreteHazardResults):
    """Results of :class:`~evaltools.duration.discrete.MultinomialHazard` (read-only).

    Parameters are labelled ``"<exit type>:<name>"``, cause by cause.  Besides
    the attributes of :class:`DiscreteHazardResults`, ``causes`` lists the exit
    types and ``n_events`` is a dict of exits per type.
    """

    model: MultinomialHazard
    causes: list[Any]

    def predict_hazard(self, exog: Any = None, durations: Any = None) -> pd.DataFrame:
        """Predicted cause-specific exit probabilities per period.

        Parameters
        ----------
        exog : DataFrame, dict or array, optional
            Covariate profiles (default: all covariates zero).
        durations : sequence of int, optional
            Periods (default ``1 .. max observed``).

        Returns
        -------
        DataFrame
            Index ``duration``; columns ``(profile, exit type)``.
        """
        X, idx = _profile_matrix(self.model, exog)
        t = _durations(self.model, durations)
        etas = np.stack([self._linear(X, t, k)[0] for k in range(len(self.causes))], axis=-1)
        lse = np.logaddexp.reduce(np.concatenate([np.zeros(etas.shape[:2] + (1,)), etas], axis=-1), axis=-1)
        prob = np.exp(etas - lse[..., None]).reshape(len(t), -1)
        cols = pd.MultiIndex.from_product([idx, self.causes], names=["profile", "exit"])
        return pd.DataFrame(prob, index=pd.Index(t, name="duration"), columns=cols)

    def predict_survival(self, exog: Any = None, durations: Any = None) -> pd.DataFrame:
        """Probability of no exit of any type up to and including each period.

        Parameters
        ----------
        exog : DataFrame, dict or array, optional
            Covariate profiles.
        durations : sequence of int, optional
            Periods.

        Returns
        -------
        DataFrame
            Index ``duration``, one column per profile.
        """
        t = _durations(self.model, durations)
        h = self.predict_hazard(exog, np.arange(1, int(t.max()) + 1))
        total = h.T.groupby(level="profile", sort=False).sum().T
        return (1.0 - total).cumprod(axis=0).loc[t]

    def plot(
        self, ax: Any = None, *, exog: Any = None, ci: bool = False, alpha: float = 0.05,
        title: str | None = None, **kwargs: Any
    ) -> Any:
        """Plot cause-specific hazards by period at a profile (default all covariates zero).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on.
        exog : dict or one-row DataFrame, optional
            Covariate profile.
        ci : bool, default=False
            Not available for the multinomial model (must be False).
        alpha : float, default=0.05
            Unused (kept for a uniform signature).
        title : str, optional
            Axes title (default: the model); ``""`` for none.
        **kwargs
            Passed to ``Axes.step``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ci:
            raise SpecificationError("MultinomialHazardResults.plot: ci=True is not available; use ci=False.")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        h = self.predict_hazard(exog)
        first = h.columns.get_level_values("profile")[0]
        for cause in self.causes:
            ax.step(h.index, h[(first, cause)], where="mid", label=f"exit {cause}", **kwargs)
        ax.set_xlabel(f"Period ({self.model.duration})")
        ax.set_ylabel("Cause-specific hazard (exit probability per period)")
        ax.legend(loc="best")
        title = "Competing exits: cause-specific hazards (multinomial logit)" if title is None else title
        if title:
            ax.set_title(title)
        return ax


def build_multinomial_results(
    model: MultinomialHazard,
    fit: core.Fit,
    cov: np.ndarray,
    d: core.Design,
    *,
    collapsed: bool,
    cov_type: str,
    cluster: str | None,
    n_clusters: int | None,
) -> MultinomialHazardResults:
    """Assemble :class:`MultinomialHazardResults`."""
    base = model.baseline_names + model.exog_names
    names = [f"{c}:{n}" for c in model.causes for n in base]
    extra = _common_extra(
        model, fit, d, collapsed=collapsed, cov_type=cov_type, cluster=cluster, n_clusters=n_clusters
    )
    n_events = {c: int(d.events[:, k].sum()) for k, c in enumerate(model.causes)}
    extra.update(link="mlogit", causes=list(model.causes), n_events=n_events)
    header = [
        ("Exit types", len(model.causes)),
        ("Baseline", model.baseline),
        ("Events", sum(n_events.values())),
        ("Log-likelihood", fit.llf),
        ("AIC", extra["aic"]),
        ("Converged", fit.converged),
    ]
    return MultinomialHazardResults(
        pd.Series(fit.params, index=names),
        pd.DataFrame(cov, index=names, columns=names),
        model.nobs,
        model=model,
        title="Discrete-time competing-risks hazard (multinomial logit)",
        header=header,
        footnotes=_footnotes(
            model,
            collapsed=collapsed,
            n_cells=len(d.g),
            cov_type=cov_type,
            cluster=cluster,
            n_clusters=n_clusters,
            link="mlogit",
        ),
        extra=extra,
    )
