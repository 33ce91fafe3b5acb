"""Covariance vocabulary and the sandwich and cluster sums every estimator shares.

``cov_type`` takes the same three values everywhere:

- ``"nonrobust"``: the inverse (observed or expected) information;
- ``"robust"``: the sandwich ``A^{-1} B A^{-1}`` with every row its own
  cluster (Huber-White; Lin-Wei for partial likelihoods);
- ``"cluster"``: the sandwich with the scores summed within the clusters of
  the ``cluster=`` column of ``fit`` (default: the model's ``id``).

Estimators may offer further, genuinely different estimators (``"opg"`` in
:class:`~evaltools.duration.TimingOfEvents`, ``"fine-gray"`` in
:class:`~evaltools.duration.FineGray`).  Old names are in :data:`RENAMES` and
are accepted with a ``FutureWarning`` for one release.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from evaltools._model.names import renamed_value
from evaltools._validation import check_option

__all__ = [
    "COV_TYPES",
    "RENAMES",
    "centred_cluster_covariance",
    "cluster_sums",
    "resolve_cov_type",
    "sandwich",
    "score_meat",
]

COV_TYPES: tuple[str, ...] = ("nonrobust", "robust", "cluster")

#: Old ``cov_type`` values per estimator family, ``{old: new}``.
RENAMES: dict[str, dict[str, str]] = {
    "cox": {"naive": "nonrobust"},
    "toe": {"hessian": "nonrobust", "sandwich": "robust"},
    "iv": {"unadjusted": "nonrobust", "clustered": "cluster"},
}


def resolve_cov_type(
    cov_type: str,
    where: str,
    *,
    options: Iterable[str] = COV_TYPES,
    renames: Mapping[str, str] | None = None,
    stacklevel: int = 5,
) -> str:
    """Validate ``cov_type``, mapping an old name to the new one with a ``FutureWarning``.

    Parameters
    ----------
    cov_type : str
        The value given.
    where : str
        The method, e.g. ``"CoxPH.fit"``.
    options : iterable of str, default=COV_TYPES
        The valid (new) values.
    renames : mapping, optional
        ``{old: new}`` accepted for one release (one of :data:`RENAMES`).
    stacklevel : int, default=5
        Passed to :func:`warnings.warn` (5: the user's call of ``fit``).

    Returns
    -------
    str
        The new name.

    Raises
    ------
    SpecificationError
        For any other value, listing the valid options.
    """
    value = renamed_value("cov_type", cov_type, renames or {}, where, stacklevel=stacklevel)
    check_option("cov_type", value, list(options), where)
    return value


def cluster_sums(scores: np.ndarray, codes: np.ndarray, n_clusters: int | None = None) -> np.ndarray:
    """Sum score rows within clusters.

    Parameters
    ----------
    scores : ndarray, shape (n,) or (n, k)
        Score (or influence-function) contributions per row.
    codes : ndarray of int, shape (n,)
        Cluster codes ``0 .. G-1``.
    n_clusters : int, optional
        ``G``; default ``codes.max() + 1``.

    Returns
    -------
    ndarray, shape (G, k)
    """
    s = np.asarray(scores, dtype=float)
    s = s[:, None] if s.ndim == 1 else s
    codes = np.asarray(codes)
    g = int(codes.max()) + 1 if n_clusters is None else int(n_clusters)
    if s.shape[1] == 0:
        return np.zeros((g, 0))
    return np.stack([np.bincount(codes, s[:, j], minlength=g) for j in range(s.shape[1])], axis=1)


def score_meat(
    scores: np.ndarray, codes: np.ndarray | None = None, n_clusters: int | None = None
) -> np.ndarray:
    """The meat ``B = sum_g S_g S_g'`` of a sandwich (rows as clusters when ``codes`` is None).

    Parameters
    ----------
    scores : ndarray, shape (n, k)
        Score contributions per row.
    codes : ndarray of int, optional
        Cluster codes ``0 .. G-1``.
    n_clusters : int, optional
        ``G``; default ``codes.max() + 1``.

    Returns
    -------
    ndarray, shape (k, k)
    """
    s = np.asarray(scores, dtype=float)
    if codes is not None:
        s = cluster_sums(s, codes, n_clusters)
    return s.T @ s


def sandwich(bread: np.ndarray, meat: np.ndarray, *, factor: float = 1.0) -> np.ndarray:
    """``factor * bread @ meat @ bread`` (``bread`` is the inverse information).

    Parameters
    ----------
    bread : ndarray, shape (k, k)
        Inverse information (symmetric).
    meat : ndarray, shape (k, k)
        Outer product of the (cluster-summed) scores.
    factor : float, default=1.0
        Small-sample factor, e.g. ``G / (G - 1)``.

    Returns
    -------
    ndarray, shape (k, k)
    """
    out = bread @ meat @ bread
    return out * factor if factor != 1.0 else out


def centred_cluster_covariance(infl: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Covariance of sum-form influence functions clustered by ``cluster`` (small-sample factor G/(G-1)).

    Parameters
    ----------
    infl : array, shape (n,) or (n, k)
        Influence-function contributions of each row to ``k`` estimates (sum form:
        ``estimate - truth ~= infl.sum(axis=0)``).
    cluster : array, shape (n,)
        Cluster labels (any hashable values).

    Returns
    -------
    ndarray, shape (k, k)
        ``G/(G-1) sum_g (s_g - mean s)(s_g - mean s)'`` over the cluster sums ``s_g``
        (NaN with fewer than two clusters).
    """
    m = np.asarray(infl, dtype=float)
    m = m[:, None] if m.ndim == 1 else m
    _, inv = np.unique(np.asarray(cluster), return_inverse=True)
    g = int(inv.max()) + 1 if len(inv) else 0
    if g < 2:
        return np.full((m.shape[1], m.shape[1]), np.nan)
    s = np.zeros((g, m.shape[1]))
    np.add.at(s, inv.ravel(), m)
    sc = s - s.mean(axis=0)
    return g / (g - 1) * sc.T @ sc
