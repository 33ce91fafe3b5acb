"""Newton-Raphson with step halving, the convergence warning and the separation check.

One driver serves every likelihood of the package: the caller supplies
``evaluate(theta) -> state`` (a state carries the log-likelihood ``llf`` and
whatever the caller needs for the next step) and ``direction(state) ->
(step, decrement)``.  A step is halved until the log-likelihood does not fall
(by more than a relative ``1e-12``) and is finite.  Convergence is judged on
the Newton decrement ``g' H^{-1} g`` of the step just taken
(``criterion="decrement"``) or on the relative change of the log-likelihood
(``criterion="llf"``, R ``coxph``'s ``eps``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from scipy import linalg

from evaltools.exceptions import ConvergenceWarning

__all__ = ["NewtonResult", "diverging_coefficients", "newton_maximize", "solve_step", "warn_not_converged"]

S = TypeVar("S")


@dataclass(frozen=True)
class NewtonResult(Generic[S]):
    """Outcome of :func:`newton_maximize`.

    Attributes
    ----------
    params : ndarray
        The last accepted parameter vector.
    state : Any
        ``evaluate(params)``.
    n_iter : int
        Newton iterations taken.
    converged : bool
        Whether the criterion was met within ``max_iter``.
    step : ndarray
        The last full Newton step (before halving).
    stalled : bool
        The driver stopped early: ``direction`` returned None (no Newton step,
        e.g. the Hessian is not negative definite) or, with
        ``accept_failed_halving=False``, no halving of a step raised the
        log-likelihood.  The caller may switch to another method from ``params``.
    """

    params: np.ndarray
    state: S
    n_iter: int
    converged: bool
    step: np.ndarray
    stalled: bool = False


def solve_step(info: np.ndarray, score: np.ndarray, *, positive: bool = False) -> np.ndarray:
    """Newton step ``info^{-1} score`` (least squares where ``info`` is singular).

    Parameters
    ----------
    info : ndarray, shape (k, k)
        Information (minus the Hessian of the log-likelihood).
    score : ndarray, shape (k,)
        Gradient of the log-likelihood.
    positive : bool, default=False
        Solve assuming a positive-definite ``info`` (Cholesky).

    Returns
    -------
    ndarray, shape (k,)
    """
    if positive:
        try:
            return linalg.solve(info, score, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            return linalg.lstsq(info, score)[0]
    try:
        return np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(info, score, rcond=None)[0]


def newton_maximize(
    evaluate: Callable[[np.ndarray], S],
    x0: np.ndarray,
    direction: Callable[[S], tuple[np.ndarray, float] | None],
    *,
    max_iter: int,
    tol: float,
    criterion: Literal["decrement", "llf"] = "decrement",
    stall_floor: float | None = None,
    max_halvings: int = 40,
    llf: Callable[[S], float] = lambda s: float(s.llf),  # type: ignore[attr-defined]
    state0: S | None = None,
    accept_failed_halving: bool = True,
) -> NewtonResult[S]:
    """Maximise a log-likelihood by Newton-Raphson with step halving.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(theta)`` returns a state with the log-likelihood (see ``llf``).
    x0 : ndarray
        Starting values.
    direction : callable
        ``direction(state)`` returns the full Newton step and its decrement
        ``g' H^{-1} g`` at that state, or None when there is no Newton step
        (the driver then stops with ``stalled=True``).
    max_iter : int
        Maximum number of Newton iterations.
    tol : float
        Tolerance of the criterion.
    criterion : {"decrement", "llf"}, default="decrement"
        ``"decrement"``: stop when the decrement of the step taken is below
        ``tol``.  ``"llf"``: stop when ``|llf_new - llf_old| <= tol * |llf_new|``.
    stall_floor : float, optional
        With ``"decrement"``: also stop when the decrement is below
        ``stall_floor`` and no longer halves (rounding noise).
    max_halvings : int, default=40
        Maximum number of halvings of one step; the last candidate is accepted.
    llf : callable, optional
        Log-likelihood of a state (default ``state.llf``).
    state0 : state, optional
        ``evaluate(x0)`` when the caller has it already.
    accept_failed_halving : bool, default=True
        After ``max_halvings`` without an increase, accept the last candidate
        (True) or stop at the current point with ``stalled=True`` (False).

    Returns
    -------
    NewtonResult
    """
    theta = np.asarray(x0, dtype=float).copy()
    state = evaluate(theta) if state0 is None else state0
    cur = llf(state)
    converged = False
    it = 0
    prev = np.inf
    step = np.zeros_like(theta)
    stalled = False
    for it in range(1, max_iter + 1):  # noqa: B007 - n_iter reported
        found = direction(state)
        if found is None:
            stalled = True
            break
        step, decrement = found
        t = 1.0
        cand = theta + step
        new = evaluate(cand)
        new_llf = llf(new)
        halvings = 0
        while not (np.isfinite(new_llf) and new_llf >= cur - 1e-12 * abs(cur)) and halvings < max_halvings:
            t /= 2
            halvings += 1
            cand = theta + t * step
            new = evaluate(cand)
            new_llf = llf(new)
        if not accept_failed_halving and not (np.isfinite(new_llf) and new_llf >= cur - 1e-12 * abs(cur)):
            stalled = True
            break
        if criterion == "llf":
            done = abs(new_llf - cur) <= tol * max(abs(new_llf), 1e-300)
        else:
            done = decrement < tol or (
                stall_floor is not None and decrement < stall_floor and decrement >= 0.5 * prev
            )
            prev = decrement
        theta, state, cur = cand, new, new_llf
        if done:
            converged = True
            break
    return NewtonResult(theta, state, it, converged, step, stalled)


def warn_not_converged(where: str, max_iter: int, detail: str = "", *, stacklevel: int = 3) -> None:
    """The :class:`~evaltools.exceptions.ConvergenceWarning` of an optimiser that ran out of iterations.

    Parameters
    ----------
    where : str
        The method, e.g. ``"DiscreteHazard.fit"``.
    max_iter : int
        The iteration limit reached.
    detail : str, default=""
        Extra text placed after the iteration count, e.g. ``" (last log-likelihood -1.0)"``.
    stacklevel : int, default=3
        Passed to :func:`warnings.warn`.
    """
    warnings.warn(
        f"{where}: Newton-Raphson did not converge in {max_iter} iterations{detail}; estimates may be "
        "unreliable. Increase max_iter or check the covariates for separation.",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )


def diverging_coefficients(
    params: np.ndarray, final_step: np.ndarray, names: Sequence[Any], *, rtol: float = 1e-3
) -> list[Any]:
    """Names of coefficients still moving at convergence of the log-likelihood (monotone likelihood).

    Under separation the log-likelihood flattens while a coefficient keeps
    growing towards infinity: the Newton step at the optimum stays large
    relative to the coefficient.

    Parameters
    ----------
    params : ndarray
        Estimates at convergence.
    final_step : ndarray
        The Newton step at ``params``.
    names : sequence
        Coefficient names.
    rtol : float, default=1e-3
        A coefficient is diverging when ``|step| > rtol * max(1, |coef|)``.

    Returns
    -------
    list
        Names of the diverging coefficients (empty when none).
    """
    diverging = np.abs(final_step) > rtol * np.maximum(1.0, np.abs(params))
    return [names[int(j)] for j in np.flatnonzero(diverging)]
