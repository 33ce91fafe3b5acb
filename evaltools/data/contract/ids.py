"""Person ids: integers that fit int64, or text kept verbatim (see :mod:`evaltools.data.contract`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evaltools.data.contract._base import Source, _as_object, _examples, _kind, _numeric
from evaltools.exceptions import PersonIdError

__all__ = ["Ids", "classify_ids", "check_unique_ids", "number_text_ids", "IdCollector"]

INT64_MAX = np.iinfo(np.int64).max
_EXACT_FLOAT = 2.0**53
_CANONICAL_INT = r"^-?[1-9][0-9]{0,18}$|^0$"


# -- person ids ----------------------------------------------------------------------
@dataclass(frozen=True)
class Ids:
    """Person ids of one batch after :func:`classify_ids`.

    Attributes
    ----------
    kind : {"int", "text"}
        Integers, or text kept verbatim.
    values : ndarray
        int64 for ``"int"``, object array of ``str`` for ``"text"``.
    """

    kind: str
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


def _id_error(source: Source, column: str, what: str, mask: np.ndarray, raw: np.ndarray, fix: str) -> None:
    n = int(np.count_nonzero(mask))
    raise PersonIdError(
        f"{source.where}: column {column!r} {what} in {n:,} of {len(mask):,} rows "
        f"(e.g. {_examples(mask, source, column, raw)}). {fix}"
    )


def _float_ids(v: np.ndarray, source: Source, column: str) -> np.ndarray:
    v = v.astype(np.float64)
    if np.isnan(v).any():
        _id_error(source, column, "is missing", np.isnan(v), v, "Every row needs a person id.")
    bad = ~np.isfinite(v) | (v != np.round(v))
    if bad.any():
        _id_error(
            source,
            column,
            "holds non-integral numbers",
            bad,
            v,
            "Person ids must be integers or text; read the column as text or fix the ids.",
        )
    big = np.abs(v) > _EXACT_FLOAT
    if big.any():
        _id_error(
            source,
            column,
            "holds floats beyond 2**53, which cannot represent every integer exactly",
            big,
            v,
            "Read the ids as integers or as text, not as floats.",
        )
    return v.astype(np.int64)


def _text_ids(obj: np.ndarray, source: Source, column: str, *, allow_text: bool) -> Ids:
    arr = pa.array(obj, type=pa.string())
    blank = np.asarray(pc.equal(pc.utf8_length(arr), 0).to_numpy(zero_copy_only=False), dtype=bool)
    if blank.any():
        _id_error(source, column, "is blank", blank, obj, "Every row needs a person id.")
    padded = np.asarray(
        pc.not_equal(pc.utf8_trim_whitespace(arr), arr).to_numpy(zero_copy_only=False), dtype=bool
    )
    if padded.any():
        _id_error(
            source,
            column,
            "holds ids with leading or trailing spaces",
            padded,
            obj,
            "Ids are kept verbatim, so ' 17' and '17' would be two persons: strip the spaces.",
        )
    ints = _arrow_int_ids(arr)
    if ints is not None:
        return ints
    if not allow_text:
        bad = ~np.asarray(pc.match_substring_regex(arr, _CANONICAL_INT).to_numpy(zero_copy_only=False))
        _id_error(
            source,
            column,
            "holds text ids",
            bad,
            obj,
            "person_id is the panel's integer key: map the ids to integers first, or read the file with "
            "read_long/read_dream, which number text ids and keep them verbatim.",
        )
    return Ids("text", obj)


def _arrow_int_ids(values: Any) -> Ids | None:
    """Integer ids of an Arrow text column whose every value is a canonical integer, else ``None``.

    Such a column has no blank or padded id, so :func:`classify_ids` returns this before it makes
    an object array of the ids (a Python object per id); :func:`_text_ids` ends with it too.
    """
    if not isinstance(values, (pa.Array, pa.ChunkedArray)) or values.null_count:
        return None
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    if len(values) and not pc.all(pc.match_substring_regex(values, _CANONICAL_INT)).as_py():
        return None
    try:
        return Ids("int", np.asarray(pc.cast(values, pa.int64()).to_numpy(), dtype=np.int64))
    except pa.ArrowInvalid:  # integers beyond int64: the general path keeps them as text
        return None


def classify_ids(values: Any, *, column: str, source: Source, allow_text: bool = True) -> Ids:
    """Classify one batch of person ids as integers or verbatim text (see the module docstring).

    Parameters
    ----------
    values : Series, ndarray or pyarrow Array
        The ids of one batch.
    column : str
        Column name, for messages.
    source : Source
        Function and file, for messages.
    allow_text : bool, default=True
        ``False``: only integer ids are accepted (the panel's ``person_id``).

    Returns
    -------
    Ids
        Kind and values.

    Raises
    ------
    PersonIdError
        Naming the column, the count, example rows with the raw value and the fix.
    """
    kind = _kind(values)
    if kind == "bool":
        raw, _ = _as_object(values)
        _id_error(
            source, column, "holds booleans", np.ones(len(raw), bool), raw, "Person ids are integers or text."
        )
    if kind in ("int", "uint"):
        v = _numeric(values)
        if v.dtype.kind == "f":  # nullable integers with missing values
            return Ids("int", _float_ids(v, source, column))
        if kind == "uint":
            big = v > INT64_MAX
            if big.any():
                _id_error(
                    source,
                    column,
                    f"holds unsigned ids above {INT64_MAX} (2**63 - 1), which do not fit int64",
                    big,
                    v,
                    "Map the ids to smaller integers, or store them as text.",
                )
        return Ids("int", v.astype(np.int64))
    if kind == "float":
        return Ids("int", _float_ids(_numeric(values), source, column))
    fast = _arrow_int_ids(values)
    if fast is not None:
        return fast
    obj, miss = _as_object(values)
    if miss.any():
        _id_error(source, column, "is missing", miss, obj, "Every row needs a person id.")
    inferred = pd.api.types.infer_dtype(obj, skipna=False) if len(obj) else "empty"
    if inferred in ("string", "empty"):
        return _text_ids(obj, source, column, allow_text=allow_text)
    if inferred == "integer":
        try:
            return Ids("int", obj.astype(np.int64))
        except OverflowError:
            big = np.array([not (-(2**63) <= int(x) <= INT64_MAX) for x in obj], dtype=bool)
            _id_error(
                source,
                column,
                "holds integers that do not fit int64",
                big,
                obj,
                "Map the ids to smaller integers, or store them as text.",
            )
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return Ids("int", _float_ids(obj.astype(np.float64), source, column))
    is_text = np.array([isinstance(x, str) for x in obj], dtype=bool)
    if inferred in ("mixed-integer", "mixed") and is_text.any() and not is_text.all():
        shown = np.zeros(len(obj), dtype=bool)
        shown[np.flatnonzero(is_text)[:2]] = True
        shown[np.flatnonzero(~is_text)[:2]] = True
        raise PersonIdError(
            f"{source.where}: column {column!r} mixes numbers ({int((~is_text).sum()):,} rows) and text "
            f"({int(is_text.sum()):,} rows) (e.g. {_examples(shown, source, column, obj, n=4)}). "
            "1 and '1' would be two different ids: store every id as text, or every id as an integer."
        )
    _id_error(
        source,
        column,
        f"holds values that are neither integers nor text ({inferred})",
        ~is_text,
        obj,
        "Person ids are integers or text.",
    )
    raise AssertionError("unreachable")  # pragma: no cover


def check_unique_ids(ids: Ids, *, column: str, source: Source, fix: str) -> None:
    """Raise :class:`PersonIdError` if an id occurs twice in the batch (one row per person required)."""
    dup = pd.Series(ids.values).duplicated(keep=False).to_numpy()
    if dup.any():
        ex = [x.item() if isinstance(x, np.generic) else x for x in pd.unique(ids.values[dup])[:3]]
        raise PersonIdError(
            f"{source.where}: column {column!r} has {int(dup.sum()):,} rows with a duplicated id (e.g. {ex}) "
            f"in {', '.join(source.locate(np.flatnonzero(dup)[:3]))}. {fix}"
        )


def number_text_ids(*arrays: np.ndarray) -> list[np.ndarray]:
    """Number text ids 1, 2, ... in sorted order over the union of ``arrays``.

    Returns one int64 array of numbers per input array (equal text, equal number).
    """
    lengths = [len(a) for a in arrays]
    both = np.concatenate([np.asarray(a, dtype=object) for a in arrays]) if arrays else np.array([], object)
    codes, _ = pd.factorize(both, sort=True)
    codes = codes.astype(np.int64) + 1
    return np.split(codes, np.cumsum(lengths)[:-1])


class IdCollector:
    """Person ids of a one-row-per-person file read in batches.

    Checks that every batch has the same kind of id (integers or text) and
    that no id repeats within or across batches; :meth:`finish` returns the
    ``person_id`` of every row (text ids numbered 1, 2, ... in sorted order)
    and the verbatim text ids.

    Parameters
    ----------
    column : str
        Id column name, for messages.
    fix : str
        Advice for duplicated ids.
    """

    def __init__(self, column: str, *, fix: str) -> None:
        self.column = column
        self.fix = fix
        self._parts: list[np.ndarray] = []
        self._kinds: list[str] = []

    @staticmethod
    def _as_text(values: np.ndarray, kind: str) -> np.ndarray:
        return values.astype(str).astype(object) if kind == "int" else values

    def add(self, ids: Ids, source: Source) -> None:
        """Add one batch (after :func:`classify_ids`)."""
        check_unique_ids(ids, column=self.column, source=source, fix=self.fix)
        if self._parts:
            if set(self._kinds) == {ids.kind}:
                prev, cur = np.concatenate(self._parts), ids.values
            else:  # canonical integers print as their text, so compare as text
                prev = np.concatenate([self._as_text(p, k) for p, k in zip(self._parts, self._kinds)])
                cur = self._as_text(ids.values, ids.kind)
            again = np.asarray(pd.Series(cur).isin(pd.Series(prev)).to_numpy(), dtype=bool)
            if again.any():
                raise PersonIdError(
                    f"{source.where}: column {self.column!r} repeats {int(again.sum()):,} id(s) of earlier "
                    f"rows (e.g. {ids.values[again][:3].tolist()}) in "
                    f"{', '.join(source.locate(np.flatnonzero(again)[:3]))}. {self.fix}"
                )
        self._parts.append(ids.values)
        self._kinds.append(ids.kind)

    @property
    def kind(self) -> str | None:
        """``"int"``, ``"text"`` (if any batch held text ids) or ``None`` before the first batch."""
        if not self._kinds:
            return None
        return "text" if "text" in self._kinds else "int"

    def finish(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``person_id`` per row (int64) and the verbatim text ids (``None`` for integer ids)."""
        if not self._parts:
            return np.array([], dtype=np.int64), None
        if self.kind == "int":
            return np.concatenate(self._parts).astype(np.int64), None
        text = np.concatenate([self._as_text(p, k) for p, k in zip(self._parts, self._kinds)])
        return number_text_ids(text)[0], text
