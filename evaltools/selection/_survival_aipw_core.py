"""Numerical core of :class:`~evaltools.selection.AIPWSurvival` (AIPTW with AIPCW augmentation).

Two pieces:

* :class:`HazardFit` -- one nuisance hazard model for a right-censored time
  (the outcome or the censoring time), fitted on a subset of the analysis rows:
  a Cox model with Breslow ties and the Breslow baseline hazard (survival
  ``exp(-Lambda0(t) exp(x'b))``), or without covariates the Nelson-Aalen
  (``exp(-Lambda(t))``) or Kaplan-Meier (product-limit) curve.  It evaluates
  baseline hazards at arbitrary times and turns a linear functional of its
  predictions into influence functions (derivatives with respect to each
  analysis row's case weight), covering the estimated coefficients and the
  estimated baseline hazard.
* :func:`arm_estimates` -- for one treatment arm, the AIPTW/AIPCW estimate of
  linear functionals ``sum_k c_k F_a(tau_k)`` of the counterfactual risk
  ``F_a(t) = 1 - S_a(t)`` (survival at one time: one non-zero ``c``; restricted
  mean survival: the step widths) and their influence functions, with or
  without the terms from estimating the three nuisance models.

The estimator (Ozenne et al. 2020, as ``riskRegression::ate(estimator =
"AIPTW,AIPCW")``) averages, over the target population,

``phi_i = g_i F(tau | X_i, a) + W_i [Y_i(tau) / G_i(T_i-) - F_i(tau) + F_i(tau) I_i(tau) - I2_i(tau)]``

with ``Y_i(tau) = 1(T_i <= tau, event)``, treatment weight ``W_i`` (ATE:
``1(A_i = a) / P(A = a | X_i)``; ATT: ``A_i`` for the treated arm and
``(1 - A_i) e_i / (1 - e_i)`` for the controls), ``g_i = 1`` (ATE) or ``A_i``
(ATT), and the censoring augmentation over the distinct censoring times
``u <= min(T_i, tau)``:

``I_i = sum_u dM^C_i(u) / (G_i(u-) S_i(u-))``, ``I2_i = sum_u F_i(u) dM^C_i(u) / (G_i(u-) S_i(u-))``,

``dM^C_i(u) = dN^C_i(u) - dLambda^C_i(u)``.  Influence functions are derived
analytically (one pass over rows, in chunks of rows x censoring times); the
numbers match ``riskRegression`` (``tests/reference/selection/aipw_survival_*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltools.exceptions import EvaltoolsError

__all__ = ["HazardFit", "ArmInputs", "arm_estimates", "arm_curve"]

_CHUNK = 2_000_000  # matrix elements per chunk of rows x censoring times


def _revcumsum(x: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum along axis 0 with a trailing zero row (length ``len(x) + 1``)."""
    out = np.zeros((len(x) + 1,) + x.shape[1:])
    out[:-1] = np.cumsum(x[::-1], axis=0)[::-1]
    return out


