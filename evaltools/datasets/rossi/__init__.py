"""Rossi et al. (1980) recidivism data with weekly employment status.

DESCR
-----
432 male prisoners released from Maryland state prisons in the 1970s were
followed for one year (52 weeks).  Half were randomly given financial aid on
release (``fin``).  Columns: ``week`` (week of first arrest after release, or 52
if censored), ``arrest`` (1 = arrested during the year), ``fin``, ``age`` (years
at release), ``race``, ``wexp`` (full-time work experience before
incarceration), ``mar`` (married at release), ``paro`` (released on parole),
``prio`` (number of prior convictions), ``educ`` (education level, coded 2-6)
and ``emp1`` ... ``emp52`` (employed in that week, ``"yes"``/``"no"``; missing
after the arrest week).

Citation: Rossi, P.H., Berk, R.A. and Lenihan, K.J. (1980). *Money, Work and
Crime: Some Experimental Results*. New York: Academic Press.  Used in Fox, J.
and Weisberg, S. (2019), *An R Companion to Applied Regression*, 3rd ed., Sage,
online appendix "Cox Proportional-Hazards Regression for Survival Data".

Provenance: ``rossi.csv`` was written from the R package carData 3.0-5
(``write.csv(carData::Rossi, "rossi.csv", row.names = FALSE)``, R 4.2.2) on
2026-11-23; SHA-256
``9b698faa76c83e9a54251a362cffdcfa3248ac7d22dea37ed6b039be6f7fdd3c``.

Licence: distributed in carData under the GPL (>= 2); the data themselves are
published research data reproduced for teaching and testing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaltools.exceptions import SpecificationError

__all__ = ["DESCR", "load", "load_person_weeks"]

DESCR = __doc__

_PATH = Path(__file__).with_name("rossi.csv")


def load() -> pd.DataFrame:
    """Load the wide Rossi data (432 rows, 62 columns).

    Returns
    -------
    DataFrame
        One row per released prisoner; ``emp1`` ... ``emp52`` are strings
        ``"yes"``/``"no"`` (missing after the arrest week).
    """
    return pd.read_csv(_PATH)


def load_person_weeks(lag: int = 0) -> pd.DataFrame:
    """Unfold the Rossi data into a person-week counting-process panel.

    Each person contributes one row per week at risk, the interval
    ``(start, stop] = (t - 1, t]`` for ``t = lag + 1, ..., week``, with
    ``employed`` equal to ``emp{t - lag}`` (1 = employed) and ``event`` = 1 in the
    arrest week.  This reproduces ``unfold()`` of Fox and Weisberg's appendix
    (``lag=0``: 19,809 rows; ``lag=1``: the first week of every person is
    dropped because the lagged value is not observed).

    Parameters
    ----------
    lag : int, default=0
        Lag (in weeks) of the employment indicator.

    Returns
    -------
    DataFrame
        Columns ``id, start, stop, event, employed`` followed by the time-fixed
        columns ``fin, age, race, wexp, mar, paro, prio, educ``.
    """
    if not isinstance(lag, (int, np.integer)) or isinstance(lag, bool) or not 0 <= lag < 52:
        raise SpecificationError(
            f"The 'lag' parameter of load_person_weeks must be an int in [0, 51]. Got {lag!r} instead."
        )
    wide = load()
    weeks = wide["week"].to_numpy()
    n_rows = np.clip(weeks - lag, 0, None)
    person = np.repeat(np.arange(len(wide)), n_rows)
    # week t of each row: lag+1 ... week
    first = np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    t = np.arange(len(person)) - first + lag + 1
    emp = (wide[[f"emp{k}" for k in range(1, 53)]].to_numpy() == "yes").astype(np.int64)
    employed = emp[person, t - lag - 1]
    event = ((t == weeks[person]) & (wide["arrest"].to_numpy()[person] == 1)).astype(np.int64)
    fixed = ["fin", "age", "race", "wexp", "mar", "paro", "prio", "educ"]
    out = pd.DataFrame({"id": person + 1, "start": t - 1, "stop": t, "event": event, "employed": employed})
    for c in fixed:
        out[c] = wide[c].to_numpy()[person]
    return out
