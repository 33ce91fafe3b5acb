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

import pandas as pd

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

    def suppressed(
        self, *, threshold: int = 3, secondary: bool = True, suppress: bool = True
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
        data = self._data
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
            footnotes=self._footnotes,
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

    def to_frame(self, *, suppress: bool = True, threshold: int = 3) -> pd.DataFrame:
        """The exported table as a DataFrame (masked cells are missing unless ``suppress=False``)."""
        return self.suppressed(threshold=threshold, suppress=suppress).table

    def to_csv(
        self, path: str | Path, *, suppress: bool = True, threshold: int = 3, **kwargs: object
    ) -> None:
        """Write the suppressed table (and footnotes as ``#`` lines) to CSV."""
        self.suppressed(threshold=threshold, suppress=suppress).to_csv(path, **kwargs)

    def to_excel(
        self, path: str | Path, *, suppress: bool = True, threshold: int = 3, **kwargs: object
    ) -> None:
        """Write the suppressed table to Excel (needs openpyxl)."""
        self.suppressed(threshold=threshold, suppress=suppress).to_excel(path, **kwargs)

    def to_html(self, *, suppress: bool = True, threshold: int = 3, **kwargs: object) -> str:
        """HTML rendering of the suppressed table with footnotes."""
        return self.suppressed(threshold=threshold, suppress=suppress).to_html(**kwargs)

    def summary(self) -> Summary:
        """Summary (suppressed table plus footnotes)."""
        s = self.suppressed()
        tab = s.table.set_index(list(self.keys)) if self.keys else s.table
        return Summary(
            title=self.title, header=(("Rows", len(self._data)),), tables=[tab], footnotes=s.footnotes
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return str(self.suppressed())

    def __repr__(self) -> str:
        return f"<IndicatorTable {self.title!r}: {len(self._data):,} rows, keys={list(self.keys)}>"


_suppress = suppress
