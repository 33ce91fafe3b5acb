"""Discrete-time (grouped, cloglog) hazard with gamma frailty, as Stata ``pgmhaz8``.

The weekly hazard of person ``i`` in week ``t`` is ``1 - exp(-nu_i exp(x_it' beta))``
with a person frailty ``nu_i ~ Gamma(mean 1, variance s2)`` (Meyer 1990; Jenkins
1995).  The frailty integrates out in closed form: with ``A`` the integrated hazard
up to the start of the last week and ``B`` the last week's ``exp(x' beta)``,

* censored person: ``L = (1 + s2 A')^(-1/s2)`` with ``A' = A + B`` (all weeks survived);
* exit in the last week: ``L = (1 + s2 A)^(-1/s2) - (1 + s2 (A + B))^(-1/s2)``.

As ``s2 -> 0`` this is the cloglog binary model on person-weeks.  Rows may span
several weeks (constant covariates; the transition, if any, is in the row's last
week), so person-weeks can be collapsed first.  Each person has one spell and at
most one transition (its last row).  Mass-point (Heckman-Singer, ``hshaz``)
frailty for the same model is :class:`~evaltools.duration.mph.TimingOfEvents`
with ``treated=None`` and interval timing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from evaltools._model.data import FormulaMixin
from evaltools._model.names import renamed_arguments
from evaltools._validation import check_columns, raise_for_rows, warn_dropped
from evaltools.exceptions import DataValidationError, SpecificationError
from evaltools.reporting.results import EstimationResults, TestResult, deprecated_alias

__all__ = ["GammaFrailtyHazard", "GammaFrailtyResults"]

_WHERE = "GammaFrailtyHazard"


class GammaFrailtyResults(EstimationResults):
    """Results of :class:`GammaFrailtyHazard` (``params`` end with ``log_frailty_var``).

    Attributes
    ----------
    llf : float
        Maximised log-likelihood (``loglike`` is a deprecated alias).
    frailty_var : float
        Estimated frailty variance ``s2``.
    lr_test : TestResult
        Likelihood-ratio test of ``s2 = 0``: statistic, ``df=1`` and the
        chi-bar-squared p-value (half the chi2(1) tail, because ``s2 = 0`` is on
        the boundary of the parameter space).
    converged : bool
        Optimiser convergence flag.
    n_dropped_rows : int
        Rows of persons with missing values dropped before the fit.
    """

    llf: float
    frailty_var: float
    lr_test: TestResult
    converged: bool
    n_dropped_rows: int

    loglike = deprecated_alias("llf")


def _logS(s: float, x: np.ndarray) -> np.ndarray:
    """Logarithm of (1 + s x)^(-1/s)."""
    return -np.log1p(s * x) / s


def _q(s: float, x: np.ndarray) -> np.ndarray:
    """Derivative of log S with respect to s: log1p(s x)/s^2 - x/(s (1 + s x)), stable for small s x."""
    u = s * x
    out = np.empty_like(x)
    small = u < 1e-4
    xs, us = x[small], u[small]
    out[small] = xs ** 2 * (0.5 - 2.0 * us / 3.0 + 0.75 * us ** 2)
    xl, ul = x[~small], u[~small]
    out[~small] = np.log1p(ul) / s ** 2 - xl / (s * (1.0 + ul))
    return out


class GammaFrailtyHazard(FormulaMixin):
    """Grouped-time proportional hazards (cloglog) model with gamma frailty.

    Parameters
    ----------
    data : DataFrame
        Person-period rows sorted or unsorted; each person's last row (largest
        ``stop`` order as given) may carry the transition.  Not modified.
    id : str
        Person identifier.
    duration : str
        Row length in weeks (whole weeks >= 1).
    event : str
        0/1: the row ends with the transition (only a person's last row).
    covariates : sequence of str
        Numeric covariates (time-varying across rows allowed).
    baseline_band : str, optional
        Categorical duration-band column (piecewise-constant baseline, first band
        is the reference; the intercept is the log hazard in that band).
    """

    _formula_lhs = None

    @renamed_arguments(rows="data")
    def __init__(self, data: pd.DataFrame, *, id: str, duration: str, event: str,
                 covariates: Sequence[str] = (), baseline_band: str | None = None) -> None:
        rows = data
        covs = [covariates] if isinstance(covariates, str) else list(covariates)
        cols = [id, duration, event] + covs + ([baseline_band] if baseline_band else [])
        check_columns(rows, cols, _WHERE)
        data = rows[cols]
        num = data[covs].apply(pd.to_numeric, errors="coerce")
        bad = num.isna().any(axis=1).to_numpy()
        if baseline_band:
            bad |= data[baseline_band].isna().to_numpy()
        bad_p = data[id].isin(data.loc[bad, id].unique()).to_numpy()
        self.n_dropped_rows = int(bad_p.sum())
        warn_dropped(self.n_dropped_rows, len(data), "persons with missing covariates or band; whole persons "
                     "are removed because the likelihood is per person", _WHERE)
        data, num = data.loc[~bad_p], num.loc[~bad_p]
        if data.empty:
            raise DataValidationError(f"{_WHERE}: no rows left after removing persons with missing values.")
        order = np.argsort(pd.factorize(data[id])[0], kind="stable")
        data, num = data.iloc[order], num.iloc[order]
        pid = pd.factorize(data[id])[0]
        t = pd.to_numeric(data[duration], errors="coerce").to_numpy(float)
        raise_for_rows(data, ~np.isfinite(t) | (t < 1) | (t != np.round(t)),
                       rule=f"column {duration!r} must be a whole number of weeks >= 1 in every row",
                       fix="Correct these rows.", columns=[id, duration])
        ev = pd.to_numeric(data[event], errors="coerce").to_numpy(float)
        raise_for_rows(data, ~np.isin(ev, [0, 1]), rule=f"column {event!r} must be 0 or 1",
                       fix="Use 1 for the row ending with the transition.", columns=[id, event])
        last = np.r_[pid[1:] != pid[:-1], True]
        raise_for_rows(data, (ev == 1) & ~last, rule=f"column {event!r} may be 1 only in a person's last row "
                       "(one spell and one transition per person)", fix="Keep one spell per person, ordered "
                       "in time, or use TimingOfEvents for multiple spells.", columns=[id, event])
        mats, names = [np.ones((len(data), 1))], ["const"]
        if baseline_band:
            col = data[baseline_band]
            if isinstance(col.dtype, pd.CategoricalDtype):
                codes, levels = col.cat.codes.to_numpy(), [str(c) for c in col.cat.categories]
            else:
                codes, uniq = pd.factorize(col, sort=True)
                levels = [str(u) for u in uniq]
            mats.append((codes[:, None] == np.arange(1, len(levels))[None, :]).astype(float))
            names += [f"band[{b}]" for b in levels[1:]]
        mats.append(num.to_numpy(float))
        names += covs
        self._X = np.column_stack(mats)
        self._names = names + ["log_frailty_var"]
        self._pid, self._t, self._ev = pid, t, ev.astype(bool)
        self._starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        self._ev_person = self._ev[last]  # person has the transition
        self._last_idx = np.flatnonzero(last)
        self.n_persons = int(self._starts.size)
        self.n_rows = len(data)

    def _pieces(self, theta: np.ndarray):
        beta, s = theta[:-1], float(np.exp(theta[-1]))
        e = np.exp(np.minimum(self._X @ beta, 40.0))
        texp = self._t - self._ev  # weeks survived in the row
        A = np.add.reduceat(texp * e, self._starts)
        B = np.where(self._ev_person, e[self._last_idx], 0.0)
        return beta, s, e, texp, A, B

    def loglike_and_score(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log-likelihood and analytic gradient at ``theta = (beta, log s2)``."""
        beta, s, e, texp, A, B = self._pieces(theta)
        d = self._ev_person
        lsA, lsAB = _logS(s, A), _logS(s, A + B)
        ll = np.where(d, lsA + np.log(-np.expm1(np.minimum(lsAB - lsA, -1e-300))), lsAB)
        # dll/dA, dll/dB and dll/ds per person
        pA = np.exp(-(1.0 / s + 1.0) * np.log1p(s * A) - ll)
        pAB = np.exp(-(1.0 / s + 1.0) * np.log1p(s * (A + B)) - ll)
        dA = np.where(d, -pA + pAB, -1.0 / (1.0 + s * (A + B)))
        dB = np.where(d, pAB, 0.0)  # censored persons have no last-week term
        qA, qAB = _q(s, A), _q(s, A + B)
        ds = np.where(d, np.exp(lsA - ll) * qA - np.exp(lsAB - ll) * qAB, qAB)
        w_row = dA[self._pid] * texp * e
        w_row[self._last_idx] += dB * e[self._last_idx]
        grad = np.concatenate([self._X.T @ w_row, [s * ds.sum()]])
        return float(ll.sum()), grad

    def loglike(self, theta: np.ndarray) -> float:
        """Log-likelihood at ``theta = (beta, log s2)``."""
        return self.loglike_and_score(np.asarray(theta, float))[0]

    def _maximise(self, theta0: np.ndarray, fixed_s: float | None = None) -> tuple[np.ndarray, float, bool]:
        N = self.n_persons

        def f(th: np.ndarray) -> tuple[float, np.ndarray]:
            full = th if fixed_s is None else np.append(th, np.log(fixed_s))
            ll, g = self.loglike_and_score(full)
            g = g if fixed_s is None else g[:-1]
            return -ll / N, -g / N

        bounds = [(None, None)] * (theta0.size - (fixed_s is not None))
        if fixed_s is None:
            bounds[-1] = (np.log(1e-8), np.log(1e3))
        x0 = theta0 if fixed_s is None else theta0[:-1]
        res = optimize.minimize(f, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10})
        x = res.x if fixed_s is None else np.append(res.x, np.log(fixed_s))
        return x, -res.fun * N, bool(res.success)

    def fit(self, *, start_var: float = 0.5) -> GammaFrailtyResults:
        """Maximum likelihood with the frailty integrated out.

        Parameters
        ----------
        start_var : float, default=0.5
            Starting value of the frailty variance.

        Returns
        -------
        GammaFrailtyResults
            Coefficients, ``log_frailty_var`` and a likelihood-ratio test of no frailty.
        """
        if not (isinstance(start_var, (int, float)) and start_var > 0):
            raise SpecificationError(f"The 'start_var' parameter of {_WHERE}.fit must be a float > 0. "
                                     f"Got {start_var!r} instead.")
        p = self._X.shape[1]
        theta0 = np.zeros(p + 1)
        theta0[0] = np.log(max(self._ev_person.sum(), 1) / np.sum(self._t))
        theta0[-1] = np.log(start_var)
        # no-frailty fit (tiny s2) for the LR test and as a start
        th_c, ll_c, _ = self._maximise(theta0, fixed_s=1e-8)
        th0 = th_c.copy()
        th0[-1] = np.log(start_var)
        theta, ll, conv = self._maximise(th0)
        # polish with Newton steps on the numerical Hessian of the analytic gradient
        hess = self._hessian(theta)
        for _ in range(5):
            g = self.loglike_and_score(theta)[1]
            try:
                step = np.linalg.solve(-hess, g)
            except np.linalg.LinAlgError:
                break
            cand = theta + step
            llc = self.loglike(cand)
            if not np.isfinite(llc) or llc < ll - 1e-10 * abs(ll):
                break
            theta, ll = cand, llc
            hess = self._hessian(theta)
            if np.max(np.abs(step)) < 1e-10:
                break
        info = -hess
        cov = np.linalg.pinv(info)
        s2 = float(np.exp(theta[-1]))
        lr = max(2.0 * (ll - ll_c), 0.0)
        from scipy import stats

        pval = 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 0 else 1.0
        foot = ["Discrete-time (grouped, cloglog) proportional hazards with person gamma frailty "
                "(mean 1, variance s2) integrated out in closed form (Meyer 1990; Stata pgmhaz8).",
                "Standard errors from the inverse observed information (numerical Hessian of the analytic "
                "gradient); log_frailty_var = log s2.",
                f"Likelihood-ratio test of s2 = 0: {lr:.3f} (p = {pval:.4g}, half chi2(1) on the boundary)."]
        if self.n_dropped_rows:
            foot.append(f"{self.n_dropped_rows:,} rows of persons with missing values were dropped.")
        return GammaFrailtyResults(
            pd.Series(theta, index=self._names), pd.DataFrame(cov, index=self._names, columns=self._names),
            self.n_persons, model=self, title="Discrete-time hazard with gamma frailty",
            header=(("Persons", self.n_persons), ("Rows", self.n_rows), ("Log-likelihood", ll),
                    ("Frailty variance", s2)),
            footnotes=foot,
            extra={"llf": float(ll), "frailty_var": s2, "lr_test": TestResult(lr, 1, pval), "converged": conv,
                   "n_dropped_rows": self.n_dropped_rows},
        )

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        P = theta.size
        H = np.empty((P, P))
        for k in range(P):
            h = 1e-5 * max(1.0, abs(theta[k]))
            tp, tm = theta.copy(), theta.copy()
            tp[k] += h
            tm[k] -= h
            H[:, k] = (self.loglike_and_score(tp)[1] - self.loglike_and_score(tm)[1]) / (2 * h)
        return 0.5 * (H + H.T)
