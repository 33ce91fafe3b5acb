"""Compile linked tables into one linear system: every published number as a sum of atoms.

For each family (see :mod:`evaltools.reporting.linkage`) the subsets used by all
cells of all tables are refined into *atoms* per dimension (classes of elements
that no subset separates; for intervals the pieces between all end points).
For a quantity, a cell is then the sum of the *base cells* = products of atoms
over the dimensions the quantity adds up over, within its *slice* (the atoms of
the other dimensions).  Base cells of one quantity that share no published or
masked cell fall into different *blocks*; the attacker and the suppression
algorithms work block by block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from evaltools.exceptions import SpecificationError
from evaltools.reporting.linkage import ALL, BIG, Dim, Linkage

__all__ = ["TableSource", "CellSystem", "build_cell_system"]


@dataclass
class TableSource:
    """One registered table: its exact data and how its rows link to the dataset."""

    name: str
    data: pd.DataFrame
    linkage: Linkage
    count_col: str | None
    extra_counts: tuple[str, ...] = ()


@dataclass
class CellSystem:
    """All cells of a release as sparse sums of base cells.

    Rows are table rows (``row_table``, ``row_index``; ``row_index = -1`` for the
    absent, implicitly empty rows of tables that list only non-empty cells).  A
    cell is one quantity of one row; ``incidence[c]`` lists its base cells.
    """

    tables: list[str]
    row_table: np.ndarray
    row_index: np.ndarray
    row_virtual: np.ndarray
    cell_row: np.ndarray
    cell_struct: np.ndarray
    cell_value: np.ndarray
    cell_column: list[str]
    incidence: sparse.csr_matrix
    base_struct: np.ndarray
    base_block: np.ndarray
    structs: list[tuple[str, str, str]]  # (family, quantity, kind)
    cell_block: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    row_cells: list[np.ndarray] = field(default_factory=list)
    #: (table, column) -> cell id per real row of the table (duplicates map to the kept cell)
    column_cells: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Number of rows (table rows plus implicit empty rows)."""
        return len(self.row_table)

    @property
    def n_blocks(self) -> int:
        """Number of independent blocks."""
        return int(self.base_block.max()) + 1 if len(self.base_block) else 0

    def cell_kind(self) -> np.ndarray:
        """Kind ("count" / "magnitude") per cell."""
        kinds = np.asarray([s[2] for s in self.structs], dtype=object)
        return kinds[self.cell_struct]

    def rows_of(self, table: int) -> np.ndarray:
        """Global row ids of the (real) rows of one table, in table order."""
        ids = np.flatnonzero((self.row_table == table) & ~self.row_virtual)
        return ids[np.argsort(self.row_index[ids], kind="stable")]


# ----------------------------------------------------------------------------------------------
# subsets
# ----------------------------------------------------------------------------------------------
def _norm_intervals(iv: Any) -> tuple[tuple[int, int], ...]:
    pairs = sorted((max(int(a), -BIG), min(int(b), BIG)) for a, b in iv if int(a) <= int(b))
    out: list[list[int]] = []
    for a, b in pairs:
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def _intersect(kind: str, a: Any, b: Any) -> Any:
    if a is ALL:
        return b if kind == "set" or b is ALL else _norm_intervals(b)
    if b is ALL:
        return a if kind == "set" else _norm_intervals(a)
    if kind == "set":
        return frozenset(a) & frozenset(b)
    out = []
    for x0, x1 in _norm_intervals(a):
        for y0, y1 in _norm_intervals(b):
            lo, hi = max(x0, y0), min(x1, y1)
            if lo <= hi:
                out.append((lo, hi))
    return _norm_intervals(out)


def _row_subsets(data: pd.DataFrame, dim: Dim, where: str) -> tuple[np.ndarray, list[Any]]:
    """Per-row subset id and the distinct subsets of one dimension of one table."""
    cols = [c for c, _ in dim.columns]
    for c in cols:
        if c not in data.columns:
            raise SpecificationError(
                f"{where}: linkage column {c!r} is not in the table ({list(data.columns)})."
            )
    if not cols:
        return np.zeros(len(data), dtype=np.int64), [dim.filter]
    if len(cols) == 1:
        codes, levels = pd.factorize(data[cols[0]], use_na_sentinel=False)
        combos = [(u,) for u in levels]
    else:
        mi = pd.MultiIndex.from_frame(data[cols].astype(object))
        codes, pairs = mi.factorize()
        combos = list(pairs)
    subsets = []
    for combo in combos:
        s = dim.filter
        for (c, mapping), level in zip(dim.columns, combo):
            if mapping is None:
                sub = frozenset([level]) if dim.kind == "set" else _norm_intervals([(level, level)])
            else:
                if level not in mapping:
                    raise SpecificationError(
                        f"{where}: level {level!r} of column {c!r} has no subset in the table's linkage."
                    )
                sub = mapping[level]
            s = _intersect(dim.kind, s, sub)
        subsets.append(s)
    return np.asarray(codes, dtype=np.int64), subsets


