"""Row-batch sources of the streaming DREAM reader and the vectorised code lookup.

A source names its columns, loads the *front* columns (id, window and
background columns: one small column per person, typed as the whole-file
readers type them) in one projected pass, and then yields the wide columns
(weekly, monthly, yearly) in row batches with column projection:

CSV / CSV.gz
    Blocks of whole lines read into one reused buffer; a plain block (one
    field per header column, quotes only around whole fields) gives its coded
    weekly cells straight from the bytes (:mod:`evaltools.data._fastcsv`), any
    other block is read by pyarrow on its own, and where that cannot be done
    (a quoted field running past its line) the rest of the file goes to
    :func:`pyarrow.csv.open_csv` (streaming, bounded blocks), with the weekly
    and text columns dictionary-encoded.
Parquet
    :meth:`pyarrow.parquet.ParquetFile.iter_batches` with the projected columns.
SAS (``.sas7bdat``)
    :func:`pyreadstat.read_sas7bdat` with ``usecols``, ``row_offset`` and
    ``row_limit`` per batch (lists, pyreadstat's dict output); text weekly
    cells go through the CSV fast path.  readstat reaches ``row_offset`` by
    reading the pages before it, so each batch reads the file from its start.
DataFrame
    Row slices of the frame (not copied).

:mod:`evaltools.data._lookup` turns the cells of a batch into code indices.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from evaltools.data._fastcsv import Cells
from evaltools.data._load import _header, _read_csv, file_kind
from evaltools.data._lookup import CodeLookup, factor
from evaltools.data.contract import Source, check_column_names
from evaltools.exceptions import ColumnNameError, FileFormatError, SpecificationError

__all__ = ["open_source", "factor", "BatchSource", "CodeLookup", "release_memory"]

#: Text of one code column: the type the CSV reader gives weekly and text columns.
DICT_STRING = pa.dictionary(pa.int32(), pa.string())


class BatchSource:
    """Base of the sources: column names, the front pass and the batch pass.

    Attributes
    ----------
    name : str
        File path or ``"DataFrame"``.
    columns : list of str
        Column names in file order.
    first_line : int or None
        File line of the first data row (CSV), ``None`` for row positions.
    """

    name: str = "DataFrame"
    columns: list[str]
    first_line: int | None = None
    #: Text cells that mean "missing" in the batches (the CSV reader's null spellings).
    null_values: frozenset[str] = frozenset()

    def source(self, where: str) -> Source:
        """The :class:`Source` of the whole file (row 0 = first data row)."""
        return Source(where, self.name, first_line=self.first_line)

    def front(
        self, cols: Sequence[str], text: Callable[[str], bool], where: str, id_col: str
    ) -> pd.DataFrame:
        """The front columns ``cols`` of every row, typed as the whole-file readers type them."""
        raise NotImplementedError

    def batches(
        self, cols: Sequence[str], batch_rows: int, where: str
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(first row, {column: values})`` per batch of about ``batch_rows`` rows."""
        raise NotImplementedError

    def coded_batches(
        self, weekly: Sequence[str], other: Sequence[str], batch_rows: int, where: str, lookup: CodeLookup
    ) -> Iterator[tuple[int, Cells | None, dict[str, Any]]]:
        """``(first row, coded cells or None, {column: values})`` per batch.

        The coded cells (:class:`~evaltools.data._fastcsv.Cells`, the columns
        counted in ``weekly``) are given when the source reads the weekly cells
        itself; otherwise the weekly columns are in the dict with the ``other``
        columns.
        """
        for r0, cols in self.batches([*weekly, *other], batch_rows, where):
            yield r0, None, cols


