"""Log-normal accelerated failure time model (censored-normal regression of log duration).

``log T = x' beta + sigma * e`` with ``e ~ N(0, 1)``; right-censored spells
contribute ``log P(log T > log c)``.  This is Wooldridge's censored normal
regression (*Introductory Econometrics*, Example 17.4) and R
``survreg(Surv(log(t), event) ~ x, dist = "gaussian")``; the coefficients
equal ``survreg(Surv(t, event) ~ x, dist = "lognormal")``.  Fitted by Newton-
Raphson with the analytic Hessian in ``(beta, log sigma)``; standard errors
from the observed information (as R and Stata).

Examples
--------
>>> from evaltools.datasets.recid import load
>>> from evaltools.duration.aft import LogNormalAFT
>>> d = load().assign(event=lambda x: 1 - x["cens"])
>>> res = LogNormalAFT.from_formula("~ workprg + priors + tserved + felon + alcohol + drugs + black"
...                                 " + married + educ + age", d, duration="durat").fit()
>>> round(float(res.params["workprg"]), 4), round(res.llf, 3)
(-0.0626, -1597.059)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special, stats

from evaltools._model.data import FormulaMixin
from evaltools._model.design import ModelData
from evaltools._model.optimize import newton_maximize, solve_step, warn_not_converged
from evaltools._validation import raise_for_rows
from evaltools.exceptions import (
    SpecificationError,
)
from evaltools.reporting.results import EstimationResults

__all__ = ["LogNormalAFT", "LogNormalAFTResults"]

_WHERE = "LogNormalAFT"
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _loglik(
    theta: np.ndarray, X: np.ndarray, y: np.ndarray, d: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, gradient and Hessian of the right-censored normal model in ``(beta, log sigma)``."""
    beta, tau = theta[:-1], theta[-1]
    s = np.exp(tau)
    z = (y - X @ beta) / s
    ev = d == 1
    logsf = special.log_ndtr(-z)
    ll = float(np.sum(np.where(ev, -tau - _LOG_SQRT_2PI - 0.5 * z**2, logsf)))
    lam = np.exp(-0.5 * z**2 - _LOG_SQRT_2PI - logsf)  # phi(z) / Phi(-z)
    # gradient factors: d ll / d beta = a * x, d ll / d tau = b
    a = np.where(ev, z / s, lam / s)
    b = np.where(ev, z**2 - 1.0, lam * z)
    grad = np.r_[X.T @ a, b.sum()]
    # Hessian factors
    k = lam * (lam - z)
    hbb = np.where(ev, -1.0 / s**2, -k / s**2)
    hbt = np.where(ev, -2.0 * z / s, -(k * z + lam) / s)
    htt = np.where(ev, -2.0 * z**2, -z * (k * z + lam))
    p = X.shape[1]
    H = np.empty((p + 1, p + 1))
    H[:p, :p] = X.T @ (hbb[:, None] * X)
    H[:p, p] = H[p, :p] = X.T @ hbt
    H[p, p] = htt.sum()
    return ll, grad, H


