"""How the numbers of a published table relate to one dataset (the metadata behind linked suppression).

Tables produced from the same data are *linked*: a municipality total is the
sum of its sex x origin cells, a quarter is the sum of its months, a target
for "all ages" is the sum of the targets for "under 30" and "30 and over".
Disclosure control of a release (:class:`evaltools.reporting.Release`) and its
attacker (:func:`evaltools.reporting.audit`) need these relations explicitly.

The model is the one of tau-Argus and sdcTable (a table is a set of cells of a
cube of explanatory variables), generalised so that cells of different tables
may use different classifications of the same variable:

* a **family** names one dataset and one universe of units (person-weeks of the
  register states of one panel, entry cohorts of one cohort definition, ...);
  tables of the same family are linked, tables of different families are not;
* a **dimension** of the family is a variable of those units (the register code,
  the week, the age, a person attribute).  Every cell selects a *subset* of each
  dimension: a set of elements (codes, municipalities) or a union of integer
  intervals (weeks ``first .. last``, ages ``16 .. 29``).  A key column maps its
  levels to subsets (``period = "2010-Q1"`` -> weeks 1 .. 13 of 2010,
  ``benefit = "adagpenge"`` -> the codes of that benefit, ``region`` -> its
  municipalities); dimensions without a key column use the table's filter
  (``codes_where``, ``ages``, ``window``, ``persons_where``);
* a **measure** states which *quantity* a value column reports (person-weeks,
  distinct persons) and over which dimensions the quantity adds up.  Person-weeks
  add up over every dimension; distinct persons add up over person attributes
  only (a person on two benefits in one month is one person in the total), so
  cells with different code, age or week subsets are unrelated for that quantity.

From these, :mod:`evaltools.reporting._cellsystem` builds the common refinement
of all subsets used (the *atoms* of each dimension) and writes every published
number as a sum of atoms, which is the linear system the attacker solves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evaltools.exceptions import SpecificationError

__all__ = ["Dim", "Measure", "Linkage", "ALL"]

#: Subset sentinel: every element of the dimension.
ALL = None

#: Bound used for "unbounded" integer intervals.
BIG = 10**9


def interval(lo: float, hi: float) -> tuple[tuple[int, int], ...]:
    """Subset of an interval dimension: the integers ``lo .. hi`` (inclusive; infinities allowed)."""
    a = -BIG if lo == float("-inf") else int(lo)
    b = BIG if hi == float("inf") else int(hi)
    return ((a, b),)


@dataclass(frozen=True)
class Dim:
    """How the rows of a table select a subset of one dimension.

    Parameters
    ----------
    kind : {"set", "interval"}
        ``"set"``: subsets are sets of elements (codes, municipalities);
        ``"interval"``: subsets are unions of inclusive integer intervals
        ``((lo, hi), ...)`` (weeks, ages).
    columns : sequence of (str, mapping or None)
        Key columns selecting the subset of each row, with a mapping from the
        column's levels to subsets (``None``: the level is itself the element, for
        sets).  Several columns are intersected (e.g. ``benefit`` and
        ``activation`` both select register codes).
    filter : subset, optional
        Applied to every row (``None``: the whole dimension).
    universe : sequence, optional
        Set dimensions: every element of the dimension in the dataset (e.g. all
        municipalities), needed when some table selects all of them.
    """

    kind: str = "set"
    columns: tuple[tuple[str, Mapping[Any, Any] | None], ...] = ()
    filter: Any = ALL
    universe: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("set", "interval"):
            raise SpecificationError(
                f"The 'kind' parameter of Dim must be a str among {{'set', 'interval'}}. Got {self.kind!r} "
                "instead."
            )


@dataclass(frozen=True)
class Measure:
    """The quantity a value column reports.

    Parameters
    ----------
    quantity : str
        Name of the quantity within the family (``"person_weeks"``, ``"persons"``).
        Columns of linked tables with the same quantity and the same subsets are
        the same number.
    kind : {"count", "magnitude", "total"}
        ``"count"``: a number of persons or spells (integer; the small-cell rule
        and the protection interval in persons apply); ``"magnitude"``: a sum of
        contributions (person-weeks; must not be recoverable exactly);
        ``"total"``: a non-confidential denominator (population), masked with its
        row but not part of the attack model.
    additive : sequence of str, optional
        Dimensions over which the quantity adds up; ``None``: all.  A name ending
        in ``*`` is a prefix (``"person.*"``: every person attribute).
    scale : str or float, default=1.0
        The published value times ``scale`` is the quantity (``fte`` times the
        column ``weeks`` is person-weeks).  A str names a column.
    dims : mapping of str to Dim, optional
        Dimensions overriding the table's for this column (the follow-up window
        of ``actual_fte``; the activated codes of ``fte_activated``).
    """

    quantity: str
    kind: str = "count"
    additive: tuple[str, ...] | None = None
    scale: str | float = 1.0
    dims: Mapping[str, Dim] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("count", "magnitude", "total"):
            raise SpecificationError(
                "The 'kind' parameter of Measure must be a str among {'count', 'magnitude', 'total'}. Got "
                f"{self.kind!r} instead."
            )

    def is_additive(self, dim: str) -> bool:
        """Whether the quantity adds up over dimension ``dim``."""
        if self.additive is None:
            return True
        for a in self.additive:
            if a == dim or (a.endswith("*") and dim.startswith(a[:-1])):
                return True
        return False


@dataclass(frozen=True)
class Linkage:
    """The relations of a table's cells to its dataset.

    Parameters
    ----------
    family : str
        Dataset and unit universe; tables with the same family are linked.
    dims : mapping of str to Dim
        The table's dimensions (the family may have more; missing ones are "all").
    measures : mapping of str to Measure
        Value columns that are additive quantities.  Other value columns (ratios,
        differences) are functions of them and are masked with their row.
    zeros : bool, default=False
        The table lists only non-empty key combinations; absent combinations of
        the key levels are published zeros (a reader sees that they are missing).
    ratios : mapping of str to (sequence of str, str), optional
        Value columns that are ``sum(numerators) / denominator`` of measure
        columns (recomputed from rounded values when rounding is the method).
    contributions : mapping of str to sequence of str, optional
        For magnitude columns: the columns holding the largest contributions to
        the cell, in decreasing order (for the dominance and p% rules).
    """

    family: str
    dims: Mapping[str, Dim]
    measures: Mapping[str, Measure]
    zeros: bool = False
    ratios: Mapping[str, tuple[Sequence[str], str]] = field(default_factory=dict)
    contributions: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def with_family(self, family: str) -> Linkage:
        """Copy with another family name."""
        return Linkage(
            family, self.dims, self.measures, self.zeros, dict(self.ratios), dict(self.contributions)
        )


def dataset_fingerprint(n_persons: int, n_rows: int, week_range: tuple[int, int], id_sum: int) -> str:
    """Short identity of a panel so that tables from different panels are never linked."""
    return f"{n_persons}p{n_rows}r{week_range[0]}-{week_range[1]}s{id_sum}"