class HazardFit:
    """A nuisance hazard model with Breslow baseline and influence functions.

    Parameters
    ----------
    time, event, weights : ndarray
        Times (> 0), event indicators and case weights of the rows the model is
        fitted on.
    X : ndarray, shape (m, p)
        Covariates of those rows (``p = 0``: no covariates).
    rows : ndarray of int
        Positions of these rows in the analysis sample.
    n : int
        Size of the analysis sample (length of the influence functions).
    names : sequence of str
        Covariate names (error messages and the coefficient table).
    product_limit : bool, default=False
        Without covariates: Kaplan-Meier instead of ``exp(-Nelson-Aalen)``.
    label : str
        What the model is, for error messages (e.g. ``"outcome model (arm 1)"``).
    where : str
        Calling class, for error messages.
    """

    def __init__(
        self,
        time: np.ndarray,
        event: np.ndarray,
        weights: np.ndarray,
        X: np.ndarray,
        rows: np.ndarray,
        n: int,
        *,
        names: Sequence[str],
        product_limit: bool = False,
        label: str,
        where: str,
    ) -> None:
        self.rows, self.n, self.label = rows, n, label
        self.names = list(names)
        m, p = X.shape
        self.p = p
        self.product_limit = bool(product_limit) and p == 0
        self.time, self.event, self.w = time, event.astype(bool), weights
        self.n_events = int(self.event.sum())
        self.empty = self.n_events == 0
        self.mean = (weights @ X) / weights.sum() if p else np.zeros(0)
        self.beta = self._fit_beta(X, where) if p and not self.empty else np.zeros(p)
        self.Xc = X - self.mean
        self.r = np.exp(self.Xc @ self.beta) if p else np.ones(m)
        if self.empty:
            self.ev_times = np.zeros(0)
            self.dlam = self.S0 = self.cum = self.neglog = np.zeros(0)
            self.Ebar = np.zeros((0, p))
            return
        self.ev_times = np.unique(time[self.event])
        order = np.argsort(time, kind="stable")
        ts = time[order]
        wr = (weights * self.r)[order]
        pos = np.searchsorted(ts, self.ev_times, side="left")
        self.S0 = _revcumsum(wr)[pos]
        d = np.bincount(
            np.searchsorted(self.ev_times, time[self.event]),
            weights[self.event],
            minlength=len(self.ev_times),
        )
        self.d = d
        self.dlam = d / self.S0
        self.cum = np.cumsum(self.dlam)
        if self.product_limit:
            with np.errstate(divide="ignore"):
                self.neglog = np.cumsum(-np.log1p(-np.minimum(self.dlam, 1.0)))
        else:
            self.neglog = self.cum
        self.eT = np.searchsorted(self.ev_times, time, side="right")  # event times <= T
        self.e_event = np.searchsorted(self.ev_times, time[self.event])
        if p:
            self.Ebar = _revcumsum(wr[:, None] * self.Xc[order])[pos] / self.S0[:, None]
            lam_t = np.r_[0.0, self.cum][self.eT]
            info = self.Xc.T @ (self.Xc * (weights * self.r * lam_t)[:, None])
            info -= (self.Ebar * d[:, None]).T @ self.Ebar
            try:
                self.inv_info = np.linalg.inv(info)
            except np.linalg.LinAlgError:
                self.inv_info = np.linalg.pinv(info)
            cum_e = np.vstack([np.zeros(p), np.cumsum(self.Ebar * self.dlam[:, None], axis=0)])
            U = -self.r[:, None] * (self.Xc * lam_t[:, None] - cum_e[self.eT])
            U[self.event] += self.Xc[self.event] - self.Ebar[self.e_event]
            self.U = U
        else:
            self.Ebar = np.zeros((len(self.ev_times), 0))

    def _fit_beta(self, X: np.ndarray, where: str) -> np.ndarray:
        from evaltools.duration.cox import CoxPH

        frame = pd.DataFrame({"start": 0.0, "stop": self.time, "event": self.event, "w": self.w})
        exog = pd.DataFrame(X, columns=self.names)
        try:
            res = CoxPH(frame, exog=exog, weights="w").fit(ties="breslow", tol=1e-13, max_iter=100)
        except EvaltoolsError as exc:
            raise type(exc)(f"{where}: {self.label}: {exc}") from exc
        return res.params.to_numpy()

    # -- predictions ------------------------------------------------------------------
    def bins(self, t: np.ndarray, *, left: bool = False) -> np.ndarray:
        """Number of event times ``< t`` (``left``) or ``<= t``."""
        return np.searchsorted(self.ev_times, t, side="left" if left else "right")

    def base(self, bins: np.ndarray) -> np.ndarray:
        """Baseline ``-log S`` after ``bins`` event times (cumulative hazard or -log product limit)."""
        return np.r_[0.0, self.neglog][bins]

    def risk(self, X: np.ndarray) -> np.ndarray:
        """Relative risks ``exp((x - mean)'b)`` of a prediction design."""
        return np.exp((X - self.mean) @ self.beta) if self.p else np.ones(len(X))

    def center(self, X: np.ndarray) -> np.ndarray:
        return X - self.mean

    # -- influence functions ----------------------------------------------------------
    def influence(self, acc_cum: np.ndarray, acc_inc: np.ndarray | None, g_beta: np.ndarray) -> np.ndarray:
        """Derivative of a linear functional of the predictions with respect to each row's weight.

        The functional is ``sum_(i,t) alpha_i(t) H_i(t) + sum_(i,e) psi_ie dLambda_i(t_e)`` where
        ``H_i(t) = -log S_i(t)``; the caller aggregates ``alpha_i(t) r_i`` by the number of event
        times ``<= t`` (``acc_cum``, length ``E + 1``), ``psi_ie r_i`` by event time (``acc_inc``)
        and gives ``g_beta = sum_i (x_i - mean) r_i (sum_t alpha_i(t) Lambda0(t) + sum_e psi_ie
        dLambda0_e)``.

        Returns
        -------
        ndarray, shape (n,)
            Zero for rows the model was not fitted on.
        """
        out = np.zeros(self.n)
        if self.empty:
            return out
        B = np.cumsum(acc_cum[1:][::-1])[::-1]
        if self.product_limit:
            with np.errstate(divide="ignore", invalid="ignore"):
                B = np.where(self.dlam < 1, B / (1 - self.dlam), 0.0)
        if acc_inc is not None:
            B = B + acc_inc
        v = np.zeros(len(self.time))
        v[self.event] += B[self.e_event] / self.S0[self.e_event]
        q = np.r_[0.0, np.cumsum(B * self.dlam / self.S0)]
        v -= self.r * q[self.eT]
        if self.p:
            v += self.U @ (self.inv_info @ (g_beta - (B * self.dlam) @ self.Ebar))
        out[self.rows] = v
        return out

    def coef_table(self) -> pd.DataFrame:
        """Coefficients and model-based standard errors (inverse Breslow information)."""
        se = np.sqrt(np.clip(np.diag(self.inv_info), 0, None)) if self.p and not self.empty else np.nan
        return pd.DataFrame({"coef": self.beta, "std_err": se}, index=pd.Index(self.names, name="term"))


