"""Strict loading of the readers' inputs: CSV (pyarrow), Parquet or a DataFrame.

CSV files are parsed with :mod:`pyarrow.csv`, which is strict about field
counts: a line with more *or fewer* fields than the header (including a file
cut off inside its last line) is a :class:`FileFormatError` naming the line
and the row's person id.  Column names are checked by
:func:`evaltools.data.contract.check_column_names` before the data are read
(duplicated names, near misses), columns named by the caller (ids, codes) are
read as text so that ids keep their leading zeros, and the other columns are
typed as pandas would (int, float, bool, text; dates stay text).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.csv as pcsv

from evaltools.data.contract import Source, check_column_names
from evaltools.exceptions import (
    ColumnNameError,
    DataValidationError,
    EmptyInputError,
    FileFormatError,
    SpecificationError,
)

__all__ = ["file_kind", "load_table", "as_code_strings"]

#: Block size of the projected (front-column) CSV pass (smaller blocks reuse the same memory).
FRONT_BLOCK = 1 << 22


def file_kind(path: Path, where: str) -> str:
    """``"csv"`` or ``"parquet"`` from the suffix (:class:`SpecificationError` otherwise)."""
    suf = path.suffix.lower()
    if suf in (".csv", ".txt", ".gz") and (suf != ".gz" or path.name.lower().endswith(".csv.gz")):
        return "csv"
    if suf in (".parquet", ".pq"):
        return "parquet"
    raise SpecificationError(
        f"{where}: cannot tell the format of {path.name!r} from its suffix. "
        "Use a .csv, .csv.gz, .parquet or .pq file, or pass a DataFrame."
    )


def _line_end(buf: bytes) -> int:
    """Position of the first line break outside quotes, or -1."""
    pos = 0
    while True:
        i = buf.find(b"\n", pos)
        if i < 0 or buf.count(b'"', 0, i) % 2 == 0:
            return i
        pos = i + 1


def _header(path: Path, where: str) -> list[str]:
    try:
        with pa.input_stream(str(path), compression="detect") as raw:
            buf = b""
            while True:
                chunk = raw.read(1 << 16)
                buf += chunk
                end = _line_end(buf)
                if end >= 0 or not chunk:
                    break
            line = buf[: end + 1] if end >= 0 else buf
    except (OSError, pa.ArrowInvalid) as e:
        raise FileFormatError(f"{where}: cannot read the header of {str(path)!r} ({e}).") from None
    if not line:
        raise EmptyInputError(f"{where}: file {str(path)!r} is empty (no header line). Check the export.")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileFormatError(
            f"{where}: the header of {str(path)!r} is not valid UTF-8 ({e.reason} at byte {e.start}). "
            "Save the file as UTF-8."
        ) from None
    try:
        row = next(csv.reader([text.rstrip("\r\n")]))
    except (StopIteration, csv.Error):
        row = []
    if not any(c.strip() for c in row):
        raise EmptyInputError(f"{where}: the first line of {str(path)!r} is blank; it must be the header.")
    broken = [c for c in row if "\n" in c or "\r" in c]
    if broken:
        raise FileFormatError(
            f"{where}: the header of {str(path)!r} has a column name holding a line break "
            f"({broken[0]!r}). Rename the column(s) without line breaks and export the file again."
        )
    if len(row) == 1:
        for sep, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if sep in row[0]:
                raise FileFormatError(
                    f"{where}: the header of {str(path)!r} is one column {row[0][:60]!r}: the file looks "
                    f"{name}-separated. The readers expect comma-separated files; export it with ',' as "
                    "the separator."
                )
    return row


def _field(text: str, index: int) -> str:
    try:
        fields = next(csv.reader([text]))
    except (StopIteration, csv.Error):
        return "?"
    return fields[index] if 0 <= index < len(fields) else "?"


def _read_csv(
    path: Path,
    header: list[str],
    text: Callable[[str], bool],
    where: str,
    id_col: str | None,
    include: Sequence[str] | None = None,
    arrow: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a CSV strictly (field counts, UTF-8, line breaks in fields), typed as the readers type it.

    Columns named in ``arrow`` stay Arrow arrays (an ``ArrowDtype`` column): text ids of every row
    are then not turned into one Python object each before they are classified.
    """
    keep = header if include is None else [c for c in header if c in set(include)]
    types = {c: pa.string() for c in keep if text(c)}
    bad: list[tuple[int | None, int, int, str]] = []

    def handler(row: pcsv.InvalidRow) -> str:
        bad.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    parse = pcsv.ParseOptions(invalid_row_handler=handler, newlines_in_values=False)
    convert = pcsv.ConvertOptions(
        column_types=types,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        include_columns=None if include is None else keep,
    )

    def read(threads: bool) -> pa.Table:
        return pcsv.read_csv(
            str(path),
            read_options=pcsv.ReadOptions(use_threads=threads),
            parse_options=parse,
            convert_options=convert,
        )

    def read_blocks() -> pa.Table | None:
        """The projected columns block by block (memory: those columns, not the file).

        ``None`` if the types inferred from the first block do not fit a later block.
        """
        reader = pcsv.open_csv(
            str(path),
            read_options=pcsv.ReadOptions(use_threads=False, block_size=FRONT_BLOCK),
            parse_options=parse,
            convert_options=convert,
        )
        batches = []
        try:
            for b in reader:
                batches.append(b)
        except pa.ArrowInvalid as e:
            if "conversion error" in str(e).lower():
                return None
            raise
        # new compact buffers: the blocks' text columns would otherwise keep their whole blocks
        return pa.Table.from_batches(batches, schema=reader.schema).combine_chunks()

    try:
        table = read_blocks() if include is not None else None
        if table is None:
            bad.clear()
            table = read(True)
        if bad and any(b[0] is None for b in bad):
            bad.clear()
            table = read(False)  # line numbers are known only without threads
    except pa.ArrowInvalid as e:
        msg = str(e)
        if "UTF8" in msg or "utf8" in msg.lower():
            raise FileFormatError(
                f"{where}: {str(path)!r} holds bytes that are not valid UTF-8 ({msg.splitlines()[0]}). "
                "Save the file as UTF-8."
            ) from None
        first = msg.splitlines()[0] if msg else type(e).__name__
        raise FileFormatError(f"{where}: cannot parse {str(path)!r} as CSV ({first}).") from None
    except OSError as e:
        raise FileFormatError(f"{where}: cannot read {str(path)!r} ({e}).") from None
    if bad:
        k = header.index(id_col) if id_col in header else 0
        shown = "; ".join(
            f"line {n} has {a} field(s), the header has {x} ({header[k]}={_field(t, k)!r})"
            for n, x, a, t in bad[:3]
        )
        raise FileFormatError(
            f"{where}: {len(bad):,} line(s) of {str(path)!r} do not have one field per header column "
            f"({shown}{'; ...' if len(bad) > 3 else ''}). Missing fields would be read as blank weeks "
            "(self-support) and extra fields would shift the weeks; fix the export (a file cut off, or a "
            "separator inside an unquoted field?)."
        )
    for name, col in zip(table.column_names, table.columns):
        t = col.type
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            raise FileFormatError(
                f"{where}: column {name!r} of {str(path)!r} holds bytes that are not valid UTF-8. "
                "Save the file as UTF-8."
            )
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            brk = pac.or_(pac.match_substring(col, "\n"), pac.match_substring(col, "\r"))
            if pac.any(brk).as_py():
                row = int(np.flatnonzero(brk.to_numpy(zero_copy_only=False).astype(bool))[0])
                raise FileFormatError(
                    f"{where}: column {name!r} of {str(path)!r} holds a line break in data row {row + 1} "
                    "(a quote left open?). Fix the quoting of that field."
                )
    cast = {}
    for i, f in enumerate(table.schema):
        if pa.types.is_temporal(f.type) or pa.types.is_null(f.type):
            cast[i] = f.name
    for i, name in cast.items():
        col = table.column(i)
        if pa.types.is_null(col.type):  # an all-blank column: float NaN, as pandas reads it
            new = pa.nulls(len(col), pa.float64())
        else:  # dates stay text, as pandas reads them
            new = pac.cast(col, pa.string())
        table = table.set_column(i, name, new)
    held = {c: table.column(c) for c in arrow if c in table.column_names}
    if held:
        order = table.column_names
        table = table.drop_columns(list(held))
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
        for c in sorted(held, key=order.index):  # left to right, so that each lands at its place
            col = pd.Series(pd.arrays.ArrowExtensionArray(held[c]), index=frame.index)
            frame.insert(order.index(c), c, col)
        return frame
    return table.to_pandas(split_blocks=True, self_destruct=True)


