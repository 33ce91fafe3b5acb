"""Column roles, the missing-value policy and the formula interface shared by the estimators.

:func:`resolve_missing` applies the package's one missing-value policy to the
columns an estimator uses, grouped by role (outcome, treatment, covariates,
weights, id, cluster): ``missing="drop"`` drops the incomplete rows with a
counted :class:`~evaltools.exceptions.MissingValueWarning` (the count is
recorded by the caller as ``n_dropped``), ``missing="raise"`` raises a
:class:`~evaltools.exceptions.DataValidationError` that names each column with
its role, the counts, example index labels and a fix that works.

:class:`FormulaMixin` gives every estimator that takes covariates the same
``from_formula(formula, data, **kwargs)``: formulaic expands the right-hand
side into covariate columns (:class:`~evaltools._model.design.Design`) and
the model spec is kept for prediction.  The container that holds an
estimator's role columns, design and kept rows is
:class:`~evaltools._model.design.ModelData`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._model.design import Design
from evaltools._validation import check_kwargs, check_option
from evaltools.exceptions import DataValidationError, MissingValueWarning, SpecificationError

__all__ = ["MISSING", "FormulaMixin", "formula_design", "missing_message", "resolve_missing"]

MISSING = ("drop", "raise")


def _roles_text(frame: pd.DataFrame, roles: Mapping[str, Sequence[str]]) -> tuple[str, list[str]]:
    parts, cols = [], []
    for role, columns in roles.items():
        counts = {c: int(frame[c].isna().sum()) for c in columns}
        counts = {c: n for c, n in counts.items() if n}
        if counts:
            desc = ", ".join(f"{c!r}: {n:,}" for c, n in counts.items())
            parts.append(f"({desc}) in the {role}")
            cols += list(counts)
    return "; ".join(parts), cols


def missing_message(frame: pd.DataFrame, roles: Mapping[str, Sequence[str]], where: str) -> str | None:
    """The error message for missing values in the role columns (None when there are none).

    Parameters
    ----------
    frame : DataFrame
        The data.
    roles : mapping
        ``{role: columns}``, e.g. ``{"outcome": ["re78"], "covariates": ["age", "educ"]}``.
    where : str
        The estimator, e.g. ``"IPW"``.

    Returns
    -------
    str or None
    """
    cols = [c for cs in roles.values() for c in cs]
    rows = frame[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(len(frame), bool)
    if not rows.any():
        return None
    desc, bad = _roles_text(frame, roles)
    ex = list(map(str, frame.index[rows][:3]))
    return (
        f"{where}: missing values {desc}; {int(rows.sum()):,} of {len(frame):,} rows, e.g. index {ex}. "
        "evaltools does not drop rows silently: drop or impute them first "
        f"(e.g. data.dropna(subset={bad!r})), or pass missing='drop' where the estimator offers it."
    )


def resolve_missing(
    frame: pd.DataFrame,
    roles: Mapping[str, Sequence[str]],
    *,
    missing: str,
    where: str,
    stacklevel: int = 3,
) -> np.ndarray:
    """Apply the missing-value policy to the role columns.

    Parameters
    ----------
    frame : DataFrame
        The data (not modified).
    roles : mapping
        ``{role: columns}``.
    missing : {"drop", "raise"}
        ``"drop"``: drop incomplete rows with a counted
        :class:`~evaltools.exceptions.MissingValueWarning`; ``"raise"``: raise.
    where : str
        The estimator.
    stacklevel : int, default=3
        Passed to :func:`warnings.warn`.

    Returns
    -------
    ndarray of bool
        Rows kept (all True when nothing is missing).

    Raises
    ------
    DataValidationError
        With ``missing="raise"`` when a role column has missing values.
    """
    check_option("missing", missing, MISSING, where)
    msg = missing_message(frame, roles, where)
    cols = [c for cs in roles.values() for c in cs]
    if msg is None:
        return np.ones(len(frame), dtype=bool)
    if missing == "raise":
        raise DataValidationError(msg)
    keep = ~frame[cols].isna().any(axis=1).to_numpy()
    desc, _ = _roles_text(frame, roles)
    warnings.warn(
        f"{where}: dropped {int((~keep).sum()):,} of {len(frame):,} rows with missing values {desc}.",
        MissingValueWarning,
        stacklevel=stacklevel,
    )
    return keep


def formula_design(formula: str, data: pd.DataFrame, where: str) -> tuple[str, pd.DataFrame, Any]:
    """Expand the right-hand side of ``formula`` on ``data`` with formulaic.

    Parameters
    ----------
    formula : str
        ``lhs ~ terms`` or ``~ terms``.
    data : DataFrame
        The data.
    where : str
        The calling method, for error messages.

    Returns
    -------
    (lhs, design, spec)
        The left-hand side (``""`` when one-sided), the covariate columns
        (float, indexed like ``data``, without the intercept; ``NaN`` in rows
        with a missing variable of the formula) and the formulaic
        ``ModelSpec`` for new data.
    """
    lhs, design = Design.from_formula(data, formula, where)
    if not design.names:
        raise SpecificationError(f"{where}: the formula {formula!r} has no covariate terms.")
    return lhs, design.frame(), design.spec


class FormulaMixin:
    """``from_formula`` for every estimator whose constructor takes covariate columns or a matrix.

    The formula's right-hand side is expanded by formulaic into covariate
    columns (categoricals into dummies, ``I(age**2)``, interactions) on the
    rows where all its variables are present (:meth:`Design.from_formula`);
    the intercept is dropped (each estimator adds its own where it needs
    one).  A left-hand side, when the estimator has one, names its
    ``_formula_lhs`` argument (e.g. ``outcome`` or ``treatment``).

    ``_formula_target`` says how the columns reach the constructor:
    ``"covariates"`` appends them to a copy of the data under their formulaic
    names and passes the names as ``covariates=``; ``"exog"`` passes them as
    ``exog=`` (a DataFrame aligned with the data, which is not copied).
    ``_formula_kwargs``, when set, lists the keyword arguments accepted
    besides the formula; ``_formula_hint`` is appended to the error for a
    left-hand side the estimator does not take.  With ``_formula_intercept``
    formulaic's ``Intercept`` column is kept (and removed by ``- 1`` in the
    formula); ``_formula_defaults`` are constructor arguments the formula
    route always passes (e.g. ``add_constant=False``).

    The model keeps ``formula``, the formulaic ``ModelSpec`` as
    ``_formula_spec`` and the :class:`Design` as ``_formula_design``, so that
    predictions on new data re-apply the same encoding.
    """

    _formula_lhs: str | None = None
    _formula_covariates: str = "covariates"
    _formula_target: str = "covariates"
    _formula_kwargs: tuple[str, ...] | None = None
    _formula_hint: str = ""
    _formula_intercept: bool = False
    _formula_defaults: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, **kwargs: Any) -> Any:
        """Build the model from a formula such as ``"y ~ age + I(age**2) + C(region)"``.

        Parameters
        ----------
        formula : str
            ``lhs ~ terms`` or ``~ terms`` (formulaic syntax).
        data : DataFrame
            The data (not modified).
        **kwargs
            The other arguments of the constructor.

        Returns
        -------
        model
            An instance of the class.
        """
        name = getattr(cls, "_where", cls.__name__)
        where = f"{name}.from_formula"
        if cls._formula_kwargs is not None:
            check_kwargs(kwargs, cls._formula_kwargs, where)
        lhs = formula.split("~", 1)[0].strip() if isinstance(formula, str) and "~" in formula else ""
        if lhs and cls._formula_lhs is None:
            raise SpecificationError(
                f"{where}: the formula must be one-sided, like '~ x1 + x2'; got {formula!r}."
                + (f" {cls._formula_hint}" if cls._formula_hint else "")
            )
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(
                f"{where}: 'data' must be a pandas DataFrame; got {type(data).__name__}."
            )
        lhs, design = Design.from_formula(data, formula, where, intercept=cls._formula_intercept)
        if not design.names:
            raise SpecificationError(f"{where}: the formula {formula!r} has no covariate terms.")
        for key, value in cls._formula_defaults:
            kwargs.setdefault(key, value)
        lhs_arg = cls._formula_lhs
        if lhs and lhs_arg is not None:
            if lhs_arg in kwargs:
                raise SpecificationError(
                    f"{where}: {lhs_arg!r} is given by the formula's left-hand side; do not pass it as well."
                )
            kwargs[lhs_arg] = lhs
        taken = [cls._formula_covariates] + (["exog"] if cls._formula_target == "exog" else [])
        for given in dict.fromkeys(taken):
            if given in kwargs:
                raise SpecificationError(f"{where}: {given!r} are given by the formula; do not pass them.")
        expanded = design.frame()
        if cls._formula_target == "exog":
            kwargs["exog"] = expanded
            frame = data
        else:
            # a term that is a numeric column keeps the column's name; it must equal the column
            same = [c for c in expanded.columns if c in data.columns]
            clash = [
                c
                for c in same
                if not (
                    expanded[c].isna() | expanded[c].eq(pd.to_numeric(data[c], errors="coerce").astype(float))
                ).all()
            ]
            if clash:
                raise SpecificationError(
                    f"{where}: the expanded terms {clash} have the names of other columns of data; "
                    "rename those columns."
                )
            frame = data.assign(**{c: expanded[c] for c in expanded.columns if c not in same})
            kwargs[cls._formula_covariates] = list(expanded.columns)
        obj = cls(frame, **kwargs)  # type: ignore[call-arg]
        obj._formula_spec = design.spec  # type: ignore[attr-defined]
        obj._formula_design = design  # type: ignore[attr-defined]
        obj.formula = formula  # type: ignore[attr-defined]
        return obj
