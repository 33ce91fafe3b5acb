"""Heckman (1979) sample-selection model: two-step and full maximum likelihood.

The model has a selection equation and an outcome equation observed only for
selected units::

    s_i* = z_i'gamma + u_i,      s_i = 1[s_i* > 0]
    y_i  = x_i'beta  + e_i,      observed when s_i = 1
    (u_i, e_i) ~ bivariate normal, Var(u) = 1, Var(e) = sigma^2, Corr = rho

``Heckman.fit(method="twostep")`` estimates a probit for ``s`` and then the
outcome equation by OLS on the selected rows with the inverse Mills ratio
``lambda_i = phi(z_i'gamma) / Phi(z_i'gamma)`` as an extra regressor; its
covariance is Heckman's (1979) correction for the heteroskedastic error and
the estimated first step (Greene, *Econometric Analysis*, sec. 19.5), the
matrix reported by Stata ``heckman ..., twostep`` and R
``sampleSelection::heckit``.  ``method="ml"`` maximises the joint likelihood
by Newton-Raphson with the analytic gradient and Hessian in Stata's
parameterisation (``athrho``, ``lnsigma``), with observed-information
standard errors and delta-method standard errors for ``rho``, ``sigma`` and
``lambda = rho * sigma``.

Reference values (Wooldridge Example 17.5 on :mod:`evaltools.datasets.mroz`)
are checked in ``tests/selection/test_heckman.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cached_property
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import log_ndtr

from evaltools._model.binary import fit_binary
from evaltools._model.design import Design
from evaltools._model.names import renamed_arguments
from evaltools._model.optimize import newton_maximize
from evaltools._validation import check_columns, check_kwargs, check_option, raise_for_rows
from evaltools.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataValidationError,
    ExclusionRestrictionWarning,
    MissingValueWarning,
    SpecificationError,
)
from evaltools.reporting.results import EstimationResults, TestResult, chi2_test, interval_columns

__all__ = ["ExclusionRestrictionWarning", "Heckman", "HeckmanResults"]


def _mills(x: np.ndarray) -> np.ndarray:
    """phi(x) / Phi(x), computed on the log scale (stable for very negative x)."""
    return np.exp(stats.norm.logpdf(x) - log_ndtr(x))


def _as_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not value or not all(isinstance(v, str) for v in value):
        raise SpecificationError(
            f"Heckman: {name!r} must be a column name or a non-empty list of column names; got {value!r}."
        )
    return list(value)


def _probit(
    s: np.ndarray, Z: np.ndarray, info: str = "observed", maxiter: int = 100
) -> tuple[np.ndarray, np.ndarray, float]:
    """Probit by Newton-Raphson with the analytic Hessian (:func:`evaltools._model.binary.fit_binary`).

    Returns the coefficients, their covariance (inverse observed or expected
    information) and the log-likelihood.
    """
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        fit = fit_binary(Z, s, link="probit", max_iter=maxiter)
    if not fit.converged or not np.all(np.isfinite(fit.params)):
        raise ConvergenceError(
            f"Heckman: the selection probit did not converge in {maxiter} Newton iterations "
            "(perfect prediction of the selection indicator by a covariate is the usual cause)."
        )
    gamma = fit.params
    if info == "observed":
        return gamma, fit.cov, fit.llf
    zg = Z @ gamma                              # Fisher information phi^2 / (Phi (1 - Phi))
    w = np.exp(2 * stats.norm.logpdf(zg) - log_ndtr(zg) - log_ndtr(-zg))
    return gamma, np.linalg.inv((Z * w[:, None]).T @ Z), fit.llf


class Heckman:
    """Heckman selection model (sample-selection or "Tobit type II" model).

    Parameters
    ----------
    data : DataFrame
        One row per unit.  The outcome may be missing (NaN) in rows with
        ``selection == 0``.
    outcome : str
        Outcome column, used only in rows with ``selection == 1``.
    selection : str
        Selection indicator column: 0/1 or boolean.
    outcome_covariates : str or list of str
        Covariates of the outcome equation.
    selection_covariates : str or list of str
        Covariates of the selection (probit) equation.  Should contain at least
        one variable excluded from the outcome equation (exclusion
        restriction); otherwise an :class:`ExclusionRestrictionWarning` is issued.
    add_constant : bool, default=True
        Add a column ``const`` to both equations.

    Raises
    ------
    DataValidationError
        Missing columns, a non-binary selection indicator, non-numeric
        covariates, no selected or no unselected rows, or collinear covariates.

    Warns
    -----
    MissingValueWarning
        Rows with missing selection indicator or selection covariates, and
        selected rows with missing outcome or outcome covariates, are dropped;
        the counts are in the message and in ``results.n_dropped``.
    ExclusionRestrictionWarning
        When every selection covariate is also an outcome covariate.

    See Also
    --------
    Heckman.from_formula : Build the model from two formulas.

    Examples
    --------
    >>> from evaltools.datasets.mroz import load
    >>> res = Heckman.from_formula(
    ...     "lwage ~ educ + exper + expersq",
    ...     "inlf ~ educ + exper + expersq + nwifeinc + age + kidslt6 + kidsge6",
    ...     load(),
    ... ).fit(method="twostep")
    >>> round(float(res.params["outcome:educ"]), 4)
    0.1091
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        selection: str,
        outcome_covariates: str | Sequence[str],
        selection_covariates: str | Sequence[str],
        add_constant: bool = True,
    ) -> None:
        where = "Heckman"
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{where}: 'data' must be a pandas DataFrame; got {type(data).__name__}."
            )
        if not isinstance(outcome, str) or not isinstance(selection, str):
            raise SpecificationError(f"{where}: 'outcome' and 'selection' must be column names (str).")
        xcols = _as_list(outcome_covariates, "outcome_covariates")
        zcols = _as_list(selection_covariates, "selection_covariates")
        check_columns(data, [outcome], where, role="outcome")
        check_columns(data, [selection], where, role="selection indicator")
        check_columns(data, xcols, where, role="outcome covariates")
        check_columns(data, zcols, where, role="selection covariates")
        for col in dict.fromkeys([outcome, *xcols, *zcols]):
            if not (pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col])):
                raise DataValidationError(
                    f"{where}: column {col!r} has dtype {data[col].dtype}; covariates and the outcome must "
                    "be numeric. Encode categories as 0/1 dummies (or use Heckman.from_formula with C(...))."
                )

        n_total = len(data)
        s_raw = data[selection]
        s_num = pd.to_numeric(s_raw.astype("float64") if s_raw.dtype == bool else s_raw, errors="coerce")
        miss_s = s_num.isna().to_numpy() & ~s_raw.isna().to_numpy()
        frame = pd.DataFrame({"row": data.index, selection: s_raw.to_numpy()})
        raise_for_rows(
            frame, miss_s,
            rule=f"{where}: selection indicator {selection!r} must be 0 or 1 (or boolean)",
            fix="Recode it to 0/1 (1 = outcome observed).", columns=["row", selection],
        )
        bad = s_num.notna().to_numpy() & ~s_num.isin([0, 1]).to_numpy()
        raise_for_rows(
            frame, bad,
            rule=f"{where}: selection indicator {selection!r} must be 0 or 1 (or boolean)",
            fix="Recode it to 0/1 (1 = outcome observed).", columns=["row", selection],
        )
        s_all = s_num.to_numpy(dtype=float)

        # rows dropped: missing selection indicator or selection covariates
        zmiss = np.isnan(s_all) | data[zcols].isna().any(axis=1).to_numpy()
        sel = s_all == 1
        xmiss = sel & ~zmiss & (data[xcols].isna().any(axis=1).to_numpy() | data[outcome].isna().to_numpy())
        keep = ~zmiss & ~xmiss
        n_drop_sel, n_drop_out = int(zmiss.sum()), int(xmiss.sum())
        if n_drop_sel:
            warnings.warn(
                f"{where}: dropped {n_drop_sel:,} of {n_total:,} rows with a missing selection indicator "
                f"or selection covariate ({selection!r}, {zcols}).", MissingValueWarning, stacklevel=2,
            )
        if n_drop_out:
            warnings.warn(
                f"{where}: dropped {n_drop_out:,} of {n_total:,} selected rows with a missing outcome or "
                f"outcome covariate ({outcome!r}, {xcols}).", MissingValueWarning, stacklevel=2,
            )
        s = sel[keep]
        if s.all() or not s.any():
            raise DataValidationError(
                f"{where}: the selection indicator {selection!r} must take both values 0 and 1 in the "
                f"estimation sample; it is {int(s.any())} in all {len(s):,} rows. The selection equation "
                "cannot be estimated without both selected and unselected units."
            )
        Z = data.loc[keep, zcols].to_numpy(dtype=float)
        X = data.loc[keep, xcols].to_numpy(dtype=float)[s]
        y = data.loc[keep, outcome].to_numpy(dtype=float)[s]
        if add_constant:
            Z = np.column_stack([np.ones(len(Z)), Z])
            X = np.column_stack([np.ones(len(X)), X])
            zcols_full, xcols_full = ["const", *zcols], ["const", *xcols]
        else:
            zcols_full, xcols_full = list(zcols), list(xcols)
        for M, names, rows in ((Z, zcols_full, "all rows"), (X, xcols_full, "selected rows")):
            if len(set(names)) != len(names):
                raise SpecificationError(f"{where}: duplicated covariate names {names}.")
            if np.linalg.matrix_rank(M) < M.shape[1]:
                raise DataValidationError(
                    f"{where}: the covariates {names} are collinear in the {rows} (design matrix of rank "
                    f"{np.linalg.matrix_rank(M)} < {M.shape[1]} columns). Drop a redundant covariate "
                    "(a constant is added unless add_constant=False)."
                )
        consts = {"const", "Intercept"}
        excluded = sorted(set(zcols_full) - set(xcols_full) - consts)
        if not excluded:
            warnings.warn(
                f"{where}: no selection covariate is excluded from the outcome equation (exclusion "
                "restriction absent); the model is identified only by the normality assumption and the "
                "estimates are fragile. Add a variable that affects selection but not the outcome.",
                ExclusionRestrictionWarning, stacklevel=2,
            )
        self.outcome = outcome
        self.selection = selection
        self.outcome_names = xcols_full
        self.selection_names = zcols_full
        self.excluded = excluded
        self.n_dropped = n_drop_sel + n_drop_out
        self.formulas: tuple[str, str] | None = None
        self._X, self._y, self._Z, self._s = X, y, Z, s
        self._Z1, self._Z0 = Z[s], Z[~s]

    @classmethod
    def from_formula(
        cls, outcome_formula: str, selection_formula: str, data: pd.DataFrame, **kwargs: Any
    ) -> Heckman:
        """Build the model from an outcome and a selection formula (formulaic syntax).

        Parameters
        ----------
        outcome_formula : str
            E.g. ``"lwage ~ educ + exper + expersq"``.  An intercept is included
            unless removed with ``- 1``.
        selection_formula : str
            E.g. ``"inlf ~ educ + exper + nwifeinc + age + kidslt6"``; the
            left-hand side names the 0/1 selection column.
        data : DataFrame
            The data (not modified).
        **kwargs
            No other options are accepted (reserved).

        Returns
        -------
        Heckman
        """
        from formulaic import Formula

        check_kwargs(kwargs, [], "Heckman.from_formula")
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError("Heckman.from_formula: 'data' must be a pandas DataFrame.")
        parsed = []
        for name, f in (("outcome_formula", outcome_formula), ("selection_formula", selection_formula)):
            if not isinstance(f, str) or "~" not in f or not f.split("~")[0].strip():
                raise SpecificationError(
                    f"Heckman.from_formula: {name} must be two-sided like 'y ~ x1 + x2'; got {f!r}."
                )
            form = Formula(f)
            lhs = sorted(form.lhs.required_variables)
            if len(lhs) != 1 or f.split("~")[0].strip() != lhs[0]:
                raise SpecificationError(
                    f"Heckman.from_formula: the left-hand side of {name} must be a single column name; "
                    f"got {f.split('~')[0].strip()!r}."
                )
            check_columns(data, sorted(form.required_variables), "Heckman.from_formula",
                          role=f"variables of {name}")
            parsed.append((lhs[0], f.split("~", 1)[1]))
        (yname, xrhs), (sname, zrhs) = parsed
        # NaN in the rows with a missing variable (a missing category included): dropped with a count below
        mz = Design.from_formula(data, "~" + zrhs, "Heckman.from_formula", intercept=True)[1].frame()
        mx = Design.from_formula(data, "~" + xrhs, "Heckman.from_formula", intercept=True)[1].frame()
        frame = pd.concat([mz, mx.drop(columns=[c for c in mx.columns if c in mz.columns])], axis=1)
        frame[yname] = data[yname].to_numpy()
        frame[sname] = data[sname].to_numpy()
        obj = cls(frame, outcome=yname, selection=sname, outcome_covariates=list(mx.columns),
                  selection_covariates=list(mz.columns), add_constant=False)
        obj.formulas = (outcome_formula, selection_formula)
        return obj

    @property
    def nobs(self) -> int:
        """Number of rows in the estimation sample."""
        return len(self._s)

    # ------------------------------------------------------------------ fit
    @renamed_arguments(maxiter="max_iter")
    def fit(
        self, *, method: str = "twostep", probit_cov: str = "observed", max_iter: int = 500, **kwargs: Any
    ) -> HeckmanResults:
        """Estimate the model.

        Parameters
        ----------
        method : {"twostep", "ml"}, default="twostep"
            ``"twostep"``: Heckman's two-step estimator with the corrected
            covariance.  ``"ml"``: full-information maximum likelihood, started
            from the two-step estimates.
        probit_cov : {"observed", "expected"}, default="observed"
            Two-step only: covariance of the first-step probit used in the
            corrected covariance and reported for the selection equation.
            ``"observed"`` (inverse negative Hessian) matches Stata
            ``heckman, twostep``; ``"expected"`` (inverse Fisher information,
            as ``glm``) matches R ``sampleSelection::heckit``.  The two differ
            in the 4th-6th significant digit of the standard errors.
        max_iter : int, default=500
            Maximum number of Newton-Raphson iterations (``"ml"`` only; a
            BFGS phase is used if the Hessian is not negative definite).
            ``maxiter``, the old name, is accepted with a ``FutureWarning``
            for one release.
        **kwargs
            No other options are accepted.

        Returns
        -------
        HeckmanResults
            A new read-only results object; the model is not modified.
        """
        check_kwargs(kwargs, [], "Heckman.fit")
        check_option("method", method, ["twostep", "ml"], "Heckman.fit")
        check_option("probit_cov", probit_cov, ["observed", "expected"], "Heckman.fit")
        if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
            raise SpecificationError(f"The 'max_iter' parameter of Heckman.fit must be a positive int; got "
                                     f"{max_iter!r}.")
        two = self._twostep(probit_cov)
        if method == "twostep":
            return two
        return self._ml(two, int(max_iter))

    def _twostep(self, probit_cov: str) -> HeckmanResults:
        X, y, Z, s = self._X, self._y, self._Z, self._s
        gamma, Vg, llf_probit = _probit(s.astype(float), Z, probit_cov)
        zg = (Z @ gamma)[s]
        lam = _mills(zg)
        Xs = np.column_stack([X, lam])
        A = np.linalg.inv(Xs.T @ Xs)
        b = A @ (Xs.T @ y)
        e = y - Xs @ b
        n = len(y)
        bl = b[-1]
        delta = lam * (lam + zg)
        sig2 = e @ e / n + bl**2 * delta.mean()
        rho2 = bl**2 / sig2
        Zs = Z[s]
        XDZ = Xs.T @ (delta[:, None] * Zs)
        Q = rho2 * XDZ @ Vg @ XDZ.T
        Vb = sig2 * A @ ((Xs * (1 - rho2 * delta)[:, None]).T @ Xs + Q) @ A
        Cbg = bl * A @ XDZ @ Vg                 # Cov(beta_hat, gamma_hat) from the first-step error
        kx, kz = Xs.shape[1], Z.shape[1]
        V = np.zeros((kx + kz, kx + kz))
        V[:kx, :kx], V[kx:, kx:], V[:kx, kx:], V[kx:, :kx] = Vb, Vg, Cbg, Cbg.T
        names = [f"outcome:{c}" for c in self.outcome_names] + ["lambda"] + [
            f"selection:{c}" for c in self.selection_names
        ]
        params = pd.Series(np.concatenate([b, gamma]), index=names)
        sigma = float(np.sqrt(sig2))
        rho = float(bl / sigma)
        foot = [
            f"Two-step estimator (Heckman 1979): probit for {self.selection!r} on {self.nobs:,} rows, then "
            f"OLS of {self.outcome!r} on the outcome covariates and the inverse Mills ratio ('lambda') "
            f"on the {n:,} selected rows.",
            "Standard errors of the outcome equation use Heckman's corrected covariance with the probit's "
            f"inverse {probit_cov} information (as "
            + ("Stata 'heckman, twostep'" if probit_cov == "observed" else "R sampleSelection::heckit")
            + "), which also gives the selection-equation standard errors.",
            f"sigma = sqrt(e'e/n + lambda^2 mean(delta)) = {sigma:.4f}; rho = lambda / sigma = {rho:.4f} "
            "(no standard errors).",
        ]
        if abs(rho) > 1:
            foot.append("The two-step rho lies outside [-1, 1]; the model is probably misspecified.")
        return self._results("twostep", params, V, sigma=sigma, rho=rho, lam=float(bl), llf=None,
                             footnotes=foot, extra={"llf_probit": llf_probit})

    # ----------------------------------------------------------------- ML
    def _split(self, th: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        kx = self._X.shape[1]
        kz = self._Z.shape[1]
        return th[:kx], th[kx:kx + kz], th[kx + kz], th[kx + kz + 1]

    @overload
    def _loglik_derivs(self, th: np.ndarray, order: Literal[1] = 1) -> tuple[float, np.ndarray, None]: ...

    @overload
    def _loglik_derivs(self, th: np.ndarray, order: Literal[2]) -> tuple[float, np.ndarray, np.ndarray]: ...

    def _loglik_derivs(self, th: np.ndarray, order: int = 1) -> tuple[float, np.ndarray, np.ndarray | None]:
        """Log-likelihood, analytic gradient and (``order=2``) analytic Hessian.

        With ``c = cosh(athrho)``, ``sh = sinh(athrho)`` (so ``1/sqrt(1-rho^2) = c``
        and ``rho/sqrt(1-rho^2) = sh``), ``u = (y - x'b)/sigma`` and
        ``a = c z'g + sh u``, a selected row contributes
        ``log Phi(a) - u^2/2 - log sigma - log(2 pi)/2`` and an unselected row
        ``log Phi(-z'g)``.
        """
        X, y, Z1, Z0 = self._X, self._y, self._Z1, self._Z0
        b, g, t, ls = self._split(th)
        c, sh, sig = np.cosh(t), np.sinh(t), np.exp(ls)
        zg1, zg0 = Z1 @ g, Z0 @ g
        u = (y - X @ b) / sig
        a = c * zg1 + sh * u
        la, l0 = log_ndtr(a), log_ndtr(-zg0)
        llf = float(l0.sum() + la.sum() - 0.5 * (u @ u) - len(y) * (ls + 0.5 * np.log(2 * np.pi)))
        m = np.exp(stats.norm.logpdf(a) - la)
        m0 = np.exp(stats.norm.logpdf(zg0) - l0)
        at = sh * zg1 + c * u                   # da/d athrho
        gb = X.T @ (u - m * sh) / sig
        gg = c * (Z1.T @ m) - Z0.T @ m0
        gt = float(m @ at)
        gs = float(np.sum(u * (u - m * sh)) - len(y))
        grad = np.concatenate([gb, gg, [gt, gs]])
        if order < 2:
            return llf, grad, None
        kx, kz = X.shape[1], Z1.shape[1]
        k = kx + kz + 2
        iT, iS = kx + kz, kx + kz + 1
        w = -m * (a + m)                        # d2 log Phi(a) / da2
        w0 = -m0 * (m0 - zg0)                   # d2 log Phi(-zg) / dzg2
        # w * grad(a) grad(a)' with grad(a) = [-sh x/sig, c z, at, -sh u]
        D = np.empty((len(y), k))
        D[:, :kx] = X * (-sh / sig)
        D[:, kx:iT] = Z1 * c
        D[:, iT] = at
        D[:, iS] = -sh * u
        H = (D * w[:, None]).T @ D
        H[kx:iT, kx:iT] += (Z0 * w0[:, None]).T @ Z0
        # m * second derivatives of a
        h_gt = sh * (Z1.T @ m)
        h_bt = -c * (X.T @ m) / sig
        h_bs = sh * (X.T @ m) / sig
        H[kx:iT, iT] += h_gt
        H[:kx, iT] += h_bt
        H[:kx, iS] += h_bs
        H[iT, iT] += m @ a
        H[iT, iS] += -c * (m @ u)
        H[iS, iS] += sh * (m @ u)
        # -u^2/2 - log sigma part
        H[:kx, :kx] -= X.T @ X / sig**2
        H[:kx, iS] -= 2 * (X.T @ u) / sig
        H[iS, iS] -= 2 * (u @ u)
        # fill the lower triangle of the ancillary columns
        H[iT, :iT] = H[:iT, iT]
        H[iS, :iS] = H[:iS, iS]
        return llf, grad, H

    def _newton(
        self, th: np.ndarray, maxiter: int
    ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, int, bool, bool]:
        """Newton-Raphson with step halving; one BFGS phase where the Hessian is not negative definite."""

        def negf(v: np.ndarray) -> tuple[float, np.ndarray]:
            f, gr, _ = self._loglik_derivs(v)
            if not (np.isfinite(f) and np.all(np.isfinite(gr))):
                return np.inf, np.zeros_like(v)
            return -f, -gr

        def direction(st: tuple[float, np.ndarray, np.ndarray]) -> tuple[np.ndarray, float] | None:
            _, grad, H = st
            try:
                np.linalg.cholesky(-H)
                step = -np.linalg.solve(H, grad)
            except np.linalg.LinAlgError:
                return None
            return step, float(grad @ step)         # g' (-H)^{-1} g

        n_iter, converged, used_bfgs = 0, False, False
        while True:
            res = newton_maximize(lambda v: self._loglik_derivs(v, 2), th, direction,
                                  max_iter=maxiter - n_iter, tol=1e-16, max_halvings=33, llf=lambda st: st[0],
                                  accept_failed_halving=False)
            th, n_iter, converged = res.params, n_iter + res.n_iter, res.converged
            if converged or not res.stalled or used_bfgs or n_iter >= maxiter:
                break
            used_bfgs = True                    # not concave here or no ascent: quasi-Newton steps
            th = optimize.minimize(negf, th, jac=True, method="BFGS",
                                   options={"maxiter": maxiter, "gtol": 1e-6}).x
            n_iter += 1
        llf, grad, H = self._loglik_derivs(th, 2)
        return th, llf, grad, H, n_iter, converged, used_bfgs

    def _ml(self, two: HeckmanResults, maxiter: int) -> HeckmanResults:
        kx = self._X.shape[1]
        p2 = two.params.to_numpy()
        b0 = p2[:kx]
        g0 = p2[kx + 1:]
        rho0 = float(np.clip(two.rho, -0.9, 0.9))
        th = np.concatenate([b0, g0, [np.arctanh(rho0), np.log(two.sigma)]])

        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            th, llf, grad, H, n_iter, converged, used_bfgs = self._newton(th, maxiter)
        finite = bool(np.all(np.isfinite(H)) and np.all(np.isfinite(th)))
        negdef = finite and np.linalg.eigvalsh(H).max() < 0
        boundary = abs(th[-2]) > 7.0            # |rho| > 0.999998
        if boundary:
            converged = False
            warnings.warn(
                "Heckman.fit(method='ml'): rho went to the boundary of [-1, 1] (athrho = "
                f"{th[-2]:.3g}); the likelihood has no interior maximum, which is common in small samples "
                "or with a weak exclusion restriction. Standard errors are not reported; use the two-step "
                "estimates or revisit the specification.", ConvergenceWarning, stacklevel=3,
            )
        elif not converged or not negdef:
            warnings.warn(
                "Heckman.fit(method='ml'): the maximiser did not meet the convergence criterion "
                f"g'H^-1 g < 1e-16 (max |gradient| = {np.max(np.abs(grad)):.3g}) or the Hessian is not "
                "negative definite; treat the estimates and standard errors with caution.",
                ConvergenceWarning, stacklevel=3,
            )
        V = np.linalg.inv(-H) if negdef and not boundary else np.full(H.shape, np.nan)
        names = [f"outcome:{c}" for c in self.outcome_names] + [
            f"selection:{c}" for c in self.selection_names] + ["athrho", "lnsigma"]
        params = pd.Series(th, index=names)
        rho, sigma = float(np.tanh(th[-2])), float(np.exp(th[-1]))
        J = np.array([[1 - rho**2, 0.0], [0.0, sigma], [(1 - rho**2) * sigma, rho * sigma]])
        Vd = J @ V[-2:, -2:] @ J.T
        est = np.array([rho, sigma, rho * sigma])
        se = np.sqrt(np.diag(Vd))
        q = stats.norm.ppf(0.975)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = est / se
        ancillary = pd.DataFrame(
            {"estimate": est, "std_err": se, "stat": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
             "lower": est - q * se, "upper": est + q * se},
            index=["rho", "sigma", "lambda"],
        )
        # LR test of independent equations (rho = 0): probit + normal regression
        X, y = self._X, self._y
        e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
        n1 = len(y)
        llf_ols = -0.5 * n1 * (np.log(2 * np.pi * (e @ e) / n1) + 1)
        llf0 = two.llf_probit + llf_ols
        lr = max(2 * (llf - llf0), 0.0)
        lr_test = chi2_test(lr, 1)
        foot = [
            f"Full-information maximum likelihood on {self.nobs:,} rows ({n1:,} selected), started from the "
            f"two-step estimates; {n_iter} Newton-Raphson iteration(s) with analytic gradient and Hessian"
            f"{' (with a BFGS phase)' if used_bfgs else ''}; converged: {converged}.",
            "Standard errors from the observed information (analytic Hessian); "
            "rho = tanh(athrho), sigma = exp(lnsigma), lambda = rho * sigma with delta-method standard "
            "errors.",
            f"LR test of independent equations (rho = 0): chi2(1) = {lr:.4f}, p = {lr_test.pvalue:.4f}.",
        ]
        return self._results("ml", params, V, sigma=sigma, rho=rho, lam=rho * sigma, llf=llf, footnotes=foot,
                             extra={"ancillary": ancillary, "lr_test": lr_test, "converged": converged,
                                    "llf_probit": two.llf_probit, "n_iter": n_iter})

    def _results(self, method: str, params: pd.Series, V: np.ndarray, *, sigma: float, rho: float, lam: float,
                 llf: float | None, footnotes: list[str], extra: dict[str, Any]) -> HeckmanResults:
        n_sel = int(self._s.sum())
        header: list[tuple[str, object]] = [
                  ("Method", "two-step" if method == "twostep" else "maximum likelihood"),
                  ("Selected", n_sel), ("Not selected", self.nobs - n_sel)]
        if llf is not None:
            header.append(("Log-likelihood", llf))
        if self.n_dropped:
            footnotes = [*footnotes, f"{self.n_dropped:,} rows with missing values were dropped."]
        if self.excluded:
            footnotes = [*footnotes,
                         f"Exclusion restriction: {self.excluded} enter only the selection equation."]
        else:
            footnotes = [*footnotes, "No exclusion restriction: identification rests on normality only."]
        base = {"method": method, "sigma": sigma, "rho": rho, "lambda_": lam, "llf": llf,
                "n_selected": n_sel, "n_dropped": self.n_dropped, "ancillary": None, "lr_test": None,
                "converged": True, "n_iter": None}
        base.update(extra)
        return HeckmanResults(
            params, pd.DataFrame(V, index=params.index, columns=params.index), self.nobs, model=self,
            title=f"Heckman selection model ({'two-step' if method == 'twostep' else 'ML'})",
            header=header, footnotes=footnotes, extra=base,
        )


class HeckmanResults(EstimationResults):
    """Results of :meth:`Heckman.fit` (read-only).

    Attributes
    ----------
    method : {"twostep", "ml"}
        Estimation method.
    params : Series
        ``outcome:<name>`` and ``selection:<name>`` coefficients, plus
        ``lambda`` (two-step: the inverse-Mills-ratio coefficient) or
        ``athrho`` and ``lnsigma`` (ML).
    sigma, rho, lambda_ : float
        Error standard deviation, error correlation and ``rho * sigma``.
    llf : float or None
        Log-likelihood (ML only).
    ancillary : DataFrame or None
        ML: ``rho``, ``sigma`` and ``lambda`` with delta-method standard errors
        (95% intervals; :meth:`summary` shows them at its ``alpha``).
    lr_test : TestResult or None
        ML: likelihood-ratio test of ``rho = 0`` (chi2 with 1 degree of freedom).
    llf_probit : float
        Log-likelihood of the selection probit.
    n_selected, n_dropped : int
        Selected rows used and rows dropped for missing values.
    converged : bool
        Whether the ML maximiser met its criterion (always True for two-step).
    n_iter : int or None
        ML: Newton-Raphson iterations (None for two-step).
    """

    method: str
    sigma: float
    rho: float
    lambda_: float
    llf: float | None
    llf_probit: float
    n_selected: int
    n_dropped: int
    ancillary: pd.DataFrame | None
    lr_test: TestResult | None
    converged: bool
    n_iter: int | None

    @cached_property
    def outcome_params(self) -> pd.Series:
        """Outcome-equation coefficients (with ``lambda`` for the two-step estimator)."""
        p = self.params
        keep = [i for i in p.index if i.startswith("outcome:") or i == "lambda"]
        return p[keep].rename(lambda i: i.split(":", 1)[-1])

    @cached_property
    def selection_params(self) -> pd.Series:
        """Selection-equation (probit) coefficients."""
        p = self.params
        keep = [i for i in p.index if i.startswith("selection:")]
        return p[keep].rename(lambda i: i.split(":", 1)[1])

    def _summary_tables(self, alpha: float = 0.05) -> list[pd.DataFrame]:
        tables = [self.to_frame(alpha)]
        if self.ancillary is not None:
            tables.append(interval_columns(self.ancillary, alpha))
        return tables
