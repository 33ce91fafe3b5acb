"""Calendar conversions of week indices (``evaltools.data.weeks``)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from evaltools.data.weeks import decimal_year, index_to_isoweek, isoweek_to_index, weeks_in_year


def test_decimal_year_against_the_standard_library_iso_calendar() -> None:
    # every week from 1990-W01 to 2030: the ISO year and week from datetime.date.isocalendar
    idx = np.arange(0, 41 * 53)
    got = decimal_year(idx)
    for i in idx[::7]:
        monday = dt.date(1990, 1, 1) + dt.timedelta(weeks=int(i))
        year, week, weekday = monday.isocalendar()
        assert weekday == 1
        n_weeks = dt.date(year, 12, 28).isocalendar()[1]  # 28 December is always in the last ISO week
        assert got[i] == year + (week - 1) / n_weeks


def test_decimal_year_is_increasing_and_stays_inside_its_iso_year() -> None:
    idx = np.arange(0, 2200)
    got = decimal_year(idx)
    assert np.all(np.diff(got) > 0)
    year, week = index_to_isoweek(idx)
    assert np.array_equal(np.floor(got).astype(int), year)
    assert np.all(got[week == 1] == year[week == 1])
    # the last week of a 53-week year is 52/53 of the way through it
    i53 = isoweek_to_index(2009, 53)
    assert weeks_in_year(2009) == 53 and decimal_year(i53) == 2009 + 52 / 53


def test_decimal_year_keeps_the_shape_and_year_filters_match_iso_years() -> None:
    idx = isoweek_to_index([[2010, 2010], [2011, 2012]], [[1, 52], [1, 1]])
    got = decimal_year(idx)
    assert got.shape == (2, 2)
    in_2010 = (got >= 2010) & (got < 2011)
    assert in_2010.tolist() == [[True, True], [False, False]]
