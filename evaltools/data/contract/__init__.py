"""The input contract of the data layer: person ids, weeks, column names and input notes.

Every entry point (:func:`~evaltools.data.read_dream`, :func:`~evaltools.data.read_long`,
:class:`~evaltools.data.RegisterPanel`, event tables, :func:`~evaltools.data.validate`)
applies the same rules, implemented once here.  The functions are vectorised,
work on one batch of rows at a time (a streaming reader calls them per row
batch; :class:`IdCollector` carries the state across batches) and do not depend
on how the rows were parsed.

Person ids
    Integers that fit int64, or text kept verbatim.  Text ids that are all
    canonical integers (``"17"``, not ``"017"`` or ``" 17"``) are read as
    integers; otherwise every id of the column is text, so ``"0101901234"``
    and ``"101901234"`` stay two persons.  Errors (:class:`PersonIdError`):
    missing or blank ids, a column mixing numbers and text (``1`` and ``"1"``),
    booleans, non-integral or non-finite floats (``1.5``), floats beyond
    2**53 (not exact), unsigned ids above 2**63 - 1, text ids with leading or
    trailing spaces, duplicated ids where one row per person is required.
Weeks and observation windows
    Checked for missing values, integrality and range *before* any cast
    (:class:`WeekValueError`): week indices must lie in the plausible range
    :data:`FIRST_WEEK`..:data:`LAST_WEEK` (ISO weeks 1900-W01..2099-W52) and,
    where the data define one, inside the data's calendar (e.g. the weekly
    columns of a DREAM file).  Messages show the raw value.
Column names
    Matched strictly; duplicated names, names pandas renamed after
    duplicating (``y_1404.1``) and near misses of a known pattern
    (``"y_1410 "``, ``Y_1401``, ``y1401``) are :class:`ColumnNameError`.
Input notes
    Recoverable oddities (weekly columns after today's date, trailing weekly
    columns blank for everybody, persons without a coded week, blank weeks
    after an absorbing code) are accepted with a counted
    :class:`~evaltools.exceptions.InputWarning` and recorded as
    :class:`InputNote` in ``panel.meta["input_notes"]``; :func:`validate`
    lists them in its report.
Panel invariants
    Transforms that rely on a valid panel call :func:`check_panel_invariants`
    (schema, duplicate person ids and person-weeks, orphan states), which
    raises :class:`PanelInvariantError` naming the rule to check.
"""

from __future__ import annotations

from evaltools.data.contract._base import Source
from evaltools.data.contract.columns import DREAM_PATTERNS, check_column_names
from evaltools.data.contract.ids import IdCollector, Ids, check_unique_ids, classify_ids, number_text_ids
from evaltools.data.contract.notes import InputNote, emit_notes, notes_of
from evaltools.data.contract.panels import (
    check_panel_invariants,
    check_panel_schema,
    check_spell_table,
    require_panel,
)
from evaltools.data.contract.weeks import (
    FIRST_WEEK,
    LAST_WEEK,
    check_integers,
    check_week_parameter,
    check_weeks,
    current_week,
    format_week,
)

__all__ = [
    "FIRST_WEEK",
    "LAST_WEEK",
    "Source",
    "Ids",
    "classify_ids",
    "check_unique_ids",
    "IdCollector",
    "number_text_ids",
    "check_weeks",
    "check_integers",
    "check_week_parameter",
    "current_week",
    "format_week",
    "DREAM_PATTERNS",
    "check_column_names",
    "InputNote",
    "emit_notes",
    "notes_of",
    "require_panel",
    "check_panel_invariants",
    "check_panel_schema",
    "check_spell_table",
]
