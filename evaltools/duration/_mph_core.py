"""Numerical core of the mixed proportional hazards (MPH) model with NPMLE heterogeneity.

The data are episode-split rows sorted by person: each row has a length ``t``
(weeks), an at-risk mask over the ``J`` hazards, the transition that ended it
(``-1`` for none) and one design matrix per hazard.  The hazard of transition
``j`` in row ``r`` at mass point ``m`` is ``h = exp(x_rj' beta_j + v_mj)``.

Row contributions (``H`` = sum of the hazards at risk in the row):

* ``timing="exact"``: ``h_d^{[event]} exp(-t H)`` (piecewise-exponential);
* ``timing="interval"`` (weekly grouped time): the row survives ``t - 1``
  weeks and the transition happens *somewhere in the last week*,
  ``exp(-(t-1) H) * h_d / H * (1 - exp(-H))``; rows without a transition
  contribute ``exp(-t H)``.  This is durmod's ``timing="interval"`` applied to
  person-week rows and, with one hazard, the cloglog binary model on person-weeks.

The person likelihood is ``sum_m pi_m prod_r c_r(v_m)``, evaluated as a
log-sum-exp over points; gradients use the posterior point weights
(responsibilities) times per-row score pieces, summed with prebuilt sparse person x row
indicator matrices (rows sorted by person).  Probabilities are logit-parametrised with
``a_0 = 0``.

:func:`loglik_hess` gives the analytic Hessian (within-point curvature of the
row terms plus the between-point spread of the point scores); :func:`maximise`
runs modified Newton steps with it and a backtracking line search, with
L-BFGS-B only as a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

__all__ = ["Design", "Layout", "make_design", "loglik", "loglik_grad", "loglik_hess", "person_loglik",
           "person_scores", "candidate_loglik", "directional_derivative", "enter_points", "maximise",
           "newton", "numerical_hessian"]

_LIN_MAX = 40.0  # cap on log hazards (exp(40) per week is already absurd); keeps exp finite


@dataclass(frozen=True)
class Design:
    """Arrays describing the rows (sorted by person); build with :func:`make_design`."""

    pid: np.ndarray  # (n,) int person index 0..N-1, non-decreasing
    starts: np.ndarray  # (N,) first row of each person
    t: np.ndarray  # (n,) row length
    event: np.ndarray  # (n,) int transition index or -1
    risk: np.ndarray  # (n, J) bool
    X: tuple[np.ndarray, ...]  # J design matrices (n, p_j)
    interval: bool
    texp: np.ndarray  # (n,) exposure multiplying H in the linear part: t, or t - 1 for interval event rows
    ev_idx: np.ndarray  # (ne,) rows ending with a transition
    ev_j: np.ndarray  # (ne,) their transition
    ev_pid: np.ndarray  # (ne,) their person
    ev_persons: np.ndarray  # persons with at least one transition
    ev_starts: np.ndarray  # first event row (within ev_idx) of each of those persons
    R: sparse.csr_matrix  # (N, n) person x row indicator: person sums as one sparse product
    Rev: sparse.csr_matrix  # (N_ev, ne) person-with-events x event-row indicator

    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return int(self.starts.shape[0])

    @property
    def n_hazards(self) -> int:
        """Number of hazards (transitions)."""
        return int(self.risk.shape[1])


def make_design(pid: np.ndarray, t: np.ndarray, event: np.ndarray, risk: np.ndarray,
                X: tuple[np.ndarray, ...], interval: bool) -> Design:
    """Build a :class:`Design` from rows sorted by person (``pid`` non-decreasing, 0..N-1)."""
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
    ev_idx = np.flatnonzero(event >= 0)
    ev_pid = pid[ev_idx]
    first = np.r_[True, ev_pid[1:] != ev_pid[:-1]] if ev_idx.size else np.zeros(0, bool)
    texp = t - (interval & (event >= 0))
    n, N = pid.shape[0], starts.shape[0]
    R = sparse.csr_matrix((np.ones(n), (pid, np.arange(n))), shape=(N, n))
    ev_rank = np.cumsum(first) - 1
    Rev = sparse.csr_matrix((np.ones(ev_idx.size), (ev_rank, np.arange(ev_idx.size))),
                            shape=(int(first.sum()), ev_idx.size))
    return Design(pid=pid, starts=starts, t=t, event=event, risk=risk, X=X, interval=interval,
                  texp=texp.astype(float), ev_idx=ev_idx, ev_j=event[ev_idx], ev_pid=ev_pid,
                  ev_persons=ev_pid[first], ev_starts=np.flatnonzero(first), R=R, Rev=Rev)


def _sum_by(R: sparse.csr_matrix, x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Group sums ``R @ x`` along ``axis`` (0 for 2-D ``x``, 1 for point-major 3-D ``(M, rows, k)``)."""
    if x.ndim == 1:
        return np.asarray(R @ x)
    if x.ndim == 2:
        return np.asarray(R @ x)
    M, r, k = x.shape
    out = np.asarray(R @ x.transpose(1, 0, 2).reshape(r, M * k))
    return out.reshape(-1, M, k).transpose(1, 0, 2)


