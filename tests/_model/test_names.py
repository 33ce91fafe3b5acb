"""Old argument names are accepted for one release with a FutureWarning and give identical results."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

from evaltools._model.names import renamed_arguments
from evaltools.data import read_long
from evaltools.data.checks import check_gaps
from evaltools.datasets.mroz import load as load_mroz
from evaltools.datasets.nsw import load as load_nsw
from evaltools.datasets.rossi import load_person_weeks
from evaltools.duration.frailty import GammaFrailtyHazard
from evaltools.exceptions import SpecificationError
from evaltools.selection import AIPW, Heckman, PropensityScore

PS = ["age", "educ", "black", "re75"]


def test_renamed_arguments_decorator():
    @renamed_arguments(old="new")
    def f(*, new=1):
        return new

    with pytest.warns(FutureWarning, match=r"f: the parameter 'old' is renamed 'new'; the old name is "):
        assert f(old=5) == 5
    with pytest.raises(SpecificationError, match="got both 'old' .* and 'new'"):
        f(old=1, new=2)


def test_warnings_inside_a_decorated_function_point_at_the_caller():
    @renamed_arguments(old="new")
    def f(*, new=1):
        warnings.warn("inside", UserWarning, stacklevel=2)
        return new

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        assert f(old=3) == 3
        assert f(new=4) == 4
    assert [(x.category, x.filename, x.lineno) for x in w] == [
        (FutureWarning, __file__, line),
        (UserWarning, __file__, line),
        (UserWarning, __file__, line + 1),
    ]
    with warnings.catch_warnings(), pytest.raises(UserWarning, match="inside"):
        warnings.simplefilter("error")
        f()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("ignore")
        warnings.filterwarnings("always", message="inside")
        f()
    assert len(w) == 1 and w[0].filename == __file__
    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f()
        assert warnings.showwarning is before  # the relay is removed after the call


def test_aipw_cluster_warning_points_at_the_caller():
    d = load_nsw()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        AIPW(d.assign(site=np.arange(len(d)) % 7), outcome="re78", treatment="treat", covariates=PS,
             cluster="site")
    assert len(w) == 1 and issubclass(w[0].category, FutureWarning) and "cluster" in str(w[0].message)
    assert w[0].filename == __file__


def test_heckman_maxiter():
    d = load_mroz()
    m = Heckman(d, outcome="lwage", selection="inlf", outcome_covariates=["educ", "exper", "expersq"],
                selection_covariates=["educ", "exper", "expersq", "nwifeinc", "age", "kidslt6", "kidsge6"])
    new = m.fit(method="ml", max_iter=200)
    with pytest.warns(FutureWarning, match="Heckman.fit: the parameter 'maxiter' is renamed 'max_iter'"):
        old = m.fit(method="ml", maxiter=200)
    pd.testing.assert_series_equal(old.params, new.params)
    pd.testing.assert_series_equal(old.bse, new.bse)


def test_propensity_maxiter():
    m = PropensityScore(load_nsw(), treatment="treat", covariates=PS)
    new = m.fit(max_iter=50)
    with pytest.warns(FutureWarning, match="PropensityScore.fit: the parameter 'maxiter'"):
        old = m.fit(maxiter=50)
    pd.testing.assert_series_equal(old.params, new.params)
    pd.testing.assert_frame_equal(old.cov_params(), new.cov_params())


def test_aipw_random_state():
    from sklearn.ensemble import RandomForestRegressor

    kw = dict(outcome="re78", treatment="treat", covariates=PS,
              outcome_model=RandomForestRegressor(n_estimators=10, random_state=0), n_folds=2)
    new = AIPW(load_nsw(), seed=4, **kw).fit()
    with pytest.warns(FutureWarning, match="AIPW: the parameter 'random_state' is renamed 'seed'"):
        old = AIPW(load_nsw(), random_state=4, **kw).fit()
    pd.testing.assert_series_equal(old.params, new.params)
    pd.testing.assert_series_equal(old.bse, new.bse)


def test_read_long_and_check_gaps_person_col():
    df = pd.DataFrame({"pnr": [1, 1, 2, 2], "week": [5, 7, 5, 6], "state": ["111", "111", "651", "651"]})
    new = read_long(df, id="pnr")
    with pytest.warns(FutureWarning, match="read_long: the parameter 'person_col' is renamed 'id'"):
        old = read_long(df, person_col="pnr")
    pd.testing.assert_frame_equal(old.states, new.states)
    pd.testing.assert_frame_equal(old.persons, new.persons)
    with pytest.warns(FutureWarning, match="check_gaps: the parameter 'person_col'"):
        a = check_gaps(df, person_col="pnr")
    b = check_gaps(df, id="pnr")
    assert a is not None and b is not None and a.count == b.count and a.examples == b.examples


def test_gamma_frailty_rows():
    pw = load_person_weeks()
    pw = pw[pw["id"] <= 100].assign(duration=lambda x: x["stop"] - x["start"])
    kw = dict(id="id", duration="duration", event="event", covariates=["age", "prio"])
    new = GammaFrailtyHazard(pw, **kw)
    with pytest.warns(FutureWarning, match="GammaFrailtyHazard: the parameter 'rows' is renamed 'data'"):
        old = GammaFrailtyHazard(rows=pw, **kw)
    np.testing.assert_array_equal(old.loglike_and_score(np.zeros(len(old._names)))[1],
                                  new.loglike_and_score(np.zeros(len(new._names)))[1])
