"""State vocabulary: map register benefit/activation codes to categories.

The shipped table ``resources/dream_codes.csv`` is a **documented, mostly
synthetic** code list.  Only codes 651, 652, 997, 998 and 999 are marked
``verified`` (their use appears in public DREAM-processing code, e.g.
DREAMtoolsR).  Everything else follows the commonly recalled
DREAM ranges and must not be mistaken for the confidential official table.
Users with the real code list pass their own table to :class:`CodeTable`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools._validation import check_columns
from evaltools.exceptions import DataValidationError

__all__ = ["CodeTable", "default_codes", "CODE_COLUMNS", "ACTIVATION_TYPES", "BENEFITS"]

#: Columns every code table has.
CODE_COLUMNS = (
    "code",
    "label_da",
    "label_en",
    "benefit",
    "activation",
    "company_oriented",
    "public_support",
    "absorbing",
    "censoring",
    "source",
    "verified",
)

#: Activation types used in the ``activation`` column (``"none"`` = passive).
ACTIVATION_TYPES = (
    "none",
    "virksomhedspraktik",
    "loentilskud",
    "vejledning_opkvalificering",
    "virksomhedscenter",
    "saerligt_forloeb",
)

#: Benefit groups used in the ``benefit`` column.
BENEFITS = (
    "adagpenge",
    "kontanthjaelp",
    "starthjaelp",
    "integrationsydelse",
    "uddannelseshjaelp",
    "ressourceforloeb",
    "jobafklaring",
    "revalidering",
    "foertidspension",
    "fleksjob",
    "ledighedsydelse",
    "sygedagpenge",
    "barsel",
    "efterloen",
    "su",
    "censored",
)

_BOOL_COLUMNS = ("company_oriented", "public_support", "absorbing", "censoring", "verified")


class CodeTable:
    """A validated table of state codes and their categories.

    Parameters
    ----------
    table : DataFrame
        One row per code with the columns in :data:`CODE_COLUMNS`.  ``code`` is
        converted to ``str``; boolean columns accept ``True/False`` or
        ``"True"/"False"``.

    Raises
    ------
    DataValidationError
        If a column is missing, a code is duplicated or a flag is not boolean.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        check_columns(table, CODE_COLUMNS, "CodeTable")
        t = table.loc[:, list(CODE_COLUMNS)].copy()
        t["code"] = t["code"].astype(str).str.strip()
        dup = t["code"].duplicated(keep=False)
        if dup.any():
            raise DataValidationError(
                f"CodeTable: column 'code' must be unique; {int(dup.sum())} rows share a code "
                f"(e.g. {sorted(set(t.loc[dup, 'code']))[:5]}). Keep one row per code."
            )
        for c in _BOOL_COLUMNS:
            col = t[c]
            if col.dtype != bool:
                mapped = col.astype(str).str.strip().str.lower().map({"true": True, "false": False})
                if mapped.isna().any():
                    bad = col[mapped.isna()].unique()[:5].tolist()
                    raise DataValidationError(
                        f"CodeTable: column {c!r} must be True/False; got {bad}. Use True or False."
                    )
                t[c] = mapped.astype(bool)
        self._table = t.set_index("code", drop=False)
        self._table.index.name = None

    @classmethod
    def from_csv(cls, path: str | Path) -> CodeTable:
        """Read a code table from CSV (codes are read as strings)."""
        return cls(pd.read_csv(path, dtype={"code": str}, keep_default_na=False))

    @property
    def table(self) -> pd.DataFrame:
        """The code table (a copy)."""
        return self._table.reset_index(drop=True).copy()

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """All codes, in table order."""
        return tuple(self._table["code"])

    def __contains__(self, code: object) -> bool:
        return str(code) in self._table.index

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        n_ver = int(self._table["verified"].sum())
        return f"<CodeTable: {len(self)} codes, {n_ver} verified>"

    def dtype(self) -> pd.CategoricalDtype:
        """Categorical dtype over all codes (used for the ``state`` column)."""
        return pd.CategoricalDtype(list(self.codes), ordered=False)

    def codes_where(self, **conditions: object) -> list[str]:
        """Codes whose columns equal the given values.

        Examples
        --------
        >>> default_codes().codes_where(benefit="kontanthjaelp", activation="virksomhedspraktik")
        ['702']
        """
        mask = np.ones(len(self._table), dtype=bool)
        for col, value in conditions.items():
            check_columns(self._table, [col], "CodeTable.codes_where")
            if isinstance(value, (list, tuple, set, frozenset)):
                mask &= self._table[col].isin(list(value)).to_numpy()
            else:
                mask &= (self._table[col] == value).to_numpy()
        return self._table.loc[mask, "code"].tolist()

    def lookup(self, codes: Iterable[object], column: str) -> np.ndarray:
        """Map codes to the values of ``column`` (unknown codes raise)."""
        check_columns(self._table, [column], "CodeTable.lookup")
        s = pd.Series(list(codes), dtype=object).astype(str)
        unknown = ~s.isin(self._table.index)
        if unknown.any():
            raise DataValidationError(
                f"{int(unknown.sum())} code(s) are not in the code table "
                f"(e.g. {s[unknown].unique()[:5].tolist()}). "
                "Add them to the table or pass your own CodeTable."
            )
        # pandas-stubs: a Series of labels is a valid row indexer
        return self._table.loc[s, column].to_numpy()  # type: ignore[index]

    def mapping(self, column: str) -> dict[str, object]:
        """``{code: value}`` for one column, e.g. ``mapping("benefit")``."""
        check_columns(self._table, [column], "CodeTable.mapping")
        return dict(zip(self._table["code"], self._table[column]))


def default_codes() -> CodeTable:
    """The shipped code table (synthetic list; see the module docstring)."""
    ref = resources.files("evaltools.data").joinpath("resources/dream_codes.csv")
    with resources.as_file(ref) as path:
        return CodeTable.from_csv(path)
