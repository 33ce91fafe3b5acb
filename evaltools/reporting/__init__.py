"""Presentation: summaries, results base class, disclosure control, tables, figures and reports."""

from evaltools.reporting.disclosure import SuppressedTable, suppress
from evaltools.reporting.parameters import RunParameters, check_parameters
from evaltools.reporting.results import EstimationResults
from evaltools.reporting.summary import Summary

__all__ = ["EstimationResults", "RunParameters", "Summary", "SuppressedTable", "check_parameters", "suppress"]