@dataclass
class ArmInputs:
    """Everything :func:`arm_estimates` needs for one arm ``a``.

    Attributes
    ----------
    time, event, treated, w : ndarray (n,)
        Analysis sample.
    g, W, D : ndarray (n,)
        Outcome-term weight, treatment weight and denominator weight (see module docstring).
    m_gamma : ndarray (n,)
        ``dW_i / d gamma = W_i m_i Z_i`` for the logit propensity coefficients ``gamma``.
    Z, p, inv_info_gamma : ndarray or None
        Propensity design, scores and inverse logit information (None: scores held fixed).
    outcome : HazardFit
        Outcome model used for arm ``a``.
    X_out : ndarray (n, q)
        Outcome-model design with the treatment set to ``a`` (all rows).
    censor : HazardFit or None
        Censoring model of the arm-``a`` rows (None: no censoring).
    X_cens : ndarray (n, q_c)
        Censoring-model design (observed; only arm-``a`` rows are used).
    arm_rows : ndarray of bool (n,)
        Rows with ``W_i != 0`` (treatment ``a``).
    """

    time: np.ndarray
    event: np.ndarray
    treated: np.ndarray
    w: np.ndarray
    g: np.ndarray
    W: np.ndarray
    D: np.ndarray
    m_gamma: np.ndarray
    Z: np.ndarray | None
    p: np.ndarray | None
    inv_info_gamma: np.ndarray | None
    outcome: HazardFit
    X_out: np.ndarray
    censor: HazardFit | None
    X_cens: np.ndarray
    arm_rows: np.ndarray


