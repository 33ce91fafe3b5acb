import numpy as np
import pandas as pd

from evaltools.reporting.summary import Summary, format_number


def test_format_number():
    assert format_number(1234567) == "1,234,567"
    assert format_number(0.5) == "0.5000"
    assert format_number(np.nan) == ""
    assert format_number(1e-9) == "1.0000e-09"
    assert format_number(True) == "True"


def test_html_escapes():
    s = Summary("t<b>", header=[("a&b", 1)], tables=[pd.DataFrame({"x<": [1.0]})], footnotes=["<script>"])
    h = s.as_html()
    assert "<script>" not in h and "&lt;script&gt;" in h and "t&lt;b&gt;" in h


def test_text_layout():
    s = Summary(
        "Title", header=[("N", 10), ("logL", -3.5), ("ties", "efron")], tables=[pd.DataFrame({"a": [1.0]})]
    )
    lines = s.as_text().splitlines()
    assert lines[1].startswith("===") and "N: 10" in lines[2]
