"""Disclosure rules: which cells are sensitive and how much uncertainty a masked cell must keep.

The rules are those output checkers apply to register research (Statistics
Denmark's researcher services, university secure-data services, the ESSnet
Handbook on Statistical Disclosure Control, ch. 4):

* **minimum frequency**: a cell based on ``1 .. threshold`` persons is sensitive
  (``threshold=3``: "3 or fewer persons", the default of this package; some
  institutions require at least 5 persons per cell, ``threshold=4``, or mask up
  to 5, ``threshold=5``);
* **dominance** ``(n, k)``: a sum is sensitive if its ``n`` largest contributions
  make up more than ``k`` % of it;
* **p % rule**: a sum ``X`` with largest contributions ``x1 >= x2`` is sensitive if
  ``X - x1 - x2 < p/100 * x1`` (the second largest contributor could estimate
  the largest to within ``p`` %); the required upper protection is
  ``p/100 * x1 - (X - x1 - x2)``;
* **protection interval** for masked cells: no linear combination of published
  numbers may pin a masked count to an interval narrower than ``protection``
  persons (default: ``threshold``, so a masked 1 cannot be told from 0 or 3),
  nor determine a masked sum exactly;
* **rounding** as the alternative to masking: every count and sum is randomly
  rounded, unbiased, to a multiple of ``rounding_base`` (the method of the
  Statistics Canada census tables); the protection interval is then checked
  against the rounding intervals of all published numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaltools.exceptions import SpecificationError

__all__ = ["DisclosureRule", "MASK_MARKER"]

#: Text shown in place of a masked cell.
MASK_MARKER = ".."


def _int_param(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SpecificationError(
            f"The {name!r} parameter of DisclosureRule must be an int >= {low}. Got {value!r} instead."
        )
    return int(value)


@dataclass(frozen=True)
class DisclosureRule:
    """The disclosure rule in force for a release.

    Parameters
    ----------
    threshold : int, default=3
        Cells based on ``1 .. threshold`` persons are sensitive (primary
        suppression).  3 = "3 or fewer persons"; pass 4 where at least 5 persons
        per cell are required.
    protection : float, optional
        Smallest width (in persons) of the interval to which an attacker may
        narrow a masked count using every published number.  Default: ``threshold``.
    p_percent : float, optional
        Apply the p % rule to sums with known largest contributions.
    dominance : (int, float), optional
        Apply the ``(n, k)`` dominance rule to such sums.
    method : {"mask", "round"}, default="mask"
        Mask sensitive cells (with complementary cells), or round every count
        and sum at random to a multiple of ``rounding_base``.
    rounding_base : int, default=5
        Base of the rounding.
    mask_zeros : bool, default=False
        Also treat empty cells (0 persons) as sensitive.

    Examples
    --------
    >>> rule = DisclosureRule(threshold=4)
    >>> rule.sensitive_counts([0, 1, 4, 5]).tolist()
    [False, True, True, False]
    >>> rule.describe()[:60]
    'Disclosure rule: cells based on 1 to 4 persons are masked (.'
    """

    threshold: int = 3
    protection: float | None = None
    p_percent: float | None = None
    dominance: tuple[int, float] | None = None
    method: str = "mask"
    rounding_base: int = 5
    mask_zeros: bool = False

    def __post_init__(self) -> None:
        _int_param("threshold", self.threshold, 0)
        _int_param("rounding_base", self.rounding_base, 2)
        if self.method not in ("mask", "round"):
            raise SpecificationError(
                "The 'method' parameter of DisclosureRule must be a str among {'mask', 'round'}. Got "
                f"{self.method!r} instead."
            )
        if self.protection is not None and not (np.isfinite(self.protection) and self.protection >= 0):
            raise SpecificationError(
                f"The 'protection' parameter of DisclosureRule must be a non-negative number. Got "
                f"{self.protection!r} instead."
            )
        if self.p_percent is not None and not (0 < float(self.p_percent) < 100):
            raise SpecificationError(
                f"The 'p_percent' parameter of DisclosureRule must be in (0, 100). Got {self.p_percent!r}."
            )
        if self.dominance is not None:
            ok = len(self.dominance) == 2 and int(self.dominance[0]) >= 1 and 0 < self.dominance[1] < 100
            if not ok:
                raise SpecificationError(
                    "The 'dominance' parameter of DisclosureRule must be (n, k) with n >= 1 and 0 < k < 100 "
                    f"(percent). Got {self.dominance!r} instead."
                )

    @property
    def width(self) -> float:
        """Required width (persons) of the attacker's interval for a masked count."""
        return float(self.threshold if self.protection is None else self.protection)

    def sensitive_counts(self, counts: np.ndarray) -> np.ndarray:
        """Boolean per cell: a count of ``1 .. threshold`` persons (``0 ..`` with ``mask_zeros``)."""
        c = np.asarray(counts, dtype=float)
        low = 0 if self.mask_zeros else 1
        return (c >= low) & (c <= self.threshold)

    def sensitive_sums(self, total: np.ndarray, top: np.ndarray) -> np.ndarray:
        """Boolean per cell from the dominance and p % rules.

        Parameters
        ----------
        total : ndarray of shape (n,)
            Cell sums.
        top : ndarray of shape (n, m)
            Largest contributions in decreasing order (missing = 0).
        """
        total = np.asarray(total, dtype=float)
        top = np.nan_to_num(np.asarray(top, dtype=float).reshape(len(total), -1))
        out = np.zeros(len(total), dtype=bool)
        pos = total > 0
        if self.dominance is not None:
            n, k = int(self.dominance[0]), float(self.dominance[1])
            out |= pos & (top[:, :n].sum(axis=1) > k / 100 * total)
        if self.p_percent is not None and top.shape[1] >= 1:
            x1 = top[:, 0]
            x2 = top[:, 1] if top.shape[1] > 1 else 0.0
            out |= pos & (total - x1 - x2 < self.p_percent / 100 * x1)
        return out

    def sum_protection(self, total: np.ndarray, top: np.ndarray) -> np.ndarray:
        """Required upper protection of a sensitive sum (p % rule), 0 where not applicable."""
        total = np.asarray(total, dtype=float)
        top = np.nan_to_num(np.asarray(top, dtype=float).reshape(len(total), -1))
        if self.p_percent is None or top.shape[1] == 0:
            return np.zeros(len(total))
        x1 = top[:, 0]
        x2 = top[:, 1] if top.shape[1] > 1 else 0.0
        return np.maximum(self.p_percent / 100 * x1 - (total - x1 - x2), 0.0)

    def describe(self, *, n_tables: int | None = None) -> str:
        """One sentence stating the rule (used in every footnote)."""
        rng = f"0 to {self.threshold}" if self.mask_zeros else f"1 to {self.threshold}"
        sums = []
        if self.dominance is not None:
            sums.append(f"({int(self.dominance[0])}, {self.dominance[1]:g}) dominance rule")
        if self.p_percent is not None:
            sums.append(f"p% rule with p = {self.p_percent:g}")
        sums_txt = f"; sums are also sensitive under the {' and the '.join(sums)}" if sums else ""
        joint = f" (jointly over {n_tables} linked tables)" if n_tables and n_tables > 1 else ""
        if self.method == "round":
            return (
                f"Disclosure rule{joint}: every count and sum is randomly rounded (unbiased) to a "
                f"multiple of {self.rounding_base}; cells based on {rng} persons{sums_txt} cannot be "
                "narrowed to an "
                f"interval of fewer than {self.width:g} persons from the published numbers."
            )
        return (
            f"Disclosure rule{joint}: cells based on {rng} persons are masked ({MASK_MARKER}){sums_txt}; no "
            f"masked count can be narrowed to an interval of fewer than {self.width:g} persons and no masked "
            "number recovered exactly from the published tables."
        )
