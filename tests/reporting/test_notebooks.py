import html
import json
import re

import pytest

from evaltools.exceptions import NotebookError, SpecificationError
from evaltools.reporting.notebooks import NotebookRun, execute_all, execute_notebook, write_index

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")


def _make_nb(path, fail=False, cells=None, meta=None):
    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# A test report\n\n## 1. The section")
    p = nbformat.v4.new_code_cell("x = 1\nlabel = 'default'")
    p.metadata["tags"] = ["parameters"]
    show = "import json\nprint(json.dumps({'x': x, 'label': label}))"
    body = "raise RuntimeError('boom')" if fail else show
    nb.cells = [title, p, nbformat.v4.new_code_cell(body), *(cells or [])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if meta:
        nb.metadata["evaltools"] = meta
    nbformat.write(nb, path)
    return path


def _key_cell(code):
    c = nbformat.v4.new_code_cell(code)
    c.metadata["tags"] = ["key-results"]
    return c


def test_parameters_are_injected(tmp_path):
    nb_path = _make_nb(tmp_path / "a.ipynb")
    nb = execute_notebook(nb_path, out_html=tmp_path / "a.html", parameters={"x": 41, "label": "Herlev"})
    out = json.loads(nb.cells[3].outputs[0]["text"])
    assert out == {"x": 41, "label": "Herlev"}
    assert "injected-parameters" in nb.cells[2].metadata["tags"]
    assert (tmp_path / "a.html").read_text().count("Herlev") >= 1
    assert nb.metadata["evaltools"]["injected_parameters"] == {"x": 41, "label": "Herlev"}


def test_key_results_go_to_the_metadata_not_the_report(tmp_path):
    key = _key_cell("from evaltools.reporting.notebooks import record_key_results\n"
                    "import numpy as np\n"
                    "record_key_results({'n': np.int64(3), 'share': 0.25, 'missing': float('nan'),"
                    " 'KEY': 'x'})")
    nb_path = _make_nb(tmp_path / "k.ipynb", cells=[key])
    nb = execute_notebook(nb_path, out_html=tmp_path / "k.html")
    got = nb.metadata["evaltools"]["key_results"]
    assert got["n"] == 3 and got["share"] == 0.25 and got["missing"] != got["missing"]  # NaN kept
    assert nb.cells[-1].outputs == []  # moved out of the cell
    page = (tmp_path / "k.html").read_text()
    assert "record_key_results" not in page  # the key-results cell is not rendered in report mode
    full = execute_notebook(nb_path, out_html=tmp_path / "full.html", report=False)
    assert "record_key_results" in (tmp_path / "full.html").read_text()  # but shown in the full rendering
    assert full.metadata["evaltools"]["key_results"]["KEY"] == "x"


def test_report_mode_hides_code_behind_a_toggle_and_loads_nothing_from_the_network(tmp_path):
    nb_path = _make_nb(tmp_path / "r.ipynb")
    execute_notebook(nb_path, out_html=tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "evaltools-report" in page and "Show code" in page and "evaltools-toggle-code" in page
    assert 'class="jp-Cell-inputWrapper"' in page  # the code is in the page, hidden until the toggle
    assert re.search(r"<script[^>]*src=[\"']?https?:", page) is None  # no require.js or MathJax from a CDN
    execute_notebook(nb_path, out_html=tmp_path / "plain.html", report=False)
    assert "Show code" not in (tmp_path / "plain.html").read_text()


def test_failure_writes_the_partial_report_and_names_the_cell(tmp_path):
    later = nbformat.v4.new_markdown_cell("## 2. Never reached")
    nb_path = _make_nb(tmp_path / "bad.ipynb", fail=True, cells=[later])
    with pytest.raises(NotebookError, match=r"bad.ipynb stopped in cell 3 \(section '1. The section'\): "
                                            r"RuntimeError: boom") as err:
        execute_notebook(nb_path, out_html=tmp_path / "bad.html")
    assert err.value.cell == 3 and err.value.html_path == tmp_path / "bad.html"
    page = (tmp_path / "bad.html").read_text()
    assert "This report is incomplete" in page and "boom" in page and "cell 3 of 4" in page
    assert "Never reached" not in page  # the partial report ends with the failing cell
    assert err.value.notebook.metadata["evaltools"]["error"]["cell"] == 3


def test_parameter_errors_are_shown_as_one_message(tmp_path):
    check = nbformat.v4.new_code_cell(
        "from evaltools.exceptions import ParameterError\n"
        "raise ParameterError(f'municipality={label!r} is not a municipality of the panel')"
    )
    nb_path = _make_nb(tmp_path / "p.ipynb", cells=[check])
    with pytest.raises(NotebookError, match="ParameterError: municipality='Odence' is not a municipality"):
        execute_notebook(nb_path, out_html=tmp_path / "p.html", parameters={"label": "Odence"})
    err_out = [o for c in nbformat.read(tmp_path / "p.ipynb", 4).cells for o in c.get("outputs", [])]
    assert err_out == []  # the source notebook is not modified
    page = html.unescape((tmp_path / "p.html").read_text())
    assert "Traceback" not in page and "municipality='Odence' is not a municipality" in page


def test_failures_are_reported_not_raised(tmp_path):
    ok = _make_nb(tmp_path / "ok.ipynb", meta={"seed_report": "Seed report A", "adds": "a naive contrast"})
    bad = _make_nb(tmp_path / "bad.ipynb", fail=True)
    runs = execute_all([ok, bad], tmp_path / "out", progress=False)
    assert [r.ok for r in runs] == [True, False]
    assert "boom" in runs[1].error and runs[1].html_path is not None and runs[1].html_path.is_file()
    assert runs[0].title == "A test report" and runs[0].meta["seed_report"] == "Seed report A"
    index = write_index(runs, tmp_path / "out", parameters={"municipality": "Odense"},
                        provenance={"source": "synthetic"}).read_text()
    assert "ok.html" in index and "stopped" in index and "partial report" in index
    assert "Seed report A" in index and "a naive contrast" in index and "A test report" in index
    assert "municipality" in index and "synthetic" in index and "<style>" in index


def test_index_without_runs_metadata(tmp_path):
    runs = [NotebookRun("x", None, 2.0, False, "no kernel"),
            NotebookRun("y", None, 1.0, True, "", "Y", {"parameters": {"values": {
                "period": [2010, 2011], "municipality": None, "bands": [[0, 26], [27, 260]], "seed": 7}}})]
    page = write_index(runs, tmp_path).read_text()
    assert "no kernel" in page and "1 of 2 notebooks ran" in page
    assert "period = 2010, 2011" in page and "municipality = all" in page and "bands = 0-26, 27-260" in page


def test_bad_parameter_name(tmp_path):
    nb_path = _make_nb(tmp_path / "a.ipynb")
    with pytest.raises(SpecificationError, match="identifiers"):
        execute_notebook(nb_path, parameters={"not valid": 1})


def test_evaltools_warnings_become_notes(tmp_path):
    warn = nbformat.v4.new_code_cell(
        "import warnings\nfrom evaltools.exceptions import DisclosureWarning\n"
        "from evaltools.reporting.notebooks import notebook_setup\nnotebook_setup()\n"
        "warnings.warn('a small cell pattern', DisclosureWarning)\nwarnings.warn('plain', UserWarning)"
    )
    nb_path = _make_nb(tmp_path / "w.ipynb", cells=[warn])
    nb = execute_notebook(nb_path)
    outs = nb.cells[-1].outputs
    html_notes = [o for o in outs if "text/html" in o.get("data", {})]
    assert len(html_notes) == 1 and "Note (disclosure control):" in html_notes[0]["data"]["text/html"]
    assert "a small cell pattern" in html_notes[0]["data"]["text/html"]
    stderr = "".join(o.get("text", "") for o in outs if o.get("name") == "stderr")
    assert "UserWarning: plain" in stderr and "DisclosureWarning" not in stderr


def test_kernel_runs_without_transport_warnings_or_leftover_sockets(tmp_path, capfd, monkeypatch):
    # a TCP kernel logs "Kernel is running over TCP without encryption" on stderr; the IPC sockets live in a
    # private temporary folder that is removed afterwards (a temporary root of this test's own, so kernels
    # of tests running in parallel do not show up)
    import tempfile
    from pathlib import Path

    from evaltools.reporting import notebooks as nbmod

    root = Path(tempfile.mkdtemp(prefix="etk-"))  # short: socket paths have a length limit
    monkeypatch.setattr(nbmod, "_socket_root", lambda: str(root))
    nb_path = _make_nb(tmp_path / "a.ipynb", cells=[nbformat.v4.new_code_cell("print(1 + 1)")])
    nb = execute_notebook(nb_path, out_html=tmp_path / "a.html")
    err = capfd.readouterr().err
    assert "without encryption" not in err and "IPKernelApp" not in err, err
    assert any("2" in out.get("text", "") for c in nb.cells for out in c.get("outputs", []))
    assert not list(root.iterdir())  # the socket folder is removed
    assert not list(tmp_path.glob("kernel-*"))
    root.rmdir()


def test_the_kernel_is_shut_down_after_the_run(tmp_path):
    import os
    import time

    cell = nbformat.v4.new_code_cell("import os\nprint(os.getpid())")
    nb_path = _make_nb(tmp_path / "a.ipynb", cells=[cell])
    nb = execute_notebook(nb_path)
    pid = int(nb.cells[-1].outputs[0]["text"])
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"kernel process {pid} still running after the notebook finished")


def test_kernel_runs_with_a_temporary_folder_too_long_for_sockets(tmp_path, monkeypatch):
    # Unix-domain socket paths are limited to about 100 bytes; a long temporary folder (e.g. a deep TMPDIR)
    # falls back to /tmp, and without any short folder to the default transport, instead of failing
    from evaltools.reporting import notebooks as nbmod

    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    assert nbmod._socket_root([str(deep), "/tmp"]) == "/tmp"
    assert nbmod._socket_root([str(deep)]) is None
    monkeypatch.setattr(nbmod, "_socket_root", lambda: None)
    nb_path = _make_nb(tmp_path / "b.ipynb", cells=[nbformat.v4.new_code_cell("print(2 + 3)")])
    nb = execute_notebook(nb_path)
    assert any("5" in out.get("text", "") for c in nb.cells for out in c.get("outputs", []))
