"""Register observables at a reference week (the covariates of a static evaluation design).

A static design compares placed persons at their start week with comparison
persons at drawn reference weeks (:func:`~evaltools.selection.sample_not_yet_treated`).
Both need the same characteristics *as of that week*: age, the benefit and the
readiness group (*matchgruppe*) of the spell, the elapsed spell duration from the
spell's true start, recent benefit history and the programmes already taken in
the spell.  :func:`covariates_at` builds them from a :class:`RegisterPanel`
the same way for every row, so treated and comparison rows are described alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, format_examples
from evaltools.data.joins import event_at
from evaltools.data.outcomes import weeks_on_public_support
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import decimal_year
from evaltools.exceptions import DataValidationError

__all__ = ["COVARIATES_AT", "covariates_at"]

#: The columns :func:`covariates_at` returns (``local_unemployment`` only with a mapping), in order.
COVARIATES_AT = (
    "age",
    "female",
    "origin_western",
    "origin_non_western",
    "edu_vocational",
    "edu_higher",
    "insured",
    "local_unemployment",
    "integration_benefit",
    "match2",
    "match3",
    "support_years_last5",
    "support_years_before_window",
    "elapsed_years",
    "log_elapsed_weeks",
    "calendar_year",
    "prior_programmes",
)

_PERSON_COLUMNS = ("birth_year", "sex", "origin", "education", "insured", "municipality", "readiness",
                   "support_weeks_prior5y")


def covariates_at(
    panel: RegisterPanel,
    frame: pd.DataFrame,
    *,
    local_unemployment: Mapping[str, float] | None = None,
    lookback: int = 260,
) -> pd.DataFrame:
    """Register observables of each reference row at its reference week.

    Parameters
    ----------
    panel : RegisterPanel
        The panel the rows come from (person table, ``assessment`` and
        ``activation`` events, states).
    frame : DataFrame
        One row per reference person-week with ``person_id``, ``week`` (the
        reference week), ``start_week`` (first week of the benefit spell the
        row lies in, as in :func:`~evaltools.data.build_spells`) and ``benefit``.
        Person characteristics are taken from ``panel.persons``.  Not modified.
    local_unemployment : mapping, optional
        Unemployment rate (percent) by municipality name; gives the
        ``local_unemployment`` column.  Without it the column is left out.
    lookback : int, default=260
        Weeks of history behind ``support_years_last5`` (counted over the
        observed part of the window before the reference week).

    Returns
    -------
    DataFrame
        Indexed like ``frame``, float columns :data:`COVARIATES_AT`:

        * ``age`` (decimal years at the reference week), ``female``, origin and
          education indicators (reference: Danish origin, basic education),
          ``insured`` (insurance-fund member);
        * ``integration_benefit`` (the spell is *integrationsydelse*);
        * ``match2`` / ``match3``: readiness of the assessment record covering
          the week (the person table's readiness where no record covers it);
        * ``support_years_last5``: weeks on public support in the ``lookback``
          weeks before the reference week, in years; ``support_years_before_window``:
          the person table's ``support_weeks_prior5y`` in years;
        * ``elapsed_years`` and ``log_elapsed_weeks``: time since the spell's
          true start (the assessment record's ``spell_start_week``, which lies
          before the window for spells already running at its start; else
          ``start_week``);
        * ``calendar_year`` (decimal ISO year of the week) and
          ``prior_programmes`` (programme starts in the spell before the week).

    Raises
    ------
    DataValidationError
        If a column of ``frame`` or of the person table is missing, a person is
        not in the panel, or a municipality has no unemployment rate in
        ``local_unemployment``.

    Examples
    --------
    >>> from evaltools.synth import generate
    >>> from evaltools.data import build_spells
    >>> panel = generate(seed=3, n_persons=600, years=2, att=False).panel
    >>> spells = build_spells(panel, benefit=["kontanthjaelp"])
    >>> ref = spells.assign(week=spells["start_week"]).head(5)
    >>> X = covariates_at(panel, ref)
    >>> bool((X["elapsed_years"] >= 0).all()), "local_unemployment" in X
    (True, False)
    """
    where = "covariates_at"
    check_columns(frame, ["person_id", "week", "start_week", "benefit"], where, "frame")
    check_columns(panel.persons, list(_PERSON_COLUMNS), where, "panel.persons")
    persons = panel.persons.set_index("person_id")
    known = frame["person_id"].isin(persons.index)
    if not known.all():
        raise DataValidationError(
            f"{where}: {int((~known).sum()):,} rows of frame have a person_id that is not in panel.persons "
            f"(e.g. {format_examples(frame, ~known, ['person_id', 'week'])}); pass reference rows of this "
            "panel (after panel.subset, use the subset panel)."
        )
    p = persons.loc[frame["person_id"].to_numpy(), list(_PERSON_COLUMNS)].set_axis(frame.index)
    week = frame["week"].to_numpy()
    out = pd.DataFrame(index=frame.index)
    yr = decimal_year(week)
    out["age"] = yr - p["birth_year"].to_numpy(float)
    out["female"] = (p["sex"] == "F").astype(float)
    out["origin_western"] = (p["origin"] == "western").astype(float)
    out["origin_non_western"] = (p["origin"] == "non_western").astype(float)
    out["edu_vocational"] = (p["education"] == "vocational").astype(float)
    out["edu_higher"] = (p["education"] == "higher").astype(float)
    out["insured"] = p["insured"].astype(float)
    if local_unemployment is not None:
        muni = p["municipality"].astype(str)
        rate = muni.map(dict(local_unemployment))
        if rate.isna().any():
            absent = sorted(muni[rate.isna()].unique())
            raise DataValidationError(
                f"{where}: local_unemployment has no rate for {len(absent):,} municipalities of the frame "
                f"(e.g. {', '.join(absent[:3])}); add them to the mapping or leave local_unemployment=None."
            )
        out["local_unemployment"] = rate.astype(float)
    out["integration_benefit"] = (frame["benefit"].astype(str) == "integrationsydelse").astype(float)
    ref = frame[["person_id", "week"]]
    at = event_at(panel.events["assessment"], ref, columns=["readiness", "spell_start_week"])
    readiness = at["readiness"].astype(object).fillna(p["readiness"].astype(object))
    spell_start = at["spell_start_week"].fillna(frame["start_week"]).astype(float)
    out["match2"] = (readiness == "match2").astype(float)
    out["match3"] = (readiness == "match3").astype(float)
    hist = weeks_on_public_support(panel, ref, lookback=lookback, partial="observed")
    out["support_years_last5"] = hist.astype(float).to_numpy() / 52
    out["support_years_before_window"] = p["support_weeks_prior5y"].astype(float) / 52
    elapsed = week - spell_start.to_numpy()
    out["elapsed_years"] = elapsed / 52
    out["log_elapsed_weeks"] = np.log1p(elapsed)
    out["calendar_year"] = yr
    act = panel.events["activation"][["person_id", "week"]].rename(columns={"week": "act_week"})
    prior = frame[["person_id", "start_week", "week"]].reset_index(drop=True).reset_index()
    prior = prior.merge(act, on="person_id")
    prior = prior[(prior["act_week"] >= prior["start_week"]) & (prior["act_week"] < prior["week"])]
    counts = prior.groupby("index").size().reindex(range(len(frame)), fill_value=0)
    out["prior_programmes"] = counts.to_numpy(float)
    return out
