"""Results objects of the mixed proportional hazards / timing-of-events model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import EstimationResults, ReadOnlyMixin, deprecated_alias
from evaltools.reporting.summary import Summary

__all__ = ["MPHResults", "MPHPath"]


class MPHResults(EstimationResults):
    """Results of a mixed proportional hazards fit with a given number of mass points.

    Besides the :class:`~evaltools.reporting.results.EstimationResults`
    interface (``params``, ``bse``, ``conf_int()``, ``summary()``...), it has

    Attributes
    ----------
    masspoints : DataFrame
        One row per mass point: ``prob`` and the location ``v`` for each hazard.
    llf, aic, bic : float
        Log-likelihood, AIC and BIC (BIC with N = persons); ``loglike`` is a
        deprecated alias of ``llf``.
    n_points, n_persons, n_rows : int
        Number of mass points, persons and rows used.
    hazards : tuple of str
        Hazard (transition) names in parameter order.
    effect_params : dict
        ``{hazard: [parameter names of the treatment-effect bands]}`` (all treatments).
    effect_groups : dict
        ``{(hazard, treatment): [parameter names]}``.
    treatments : tuple of str
        Treatment labels (empty without treatment hazard).
    converged : bool
        Whether the optimiser reported convergence.
    rank : int
        Rank of the information matrix (``< len(params)`` when degenerate).
    masspoint_params : list of str
        Names of the mass-point locations and logit probabilities in ``params``.
    n_dropped_rows : int
        Rows of persons with missing values dropped before the fit.
    inference : str
        How the covariance was obtained (``cov_type`` of the fit, or the
        bootstrap / model average of :class:`MPHPath`).
    weights : Series or None
        Model-average weights of the fits on the path (model-average inference only).
    boot_params, boot_points : DataFrame, ndarray or None
        Selected replicate estimates and the number of points chosen in each
        bootstrap replicate (bootstrap inference only).
    boot_llf : DataFrame or None
        Log-likelihood of every fit on every bootstrap replicate's path
        (replicates x points; bootstrap inference only).
    """

    masspoints: pd.DataFrame
    llf: float
    aic: float
    bic: float
    n_points: int
    n_persons: int
    n_rows: int
    hazards: tuple[str, ...]
    effect_params: dict[str, list[str]]
    effect_groups: dict[tuple[str, str], list[str]]
    treatments: tuple[str, ...]
    converged: bool
    rank: int
    masspoint_params: list[str]
    n_dropped_rows: int
    inference: str
    weights: pd.Series | None = None
    boot_params: pd.DataFrame | None = None
    boot_points: np.ndarray | None = None
    boot_llf: pd.DataFrame | None = None

    loglike = deprecated_alias("llf")

    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        frame = self.to_frame(alpha)
        return [frame.drop(index=self.masspoint_params), self.masspoints]

    def effects(self, hazard: str | None = None, alpha: float = 0.05, *,
                treatment: str | None = None) -> pd.DataFrame:
        """Treatment-effect bands of one exit hazard (log hazard ratios and intervals).

        Parameters
        ----------
        hazard : str, optional
            Exit hazard name (default: the first one with effect parameters).
        alpha : float, default=0.05
            One minus the confidence level.
        treatment : str, optional
            With several treatments: the one whose bands are returned (default:
            all, indexed by ``"<treatment>[<band>]"``).

        Returns
        -------
        DataFrame
            ``to_frame`` rows of the effect parameters, indexed by band label.
        """
        if not self.effect_params:
            raise SpecificationError("This model has no treatment-effect parameters.")
        if hazard is None:
            hazard = next(iter(self.effect_params))
        if hazard not in self.effect_params:
            raise SpecificationError(
                f"The 'hazard' parameter of MPHResults.effects must be a str among "
                f"{set(self.effect_params)}. Got {hazard!r} instead."
            )
        if treatment is not None:
            if (hazard, treatment) not in self.effect_groups:
                raise SpecificationError(
                    f"The 'treatment' parameter of MPHResults.effects must be a str among "
                    f"{set(self.treatments)}. Got {treatment!r} instead.")
            names = self.effect_groups[(hazard, treatment)]
        else:
            names = self.effect_params[hazard]
        out = self.to_frame(alpha).loc[names]
        if treatment is None and len(self.treatments) > 1:
            out.index = [n.split(":", 1)[1] for n in names]
        else:
            out.index = [n.split("[", 1)[1].rstrip("]") if "[" in n else n for n in names]
        out.index.name = "effect band"
        return out

    def plot(self, ax: Any = None, *, hazard: str | None = None, alpha: float = 0.05,
             treatment: str | None = None, **kwargs: Any) -> Any:
        """Plot the treatment effect by time since treatment with confidence intervals.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        hazard : str, optional
            Exit hazard (default: the first with effect parameters).
        alpha : float, default=0.05
            One minus the confidence level.
        treatment : str, optional
            With several treatments: the one to plot (default: all).
        **kwargs
            Passed to ``Axes.errorbar``.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        eff = self.effects(hazard, alpha, treatment=treatment)
        if ax is None:
            _, ax = plt.subplots()
        x = np.arange(len(eff))
        est = eff["estimate"].to_numpy()
        yerr = np.vstack([est - eff["lower"].to_numpy(), eff["upper"].to_numpy() - est])
        kwargs.setdefault("fmt", "o")
        kwargs.setdefault("capsize", 3)
        ax.errorbar(x, est, yerr=yerr, **kwargs)
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels(list(eff.index))
        ax.set_xlabel("effect band (weeks since treatment)" if treatment is None else
                      f"effect band of {treatment!r}")
        ax.set_ylabel("treatment effect (log hazard ratio)")
        ax.set_title(f"{self.n_points}-point NPMLE, {int(round((1 - alpha) * 100))}% CI")
        return ax


