import json

import pytest

from evaltools.exceptions import SpecificationError
from evaltools.reporting.notebooks import execute_all, execute_notebook, write_index

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")


def _make_nb(path, fail=False):
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell("x = 1\nlabel = 'default'")
    p.metadata["tags"] = ["parameters"]
    show = "import json\nprint(json.dumps({'x': x, 'label': label}))"
    body = "raise RuntimeError('boom')" if fail else show
    nb.cells = [p, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_parameters_are_injected(tmp_path):
    nb_path = _make_nb(tmp_path / "a.ipynb")
    nb = execute_notebook(nb_path, out_html=tmp_path / "a.html", parameters={"x": 41, "label": "Herlev"})
    out = json.loads(nb.cells[-1].outputs[0]["text"])
    assert out == {"x": 41, "label": "Herlev"}
    assert "injected-parameters" in nb.cells[1].metadata["tags"]
    assert (tmp_path / "a.html").read_text().count("Herlev") >= 1


def test_failures_are_reported_not_raised(tmp_path):
    ok = _make_nb(tmp_path / "ok.ipynb")
    bad = _make_nb(tmp_path / "bad.ipynb", fail=True)
    runs = execute_all([ok, bad], tmp_path / "out", progress=False)
    assert [r.ok for r in runs] == [True, False]
    assert "boom" in runs[1].error
    index = write_index(runs, tmp_path / "out").read_text()
    assert "ok.html" in index and "failed" in index


def test_bad_parameter_name(tmp_path):
    nb_path = _make_nb(tmp_path / "a.ipynb")
    with pytest.raises(SpecificationError, match="identifiers"):
        execute_notebook(nb_path, parameters={"not valid": 1})