class _Atoms:
    """Common refinement of the subsets of one dimension of a family."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.subsets: dict[Any, int] = {}
        self.universe: set[Any] = set()
        self.has_universe = False

    def add(self, s: Any) -> int:
        key = s if s is ALL or self.kind == "interval" else frozenset(s)
        if key not in self.subsets:
            self.subsets[key] = len(self.subsets)
        return self.subsets[key]

    def finish(self) -> None:
        subs = list(self.subsets)
        if self.kind == "set":
            elems = set(self.universe)
            for s in subs:
                if s is not ALL:
                    elems |= set(s)
            # elements no table names are only possible when the universe is not declared
            elements = sorted(elems, key=repr) + ([] if self.has_universe else [object()])
            member = np.zeros((len(elements), len(subs)), dtype=bool)
            pos = {e: i for i, e in enumerate(elements)}
            for j, s in enumerate(subs):
                if s is ALL:
                    member[:, j] = True
                else:
                    member[[pos[e] for e in s], j] = True
        else:
            cuts = {-BIG, BIG + 1}
            for s in subs:
                for a, b in s if s is not ALL else ((-BIG, BIG),):
                    cuts.update((a, b + 1))
            cuts_a = np.asarray(sorted(cuts), dtype=np.int64)
            lo, hi = cuts_a[:-1], cuts_a[1:] - 1
            member = np.zeros((len(lo), len(subs)), dtype=bool)
            for j, s in enumerate(subs):
                for a, b in s if s is not ALL else ((-BIG, BIG),):
                    member[(lo >= a) & (hi <= b), j] = True
        used = member.any(axis=1)
        sig, atom_of = np.unique(member[used], axis=0, return_inverse=True)
        self.n_atoms = len(sig)
        self.atoms_of_subset = [np.flatnonzero(sig[:, j]).astype(np.int64) for j in range(len(subs))]


def _gather(sub_ids: np.ndarray, lists: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, values) of the atom lists of each row."""
    lens = np.asarray([len(x) for x in lists], dtype=np.int64)
    flat = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.cumsum(lens)[:-1]]
    rl = lens[sub_ids]
    ptr = np.r_[0, np.cumsum(rl)]
    row = np.repeat(np.arange(len(sub_ids)), rl)
    k = np.arange(ptr[-1]) - ptr[row]
    return ptr, flat[start[sub_ids[row]] + k]


def _rowwise_product(
    ptr1: np.ndarray, v1: np.ndarray, ptr2: np.ndarray, v2: np.ndarray, radix: int
) -> tuple[np.ndarray, np.ndarray]:
    l1, l2 = np.diff(ptr1), np.diff(ptr2)
    lo = l1 * l2
    ptr = np.r_[0, np.cumsum(lo)]
    row = np.repeat(np.arange(len(l1)), lo)
    k = np.arange(ptr[-1]) - ptr[row]
    i, j = k // np.maximum(l2[row], 1), k % np.maximum(l2[row], 1)
    return ptr, v1[ptr1[row] + i] * radix + v2[ptr2[row] + j]


# ----------------------------------------------------------------------------------------------
# building
# ----------------------------------------------------------------------------------------------
def _virtual_rows(src: TableSource, where: str) -> pd.DataFrame:
    """Absent key combinations of a table that lists only non-empty cells (published zeros)."""
    lk = src.linkage
    cols: dict[str, list[Any]] = {}
    for dims in [lk.dims, *[m.dims for m in lk.measures.values()]]:
        for d in dims.values():
            for c, mapping in d.columns:
                if c in cols:
                    continue
                if mapping is not None:
                    cols[c] = list(mapping)
                elif d.universe is not None:
                    cols[c] = list(d.universe)
                else:
                    cols[c] = list(pd.unique(src.data[c]))
    if not cols:
        return src.data.iloc[:0]
    names = list(cols)
    grid = pd.MultiIndex.from_product([cols[c] for c in names], names=names).to_frame(index=False)
    present = src.data[names].astype(object).drop_duplicates()
    m = grid.astype(object).merge(present.assign(_present=True), on=names, how="left")
    out = grid[m["_present"].isna().to_numpy()].reset_index(drop=True)
    for col in lk.measures:
        out[col] = 0.0
    for meas in lk.measures.values():
        if isinstance(meas.scale, str) and meas.scale not in out.columns:
            out[meas.scale] = 1.0
    return out


