"""Small-cell suppression (statistical disclosure control) for exported tables.

Every table that leaves evaltools through an export (DataFrame, HTML, CSV,
Excel) passes :func:`suppress` unless the caller turns it off explicitly.

Rules
-----
*Primary suppression.*  A cell based on ``1 .. threshold`` persons (default
3, "3 or fewer persons" as in the seed reports and jobindsats tables) is
masked.  Empty cells (0 persons) describe nobody and are published unless
``mask_zeros=True``.

*Secondary (complementary) suppression.*  A masked cell must not be
recoverable from the published cells and the row/column totals.  The table and
its margins form an extended ``(n + 1) x (m + 1)`` matrix; each row and each
column of it is one additive relation.  Build the bipartite graph whose nodes
are the relations and whose edges are the masked cells.  With positive cell
values, a masked cell can be recovered exactly if and only if its edge is a
*bridge* of that graph (it lies on no cycle); otherwise a small transfer around
the cycle changes it without changing any published number.  (The popular rule
"at least two masked cells per row and column" is not enough: two masked
rectangles joined by one cell satisfy it, yet the joining cell is a bridge.)
The algorithm repeatedly takes a bridge and closes a rectangle through it,
masking the cheapest missing corners (smallest total person count, ties broken
by position; a greedy choice, not an optimal one).  Margins that are not
published count as masked from the start; published margins that are not part
of the table are never masked.  Complements are cells with a positive count.
Only when no such cell is left (tiny or very sparse tables) are empty cells
used, with a :class:`~evaltools.exceptions.DisclosureWarning`: the pattern then
has no bridge, but non-negativity may narrow masked values down, so aggregate.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaltools.exceptions import DataValidationError, DisclosureError, DisclosureWarning, SpecificationError
from evaltools.reporting.tables import html_table, text_table

__all__ = ["SuppressedTable", "suppress", "suppression_pattern", "OFF_FOOTNOTE", "MASK_MARKER"]

#: Footnote added whenever suppression is turned off.
OFF_FOOTNOTE = "Small-cell suppression turned off by the user; the table may disclose individuals."
#: Text shown in place of a masked cell in text, HTML, CSV and Excel output.
MASK_MARKER = ".."


# ----------------------------------------------------------------------------------------------
# the pattern algorithm
# ----------------------------------------------------------------------------------------------
def _bridges(n_rows: int, n_cols: int, edges: np.ndarray) -> np.ndarray:
    """Boolean flag per edge: is it a bridge of the bipartite relation graph (iterative Tarjan)."""
    n_nodes = n_rows + n_cols
    n_edges = len(edges)
    if n_edges == 0:
        return np.zeros(0, dtype=bool)
    u = edges[:, 0]
    v = n_rows + edges[:, 1]
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for k in range(n_edges):
        adj[u[k]].append((v[k], k))
        adj[v[k]].append((u[k], k))
    disc = np.full(n_nodes, -1, dtype=np.int64)
    low = np.zeros(n_nodes, dtype=np.int64)
    is_bridge = np.zeros(n_edges, dtype=bool)
    timer = 0
    for root in range(n_nodes):
        if disc[root] >= 0 or not adj[root]:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, -1, 0)]
        while stack:
            node, parent_edge, i = stack[-1]
            if i < len(adj[node]):
                stack[-1] = (node, parent_edge, i + 1)
                nxt, k = adj[node][i]
                if k == parent_edge:
                    continue
                if disc[nxt] < 0:
                    disc[nxt] = low[nxt] = timer
                    timer += 1
                    stack.append((nxt, k, 0))
                else:
                    low[node] = min(low[node], disc[nxt])
            else:
                stack.pop()
                if stack:
                    par = stack[-1][0]
                    low[par] = min(low[par], low[node])
                    if low[node] > disc[par]:
                        is_bridge[parent_edge] = True
    return is_bridge


def suppression_pattern(
    counts: np.ndarray,
    *,
    threshold: int = 3,
    secondary: bool = True,
    row_totals: str = "published",
    col_totals: str = "published",
    mask_zeros: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary suppression masks for a two-way table of person counts.

    Parameters
    ----------
    counts : ndarray of shape (n, m)
        Persons behind each interior cell (non-negative integers).
    threshold : int, default=3
        Cells with ``1 .. threshold`` persons are masked (primary suppression).
    secondary : bool, default=True
        Add complementary cells so that no masked cell can be recovered.
    row_totals, col_totals : {"published", "in_table", "unpublished"}
        Status of the row sums (one per row) and column sums: ``"published"``
        elsewhere (known to the reader, never masked), ``"in_table"`` (part of
        the table, may be masked: primary if small, or as complements), or
        ``"unpublished"`` (unknown to the reader).
    mask_zeros : bool, default=False
        Also mask cells with 0 persons.

    Returns
    -------
    primary, secondary : ndarray of bool, shape (n + 1, m + 1)
        Masks over the extended table whose last row holds the column totals and
        whose last column holds the row totals (the corner is the grand total).
        Unpublished margins are not reported as masked.
    """
    c = np.asarray(counts)
    if c.ndim != 2:
        raise DataValidationError(f"counts must be a two-way table; got {c.ndim} dimension(s).")
    if c.size and (not np.all(np.isfinite(c)) or np.any(c < 0)):
        raise DataValidationError(
            "counts must be finite and non-negative in every cell; "
            f"{int(np.sum(~np.isfinite(c) | (c < 0)))} cell(s) are not. Fix the count column."
        )
    opts = ("published", "in_table", "unpublished")
    if row_totals not in opts or col_totals not in opts:
        bad = row_totals if row_totals not in opts else col_totals
        raise SpecificationError(
            f"The 'row_totals' and 'col_totals' parameters of suppression_pattern must be str among "
            f"{{'published', 'in_table', 'unpublished'}}. Got {bad!r} instead."
        )
    n, m = c.shape
    ext = np.zeros((n + 1, m + 1), dtype=float)
    ext[:n, :m] = c
    ext[:n, m] = c.sum(axis=1)
    ext[n, :m] = c.sum(axis=0)
    ext[n, m] = c.sum()
    # status: maskable (in table) cells vs fixed-published vs pre-masked unknown margins
    maskable = np.zeros((n + 1, m + 1), dtype=bool)
    maskable[:n, :m] = True
    unknown = np.zeros((n + 1, m + 1), dtype=bool)
    if row_totals == "in_table":
        maskable[:n, m] = True
    elif row_totals == "unpublished":
        unknown[:n, m] = True
    if col_totals == "in_table":
        maskable[n, :m] = True
    elif col_totals == "unpublished":
        unknown[n, :m] = True
    if row_totals == "in_table" and col_totals == "in_table":
        maskable[n, m] = True
    elif row_totals == "unpublished" and col_totals == "unpublished":
        unknown[n, m] = True
    small = (ext <= threshold) & ((ext > 0) | mask_zeros)
    primary = maskable & small
    masked = primary | unknown
    if secondary and primary.any():
        masked = _close_bridges(ext, masked, maskable & ~masked & (ext > 0), unknown, maskable)
    sec = masked & ~primary & ~unknown
    return primary, sec


