import numpy as np
import pandas as pd
import pytest

from evaltools.reporting.disclosure import suppress
from evaltools.reporting.summary import Summary
from evaltools.reporting.tables import NA_MARKER, format_frame, html_table, show_table


def test_counts_are_integers_and_shares_rounded():
    d = pd.DataFrame({"persons": [1552.0, 12.0], "share": [0.442246, 0.1], "fte": [1058.3846, 405.25]})
    f = format_frame(d)
    assert f["persons"].tolist() == ["1,552", "12"]
    assert f["share"].tolist() == ["0.442", "0.100"]
    assert f["fte"].tolist() == ["1,058", "405"]  # 3-4 significant digits for large numbers


def test_missing_booleans_text_and_no_trailing_zeros():
    d = pd.DataFrame({
        "n": pd.array([1, None], dtype="Int64"),
        "ok": pd.array([True, None], dtype="boolean"),
        "g": ["a", None],
        "pct": [8.1, 7.8],
    })
    f = format_frame(d)
    assert f["n"].tolist() == ["1", NA_MARKER] and f["ok"].tolist() == ["yes", NA_MARKER]
    assert f["g"].tolist() == ["a", NA_MARKER] and f["pct"].tolist() == ["8.1", "7.8"]
    assert "<NA>" not in html_table(d)


def test_mixed_scales_are_rounded_value_by_value():
    f = format_frame(pd.DataFrame({"mean": [2010.4, 0.3456, 41.23]}))
    assert f["mean"].tolist() == ["2,010", "0.346", "41.23"]


def test_masked_cells_and_markers_among_numbers():
    d = pd.DataFrame({"x": [1.23456, 2.5]})
    mask = pd.DataFrame({"x": [True, False]})
    assert format_frame(d, mask=mask)["x"].tolist() == ["..", "2.5"]
    mixed = pd.DataFrame({"x": pd.Series([0.123456, "..", 4.0], dtype=object)})
    assert format_frame(mixed)["x"].tolist() == ["0.123", "..", "4.000"]


def test_fixed_mode_for_coefficient_tables_and_index():
    d = pd.DataFrame({"estimate": [0.5, 1e-9]}, index=["a", "b"])
    f = format_frame(d, digits=4, mode="fixed")
    assert f["estimate"].tolist() == ["0.5000", "1.0000e-09"]
    page = html_table(d.sort_values("estimate"))
    assert ">a<" in page  # a label index is shown, row numbers are not
    assert ">0<" not in html_table(pd.DataFrame({"v": [1.5]}, index=[7]))


def test_show_table_text_and_html():
    t = show_table(pd.DataFrame({"n_treated": [3.0]}), title="T", footnotes=["note"],
                   columns={"n_treated": "placed"})
    assert str(t).splitlines() == ["T", "placed", "     3", "note"]
    assert "placed" in t._repr_html_() and "class='num'" in t._repr_html_()
    assert t.to_frame()["placed"].iloc[0] == 3.0


def test_suppressed_tables_and_summaries_use_the_formatter():
    t = pd.DataFrame({"muni": ["A", "B", "C"], "persons": [2.0, 10.0, 12.0], "fte": [1.55555, 8.0, 9.5]})
    s = suppress(t, rows="muni", title="FTE")
    text = str(s)
    assert "C          12  9.5" in text and "12.0" not in text and ".." in text
    summ = Summary("t", header=[("ESS treated", 185.0), ("ESS control", 1234.56789)],
                   tables=[pd.DataFrame({"n": [3.0, 4.0], "b": [0.1, 0.2]})])
    out = summ.as_text()
    assert "ESS treated: 185" in out and "185.0000" not in out and "1,234.5679" in out
    assert np.isnan(t["persons"]).sum() == 0  # the input is not modified


def test_add_intervals_matches_the_normal_quantile_and_results_conf_int():
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    from scipy import stats

    from evaltools.exceptions import SpecificationError
    from evaltools.reporting.tables import add_intervals

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    fit = sm.OLS(1 + 0.5 * x + rng.normal(size=200), sm.add_constant(x)).fit(use_t=False)
    t = pd.DataFrame({"estimate": fit.params, "se": fit.bse})
    before = t.copy()
    for alpha in (0.05, 0.1):
        got = add_intervals(t, alpha=alpha)
        z = stats.norm.ppf(1 - alpha / 2)
        np.testing.assert_allclose(got["lower"], fit.params - z * fit.bse, rtol=1e-12)
        # statsmodels' normal-based interval (use_t=False) is the same
        ci = fit.conf_int(alpha)
        np.testing.assert_allclose(got[["lower", "upper"]].to_numpy(), ci, rtol=1e-12)
    pd.testing.assert_frame_equal(t, before)
    ratio = add_intervals(t.rename(columns={"estimate": "b", "se": "s"}), estimate="b", se="s", exp=True,
                          lower="lo", upper="hi")
    np.testing.assert_allclose(ratio["lo"], np.exp(fit.params - 1.959963984540054 * fit.bse), rtol=1e-12)
    with pytest.raises(SpecificationError, match="alpha"):
        add_intervals(t, alpha=5)
    with pytest.raises(SpecificationError, match=r"\['std_err'\]"):
        add_intervals(t, se="std_err")
