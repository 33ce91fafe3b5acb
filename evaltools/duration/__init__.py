"""Duration models for benefit spells.

Kaplan-Meier, Nelson-Aalen and Aalen-Johansen curves (competing risks and
multi-state state occupation); Cox proportional hazards
on ``(start, stop]`` counting-process rows; Fine-Gray subdistribution hazards for
competing exits; discrete-time hazards on
person-period rows (with automatic collapsing and competing exits); the
log-normal accelerated-failure-time model; the timing-of-events mixed
proportional hazards model with NPMLE mass points; discrete-time hazards with
gamma frailty.
"""

from evaltools.duration._cox_results import CoxResults, TestResult
from evaltools.duration._discrete_results import DiscreteHazardResults, MultinomialHazardResults
from evaltools.duration.aft import LogNormalAFT, LogNormalAFTResults
from evaltools.duration.cox import CoxPH
from evaltools.duration.discrete import DiscreteHazard, MultinomialHazard
from evaltools.duration.finegray import FineGray, FineGrayResults
from evaltools.duration.frailty import GammaFrailtyHazard, GammaFrailtyResults
from evaltools.duration.mph import MPHPath, MPHResults, TimingOfEvents, build_toe_rows, toe_roles
from evaltools.duration.multistate import MultiStateAalenJohansen, MultiStateResults
from evaltools.duration.nonparametric import (
    AalenJohansen,
    AalenJohansenResults,
    KaplanMeier,
    KaplanMeierResults,
    NelsonAalen,
    NelsonAalenResults,
)

__all__ = [
    "KaplanMeier",
    "KaplanMeierResults",
    "NelsonAalen",
    "NelsonAalenResults",
    "AalenJohansen",
    "AalenJohansenResults",
    "MultiStateAalenJohansen",
    "MultiStateResults",
    "CoxPH",
    "CoxResults",
    "TestResult",
    "FineGray",
    "FineGrayResults",
    "DiscreteHazard",
    "DiscreteHazardResults",
    "MultinomialHazard",
    "MultinomialHazardResults",
    "LogNormalAFT",
    "LogNormalAFTResults",
    "TimingOfEvents",
    "MPHPath",
    "MPHResults",
    "build_toe_rows",
    "toe_roles",
    "GammaFrailtyHazard",
    "GammaFrailtyResults",
]
