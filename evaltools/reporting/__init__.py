"""Presentation: summaries, results base class, disclosure control and plotting helpers."""

from evaltools.reporting.audit import AuditReport, audit
from evaltools.reporting.disclosure import SuppressedTable, suppress
from evaltools.reporting.release import ProtectedRelease, Release
from evaltools.reporting.results import EstimationResults
from evaltools.reporting.rules import DisclosureRule
from evaltools.reporting.summary import Summary

__all__ = [
    "AuditReport",
    "DisclosureRule",
    "EstimationResults",
    "ProtectedRelease",
    "Release",
    "Summary",
    "SuppressedTable",
    "audit",
    "suppress",
]
