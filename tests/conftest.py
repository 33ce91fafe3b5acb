"""Suite-wide pytest configuration.

Tests marked ``slow`` (large Monte Carlo studies) are skipped unless
``--run-slow`` is given (``make test-slow``); the fast versions of the same
checks always run in ``make test``.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow Monte Carlo: run with --run-slow (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