def _close_bridges(
    ext: np.ndarray, masked: np.ndarray, candidate: np.ndarray, unknown: np.ndarray, maskable: np.ndarray
) -> np.ndarray:
    masked = masked.copy()
    zero_ok = maskable & ~masked & (ext == 0)
    candidate = candidate.copy()
    n1, m1 = ext.shape
    for _ in range(ext.size + 1):
        edges = np.argwhere(masked)
        br = _bridges(n1, m1, edges)
        # bridges through unknown margins are harmless (they hide nothing published)
        br &= ~unknown[edges[:, 0], edges[:, 1]]
        if not br.any():
            return masked
        i, j = edges[np.flatnonzero(br)[0]]
        # empty cells are complements of last resort (they give no room below zero)
        cost = np.where(masked, 0.0, np.where(candidate, ext, np.where(zero_ok, 1e12, np.inf)))
        # rectangle (i, j) - (i, j2) - (i2, j2) - (i2, j)
        total = cost[i, :][None, :] + cost[:, j][:, None] + cost
        total[i, :] = np.inf
        total[:, j] = np.inf
        if not np.isfinite(total).any():
            raise DisclosureError(
                f"Cell ({i}, {j}) of the extended table cannot be protected: every complementary cell is "
                "empty or a published margin. Aggregate the table (fewer categories) or stop publishing "
                "the margins."
            )
        i2, j2 = np.unravel_index(int(np.argmin(total)), total.shape)
        if total[i2, j2] >= 1e12:
            warnings.warn(
                "Complementary suppression had to use empty cells: the pattern hides which cells are "
                "non-empty, but with non-negative counts some masked values may still be narrowed down. "
                "Aggregate the table (fewer categories) for full protection.",
                DisclosureWarning,
                stacklevel=4,
            )
        for a, b in ((i, j2), (i2, j), (i2, j2)):
            masked[a, b] = True
            candidate[a, b] = False
            zero_ok[a, b] = False
    raise DisclosureError("Secondary suppression did not converge; aggregate the table.")  # pragma: no cover