# -- DataFrame ---------------------------------------------------------------------------
class FrameSource(BatchSource):
    """Row slices of an in-memory DataFrame (not copied, not modified)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.columns = list(frame.columns)

    def front(
        self, cols: Sequence[str], text: Callable[[str], bool], where: str, id_col: str
    ) -> pd.DataFrame:
        return self.frame.loc[:, list(cols)]

    def batches(
        self, cols: Sequence[str], batch_rows: int, where: str
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        n = len(self.frame)
        for r0 in range(0, n, batch_rows):
            part = self.frame.iloc[r0 : r0 + batch_rows]
            yield r0, {c: part[c] for c in cols}


# -- Parquet -----------------------------------------------------------------------------
class ParquetSource(BatchSource):
    """Parquet row batches with column projection (:mod:`pyarrow.parquet`)."""

    def __init__(self, path: Path, where: str) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.name = str(path)
        try:
            self.file = pq.ParquetFile(str(path))
        except (OSError, pa.ArrowException, ValueError) as e:
            raise FileFormatError(f"{where}: cannot read {str(path)!r} as Parquet ({e}).") from None
        schema = self.file.schema_arrow
        meta = (schema.metadata or {}).get(b"pandas")
        index_cols: set[str] = set()
        if meta:
            import json

            index_cols = {c for c in json.loads(meta).get("index_columns", []) if isinstance(c, str)}
        self.columns = [n for n in schema.names if n not in index_cols]

    def front(
        self, cols: Sequence[str], text: Callable[[str], bool], where: str, id_col: str
    ) -> pd.DataFrame:
        try:
            table = self.file.read(columns=list(cols))
        except (OSError, pa.ArrowException, ValueError) as e:
            raise FileFormatError(f"{where}: cannot read {self.name!r} as Parquet ({e}).") from None
        return table.to_pandas()

    def batches(
        self, cols: Sequence[str], batch_rows: int, where: str
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        r0 = 0
        try:
            for b in self.file.iter_batches(
                batch_size=batch_rows, columns=list(cols), use_pandas_metadata=False
            ):
                yield r0, {c: b.column(c) for c in cols}
                r0 += b.num_rows
        except (OSError, pa.ArrowException) as e:
            raise FileFormatError(
                f"{where}: cannot read {self.name!r} as Parquet after row {r0:,} ({e})."
            ) from None


# -- SAS ---------------------------------------------------------------------------------
class SasSource(BatchSource):
    """SAS ``.sas7bdat`` row ranges (:func:`pyreadstat.read_sas7bdat`, ``usecols``, ``row_offset``).

    The batch pass reads each row range as Python lists (``output_format="dict"``,
    no DataFrame is built).  When every weekly column is a text column, the
    weekly cells of a batch are joined into the lines of a plain CSV block
    (one C-level pass over the cells) and coded by the CSV reader's fast path
    (:func:`~evaltools.data._fastcsv.block_cells`: numpy over the bytes and a
    hash table of the distinct cells, each read once by the
    :class:`CodeLookup`).  A batch outside that simple case (a missing text
    value, a comma, quote or line break inside a cell, a cell longer than 7
    bytes, a code not in the table) is read again as a DataFrame and coded
    column by column, which raises the usual messages.
    """

    def __init__(self, path: Path, where: str) -> None:
        try:
            import pyreadstat
        except ImportError:  # pragma: no cover - pyreadstat is a declared dependency of the sas extra
            raise SpecificationError(
                f"{where}: reading SAS files needs pyreadstat (pip install 'evaltools[sas]')."
            ) from None
        self.pyreadstat = pyreadstat
        self.path = path
        self.name = str(path)
        try:
            _, meta = pyreadstat.read_sas7bdat(str(path), metadataonly=True)
        except Exception as e:  # pyreadstat raises its own ReadstatError / PyreadstatError
            raise FileFormatError(f"{where}: cannot read {str(path)!r} as SAS7BDAT ({e}).") from None
        self.columns = list(meta.column_names)
        self.n_rows = meta.number_rows
        #: ``"string"`` or ``"double"`` per column (SAS has no other storage types)
        self.types: dict[str, str] = dict(getattr(meta, "readstat_variable_types", None) or {})

    def _read(self, where: str, **kw: Any) -> Any:
        try:
            return self.pyreadstat.read_sas7bdat(str(self.path), **kw)
        except Exception as e:
            raise FileFormatError(f"{where}: cannot read {self.name!r} as SAS7BDAT ({e}).") from None

    def front(
        self, cols: Sequence[str], text: Callable[[str], bool], where: str, id_col: str
    ) -> pd.DataFrame:
        frame, _ = self._read(where, usecols=list(cols))
        return _sas_blanks(frame[list(cols)])

    def batches(
        self, cols: Sequence[str], batch_rows: int, where: str
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        r0 = 0
        while True:
            frame, _ = self._read(where, usecols=list(cols), row_offset=r0, row_limit=batch_rows)
            if not len(frame):
                return
            yield r0, {c: frame[c] for c in cols}
            r0 += len(frame)
            if len(frame) < batch_rows or r0 == self.n_rows:
                return

    def coded_batches(
        self, weekly: Sequence[str], other: Sequence[str], batch_rows: int, where: str, lookup: CodeLookup
    ) -> Iterator[tuple[int, Cells | None, dict[str, Any]]]:
        """As :meth:`BatchSource.coded_batches`; text weekly cells are coded from one CSV block per batch."""
        from evaltools.data._fastcsv import KeyTable

        cols = [*weekly, *other]
        fast = (
            bool(weekly)
            and all(self.types.get(c) == "string" for c in weekly)
            and lookup.null_values == self.null_values
        )
        if not fast:
            yield from super().coded_batches(weekly, other, batch_rows, where, lookup)
            return
        table = KeyTable(lookup)
        if not table.simple:  # a blank cell is a code of the table
            yield from super().coded_batches(weekly, other, batch_rows, where, lookup)
            return
        r0 = 0
        while True:
            if fast:
                data, _ = self._read(
                    where, usecols=cols, row_offset=r0, row_limit=batch_rows, output_format="dict"
                )
                n = len(data[cols[0]])
                cells = _sas_cells([data.pop(c) for c in weekly], table) if n else None
                part = {c: _sas_series(data.pop(c), c, self.types.get(c)) for c in other}
                del data
            if not fast or (n and cells is None):
                # not the simple case (from this batch on): the DataFrame path and its messages
                fast, cells = False, None
                frame, _ = self._read(where, usecols=cols, row_offset=r0, row_limit=batch_rows)
                n = len(frame)
                part = {c: frame[c] for c in cols}
                del frame
            if not n:
                return
            box = [(r0, cells, part)]
            del cells, part
            yield box.pop()
            r0 += n
            if n < batch_rows or r0 == self.n_rows:  # no read of an empty range past the end
                return


def _sas_cells(columns: list[list], table: Any) -> Cells | None:
    """The coded cells of a batch's weekly text columns (lists of ``str``), or ``None``.

    The cells are joined into the lines of a CSV block (``,`` between the
    weeks of a person, a line end after each person) and split by
    :func:`~evaltools.data._fastcsv.block_cells`; ``None`` when a cell is
    missing (``None``), cannot be encoded, or the block is not plain.
    ``columns`` is emptied (its lists are freed once the block is made).
    """
    from evaltools.data._fastcsv import block_cells

    nw = len(columns)
    try:
        text = "\n".join(map(",".join, zip(*columns)))
    except TypeError:
        return None
    finally:
        columns.clear()
    try:
        raw = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return None
    del text
    return block_cells(raw, nw, np.arange(nw, dtype=np.int64), table)


def _sas_series(values: list, name: str, kind: str | None) -> pd.Series:
    """A batch column of the dict output typed as the DataFrame output types it.

    A numeric column (``kind="double"``) is float64 with NaN; any other column
    (text, and numbers read as dates or holding tagged missing values) holds
    objects with NaN for a missing value.
    """
    if kind == "double":
        try:
            return pd.Series(np.array(values, dtype=np.float64), name=name)
        except (TypeError, ValueError):
            pass
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    arr[pd.isna(arr)] = np.nan
    return pd.Series(arr, name=name)


def _sas_blanks(frame: pd.DataFrame) -> pd.DataFrame:
    """The front columns as the CSV reader types them.

    SAS stores a missing text value as ``""`` (read as missing) and every
    number as a double: a numeric column of whole numbers without a missing
    value is int64, as the CSV reader infers it.
    """
    out = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype == object:
            s = s.mask(s == "")
        elif s.dtype == np.float64:
            v = s.to_numpy()
            if np.isfinite(v).all() and (np.abs(v) < 2.0**53).all() and (v == np.floor(v)).all():
                s = s.astype(np.int64)
        out[c] = s
    return pd.DataFrame(out, index=frame.index)


# -- CSV ---------------------------------------------------------------------------------
class CsvSource(BatchSource):
    """CSV / CSV.gz: one projected strict read of the front columns, then streamed blocks."""

    def __init__(self, path: Path, where: str) -> None:
        self.path = path
        self.name = str(path)
        self.first_line = 2
        self.null_values = frozenset(pcsv.ConvertOptions().null_values)
        self.columns = _header(path, where)
        self.row_bytes = _row_bytes(path)

    def front(
        self, cols: Sequence[str], text: Callable[[str], bool], where: str, id_col: str
    ) -> pd.DataFrame:
        # strict: every line's field count is checked here, for the whole file
        return _read_csv(self.path, self.columns, text, where, id_col, include=list(cols), arrow=(id_col,))

    def batches(
        self, cols: Sequence[str], batch_rows: int, where: str
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        yield from self._arrow_batches(str(self.path), cols, batch_rows, where, 0)

    def coded_batches(
        self, weekly: Sequence[str], other: Sequence[str], batch_rows: int, where: str, lookup: CodeLookup
    ) -> Iterator[tuple[int, Cells | None, dict[str, Any]]]:
        """As :meth:`BatchSource.coded_batches`; simple blocks are split with numpy (:mod:`._fastcsv`).

        An uncompressed file is read with ``readinto`` (and its size watched), a compressed one
        as a decompressed stream, both into one reused buffer.
        """
        from evaltools.data._fastcsv import Chained, LineBlocks

        cols = [*weekly, *other]
        chunk = _block(batch_rows, self.row_bytes)
        size = None
        try:
            if _plain(self.path):
                raw: Any = open(self.path, "rb", buffering=0)  # noqa: SIM115 - closed by the with below
                size = os.fstat(raw.fileno()).st_size
            else:
                raw = pa.input_stream(str(self.path), compression="detect")
        except (OSError, pa.ArrowException) as e:
            raise _csv_error(e, self.name, where, "") from None
        with raw:
            head = raw.read(1 << 16)
            while b"\n" not in head:
                more = raw.read(1 << 16)
                if not more:
                    break
                head += more
            cut = head.find(b"\n") + 1
            header, carry = head[:cut], head[cut:]
            r0 = 0
            if cut and lookup.null_values == self.null_values:
                capacity = int(batch_rows * self.row_bytes * 1.1) + chunk
                blocks = LineBlocks(raw, carry, batch_rows, chunk, capacity, size, self.name, where)
                tail = yield from self._fast_batches(blocks, header, weekly, other, where, lookup)
                if tail is None:
                    return
                r0, carry, _ = tail
            stream = pa.PythonFile(Chained(header + carry, raw), mode="r")
            for r, c in self._arrow_batches(stream, cols, batch_rows, where, r0):
                yield r, None, c

    def _fast_batches(
        self,
        blocks: Any,
        header: bytes,
        weekly: Sequence[str],
        other: Sequence[str],
        where: str,
        lookup: CodeLookup,
    ) -> Generator[tuple[int, Cells | None, dict[str, Any]], None, tuple[int, bytes, Any] | None]:
        """The batches of the blocks, read from the bytes or, one block at a time, by pyarrow.

        A block that is not simple (e.g. a quoted field holding a comma) is read by
        pyarrow on its own (:meth:`_block_alone`) and the next blocks go back to the
        fast path.  Returns ``None`` when every block was read so, else
        ``(first row, bytes, stream)``: the first block that pyarrow cannot read on its
        own (a quoted field running past its line, a ragged line, bad bytes) and the
        rest of the file, for pyarrow's streaming reader and its messages.
        """
        from evaltools.data._fastcsv import KeyTable, block_cells, field_positions

        if b"\r" in header.removesuffix(b"\r\n") or not _header_is(header, self.columns):
            block = blocks.next()
            return None if block is None else (0, *blocks.tail(block[1], block[2]))
        fields = field_positions(self.columns, weekly)
        table = KeyTable(lookup)
        r0 = 0
        while True:
            block = blocks.next()
            if block is None:
                return None
            buf, start, end, ends = block
            del block
            cells = block_cells(buf, len(self.columns), fields, table, start, end, ends)
            if cells is None:
                alone = None
                if table.simple:  # else no block is simple: the streaming reader reads them all
                    alone = self._block_alone(header + bytes(buf[start:end]), len(ends), [*weekly, *other])
                if alone is None:
                    del buf, ends, alone
                    return (r0, *blocks.tail(start, end))
                n = len(ends)
                del buf, ends
                yield r0, None, alone
                del alone
                r0 += n
                continue
            rest: dict[str, Any] = {}
            if other:
                rest = self._parse(header + bytes(buf[start:end]), other, where, r0)
            n = len(cells)
            box = [(r0, cells, rest)]
            del buf, ends, cells, rest
            yield box.pop()
            r0 += n

    def _block_alone(self, data: bytes, lines: int, cols: Sequence[str]) -> dict[str, Any] | None:
        """The columns ``cols`` of a block that is not simple, read by pyarrow on its own.

        ``data`` is the header line and the block's ``lines`` lines.  ``None``
        unless every line is one row with one field per header column and no
        field holds a line break (no quoted field runs past its line, so the
        block reads as it reads within the whole file); the block is then read
        with the rest of the file, whose reader raises the usual messages.
        """
        if data.count(b"\r") != data.count(b"\r\n"):  # a carriage return in a field
            return None
        try:
            t = _read_block(data, self.columns)
        except (OSError, pa.ArrowException):
            return None
        if t.num_rows != lines or t.column_names != self.columns:
            return None
        # a field holding a line end spans two lines, so one row fewer, unless it runs to the end
        # of the block: only the last row can hold one
        last = t.slice(lines - 1, 1).to_pylist()[0].values()
        if any(isinstance(v, str) and ("\n" in v or "\r" in v) for v in last):
            return None
        return {c: t.column(c) for c in cols}

    def _parse(self, data: bytes, cols: Sequence[str], where: str, r0: int) -> dict[str, Any]:
        """The columns ``cols`` of a block of lines (with its header line), as the batches type them."""
        try:
            t = _read_block(data, cols)
        except (OSError, pa.ArrowException) as e:
            raise _csv_error(e, self.name, where, f" after line {r0 + 1:,}") from None
        return {c: t.column(c) for c in cols}

    def _arrow_batches(
        self, stream: Any, cols: Sequence[str], batch_rows: int, where: str, r0: int
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        types = {c: DICT_STRING for c in cols}
        block = min(_block(batch_rows, self.row_bytes), STREAM_BLOCK)
        bad: list[int | None] = []

        def handler(row: pcsv.InvalidRow) -> str:
            bad.append(row.number)
            return "skip"

        try:
            reader = pcsv.open_csv(
                stream,
                read_options=pcsv.ReadOptions(use_threads=False, block_size=block),
                parse_options=pcsv.ParseOptions(invalid_row_handler=handler, newlines_in_values=False),
                convert_options=pcsv.ConvertOptions(
                    column_types=types,
                    strings_can_be_null=False,  # blank and null spellings are read by CodeLookup
                    include_columns=list(cols),
                ),
            )
        except (OSError, pa.ArrowException) as e:
            raise _csv_error(e, self.name, where, "") from None
        pending: list[pa.RecordBatch] = []
        held = 0
        while True:
            try:
                b = reader.read_next_batch()
            except StopIteration:
                break
            except (OSError, pa.ArrowException) as e:
                raise _csv_error(e, self.name, where, f" after line {r0 + held + 1:,}") from None
            if bad:
                raise FileFormatError(
                    f"{where}: a line of {self.name!r} near line {r0 + held + 2:,} does not have one field "
                    "per header column; fix the export (a file cut off, or a separator inside an unquoted "
                    "field?)."
                )
            pending.append(b)
            held += b.num_rows
            while held >= batch_rows:
                table = pa.Table.from_batches(pending)
                yield r0, {c: table.column(c).slice(0, batch_rows) for c in cols}
                rest = table.slice(batch_rows)
                pending = rest.to_batches()
                held -= batch_rows
                r0 += batch_rows
        if held:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield r0, {c: table.column(c) for c in cols}


def _read_block(data: bytes, cols: Sequence[str]) -> pa.Table:
    """The columns ``cols`` of a block of whole lines (with its header line), as the batches type them."""
    return pcsv.read_csv(
        pa.BufferReader(data),
        read_options=pcsv.ReadOptions(use_threads=False),
        parse_options=pcsv.ParseOptions(newlines_in_values=False),
        convert_options=pcsv.ConvertOptions(
            column_types={c: DICT_STRING for c in cols},
            strings_can_be_null=False,
            include_columns=list(cols),
        ),
    )


def _header_is(line: bytes, columns: Sequence[str]) -> bool:
    r"""Whether the first line, cut at its first line end, is the header (quoted names included).

    The line ends in ``\n`` or ``\r\n``.  A name holding a comma is fine; one holding a line
    end is not (the cut is then inside it).
    """
    try:
        row = next(csv.reader([line.decode("utf-8-sig").removesuffix("\n").removesuffix("\r")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return False
    return row == list(columns)


def _plain(path: Path) -> bool:
    """Whether the file is read without decompression (pyarrow detects codecs by the extension)."""
    return path.suffix.lower() in (".csv", ".txt")


#: Block size of pyarrow's streaming CSV reader.  The reader reads up to 32
#: blocks ahead of the consumer (its background queue), so the block size bounds
#: that read-ahead: 32 x 4 MB.  The blocks are joined into batches of whole rows.
STREAM_BLOCK = 1 << 22


def _block(batch_rows: int, row_bytes: float) -> int:
    return int(min(max(batch_rows * row_bytes * 1.1, 1 << 20), 1 << 25))


def _csv_error(e: Exception, name: str, where: str, after: str) -> FileFormatError:
    msg = str(e)
    first = msg.splitlines()[0] if msg else type(e).__name__
    if "UTF8" in msg or "utf8" in msg.lower():
        return FileFormatError(
            f"{where}: {name!r} holds bytes that are not valid UTF-8{after} ({first}). "
            "Save the file as UTF-8."
        )
    return FileFormatError(
        f"{where}: cannot parse {name!r} as CSV{after} ({first}); the file may be cut off or corrupt."
    )


def _row_bytes(path: Path) -> float:
    """Mean bytes per data line over the first megabyte (for the block size)."""
    with pa.input_stream(str(path), compression="detect") as raw:
        buf = raw.read(1 << 20)
    lines = buf.count(b"\n")
    return max(len(buf) / max(lines, 1), 16.0)


def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's ``malloc_trim`` on Linux (glibc), else ``None``."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Return freed memory to the system between batches.

    The arrow memory pool keeps its freed blocks, and glibc's heap keeps the
    freed arrays of a batch in pieces that the next batch's (larger) arrays do
    not reuse, so that the resident memory would creep up batch by batch.
    """
    release = getattr(pa.default_memory_pool(), "release_unused", None)
    if release is not None:
        release()
    if _TRIM is not None:
        _TRIM(0)


