from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import evaltools
from evaltools.exceptions import SpecificationError
from evaltools.reporting import Comparison, coefplot, compare
from evaltools.reporting.results import EstimationResults

matplotlib.use("Agg")


def _ols(cols: list[str], seed: int = 0) -> EstimationResults:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    y = 0.5 * X["a"] + 0.02 * X["b"] + rng.normal(size=300)
    fit = sm.OLS(y, sm.add_constant(X[cols])).fit()
    return EstimationResults(fit.params, fit.cov_params(), int(fit.nobs), dist="t", df_resid=fit.df_resid)


@pytest.fixture(scope="module")
def pair() -> tuple[EstimationResults, EstimationResults]:
    return _ols(["a"]), _ols(["a", "b", "c"])


def test_wide_numbers_are_the_results_numbers(pair):
    r1, r2 = pair
    tab = compare(r1, r2, names=["short", "long"])
    assert isinstance(tab, Comparison) and list(tab.params.columns) == ["short", "long"]
    assert list(tab.params.index) == ["const", "a", "b", "c"]      # union, order of appearance
    np.testing.assert_allclose(tab.params["long"], r2.params)
    np.testing.assert_allclose(tab.bse.loc[["const", "a"], "short"], r1.bse)
    assert tab.params.loc[["b", "c"], "short"].isna().all()
    frame = tab.to_frame()
    np.testing.assert_allclose(frame[("long", "lower")], r2.conf_int()["lower"])
    np.testing.assert_allclose(compare(r2, alpha=0.1).to_frame().xs("upper", axis=1, level=1).iloc[:, 0],
                               r2.conf_int(0.1)["upper"])


def test_display_table_stars_and_statistics(pair):
    r1, r2 = pair
    table = compare(r1, r2, names=["short", "long"], stars=True).table()
    p = r2.pvalues["a"]
    assert p < 0.01 and table.loc["a", "long"].endswith("***")
    assert table.loc["a", "long"] == f"{r2.params['a']:.3f}***"
    row = list(table.index).index("a") + 1  # the statistic row under the estimate
    assert table.iloc[row]["long"] == f"({r2.bse['a']:.3f})"
    b_star = "*" * sum(r2.pvalues["b"] < lev for lev in (0.1, 0.05, 0.01))
    assert table.loc["b", "long"] == f"{r2.params['b']:.3f}{b_star}"
    assert table.loc["b", "short"] == ""                    # not in the short model
    assert list(table.loc["No. observations"]) == ["300", "300"]
    ci = compare(r2, stat="conf_int", alpha=0.1, digits=2).table()
    lo, hi = r2.conf_int(0.1).loc["a"]
    assert ci.iloc[list(ci.index).index("a") + 1].iloc[0] == f"[{lo:.2f}, {hi:.2f}]"
    text = str(compare(r1, r2, stars=True))
    assert "* p < 0.1, ** p < 0.05, *** p < 0.01" in text and "Standard errors in parentheses" in text
    assert "90% confidence intervals" in str(compare(r2, stat="conf_int", alpha=0.1))
    assert "<table" in compare(r1, r2)._repr_html_()


def test_names_dict_and_subset(pair):
    r1, r2 = pair
    assert list(compare({"x": r1, "y": r2}).params.columns) == ["x", "y"]
    assert list(compare([r1, r2]).params.columns) == ["(1) Estimation", "(2) Estimation"]
    assert list(compare(r1, r2, params=["a"]).params.index) == ["a"]


def test_errors(pair):
    r1, r2 = pair
    with pytest.raises(SpecificationError, match="2 name"):
        compare(r1, names=["a", "b"])
    with pytest.raises(SpecificationError, match="unique"):
        compare(r1, r2, names=["a", "a"])
    with pytest.raises(SpecificationError, match="not an evaltools results object"):
        compare(r1, "model")
    with pytest.raises(SpecificationError, match="'stat' parameter of compare"):
        compare(r1, stat="se")
    with pytest.raises(SpecificationError, match=r"\['zz'\] are in none of the models"):
        compare(r1, params=["zz"])
    with pytest.raises(SpecificationError, match="at least one"):
        compare()


def test_coefplot(pair):
    import matplotlib.pyplot as plt

    r1, r2 = pair
    ax = coefplot(r1, r2, names=["short", "long"], alpha=0.1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["const", "a", "b", "c"]
    assert len(ax.containers) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["short", "long"]
    assert "90%" in ax.get_xlabel()
    _, ax2 = plt.subplots()
    assert evaltools.coefplot(r2, ax=ax2, exp=True, params=["a", "b"]) is ax2
    assert ax2.get_xscale() == "log"
    np.testing.assert_allclose(ax2.containers[0][0].get_xdata(), np.exp(r2.params[["a", "b"]].to_numpy()))
    plt.close("all")


def test_top_level_exports():
    assert evaltools.compare is compare and evaltools.coefplot is coefplot
    assert {"compare", "coefplot"} <= set(evaltools.__all__)