class LogNormalAFT(FormulaMixin):
    """Log-normal AFT (censored normal regression of ``log(duration)``).

    :meth:`from_formula` builds the model from a one-sided formula
    (formulaic syntax, e.g. ``"~ workprg + priors + C(region)"``; the
    intercept is always included) and ``duration`` and ``event``.

    Parameters
    ----------
    data : DataFrame
        One row per spell.  Never modified.
    covariates : sequence of str, optional
        Numeric covariate columns (an intercept is added).  Or give ``exog``, or
        use :meth:`from_formula`.
    exog : array-like or DataFrame, optional
        Covariate matrix without the intercept.
    duration : str, default="duration"
        Positive spell length (exit or censoring time).
    event : str, default="event"
        1 if the spell ended in an exit, 0 if right-censored.

    Notes
    -----
    Rows with a missing value in a used column are dropped with a counted
    :class:`~evaltools.exceptions.MissingValueWarning`; ``n_dropped`` and the
    summary report the count.
    """

    _formula_target = "exog"
    _formula_kwargs = ("duration", "event")

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        covariates: Sequence[str] | None = None,
        exog: Any = None,
        duration: str = "duration",
        event: str = "event",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{_WHERE}: 'data' must be a pandas DataFrame; got {type(data).__name__}."
            )
        self.duration, self.event = duration, event
        self.formula: str | None = None
        self._formula_spec: Any = None
        self._formula_design: Any = None
        md = ModelData(data, {"duration": duration, "event": event}, covariates=covariates, exog=exog,
                       where=_WHERE)
        self._model_data = md
        self.exog_names = ["Intercept", *md.exog_names]
        X = np.column_stack([np.ones(md.nobs), md.X])
        self.n_dropped = md.n_dropped
        frame = md.frame
        t = pd.to_numeric(frame[duration], errors="coerce").to_numpy(dtype=float)
        raise_for_rows(
            frame,
            ~(np.isfinite(t) & (t > 0)),
            rule=f"{_WHERE}: column {duration!r} must be positive "
            "and finite (zero or negative durations have no logarithm)",
            fix="Correct these durations (e.g. count the first period as 1).",
            columns=[duration],
        )
        ev = pd.to_numeric(frame[event], errors="coerce").to_numpy(dtype=float)
        raise_for_rows(
            frame,
            (ev != 0) & (ev != 1),
            rule=f"{_WHERE}: column {event!r} must be binary (0/1)",
            fix="Recode: 1 = exit observed, 0 = right-censored.",
            columns=[event],
        )
        rank = np.linalg.matrix_rank(X)
        if rank < X.shape[1]:
            _, R, piv = linalg.qr(
                X / np.maximum(np.abs(X).max(axis=0), 1e-300), mode="economic", pivoting=True
            )
            dep = sorted(piv[rank:])
            raise SpecificationError(
                f"{_WHERE}: covariate(s) {[self.exog_names[j] for j in dep]} are constant or collinear with "
                "the other covariates and the intercept; drop them."
            )
        self._X, self._y, self._d, self._t = X, np.log(t), ev.astype(int), t
        self.nobs = len(t)

    def fit(self, *, max_iter: int = 100, tol: float = 1e-12) -> LogNormalAFTResults:
        """Maximise the likelihood by Newton-Raphson with step halving.

        Parameters
        ----------
        max_iter : int, default=100
            Maximum iterations.
        tol : float, default=1e-12
            Convergence tolerance on the Newton decrement.

        Returns
        -------
        LogNormalAFTResults
        """
        X, y, d = self._X, self._y, self._d
        beta0 = np.linalg.lstsq(X, y, rcond=None)[0]
        theta = np.r_[beta0, np.log(np.std(y - X @ beta0) + 1e-8)]
        res = newton_maximize(lambda th: _loglik(th, X, y, d), theta, _direction, max_iter=max_iter, tol=tol,
                              max_halvings=39, llf=lambda st: st[0])
        theta, (ll, _, H), it, converged = res.params, res.state, res.n_iter, res.converged
        if not converged:
            warn_not_converged(f"{_WHERE}.fit", max_iter)
        cov = linalg.inv(-H)
        names = [*self.exog_names, "log_sigma"]
        ll_null = _null_llf(y, d)
        n_exit = int(d.sum())
        extra = {
            "llf": ll,
            "llf_duration": ll - float(np.log(self._t[d == 1]).sum()),
            "llnull": ll_null,
            "n_events": n_exit,
            "n_censored": self.nobs - n_exit,
            "n_dropped": self.n_dropped,
            "converged": converged,
            "n_iter": it,
        }
        header = [
            ("Exits", n_exit),
            ("Right-censored", self.nobs - n_exit),
            ("Log-likelihood", ll),
            ("sigma", float(np.exp(theta[-1]))),
            ("Converged", converged),
        ]
        notes = [
            "Log-normal AFT: log(duration) = x'b + sigma e, e ~ N(0, 1) (censored normal regression); "
            "right-censored spells contribute log P(log T > log c). No ties correction is needed "
            "(a parametric likelihood).",
            "Log-likelihood on the log-duration scale (as Wooldridge Example 17.4 and R survreg gaussian); "
            "add -sum(log t) over exits for the duration scale (attribute llf_duration).",
            "Standard errors from the observed information; sigma is estimated as log_sigma.",
            f"{self.n_dropped:,} rows dropped for missing values." if self.n_dropped else "No rows dropped.",
        ]
        return LogNormalAFTResults(
            pd.Series(theta, index=names),
            pd.DataFrame(cov, index=names, columns=names),
            self.nobs,
            model=self,
            title="Log-normal AFT (censored normal)",
            header=header,
            footnotes=notes,
            extra=extra,
        )


