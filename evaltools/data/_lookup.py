"""The vectorised code lookup of the streaming DREAM reader: raw cells -> code indices.

:func:`factor` turns one column of a batch into an integer index per row
into a small table of distinct values, read as code strings by
:func:`~evaltools.data._load.as_code_strings`: the per-value work is done once
per distinct value, never per cell.  :class:`CodeLookup` keeps what it has
learnt over the whole read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac

from evaltools.data._load import as_code_strings

__all__ = ["factor", "CodeLookup", "line_breaks"]


def _numeric_factor(vals: np.ndarray, name: str, where: str) -> tuple[np.ndarray, pd.Series]:
    ok = ~np.isnan(vals)
    inv = np.full(len(vals), -1, dtype=np.int64)
    uniq, pos = np.unique(vals[ok], return_inverse=True)
    inv[ok] = pos
    try:
        strings = as_code_strings(pd.Series(uniq, name=name), where=where)
    except Exception:
        as_code_strings(pd.Series(vals, name=name), where=where)  # the message names the rows' values
        raise
    return inv, strings.reset_index(drop=True)


def _pandas_factor(col: pd.Series, where: str) -> tuple[np.ndarray, pd.Series]:
    dt = col.dtype
    if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt):
        return _numeric_factor(col.to_numpy(dtype=np.float64, na_value=np.nan), str(col.name), where)
    plain = isinstance(dt, pd.StringDtype) or (
        pd.api.types.is_object_dtype(dt) and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty")
    )
    if not plain:  # mixed objects, booleans, categories: read cell by cell, as the whole-file reader does
        col = as_code_strings(col, where=where)
    inv, uniq = pd.factorize(col, use_na_sentinel=True)
    strings = as_code_strings(pd.Series(np.asarray(uniq, dtype=object), name=col.name), where=where)
    return inv.astype(np.int64), strings.reset_index(drop=True)


def _arrow_factor(arr: pa.Array, name: str, where: str, cache: dict) -> tuple[np.ndarray, pd.Series]:
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr = arr.dictionary_encode()
        t = arr.type
    if pa.types.is_dictionary(t) and (
        pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)
    ):
        inv = pac.fill_null(arr.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        values = arr.dictionary.to_pylist()
        key = tuple(values)
        strings = cache.get(key)
        if strings is None:
            strings = as_code_strings(pd.Series(values, dtype=object, name=name), where=where)
            strings = strings.reset_index(drop=True)
            if len(cache) < 4096:
                cache[key] = strings
        return inv, strings
    if pa.types.is_null(t):
        return np.full(len(arr), -1, dtype=np.int64), pd.Series([], dtype="string")
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        vals = pac.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        return _numeric_factor(np.asarray(vals, dtype=np.float64), name, where)
    return _pandas_factor(pd.Series(arr.to_pandas(), name=name), where)


def factor(values: Any, name: str, where: str, cache: dict) -> tuple[np.ndarray, pd.Series]:
    """Index per row into a table of distinct code strings.

    Parameters
    ----------
    values : pyarrow Array or ChunkedArray, or pandas Series
        One column of a batch.
    name : str
        Column name (messages).
    where : str
        The public function (messages).
    cache : dict
        Distinct-value tables already read (reused across columns and batches).

    Returns
    -------
    index : ndarray of int64
        Position in ``strings`` per row, ``-1`` for a missing cell.
    strings : Series of string dtype
        The distinct values as code strings (:func:`as_code_strings`: stripped,
        integral numbers without ``.0``); ``<NA>`` for a blank value.
    """
    if isinstance(values, pd.Series):
        return _pandas_factor(values, where)
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return _arrow_factor(values.chunk(0), name, where, cache)
        invs, tables, off = [], [], 0
        for ch in values.chunks:
            inv, s = _arrow_factor(ch, name, where, cache)
            invs.append(np.where(inv >= 0, inv + off, -1))
            tables.append(s)
            off += len(s)
        if not invs:
            return np.array([], dtype=np.int64), pd.Series([], dtype="string")
        return np.concatenate(invs), pd.concat(tables, ignore_index=True).astype("string")
    return _arrow_factor(values, name, where, cache)


def line_breaks(strings: pd.Series) -> np.ndarray:
    """Mask of distinct values holding a line break (a quote left open in a CSV)."""
    s = strings.fillna("")
    return (s.str.contains("\n", regex=False) | s.str.contains("\r", regex=False)).to_numpy(dtype=bool)


def _indices(arr: pa.DictionaryArray, null: int) -> np.ndarray:
    """The dictionary indices of ``arr`` as numpy, ``null`` where the cell is missing."""
    ind = arr.indices
    n = len(ind)
    if not ind.null_count:
        return ind.to_numpy(zero_copy_only=False)
    validity, data = ind.buffers()[0], ind.buffers()[1]
    width = ind.type.bit_width // 8
    values = np.frombuffer(data, dtype=f"<i{width}", count=n, offset=ind.offset * width)
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    valid = bits[ind.offset : ind.offset + n].astype(bool)
    return np.where(valid, values, null)


class CodeLookup:
    """Raw cell value -> code index, learnt once per distinct value over the whole read.

    Parameters
    ----------
    codes : sequence of str
        The code table's codes (index = category code of the panel's states).
    where : str
        The public function (messages).
    null_values : frozenset of str, optional
        Raw text cells read as blank (the CSV reader's null spellings, so that
        a batch column has no nulls and its indices are read without a copy).

    Notes
    -----
    Columns of CSV, CSV.gz and Parquet text arrive dictionary-encoded: a
    column of a batch is an integer index per row into a handful of distinct
    values, and only values not seen before go through
    :func:`~evaltools.data._load.as_code_strings`.  Other columns go through
    :func:`factor`.  Result per row: the code index, ``-1`` for blank,
    ``-2`` for a code not in the table.
    """

    BLANK = -1
    UNKNOWN = -2

    def __init__(self, codes: Sequence[str], where: str, null_values: frozenset[str] = frozenset()) -> None:
        self.index = pd.Index(list(codes), dtype=object)
        self.where = where
        self.null_values = null_values
        self.map: dict[object, int] = {}
        self.text: dict[object, str | None] = {}
        self.cache: dict = {}

    def _index_of(self, strings: pd.Series) -> np.ndarray:
        na = strings.isna().to_numpy()
        idx = self.index.get_indexer(strings.fillna("").to_numpy(dtype=object))  # type: ignore[arg-type]  # pandas-stubs: any array-like is accepted
        return np.where(na, self.BLANK, np.where(idx < 0, self.UNKNOWN, idx)).astype(np.int16)

    def _learn(self, values: list, name: str) -> None:
        cells = [None if v in self.null_values else v for v in values] if self.null_values else values
        strings = as_code_strings(pd.Series(cells, dtype=object, name=name), where=self.where)
        for v, i, s in zip(values, self._index_of(strings).tolist(), strings.tolist()):
            self.map[v] = i
            self.text[v] = None if s is pd.NA else s

    def _dictionary(self, arr: pa.DictionaryArray, name: str) -> tuple[np.ndarray, list]:
        d = arr.dictionary.to_pylist()
        new = [v for v in d if v not in self.map]
        if new:
            self._learn(new, name)
        look = np.fromiter((self.map[v] for v in d), dtype=np.int16, count=len(d))
        look = np.append(look, np.int16(self.BLANK))
        return look[_indices(arr, len(d))], new

    def codes(self, values: Any, name: str) -> tuple[np.ndarray, list]:
        """Code index per row and the raw values seen for the first time (text columns)."""
        chunks = self._chunks(values)
        if chunks is not None:
            parts, new = [], []
            for c in chunks:
                p, n = self._dictionary(c, name)
                parts.append(p)
                new += n
            out = np.concatenate(parts) if parts else np.array([], dtype=np.int16)
            return out, new
        inv, strings = factor(values, name, self.where, self.cache)
        look = np.append(self._index_of(strings), np.int16(self.BLANK))
        return look[np.where(inv >= 0, inv, len(look) - 1)], []

    def unknown_text(self, values: Any, name: str, mask: np.ndarray) -> list[str]:
        """The code strings of the rows in ``mask`` (for messages)."""
        inv, strings = factor(values, name, self.where, self.cache)
        return [str(s) for s in strings.to_numpy(dtype=object)[inv[mask]]]

    def _chunks(self, values: Any) -> list | None:
        """Dictionary-encoded arrow chunks of a text column, else ``None``."""
        if isinstance(values, pa.ChunkedArray):
            chunks = list(values.chunks)
        elif isinstance(values, pa.Array):
            chunks = [values]
        else:
            return None
        chunks = [
            c.dictionary_encode() if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) else c
            for c in chunks
        ]
        ok = all(
            pa.types.is_dictionary(c.type)
            and (pa.types.is_string(c.type.value_type) or pa.types.is_large_string(c.type.value_type))
            for c in chunks
        )
        return chunks if ok else None

    def strings(self, values: Any, name: str) -> pd.Series:
        """The code strings per row (``<NA>`` for blank), for the monthly and yearly columns."""
        chunks = self._chunks(values)
        if chunks is not None:
            parts = []
            for c in chunks:
                d = c.dictionary.to_pylist()
                new = [v for v in d if v not in self.text]
                if new:
                    self._learn(new, name)
                look = np.array([*(self.text[v] for v in d), None], dtype=object)
                parts.append(look[_indices(c, len(d))])
            out = np.concatenate(parts) if parts else np.array([], dtype=object)
            return pd.Series(out, dtype="string")
        inv, strings = factor(values, name, self.where, self.cache)
        arr = strings.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # pandas-stubs lack na_value=None
        out = np.full(len(inv), None, dtype=object)
        ok = inv >= 0
        if len(arr):
            out[ok] = arr[inv[ok]]
        return pd.Series(out, dtype="string")
