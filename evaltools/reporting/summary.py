"""A small, dependency-free summary object used by every results class.

A :class:`Summary` is a title, a header block of ``(label, value)`` pairs, one or
more tables (DataFrames) and footnotes that state in words what was done
("Standard errors clustered on person_id (4,812 clusters)").  It renders as
plain text (``str``), HTML (``_repr_html_`` for Jupyter) and LaTeX.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Summary", "format_number"]


def format_number(x: object, digits: int = 4) -> str:
    """Format a header value of a summary (thousands separators; whole numbers without decimals)."""
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        xf = float(x)
        if np.isnan(xf):
            return ""
        if np.isinf(xf):
            return "inf" if xf > 0 else "-inf"
        if xf == round(xf) and abs(xf) < 1e15 and (xf == 0 or abs(xf) >= 1):
            return f"{int(round(xf)):,}"  # a count or a whole number: no decimals
        if xf != 0 and (abs(xf) >= 1e6 or abs(xf) < 10 ** (-digits)):
            return f"{xf:.{digits}e}"
        return f"{xf:,.{digits}f}"
    return str(x)


def _show_index(table: pd.DataFrame) -> bool:
    """Row labels are shown unless they are plain row numbers (an unnamed integer index)."""
    return not (table.index.nlevels == 1 and table.index.name is None
                and pd.api.types.is_integer_dtype(table.index))


@dataclass(frozen=True)
class Summary:
    """Renderable summary of an estimation or a table.

    Parameters
    ----------
    title : str
        Title line.
    header : sequence of (str, object)
        Key facts shown above the tables (model, N, log-likelihood, ...).
    tables : sequence of DataFrame
        Tables shown in order (e.g. the coefficient table).
    footnotes : sequence of str
        Sentences stating what was done (clustering, ties, dropped rows, ...).
    digits : int, default=4
        Decimal places for floats.
    """

    title: str
    header: Sequence[tuple[str, object]] = field(default_factory=tuple)
    tables: Sequence[pd.DataFrame] = field(default_factory=tuple)
    footnotes: Sequence[str] = field(default_factory=tuple)
    digits: int = 4

    def _formatted(self, table: pd.DataFrame) -> pd.DataFrame:
        from evaltools.reporting.tables import format_frame

        return format_frame(table, digits=self.digits, mode="fixed")

    def as_text(self) -> str:
        """Render as fixed-width plain text."""
        blocks: list[str] = []
        head_lines = [f"{k}: {format_number(v, self.digits)}" for k, v in self.header]
        if len(head_lines) > 1:
            half = (len(head_lines) + 1) // 2
            left, right = head_lines[:half], head_lines[half:]
            w = max(len(s) for s in left) + 4
            head_lines = [left[i].ljust(w) + (right[i] if i < len(right) else "") for i in range(half)]
        tables_txt = [self._formatted(t).to_string(index=_show_index(t)) for t in self.tables]
        width = max(
            [len(self.title)]
            + [len(s) for s in head_lines]
            + [len(line) for t in tables_txt for line in t.splitlines()]
            + [40]
        )
        blocks.append(self.title.center(width))
        blocks.append("=" * width)
        if head_lines:
            blocks.extend(head_lines)
            blocks.append("-" * width)
        for t in tables_txt:
            blocks.append(t)
            blocks.append("-" * width)
        if blocks[-1].startswith("-"):
            blocks[-1] = "=" * width
        for i, note in enumerate(self.footnotes, start=1):
            blocks.append(f"[{i}] {note}")
        return "\n".join(blocks)

    def as_html(self) -> str:
        """Render as an HTML fragment (used by Jupyter)."""
        parts = [f"<div class='evaltools-summary'><h4>{html.escape(self.title)}</h4>"]
        if self.header:
            parts.append("<table><tbody>")
            for k, v in self.header:
                parts.append(
                    f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                    f"<td style='text-align:left'>{html.escape(format_number(v, self.digits))}</td></tr>"
                )
            parts.append("</tbody></table>")
        for t in self.tables:
            parts.append(self._formatted(t).to_html(escape=True, index=_show_index(t)))
        if self.footnotes:
            parts.append("<ol style='font-size:smaller'>")
            parts.extend(f"<li>{html.escape(n)}</li>" for n in self.footnotes)
            parts.append("</ol>")
        parts.append("</div>")
        return "".join(parts)

    def as_latex(self) -> str:
        """Render the tables as LaTeX tabulars with footnotes as a list."""
        out = [f"% {self.title}"]
        for t in self.tables:
            out.append(self._formatted(t).to_latex())
        for i, n in enumerate(self.footnotes, start=1):
            out.append(f"% [{i}] {n}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()
