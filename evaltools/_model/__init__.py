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
- :mod:`evaltools._model.data`: the column-role container (formula or
  covariate columns, missing-value policy, weights, id and cluster) and
  the ``from_formula`` mixin.

Naming table
------------
Public arguments and attributes use these names in every estimator.  An old
name is accepted with a ``FutureWarning`` for one release and gives
identical results.

=============  ==============================================  ===================================
name           meaning                                         old names (accepted, FutureWarning)
=============  ==============================================  ===================================
``data``       the input DataFrame (first positional argument)  ``rows``
``id``         column identifying the person (or unit)          ``id_col``, ``person_col``
``cluster``    column of cluster labels; always a ``fit``       ``IPW(cluster=)``, ``AIPW(cluster=)``
               argument, used with ``cov_type="cluster"``
``weights``    column of case (frequency) weights               --
``treatment``  the 0/1 treatment column                         --
``treatment_   the name of an event table of a panel whose      ``DynamicEvaluation(treatment=)``
events``       start weeks are the treatment starts
``treated``    0/1 column in the DiD recipes                    ``twfe_did(treatment=)`` is the same
``max_iter``   maximum optimiser iterations                     ``maxiter``
``seed``       seed of a random number generator                ``random_state``
``progress``   show a progress bar; default ``False``           --
``cov_type``   ``"nonrobust"``, ``"robust"`` or ``"cluster"``   see below
``llf``        log-likelihood of a fitted model (attribute)     ``loglike``
``TestResult`` the object every test returns (``statistic``,    bare ``(statistic, pvalue)``
               ``pvalue``, ``df``)                              tuples
=============  ==============================================  ===================================

``cov_type`` aliases (:data:`evaltools._model.covariance.RENAMES`):

=======================  ============  ===========================================
estimator                old value     new value
=======================  ============  ===========================================
``CoxPH.fit``            ``"naive"``   ``"nonrobust"``
``TimingOfEvents.fit``   ``"hessian"``  ``"nonrobust"``; ``"sandwich"`` -> ``"robust"``
                                        (``"opg"`` stays: a different estimator)
``iv_2sls``              ``"unadjusted"`` ``"nonrobust"``; ``"clustered"`` -> ``"cluster"``
=======================  ============  ===========================================

Missing values: one policy, ``missing="drop"`` (count, warn with
:class:`~evaltools.exceptions.MissingValueWarning`, record ``n_dropped``)
or ``missing="raise"`` (a :class:`~evaltools.exceptions.DataValidationError`
naming the column, the count and example ids).  Errors about a missing
outcome name the outcome column, not the covariates.
"""

from __future__ import annotations
