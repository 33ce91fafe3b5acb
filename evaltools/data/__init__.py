"""Register panel data layer: containers, readers/writers, validation and transforms.

The central object is :class:`RegisterPanel` (sparse long person-week states,
a person table and event tables).  Readers build panels from the DREAM wide
layout (:func:`read_dream`; in row batches of whole persons :func:`iter_dream`)
or long person-week files (:func:`read_long`);
:func:`validate` checks the content; the transforms produce benefit spells
(:func:`build_spells`), counting-process rows (:func:`to_counting_process`),
person-period rows (:func:`to_person_period`) and outcomes around reference
weeks.  :mod:`evaltools.data.dask` runs the same transforms on Dask
DataFrames partitioned by person (optional ``dask`` extra).

Every reader and constructor applies one input contract
(:mod:`evaltools.data.contract`): strict CSV parsing and column names, person
ids that are integers or verbatim text (never merged), weeks checked before any
cast, named errors (:class:`~evaltools.exceptions.FileFormatError`,
:class:`~evaltools.exceptions.ColumnNameError`,
:class:`~evaltools.exceptions.PersonIdError`,
:class:`~evaltools.exceptions.WeekValueError`, ...) and counted
:class:`~evaltools.exceptions.InputWarning` notes recorded in
``panel.meta["input_notes"]``.
"""

from __future__ import annotations

from evaltools.data._store_io import dream_to_store
from evaltools.data._stream import iter_dream
from evaltools.data.checks import Issue, ValidationReport, validate
from evaltools.data.codes import CodeTable, default_codes
from evaltools.data.counting import to_counting_process
from evaltools.data.covariates import COVARIATES_AT, covariates_at
from evaltools.data.io import read_dream, read_long, to_dream_wide, write_dream, write_long
from evaltools.data.joins import event_at, events_in_spells, join_persons
from evaltools.data.outcomes import (
    is_self_supporting,
    self_supporting_at,
    weeks_on_public_support,
    weeks_self_supporting,
)
from evaltools.data.panel import RegisterPanel
from evaltools.data.person_period import to_person_period
from evaltools.data.spells import LEFT_CENSORING, build_spells, left_censored
from evaltools.data.store import PanelStoreWriter, read_panel, read_panel_dask, subset_panel, write_panel
from evaltools.data.weeks import (
    decimal_year,
    dream_column,
    index_to_isoweek,
    isoweek_to_index,
    parse_dream_columns,
    week_label,
    week_monday,
    week_month,
    weeks_in_year,
)

__all__ = [
    "RegisterPanel",
    "CodeTable",
    "default_codes",
    "read_dream",
    "iter_dream",
    "write_dream",
    "to_dream_wide",
    "read_long",
    "write_long",
    "read_panel",
    "write_panel",
    "PanelStoreWriter",
    "subset_panel",
    "read_panel_dask",
    "dream_to_store",
    "validate",
    "ValidationReport",
    "Issue",
    "build_spells",
    "left_censored",
    "LEFT_CENSORING",
    "to_counting_process",
    "covariates_at",
    "COVARIATES_AT",
    "events_in_spells",
    "event_at",
    "join_persons",
    "to_person_period",
    "is_self_supporting",
    "self_supporting_at",
    "weeks_self_supporting",
    "weeks_on_public_support",
    "isoweek_to_index",
    "index_to_isoweek",
    "weeks_in_year",
    "week_label",
    "week_monday",
    "week_month",
    "decimal_year",
    "dream_column",
    "parse_dream_columns",
]