# ----------------------------------------------------------------------------------------------
# the table object
# ----------------------------------------------------------------------------------------------
class SuppressedTable:
    """A table after disclosure control, ready for export.

    Parameters
    ----------
    table : DataFrame
        The table with masked cells set to missing.
    mask : DataFrame of bool
        True for masked cells (same shape and labels as ``table``).
    footnotes : sequence of str
        Sentences stating the rule applied (or that it was turned off).
    title : str, default=""
        Title used by the HTML and text renderings.
    n_primary, n_secondary : int, default=0
        Number of masked table cells (rows for tidy tables) by reason.

    Notes
    -----
    Objects are read-only; :attr:`table` and :attr:`mask` return copies.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        mask: pd.DataFrame,
        footnotes: Sequence[str],
        *,
        title: str = "",
        n_primary: int = 0,
        n_secondary: int = 0,
        suppressed: bool = True,
    ) -> None:
        self._table = table.copy()
        self._mask = mask.copy()
        self._footnotes = tuple(footnotes)
        self.title = title
        self.n_primary = int(n_primary)
        self.n_secondary = int(n_secondary)
        self.suppressed = bool(suppressed)

    @property
    def table(self) -> pd.DataFrame:
        """The table with masked cells missing (a copy)."""
        return self._table.copy()

    @property
    def mask(self) -> pd.DataFrame:
        """Boolean mask of suppressed cells (a copy)."""
        return self._mask.copy()

    @property
    def footnotes(self) -> tuple[str, ...]:
        """Footnotes stating what was done."""
        return self._footnotes

    def to_frame(self) -> pd.DataFrame:
        """The masked table as a DataFrame (masked cells are missing)."""
        return self.table

    def _display(self) -> pd.DataFrame:
        out = self._table.astype(object).copy()
        out[self._mask.to_numpy()] = MASK_MARKER
        return out

    def to_csv(self, path: str | Path, *, footnotes: bool = True, **kwargs: Any) -> None:
        """Write the table as CSV; masked cells are written as ``..``.

        Parameters
        ----------
        path : str or Path
            Output file.
        footnotes : bool, default=True
            Append the footnotes as lines starting with ``#`` (read back with
            ``pd.read_csv(path, comment="#")``).
        **kwargs
            Passed to :meth:`pandas.DataFrame.to_csv`.
        """
        kwargs.setdefault("index", False)
        self._display().to_csv(path, **kwargs)
        if footnotes and self._footnotes:
            with open(path, "a", encoding="utf-8") as fh:
                for f in self._footnotes:
                    fh.write(f"# {f}\n")

    def to_excel(self, path: str | Path, *, sheet_name: str = "table", **kwargs: Any) -> None:
        """Write the table to an Excel workbook with a second sheet of footnotes.

        Raises
        ------
        ImportError
            If ``openpyxl`` is not installed.
        """
        try:
            import openpyxl  # noqa: F401
        except ImportError as err:
            raise ImportError(
                "SuppressedTable.to_excel needs the optional package 'openpyxl', which is not installed. "
                "Install it (pip install openpyxl) or use to_csv() instead."
            ) from err
        kwargs.setdefault("index", False)
        with pd.ExcelWriter(path) as writer:
            self._display().to_excel(writer, sheet_name=sheet_name, **kwargs)
            pd.DataFrame({"footnotes": list(self._footnotes)}).to_excel(
                writer, sheet_name="footnotes", index=False
            )

    def to_html(self, *, digits: int = 3) -> str:
        """HTML table with title and footnotes; masked cells shown as ``..``.

        Numbers go through :func:`evaltools.reporting.tables.format_frame`
        (counts as integers, other numbers rounded to ``digits`` decimals below 10).
        """
        return html_table(self._table, title=self.title, footnotes=self._footnotes, digits=digits,
                          mask=self._mask, mask_marker=MASK_MARKER)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return text_table(self._table, title=self.title, footnotes=self._footnotes, mask=self._mask,
                          mask_marker=MASK_MARKER)

    def __repr__(self) -> str:
        return (
            f"<SuppressedTable: {self._table.shape[0]} rows, {self.n_primary} primary and "
            f"{self.n_secondary} secondary suppressions>"
        )


# ----------------------------------------------------------------------------------------------
# user-facing function
# ----------------------------------------------------------------------------------------------
def _footnote(threshold: int, secondary: bool, n_pri: int, n_sec: int, unit: str, mask_zeros: bool) -> str:
    rng = f"0 to {threshold}" if mask_zeros else f"1 to {threshold}"

    def noun(n: int) -> str:  # "row" for 1, "rows" otherwise
        return unit[:-1] if n == 1 and unit.endswith("s") else unit

    s = f"Small-cell suppression: {n_pri:,} {noun(n_pri)} based on {rng} persons masked ('{MASK_MARKER}')"
    if secondary:
        s += (f", plus {n_sec:,} complementary {noun(n_sec)} so that masked cells cannot be recovered "
              "from totals.")
    else:
        s += "; no complementary suppression."
    return s


def suppress(
    table: pd.DataFrame,
    *,
    count_col: str = "persons",
    counts: pd.DataFrame | None = None,
    threshold: int = 3,
    secondary: bool = True,
    rows: Sequence[str] | str | None = None,
    columns: str | None = None,
    values: Sequence[str] | None = None,
    totals: str = "published",
    mask_zeros: bool = False,
    enabled: bool = True,
    title: str = "",
    footnotes: Sequence[str] = (),
) -> SuppressedTable:
    """Apply small-cell suppression to a table.

    Two layouts are supported.

    *Wide*: pass ``counts``, a DataFrame of person counts with the same index
    and columns as ``table``.  The table is a two-way table; ``totals`` says
    whether its row and column sums are ``"published"`` elsewhere (default),
    ``"in_table"`` (the last row and last column of ``table`` are the totals),
    or ``"unpublished"``.

    *Tidy*: ``table`` has one row per cell with a person count in ``count_col``.
    Rows with ``1 .. threshold`` persons are masked in every value column and
    in ``count_col``.  For secondary suppression name the two-way layout with
    ``rows`` (one or more key columns) and ``columns`` (one key column); every
    other key column splits the table into separate two-way tables (e.g. one per
    period).  With ``columns=None`` each slice is a one-way table whose total
    over ``rows`` is treated as published, so a slice with a masked cell gets a
    second one.  Margins in the tidy layout are assumed published elsewhere.

    Parameters
    ----------
    table : DataFrame
        The table to protect (not modified).
    count_col : str, default="persons"
        Tidy layout: column with the number of distinct persons behind a row.
    counts : DataFrame, optional
        Wide layout: person counts per cell.
    threshold : int, default=3
        Cells based on ``1 .. threshold`` persons are masked.
    secondary : bool, default=True
        Add complementary suppressions (see the module docstring).
    rows, columns : str or sequence of str, optional
        Tidy layout: key columns forming the two-way table for secondary suppression.
    values : sequence of str, optional
        Tidy layout: columns to mask (default: every column that is not a key,
        i.e. not in ``rows``/``columns`` and not of object, string, categorical,
        period or integer key type other than ``count_col``; floats are values).
    totals : {"published", "in_table", "unpublished"}, default="published"
        Wide layout: status of the row and column sums.
    mask_zeros : bool, default=False
        Also mask empty cells (0 persons).
    enabled : bool, default=True
        ``False`` turns suppression off: the table is returned unmasked with the
        footnote "Small-cell suppression turned off by the user" and a
        :class:`~evaltools.exceptions.DisclosureWarning`.
    title : str, default=""
        Title for rendering.
    footnotes : sequence of str, default=()
        Footnotes carried over from the producer of the table.

    Returns
    -------
    SuppressedTable

    Examples
    --------
    >>> t = pd.DataFrame({"muni": ["A", "B", "C"], "persons": [2, 10, 12], "fte": [1.5, 8.0, 9.5]})
    >>> suppress(t, rows="muni").table["fte"].isna().tolist()
    [True, True, False]
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) or threshold < 0:
        raise SpecificationError(
            f"The 'threshold' parameter of suppress must be a non-negative int. Got {threshold!r} instead."
        )
    if totals not in ("published", "in_table", "unpublished"):
        raise SpecificationError(
            "The 'totals' parameter of suppress must be a str among {'published', 'in_table', "
            f"'unpublished'}}. Got {totals!r} instead."
        )
    if not enabled:
        warnings.warn(
            "Small-cell suppression turned off by the user: the exported table may disclose individuals.",
            DisclosureWarning,
            stacklevel=2,
        )
        return SuppressedTable(
            table,
            pd.DataFrame(False, index=table.index, columns=table.columns),
            (*footnotes, OFF_FOOTNOTE),
            title=title,
            suppressed=False,
        )
    if counts is not None:
        return _suppress_wide(table, counts, threshold, secondary, totals, mask_zeros, title, footnotes)
    return _suppress_tidy(
        table, count_col, threshold, secondary, rows, columns, values, mask_zeros, title, footnotes
    )


