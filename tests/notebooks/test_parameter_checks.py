"""A mistaken parameter stops a curated notebook in its first cell with one message, and the partial report is
written (the cells up to the failing one, with a banner that names the cell and the message)."""

from __future__ import annotations

import html
import json

import pytest
from nbrun import NOTEBOOKS

from evaltools.exceptions import NotebookError

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_every_notebook_checks_its_parameters_in_the_first_cell(path) -> None:
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", []), path.name
    assert "check_parameters(" in "".join(code[1]["source"]), path.name
    assert "record_key_results(" in "".join(code[-1]["source"]) and "KEY-RESULTS" not in "".join(code[-1]["source"])


def _stopped(name: str, tmp_path, **parameters) -> tuple[NotebookError, str]:
    pytest.importorskip("nbclient")
    from evaltools.reporting.notebooks import execute_notebook

    with pytest.raises(NotebookError) as err:
        execute_notebook(NOTEBOOKS / name, out_html=tmp_path / "partial.html", parameters=parameters,
                         cwd=NOTEBOOKS)
    page = html.unescape((tmp_path / "partial.html").read_text(encoding="utf-8"))
    return err.value, page


def test_misspelt_municipality(tmp_path) -> None:
    err, page = _stopped("02_company_centres.ipynb", tmp_path, municipality="Odence")
    msg = str(err)
    assert msg.startswith("02_company_centres.ipynb stopped in cell 3: ParameterError: municipality='Odence' is "
                          "not a municipality of the panel; did you mean 'Odense'?")
    assert "Set municipality to one of them (or None for all municipalities)" in msg
    assert err.cell == 3 and err.html_path == tmp_path / "partial.html"
    assert "This report is incomplete" in page and "did you mean 'Odense'" in page
    assert "Traceback" not in page and "## 2." not in page and "2. The naive comparisons" not in page


def test_period_outside_the_panel(tmp_path) -> None:
    err, page = _stopped("02_company_centres.ipynb", tmp_path, period=(1990, 1991))
    assert "period=(1990, 1991) is outside the panel's observation window 2008-W01..2012-W52 (years 2008-2012)" \
        in str(err)
    assert "Choose years from 2008 to 2012" in page


def test_unknown_benefit(tmp_path) -> None:
    err, page = _stopped("03_sanctions.ipynb", tmp_path, benefits=["kontanthjalp", "integrationsydelse"])
    assert "benefits='kontanthjalp' is not a benefit of the panel; did you mean 'kontanthjaelp'" in str(err)
    assert "kontanthjaelp" in page and "stopped in cell 3" in page


def test_several_mistakes_in_one_message(tmp_path) -> None:
    err, _ = _stopped("05_job_focus_north_jutland.ipynb", tmp_path, municipality=["Aalborg", "Tisted"],
                      first_year=2011, last_year=2010)
    msg = str(err)
    assert "2 parameters do not fit the data" in msg and "did you mean 'Thisted'" in msg
    assert "last_year=2010 is before first_year=2011" in msg