def _revcumsum_rows(m: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum along each row with a trailing zero column (shape ``(r, K + 1)``)."""
    out = np.zeros((m.shape[0], m.shape[1] + 1))
    np.cumsum(m[:, ::-1], axis=1, out=out[:, -2::-1])
    return out


def _chunks(n: int, width: int) -> list[slice]:
    size = max(1, _CHUNK // max(width, 1))
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


def arm_estimates(
    inp: ArmInputs, grid: np.ndarray, coefs: np.ndarray, *, nuisance: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """AIPTW/AIPCW estimates of ``coefs @ F_a(grid)`` and their influence functions.

    Parameters
    ----------
    inp : ArmInputs
        The arm's data and nuisance fits.
    grid : ndarray (K,)
        Sorted evaluation times.
    coefs : ndarray (n_targets, K)
        Coefficients of each target on the risks at ``grid``.
    nuisance : bool, default=True
        Include the terms from estimating the nuisance models (``riskRegression``
        ``known.nuisance = FALSE``); False treats them as known.

    Returns
    -------
    theta : ndarray (n_targets,)
    infl : ndarray (n, n_targets)
        Derivatives of each estimate with respect to each row's case weight.
    """
    om, cm = inp.outcome, inp.censor
    n = len(inp.time)
    n_t = coefs.shape[0]
    wD = float(inp.w @ inp.D)
    r_out = om.risk(inp.X_out)
    Xo = om.center(inp.X_out)
    N = np.zeros((n, n_t))
    acc_o = np.zeros((n_t, len(om.ev_times) + 1))
    a_o = np.zeros((n, n_t))  # per-row sums alpha * Lambda0 (outcome coefficients)
    tau_bins = om.bins(grid)
    L_tau = om.base(tau_bins)
    # pass 1: g_i F(tau | X_i, a) over all rows
    for sl in _chunks(n, len(grid)):
        S = np.exp(-np.outer(r_out[sl], L_tau))
        N[sl] += inp.g[sl, None] * ((1.0 - S) @ coefs.T)
        if nuisance:
            al = (inp.w * inp.g)[sl, None] * S  # alpha per unit coefficient
            col = (al * r_out[sl, None]).sum(axis=0)
            for t in range(n_t):
                acc_o[t] += np.bincount(tau_bins, coefs[t] * col, minlength=acc_o.shape[1])
            a_o[sl] += (al * L_tau) @ coefs.T
    # pass 2: the weighted residual and the censoring augmentation, arm-a rows
    rows = np.flatnonzero(inp.arm_rows)
    a_c = np.zeros((n, n_t))
    g_gamma = np.zeros((n_t, 0 if inp.Z is None else inp.Z.shape[1]))
    if cm is not None and not cm.empty:
        u = cm.ev_times[cm.ev_times <= grid.max()]
    else:
        u = np.zeros(0)
    J = len(u)
    n_cens = 0 if cm is None else len(cm.ev_times)
    acc_c = np.zeros((n_t, n_cens + 1))  # used only with a censoring model
    acc_ci = np.zeros((n_t, n_cens))
    kfirst = np.searchsorted(grid, u, side="left")  # first grid time >= u_j
    Cj = np.zeros((n_t, J))
    rc = np.vstack([_revcumsum(c) for c in coefs]) if len(coefs) else np.zeros((0, len(grid) + 1))
    if J:
        Cj = rc[:, kfirst]
    u_bin_r, u_bin_l = om.bins(u), om.bins(u, left=True)
    L_u, L_um = om.base(u_bin_r), om.base(u_bin_l)
    if J and cm is not None:  # J > 0 only with a censoring model
        Hc_um = cm.base(np.arange(J))  # censoring -log G at u_j- (u_j are its event times)
        dlc = cm.dlam[:J]
    jtau = np.searchsorted(u, grid, side="right")  # censoring times <= tau_k
    for sl0 in _chunks(len(rows), J + len(grid)):
        ix = rows[sl0]
        T, ev = inp.time[ix], inp.event[ix]
        wW = inp.w[ix] * inp.W[ix]
        ro = r_out[ix]
        Ft = 1.0 - np.exp(-np.outer(ro, L_tau))  # F(tau_k), (c, K)
        if cm is not None and not cm.empty:
            rcn = cm.risk(inp.X_cens[ix])
            bT = cm.bins(T, left=True)
            GT = np.exp(-cm.base(bT) * rcn)
        else:
            rcn = np.ones(len(ix))
            bT = np.zeros(len(ix), dtype=int)
            GT = np.ones(len(ix))
        CT = rc[:, np.searchsorted(grid, T, side="left")].T  # (c, n_t): sum_k c_k 1(tau_k >= T)
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = np.where(ev[:, None], CT / GT[:, None], 0.0) - Ft @ coefs.T  # (c, n_t)
        jT = np.searchsorted(u, T, side="right")  # censoring times <= T
        if J:
            atr = np.arange(J)[None, :] < jT[:, None]
            G = np.exp(-np.outer(rcn, Hc_um))
            Sm = np.exp(-np.outer(ro, L_um))
            Su = np.exp(-np.outer(ro, L_u))
            Fu = 1.0 - Su
            dN = (T[:, None] == u[None, :]) & ~ev[:, None]
            dL = np.outer(rcn, dlc)
            with np.errstate(divide="ignore", invalid="ignore"):
                inv_gs = np.where(atr, 1.0 / (G * Sm), 0.0)
            h = (dN - dL) * inv_gs
            cumh = np.hstack([np.zeros((len(ix), 1)), np.cumsum(h, axis=1)])
        for t in range(n_t):
            c = coefs[t]
            if J:
                rcF = _revcumsum_rows(Ft * c)  # (c, K+1): sum_{k' >= k} c_k' F_k'
                Q = rcF[:, kfirst]
                E = h * (Q - Fu * Cj[t])
                resid[:, t] += E.sum(axis=1)
            N[ix, t] += inp.W[ix] * resid[:, t]
            if not nuisance:
                continue
            if inp.Z is not None:
                g_gamma[t] += (wW * inp.m_gamma[ix] * resid[:, t]) @ inp.Z[ix]
            # outcome: F(tau_k) through (I_k - 1)
            if J:
                jk = np.minimum(jT[:, None], jtau[None, :])
                Ik = np.take_along_axis(cumh, jk, axis=1)
            else:
                Ik = np.zeros((len(ix), len(grid)))
            al1 = (Ik - 1.0) * (1.0 - Ft)  # times w W c_k: alpha on H(tau_k) through (I_k - 1)
            acc_o[t] += np.bincount(tau_bins, c * ((wW * ro) @ al1), minlength=acc_o.shape[1])
            a_o[ix, t] += wW * (al1 @ (c * L_tau))
            if J:
                al2 = -wW[:, None] * h * Cj[t] * Su  # F(u_j)
                al3 = wW[:, None] * E  # S(u_j-)
                acc_o[t] += np.bincount(u_bin_r, (al2 * ro[:, None]).sum(axis=0), minlength=acc_o.shape[1])
                acc_o[t] += np.bincount(u_bin_l, (al3 * ro[:, None]).sum(axis=0), minlength=acc_o.shape[1])
                a_o[ix, t] += al2 @ L_u + al3 @ L_um
            if cm is None or cm.empty:
                continue
            # censoring: G(T-) in the IPCW term
            with np.errstate(divide="ignore", invalid="ignore"):
                al_t = np.where(ev, wW * CT[:, t] / GT, 0.0)
            acc_c[t] += np.bincount(bT, al_t * rcn, minlength=acc_c.shape[1])
            a_c[ix, t] += al_t * cm.base(bT)
            if J:
                # G(u_j-) and the increments dLambda^C(u_j) in the augmentation
                acc_c[t, :J] += (al3 * rcn[:, None]).sum(axis=0)
                psi = -wW[:, None] * (Q - Fu * Cj[t]) * inv_gs
                acc_ci[t, :J] += (psi * rcn[:, None]).sum(axis=0)
                a_c[ix, t] += al3 @ cm.base(np.arange(J)) + psi @ dlc
    theta = (inp.w @ N) / wD
    infl = (N - np.outer(inp.D, theta)) / wD
    if not nuisance:
        return theta, infl
    for t in range(n_t):
        extra = om.influence(acc_o[t], None, Xo.T @ (r_out * a_o[:, t]) if om.p else np.zeros(0))
        if cm is not None and not cm.empty:
            rc_all = cm.risk(inp.X_cens)
            gb = cm.center(inp.X_cens).T @ (rc_all * a_c[:, t]) if cm.p else np.zeros(0)
            extra = extra + cm.influence(acc_c[t], acc_ci[t], gb)
        if inp.Z is not None:
            extra = extra + (inp.Z @ (inp.inv_info_gamma @ g_gamma[t])) * (inp.treated - inp.p)
        infl[:, t] += extra / wD
    return theta, infl


def arm_curve(inp: ArmInputs, grid: np.ndarray) -> np.ndarray:
    """AIPTW/AIPCW risk ``F_a(t)`` at every time of ``grid`` (point estimates only)."""
    om, cm = inp.outcome, inp.censor
    n = len(inp.time)
    r_out = om.risk(inp.X_out)
    L_tau = om.base(om.bins(grid))
    total = np.zeros(len(grid))
    for sl in _chunks(n, len(grid)):
        total += (inp.w * inp.g)[sl] @ (1.0 - np.exp(-np.outer(r_out[sl], L_tau)))
    rows = np.flatnonzero(inp.arm_rows)
    u = cm.ev_times[cm.ev_times <= grid.max()] if cm is not None and not cm.empty else np.zeros(0)
    J = len(u)
    L_u, L_um = om.base(om.bins(u)), om.base(om.bins(u, left=True))
    jtau = np.searchsorted(u, grid, side="right")
    for sl0 in _chunks(len(rows), J + len(grid)):
        ix = rows[sl0]
        T, ev = inp.time[ix], inp.event[ix]
        wW = inp.w[ix] * inp.W[ix]
        ro = r_out[ix]
        Ft = 1.0 - np.exp(-np.outer(ro, L_tau))
        if J and cm is not None:  # J > 0 only with a censoring model
            rcn = cm.risk(inp.X_cens[ix])
            GT = np.exp(-cm.base(cm.bins(T, left=True)) * rcn)
        else:
            GT = np.ones(len(ix))
        Y = ev[:, None] & (T[:, None] <= grid[None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(Y, 1.0 / GT[:, None], 0.0) - Ft
        if J and cm is not None:
            jT = np.searchsorted(u, T, side="right")
            atr = np.arange(J)[None, :] < jT[:, None]
            G = np.exp(-np.outer(rcn, cm.base(np.arange(J))))
            Sm = np.exp(-np.outer(ro, L_um))
            Fu = 1.0 - np.exp(-np.outer(ro, L_u))
            dN = (T[:, None] == u[None, :]) & ~ev[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                h = np.where(atr, (dN - np.outer(rcn, cm.dlam[:J])) / (G * Sm), 0.0)
            z = np.zeros((len(ix), 1))
            cumh = np.hstack([z, np.cumsum(h, axis=1)])
            cumhf = np.hstack([z, np.cumsum(h * Fu, axis=1)])
            jk = np.minimum(jT[:, None], jtau[None, :])
            part += Ft * np.take_along_axis(cumh, jk, axis=1) - np.take_along_axis(cumhf, jk, axis=1)
        total += wW @ part
    return total / float(inp.w @ inp.D)
