"""Exception and warning hierarchy for evaltools.

Every error raised by evaltools derives from :class:`EvaltoolsError`.  Errors
about bad *values* (data or parameters) also derive from :class:`ValueError`
so that ``except ValueError`` keeps working in user code.
"""

from __future__ import annotations

__all__ = [
    "EvaltoolsError",
    "DataValidationError",
    "FileFormatError",
    "ColumnNameError",
    "PersonIdError",
    "WeekValueError",
    "EmptyInputError",
    "PanelInvariantError",
    "SpecificationError",
    "ConvergenceError",
    "DisclosureError",
    "ParameterError",
    "NotebookError",
    "EvaltoolsWarning",
    "MissingValueWarning",
    "DroppedRowsWarning",
    "ConvergenceWarning",
    "OverlapWarning",
    "SingletonWarning",
    "ExtremeWeightWarning",
    "UnverifiedCodeWarning",
    "DisclosureWarning",
    "InputWarning",
    "ExclusionRestrictionWarning",
]


class EvaltoolsError(Exception):
    """Root of every exception raised by evaltools."""


class DataValidationError(EvaltoolsError, ValueError):
    """Input data violate a documented precondition (names column, count, examples, fix)."""


class FileFormatError(DataValidationError):
    """A file cannot be parsed as the expected layout.

    Lines with more or fewer fields than the header, a quote left open,
    undecodable bytes or an unreadable Parquet file.  The message names the
    line and the person id of the offending row.
    """


class ColumnNameError(DataValidationError):
    """Column names are duplicated or are near misses of a known column pattern.

    For example ``'y_1410 '`` (trailing space) or ``'Y_1401'`` (upper case) for
    the weekly column ``y_YYWW``, or ``'y_1404.1'`` (a duplicated ``y_1404``
    renamed by pandas).
    """


class PersonIdError(DataValidationError):
    """Person ids are missing, duplicated, of mixed types, non-integral or out of the int64 range.

    Also raised when the ids of two tables (e.g. a file and its person table)
    are of different kinds, so that they cannot be matched verbatim.
    """


class WeekValueError(DataValidationError):
    """Week indices or observation windows are missing, non-integral or out of range.

    Out of range means outside the plausible ISO-week range of register data
    (1900-W01..2099-W52) or outside the data's own calendar (e.g. an
    ``obs_end`` after the last weekly column of a DREAM file).
    """


class EmptyInputError(DataValidationError):
    """The input has no bytes, no header or no data rows."""


class PanelInvariantError(DataValidationError):
    """A transform was given a panel that breaks an invariant it relies on.

    Duplicate person-weeks, states of persons missing from the person table or
    states outside the observation window; the message names the rule to
    check with :meth:`evaltools.data.RegisterPanel.validate`.
    """


class SpecificationError(EvaltoolsError, ValueError):
    """A model or function was given an invalid option, formula or combination of options."""


class ConvergenceError(EvaltoolsError, RuntimeError):
    """An iterative estimator failed to converge."""


class DisclosureError(EvaltoolsError, ValueError):
    """An export would reveal small cells that disclosure control forbids."""


class ParameterError(SpecificationError):
    """A report or notebook parameter does not fit the data.

    Raised by :func:`evaltools.reporting.check_parameters`: a municipality that
    is not in the panel (with the closest names), a period outside the panel's
    window, a benefit or programme that is not in the code table.
    """


class NotebookError(EvaltoolsError, RuntimeError):
    """A notebook stopped with an error.

    Raised by :func:`evaltools.reporting.notebooks.execute_notebook`; the
    message names the notebook, the failing cell and the error, and the
    partial report (the cells run so far) is written before it is raised.
    """


class EvaltoolsWarning(UserWarning):
    """Root of every warning issued by evaltools."""


class MissingValueWarning(EvaltoolsWarning):
    """Rows with missing values were removed (the count is in the message)."""


class DroppedRowsWarning(EvaltoolsWarning):
    """Rows were removed for a reason other than missing values (the count is in the message)."""


class ConvergenceWarning(EvaltoolsWarning):
    """An optimiser stopped without meeting its convergence criterion."""


class OverlapWarning(EvaltoolsWarning):
    """Treated and control propensity-score distributions overlap poorly."""


class SingletonWarning(EvaltoolsWarning):
    """A group, stratum or cluster contains a single observation."""


class ExtremeWeightWarning(EvaltoolsWarning):
    """Estimation weights are extreme (large maximum or small effective sample size)."""


class UnverifiedCodeWarning(EvaltoolsWarning):
    """A register code mapping relies on codes whose meaning is not publicly verified."""


class DisclosureWarning(EvaltoolsWarning):
    """A table is exported without (or with weakened) small-cell suppression."""


class InputWarning(EvaltoolsWarning):
    """A recoverable oddity in the input was accepted.

    For example weekly columns after today's date, blank weeks after an
    absorbing code, or persons without any coded week.  The message gives the
    count; the same note is recorded in ``panel.meta["input_notes"]`` and
    shown by :func:`evaltools.data.validate`.
    """


class ExclusionRestrictionWarning(EvaltoolsWarning):
    """The selection equation has no covariate excluded from the outcome equation.

    The model is then identified only through the non-linearity of the probit,
    and the inverse Mills ratio is nearly collinear with the outcome covariates.
    """
