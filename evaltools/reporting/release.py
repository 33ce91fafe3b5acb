"""A disclosure-controlled release: every table published from one dataset, protected jointly.

Output checkers judge what leaves the secure environment as a whole: a cell
masked in one table must not be recoverable from the other tables of the same
data (differencing a municipality x sex table against a municipality x sex x
origin table, a quarter against its months, "all ages" against "under 30").
:class:`Release` collects the tables (the *output session* of an analysis),
:meth:`Release.protect` applies the rule jointly over the linked tables, and
:func:`~evaltools.reporting.audit` attacks the result.

Compared with sdcTable's ``protectLinkedTables`` (protect each table, copy the
status of common cells, repeat) and tau-Argus' linked-table modes, the
suppression here is solved on one linear system of all tables (see
:mod:`evaltools.reporting._protect`), and the audit uses every published
number, not only the common cells.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaltools.exceptions import DisclosureWarning, SpecificationError
from evaltools.reporting._cellsystem import CellSystem, TableSource, build_cell_system
from evaltools.reporting._protect import gauss_secondary, repair_intervals, required_widths
from evaltools.reporting.audit import AuditReport, cell_bounds
from evaltools.reporting.disclosure import SuppressedTable, suppress
from evaltools.reporting.linkage import Dim, Linkage, Measure
from evaltools.reporting.rules import DisclosureRule

__all__ = ["Release", "ProtectedRelease"]


@dataclass
class _Entry:
    name: str
    obj: Any
    source: TableSource | None
    keys: tuple[str, ...]
    values: tuple[str, ...]
    bench_source: str | None = None
    bench_where: Mapping[str, Any] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


class Release:
    """The tables to publish from one dataset, protected jointly.

    Parameters
    ----------
    rule : DisclosureRule, optional
        The rule in force (default: cells of 1-3 persons masked, protection
        interval 3 persons).
    hierarchies : mapping of str to (str, mapping), optional
        Coarser classifications of a dimension: ``{"region": ("municipality",
        {municipality: region})}`` makes a ``region`` key column (of an
        indicator table, a person column of the panel, or a registered frame) the
        union of its municipalities.
    seed : int, optional
        Seed of the random rounding (``rule.method="round"``).

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"muni": ["A", "B", "C"], "persons": [2, 10, 12]})
    >>> total = pd.DataFrame({"persons": [24]})
    >>> rel = Release()
    >>> _ = rel.add(cells, name="cells", keys=["muni"], count_col="persons", family="demo")
    >>> _ = rel.add(total, name="total", keys=[], count_col="persons", family="demo")
    >>> prot = rel.protect()
    >>> prot["cells"].table["persons"].isna().tolist()
    [True, True, False]
    """

    def __init__(
        self,
        *,
        rule: DisclosureRule | None = None,
        hierarchies: Mapping[str, tuple[str, Mapping[Any, Any]]] | None = None,
        seed: int | None = None,
    ) -> None:
        if rule is not None and not isinstance(rule, DisclosureRule):
            raise SpecificationError(f"Release: rule must be a DisclosureRule; got {type(rule).__name__}.")
        self.rule = rule if rule is not None else DisclosureRule()
        self.hierarchies = {k: (v[0], dict(v[1])) for k, v in (hierarchies or {}).items()}
        self.seed = seed
        self._entries: list[_Entry] = []

    @property
    def names(self) -> list[str]:
        """Names of the registered tables, in order."""
        return [e.name for e in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<Release: {len(self)} tables {self.names}>"

    # ------------------------------------------------------------------------------------------
    def add(
        self,
        table: Any,
        *,
        name: str | None = None,
        keys: Sequence[str] | None = None,
        count_col: str | None = None,
        counts: Sequence[str] = (),
        magnitudes: Sequence[str] = (),
        family: str | None = None,
        zeros: bool = False,
        contributions: Mapping[str, Sequence[str]] | None = None,
        source: str | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> Release:
        """Register a table to publish (returns the release, for chaining).

        Parameters
        ----------
        table : IndicatorTable, BenchmarkResults or DataFrame
            Indicator tables carry their linkage; a DataFrame (a model output with
            cell counts, a custom table) needs ``keys``, ``count_col`` and
            ``family``; a benchmark may name the table its outcomes come from.
        name : str, optional
            Unique name (default: from the title).
        keys : sequence of str
            DataFrame: key columns; each is a dimension of ``family`` (tables of the
            same family without a key sum over all its levels).
        count_col : str
            DataFrame: persons behind each row (the small-cell rule applies).
        counts, magnitudes : sequence of str
            DataFrame: further additive count columns and additive sums (e.g.
            person-weeks, earnings); other columns are masked with their row.
        family : str
            DataFrame: tables of the same family are linked (same columns are the
            same quantities).  Default: the name (not linked).
        zeros : bool, default=False
            DataFrame: absent key combinations are empty cells.
        contributions : mapping of str to sequence of str, optional
            DataFrame: for a magnitude column, the columns with its largest
            contributions (for the dominance and p % rules).
        source, where : str and mapping, optional
            BenchmarkResults: the registered table holding the units' outcomes and
            the filter selecting its rows (``{"period": "2012-Q3"}``); a unit is
            masked when its row there is masked.
        """
        from evaltools.indicators._table import IndicatorTable
        from evaltools.indicators.benchmark import BenchmarkResults

        if isinstance(table, IndicatorTable):
            nm = name or _slug(table.title)
            if table.linkage is None:
                raise SpecificationError(
                    f"Release.add: table {nm!r} has no linkage metadata; register its data as a DataFrame "
                    "with "
                    "keys=..., count_col=... and family=...."
                )
            values = tuple(c for c in table.data.columns if c not in table.keys and c != "weeks")
            src = TableSource(
                nm, table.data, self._hier(table.linkage), table.count_col, tuple(table.extra_counts)
            )
            entry = _Entry(nm, table, src, tuple(table.keys), values)
        elif isinstance(table, BenchmarkResults):
            nm = name or "benchmark"
            if source is not None and source not in self.names:
                raise SpecificationError(
                    f"Release.add: benchmark source {source!r} is not registered; add it first "
                    f"(registered: {self.names})."
                )
            entry = _Entry(nm, table, None, (table.id_col,), (), source, dict(where or {}))
        elif isinstance(table, pd.DataFrame):
            nm = name or f"table_{len(self) + 1}"
            entry = self._frame_entry(
                table, nm, keys, count_col, counts, magnitudes, family, zeros, contributions
            )
        else:
            raise SpecificationError(
                "Release.add: table must be an IndicatorTable, a BenchmarkResults or a DataFrame; got "
                f"{type(table).__name__}."
            )
        if entry.name in self.names:
            raise SpecificationError(
                f"Release.add: a table named {entry.name!r} is already registered; pass name=."
            )
        self._entries.append(entry)
        return self

    def _frame_entry(
        self,
        df: pd.DataFrame,
        name: str,
        keys: Sequence[str] | None,
        count_col: str | None,
        counts: Sequence[str],
        magnitudes: Sequence[str],
        family: str | None,
        zeros: bool,
        contributions: Mapping[str, Sequence[str]] | None,
    ) -> _Entry:
        if keys is None or count_col is None:
            raise SpecificationError(
                f"Release.add: a DataFrame needs keys=[...] and count_col=... (table {name!r})."
            )
        keys = list(keys)
        missing = [c for c in [*keys, count_col, *counts, *magnitudes] if c not in df.columns]
        if missing:
            raise SpecificationError(
                f"Release.add: columns {missing} are not in table {name!r} (columns: {list(df.columns)})."
            )
        dims = {}
        for k in keys:
            dims[k] = Dim("set", columns=((k, None),), universe=tuple(pd.unique(df[k].astype(object))))
        measures = {c: Measure(c, "count") for c in dict.fromkeys([count_col, *counts])}
        measures.update({c: Measure(c, "magnitude") for c in magnitudes})
        lk = Linkage(
            f"frame:{family or name}", dims, measures, zeros=zeros, contributions=dict(contributions or {})
        )
        src = TableSource(name, df.reset_index(drop=True), self._hier(lk), count_col, tuple(counts))
        values = tuple(c for c in df.columns if c not in keys)
        return _Entry(name, df, src, tuple(keys), values)

    def _hier(self, lk: Linkage) -> Linkage:
        if not self.hierarchies:
            return lk
        dims = dict(lk.dims)
        for col, (parent, mapping) in self.hierarchies.items():
            for pre in ("person.", ""):
                if pre + col not in dims:
                    continue
                d = dims.pop(pre + col)
                groups: dict[Any, set] = {}
                for child, grp in mapping.items():
                    groups.setdefault(grp, set()).add(child)
                cols = tuple((c, {g: frozenset(m) for g, m in groups.items()}) for c, _ in d.columns)
                flt = d.filter
                if flt is not None:
                    flt = frozenset(ch for g in flt for ch in groups.get(g, ()))
                target = pre + parent
                old = dims.get(target)
                universe = tuple(mapping)
                if old is not None:
                    cols = old.columns + cols
                    flt = old.filter if flt is None else (flt if old.filter is None else flt & old.filter)
                dims[target] = Dim("set", columns=cols, filter=flt, universe=universe)
        return Linkage(lk.family, dims, lk.measures, lk.zeros, dict(lk.ratios), dict(lk.contributions))

    # ------------------------------------------------------------------------------------------
    def protect(self, *, joint: bool = True, compare: bool = True) -> ProtectedRelease:
        """Apply the rule to every registered table.

        Parameters
        ----------
        joint : bool, default=True
            ``True``: secondary suppression over all linked tables together, then
            interval repair until the audit finds nothing.  ``False``: every table
            suppressed on its own, as its own export would be (for comparison).
        compare : bool, default=True
            Also compute the single-table patterns for :meth:`ProtectedRelease.information_loss`.

        Returns
        -------
        ProtectedRelease
        """
        if not self._entries:
            raise SpecificationError("Release.protect: no tables registered; call add() first.")
        sources = [e.source for e in self._entries if e.source is not None]
        system = build_cell_system(sources) if sources else None
        rule = self.rule
        primary = extra = None
        masked = rounding = None
        single = None
        unprotected = np.zeros(0, dtype=np.int64)
        if system is not None:
            primary, extra = _primary(system, sources, rule)
            forced = system.row_virtual
            cost = _row_counts(system, sources)
            if joint and compare:
                with warnings.catch_warnings():  # the comparison patterns are not exported
                    warnings.simplefilter("ignore", DisclosureWarning)
                    single = self._single_masks(system, sources)
            elif joint:
                single = primary.copy()
            else:
                single = self._single_masks(system, sources)
            if rule.method == "round":
                rounding = _round(system, sources, rule, self.seed)
                masked = np.zeros(system.n_rows, dtype=bool)
            elif joint:
                masked, _ = gauss_secondary(system, primary, forced, cost)
                masked, unprotected = repair_intervals(system, masked, forced, cost, rule.width, extra)
            else:
                masked = single | primary
        return ProtectedRelease(
            self, system, sources, primary, masked, single, extra, rounding, joint, unprotected
        )

    def _single_masks(self, system: CellSystem, sources: list[TableSource]) -> np.ndarray:
        out = np.zeros(system.n_rows, dtype=bool)
        for t, src in enumerate(sources):
            entry = next(e for e in self._entries if e.source is src)
            rows = system.rows_of(t)
            obj = entry.obj
            if isinstance(obj, pd.DataFrame):
                keys = list(entry.keys)
                if src.count_col is None:  # _frame_entry always sets it
                    raise SpecificationError(
                        f"Release: table {src.name!r} has no count_col; pass count_col=... to add()."
                    )
                s = suppress(
                    src.data,
                    count_col=src.count_col,
                    threshold=self.rule.threshold,
                    rows=keys[:1] or None,
                    columns=keys[1] if len(keys) > 1 else None,
                    values=[c for c in entry.values if c != src.count_col],
                    mask_zeros=self.rule.mask_zeros,
                )
                m = s.mask[src.count_col].to_numpy()
            else:
                m = obj.suppressed(threshold=self.rule.threshold).mask[src.count_col].to_numpy()
            out[rows] = m
        return out


def _row_counts(system: CellSystem, sources: list[TableSource]) -> np.ndarray:
    cnt = np.zeros(system.n_rows)
    for t, src in enumerate(sources):
        if src.count_col is not None:
            rows = system.rows_of(t)
            cnt[rows] = pd.to_numeric(src.data[src.count_col], errors="coerce").fillna(0).to_numpy(float)
    return cnt


def _primary(
    system: CellSystem, sources: list[TableSource], rule: DisclosureRule
) -> tuple[np.ndarray, np.ndarray]:
    """Primary rows (small counts, dominance) and the p % protection of each cell."""
    primary = np.zeros(system.n_rows, dtype=bool)
    extra = np.zeros(len(system.cell_row))
    for t, src in enumerate(sources):
        rows = system.rows_of(t)
        d = src.data
        flag = np.zeros(len(d), dtype=bool)
        for c in [src.count_col, *src.extra_counts]:
            if c is not None:
                flag |= rule.sensitive_counts(pd.to_numeric(d[c], errors="coerce").fillna(0).to_numpy(float))
        for col, tops in src.linkage.contributions.items():
            total = d[col].to_numpy(float)
            top = d[list(tops)].to_numpy(float)
            sens = rule.sensitive_sums(total, top)
            flag |= sens
            meas = src.linkage.measures[col]
            scale = d[meas.scale].to_numpy(float) if isinstance(meas.scale, str) else float(meas.scale)
            upl = rule.sum_protection(total, top) * scale * sens
            cells = system.column_cells.get((t, col))
            if cells is not None:
                np.maximum.at(extra, cells, upl)
        primary[rows] = flag
    return primary, extra


def _round(
    system: CellSystem, sources: list[TableSource], rule: DisclosureRule, seed: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unbiased random rounding of every cell (identical cells get the same draw) and its interval."""
    from evaltools.reporting._cellsystem import _row_hash

    b = float(rule.rounding_base)
    rng = np.random.default_rng(seed)
    v = system.cell_value
    h0, h1 = _row_hash(system.incidence)
    ident = pd.DataFrame({"s": system.cell_struct, "h0": h0, "h1": h1}).groupby(["s", "h0", "h1"]).ngroup()
    u = rng.random(int(ident.max()) + 1 if len(ident) else 0)[ident.to_numpy()]
    low = np.floor(v / b) * b
    frac = (v - low) / b
    r = np.where(u < frac, low + b, low)
    r = np.where(np.isclose(frac, 0.0), v, r)
    cnt = system.cell_kind() == "count"
    lo = np.maximum(np.where(cnt, r - b + 1, r - b), 0.0)
    hi = np.where(cnt, r + b - 1, r + b)
    exact = np.isclose(frac, 0.0) & (v == 0)
    lo[exact] = 0.0
    return r, lo, hi


