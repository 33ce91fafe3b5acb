import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from evaltools.exceptions import SpecificationError
from evaltools.reporting.results import (
    EstimationResults,
    chi2_test,
    deprecated_alias,
    interval_columns,
)
from evaltools.reporting.results import (
    TestResult as ChiTest,
)


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


class _Typed(EstimationResults):
    llf: float
    n_events: int
    note: str = "none"

    loglike = deprecated_alias("llf")


def _typed(ols, **extra):
    names = ["const", "x1", "x2"]
    cov = pd.DataFrame(ols.cov_params(), index=names, columns=names)
    return _Typed(pd.Series(ols.params, index=names), cov, nobs=200, extra=extra)


def test_declared_fields(ols):
    res = _typed(ols, llf=-1.5, n_events=7)
    assert _Typed.result_fields() == ("llf", "n_events", "note")
    assert (res.llf, res.n_events, res.note) == (-1.5, 7, "none")
    with pytest.raises(AttributeError, match="read-only"):
        res.llf = 0.0
    with pytest.raises(TypeError, match=r"undeclared result field\(s\) \['lr'\]"):
        _typed(ols, llf=-1.5, n_events=7, lr=3.0)
    with pytest.raises(TypeError, match=r"missing value\(s\) for declared field\(s\) \['n_events'\]"):
        _typed(ols, llf=-1.5)


def test_deprecated_alias_warns(ols):
    res = _typed(ols, llf=-1.5, n_events=7)
    with pytest.warns(FutureWarning, match=r"_Typed.loglike is deprecated .* use .llf"):
        assert res.loglike == -1.5


def test_summary_alpha_level_in_header_and_table(ols):
    res = _wrap(ols)
    s = res.summary(alpha=0.1)
    assert dict(s.header)["Confidence level"] == "90%"
    pd.testing.assert_frame_equal(s.tables[0], res.to_frame(0.1))
    with pytest.raises(SpecificationError, match="'alpha' parameter of EstimationResults.summary"):
        res.summary(alpha=0)


def test_default_plot_is_a_coefficient_plot(ols):
    import matplotlib

    matplotlib.use("Agg")
    ax = _wrap(ols).plot(alpha=0.1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["const", "x1", "x2"]
    assert "90%" in ax.get_xlabel()


def test_chi2_test():
    t = chi2_test(3.84, 1)
    assert t == ChiTest(3.84, 1, pytest.approx(stats.chi2.sf(3.84, 1)))
    assert (t.statistic, t.df) == (3.84, 1)


def test_interval_columns():
    tab = pd.DataFrame({"estimate": [1.0], "std_err": [0.5], "lower": [0.0], "upper": [2.0]})
    out = interval_columns(tab, 0.1)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(out[["lower", "upper"]].to_numpy(), [[1 - z * 0.5, 1 + z * 0.5]], rtol=1e-12)
    assert tab.loc[0, "lower"] == 0.0  # the input is not modified
