"""The data container of the estimators: column roles, the missing-value policy and the design.

:class:`Design` is the covariate matrix of a model together with the recipe
that rebuilds it on new data: covariate columns taken as they are, a
formulaic formula (the ``ModelSpec`` is kept, so categorical levels and
transformations are re-applied identically), or a matrix given by position.

:class:`ModelData` is what an estimator holds after reading its input: the
columns it uses grouped by role (``outcome``, ``treatment``, ``weights``,
``id``, ``cluster``, ``duration``, ``event``, ...), the design, and the rows
kept after applying the package's one missing-value policy
(:func:`~evaltools._model.data.resolve_missing`) to all of them at once.  The
caller's frame is never modified; the container holds a subset of it.

Rows with a missing value in a variable of a formula are missing in the
design (not expanded), so a missing category is counted and dropped (or
raised) like any other missing value, never coded as the reference level.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_columns
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["Design", "ModelData", "split_formula"]


def split_formula(formula: Any, where: str) -> tuple[str, str]:
    """Split ``"lhs ~ rhs"`` into its stripped sides (``lhs`` is ``""`` when one-sided).

    Raises
    ------
    SpecificationError
        When ``formula`` is not a string with exactly one ``~``.
    """
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise SpecificationError(f"{where}: the formula must look like 'y ~ x1 + x2'; got {formula!r}.")
    lhs, rhs = (part.strip() for part in formula.split("~", 1))
    return lhs, rhs


def _numeric_columns(data: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    check_columns(data, list(columns), where, role="covariates")
    for c in columns:
        if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])):
            raise SpecificationError(
                f"{where}: covariate column {c!r} is not numeric (dtype {data[c].dtype}). "
                "Encode it first or build the model with from_formula, which creates dummy columns."
            )


class Design:
    """A covariate matrix and the recipe that rebuilds it on new data.

    Build it with :meth:`from_columns`, :meth:`from_formula` or
    :meth:`from_matrix`.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        The matrix (float), one row per row of the data it was built on;
        ``NaN`` in rows with a missing value.
    names : list of str
        Column names of ``X``.
    index : Index
        The row labels of the data.
    sources : list of str
        The data columns the design reads (the covariate columns, or the
        variables of the formula); empty for a matrix.
    columns : list of str or None
        The covariate columns (``from_columns`` only).
    spec : formulaic ModelSpec or None
        The formula's model spec (``from_formula`` only).
    formula : str or None
        The formula (``from_formula`` only).
    """

    def __init__(
        self,
        X: np.ndarray,
        names: Sequence[str],
        index: pd.Index,
        *,
        sources: Sequence[str] = (),
        columns: Sequence[str] | None = None,
        spec: Any = None,
        formula: str | None = None,
    ) -> None:
        self.X = X
        self.names = [str(c) for c in names]
        self.index = index
        self.sources = list(sources)
        self.columns = None if columns is None else list(columns)
        self.spec = spec
        self.formula = formula

    # ------------------------------------------------------------------
    @classmethod
    def from_columns(cls, data: pd.DataFrame, covariates: str | Sequence[str], where: str) -> Design:
        """The numeric columns ``covariates`` of ``data`` as they are.

        Raises
        ------
        DataValidationError
            When a column is not in ``data``.
        SpecificationError
            When a column is not numeric or boolean.
        """
        cols = [covariates] if isinstance(covariates, str) else list(covariates)
        _numeric_columns(data, cols, where)
        X = data[cols].to_numpy(dtype=float) if cols else np.zeros((len(data), 0))
        return cls(X, cols, data.index, sources=cols, columns=cols)

    @classmethod
    def from_formula(
        cls, data: pd.DataFrame, formula: str, where: str, *, intercept: bool = False
    ) -> tuple[str, Design]:
        """Expand the right-hand side of ``formula`` on ``data`` with formulaic.

        The matrix is built on the rows where every variable of the formula
        is present (categorical levels and reference levels come from those
        rows) and is ``NaN`` in the other rows.

        Parameters
        ----------
        data : DataFrame
            The data (not modified).
        formula : str
            ``lhs ~ terms`` or ``~ terms``.
        where : str
            The calling method, for error messages.
        intercept : bool, default=False
            Keep formulaic's ``Intercept`` column (removed with ``- 1``);
            otherwise it is dropped and the estimator adds its own.

        Returns
        -------
        (lhs, Design)
            The left-hand side (``""`` when one-sided) and the design.

        Raises
        ------
        SpecificationError
            For a formula formulaic cannot parse or build.
        DataValidationError
            When a variable of the formula is not a column of ``data``.
        """
        from formulaic import Formula, model_matrix

        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{where}: data must be a pandas DataFrame; got {type(data).__name__}.")
        lhs, rhs = split_formula(formula, where)
        try:
            required = sorted(Formula("~ " + rhs).required_variables)
        except Exception as exc:  # formulaic raises many types for bad formulas
            raise SpecificationError(f"{where}: cannot parse {formula!r}: {exc}") from exc
        absent = [v for v in required if v not in data.columns]
        if absent:
            check_columns(data, absent, where, role="formula variables")
        complete = ~data[required].isna().any(axis=1).to_numpy() if required else np.ones(len(data), bool)
        if not complete.any():
            raise DataValidationError(
                f"{where}: no row has all the variables of {formula!r} ({required}); "
                "the design cannot be built."
            )
        try:
            # every variable is present in these rows: NaN can only come from a transformation
            mm = model_matrix("~ " + rhs, data.loc[complete], na_action="ignore")
        except Exception as exc:  # formulaic raises many types for bad formulas
            raise SpecificationError(f"{where}: cannot parse {formula!r}: {exc}") from exc
        frame = pd.DataFrame(mm)
        if not intercept:
            frame = frame.drop(columns=["Intercept"], errors="ignore")
        X = np.full((len(data), frame.shape[1]), np.nan)
        X[complete] = frame.to_numpy(dtype=float)
        design = cls(X, list(frame.columns), data.index, sources=required, spec=mm.model_spec,
                     formula=formula)
        return lhs, design

    @classmethod
    def from_matrix(cls, exog: Any, data: pd.DataFrame, where: str) -> Design:
        """A matrix with one row per row of ``data`` (by position); a DataFrame keeps its column names.

        Raises
        ------
        SpecificationError
            When the number of rows differs from ``data``.
        """
        if isinstance(exog, pd.DataFrame):
            names = [str(c) for c in exog.columns]
            X = exog.to_numpy(dtype=float)
        else:
            X = np.asarray(exog, dtype=float)
            X = X[:, None] if X.ndim == 1 else X
            names = [f"x{j}" for j in range(X.shape[1])] if X.ndim == 2 else []
        if X.ndim != 2 or X.shape[0] != len(data):
            raise SpecificationError(
                f"{where}: 'exog' must have one row per row of 'data' ({len(data):,}); got shape {X.shape}."
            )
        return cls(X, names, data.index)

    # ------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """``X`` as a DataFrame with ``names`` and ``index``."""
        return pd.DataFrame(self.X, columns=self.names, index=self.index)

    def transform(self, new: Any, where: str) -> np.ndarray:
        """The design of ``new`` data in the same columns (same categorical levels and transformations).

        Parameters
        ----------
        new : DataFrame, dict or array-like
            A DataFrame (or a dict for one row) with the source columns; an
            array with ``len(names)`` columns for a design built from a matrix.
        where : str
            The calling method, for error messages.

        Returns
        -------
        ndarray of shape (len(new), p)
            ``NaN`` in rows where a source variable is missing.

        Raises
        ------
        SpecificationError
            When ``new`` does not give the columns the design needs.
        """
        if isinstance(new, dict):
            new = pd.DataFrame([new])
        if self.spec is not None or self.columns is not None:
            if not isinstance(new, pd.DataFrame):
                raise SpecificationError(
                    f"{where}: predictions need a DataFrame with the columns {self.sources}."
                )
            check_columns(new, self.sources, where, role="covariates")
            if self.columns is not None:
                return new[self.columns].to_numpy(dtype=float)
            return self._transform_formula(new, where)
        X = np.asarray(new, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != len(self.names):
            raise SpecificationError(
                f"{where}: predictions need {len(self.names)} covariate columns; got shape {X.shape}."
            )
        return X

    def transform_frame(self, new: pd.DataFrame, where: str) -> pd.DataFrame:
        """:meth:`transform` of a DataFrame as a DataFrame with ``names`` and the index of ``new``."""
        return pd.DataFrame(self.transform(new, where), columns=self.names, index=new.index)

    def _transform_formula(self, new: pd.DataFrame, where: str) -> np.ndarray:
        complete = np.ones(len(new), bool)
        if self.sources:
            complete = ~new[self.sources].isna().any(axis=1).to_numpy()
        out = np.full((len(new), len(self.names)), np.nan)
        if not complete.any():
            return out
        from formulaic.errors import DataMismatchWarning

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DataMismatchWarning)  # an unseen category is an error
                mm = self.spec.get_model_matrix(new.loc[complete])
        except Exception as exc:  # formulaic raises many types, e.g. for an unseen category
            raise SpecificationError(
                f"{where}: cannot build the design of {self.formula!r} on the new data: {exc}. "
                "Categorical variables must take levels seen when the model was built."
            ) from exc
        frame = pd.DataFrame(mm)
        absent = [c for c in self.names if c not in frame.columns]
        if absent:
            raise SpecificationError(f"{where}: the new data give no column(s) {absent} of the design.")
        out[complete] = frame[self.names].to_numpy(dtype=float)
        return out


def _as_columns(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [c for c in value if c is not None]


class ModelData:
    """The rows, column roles and design an estimator uses, with the missing-value policy applied once.

    Parameters
    ----------
    data : DataFrame
        The caller's data (never modified).
    roles : mapping of str to str, sequence of str or None
        The columns by role, e.g. ``{"outcome": "re78", "treatment": "treat",
        "weights": None, "id": "person_id"}``; ``None`` entries are left out.
    covariates : str or sequence of str, optional
        Numeric covariate columns.
    formula : str, optional
        A formula whose right-hand side gives the covariates (formulaic
        syntax); the left-hand side, if any, is in ``lhs``.
    exog : array-like or DataFrame, optional
        A covariate matrix with one row per row of ``data``.
    design : Design, optional
        A design built beforehand (e.g. by ``from_formula``).
    missing : {"drop", "raise"}, default="drop"
        The missing-value policy for the role columns and the design.
    where : str, default="model"
        The estimator, for messages.
    intercept : bool, default=False
        With ``formula``: keep formulaic's ``Intercept`` column.
    stacklevel : int, default=4
        Of the :class:`~evaltools.exceptions.MissingValueWarning`.

    Attributes
    ----------
    frame : DataFrame
        The role columns of the rows kept (a copy).
    roles : dict of str to list of str
        The role columns.
    design : Design or None
        The covariate design on all rows of ``data``.
    X : ndarray
        The design of the rows kept (``(n, 0)`` without covariates).
    exog_names : list of str
        Its column names.
    keep : ndarray of bool
        Rows of ``data`` kept.
    n_total, n_dropped, nobs : int
        Rows given, dropped for missing values, kept.
    dropped_columns : dict of str to int
        Missing values per column, for the columns that had any.
    lhs : str
        The left-hand side of ``formula`` (``""`` otherwise).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        roles: Mapping[str, str | Sequence[str] | None],
        *,
        covariates: str | Sequence[str] | None = None,
        formula: str | None = None,
        exog: Any = None,
        design: Design | None = None,
        missing: str = "drop",
        where: str = "model",
        intercept: bool = False,
        stacklevel: int = 4,
    ) -> None:
        from evaltools._model.data import resolve_missing

        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"{where}: data must be a pandas DataFrame; got {type(data).__name__}.")
        given = [k for k, v in (("covariates", covariates), ("formula", formula), ("exog", exog),
                                ("design", design)) if v is not None]
        if len(given) > 1:
            raise SpecificationError(f"{where}: give one of {given}, not several.")
        self.roles = {role: _as_columns(cols) for role, cols in roles.items()}
        self.roles = {role: cols for role, cols in self.roles.items() if cols}
        for role, cols in self.roles.items():
            check_columns(data, cols, where, role=role)
        self.lhs = ""
        if formula is not None:
            self.lhs, design = Design.from_formula(data, formula, where, intercept=intercept)
        elif covariates is not None:
            design = Design.from_columns(data, covariates, where)
        elif exog is not None:
            design = Design.from_matrix(exog, data, where)
        if design is not None and design.X.shape[0] != len(data):
            raise SpecificationError(
                f"{where}: the design has {design.X.shape[0]:,} rows; the data have {len(data):,}."
            )
        self.design = design
        role_cols = list(dict.fromkeys(c for cols in self.roles.values() for c in cols))
        check = data[role_cols].copy()
        cov_roles: list[str] = []
        if design is not None:
            extra_cols = [c for c in design.sources if c not in check.columns]
            check = pd.concat([check, data[extra_cols]], axis=1)
            cov_roles = list(design.sources)
            x_na = np.isnan(design.X)
            if design.sources:  # values a transformation leaves undefined (e.g. log of 0)
                x_na &= ~data[design.sources].isna().any(axis=1).to_numpy()[:, None]
            bad = [j for j in range(x_na.shape[1]) if x_na[:, j].any()]
            if bad:
                names = [design.names[j] for j in bad]
                names = [n if n not in check.columns else f"{n} (design)" for n in names]
                values = np.where(x_na[:, bad], np.nan, 0.0)
                check = pd.concat([check, pd.DataFrame(values, columns=names, index=data.index)], axis=1)
                cov_roles += names
        all_roles = dict(self.roles)
        if cov_roles:
            all_roles["covariates"] = cov_roles
        self.dropped_columns = {str(c): int(n) for c, n in check.isna().sum().items() if n}
        keep = resolve_missing(check, all_roles, missing=missing, where=where, stacklevel=stacklevel)
        self.keep = keep
        self.n_total = len(data)
        self.nobs = int(keep.sum())
        self.n_dropped = self.n_total - self.nobs
        if self.nobs == 0:
            raise DataValidationError(f"{where}: no rows left after removing rows with missing values.")
        self.frame = data.loc[keep, role_cols].copy()
        X = design.X if design is not None else np.zeros((len(data), 0))
        self.X = X[keep]
        self.exog_names = list(design.names) if design is not None else []
        self.where = where

    @property
    def index(self) -> pd.Index:
        """Row labels of the rows kept."""
        return self.frame.index

    def column(self, role: str, dtype: Any = float) -> np.ndarray:
        """The one column of ``role`` on the rows kept (``dtype=None`` keeps the column's own)."""
        cols = self.roles.get(role)
        if not cols:
            raise SpecificationError(f"{self.where}: no {role!r} column was given.")
        if len(cols) != 1:
            raise SpecificationError(f"{self.where}: the role {role!r} has several columns {cols}.")
        return self.frame[cols[0]].to_numpy(dtype=dtype)

    def weights(self) -> np.ndarray:
        """The ``weights`` column on the rows kept (ones without one).

        Raises
        ------
        DataValidationError
            When a weight is negative, zero or not finite.
        """
        if "weights" not in self.roles:
            return np.ones(self.nobs)
        name = self.roles["weights"][0]
        w = pd.to_numeric(self.frame[name], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(w) & (w > 0))
        if bad.any():
            raise DataValidationError(
                f"{self.where}: weights column {name!r} must be finite and > 0; {int(bad.sum()):,} rows are "
                f"not (e.g. index {list(map(str, self.index[bad][:3]))}). Remove those rows."
            )
        return w

    def codes(self, role: str) -> np.ndarray:
        """Integer codes 0, 1, ... of the labels of ``role`` (e.g. ``id`` or ``cluster``) on the rows kept."""
        self.column(role, dtype=None)  # checks that the role has one column
        codes, _ = pd.factorize(self.frame[self.roles[role][0]])
        return np.asarray(codes)

    def transform(self, new: Any) -> np.ndarray:
        """The design of new data in the columns of :attr:`X` (see :meth:`Design.transform`)."""
        if self.design is None:
            return np.zeros((len(new), 0))
        return self.design.transform(new, self.where)
