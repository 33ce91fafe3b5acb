"""Helpers shared by the reader tests: a read without input warnings and a panel comparison."""

from __future__ import annotations

import warnings

import pandas as pd

from evaltools.data import read_dream
from evaltools.exceptions import InputWarning


def read_quietly(path: object, **kw: object):
    """``read_dream(path, **kw)`` with its input notes (``InputWarning``) not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return read_dream(path, **kw)


def assert_same_panel(a, b) -> None:
    """States, persons and every event table of two panels are equal."""
    pd.testing.assert_frame_equal(a.states, b.states)
    pd.testing.assert_frame_equal(a.persons, b.persons)
    assert sorted(a.events) == sorted(b.events)
    for k in a.events:
        pd.testing.assert_frame_equal(a.events[k], b.events[k])
