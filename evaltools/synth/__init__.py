"""Synthetic DREAM-like register panels with known causal effects.

Real DREAM data is confidential, so notebooks and Monte Carlo tests run on
synthetic panels.  :func:`generate` draws a seeded :class:`~evaltools.data.panel.RegisterPanel`
(weekly benefit codes, persons, activation/mentor/interview/offer/sanction/assessment
events) from a discrete-time model with selection on unobservables, and returns the
true effects with it (:class:`Truth`).  The descriptive margins are calibrated to
the seed documents (:func:`calibration_report`), and a small sample ships in
``data_samples/sample_panel`` (:func:`build_sample`).

Command line: ``python -m evaltools.synth --persons N --years Y --seed S --out DIR``.
"""

from __future__ import annotations

from evaltools.synth.calibration import calibration_report, calibration_statistics, calibration_targets
from evaltools.synth.config import MUNICIPALITIES, PROGRAMMES, SynthConfig
from evaltools.synth.designs import DESIGN_COVARIATES, DESIGNS, DesignComparison, design_comparison
from evaltools.synth.generate import SynthResult, generate, generate_to_disk
from evaltools.synth.sample import SAMPLE_SEED, build_sample, content_checksums
from evaltools.synth.truth import Truth, att_for_sample, structural_effects

__all__ = [
    "SynthConfig",
    "SynthResult",
    "Truth",
    "generate",
    "generate_to_disk",
    "structural_effects",
    "att_for_sample",
    "design_comparison",
    "DesignComparison",
    "DESIGNS",
    "DESIGN_COVARIATES",
    "calibration_targets",
    "calibration_statistics",
    "calibration_report",
    "build_sample",
    "content_checksums",
    "SAMPLE_SEED",
    "PROGRAMMES",
    "MUNICIPALITIES",
]
