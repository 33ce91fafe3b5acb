"""Counting-process ``(start, stop]`` rows in spell-duration time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaltools.data._expand import Treatments, expand_spells
from evaltools.data.panel import RegisterPanel

__all__ = ["to_counting_process"]


def to_counting_process(
    spells: pd.DataFrame,
    panel: RegisterPanel | None = None,
    *,
    treatments: Treatments | None = None,
    covariates: Sequence[str] | None = None,
    time_bands: Sequence[int] | None = None,
    max_duration: int | None = None,
    event_exits: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Counting-process rows ``(start, stop]`` with time-varying covariates.

    Time is weeks since spell start: spell week ``k`` covers ``(k - 1, k]``, so
    the first row of every spell has ``start = 0`` and the last row has
    ``stop = duration``.  Consecutive spell-weeks with identical time-varying
    values are collapsed into one row.  This matches the risk-set semantics of
    the Cox model: a spell is at risk at time ``t`` in the row with
    ``start < t <= stop``, and an event is recorded at ``stop`` of its last row.

    Parameters
    ----------
    spells : DataFrame
        A spell table from :func:`evaltools.data.build_spells`.
    panel : RegisterPanel, optional
        Needed for event-table treatments, covariates and ``in_activation``.
    treatments, covariates, time_bands, max_duration, event_exits
        As in :func:`evaltools.data.to_person_period`.

    Returns
    -------
    DataFrame
        Columns ``spell_id``, ``person_id``, ``benefit``, ``start``, ``stop``
        (int32), ``event`` (int8), ``exit`` (``"none"`` except in the spell's
        last row), the time-varying columns (``treated*``, ``time_since_*``,
        ``in_activation``) and the covariates.
    """
    wk, tv = expand_spells(
        spells,
        panel,
        treatments=treatments,
        covariates=covariates,
        time_bands=time_bands,
        max_duration=max_duration,
        event_exits=event_exits,
        where="to_counting_process",
    )
    n = len(wk)
    sid = wk["spell_id"].to_numpy()
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = sid[1:] != sid[:-1]
        for c in tv:
            col = wk[c]
            v = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
            new[1:] |= v[1:] != v[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], n] - 1 if n else first
    dur = wk["duration"].to_numpy()
    out = wk.iloc[first].reset_index(drop=True)
    out = out.drop(columns=["week", "duration", "event", "exit"])
    out.insert(3, "start", (dur[first] - 1).astype(np.int32))
    out.insert(4, "stop", dur[last].astype(np.int32))
    out.insert(5, "event", wk["event"].to_numpy()[last])
    out.insert(6, "exit", wk["exit"].iloc[last].reset_index(drop=True))
    return out
