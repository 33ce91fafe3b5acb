import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import EstimationResults


@pytest.fixture
def ols():
    rng = np.random.default_rng(0)
    x = sm.add_constant(rng.normal(size=(200, 2)))
    y = x @ np.array([1.0, 0.5, -0.25]) + rng.normal(size=200)
    return sm.OLS(y, x).fit()


def _wrap(fit, dist="normal"):
    names = ["const", "x1", "x2"]
    return EstimationResults(
        pd.Series(fit.params, index=names),
        pd.DataFrame(fit.cov_params(), index=names, columns=names),
        nobs=int(fit.nobs),
        dist=dist,
        df_resid=fit.df_resid,
        title="OLS check",
        footnotes=("Homoskedastic standard errors.",),
    )


def test_matches_statsmodels_t(ols):
    res = _wrap(ols, dist="t")
    np.testing.assert_allclose(res.bse, ols.bse, rtol=1e-12)
    np.testing.assert_allclose(res.tvalues, ols.tvalues, rtol=1e-12)
    np.testing.assert_allclose(res.pvalues, ols.pvalues, rtol=1e-10)
    np.testing.assert_allclose(res.conf_int().to_numpy(), ols.conf_int(), rtol=1e-12)


def test_normal_reference(ols):
    res = _wrap(ols)
    z = stats.norm.ppf(0.95)
    ci = res.conf_int(alpha=0.1)
    np.testing.assert_allclose(ci["upper"] - res.params, z * res.bse, rtol=1e-12)
    np.testing.assert_allclose(res.pvalues, 2 * stats.norm.sf(np.abs(ols.params / ols.bse)), rtol=1e-12)


def test_to_frame_is_single_source(ols):
    res = _wrap(ols)
    tab = res.to_frame()
    assert list(tab.columns) == ["estimate", "std_err", "stat", "pvalue", "lower", "upper"]
    pd.testing.assert_series_equal(tab["estimate"], res.params, check_names=False)


def test_read_only(ols):
    res = _wrap(ols)
    with pytest.raises(AttributeError, match="read-only"):
        res.nobs = 3
    p = res.params
    p.iloc[0] = 99.0
    assert res.params.iloc[0] != 99.0


def test_summary_text_and_html(ols):
    res = _wrap(ols)
    txt = str(res)
    assert "OLS check" in txt and "No. observations: 200" in txt and "[1] Homoskedastic" in txt
    h = res._repr_html_()
    assert "<table" in h and "Homoskedastic" in h
    assert "x2" in res.summary().as_latex()


def test_bad_alpha(ols):
    with pytest.raises(SpecificationError, match="alpha"):
        _wrap(ols).conf_int(alpha=1.5)