# -- opening -----------------------------------------------------------------------------
def open_source(
    source: str | Path | pd.DataFrame,
    *,
    where: str,
    patterns: Sequence[Any],
    names: Sequence[str],
) -> BatchSource:
    """The batch source of ``source`` after checking its column names.

    Raises
    ------
    FileNotFoundError, SpecificationError, FileFormatError, ColumnNameError
    """
    if isinstance(source, pd.DataFrame):
        if isinstance(source.columns, pd.MultiIndex):
            raise ColumnNameError(
                f"{where}: the DataFrame has MultiIndex columns; flatten them to one name per column."
            )
        src: BatchSource = FrameSource(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        sas = path.suffix.lower() == ".sas7bdat"
        kind = "sas" if sas else None
        if not sas:
            try:
                kind = file_kind(path, where)
            except SpecificationError:
                raise SpecificationError(
                    f"{where}: cannot tell the format of {path.name!r} from its suffix. Use a .csv, "
                    ".csv.gz, .parquet, .pq or .sas7bdat file, or pass a DataFrame."
                ) from None
        if not path.is_file():
            raise FileNotFoundError(f"{where}: file {str(path)!r} not found. Check the path.")
        if kind == "sas":
            src = SasSource(path, where)
        elif kind == "parquet":
            src = ParquetSource(path, where)
        else:
            src = CsvSource(path, where)
    else:
        raise SpecificationError(
            f"The 'source' parameter of {where} must be a path (str or Path) or a DataFrame. "
            f"Got {type(source).__name__} instead."
        )
    check_column_names(
        src.columns if not isinstance(src, FrameSource) else source.columns,  # type: ignore[union-attr]
        source=src.source(where),
        patterns=patterns,
        names=names,
    )
    return src


# -- vectorised code lookup --------------------------------------------------------------
