"""The index page written by ``make demo`` (python -m evaltools.demo), on one tiny notebook."""

from __future__ import annotations

import pytest

from evaltools.data import read_panel
from evaltools.demo import DEFAULT_SAMPLE, main, overview


def test_overview_has_no_censoring_group():
    stock = overview(read_panel(DEFAULT_SAMPLE))
    assert "censored" not in stock.columns and "kontanthjaelp" in stock.columns
    assert (stock.to_numpy() >= 0).all()


def test_index_page_lists_notebooks_parameters_provenance_and_timing(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · A tiny report"), nbformat.v4.new_code_cell("1 + 1")]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["evaltools"] = {"seed_report": "A seed report", "adds": "what it adds"}
    (tmp_path / "nbs").mkdir()
    nbformat.write(nb, tmp_path / "nbs" / "99_tiny.ipynb")
    assert main(["--out", str(tmp_path / "out"), "--notebooks", str(tmp_path / "nbs")]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "<RegisterPanel" not in page and "<style>" in page
    assert "99 · A tiny report" in page and "A seed report" in page and "what it adds" in page
    assert "Parameters of the run" in page and "synthetic" in page and "20,000" in page and "SHA-256" in page
    assert "1 of 1 notebooks ran" in page and "overview.png" in page
    assert ">censored<" not in page
    assert (tmp_path / "out" / "99_tiny.html").is_file() and (tmp_path / "out" / "overview.png").is_file()
