"""Sortable ``(person, week)`` keys and the lookups built on them.

A person is ranked among the sorted unique persons ``uniq`` and the key is
``(rank << 32) + (week + 2**31)``: one int64 that sorts by person, then week,
for any week in the int32 range.  ``np.searchsorted`` on sorted keys then finds,
for many queries at once and without a Python loop, the latest row of a person
at or before a week, or the rows of a person in a week range.
"""

from __future__ import annotations

import numpy as np

__all__ = ["last_at_or_before", "person_week_key", "rows_in_range"]


def person_week_key(pid: np.ndarray, week: np.ndarray, uniq: np.ndarray) -> np.ndarray:
    """Sortable int64 key of ``(person, week)`` pairs.

    Parameters
    ----------
    pid : ndarray
        Person ids; every one must be in ``uniq``.
    week : ndarray of int
        Weeks (int32 range).
    uniq : ndarray
        Sorted unique person ids (e.g. ``np.unique(np.concatenate([a, b]))``).

    Returns
    -------
    ndarray of int64
    """
    rank = np.searchsorted(uniq, pid).astype(np.int64)
    return (rank << 32) + (np.asarray(week).astype(np.int64) + 2**31)


def last_at_or_before(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Position of the last key ``<=`` each query (``-1`` where there is none).

    Parameters
    ----------
    keys : ndarray of int64
        Sorted keys of :func:`person_week_key`.
    queries : ndarray of int64
        Query keys.

    Returns
    -------
    ndarray of int
        Positions into ``keys``; the caller checks that the row found belongs
        to the query's person.
    """
    return np.searchsorted(keys, queries, side="right") - 1


def rows_in_range(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Number of keys in ``[lo, hi]`` for each pair of query keys (sorted ``keys``)."""
    return np.searchsorted(keys, hi, side="right") - np.searchsorted(keys, lo, side="left")
