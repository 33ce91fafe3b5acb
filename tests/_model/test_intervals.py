"""The (person, week) key and its lookups against a plain loop."""

from __future__ import annotations

import numpy as np

from evaltools._model.intervals import last_at_or_before, person_week_key, rows_in_range


def test_lookups_match_a_loop():
    rng = np.random.default_rng(5)
    pid = np.sort(rng.choice([10, 20, 30, 40_000_000_000], 60))
    week = rng.integers(-50, 3000, 60)
    order = np.lexsort((week, pid))
    pid, week = pid[order], week[order]
    qp = rng.choice([10, 20, 30, 40_000_000_000, 50], 80)
    qw = rng.integers(-60, 3100, 80)
    uniq = np.unique(np.concatenate([pid, qp]))
    keys = person_week_key(pid, week, uniq)
    assert np.all(np.diff(keys) >= 0)
    pos = last_at_or_before(keys, person_week_key(qp, qw, uniq))
    for p, w, k in zip(qp, qw, pos):
        mine = np.flatnonzero((pid == p) & (week <= w))
        if len(mine):
            assert k == mine[-1]
        else:
            assert k < 0 or pid[k] != p
    n = rows_in_range(keys, person_week_key(qp, qw - 100, uniq), person_week_key(qp, qw, uniq))
    loop = [int(((pid == p) & (week >= w - 100) & (week <= w)).sum()) for p, w in zip(qp, qw)]
    np.testing.assert_array_equal(n, loop)
