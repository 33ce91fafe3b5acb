"""Presentation: summaries, results base class, disclosure control, tables, figures and reports."""

from evaltools.reporting.audit import AuditReport, audit
from evaltools.reporting.coefplot import coefplot
from evaltools.reporting.compare import Comparison, compare
from evaltools.reporting.disclosure import SuppressedTable, suppress
from evaltools.reporting.parameters import RunParameters, check_parameters
from evaltools.reporting.release import ProtectedRelease, Release
from evaltools.reporting.results import EstimationResults, TestResult
from evaltools.reporting.rules import DisclosureRule
from evaltools.reporting.summary import Summary

__all__ = [
    "AuditReport",
    "Comparison",
    "DisclosureRule",
    "EstimationResults",
    "ProtectedRelease",
    "Release",
    "RunParameters",
    "Summary",
    "SuppressedTable",
    "TestResult",
    "audit",
    "check_parameters",
    "coefplot",
    "compare",
    "suppress",
]
