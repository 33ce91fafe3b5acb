"""NSW job-training data: Dehejia-Wahba experimental sample and CPS-1 controls.

Use :func:`load` to get the data as a DataFrame.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["DESCR", "load"]

_HERE = Path(__file__).resolve().parent

DESCR = """\
NSW job-training data (LaLonde 1986; Dehejia and Wahba 1999, 2002)
==================================================================

Two files:

* ``nsw_dw.csv``: the Dehejia-Wahba subsample of the National Supported Work
  Demonstration (NSW) male experimental sample, 445 rows (185 randomised to
  treatment, 260 randomised to control).
* ``cps1.csv``: the CPS-1 comparison group of Dehejia and Wahba, 15,992 rows
  (all ``treat = 0``), used to build the non-experimental NSW treated + CPS
  sample.

Columns: ``treat`` (1 = NSW treatment), ``age`` (years), ``educ`` (years of
schooling), ``black``, ``hisp``, ``marr`` (married), ``nodegree`` (no high-school
degree), ``re74``, ``re75``, ``re78`` (real earnings in 1974, 1975, 1978, in 1982
US dollars; the Stata/Wooldridge ``jtrain2`` files store the same numbers in
$1000s).  The experimental difference in mean ``re78`` is $1,794.34.

Provenance: copied without change (other than dropping the constant ``data_id``
column) from the Python package ``causaldata`` 0.1.5 (modules ``nsw_mixtape``
and ``cps_mixtape``, Stata files shipped with *Causal Inference: The Mixtape*
by S. Cunningham), written with ``DataFrame.to_csv`` (float32 earnings printed
with their shortest round-trip decimal representation).  SHA-256:
``nsw_dw.csv`` cccb6599e60995cf49e44d91fa2d0687481eff26344d6c2a41942344fe3b6705,
``cps1.csv`` 30f38b27a3c7c9a557524d61789aa170d3612294838fa30e54beed1f39b25349.

Licence: the ``causaldata`` package is distributed under the MIT licence; the
underlying NSW and CPS extracts are public research data distributed by
R. Dehejia (https://users.nber.org/~rdehejia/nswdata.html).

Citations:

* LaLonde, R. (1986). Evaluating the econometric evaluations of training
  programs with experimental data. American Economic Review 76(4), 604-620.
* Dehejia, R. and Wahba, S. (1999). Causal effects in nonexperimental studies:
  reevaluating the evaluation of training programs. JASA 94(448), 1053-1062.
* Dehejia, R. and Wahba, S. (2002). Propensity score-matching methods for
  nonexperimental causal studies. Review of Economics and Statistics 84(1),
  151-161.
"""

_SAMPLES = ("experimental", "cps", "cps_controls")


def load(sample: str = "experimental") -> pd.DataFrame:
    """Load the NSW data.

    Parameters
    ----------
    sample : {"experimental", "cps", "cps_controls"}, default="experimental"
        ``"experimental"``: the 445-row Dehejia-Wahba NSW sample (185 treated,
        260 experimental controls).  ``"cps"``: the 185 NSW treated stacked on
        the 15,992 CPS-1 controls (16,177 rows).  ``"cps_controls"``: the CPS-1
        controls only.

    Returns
    -------
    DataFrame
        One row per person with columns ``treat, age, educ, black, hisp, marr,
        nodegree, re74, re75, re78`` and a default RangeIndex.
    """
    from evaltools._validation import check_option

    check_option("sample", sample, _SAMPLES, "evaltools.datasets.nsw.load")
    if sample == "experimental":
        return pd.read_csv(_HERE / "nsw_dw.csv")
    cps = pd.read_csv(_HERE / "cps1.csv")
    if sample == "cps_controls":
        return cps
    nsw = pd.read_csv(_HERE / "nsw_dw.csv")
    return pd.concat([nsw[nsw["treat"] == 1], cps], ignore_index=True)
