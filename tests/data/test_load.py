import gzip

import numpy as np
import pandas as pd
import pytest

from evaltools.data._load import load_table
from evaltools.exceptions import FileFormatError


def _load(path):
    return load_table(path, where="reader", text=lambda c: c in ("PNR", "y_1501"), id_col="PNR")


def test_csv_types_follow_pandas(tmp_path):
    text = "PNR,y_1501,n,x,flag,day,blank,name\n007,111,1,0.5,True,2020-01-01,,a\n8,,2,,False,2020-01-02,,\n"
    path = tmp_path / "x.csv"
    path.write_text(text)
    got, src = _load(path)
    want = pd.read_csv(path, dtype={"PNR": str, "y_1501": str})
    assert src.first_line == 2 and list(got.columns) == list(want.columns)
    assert got["PNR"].tolist() == ["007", "8"]
    for c in ("n", "x", "flag", "blank"):
        assert got[c].dtype == want[c].dtype, c
    assert got["day"].tolist() == ["2020-01-01", "2020-01-02"]
    assert got["name"].tolist()[0] == "a" and pd.isna(got["name"].tolist()[1])
    assert pd.isna(got["y_1501"].iloc[1])


def test_bad_line_numbers_in_a_large_gzip_file(tmp_path):
    lines = ["PNR,y_1501,y_1502"] + [f"{i},111," for i in range(60_000)]
    lines[41_234] = "41233,111"
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(
        FileFormatError, match=r"line 41235 has 2 field\(s\), the header has 3 \(PNR='41233'\)"
    ):
        _load(path)


def test_dataframes_pass_through_unchanged():
    df = pd.DataFrame({"PNR": [1], "y_1501": ["111"]})
    got, src = _load(df)
    assert got is df and src.first_line is None and src.locate(np.array([0])) == ["row 0"]