def build_cell_system(sources: Sequence[TableSource]) -> CellSystem:
    """Build the cell system of a list of linked tables (see the module docstring)."""
    # rows: real rows of every table, then the implicit empty rows
    frames: list[tuple[int, pd.DataFrame, bool]] = []
    for t, src in enumerate(sources):
        frames.append((t, src.data.reset_index(drop=True), False))
        if src.linkage.zeros:
            frames.append((t, _virtual_rows(src, src.name), True))
    row_table, row_index, row_virtual, offsets = [], [], [], []
    n = 0
    for t, df, virt in frames:
        offsets.append(n)
        row_table.append(np.full(len(df), t, dtype=np.int64))
        row_index.append(np.arange(len(df)) if not virt else np.full(len(df), -1))
        row_virtual.append(np.full(len(df), virt))
        n += len(df)
    # pass 1: subsets per (frame, measure column, family dim)
    atoms: dict[tuple[str, str], _Atoms] = {}
    items = []  # (frame idx, column, measure, family, {dim: (sub_ids, subset keys)})
    for f, (t, df, _virt) in enumerate(frames):
        src = sources[t]
        lk = src.linkage
        for col, meas in lk.measures.items():
            if meas.kind == "total":
                continue
            if col not in df.columns:
                raise SpecificationError(f"{src.name}: measure column {col!r} is not in the table.")
            dims = {**lk.dims, **meas.dims}
            per_dim = {}
            for dname, dim in dims.items():
                key = (lk.family, dname)
                if key not in atoms:
                    atoms[key] = _Atoms(dim.kind)
                elif atoms[key].kind != dim.kind:
                    raise SpecificationError(
                        f"{src.name}: dimension {dname!r} of family {lk.family!r} is used as both a set and "
                        "an "
                        "interval dimension."
                    )
                if dim.universe is not None:
                    atoms[key].universe |= set(dim.universe)
                    atoms[key].has_universe = True
                sid, subsets = _row_subsets(df, dim, src.name)
                ids = np.asarray([atoms[key].add(s) for s in subsets], dtype=np.int64)
                per_dim[dname] = ids[sid] if len(sid) else sid
            items.append((f, col, meas, lk.family, per_dim))
    fam_dims: dict[str, list[str]] = {}
    for fam, dname in atoms:
        fam_dims.setdefault(fam, []).append(dname)
    for f, _col, _meas, fam, per_dim in items:
        nr = len(frames[f][1])
        for dname in fam_dims[fam]:
            if dname not in per_dim:  # the table does not restrict this dimension
                per_dim[dname] = np.full(nr, atoms[(fam, dname)].add(ALL), dtype=np.int64)
    for a in atoms.values():
        a.finish()
    # pass 2: cells
    struct_ids: dict[tuple[str, str], int] = {}
    structs: list[tuple[str, str, str]] = []
    additivity: dict[int, dict[str, bool]] = {}
    slice_ids: dict[int, dict[tuple, int]] = {}
    c_row, c_struct, c_val, c_col, c_ptrs, c_keys = [], [], [], [], [], []
    c_item: list[tuple[int, str, bool, int]] = []  # (table, column, virtual, n rows)
    for f, col, meas, fam, per_dim in items:
        t, df, _ = frames[f]
        sk = (fam, meas.quantity)
        if sk not in struct_ids:
            struct_ids[sk] = len(structs)
            structs.append((fam, meas.quantity, meas.kind))
            additivity[struct_ids[sk]] = {d: meas.is_additive(d) for d in fam_dims[fam]}
            slice_ids[struct_ids[sk]] = {}
        s = struct_ids[sk]
        if structs[s][2] != meas.kind or any(additivity[s][d] != meas.is_additive(d) for d in fam_dims[fam]):
            raise SpecificationError(
                f"{sources[t].name}: quantity {meas.quantity!r} of family {fam!r} is declared with a "
                "different "
                "kind or additivity than in another table."
            )
        nr = len(df)
        ptr = np.arange(nr + 1, dtype=np.int64)
        coord = np.zeros(nr, dtype=np.int64)
        slice_parts = []
        for dname in fam_dims[fam]:
            a = atoms[(fam, dname)]
            sub = per_dim[dname]
            if additivity[s][dname]:
                p2, v2 = _gather(sub, a.atoms_of_subset)
                ptr, coord = _rowwise_product(ptr, coord, p2, v2, a.n_atoms)
            else:
                slice_parts.append(sub)
        if slice_parts:
            combo = np.stack(slice_parts, axis=1)
            uniq, inv = np.unique(combo, axis=0, return_inverse=True)
            table = slice_ids[s]
            ids = np.asarray([table.setdefault(tuple(u), len(table)) for u in uniq], dtype=np.int64)
            sl = ids[inv.ravel()]
        else:
            sl = np.zeros(nr, dtype=np.int64)
        scale = df[meas.scale].to_numpy(float) if isinstance(meas.scale, str) else float(meas.scale)
        val = pd.to_numeric(df[col], errors="coerce").to_numpy(float) * scale
        rows = offsets[f] + np.arange(nr)
        c_item.append((t, col, frames[f][2], nr))
        c_row.append(rows)
        c_struct.append(np.full(nr, s, dtype=np.int64))
        c_val.append(val)
        c_col.extend([col] * nr)
        c_ptrs.append(ptr)
        rl = np.diff(ptr)
        c_keys.append((np.full(len(coord), s, dtype=np.int64), np.repeat(sl, rl), coord))
    if not structs:
        raise SpecificationError("The release has no count or magnitude columns to protect.")
    cell_row = np.concatenate(c_row)
    cell_struct = np.concatenate(c_struct)
    cell_value = np.concatenate(c_val)
    lens = np.concatenate([np.diff(p) for p in c_ptrs])
    keys = np.stack([np.concatenate([k[i] for k in c_keys]) for i in range(3)], axis=1)
    ukeys, base_of = np.unique(keys, axis=0, return_inverse=True)
    base_of = base_of.ravel()
    indptr = np.r_[0, np.cumsum(lens)]
    inc = sparse.csr_matrix((np.ones(len(base_of)), base_of, indptr), shape=(len(cell_row), len(ukeys)))
    inc.sum_duplicates()
    inc.data[:] = 1.0
    # drop duplicate cells (same row, same quantity, same base cells: e.g. person_weeks and fte)
    h = _row_hash(inc)
    sig = pd.DataFrame({"r": cell_row, "s": cell_struct, "h0": h[0], "h1": h[1]})
    keep = ~sig.duplicated().to_numpy()
    group = sig.groupby(["r", "s", "h0", "h1"], sort=False).ngroup().to_numpy()
    rep = np.full(group.max() + 1 if len(group) else 0, -1, dtype=np.int64)
    rep[group[keep]] = np.arange(int(keep.sum()))
    new_id = rep[group]
    inc = inc[keep]
    cell_row, cell_struct, cell_value = cell_row[keep], cell_struct[keep], cell_value[keep]
    cell_column = [c for c, k in zip(c_col, keep) if k]
    column_cells: dict[tuple[int, str], np.ndarray] = {}
    pos = 0
    for t, col, virt, nr in c_item:
        if not virt:
            column_cells[(t, col)] = new_id[pos : pos + nr]
        pos += nr
    base_struct = ukeys[:, 0]
    nc, nb = inc.shape
    graph = sparse.bmat([[None, inc], [inc.T, None]], format="csr")
    _, comp = connected_components(graph, directed=False)
    base_block = pd.factorize(comp[nc:])[0].astype(np.int64)
    first = inc.indices[inc.indptr[:-1].clip(max=max(len(inc.indices) - 1, 0))] if nc else np.zeros(0, int)
    cell_block = np.where(np.diff(inc.indptr) > 0, base_block[first] if nb else -1, -1)
    n_rows = n
    order = np.argsort(cell_row, kind="stable")
    bounds = np.searchsorted(cell_row[order], np.arange(n_rows + 1))
    row_cells = [order[bounds[i] : bounds[i + 1]] for i in range(n_rows)]
    return CellSystem(
        tables=[s.name for s in sources],
        row_table=np.concatenate(row_table),
        row_index=np.concatenate(row_index),
        row_virtual=np.concatenate(row_virtual),
        cell_row=cell_row,
        cell_struct=cell_struct,
        cell_value=cell_value,
        cell_column=cell_column,
        incidence=inc,
        base_struct=base_struct,
        base_block=base_block,
        structs=structs,
        cell_block=cell_block.astype(np.int64),
        row_cells=row_cells,
        column_cells=column_cells,
    )


def _row_hash(inc: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit hashes of the column set of every row (sums of random keys)."""
    rng = np.random.default_rng(12345)
    k1 = rng.integers(1, 2**62, size=inc.shape[1], dtype=np.int64)
    k2 = rng.integers(1, 2**62, size=inc.shape[1], dtype=np.int64)
    rows = np.repeat(np.arange(inc.shape[0]), np.diff(inc.indptr))
    with np.errstate(over="ignore"):
        h1 = np.zeros(inc.shape[0], dtype=np.int64)
        h2 = np.zeros(inc.shape[0], dtype=np.int64)
        np.add.at(h1, rows, k1[inc.indices])
        np.add.at(h2, rows, k2[inc.indices])
    return h1, h2