def _suppress_wide(
    table: pd.DataFrame,
    counts: pd.DataFrame,
    threshold: int,
    secondary: bool,
    totals: str,
    mask_zeros: bool,
    title: str,
    footnotes: Sequence[str],
) -> SuppressedTable:
    if counts.shape != table.shape or not (
        counts.index.equals(table.index) and counts.columns.equals(table.columns)
    ):
        raise DataValidationError(
            f"suppress: 'counts' must have the same index and columns as 'table'; got shapes "
            f"{counts.shape} and {table.shape}. Reindex counts like the table."
        )
    c = counts.to_numpy(dtype=float)
    if totals == "in_table":
        inner = c[:-1, :-1]
        pri, sec = suppression_pattern(
            inner,
            threshold=threshold,
            secondary=secondary,
            row_totals="in_table",
            col_totals="in_table",
            mask_zeros=mask_zeros,
        )
        stated = c[:-1, -1], c[-1, :-1]
        if not (np.allclose(stated[0], inner.sum(axis=1)) and np.allclose(stated[1], inner.sum(axis=0))):
            raise DataValidationError(
                "suppress: with totals='in_table' the last row and column of 'counts' must be sums of the "
                "other cells; they are not. Pass the interior table with totals='published' instead."
            )
        pm, sm = pri, sec
    else:
        pri, sec = suppression_pattern(
            c,
            threshold=threshold,
            secondary=secondary,
            row_totals=totals,
            col_totals=totals,
            mask_zeros=mask_zeros,
        )
        pm, sm = pri[:-1, :-1], sec[:-1, :-1]
    mask = pm | sm
    out = table.copy()
    out = out.astype({col: float for col in out.columns if pd.api.types.is_integer_dtype(out[col])})
    out = out.mask(mask)
    note = _footnote(threshold, secondary, int(pm.sum()), int(sm.sum()), "cells", mask_zeros)
    return SuppressedTable(
        out,
        pd.DataFrame(mask, index=table.index, columns=table.columns),
        (*footnotes, note),
        title=title,
        n_primary=int(pm.sum()),
        n_secondary=int(sm.sum()),
    )


