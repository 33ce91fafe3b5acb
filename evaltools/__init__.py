"""evaltools: evaluate active labour-market programmes on register panels.

Sub-packages
------------
data
    Register panels (DREAM wide and long layouts), validation, spells,
    counting-process and person-period rows, outcomes.
indicators
    Jobindsats-style indicators with small-cell suppression.
duration
    Kaplan-Meier, Cox with time-varying covariates, discrete-time hazards.
selection
    Propensity scores, matching, weighting, Heckman, dynamic evaluation.
synth
    Synthetic register panels with known causal effects.
reporting
    Summaries, read-only results, disclosure-controlled export.
"""

from __future__ import annotations

import importlib
from typing import Any

from evaltools.exceptions import (
    ConvergenceError,
    DataValidationError,
    EvaltoolsError,
    SpecificationError,
)

__version__ = "0.1.0.dev0"

_SUBPACKAGES = ("data", "indicators", "duration", "selection", "synth", "reporting", "datasets")

__all__ = [
    "__version__",
    "EvaltoolsError",
    "DataValidationError",
    "SpecificationError",
    "ConvergenceError",
    *_SUBPACKAGES,
]


def __getattr__(name: str) -> Any:
    # Lazy sub-package import keeps ``import evaltools`` fast.
    if name in _SUBPACKAGES:
        return importlib.import_module(f"evaltools.{name}")
    raise AttributeError(f"module 'evaltools' has no attribute {name!r}")
