"""Stanford heart transplant data in counting-process form (``survival::heart``).

DESCR
-----
Survival of 103 patients on the waiting list of the Stanford heart transplant
programme (1967-1974), split at the transplant date so that ``transplant`` is a
time-varying treatment: 172 rows ``(start, stop]`` (days since acceptance into
the programme), ``event`` (1 = death at ``stop``), ``age`` (age at acceptance
minus 48 years), ``year`` (year of acceptance, in years since 1 Nov 1967),
``surgery`` (prior bypass surgery), ``transplant`` (1 on rows after the
transplant) and ``id``.

Citation: Crowley, J. and Hu, M. (1977). Covariance analysis of heart
transplant survival data. *Journal of the American Statistical Association*
72, 27-36.  Kalbfleisch, J.D. and Prentice, R.L. (1980), *The Statistical
Analysis of Failure Time Data*, Wiley.

Provenance: ``heart.csv`` was written from the R package survival 3.5-3
(R 4.2.2) on 2026-11-23 with ``h <- survival::heart; h$transplant <-
as.integer(as.character(h$transplant)); write.csv(h, "heart.csv",
row.names = FALSE)`` (15 significant digits); SHA-256
``dc4b94067d8c21bc7beabff36a4c451e09d0717f6e945b7c2c71a753567b314e``.

Licence: distributed in the survival package under the LGPL (>= 2); the data
are published research data reproduced for teaching and testing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["DESCR", "load"]

DESCR = __doc__

_PATH = Path(__file__).with_name("heart.csv")


def load() -> pd.DataFrame:
    """Load the Stanford heart transplant counting-process data (172 rows).

    Returns
    -------
    DataFrame
        Columns ``start, stop, event, age, year, surgery, transplant, id``.
    """
    return pd.read_csv(_PATH)
