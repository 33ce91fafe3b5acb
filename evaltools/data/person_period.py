"""Person-period (spell-week) rows for discrete-time hazard models."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evaltools.data._expand import Treatments, expand_spells
from evaltools.data.panel import RegisterPanel

__all__ = ["to_person_period"]


def to_person_period(
    spells: pd.DataFrame,
    panel: RegisterPanel | None = None,
    *,
    treatments: Treatments | None = None,
    covariates: Sequence[str] | None = None,
    time_bands: Sequence[int] | None = None,
    max_duration: int | None = None,
    event_exits: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per spell-week.

    Parameters
    ----------
    spells : DataFrame
        A spell table from :func:`evaltools.data.build_spells`.
    panel : RegisterPanel, optional
        Needed for ``treatments`` given by event-table name, ``covariates`` and
        the ``in_activation`` column (added whenever a panel is given).
    treatments : str, list of str or dict, optional
        Treatment event tables: a name in ``panel.events`` (columns ``treated``
        and ``time_since_treatment``), a list of names (columns
        ``treated_<name>``, ``time_since_<name>``) or ``{label: name or
        DataFrame with person_id, week}``.
    covariates : list of str, optional
        Person-level columns of ``panel.persons`` to merge.
    time_bands : sequence of int, optional
        Inclusive upper bounds (weeks since treatment start) of the
        ``time_since_*`` bands, e.g. ``(4, 13, 26)`` gives ``"1-4", "5-13",
        "14-26", "27+"`` plus ``"untreated"``.  Without it no band column is made.
    max_duration : int, optional
        Follow spells for at most this many weeks; longer spells are censored
        at ``max_duration``.
    event_exits : str or list of str, optional
        Exits that count as the event (default: every exit except ``"censored"``).

    Returns
    -------
    DataFrame
        Columns ``spell_id``, ``person_id``, ``benefit``, ``week`` (calendar
        week index), ``duration`` (1, 2, ... weeks since spell start), ``event``
        (int8, 1 in the spell's last week if its exit is in ``event_exits``),
        ``exit`` (``"none"`` while the spell continues, else the destination,
        for competing-risks models), then ``treated*``, ``time_since_*``,
        ``in_activation`` (int8) and the covariates.

    Notes
    -----
    ``treated`` switches on in the week *after* the treatment starts; see
    :mod:`evaltools.data._expand` for the exact conventions shared with
    :func:`evaltools.data.to_counting_process`.
    """
    out, _ = expand_spells(
        spells,
        panel,
        treatments=treatments,
        covariates=covariates,
        time_bands=time_bands,
        max_duration=max_duration,
        event_exits=event_exits,
        where="to_person_period",
    )
    return out
