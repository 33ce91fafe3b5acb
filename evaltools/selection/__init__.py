"""Selection correction: propensity scores, matching, weighting, Heckman, sensitivity, panel/IV recipes."""

from evaltools.exceptions import ExclusionRestrictionWarning
from evaltools.selection.diagnostics import BalanceTable, balance_table, plot_overlap
from evaltools.selection.dynamic import DynamicEvaluation, DynamicResults
from evaltools.selection.heckman import Heckman, HeckmanResults
from evaltools.selection.matching import Matching, MatchingResults
from evaltools.selection.panel import event_study, iv_2sls, municipality_panel_ols, twfe_did
from evaltools.selection.propensity import PropensityResults, PropensityScore, TrimResult, crump_alpha
from evaltools.selection.sensitivity import (
    OsterResults,
    RosenbaumBounds,
    oster_bounds,
    oster_delta,
    rosenbaum_bounds,
)
from evaltools.selection.survival import IPWSurvival, IPWSurvivalResults, ipw_survival
from evaltools.selection.survival_aipw import AIPWSurvival, AIPWSurvivalResults, aipw_survival
from evaltools.selection.weighting import AIPW, IPW, WeightingResults

__all__ = [
    "PropensityScore",
    "PropensityResults",
    "TrimResult",
    "crump_alpha",
    "Matching",
    "MatchingResults",
    "IPW",
    "AIPW",
    "WeightingResults",
    "balance_table",
    "BalanceTable",
    "plot_overlap",
    "Heckman",
    "HeckmanResults",
    "ExclusionRestrictionWarning",
    "rosenbaum_bounds",
    "RosenbaumBounds",
    "oster_bounds",
    "oster_delta",
    "OsterResults",
    "IPWSurvival",
    "IPWSurvivalResults",
    "ipw_survival",
    "AIPWSurvival",
    "AIPWSurvivalResults",
    "aipw_survival",
    "DynamicEvaluation",
    "DynamicResults",
    "municipality_panel_ols",
    "twfe_did",
    "event_study",
    "iv_2sls",
]