class ProtectedRelease:
    """A release after disclosure control (from :meth:`Release.protect`).

    Index it by table name for the export of one table (a
    :class:`~evaltools.reporting.SuppressedTable`; for a benchmark, the
    :class:`~evaltools.indicators.BenchmarkResults` refitted on its published
    units).  :meth:`information_loss` compares the masked cells with single-table
    suppression; :func:`~evaltools.reporting.audit` attacks the release.
    """

    def __init__(
        self,
        release: Release,
        system: CellSystem | None,
        sources: list[TableSource],
        primary: np.ndarray | None,
        masked: np.ndarray | None,
        single: np.ndarray | None,
        extra: np.ndarray | None,
        rounding: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        joint: bool,
        unprotected: np.ndarray,
    ) -> None:
        self.rule = release.rule
        self.joint = joint
        self._entries = list(release._entries)
        self._system = system
        self._sources = sources
        self._primary = primary
        self._masked = masked
        self._single = single
        self._extra = extra
        self._rounding = rounding
        self.unprotected = unprotected
        self._tables: dict[str, Any] = {}
        n_linked = len(self._entries)
        self._rule_note = self.rule.describe(n_tables=n_linked if joint else None)
        for e in self._entries:
            self._tables[e.name] = self._render(e)

    @property
    def names(self) -> list[str]:
        """Table names."""
        return [e.name for e in self._entries]

    def __getitem__(self, name: str) -> Any:
        if name not in self._tables:
            raise SpecificationError(f"ProtectedRelease: no table {name!r}; tables: {self.names}.")
        return self._tables[name]

    def __iter__(self):
        return iter(self.names)

    def __repr__(self) -> str:
        loss = self.information_loss()
        tot = loss.iloc[-1]
        return (
            f"<ProtectedRelease: {len(self._entries)} tables, {int(tot['masked'])} of {int(tot['rows'])} "
            "rows "
            f"masked ({'joint' if self.joint else 'table by table'})>"
        )

    def row_mask(self, name: str) -> np.ndarray:
        """Boolean per row of a table: masked in this release."""
        e = self._entry(name)
        if e.source is None:
            return self._tables[name].table["masked"].to_numpy(bool)
        system, _, masked, _ = self._linked()
        t = self._sources.index(e.source)
        return masked[system.rows_of(t)].copy()

    def _linked(self) -> tuple[CellSystem, np.ndarray, np.ndarray, np.ndarray]:
        # cell system, primary, masked and single-table masks; all set when any table is linked
        if self._system is None or self._primary is None or self._masked is None or self._single is None:
            raise SpecificationError(
                "ProtectedRelease: no linked (non-benchmark) tables; there is no cell system to read."
            )
        return self._system, self._primary, self._masked, self._single

    def _entry(self, name: str) -> _Entry:
        for e in self._entries:
            if e.name == name:
                return e
        raise SpecificationError(f"ProtectedRelease: no table {name!r}; tables: {self.names}.")

    # ------------------------------------------------------------------------------------------
    def _render(self, e: _Entry) -> Any:
        if e.source is None:
            return self._render_benchmark(e)
        src = e.source
        system, primary, masked, _ = self._linked()
        t = self._sources.index(src)
        rows = system.rows_of(t)
        data = src.data
        m = masked[rows]
        pri = primary[rows]
        title = getattr(e.obj, "title", e.name)
        notes = list(getattr(e.obj, "footnotes", ()))
        if self._rounding is not None:
            out = self._rounded_frame(t, src, e, system, self._rounding[0])
            mask = pd.DataFrame(False, index=data.index, columns=data.columns)
            notes.append(self._rule_note)
            return SuppressedTable(out, mask, notes, title=title)
        cols = [c for c in e.values if c in data.columns]
        out = data.copy()
        out = out.astype({c: float for c in cols if pd.api.types.is_integer_dtype(out[c])})
        out = out.astype({c: "boolean" for c in cols if pd.api.types.is_bool_dtype(out[c])})
        out = out.astype({c: object for c in cols if not pd.api.types.is_numeric_dtype(out[c])})
        out.loc[m, cols] = np.nan
        mask = pd.DataFrame(False, index=data.index, columns=data.columns)
        mask.loc[m, cols] = True
        n_p, n_s = int(pri.sum()), int((m & ~pri).sum())
        how = "the linked tables" if self.joint and len(self._entries) > 1 else "this table"
        notes.append(
            f"{self._rule_note} Here {n_p:,} rows are sensitive and {n_s:,} further rows masked as "
            "complements "
            f"(secondary suppression over {how})."
        )
        return SuppressedTable(out, mask, notes, title=title, n_primary=n_p, n_secondary=n_s)

    def _rounded_frame(
        self, t: int, src: TableSource, e: _Entry, system: CellSystem, r: np.ndarray
    ) -> pd.DataFrame:
        data = src.data
        out = data.copy()
        lk = src.linkage
        base = float(self.rule.rounding_base)
        for col, meas in lk.measures.items():
            if meas.kind == "total":
                out[col] = np.round(data[col].to_numpy(float) / base) * base
                continue
            cells = system.column_cells.get((t, col))
            if cells is None:
                continue
            scale = data[meas.scale].to_numpy(float) if isinstance(meas.scale, str) else float(meas.scale)
            out[col] = r[cells] / scale
        for col, (num, den) in lk.ratios.items():
            d = out[den].to_numpy(float)
            n = out[list(num)].to_numpy(float).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[col] = np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)
        other = [c for c in e.values if c not in lk.measures and c not in lk.ratios]
        for c in other:
            out[c] = np.nan
        return out

    def _render_benchmark(self, e: _Entry) -> Any:
        bench = e.obj
        units = bench.table[bench.id_col]
        extra = np.zeros(len(units), dtype=bool)
        if self.joint and e.bench_source is not None and self._system is not None:
            src_e = self._entry(e.bench_source)
            if src_e.source is not None:
                d = src_e.source.data
                sel = np.ones(len(d), dtype=bool)
                for k, v in e.bench_where.items():
                    sel &= (d[k] == v).to_numpy()
                rm = self.row_mask(e.bench_source)
                masked_units = set(d.loc[sel & rm, bench.id_col])
                extra = units.isin(masked_units).to_numpy()
        return bench._refit(extra_masked=extra, rule=self.rule, note=self._rule_note)

    # ------------------------------------------------------------------------------------------
    def information_loss(self) -> pd.DataFrame:
        """Rows masked per table, jointly and under single-table suppression.

        Returns
        -------
        DataFrame
            ``table``, ``rows``, ``primary``, ``masked``, ``share`` (masked / rows),
            ``masked_single`` and ``share_single`` (each table suppressed on its
            own, which does not protect against the other tables), and a total row.
        """
        recs = []
        for e in self._entries:
            if e.source is None:
                b = self._tables[e.name]
                tm = b.table["masked"].to_numpy(bool)
                n_small = int(b.n_small_units)
                recs.append((e.name, len(tm), n_small, int(tm.sum()), n_small))
                continue
            system, primary, masked, single = self._linked()
            t = self._sources.index(e.source)
            rows = system.rows_of(t)
            recs.append(
                (
                    e.name,
                    len(rows),
                    int(primary[rows].sum()),
                    int(masked[rows].sum()),
                    int((single[rows] | primary[rows]).sum()),
                )
            )
        out = pd.DataFrame(recs, columns=["table", "rows", "primary", "masked", "masked_single"])
        tot = out[["rows", "primary", "masked", "masked_single"]].sum()
        out.loc[len(out)] = ["all tables", *tot.to_list()]
        out["share"] = out["masked"] / out["rows"].where(out["rows"] > 0)
        out["share_single"] = out["masked_single"] / out["rows"].where(out["rows"] > 0)
        return out[["table", "rows", "primary", "masked", "share", "masked_single", "share_single"]]

    def _audit(self, tables: Sequence[str] | None) -> AuditReport:
        sysm = self._system
        cols = [
            "table",
            "row",
            "column",
            "quantity",
            "kind",
            "primary",
            "value",
            "lower",
            "upper",
            "width",
            "required",
            "exact",
            "narrow",
        ]
        if sysm is None:
            return AuditReport(pd.DataFrame(columns=cols), self._rule_note)
        _, primary, masked, _ = self._linked()
        if self._rounding is not None:
            cells = np.flatnonzero(primary[sysm.cell_row] & (sysm.cell_block >= 0))
            lo, hi = cell_bounds(sysm, masked, cells, rounding=(self._rounding[1], self._rounding[2]))
        else:
            cells = np.flatnonzero(masked[sysm.cell_row] & (sysm.cell_block >= 0))
            lo, hi = cell_bounds(sysm, masked, cells)
        if tables is not None:
            keep_t = [sysm.tables.index(t) for t in tables if t in sysm.tables]
            sel = np.isin(sysm.row_table[sysm.cell_row[cells]], keep_t)
            cells, lo, hi = cells[sel], lo[sel], hi[sel]
        if self._extra is None:  # set together with the primary mask
            raise SpecificationError("ProtectedRelease: the linked tables have no sum-protection widths.")
        req = required_widths(sysm, cells, self.rule.width, self._extra)
        val = sysm.cell_value[cells]
        wid = hi - lo
        exact = wid <= 1e-6 * np.maximum(1.0, np.abs(val))
        rows = sysm.cell_row[cells]
        frame = pd.DataFrame(
            {
                "table": np.asarray(sysm.tables, dtype=object)[sysm.row_table[rows]],
                "row": sysm.row_index[rows],
                "column": np.asarray(sysm.cell_column, dtype=object)[cells],
                "quantity": np.asarray([sysm.structs[s][1] for s in sysm.cell_struct[cells]], dtype=object),
                "kind": sysm.cell_kind()[cells],
                "primary": primary[rows],
                "value": val,
                "lower": lo,
                "upper": hi,
                "width": wid,
                "required": req,
                "exact": exact,
                "narrow": exact | (wid < req - 1e-9),
            }
        )
        return AuditReport(frame[cols], self._rule_note)
