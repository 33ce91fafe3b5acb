"""Recidivism durations of North Carolina prison releasees (Chung, Schmidt & Witte 1991).

Use :func:`load` to get the data as a DataFrame.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["DESCR", "load"]

_HERE = Path(__file__).resolve().parent

DESCR = """\
Recidivism of North Carolina prison releasees (Chung, Schmidt & Witte 1991)
===========================================================================

1,445 men released from North Carolina prisons in 1977-78 (one row each),
followed for 70-81 months; 552 returned to prison within the follow-up and
893 are right-censored (``cens = 1``).  The standard example for a censored
normal (log-normal accelerated failure time) regression: Wooldridge,
*Introductory Econometrics*, Example 17.4.

Columns: ``black``, ``alcohol`` (alcohol problems), ``drugs`` (drug history),
``super`` (release supervised), ``married`` (married when incarcerated),
``felon`` (felony sentence), ``workprg`` (in the N.C. prison work programme),
``property`` (property crime), ``person`` (crime against a person) -- all 0/1;
``priors`` (number of prior convictions), ``educ`` (years of schooling),
``rules`` (rule violations in prison), ``age`` (months), ``tserved`` (time
served, months), ``follow`` (length of follow-up, months), ``durat`` (months
until return to prison, or ``follow`` if censored), ``cens`` (1 if right
censored) and ``ldurat`` (log of ``durat``).

Provenance: ``recid.csv`` was written on 2026-11-23 from the Python package
``wooldridge`` 0.5.0 (T. Haruyama; ``wooldridge.data("recid").to_csv(...,
index=False)``), which holds the values of Wooldridge's ``RECID.DTA``.
SHA-256 of ``recid.csv``:
684973b8aa4f9a8fbdabadab096dc9f933441971fbdfe4c38d15f39573f7f7cf.

Licence: the ``wooldridge`` package is distributed under the MIT licence; the
data are public research data distributed with Wooldridge's textbooks.

Citations:

* Chung, C.-F., Schmidt, P. and Witte, A. D. (1991). Survival analysis: a
  survey. Journal of Quantitative Criminology 7, 59-98.
* Wooldridge, J. M. (2016). Introductory Econometrics: A Modern Approach,
  6th ed. Cengage. Example 17.4.
"""


def load() -> pd.DataFrame:
    """Load the recidivism data.

    Returns
    -------
    DataFrame
        1,445 rows (one per releasee) and the 18 columns described in :data:`DESCR`.

    Examples
    --------
    >>> from evaltools.datasets.recid import load
    >>> df = load()
    >>> df.shape
    (1445, 18)
    >>> int(df["cens"].sum())
    893
    """
    return pd.read_csv(_HERE / "recid.csv")
