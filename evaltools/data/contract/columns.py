"""Strict column-name matching with near misses reported."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from evaltools.data.contract._base import Source
from evaltools.exceptions import ColumnNameError

__all__ = ["DREAM_PATTERNS", "check_column_names"]


# -- column names ----------------------------------------------------------------------
#: Known column patterns of the DREAM wide layout and their description.
DREAM_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"y_[0-9]{4}"), "weekly column y_YYWW"),
    (re.compile(r"(branche|grad)_[0-9]{4}_[0-9]{2}"), "monthly column branche_YYYY_MM / grad_YYYY_MM"),
    (re.compile(r"ak[0-9]{2}"), "yearly column akYY"),
)
_LOOSE_WEEKLY = re.compile(r"y[\s_\-.]*[0-9]+", re.IGNORECASE)
_MANGLED = re.compile(r"(.+)\.([0-9]+)")


def _fix_for(name: str, target: str) -> str:
    if name != name.strip():
        return "strip the spaces"
    if name.lower() == target.lower():
        return f"rename it to {target!r} (names are case-sensitive)"
    return f"rename it to {target!r}"


def check_column_names(
    columns: Sequence[object] | pd.Index,
    *,
    source: Source,
    patterns: Sequence[tuple[re.Pattern[str], str]] = (),
    names: Sequence[str] = (),
) -> None:
    """Reject duplicated column names and near misses of ``patterns`` and ``names``.

    Parameters
    ----------
    columns : sequence
        The column names (as in the file or DataFrame).
    source : Source
        Function and file, for messages.
    patterns : sequence of (compiled regex, description)
        Column patterns matched in full (e.g. :data:`DREAM_PATTERNS`).
    names : sequence of str
        Optional columns the caller looks for by exact name (``obs_start``,
        ``obs_end``): a near miss would silently become a person attribute.
        Required columns (ids) are left to
        :func:`evaltools._validation.check_columns`, whose "not found" message
        points out near misses.

    Raises
    ------
    ColumnNameError
        Naming the column, what it looks like and the fix.
    """
    cols = [str(c) for c in columns]
    counts = pd.Series(cols).value_counts()
    dup = counts[counts > 1]
    if len(dup):
        shown = ", ".join(f"{c!r} ({n} times)" for c, n in dup.head(5).items())
        raise ColumnNameError(
            f"{source.where}: {len(dup):,} column name(s) occur more than once in {source.name}: {shown}. "
            "Keep one column per name."
        )
    have = set(cols)
    problems: list[str] = []
    for c in cols:
        if any(p.fullmatch(c) for p, _ in patterns) or c in names:
            continue
        m = _MANGLED.fullmatch(c)
        if m and m.group(1) in have:
            problems.append(
                f"column {c!r} looks like a second {m.group(1)!r} renamed by pandas: the input has the "
                "column twice; keep one"
            )
            continue
        if m and any(p.fullmatch(m.group(1)) for p, _ in patterns):
            problems.append(
                f"column {c!r} looks like {m.group(1)!r} renamed by pandas (a duplicated column name): "
                f"rename it to {m.group(1)!r} and keep one column per name"
            )
            continue
        squeezed = re.sub(r"\s+", "", c)
        for p, what in patterns:
            if p.fullmatch(squeezed.lower()) or p.fullmatch(squeezed):
                target = squeezed.lower()
                problems.append(f"column {c!r} looks like a {what}: {_fix_for(c, target)}")
                break
        else:
            hit = [n for n in names if squeezed.lower() == n.lower() or c.strip() == n]
            if hit:
                problems.append(f"column {c!r} looks like the column {hit[0]!r}: {_fix_for(c, hit[0])}")
            elif patterns and _LOOSE_WEEKLY.fullmatch(c.strip()) and not c.strip().isdigit():
                digits = re.sub(r"[^0-9]", "", c)
                if len(digits) == 4:
                    problems.append(
                        f"column {c!r} looks like a weekly column: rename it to 'y_{digits}' (y_YYWW)"
                    )
                elif c.strip().lower().startswith("y_"):
                    problems.append(
                        f"column {c!r} looks like a weekly column but has {len(digits)} digits: weekly "
                        "columns are y_YYWW (two-digit year, two-digit ISO week)"
                    )
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ColumnNameError(
            f"{source.where}: {len(problems):,} column name(s) in {source.name} are near misses of known "
            f"columns: " + "; ".join(problems[:5]) + more + ". Otherwise they would be read as person "
            "attributes and their data left out."
        )
