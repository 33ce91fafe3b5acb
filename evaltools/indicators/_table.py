"""The :class:`IndicatorTable` returned by every indicator function.

The table keeps the exact numbers for analysis inside the secure environment
(:attr:`IndicatorTable.data`) and routes every export (``to_frame``,
``to_csv``, ``to_excel``, ``to_html``, notebook display) through
:func:`evaltools.reporting.disclosure.suppress`.  Suppression can only be
turned off with an explicit ``suppress=False``, which adds a footnote and a
:class:`~evaltools.exceptions.DisclosureWarning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaltools._validation import check_option
from evaltools.exceptions import SpecificationError
from evaltools.reporting.disclosure import SuppressedTable, suppress
from evaltools.reporting.linkage import Linkage
from evaltools.reporting.summary import Summary

__all__ = ["IndicatorTable"]


class IndicatorTable:
    """Tidy indicator table with disclosure control on export.

    Parameters
    ----------
    data : DataFrame
        One row per cell: key columns, person counts and indicator values.
    keys : sequence of str
        Key columns (groups and period).
    count_col : str
        Column with the number of distinct persons behind each row (the basis
        for small-cell suppression).
    layout : (list of str, str or None)
        ``(rows, columns)`` of the two-way table used for secondary
        suppression (see :func:`~evaltools.reporting.disclosure.suppress`).
    title : str
        Title for rendering.
    footnotes : sequence of str
        Sentences stating definitions and what was done.
    extra_counts : sequence of str, default=()
        Further count columns; a row is also masked when one of them holds
        ``1 .. threshold`` persons (e.g. the numerator of a rate).
    linkage : Linkage, optional
        How the rows relate to the panel (:mod:`evaltools.reporting.linkage`), so
        that a :class:`~evaltools.reporting.Release` can protect the table jointly
        with other tables of the same data.  A table without a two-way layout
        (``layout=([], None)``) uses it for its own complementary suppression.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        keys: Sequence[str],
        count_col: str,
        layout: tuple[list[str], str | None],
        title: str,
        footnotes: Sequence[str],
        extra_counts: Sequence[str] = (),
        linkage: Linkage | None = None,
    ) -> None:
        self._data = data.reset_index(drop=True).copy()
        self.keys = tuple(keys)
        self.count_col = count_col
        self.layout = (list(layout[0]), layout[1])
        self.title = title
        self._footnotes = tuple(footnotes)
        self.extra_counts = tuple(extra_counts)
        self.linkage = linkage

    @property
    def data(self) -> pd.DataFrame:
        """Exact, **unsuppressed** numbers (a copy) for analysis inside the secure environment."""
        return self._data.copy()

    @property
    def footnotes(self) -> tuple[str, ...]:
        """Definitions and processing notes."""
        return self._footnotes

    def __len__(self) -> int:
        return len(self._data)

    def subset(self, rows: object, *, title: str | None = None) -> IndicatorTable:
        """The table restricted to some rows; suppression is applied afresh to the subset.

        Parameters
        ----------
        rows : array_like of bool
            One flag per row of :attr:`data` (e.g. ``t.data["period"].str.endswith("H1")``).
        title : str, optional
            Title of the new table (default: this table's title).

        Returns
        -------
        IndicatorTable
        """
        mask = np.asarray(rows, dtype=bool)
        if mask.shape != (len(self._data),):
            raise SpecificationError(
                f"IndicatorTable.subset: 'rows' must hold one flag per row ({len(self._data):,}); "
                f"got shape {mask.shape}."
            )
        return IndicatorTable(
            self._data[mask], keys=self.keys, count_col=self.count_col, layout=self.layout,
            title=self.title if title is None else title, footnotes=self._footnotes,
            extra_counts=self.extra_counts,
        )

    def _without_empty(self, empty: str) -> tuple[pd.DataFrame, list[str]]:
        """The rows to show: groups without any person in the whole table are left out (empty="drop")."""
        check_option("empty", empty, ["drop", "keep"], "IndicatorTable")
        data = self._data
        group_keys = [k for k in self.keys if k != "period"]
        if empty == "keep" or not group_keys or len(data) == 0:
            return data, []
        keep = np.ones(len(data), dtype=bool)
        notes = []
        counts = data[self.count_col].fillna(0)
        for k in group_keys:
            key = data[k].astype(object)
            total = counts.groupby(key, sort=False, dropna=False).sum()
            empty_levels = list(total.index[total.to_numpy() == 0])
            gone = ["missing" if pd.isna(g) else str(g) for g in empty_levels]
            if gone and len(gone) < len(total):
                keep &= ~key.isin(empty_levels).to_numpy()
                shown = ", ".join(gone[:6]) + (", ..." if len(gone) > 6 else "")
                notes.append(
                    f"{len(gone)} {k} group{'s' if len(gone) > 1 else ''} without any {self.count_col} "
                    "in this "
                    f"table {'are' if len(gone) > 1 else 'is'} not shown ({shown}); empty='keep' shows them."
                )
        return data[keep].reset_index(drop=True), notes

    def suppressed(
        self, *, threshold: int = 3, secondary: bool = True, suppress: bool = True, empty: str = "drop"
    ) -> SuppressedTable:
        """The table after small-cell suppression.

        Parameters
        ----------
        threshold : int, default=3
            Rows based on ``1 .. threshold`` persons are masked.
        secondary : bool, default=True
            Complementary suppression within each two-way table of :attr:`layout`;
            a table without a layout (e.g. a target table) uses the linear relations
            between its rows recorded in :attr:`linkage`, as a one-table
            :class:`~evaltools.reporting.Release`.
        suppress : bool, default=True
            ``False`` exports the exact numbers with a footnote and a DisclosureWarning.
        empty : {"drop", "keep"}, default="drop"
            Leave out groups (codes, benefits, municipalities, ...) without any
            person in the whole table (a footnote names them), or keep them.

        Returns
        -------
        SuppressedTable
        """
        if suppress and secondary and self.linkage is not None and not self.layout[0]:
            # no two-way layout: complementary suppression from the table's own linear relations
            from evaltools.reporting.release import Release
            from evaltools.reporting.rules import DisclosureRule

            rel = Release(rule=DisclosureRule(threshold=threshold)).add(self, name="table")
            return rel.protect(compare=False)["table"]
        data, empty_notes = self._without_empty(empty)
        pre_mask = None
        if self.extra_counts:
            pre_mask = pd.Series(False, index=data.index)
            for c in self.extra_counts:
                pre_mask |= (data[c] > 0) & (data[c] <= threshold)
        values = [c for c in data.columns if c not in self.keys and c not in (self.count_col, "weeks")]
        table = data
        if pre_mask is not None and pre_mask.any():
            # mark rows with a small numerator as small in the count column used for the pattern
            table = data.copy()
            table.loc[pre_mask, self.count_col] = table.loc[pre_mask, self.count_col].clip(upper=threshold)
            table.loc[pre_mask & (table[self.count_col] == 0), self.count_col] = 1
        out = _suppress(
            table,
            count_col=self.count_col,
            threshold=threshold,
            secondary=secondary,
            rows=self.layout[0] or None,
            columns=self.layout[1],
            values=values,
            enabled=suppress,
            title=self.title,
            footnotes=(*self._footnotes, *empty_notes),
        )
        if table is not data and suppress:
            # show the true counts where they are not masked
            t = out.table
            keep = ~out.mask[self.count_col]
            t.loc[keep, self.count_col] = data.loc[keep, self.count_col]
            out = SuppressedTable(
                t,
                out.mask,
                out.footnotes,
                title=out.title,
                n_primary=out.n_primary,
                n_secondary=out.n_secondary,
            )
        return out

    def to_frame(self, *, suppress: bool = True, threshold: int = 3, empty: str = "drop") -> pd.DataFrame:
        """The exported table as a DataFrame (masked cells are missing unless ``suppress=False``)."""
        return self.suppressed(threshold=threshold, suppress=suppress, empty=empty).table

    def to_csv(
        self, path: str | Path, *, suppress: bool = True, threshold: int = 3, empty: str = "drop",
        **kwargs: Any,
    ) -> None:
        """Write the suppressed table (and footnotes as ``#`` lines) to CSV."""
        self.suppressed(threshold=threshold, suppress=suppress, empty=empty).to_csv(path, **kwargs)

    def to_excel(
        self, path: str | Path, *, suppress: bool = True, threshold: int = 3, empty: str = "drop",
        **kwargs: Any,
    ) -> None:
        """Write the suppressed table to Excel (needs openpyxl)."""
        self.suppressed(threshold=threshold, suppress=suppress, empty=empty).to_excel(path, **kwargs)

    def to_html(
        self, *, suppress: bool = True, threshold: int = 3, empty: str = "drop", digits: int = 3
    ) -> str:
        """HTML rendering of the suppressed table with footnotes (numbers rounded for reading).

        A ``week`` column (week indices) is shown as ISO week labels (``2011-W52``).
        """
        s = self.suppressed(threshold=threshold, suppress=suppress, empty=empty)
        return _readable(s).to_html(digits=digits)

    def summary(self) -> Summary:
        """Summary (suppressed table plus footnotes)."""
        s = self.suppressed()
        tab = s.table.set_index(list(self.keys)) if self.keys else s.table
        return Summary(
            title=self.title, header=(("Rows", len(s.table)),), tables=[tab], footnotes=s.footnotes
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return str(_readable(self.suppressed()))

    def __repr__(self) -> str:
        return f"<IndicatorTable {self.title!r}: {len(self._data):,} rows, keys={list(self.keys)}>"


_suppress = suppress


def _readable(s: SuppressedTable) -> SuppressedTable:
    """The suppressed table for display: week indices as ISO week labels."""
    t = s.table
    if "week" not in t.columns or not pd.api.types.is_integer_dtype(t["week"].dtype):
        return s
    from evaltools.data.weeks import week_label

    t["week"] = week_label(t["week"].to_numpy())
    return SuppressedTable(t, s.mask, s.footnotes, title=s.title, n_primary=s.n_primary,
                           n_secondary=s.n_secondary, suppressed=s.suppressed)
