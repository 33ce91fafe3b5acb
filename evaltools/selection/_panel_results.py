"""Results of the linearmodels recipes in :mod:`evaltools.selection.panel`.

:class:`LinearModelsResults` presents the numbers of a ``linearmodels``
``PanelOLS`` or ``IV2SLS`` fit through the evaltools results interface
(``params``, ``bse``, ``conf_int()``, ``summary()``, ``to_frame()``,
``plot()``); the linearmodels object itself is kept in :attr:`raw`.  Tests and
intervals use the same reference distribution as linearmodels: ``t(df_resid)``
when the fit is debiased, the normal otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from evaltools.reporting.results import EstimationResults, deprecated_alias

__all__ = ["LinearModelsResults", "wrap_linearmodels"]


class LinearModelsResults(EstimationResults):
    """A ``linearmodels`` fit presented as evaltools results (read-only).

    Attributes
    ----------
    raw : linearmodels results
        The linearmodels results object, unchanged (``raw.summary``,
        ``raw.first_stage`` for IV, ``raw.estimated_effects`` ...).
    estimator : str
        ``"PanelOLS"`` or ``"IV2SLS"``.
    cov_type : str
        linearmodels' covariance type (``"clustered"``, ``"robust"``, ``"unadjusted"``).
    debiased : bool
        Whether linearmodels applied its small-sample correction (then tests
        and intervals use ``t(df_resid)``).
    rsquared : float
        R-squared reported by linearmodels (``raw.rsquared``; for PanelOLS the
        R-squared of the model after removing the fixed effects).
    n_dropped : int
        Rows dropped for missing values before the fit.
    std_errors : Series
        Deprecated alias of :attr:`bse` (linearmodels' name).
    """

    raw: Any
    estimator: str
    cov_type: str
    debiased: bool
    rsquared: float
    n_dropped: int

    std_errors = deprecated_alias("bse")


def wrap_linearmodels(
    raw: Any,
    *,
    estimator: str,
    title: str,
    n_dropped: int,
    cov_text: str,
    header: Sequence[tuple[str, object]] = (),
    notes: Sequence[str] = (),
) -> LinearModelsResults:
    """Wrap a linearmodels results object (internal; used by the recipes)."""
    import linearmodels

    debiased = bool(getattr(raw, "debiased", getattr(raw, "_debiased", False)))
    cov_type = str(getattr(raw, "cov_type", getattr(raw, "_cov_type", ""))).lower()
    params = pd.Series(raw.params, dtype=float)
    cov = pd.DataFrame(raw.cov, index=params.index, columns=params.index, dtype=float)
    rsq = float(raw.rsquared)
    footnotes = [
        *notes,
        f"Standard errors: {cov_text}"
        + ("; small-sample correction, t(df_resid) reference distribution." if debiased else "."),
        f"{n_dropped:,} rows dropped for missing values." if n_dropped else "No rows dropped.",
        f"Estimated by linearmodels {linearmodels.__version__} {estimator}; the linearmodels results "
        "are in .raw.",
    ]
    head = [("Estimator", estimator), *header, ("R-squared", rsq), ("Covariance", cov_type)]
    return LinearModelsResults(
        params,
        cov,
        int(raw.nobs),
        dist="t" if debiased else "normal",
        df_resid=float(raw.df_resid),
        title=title,
        header=head,
        footnotes=footnotes,
        extra={
            "raw": raw,
            "estimator": estimator,
            "cov_type": cov_type,
            "debiased": debiased,
            "rsquared": rsq,
            "n_dropped": int(n_dropped),
        },
    )
