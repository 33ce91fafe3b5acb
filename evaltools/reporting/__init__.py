"""Presentation: summaries, results base class, disclosure control and plotting helpers."""

from evaltools.reporting.disclosure import SuppressedTable, suppress
from evaltools.reporting.results import EstimationResults
from evaltools.reporting.summary import Summary

__all__ = ["EstimationResults", "Summary", "SuppressedTable", "suppress"]