def load_table(
    source: str | Path | pd.DataFrame,
    *,
    where: str,
    text: Callable[[str], bool],
    id_col: str | None = None,
    patterns: Sequence[tuple[re.Pattern[str], str]] = (),
    names: Sequence[str] = (),
) -> tuple[pd.DataFrame, Source]:
    """Load a reader's input and check its column names.

    Parameters
    ----------
    source : str, Path or DataFrame
        File (``.csv``, ``.csv.gz``, ``.parquet``) or a DataFrame (not copied).
    where : str
        The public function, for messages.
    text : callable
        ``text(column_name)`` is True for CSV columns to read as text.
    id_col : str, optional
        The person-id column, named in messages about bad lines.
    patterns, names
        Passed to :func:`~evaltools.data.contract.check_column_names`.

    Returns
    -------
    frame : DataFrame
    source : Source
        Where the rows come from (``first_line=2`` for CSV files).
    """
    if isinstance(source, pd.DataFrame):
        if isinstance(source.columns, pd.MultiIndex):
            raise ColumnNameError(
                f"{where}: the DataFrame has MultiIndex columns; flatten them to one name per column."
            )
        src = Source(where)
        check_column_names(source.columns, source=src, patterns=patterns, names=names)
        return source, src
    if not isinstance(source, (str, Path)):
        raise SpecificationError(
            f"The 'source' parameter of {where} must be a path (str or Path) or a DataFrame. "
            f"Got {type(source).__name__} instead."
        )
    path = Path(source)
    kind = file_kind(path, where)
    if not path.is_file():
        raise FileNotFoundError(f"{where}: file {str(path)!r} not found. Check the path.")
    if kind == "parquet":
        try:
            frame = pd.read_parquet(path)
        except (OSError, pa.ArrowException, ValueError) as e:
            raise FileFormatError(f"{where}: cannot read {str(path)!r} as Parquet ({e}).") from None
        src = Source(where, str(path))
        check_column_names(frame.columns, source=src, patterns=patterns, names=names)
        return frame, src
    header = _header(path, where)
    src = Source(where, str(path), first_line=2)
    check_column_names(header, source=src, patterns=patterns, names=names)
    return _read_csv(path, header, text, where, id_col), src


def as_code_strings(col: pd.Series, *, where: str = "") -> pd.Series:
    """Codes as stripped strings with NA for blank; integral numbers lose their ``.0``.

    Raises
    ------
    DataValidationError
        Non-integral, non-finite or huge numeric codes (naming the column).
    """
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        vals = col.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = ~np.isnan(vals)
        out = np.full(len(vals), None, dtype=object)
        if ok.any():
            iv = vals[ok]
            bad = ~np.isfinite(iv) | (iv != np.round(iv)) | (np.abs(iv) > 2.0**53)
            if bad.any():
                pre = f"{where}: " if where else ""
                raise DataValidationError(
                    f"{pre}column {col.name!r} holds non-integer numbers "
                    f"(e.g. {iv[bad][:3].tolist()}); "
                    "codes must be strings or integers. Read the file with string dtype for code columns."
                )
            out[ok] = iv.astype(np.int64).astype(str)
        return pd.Series(out, index=col.index, dtype="string")
    s = col.astype("string").str.strip()
    return s.mask(s == "")