def _is_key(s: pd.Series) -> bool:
    return not pd.api.types.is_float_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _suppress_tidy(
    table: pd.DataFrame,
    count_col: str,
    threshold: int,
    secondary: bool,
    rows: Sequence[str] | str | None,
    columns: str | None,
    values: Sequence[str] | None,
    mask_zeros: bool,
    title: str,
    footnotes: Sequence[str],
) -> SuppressedTable:
    if count_col not in table.columns:
        raise DataValidationError(
            f"suppress: count column {count_col!r} not found in the table (columns: {list(table.columns)}). "
            "Pass count_col=... or counts=... (a table of person counts)."
        )
    rows_l = [rows] if isinstance(rows, str) else list(rows or [])
    for c in [*rows_l, *([columns] if columns else [])]:
        if c not in table.columns:
            raise DataValidationError(
                f"suppress: layout column {c!r} not found in the table (columns: {list(table.columns)})."
            )
    if values is None:
        values = [
            c
            for c in table.columns
            if c != count_col and c not in rows_l and c != columns and not _is_key(table[c])
        ]
    values = list(values)
    keys = [
        c for c in table.columns if c not in values and c != count_col and c not in rows_l and c != columns
    ]
    cnt = pd.to_numeric(table[count_col], errors="coerce").to_numpy(dtype=float)
    if np.isnan(cnt).any() or (cnt < 0).any():
        bad = np.isnan(cnt) | (cnt < 0)
        raise DataValidationError(
            f"suppress: column {count_col!r} must hold non-negative person counts; {int(bad.sum())} row(s) "
            "are missing or negative. Fill them before exporting."
        )
    primary = (cnt <= threshold) & ((cnt > 0) | mask_zeros)
    sec_rows = np.zeros(len(table), dtype=bool)
    n_whole = 0
    if secondary and rows_l and primary.any():
        pos = np.arange(len(table))
        frame = table[[*keys, *rows_l, *([columns] if columns else [])]].copy()
        frame["_pos"] = pos
        groups = frame.groupby(keys, sort=False, dropna=False)["_pos"] if keys else [(None, frame["_pos"])]
        for _, idx in groups:
            ix = idx.to_numpy()
            if not primary[ix].any():
                continue
            sub = frame.iloc[ix]
            r_code, _ = (
                pd.MultiIndex.from_frame(sub[rows_l]).factorize()
                if len(rows_l) > 1
                else pd.factorize(sub[rows_l[0]])
            )
            if columns:
                c_code, _ = pd.factorize(sub[columns])
            else:
                c_code = np.zeros(len(ix), dtype=np.int64)
            nr, nc = int(r_code.max()) + 1, int(c_code.max()) + 1
            if (pd.Series(r_code * nc + c_code).duplicated()).any():
                raise DataValidationError(
                    "suppress: the layout rows/columns do not identify the rows of the table within each "
                    f"slice of {keys}; add the missing key columns to rows=... or columns=...."
                )
            grid = np.zeros((nr, nc))
            grid[r_code, c_code] = cnt[ix]
            try:
                pm, sm = suppression_pattern(
                    grid,
                    threshold=threshold,
                    secondary=True,
                    row_totals="published" if columns else "unpublished",
                    col_totals="published",
                    mask_zeros=mask_zeros,
                )
                sec_rows[ix] |= sm[r_code, c_code]
            except DisclosureError:
                # the published margins alone would reveal a cell: withhold the whole slice
                sec_rows[ix] |= ~primary[ix]
                n_whole += 1
    masked_rows = primary | sec_rows
    out = table.copy()
    cols = [*values, count_col]
    out = out.astype({c: float for c in cols if pd.api.types.is_integer_dtype(out[c])})
    out = out.astype({c: "boolean" for c in cols if pd.api.types.is_bool_dtype(out[c])})
    out.loc[masked_rows, cols] = np.nan
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    mask.loc[masked_rows, cols] = True
    note = _footnote(
        threshold, secondary and bool(rows_l), int(primary.sum()), int(sec_rows.sum()), "rows", mask_zeros
    )
    if n_whole:
        note += (
            f" {n_whole:,} slice(s) were withheld entirely because their margins alone would reveal a "
            "small cell."
        )
    if secondary and not rows_l:
        note += " (No layout was given, so no complementary suppression was applied.)"
    return SuppressedTable(
        out,
        mask,
        (*footnotes, note),
        title=title,
        n_primary=int(primary.sum()),
        n_secondary=int(sec_rows.sum()),
    )