def _direction(state: tuple[float, np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:
    _, g, H = state
    step = solve_step(-H, g, positive=True)
    return step, float(step @ g)


def _null_llf(y: np.ndarray, d: np.ndarray) -> float:
    X0 = np.ones((len(y), 1))
    theta = np.r_[y.mean(), np.log(y.std() + 1e-8)]
    res = newton_maximize(lambda th: _loglik(th, X0, y, d), theta, _direction, max_iter=100, tol=1e-12,
                          max_halvings=39, llf=lambda st: st[0])
    ll = res.state[0]
    return ll


class LogNormalAFTResults(EstimationResults):
    """Results of :class:`LogNormalAFT` (read-only).

    Attributes
    ----------
    params, bse : Series
        ``Intercept``, covariate effects on log duration (time ratios are ``exp``),
        and ``log_sigma``.
    sigma : float
        Scale of the log-duration error.
    llf, llf_duration, llnull : float
        Log-likelihood (log-duration scale), on the duration scale, and of the intercept-only model.
    n_events, n_censored, n_dropped : int
    converged : bool
    n_iter : int
    """

    model: LogNormalAFT
    llf: float
    llf_duration: float
    llnull: float
    n_events: int
    n_censored: int
    n_dropped: int
    converged: bool
    n_iter: int

    @cached_property
    def sigma(self) -> float:
        """Scale ``exp(log_sigma)``."""
        return float(np.exp(self.params["log_sigma"]))

    @cached_property
    def time_ratios(self) -> pd.Series:
        """``exp(beta)``: multiplicative effects on duration (without the intercept and log_sigma)."""
        return np.exp(self.params.drop(["Intercept", "log_sigma"])).rename("time_ratio")

    def _design(self, exog: Any) -> np.ndarray:
        m = self.model
        if isinstance(exog, dict):
            exog = pd.DataFrame([exog])
        if isinstance(exog, pd.DataFrame):
            if m._formula_design is not None:
                frame = m._formula_design.transform_frame(exog, "predict")
            else:
                frame = exog
            names = m.exog_names[1:]
            missing = [c for c in names if c not in frame.columns]
            if missing:
                raise SpecificationError(f"predict: covariate column(s) {missing} are missing from exog.")
            X = frame[names].to_numpy(dtype=float)
        else:
            X = np.atleast_2d(np.asarray(exog, dtype=float))
        return np.column_stack([np.ones(len(X)), X])

    def predict_median(self, exog: Any) -> np.ndarray:
        """Median duration ``exp(x' beta)`` for covariate profiles (DataFrame, dict or array)."""
        X = self._design(exog)
        return np.exp(X @ self.params.to_numpy()[:-1])

    def predict_survival(self, exog: Any, times: Sequence[float]) -> pd.DataFrame:
        """Survival ``P(T > t) = 1 - Phi((log t - x' beta) / sigma)``.

        Parameters
        ----------
        exog : DataFrame, dict or array
            Covariate profiles.
        times : sequence of float
            Positive times.

        Returns
        -------
        DataFrame
            Index ``time``, one column per profile.
        """
        X = self._design(exog)
        t = np.asarray(times, dtype=float)
        if np.any(t <= 0):
            raise SpecificationError("predict_survival: times must be positive.")
        mu = X @ self.params.to_numpy()[:-1]
        z = (np.log(t)[:, None] - mu[None, :]) / self.sigma
        return pd.DataFrame(stats.norm.sf(z), index=pd.Index(t, name="time"))
