"""Selection correction: propensity scores, matching, weighting, Heckman, sensitivity, panel, DiD, IV."""

from evaltools.exceptions import ExclusionRestrictionWarning
from evaltools.selection._dynamic_sensitivity import BandRosenbaum
from evaltools.selection._staggered_results import AggregatedATT, StaggeredDiDResults
from evaltools.selection.designs import NotYetTreatedDraws, sample_not_yet_treated
from evaltools.selection.diagnostics import BalanceTable, balance_table, ecdf_balance, ks_pvalue, plot_overlap
from evaltools.selection.dynamic import DynamicEvaluation, DynamicResults
from evaltools.selection.evalue import EValueResults, evalue, evalue_from_results
from evaltools.selection.heckman import Heckman, HeckmanResults
from evaltools.selection.matching import Matching, MatchingResults
from evaltools.selection.municipal_panel import indicator_panel
from evaltools.selection.ovb import (
    OVBResults,
    ovb_sensitivity,
    ovb_sensitivity_from_estimate,
    robustness_value,
)
from evaltools.selection.panel import (
    LinearModelsResults,
    event_study,
    iv_2sls,
    municipality_panel_ols,
    twfe_did,
)
from evaltools.selection.propensity import PropensityResults, PropensityScore, TrimResult, crump_alpha
from evaltools.selection.sensitivity import (
    OsterResults,
    RosenbaumBounds,
    critical_gamma,
    oster_bounds,
    oster_delta,
    rosenbaum_bounds,
)
from evaltools.selection.staggered import StaggeredDiD
from evaltools.selection.survival import IPWSurvival, IPWSurvivalResults, ipw_survival
from evaltools.selection.survival_aipw import AIPWSurvival, AIPWSurvivalResults, aipw_survival
from evaltools.selection.weighting import AIPW, IPW, WeightingResults

__all__ = [
    "sample_not_yet_treated",
    "NotYetTreatedDraws",
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
    "ecdf_balance",
    "ks_pvalue",
    "plot_overlap",
    "Heckman",
    "HeckmanResults",
    "ExclusionRestrictionWarning",
    "rosenbaum_bounds",
    "RosenbaumBounds",
    "critical_gamma",
    "BandRosenbaum",
    "oster_bounds",
    "oster_delta",
    "OsterResults",
    "ovb_sensitivity",
    "ovb_sensitivity_from_estimate",
    "robustness_value",
    "OVBResults",
    "evalue",
    "evalue_from_results",
    "EValueResults",
    "IPWSurvival",
    "IPWSurvivalResults",
    "ipw_survival",
    "AIPWSurvival",
    "AIPWSurvivalResults",
    "aipw_survival",
    "DynamicEvaluation",
    "DynamicResults",
    "LinearModelsResults",
    "municipality_panel_ols",
    "twfe_did",
    "event_study",
    "iv_2sls",
    "StaggeredDiD",
    "StaggeredDiDResults",
    "AggregatedATT",
    "indicator_panel",
]
