"""Shared model layer: option vocabulary, covariance, optimiser, binary models and lookups.

Every estimator of evaltools builds on the same small pieces, so that one idea
has one name and one implementation:

- :mod:`evaltools._model.names`: the public argument vocabulary and the
  helper that accepts an old name with a ``FutureWarning`` for one release;
- :mod:`evaltools._model.covariance`: ``cov_type`` options and their
  aliases, sandwich and cluster sums;
- :mod:`evaltools._model.optimize`: Newton-Raphson with step halving,
  the convergence warning and the separation check;
- :mod:`evaltools._model.binary`: the logit and probit used by every
  propensity model and selection equation;
- :mod:`evaltools._model.intervals`: sortable ``(person, week)`` keys and
  the "latest row at or before a week" lookup;
- :mod:`evaltools._model.design`: the data container
  (:class:`~evaltools._model.design.ModelData`: role columns, rows kept
  after the missing-value policy, weights, id and cluster) and the
  covariate design built from columns, a formula or a matrix
  (:class:`~evaltools._model.design.Design`, rebuilt on new data with the
  same columns and categorical levels);
- :mod:`evaltools._model.data`: the missing-value policy and the
  ``from_formula`` mixin shared by every estimator that takes covariates.

Naming table
------------
Public arguments and attributes use these names in every estimator.  An old
name is accepted for one release with a ``FutureWarning`` (through
:func:`~evaltools._model.names.renamed_arguments` or
:func:`~evaltools._model.covariance.resolve_cov_type`) and gives identical
results.

- ``data``: the input table, first positional argument.  Old: ``rows``
  (``TimingOfEvents``, ``GammaFrailtyHazard``).
- ``id``: the column identifying the person (or unit).  Old: ``id_col``
  (``read_dream``, ``to_dream_wide``, ``benchmark``, ``regression_to_mean``,
  ``decompose_share_change``), ``person_col`` (``read_long``,
  ``check_gaps``, ``check_duplicate_weeks``, ``check_unknown_codes``).
- ``cluster``: the column of cluster labels, always an argument of ``fit``
  and used with ``cov_type="cluster"`` (default: the model's ``id``).
  Old: ``IPW(cluster=)``, ``AIPW(cluster=)``.
- ``weights``: the column of case (frequency) weights.
- ``treatment``: the 0/1 treatment column.  Where a treatment is given by
  the start weeks of a panel's event table, the argument is
  ``treatment_events`` (old: ``DynamicEvaluation(treatment=)``).
- ``max_iter``: the optimiser's iteration limit.  Old: ``maxiter``
  (``Heckman.fit``, ``PropensityScore.fit``, ``TimingOfEvents.fit``).
- ``seed``: the seed of a random number generator.  Old: ``random_state``
  (``AIPW``, ``AIPWSurvival``).
- ``progress``: show a progress bar; default ``False``.
- ``cov_type``: ``"nonrobust"`` (inverse information), ``"robust"``
  (sandwich, every row or unit its own cluster) or ``"cluster"`` (sandwich
  summed within ``cluster``); estimator-specific extras keep their names
  (``"opg"``, ``"fine-gray"``).  Old (:data:`~evaltools._model.covariance.RENAMES`):
  ``CoxPH.fit``: ``"naive"`` -> ``"nonrobust"``; ``TimingOfEvents.fit``:
  ``"hessian"`` -> ``"nonrobust"``, ``"sandwich"`` -> ``"robust"``;
  ``iv_2sls``: ``"unadjusted"`` -> ``"nonrobust"``, ``"clustered"`` ->
  ``"cluster"``.
- ``llf``: the log-likelihood of a fitted model (results attribute).  Old:
  ``loglike`` (``GammaFrailtyResults``, kept alongside for one release).
- ``TestResult``: what every test returns (``statistic``, ``df``,
  ``pvalue``), not a bare tuple.

Missing values: one policy, ``missing="drop"`` (count, warn with
:class:`~evaltools.exceptions.MissingValueWarning`, record ``n_dropped``)
or ``missing="raise"`` (a :class:`~evaltools.exceptions.DataValidationError`
naming the column, the count and example ids).  Errors about a missing
outcome name the outcome column, not the covariates.
"""

from __future__ import annotations