class MPHPath(ReadOnlyMixin):
    """The NPMLE iteration path: one fit per number of mass points.

    Attributes
    ----------
    path : DataFrame
        One row per iteration: ``points, llf, n_params, aic, bic`` (N = persons),
        ``min_prob, converged, rank``.
    results : tuple of MPHResults
        The fits, in path order.
    stop_reason : str
        Why point addition stopped.
    inference : str
        Inference of the selected fit (``"hessian"``, ``"bootstrap"`` or
        ``"model_average"``), as given to ``fit``.
    criterion : str
        Selection criterion used by ``inference``.
    """

    results: tuple[MPHResults, ...]
    stop_reason: str
    path: pd.DataFrame
    inference: str
    criterion: str

    def __init__(self, results: list[MPHResults], stop_reason: str, *, inference: str = "hessian",
                 criterion: str = "aic", inference_options: dict[str, Any] | None = None) -> None:
        self.results = tuple(results)
        self.stop_reason = stop_reason
        self.inference = inference
        self.criterion = criterion
        self._inference_options = dict(inference_options or {})
        self._selected: MPHResults | None = None
        self.path = pd.DataFrame({
            "points": [r.n_points for r in results],
            "llf": [r.llf for r in results],
            "n_params": [len(r.params) for r in results],
            "aic": [r.aic for r in results],
            "bic": [r.bic for r in results],
            "min_prob": [float(r.masspoints["prob"].min()) for r in results],
            "converged": [r.converged for r in results],
            "rank": [r.rank for r in results],
        }).set_index("points")
        if inference == "bootstrap":
            self._selected = self.bootstrap(criterion=criterion, **self._inference_options)
        elif inference == "model_average":
            self._selected = self.model_average(criterion)
        self._freeze()

    def best(self, criterion: str = "aic", inference: str | None = None) -> MPHResults:
        """The fit chosen by ``criterion`` (``'aic'``, ``'bic'`` or ``'last'``).

        Parameters
        ----------
        criterion : {"aic", "bic", "last"}, default="aic"
            Selection of the number of mass points.
        inference : {"hessian", "bootstrap", "model_average"}, optional
            Default (``None``): the ``inference`` given to ``fit`` when
            ``criterion`` is the one used there, else ``"hessian"``.
            ``"hessian"`` returns the selected fit with its own covariance
            (the number of points treated as known); the others are computed
            here if ``fit`` did not (see :meth:`bootstrap`, :meth:`model_average`).
        """
        if criterion not in ("aic", "bic", "last"):
            raise SpecificationError(
                "The 'criterion' parameter of MPHPath.best must be a str among {'aic', 'bic', 'last'}. "
                f"Got {criterion!r} instead."
            )
        if inference is None:
            inference = self.inference if criterion == self.criterion else "hessian"
        if inference not in ("hessian", "bootstrap", "model_average"):
            raise SpecificationError(
                "The 'inference' parameter of MPHPath.best must be a str among {'hessian', 'bootstrap', "
                f"'model_average'}}. Got {inference!r} instead.")
        if inference != "hessian":
            if criterion == "last":
                raise SpecificationError("MPHPath.best: criterion='last' has no selection to account for; "
                                         "use inference='hessian'.")
            if inference == self.inference and criterion == self.criterion and self._selected is not None:
                return self._selected
            return self.bootstrap(criterion=criterion) if inference == "bootstrap" else \
                self.model_average(criterion)
        if criterion == "last":
            return self.results[-1]
        return self.results[int(np.argmin(self.path[criterion].to_numpy()))]

    def bootstrap(self, *, n_boot: int = 199, criterion: str = "aic", seed: int | None = 0, n_jobs: int = 1,
                  progress: bool = False) -> MPHResults:
        """Person bootstrap of the path with selection of the number of points in every replicate.

        See :func:`evaltools.duration._mph_inference.bootstrap_path` (same parameters).
        """
        from evaltools.duration._mph_inference import bootstrap_path

        return bootstrap_path(self, n_boot=n_boot, criterion=criterion, seed=seed, n_jobs=n_jobs,
                              progress=progress)

    def model_average(self, criterion: str = "aic") -> MPHResults:
        """Smoothed-IC model average over the path with the unconditional covariance.

        See :func:`evaltools.duration._mph_inference.model_average`.
        """
        from evaltools.duration._mph_inference import model_average

        return model_average(self, criterion)

    def __getitem__(self, n_points: int) -> MPHResults:
        """The fit with ``n_points`` mass points."""
        for r in self.results:
            if r.n_points == n_points:
                return r
        raise SpecificationError(
            f"No fit with {n_points!r} mass points on the path; available: {list(self.path.index)}."
        )

    def __len__(self) -> int:
        """Number of fits on the path."""
        return len(self.results)

    def __iter__(self) -> Iterator[MPHResults]:
        """Iterate over the fits."""
        return iter(self.results)

    def summary(self) -> Summary:
        """Summary of the path (log-likelihood, AIC, BIC per number of points)."""
        inf = ("Inference", f"{self.inference} ({self.criterion.upper()})")
        return Summary(title="NPMLE path", header=(("Stop reason", self.stop_reason), inf),
                       tables=[self.path.reset_index()],
                       footnotes=("BIC uses N = number of persons.",
                                  f"AIC selects {self.best('aic').n_points} point(s); "
                                  f"BIC selects {self.best('bic').n_points} point(s)."))

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return f"<MPHPath: {len(self)} fits, points {list(self.path.index)}>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()
