r"""Fast path of the streaming CSV reader: weekly code cells read straight from the bytes.

A block of whole lines of a DREAM CSV that holds no quote and no carriage
return (but those of ``\r\n`` line ends, below), where every line has one
field per header column, is split with numpy, a few hundred lines at a time
(so that the arrays stay in the CPU cache): the separators (commas and line
ends) are located, the non-empty weekly cells become 64-bit keys (their
bytes), and the keys become code indices through a small hash table of the
distinct cells seen so far.  Each distinct cell is read once by the
:class:`CodeLookup`, exactly as the dictionary path reads the cells pyarrow
gives, so the codes are the same.  The result is the batch's coded cells
(:class:`Cells`: per row, the weekly column and code of each coded week),
never a dense matrix of the blank weeks.

Quotes that enclose whole fields (``"111"``, ``""``, as R's ``write.csv``,
Stata and SAS write text columns) are read on this path too: every quote pair
must open a field and close it, with no comma, line end or doubled quote
inside; the cell is the text between the quotes, as pyarrow reads it.

The file (uncompressed or decompressed) is read into one reused buffer
(:class:`LineBlocks`).

Lines that all end in a carriage return and a line feed (``\r\n``, as files
written on Windows end) are read on this path too: the carriage return then ends
the last field of each line, and a block holding any other carriage return (a
line ending in ``\n`` alone, or one inside a field) is not simple.

Any block outside that simple case (other quotes, other carriage returns, NUL bytes,
empty lines, ragged lines, cells longer than 7 bytes, bytes that are not
UTF-8, codes not in the table) is handed back to pyarrow's CSV reader and the
column-by-column lookup, which raise the usual messages.
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools.exceptions import EvaltoolsError, FileFormatError

__all__ = ["KeyTable", "Cells", "block_cells", "Chained", "LineBlocks", "field_positions"]

#: Lines split per step inside a block (the separator arrays of a step stay in the CPU cache).
STEP_LINES = 128
#: The bytes that end a field: comma and line end.
_SEPARATOR = np.zeros(256, dtype=bool)
_SEPARATOR[[10, 44]] = True


#: Left shift that moves a cell of ``n`` bytes to the top of its 64-bit key.
_SHIFT = np.array([(8 - n) * 8 for n in range(8)], dtype=np.uint64)
_EMPTY = np.uint64(1) << np.uint64(63)  # no key has its top bit alone: matches no cell


class KeyTable:
    """Cell key -> code index: a perfect multiplicative hash over the distinct cells seen.

    A key is the cell's bytes shifted to the top of a 64-bit word (cells of 1..7
    bytes without NUL bytes, so that the key names the cell).
    """

    def __init__(self, lookup: Any) -> None:
        self.lookup = lookup
        #: code indices as the panel's categorical codes hold them (int8 for up to 127 codes)
        self.dtype = np.int8 if len(lookup.index) < 127 else np.int16
        self.keys = np.zeros(0, dtype=np.uint64)
        self.codes = np.zeros(0, dtype=self.dtype)
        self.mult = np.uint64(0x9E3779B97F4A7C15)
        self.shift = np.uint64(63)
        self.slot_key = np.array([_EMPTY, _EMPTY], dtype=np.uint64)
        self.slot_code = np.zeros(2, dtype=self.dtype)
        if "" not in lookup.map:
            lookup._learn([""], "")
        self.simple = lookup.map[""] == lookup.BLANK

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        # array products of unsigned integers wrap without a warning (no errstate needed)
        slot = keys * self.mult
        slot >>= self.shift
        return slot.view(np.int64)

    def _rebuild(self) -> None:
        n = len(self.keys)
        bits = max(int(np.ceil(np.log2(max(2 * n, 2)))), 1)
        rng = np.random.default_rng(0)
        while True:
            for _ in range(64):
                self.shift = np.uint64(64 - bits)
                slot = self._slots(self.keys)
                if len(np.unique(slot)) == n:
                    size = 1 << bits
                    self.slot_key = np.full(size, _EMPTY, dtype=np.uint64)
                    self.slot_code = np.zeros(size, dtype=self.dtype)
                    self.slot_key[slot] = self.keys
                    self.slot_code[slot] = self.codes
                    return
                self.mult = np.uint64(int(rng.integers(1 << 62)) * 2 + 1)
            bits += 1

    def _learn(self, new: np.ndarray) -> bool:
        values = []
        for k in new.tolist():
            b = k.to_bytes(8, "little").lstrip(b"\x00")
            try:
                values.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                return False
        lk = self.lookup
        fresh = [v for v in values if v not in lk.map]
        if fresh:
            try:
                lk._learn(fresh, "")
            except EvaltoolsError:
                return False
        codes = np.array([lk.map[v] for v in values], dtype=self.dtype)
        if (codes == lk.UNKNOWN).any():
            return False
        self.keys = np.concatenate([self.keys, new.astype(np.uint64)])
        self.codes = np.concatenate([self.codes, codes])
        self._rebuild()
        return True

    def code(self, keys: np.ndarray) -> np.ndarray | None:
        """Code index per key, ``None`` if a cell is not a known code."""
        for _ in range(2):
            slot = self._slots(keys)
            hit = self.slot_key[slot] == keys
            if hit.all():
                return self.slot_code[slot]
            if not self._learn(pd.unique(keys[~hit])):
                return None
        return None


class Cells:
    """The coded cells of a batch, row by row and in week order within a row (no Python object per cell).

    Parameters
    ----------
    counts : ndarray of int64
        Coded cells per row.
    col : ndarray of int
        Weekly column (position in the reader's weekly columns) per cell.
    code : ndarray of int8 or int16
        Code index per cell (``>= 0``).
    """

    __slots__ = ("counts", "col", "code")

    def __init__(self, counts: np.ndarray, col: np.ndarray, code: np.ndarray) -> None:
        self.counts = counts
        self.col = col
        self.code = code

    def __len__(self) -> int:
        return len(self.counts)

    @classmethod
    def of_matrix(cls, mat: np.ndarray) -> Cells:
        """The cells of a code matrix (rows x weekly columns, ``-1`` blank)."""
        n, nw = mat.shape
        coded = mat >= 0
        counts = np.count_nonzero(coded, axis=1).astype(np.int64)
        flat = np.flatnonzero(coded.reshape(-1))
        code = mat.reshape(-1)[flat].astype(np.int8 if mat.max(initial=0) < 127 else np.int16)
        start = np.arange(n, dtype=np.int64) * nw
        col = (flat - np.repeat(start, counts)).astype(_col_dtype(nw))
        return cls(counts, col, code)

    def select(self, sel: np.ndarray) -> Cells:
        """The cells of the rows in the boolean mask ``sel``."""
        keep = np.repeat(sel, self.counts)
        return Cells(self.counts[sel], self.col[keep], self.code[keep])


def _col_dtype(nw: int) -> type:
    return np.int16 if nw < (1 << 15) else np.int32


_NO_QUOTES = np.zeros(0, dtype=np.int64)


def _quoted_fields(sub: np.ndarray, seps: np.ndarray, d: np.ndarray, crlf: int = 0) -> np.ndarray | None:
    r"""The fields of ``sub`` enclosed in quotes, or ``None`` if a quote is not of that kind.

    ``seps`` are the separators of ``sub`` (field ``j`` ends at ``seps[j]``) and
    ``d`` the field lengths + 1.  A field is quoted if its first byte is a
    quote; it must then be at least 2 bytes long and end with a quote, and
    these must be the only quotes of ``sub`` (no quote inside a field, no
    doubled quote).  No comma or line end lies inside a quoted field, since the
    fields are the bytes between separators.  The cell is then the bytes
    between the quotes, as the CSV reader reads it.  With ``crlf`` (the fields
    per line) the lines end in ``\r\n`` and ``seps`` holds the carriage returns:
    the first field of each line but the first starts two bytes after its
    separator.
    """
    n = int(np.count_nonzero(sub == 34))
    if not n:
        return _NO_QUOTES
    first = np.empty(len(seps), dtype=np.int64)  # each field's first byte (its separator if it is empty)
    first[0] = 0
    np.add(seps[:-1], 1, out=first[1:])
    if crlf:
        first[crlf::crlf] += 1
    field = np.flatnonzero(sub[first] == 34)
    if 2 * len(field) != n or not (d[field] >= 3).all() or not (sub[seps[field] - 1] == 34).all():
        return None
    return field


def block_cells(
    raw: bytes | bytearray | mmap.mmap,
    ncols: int,
    fields: np.ndarray,
    table: KeyTable,
    start: int = 0,
    end: int | None = None,
    nl: np.ndarray | None = None,
) -> Cells | None:
    r"""The coded cells of a block of whole lines, or ``None`` if the block is not simple.

    The block is ``raw[start:end]`` (all of ``raw`` by default) and ends with a
    line end; ``nl`` are its line ends (positions in ``raw``) if known.  Fields
    enclosed in quotes are read without them (:func:`_quoted_fields`); any other
    quote makes the block not simple.  A block holding a carriage return is
    simple only if each of its lines ends in ``\r\n`` and it holds no other
    carriage return.
    ``fields`` are the file positions of the weekly columns (in week order).
    The lines are split ``STEP_LINES`` at a time, so that the arrays of a step
    stay in the CPU cache.
    """
    end = len(raw) if end is None else end
    if not table.simple or raw.find(b"\x00", start, end) >= 0:
        return None
    crlf = raw.find(b"\r", start, end) >= 0  # then every line must end in \r\n
    eol = 13 if crlf else 10  # the byte that ends the last field of a line
    quoted = raw.find(b'"', start, end) >= 0
    a = np.frombuffer(raw, dtype=np.uint8, count=end - start, offset=start)
    nl = np.flatnonzero(a == 10) if nl is None else nl - start
    n = len(nl)
    nw = len(fields)
    counts = np.zeros(n, dtype=np.int64)
    col_dtype = _col_dtype(nw)
    # room for every cell: only the memory of the coded cells is ever touched
    col_out: np.ndarray = np.empty(n * nw, dtype=col_dtype)
    code_out: np.ndarray = np.empty(n * nw, dtype=table.dtype)
    filled = 0
    weekly = np.zeros(ncols, dtype=bool)
    weekly[fields] = True
    position = np.full(ncols, -1, dtype=np.int64)  # file field -> weekly column
    position[fields] = np.arange(nw)
    run = nw > 0 and bool((np.diff(fields) == 1).all())
    ascending = bool((np.diff(fields) > 0).all())
    line_first = np.arange(STEP_LINES, dtype=np.int64) * ncols + (int(fields[0]) if run else 0)
    # the 8 bytes from every byte position (the last step reads a padded copy)
    words = np.ndarray((max(len(a) - 7, 0),), dtype="<u8", buffer=a.data, strides=(1,))
    buf = np.empty(STEP_LINES * ncols, dtype=np.int64)
    for i0 in range(0, n, STEP_LINES):
        i1 = min(i0 + STEP_LINES, n)
        s = int(nl[i0 - 1]) + 1 if i0 else 0
        e = int(nl[i1 - 1]) + 1
        sub = a[s:e]
        k = i1 - i0
        ends = sub == eol
        seps = np.flatnonzero((sub == 44) | ends)
        if len(seps) != k * ncols or not (sub[seps[ncols - 1 :: ncols]] == eol).all():
            return None
        if crlf and (np.count_nonzero(ends) != k or not (sub[seps[ncols - 1 :: ncols] + 1] == 10).all()):
            return None  # the k carriage returns, each before one of the k line feeds: the line ends
        # field j of the step ends at separator j: its length + 1 is d[j]
        d = buf[: k * ncols]
        d[0] = seps[0] + 1
        np.subtract(seps[1:], seps[:-1], out=d[1:])
        if crlf:
            d[ncols::ncols] -= 1  # a line's first field starts after the \r\n of the line before
        inner = _quoted_fields(sub, seps, d, ncols if crlf else 0) if quoted else _NO_QUOTES
        if inner is None:
            return None
        if len(inner):
            d[inner] -= 2  # the quotes are no part of the cell
        coded = d > 1
        grid = coded.reshape(k, ncols)
        grid &= weekly
        q = np.flatnonzero(coded)
        if not len(q):
            continue
        ln = d[q]
        ln -= 1
        longest = int(ln.max())
        if longest > 7:
            return None
        at = seps[q]
        if len(inner):  # a quoted cell ends before its closing quote (the only quotes are those)
            at -= sub[at - 1] == 34
        at -= ln
        if e + 8 <= len(a):
            at += s
            w = words[at]
        else:
            tail = np.zeros(len(a) - s + 8, dtype=np.uint8)
            tail[: len(a) - s] = a[s:]
            w = np.ndarray((len(a) - s,), dtype="<u8", buffer=tail.data, strides=(1,))[at]
        w <<= _SHIFT[longest] if int(ln.min()) == longest else _SHIFT[ln]  # codes of one length: one shift
        code = table.code(w)
        if code is None:
            return None
        cnt = np.add.reduce(grid, axis=1, dtype=np.int64)
        col = q
        col -= np.repeat(line_first[:k], cnt)
        if not run:
            col = position[col]
            if not ascending:  # weekly columns out of week order in the file: week order per line
                by = np.lexsort((col, np.repeat(np.arange(k), cnt)))
                col, code = col[by], code[by]
        if (code < 0).any():  # a blank spelling (a null value of the CSV reader) is no coded cell
            keep = code >= 0
            cnt = np.bincount(np.repeat(np.arange(k), cnt)[keep], minlength=k)
            col, code = col[keep], code[keep]
        counts[i0:i1] = cnt
        col_out[filled : filled + len(col)] = col
        code_out[filled : filled + len(col)] = code
        filled += len(col)
    return Cells(counts, col_out[:filled], code_out[:filled])


class Chained(io.RawIOBase):
    """A read-only stream: some bytes, then the rest of an open stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = memoryview(head)
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if len(self.head):
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        chunk = self.rest.read(len(b))
        n = len(chunk)
        b[:n] = chunk
        return n


def _buffer(n: int) -> mmap.mmap:
    """``n`` writable bytes (an anonymous map: its pages are first touched by the read into them)."""
    return mmap.mmap(-1, max(n, 1))


class LineBlocks:
    r"""Blocks of ``lines`` whole lines from ``carry`` then ``raw`` (the last may be shorter).

    The bytes are read into one buffer of about ``capacity`` bytes that is
    reused from block to block (the unread rest moves to its front), and the
    line ends are located once.
    :meth:`next` gives the next block (the last gets a final line end if the
    file has none: ``\r\n`` if the line before it ends so) or ``None`` at the
    end; :meth:`tail` gives the last block given and the bytes read after it.

    For an uncompressed file, ``raw`` is the open file and ``size`` its size
    when the read began: a file that becomes shorter while it is read is then
    a :class:`~evaltools.exceptions.FileFormatError` naming ``name``, never a
    shorter last block.  (The file is read, not memory-mapped: a mapped file
    cut short by another process would end the process with ``SIGBUS``.)
    """

    def __init__(
        self,
        raw: Any,
        carry: bytes,
        lines: int,
        chunk: int,
        capacity: int = 0,
        size: int | None = None,
        name: str = "",
        where: str = "read_dream",
    ) -> None:
        self.raw = raw
        self.size_at_open = size
        self.name = name
        self.where = where
        self.lines = lines
        self.chunk = chunk
        self.buf = _buffer(max(len(carry) + chunk, capacity))
        self.buf[: len(carry)] = carry
        self.size = len(carry)
        self.start = 0  # the bytes before it were given in a block
        self.nl = np.flatnonzero(np.frombuffer(carry, dtype=np.uint8) == 10)
        self.eof = False
        self.crlf = False  # whether the last line of the last block given ends in \r\n

    def _shift(self) -> None:
        """Move the unread bytes to the front of the buffer."""
        if self.start:
            n = self.size - self.start
            self.buf.move(0, self.start, n)
            self.nl -= self.start
            self.size = n
            self.start = 0

    def _read(self) -> int:
        if len(self.buf) - self.size < self.chunk // 2:  # grow only when less than half a chunk is free
            bigger = _buffer(self.size + self.chunk)
            bigger[: self.size] = self.buf[: self.size]
            self.buf = bigger
        with memoryview(self.buf) as mv, mv[self.size : self.size + self.chunk] as room:
            n = int(self.raw.readinto(room))
        if n:
            new = np.flatnonzero(np.frombuffer(self.buf, dtype=np.uint8, count=n, offset=self.size) == 10)
            self.nl = np.concatenate([self.nl, new + self.size])
            self.size += n
        return n

    def _check_size(self) -> None:
        if self.size_at_open is None:
            return
        now = os.fstat(self.raw.fileno()).st_size
        if now < self.size_at_open:
            raise FileFormatError(
                f"{self.where}: {self.name!r} became shorter while it was read ({now:,} bytes, "
                f"{self.size_at_open:,} when the read began); read it again when the file is complete."
            )

    def next(self) -> tuple[mmap.mmap, int, int, np.ndarray] | None:
        """``(buffer, start, end, line ends)``: the block ``buffer[start:end]``, valid until the next call.

        Raises
        ------
        FileFormatError
            If ``size`` was given and the file became shorter than that.
        """
        self._check_size()
        self._shift()
        while len(self.nl) < self.lines and not self.eof:
            if not self._read():
                self.eof = True
                self._check_size()  # cut short while it was read: not a shorter last block
        if len(self.nl) >= self.lines:
            ends = self.nl[: self.lines]
            self.nl = self.nl[self.lines :]
            self.start = int(ends[-1]) + 1
            self.crlf = self.start >= 2 and self.buf[self.start - 2] == 13
            return self.buf, 0, self.start, ends
        if not self.size:
            return None
        if self.buf[self.size - 1] != 10:
            # \r\n after the last line of a file whose lines before it end so, else \n
            last = int(self.nl[-1]) if len(self.nl) else 0
            crlf = (self.buf[last - 1] == 13 if last > 0 else self.crlf and not len(self.nl)) and (
                self.buf[self.size - 1] != 13
            )
            eol = b"\r\n" if crlf else b"\n"
            if len(self.buf) < self.size + len(eol):
                bigger = _buffer(self.size + len(eol))
                bigger[: self.size] = self.buf[: self.size]
                self.buf = bigger
            self.buf[self.size : self.size + len(eol)] = eol
            self.size += len(eol)
            self.nl = np.append(self.nl, self.size - 1)
        ends, self.nl = self.nl, self.nl[:0]
        self.start = self.size
        return self.buf, 0, self.size, ends

    def tail(self, start: int, end: int) -> tuple[bytes, Any]:
        """The last block given (``start``, ``end`` as given) and the rest: bytes, then a stream."""
        return bytes(self.buf[start:end]) + bytes(self.buf[self.start : self.size]), self.raw

    def close(self) -> None:
        """Nothing to release (the stream belongs to the caller)."""


def field_positions(header: Sequence[str], cols: Sequence[str]) -> np.ndarray:
    pos = {c: i for i, c in enumerate(header)}
    return np.array([pos[c] for c in cols], dtype=np.int64)
