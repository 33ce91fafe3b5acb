"""Data-layer test configuration.

Makes the helper modules (``data_panel_factory``, ``contract_fuzz_cases``)
importable under any pytest import mode, gives the input-contract fuzz suite
its scratch directory, and prints the fuzz suite's counts at the end of the run.
"""

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(scope="session")
def fuzz_dir(tmp_path_factory):
    """Scratch directory for the files of the input-contract fuzz suite."""
    return tmp_path_factory.mktemp("contract_fuzz")


def pytest_terminal_summary(terminalreporter):
    mod = sys.modules.get("contract_fuzz_cases")
    if mod is not None and mod.TALLY["inputs"]:
        terminalreporter.write_sep("-", "input-contract fuzz suite")
        terminalreporter.write_line(mod.tally_json())