@dataclass(frozen=True)
class Layout:
    """Positions of the parameter blocks in the flat vector for ``M`` points."""

    p: tuple[int, ...]
    n_points: int

    @property
    def n_beta(self) -> int:
        """Number of regression coefficients (all hazards)."""
        return int(sum(self.p))

    @property
    def size(self) -> int:
        """Total number of parameters."""
        return self.n_beta + self.n_points * len(self.p) + self.n_points - 1

    def split(self, theta: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Split ``theta`` into (betas, V (M, J), a (M,) with a[0] = 0)."""
        J = len(self.p)
        betas, k = [], 0
        for pj in self.p:
            betas.append(theta[k:k + pj])
            k += pj
        V = theta[k:k + self.n_points * J].reshape(self.n_points, J)
        k += self.n_points * J
        a = np.concatenate([[0.0], theta[k:]])
        return betas, V, a

    def join(self, betas: list[np.ndarray], V: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`split` (``a[0]`` is dropped)."""
        return np.concatenate([*[np.asarray(b, float) for b in betas], np.ravel(V), np.asarray(a)[1:]])


def _linear(design: Design, betas: list[np.ndarray]) -> np.ndarray:
    n = design.t.shape[0]
    eta = np.empty((n, design.n_hazards))
    for j, (Xj, bj) in enumerate(zip(design.X, betas)):
        eta[:, j] = Xj @ bj if Xj.shape[1] else 0.0
    return eta


def _half_minus(H: np.ndarray) -> np.ndarray:
    """Stable ``1/H - 1/expm1(H)`` (tends to 1/2 as H -> 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        big = 1.0 / H - np.exp(-H) / -np.expm1(-H)
    return np.where(H < 1e-4, 0.5 - H / 12.0, big)


def _collapsed(design: Design, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``texp * exp(eta) * risk`` (n, J) and its per-person sums ``A`` (N, J).

    The part ``-texp * H`` of every row's log-contribution is linear in ``exp(v_mj)``, so
    it collapses to ``-A @ exp(V).T`` per person; only rows ending with a transition need
    per-point work.
    """
    w_row = design.texp[:, None] * np.exp(np.minimum(eta, _LIN_MAX)) * design.risk
    return w_row, _sum_by(design.R, w_row)


def _event_terms(design: Design, eta: np.ndarray, V: np.ndarray, need_grad: bool):
    """Log-contribution terms of the transition rows that are not linear in exp(v): (ne, M) [, (ne, M, J)]."""
    idx, ej = design.ev_idx, design.ev_j
    if not design.interval:
        f = eta[idx, ej][:, None] + V[:, ej].T
        return f, None
    lin = np.minimum(eta[idx][:, None, :] + V[None, :, :], _LIN_MAX)
    h = np.exp(lin)
    h *= design.risk[idx][:, None, :]
    H = h[:, :, 0].copy()
    for j in range(1, h.shape[2]):
        H += h[:, :, j]
    rows = np.arange(idx.size)
    f = lin[rows, :, ej] - np.log(H) + np.log(-np.expm1(-H))
    if not need_grad:
        return f, None
    g = h * -_half_minus(H)[:, :, None]
    g[rows, :, ej] += 1.0
    return f, g


def _ell(design: Design, eta: np.ndarray, A: np.ndarray, V: np.ndarray, need_grad: bool):
    """Person x point log-likelihoods (N, M) and the event-row pieces."""
    ell = -A @ np.exp(V).T
    f, g = _event_terms(design, eta, V, need_grad)
    if design.ev_idx.size:
        ell[design.ev_persons] += _sum_by(design.Rev, f)
    return ell, g


def _mix(ell: np.ndarray, a: np.ndarray):
    """Log probabilities, person log-likelihoods (log-sum-exp over points) and posterior weights."""
    logpi = a - (a.max() + np.log(np.exp(a - a.max()).sum()))
    z = logpi[None, :] + ell
    mx = z.max(axis=1)
    e = np.exp(z - mx[:, None])
    s = e.sum(axis=1)
    return logpi, mx + np.log(s), e / s[:, None]


def _grad_pieces(design: Design, theta: np.ndarray, layout: Layout):
    betas, V, a = layout.split(theta)
    eta = _linear(design, betas)
    w_row, A = _collapsed(design, eta)
    ell, g = _ell(design, eta, A, V, need_grad=True)
    logpi, lli, w = _mix(ell, a)
    eV = np.exp(V)
    E = w @ eV  # (N, J): posterior mean of exp(v_j)
    c = -w_row * E[design.pid]  # d loglik / d eta per row (linear part)
    idx, ej = design.ev_idx, design.ev_j
    we = w[design.ev_pid]  # (ne, M)
    if design.interval:
        ge = we[:, :, None] * g  # responsibility-weighted event scores
        c[idx] += ge.sum(axis=1)
    else:
        ge = np.zeros((idx.size, V.shape[0], V.shape[1]))
        ge[np.arange(idx.size), :, ej] = we
        c[idx, ej] += 1.0
    return betas, V, a, eV, A, logpi, lli, w, c, ge


def loglik(theta: np.ndarray, design: Design, layout: Layout) -> float:
    """Log-likelihood at ``theta``."""
    return float(person_loglik(theta, design, layout).sum())


def person_loglik(theta: np.ndarray, design: Design, layout: Layout) -> np.ndarray:
    """Per-person log-likelihood contributions (N,)."""
    betas, V, a = layout.split(theta)
    eta = _linear(design, betas)
    _, A = _collapsed(design, eta)
    ell, _ = _ell(design, eta, A, V, need_grad=False)
    return _mix(ell, a)[1]


def loglik_grad(theta: np.ndarray, design: Design, layout: Layout) -> tuple[float, np.ndarray]:
    """Log-likelihood and its analytic gradient."""
    betas, V, a, eV, A, logpi, lli, w, c, ge = _grad_pieces(design, theta, layout)
    grads = [Xj.T @ c[:, j] for j, Xj in enumerate(design.X)]
    gV = -eV * (w.T @ A) + ge.sum(axis=0)
    ga = (w - np.exp(logpi)[None, :]).sum(axis=0)[1:]
    return float(lli.sum()), np.concatenate([*grads, gV.ravel(), ga])


def person_scores(theta: np.ndarray, design: Design, layout: Layout) -> np.ndarray:
    """Per-person score contributions, shape (N, n_params)."""
    betas, V, a, eV, A, logpi, lli, w, c, ge = _grad_pieces(design, theta, layout)
    N = design.n_persons
    blocks = [np.add.reduceat(Xj * c[:, [j]], design.starts, axis=0) for j, Xj in enumerate(design.X)]
    sV = -w[:, :, None] * eV[None, :, :] * A[:, None, :]
    if design.ev_idx.size:
        sV[design.ev_persons] += np.add.reduceat(ge, design.ev_starts, axis=0)
    blocks.append(sV.reshape(N, -1))
    blocks.append((w - np.exp(logpi)[None, :])[:, 1:])
    return np.concatenate(blocks, axis=1)


def candidate_loglik(theta: np.ndarray, design: Design, layout: Layout, candidates: np.ndarray) -> np.ndarray:
    """Person log-likelihoods with all mass at each candidate point, shape (N, K)."""
    betas, _, _ = layout.split(theta)
    eta = _linear(design, betas)
    _, A = _collapsed(design, eta)
    return _ell(design, eta, A, np.atleast_2d(candidates), need_grad=False)[0]


def directional_derivative(
    theta: np.ndarray, design: Design, layout: Layout, candidates: np.ndarray
) -> np.ndarray:
    """Lindsay directional derivative ``sum_i L_i(c)/L_i - N`` for each candidate point (K,).

    Candidates are processed in chunks so that memory stays O(rows x J x chunk).
    """
    betas, V, a = layout.split(theta)
    eta = _linear(design, betas)
    _, A = _collapsed(design, eta)
    lli = _mix(_ell(design, eta, A, V, need_grad=False)[0], a)[1]
    K = candidates.shape[0]
    chunk = int(max(4, min(64, 4_000_000 // max(design.ev_idx.size * design.n_hazards, 1))))
    D = np.empty(K)
    for k0 in range(0, K, chunk):
        ellc = _ell(design, eta, A, candidates[k0:k0 + chunk], need_grad=False)[0]
        D[k0:k0 + chunk] = np.exp(np.minimum(ellc - lli[:, None], 700.0)).sum(axis=0)
    return D - design.n_persons


def enter_points(theta: np.ndarray, design: Design, layout: Layout, points: np.ndarray
                 ) -> list[tuple[np.ndarray, float]]:
    """Starting values with one more point: the ``M``-point fit plus each of ``points`` at a small mass.

    The new point ``c`` enters with the mass ``e`` that maximises the log-likelihood along
    the mixing direction, ``sum_i log((1 - e) + e L_i(c) / L_i)`` over ``e`` in
    ``[1e-6, 0.5]``, and the old probabilities are scaled by ``1 - e``.  As ``e -> 0``
    this is the ``M``-point fit itself, so a start never loses more than
    ``-N log(1 - 1e-6)`` against it and gains where the directional derivative is positive.

    Returns
    -------
    list of (ndarray, float)
        Per point: the ``M + 1``-point parameter vector and its log-likelihood gain over
        ``theta``.
    """
    betas, V, a = layout.split(theta)
    pi = np.exp(a - np.logaddexp.reduce(a))
    lli = person_loglik(theta, design, layout)
    pts = np.atleast_2d(points)
    ellc = candidate_loglik(theta, design, layout, pts)
    lay1 = Layout(p=layout.p, n_points=layout.n_points + 1)
    out = []
    for col in range(pts.shape[0]):
        diff = ellc[:, col] - lli

        def negll(e: float, diff: np.ndarray = diff) -> float:
            return -float(np.sum(np.logaddexp(np.log1p(-e), np.log(e) + diff)))

        eps = float(optimize.minimize_scalar(negll, bounds=(1e-6, 0.5), method="bounded").x)
        p_new = np.append(pi * (1 - eps), eps)
        out.append((lay1.join(betas, np.vstack([V, pts[col]]), np.log(p_new / p_new[0])), -negll(eps)))
    return out


def _phi2(H: np.ndarray) -> np.ndarray:
    """Second derivative of ``log(1 - exp(-H)) - log(H)`` (tends to 1/12 as H -> 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        em = -np.expm1(-H)
        big = 1.0 / H ** 2 - np.exp(-H) / em ** 2
    return np.where(H < 1e-3, 1.0 / 12.0 - H ** 2 / 240.0, big)


def _event_curvature(design: Design, eta: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Interval timing: second derivatives of the event-row terms w.r.t. the log hazards, (ne, M, J, J)."""
    idx = design.ev_idx
    lin = np.minimum(eta[idx][:, None, :] + V[None, :, :], _LIN_MAX)
    h = np.exp(lin) * design.risk[idx][:, None, :]
    H = h.sum(axis=2)
    C = _phi2(H)[:, :, None, None] * h[:, :, :, None] * h[:, :, None, :]
    J = V.shape[1]
    diag = -_half_minus(H)[:, :, None] * h
    C[:, :, np.arange(J), np.arange(J)] += diag
    return C


def loglik_hess(theta: np.ndarray, design: Design, layout: Layout, *, chunk: int = 20_000
                ) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, analytic gradient and analytic Hessian.

    With ``z_im = log pi_m + l_im`` the person log-likelihood is ``log sum_m exp(z_im)``
    and, with posterior weights ``w_im`` and point scores ``g_im = grad z_im``,

    ``H = sum_i sum_m w_im (hess z_im + (g_im - gbar_i)(g_im - gbar_i)')``,

    where ``gbar_i = sum_m w_im g_im``.  The within-point part is a weighted
    ``X' diag X`` per hazard pair; the between-point part is accumulated over
    chunks of ``chunk`` persons so that memory stays O(chunk x M x P).
    """
    betas, V, a = layout.split(theta)
    J, M, N = design.n_hazards, layout.n_points, design.n_persons
    p = layout.p
    nb = layout.n_beta
    off_b = np.r_[0, np.cumsum(p)].astype(int)
    off_v, off_a = nb, nb + M * J
    P = layout.size
    eta = _linear(design, betas)
    w_row, A = _collapsed(design, eta)
    ell, gev = _ell(design, eta, A, V, need_grad=True)
    logpi, lli, w = _mix(ell, a)
    pi = np.exp(logpi)
    eV = np.exp(V)
    E = w @ eV  # (N, J)
    idx, ej, epid = design.ev_idx, design.ev_j, design.ev_pid
    we = w[epid]  # (ne, M)
    S = [_sum_by(design.R, design.X[j] * w_row[:, [j]]) for j in range(J)]  # (N, p_j)
    # event parts of the point scores: exact timing -> independent of the point
    has_ev = idx.size > 0
    evp = design.ev_persons
    if design.interval:
        if has_ev:
            gT = np.ascontiguousarray(gev.transpose(1, 0, 2))  # (M, ne, J)
            Gb_ev = [_sum_by(design.Rev, gT[:, :, j][:, :, None] * design.X[j][idx][None, :, :])
                     for j in range(J)]  # (M, N_ev, p_j)
            Gv_ev = _sum_by(design.Rev, gT)  # (M, N_ev, J)
        else:
            Gb_ev = [np.zeros((M, 0, p[j])) for j in range(J)]
            Gv_ev = np.zeros((M, 0, J))  # no event persons: never read
    else:
        onehot = np.zeros((idx.size, J))
        onehot[np.arange(idx.size), ej] = 1.0
        Db = [np.zeros((N, p[j])) for j in range(J)]
        cnt = np.zeros((N, J))
        if has_ev:
            for j in range(J):
                Db[j][evp] = _sum_by(design.Rev, design.X[j][idx] * onehot[:, [j]])
            cnt[evp] = _sum_by(design.Rev, onehot)

    hess = np.zeros((P, P))
    grad = np.zeros(P)
    # ---- within-point curvature
    Cbar = None
    if design.interval and has_ev:
        C = _event_curvature(design, eta, V)  # (ne, M, J, J)
        Cbar = np.einsum("em,emjk->ejk", we, C)
    for j in range(J):
        Xj = design.X[j]
        dj = -w_row[:, j] * E[design.pid, j]
        if p[j]:
            hess[off_b[j]:off_b[j + 1], off_b[j]:off_b[j + 1]] += Xj.T @ (Xj * dj[:, None])
        # beta_j x v_mj (survival part)
        bv = -(eV[:, j][:, None] * (w.T @ S[j]))  # (M, p_j)
        for m in range(M):
            hess[off_b[j]:off_b[j + 1], off_v + m * J + j] += bv[m]
            hess[off_v + m * J + j, off_b[j]:off_b[j + 1]] += bv[m]
            hess[off_v + m * J + j, off_v + m * J + j] += -eV[m, j] * float(w[:, m] @ A[:, j])
        if Cbar is not None:
            Xe = Xj[idx]
            for k in range(J):
                if p[j] and p[k]:
                    Xk = design.X[k][idx] * Cbar[:, j, k][:, None]
                    hess[off_b[j]:off_b[j + 1], off_b[k]:off_b[k + 1]] += Xe.T @ Xk
                if p[j]:
                    bvk = np.einsum("em,em,ep->mp", we, C[:, :, j, k], Xe)  # (M, p_j)
                    for m in range(M):
                        hess[off_b[j]:off_b[j + 1], off_v + m * J + k] += bvk[m]
                        hess[off_v + m * J + k, off_b[j]:off_b[j + 1]] += bvk[m]
    if Cbar is not None:
        vv = np.einsum("em,emjk->mjk", we, C)
        for m in range(M):
            sl = slice(off_v + m * J, off_v + (m + 1) * J)
            hess[sl, sl] += vv[m]
    if M > 1:
        hess[off_a:, off_a:] += -N * (np.diag(pi[1:]) - np.outer(pi[1:], pi[1:]))
    # ---- between-point part, by chunks of persons
    ev_row = np.full(N, -1)
    if has_ev:
        ev_row[evp] = np.arange(evp.size)
    hz = np.repeat(np.arange(J), p)  # hazard of each beta column
    Sall = np.concatenate(S, axis=1) if nb else np.zeros((N, 0))
    eVb = eV[:, hz]  # (M, nb)
    if design.interval:
        if has_ev:
            Gb_all = np.concatenate(Gb_ev, axis=2) if nb else np.zeros((M, evp.size, 0))
    else:
        Dall = np.concatenate(Db, axis=1) if nb else np.zeros((N, 0))
    # g_im = (b_im [betas], c_im [v of point m only], e_m - pi [logits]); the between-point part
    # sum_m w g g' - gbar gbar' is assembled block by block (the v block is sparse across points)
    pa = pi[1:]
    for i0 in range(0, N, chunk):
        i1 = min(N, i0 + chunk)
        n = i1 - i0
        wT = np.ascontiguousarray(w[i0:i1].T)  # (M, n)
        # point-major (M, n, .) arrays: b = event part - exp(v_m) * S (survival part)
        b = -eVb[:, None, :] * Sall[None, i0:i1, :]
        c = -eV[:, None, :] * A[None, i0:i1, :]  # (M, n, J)
        if design.interval:
            if has_ev:
                er = ev_row[i0:i1]
                sel = np.flatnonzero(er >= 0)
                b[:, sel] += Gb_all[:, er[sel]]
                c[:, sel] += Gv_ev[:, er[sel]]
        else:
            b += Dall[None, i0:i1, :]
            c += cnt[None, i0:i1, :]
        wb = wT[:, :, None] * b
        wcc = wT[:, :, None] * c  # (M, n, J)
        gbar = np.empty((n, P))
        gbar[:, :nb] = wb.sum(axis=0)
        gbar[:, off_v:off_a] = wcc.transpose(1, 0, 2).reshape(n, M * J)
        gbar[:, off_a:] = wT[1:].T - pa[None, :]
        grad += gbar.sum(axis=0)
        hess -= gbar.T @ gbar
        hess[:nb, :nb] += np.matmul(b.transpose(0, 2, 1), wb).sum(axis=0)
        bv = np.matmul(wcc.transpose(0, 2, 1), b).reshape(M * J, nb)  # sum_i w_im c_imk b_im
        hess[off_v:off_a, :nb] += bv
        hess[:nb, off_v:off_a] += bv.T
        vv = np.matmul(wcc.transpose(0, 2, 1), c)  # (M, J, J)
        for m in range(M):
            sl = slice(off_v + m * J, off_v + (m + 1) * J)
            hess[sl, sl] += vv[m]
        if M > 1:
            # beta x a_k: sum_i w_ik b_ik - pi_k sum_i gbar_b
            ba = np.matmul(wT[1:, None, :], b[1:])[:, 0, :] - pa[:, None] * gbar[:, :nb].sum(axis=0)[None, :]
            hess[off_a:, :nb] += ba
            hess[:nb, off_a:] += ba.T
            # v_m x a_k: sum_i w_im c_im (delta_mk - pi_k)
            vm = np.matmul(wT[:, None, :], c)[:, 0, :]  # (M, J)
            va = -vm.reshape(M * J, 1) * pa[None, :]
            for m in range(1, M):
                va[m * J:(m + 1) * J, m - 1] += vm[m]
            hess[off_v:off_a, off_a:] += va
            hess[off_a:, off_v:off_a] += va.T
            # a x a: sum_i sum_m w_im (e_m - pi)(e_m - pi)'
            ws = wT[1:].sum(axis=1)
            hess[off_a:, off_a:] += np.diag(ws) - np.outer(ws, pa) - np.outer(pa, ws) + n * np.outer(pa, pa)
    hess = 0.5 * (hess + hess.T)
    return float(lli.sum()), grad, hess


def numerical_hessian(theta: np.ndarray, design: Design, layout: Layout) -> np.ndarray:
    """Symmetrised central-difference Hessian of the analytic gradient."""
    P = theta.shape[0]
    Hm = np.empty((P, P))
    for k in range(P):
        step = 1e-5 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += step
        tm[k] -= step
        Hm[:, k] = (loglik_grad(tp, design, layout)[1] - loglik_grad(tm, design, layout)[1]) / (2 * step)
    return 0.5 * (Hm + Hm.T)


def _bounds(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    nb = layout.n_beta
    nv = layout.n_points * len(layout.p)
    lo = np.r_[np.full(nb, -np.inf), np.full(nv, -60.0), np.full(layout.n_points - 1, -30.0)]
    hi = np.r_[np.full(nb, np.inf), np.full(nv, _LIN_MAX), np.full(layout.n_points - 1, 30.0)]
    return lo, hi


def newton(theta: np.ndarray, design: Design, layout: Layout, *, maxiter: int = 100, gtol: float = 1e-10,
           max_step: float = 5.0) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, bool]:
    """Modified Newton ascent with the analytic Hessian and a backtracking (Armijo) line search.

    The step solves ``|H| s = g`` with the eigenvalues of ``-H`` replaced by their
    absolute values (floored at ``1e-9`` of the largest), so it is an ascent direction
    also where the log-likelihood is not concave; steps are capped at ``max_step`` in
    the max-norm and projected onto the bounds of the mass points.

    Returns ``(theta, loglik, gradient, hessian, converged)``; ``converged`` means
    ``max|g| / N < gtol``.
    """
    N = design.n_persons
    lo, hi = _bounds(layout)
    theta = np.clip(np.asarray(theta, float), lo, hi)
    ll, g, H = loglik_hess(theta, design, layout)
    for _ in range(maxiter):
        if not np.isfinite(ll):
            return theta, ll, g, H, False
        free = ~(((theta <= lo) & (g < 0)) | ((theta >= hi) & (g > 0)))
        gf = np.where(free, g, 0.0)
        if float(np.max(np.abs(gf))) / N < gtol:
            return theta, ll, g, H, True
        lam, U = np.linalg.eigh(-H[np.ix_(free, free)])
        lam = np.abs(lam)
        lam = np.maximum(lam, 1e-9 * max(float(lam.max()), 1e-300))
        step = np.zeros_like(theta)
        step[free] = U @ ((U.T @ g[free]) / lam)
        big = float(np.max(np.abs(step)))
        if big > max_step:
            step *= max_step / big
        slope = float(g @ step)
        t, accepted = 1.0, False
        while t > 1e-8:
            cand = np.clip(theta + t * step, lo, hi)
            llc = loglik(cand, design, layout)
            if np.isfinite(llc) and llc >= ll + 1e-4 * t * slope:
                accepted = True
                break
            t *= 0.25
        if not accepted:
            break
        gain = llc - ll
        theta = cand
        ll, g, H = loglik_hess(theta, design, layout)
        if gain <= 1e-13 * max(abs(ll), 1.0):
            break
    gf = np.where(~(((theta <= lo) & (g < 0)) | ((theta >= hi) & (g > 0))), g, 0.0)
    return theta, ll, g, H, float(np.max(np.abs(gf))) / N < max(gtol, 1e-6)


def maximise(
    theta0: np.ndarray, design: Design, layout: Layout, *, maxiter: int = 5000, polish: bool = True,
    ftol: float = 1e-12, gtol: float = 1e-7,
) -> tuple[np.ndarray, float, bool, np.ndarray | None]:
    """Maximise the log-likelihood: Newton with the analytic Hessian, L-BFGS-B as fallback.

    ``polish=False`` is for the exploratory starts of the point search: Newton stops at
    ``max|g| / N < gtol`` (default ``1e-7``; looser values are used for the starts).
    With ``polish=True`` Newton continues to ``1e-10``.  If Newton stalls far from a
    stationary point, L-BFGS-B (``maxiter``, ``ftol``) takes over and Newton polishes.

    Returns ``(theta, loglik, converged, hessian)`` with the analytic Hessian at the
    returned ``theta``.
    """
    N = design.n_persons
    tol = 1e-10 if polish else gtol
    theta, ll, g, H, ok = newton(theta0, design, layout, gtol=tol)
    if not ok or not np.isfinite(ll):
        def f(th: np.ndarray) -> tuple[float, np.ndarray]:
            llf, gg = loglik_grad(th, design, layout)
            if not np.isfinite(llf):
                return 1e300, np.zeros_like(th)
            return -llf / N, -gg / N

        lo, hi = _bounds(layout)
        start = theta if np.isfinite(ll) else np.clip(np.asarray(theta0, float), lo, hi)
        bounds = [(None if np.isinf(a) else a, None if np.isinf(b) else b) for a, b in zip(lo, hi)]
        res = optimize.minimize(f, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": maxiter, "ftol": ftol, "gtol": gtol, "maxcor": 20})
        theta, ll, g, H, ok = newton(res.x, design, layout, gtol=tol)
        ok = ok or bool(res.success)
    converged = ok or float(np.max(np.abs(g))) / N < 1e-6
    return theta, float(ll), converged, H
