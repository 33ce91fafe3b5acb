"""evaltools: evaluate active labour-market programmes on register panels.

The workflow
------------
1. **Data in.**  A weekly register panel (:class:`evaltools.data.RegisterPanel`)
   from a DREAM file in the wide layout (``read_dream``: ``PNR`` and one
   ``y_YYWW`` column per week; extra columns become person attributes), a long
   person-week file (``read_long``) or a saved panel (``read_panel``).  A
   separate persons table is joined by the id with ``persons=`` (``on=`` names
   its id column); codes that end observation (emigration, death) end the
   person's window.
2. **Check it.**  ``panel.validate()`` runs one named check per rule and says
   what to fix.
3. **Spells and rows.**  ``build_spells(panel, benefit=...)`` gives one row per
   benefit spell with its exit destination; ``to_counting_process`` and
   ``to_person_period`` give model rows with time-varying treatments.
4. **Indicators.**  ``evaltools.indicators.fte``, ``activation_rate``, ... return
   tables with small-cell suppression on every display and export.
5. **Models.**  ``evaltools.duration`` (Kaplan-Meier, Cox, discrete-time
   hazards, timing-of-events) and ``evaltools.selection`` (matching, IPW,
   AIPW, dynamic evaluation); every ``fit()`` returns a read-only results
   object with ``summary()``, ``conf_int()`` and ``plot()``.
6. **Compare.**  ``evaltools.compare(res1, res2, ...)`` puts several fits side by
   side (one column per model); ``evaltools.coefplot(res1, res2, ...)`` draws
   them.
7. **Report.**  ``evaltools.reporting.check_parameters`` checks a report's
   parameters against the data; ``reporting.notebooks.execute_notebook``
   runs a parameterised notebook into an HTML report for readers.

Example::

    from evaltools.data import build_spells, read_dream, to_counting_process
    from evaltools.duration import CoxPH, KaplanMeier

    panel = read_dream("dream.csv", persons="persons.csv")  # PNR, y_0801 ... y_1252; PNR, sex, ...
    spells = build_spells(panel, benefit="kontanthjaelp")
    spells["to_job"] = (spells["exit"] == "self_support").astype(int)
    KaplanMeier(spells, duration="duration", event="to_job").fit().plot()
    rows = to_counting_process(spells, panel, covariates=["sex"], event_exits=["self_support"])
    cox = CoxPH.from_formula("~ C(sex)", rows, id="spell_id")
    print(cox.fit(cov_type="cluster", cluster="person_id").summary())

``notebooks/00_your_own_data.ipynb`` walks through the same steps on small
example files; ``data_samples/sample_panel`` is a synthetic panel with known
programme effects.

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
    Summaries, read-only results, disclosure-controlled export, parameter
    checks, tables, figures and notebook reports.
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

#: Functions re-exported at the top level (imported on first use).
_FUNCTIONS = {"compare": "evaltools.reporting.compare", "coefplot": "evaltools.reporting.coefplot"}

__all__ = [
    "__version__",
    "EvaltoolsError",
    "DataValidationError",
    "SpecificationError",
    "ConvergenceError",
    *_SUBPACKAGES,
    *_FUNCTIONS,
]


def __getattr__(name: str) -> Any:
    # Lazy sub-package import keeps ``import evaltools`` fast.
    if name in _SUBPACKAGES:
        return importlib.import_module(f"evaltools.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'evaltools' has no attribute {name!r}")
