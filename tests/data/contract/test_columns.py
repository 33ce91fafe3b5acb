import pytest

from evaltools.data.contract import DREAM_PATTERNS, Source, check_column_names
from evaltools.exceptions import ColumnNameError

SRC = Source("read_dream", "x.csv", 2)


def _check(cols, names=("obs_start", "obs_end")):
    check_column_names(cols, source=SRC, patterns=DREAM_PATTERNS, names=names)


def test_exact_and_unrelated_names_pass():
    _check(["PNR", "sex", "y_1401", "y_1402", "branche_2014_01", "grad_2014_01", "ak14", "obs_end"])
    _check(["year", "y", "ak", "branche", "yy_score", "municipality", "1401", "Y", "akse"])


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("y_1410 ", "strip the spaces"),
        (" y_1410", "strip the spaces"),
        ("Y_1401", "rename it to 'y_1401' (names are case-sensitive)"),
        ("y1401", "rename it to 'y_1401'"),
        ("y-1401", "rename it to 'y_1401'"),
        ("y_14 01", "rename it to 'y_1401'"),
        ("y_141", "has 3 digits"),
        ("y_14010", "has 5 digits"),
        ("y_1404.1", "renamed by pandas"),
        ("BRANCHE_2014_01", "monthly column"),
        ("AK14", "yearly column"),
        ("obs_end ", "looks like the column 'obs_end'"),
        ("OBS_START", "looks like the column 'obs_start'"),
    ],
)
def test_near_misses_are_named(name, fix):
    with pytest.raises(ColumnNameError) as e:
        _check(["PNR", "y_1402", name])
    assert repr(name) in str(e.value) and fix in str(e.value)


def test_duplicates_and_pandas_renamed_duplicates():
    with pytest.raises(ColumnNameError, match=r"'y_1402' \(2 times\)"):
        _check(["PNR", "y_1402", "y_1402"])
    with pytest.raises(ColumnNameError, match="looks like a second 'sex' renamed by pandas"):
        _check(["PNR", "y_1402", "sex", "sex.1"])


def test_many_near_misses_are_counted():
    with pytest.raises(ColumnNameError, match=r"7 column name\(s\) .* \(and 2 more\)"):
        _check(["PNR"] + [f"Y_14{w:02d}" for w in range(1, 8)])
