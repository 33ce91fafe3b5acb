"""Execute parameterised notebooks and render them as reports.

Notebooks follow the papermill convention: the cell tagged ``parameters``
holds default values, and :func:`execute_notebook` inserts a cell tagged
``injected-parameters`` right after it with the caller's overrides.  Execution
uses ``nbclient`` (no network, local kernel) and rendering ``nbconvert`` with
the evaltools report template:

* **report mode** (the default) hides code cells behind a "Show code" toggle,
  drops the input/output prompts and loads no script from the network;
* a notebook records the numbers its tests check with
  :func:`record_key_results`; they are moved into the executed notebook's
  metadata (``nb.metadata["evaltools"]["key_results"]``) and never shown in
  the rendered report;
* the parameters checked by :func:`evaltools.reporting.check_parameters` are
  stored in ``nb.metadata["evaltools"]["parameters"]``;
* a notebook that stops with an error is still rendered (the cells run so far,
  with a banner naming the failing cell and the message), and
  :class:`~evaltools.exceptions.NotebookError` is raised.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltools.exceptions import EvaltoolsError, NotebookError, ParameterError, SpecificationError
from evaltools.reporting._index import write_index
from evaltools.reporting.parameters import PARAMETERS_MIME

__all__ = [
    "NotebookRun",
    "execute_notebook",
    "execute_all",
    "write_index",
    "render_html",
    "record_key_results",
    "notebook_title",
    "notebook_setup",
    "KEY_RESULTS_MIME",
]

#: MIME type of the output written by :func:`record_key_results`.
KEY_RESULTS_MIME = "application/x-evaltools-key-results"
_TEMPLATES = Path(__file__).with_name("templates")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class NotebookRun:
    """Outcome of executing one notebook.

    Attributes
    ----------
    name : str
        File stem of the notebook.
    html_path : Path or None
        The rendered report (partial if the notebook failed); None if nothing was written.
    seconds : float
        Wall-clock execution time.
    ok : bool
        True if every cell ran.
    error : str
        The failure message (empty when ``ok``).
    title : str
        The notebook's first heading.
    meta : dict
        The notebook's ``metadata["evaltools"]`` after execution (key results,
        parameters, description).
    """

    name: str
    html_path: Path | None
    seconds: float
    ok: bool
    error: str = ""
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def _import_nb() -> tuple[Any, Any, Any]:
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbconvert import HTMLExporter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EvaltoolsError(
            "Executing notebooks needs the 'notebooks' extra: pip install 'evaltools[notebooks]'."
        ) from exc
    return nbformat, NotebookClient, HTMLExporter


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays
        return obj.tolist()
    raise SpecificationError(
        f"record_key_results: a value of type {type(obj).__name__} ({obj!r:.60}) is not JSON data; "
        "convert it to float, int, str, bool, None or a list/dict of those."
    )


def record_key_results(results: Mapping[str, Any]) -> None:
    """Record a notebook's key results for its tests, outside the rendered report.

    Call it in the last cell of a curated notebook.  The values are written as
    an output of a private MIME type that :func:`execute_notebook` moves into
    ``nb.metadata["evaltools"]["key_results"]``; the report never shows them.

    Parameters
    ----------
    results : mapping of str to JSON data
        Numbers, strings, booleans, ``None`` and lists/dicts of those; numpy
        scalars and arrays are converted.  NaN is kept (as in ``json.dumps``).

    Examples
    --------
    >>> record_key_results({"n_treated": 912, "att": -0.42})  # doctest: +SKIP
    """
    if not isinstance(results, Mapping):
        raise SpecificationError(
            f"record_key_results expects a mapping of names to values; got {type(results).__name__}."
        )
    payload = json.dumps(dict(results), default=_json_default)
    from IPython.display import display

    display(
        {KEY_RESULTS_MIME: payload, "text/plain": f"Key results recorded ({len(results)} values)."}, raw=True
    )


#: Plain words for the evaltools warnings when a report shows them as notes.
_NOTE_KIND = {
    "DisclosureWarning": "disclosure control",
    "MissingValueWarning": "missing values",
    "DroppedRowsWarning": "rows left out",
    "ConvergenceWarning": "convergence",
    "OverlapWarning": "overlap",
    "SingletonWarning": "single observations",
    "ExtremeWeightWarning": "extreme weights",
    "UnverifiedCodeWarning": "unverified codes",
    "ExclusionRestrictionWarning": "identification",
    "InputWarning": "input data",
}


def notebook_setup(*, style: bool = True, warnings_as_notes: bool = True) -> None:
    """Prepare a notebook kernel for a report: the shared figure style, warnings as readable notes.

    Parameters
    ----------
    style : bool, default=True
        Apply :func:`evaltools.reporting.plotting.use_style`.
    warnings_as_notes : bool, default=True
        Show warnings of the evaltools hierarchy (a small-cell pattern that
        needed empty cells, rows dropped for missing values, ...) as a short
        note in the cell's output, in plain words and without the file path of
        the code that raised it; other warnings are shown as usual.

    Examples
    --------
    >>> notebook_setup()  # doctest: +SKIP
    """
    import warnings

    from evaltools.exceptions import EvaltoolsWarning

    if style:
        from evaltools.reporting.plotting import use_style

        use_style()
    if not warnings_as_notes:
        return
    previous = warnings.showwarning
    if getattr(previous, "_evaltools_notes", False):
        return

    def show(
        message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        if not (isinstance(category, type) and issubclass(category, EvaltoolsWarning)):
            previous(message, category, filename, lineno, file, line)
            return
        from IPython.display import HTML, display

        kind = _NOTE_KIND.get(category.__name__)
        style = ("color:#6b4e00;background:#fff8e1;padding:0.3em 0.6em;border-left:3px solid #e0a800;"
                 "margin:0.3em 0")
        label = f"Note ({html.escape(kind)}):" if kind else "Note:"
        display(HTML(f"<div class='evaltools-note' style='{style}'><b>{label}</b> "
                     f"{html.escape(str(message))}</div>"))

    show._evaltools_notes = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def _parameter_cell(nbformat: Any, parameters: Mapping[str, Any]) -> Any:
    lines = ["# Parameters injected by evaltools.reporting.notebooks"]
    for key, value in parameters.items():
        if not str(key).isidentifier():
            raise SpecificationError(f"Notebook parameter names must be identifiers; got {key!r}.")
        lines.append(f"{key} = {value!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    return cell


def notebook_title(nb: Any, default: str = "") -> str:
    """The first Markdown heading of a notebook (without the ``#`` marks)."""
    for cell in nb.cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in str(cell.get("source", "")).splitlines():
            if line.startswith("#"):
                return re.sub(r"[*_`]", "", line.lstrip("#").strip())
    return default


def _heading_before(nb: Any, index: int) -> str:
    """The last section heading (level 2 or deeper) before a cell; "" before the first section."""
    for cell in reversed(nb.cells[:index]):
        if cell.get("cell_type") == "markdown":
            heads = [ln for ln in str(cell.get("source", "")).splitlines() if ln.startswith("##")]
            if heads:
                return re.sub(r"[*_`]", "", heads[-1].lstrip("#").strip())
    return ""


def _collect_metadata(nb: Any) -> dict[str, Any]:
    """Move key results and parameters out of the outputs into ``nb.metadata["evaltools"]``."""
    meta = dict(nb.metadata.get("evaltools", {}))
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else {}
            if KEY_RESULTS_MIME in data:
                meta["key_results"] = json.loads(data[KEY_RESULTS_MIME])
                continue
            if PARAMETERS_MIME in data:
                meta["parameters"] = json.loads(data[PARAMETERS_MIME])
                del data[PARAMETERS_MIME]
            kept.append(out)
        cell["outputs"] = kept
    return meta


def _failure(nb: Any) -> tuple[int, str, str, str]:
    """(cell index, heading, error name, error value) of the first cell with an error output."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if out.get("ename") == ParameterError.__name__:
                    # a parameter check: the message is the whole story, the traceback is noise
                    out["traceback"] = [f"{out['ename']}: {out.get('evalue', '')}"]
                evalue = _ANSI.sub("", str(out.get("evalue", "")))
                return i, _heading_before(nb, i), str(out.get("ename", "")), evalue
    return -1, "", "Error", "the kernel stopped without an error output (it may have died or timed out)"


def render_html(
    nb: Any, out_html: str | Path, *, report: bool = True, banner: str = ""
) -> Path:
    """Render an executed notebook to HTML with the evaltools report template.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    out_html : str or Path
        Target file (its folder is created).
    report : bool, default=True
        Hide code cells behind a "Show code" toggle, drop prompts and the cells
        tagged ``key-results``; ``False`` shows everything as in JupyterLab.
    banner : str, default=""
        HTML shown at the top (used for the failure note).

    Returns
    -------
    Path
        The file written.
    """
    import copy

    _, _, HTMLExporter = _import_nb()
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="evaltools_report",
        extra_template_basedirs=[str(_TEMPLATES)],
        exclude_input_prompt=report,
        exclude_output_prompt=report,
    )
    if report:
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags={"key-results"}, enabled=True), enabled=True
        )
    body, _ = exporter.from_notebook_node(
        copy.deepcopy(nb), resources={"evaltools": {"report": report, "banner": banner}}
    )
    target = Path(out_html)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return target


def _banner(name: str, position: int, n_cells: int, heading: str, ename: str, evalue: str) -> str:
    section = f", in section \u201c{html.escape(heading)}\u201d" if heading else ""
    where = f"cell {position} of {n_cells}{section}"
    return (
        "<div class='evaltools-banner'><b>This report is incomplete.</b> "
        f"{html.escape(name)} stopped in {where}:"
        f"<pre>{html.escape(ename)}: {html.escape(evalue)}</pre>"
        "The output of the cells that ran is shown below. Fix the parameter or the data and run the "
        "notebook again.</div>"
    )


#: Longest Unix-domain socket path used (macOS allows 103 bytes, Linux 107).
_MAX_SOCKET_PATH = 100
#: What the kernel's socket paths add to the temporary root.
_SOCKET_SUFFIX = "/evaltools-kernel-xxxxxxxx/kernel-65535"


def _socket_root(candidates: Sequence[str] | None = None) -> str | None:
    """A writable temporary root short enough for the kernel's socket paths, or None.

    ``candidates`` defaults to the temporary folder and ``/tmp``.
    """
    for root in candidates if candidates is not None else (tempfile.gettempdir(), "/tmp"):
        if len(os.fsencode(root + _SOCKET_SUFFIX)) <= _MAX_SOCKET_PATH and os.path.isdir(root) and os.access(
            root, os.W_OK
        ):
            return root
    return None


def _kernel_config(sockets: Path | None) -> Any:
    """Kernel manager settings for a local kernel talking over Unix-domain sockets in ``sockets``.

    The default TCP transport makes every kernel log a warning about
    unencrypted traffic on stderr (and opens local ports); IPC sockets in a
    private temporary folder need neither.  The client still creates (and
    shuts down) the kernel itself.  Without a folder whose socket paths fit
    the operating system's limit (``sockets=None``) the default transport is
    kept.
    """
    from traitlets.config import Config

    config = Config()
    if sockets is not None:
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(sockets / "kernel")
    return config


def execute_notebook(
    path: str | Path,
    *,
    out_html: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 1800,
    cwd: str | Path | None = None,
    kernel_name: str = "python3",
    report: bool = True,
) -> Any:
    """Execute a notebook, optionally with injected parameters, and render it to HTML.

    Parameters
    ----------
    path : str or Path
        The ``.ipynb`` file.
    out_html : str or Path, optional
        Where to write the rendered HTML (also written, up to the failing cell,
        when the notebook stops with an error).
    parameters : mapping, optional
        Values that override the defaults in the ``parameters``-tagged cell.
    timeout : int, default=1800
        Seconds allowed per cell.
    cwd : str or Path, optional
        Working directory for the kernel (default: the notebook's folder).
    kernel_name : str, default="python3"
        Jupyter kernel.
    report : bool, default=True
        Render in report mode (code hidden behind a toggle, no key-results
        cell); see :func:`render_html`.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook; ``nb.metadata["evaltools"]`` holds
        ``key_results`` (from :func:`record_key_results`), ``parameters``
        (from :func:`~evaltools.reporting.check_parameters`) and ``seconds``.

    Raises
    ------
    NotebookError
        If a cell raises: the message names the notebook, the cell (its
        position and section) and the error; ``exc.html_path`` is the partial
        report, ``exc.notebook`` the partly executed notebook.

    Examples
    --------
    >>> execute_notebook("notebooks/02_company_centres.ipynb", out_html="build/odense.html",
    ...                  parameters={"municipality": "Odense"})  # doctest: +SKIP
    """
    nbformat, NotebookClient, _ = _import_nb()
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    injected = None
    if parameters:
        idx = next(
            (i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
            None,
        )
        if idx is None:
            raise SpecificationError(
                f"{path.name} has no cell tagged 'parameters'; cannot inject {sorted(parameters)}."
            )
        nb.cells.insert(idx + 1, _parameter_cell(nbformat, parameters))
        injected = idx + 1
    t0 = time.perf_counter()
    failed: BaseException | None = None
    root = _socket_root()
    folder = (
        tempfile.TemporaryDirectory(prefix="evaltools-kernel-", dir=root)
        if root is not None
        else contextlib.nullcontext(None)
    )
    with folder as sockets:
        client = NotebookClient(
            nb,
            config=_kernel_config(None if sockets is None else Path(sockets)),
            timeout=timeout,
            kernel_name=kernel_name,
            coalesce_streams=True,
            resources={"metadata": {"path": str(cwd or path.parent)}},
        )
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            failed = exc
    meta = _collect_metadata(nb)
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    if parameters:
        meta["injected_parameters"] = json.loads(json.dumps(dict(parameters), default=repr))
    banner = ""
    if failed is not None:
        i, heading, ename, evalue = _failure(nb)
        if i < 0 and isinstance(failed, CellTimeoutError):
            ename, evalue = "CellTimeoutError", f"a cell ran longer than timeout={timeout} s"
        n_cells = len(nb.cells) - (injected is not None)
        position = i + 1 - (injected is not None and i > injected) if i >= 0 else 0
        meta["error"] = {"cell": position, "section": heading, "ename": ename, "evalue": evalue}
        banner = _banner(path.name, position, n_cells, heading, ename, evalue)
    nb.metadata["evaltools"] = meta
    shown = nb
    if failed is not None and i >= 0:
        # the partial report ends with the failing cell: later cells did not run
        shown = nbformat.from_dict(nb)
        shown.cells = shown.cells[: i + 1]
    html_path = render_html(shown, out_html, report=report, banner=banner) if out_html is not None else None
    if failed is not None:
        where = f"cell {position}" + (f" (section '{heading}')" if heading else "")
        written = f" Partial report written to {html_path}." if html_path is not None else ""
        err = NotebookError(f"{path.name} stopped in {where}: {ename}: {evalue.rstrip('.')}.{written}")
        err.notebook = nb  # type: ignore[attr-defined]
        err.html_path = html_path  # type: ignore[attr-defined]
        err.cell = position  # type: ignore[attr-defined]
        raise err from failed
    return nb


def execute_all(
    notebooks: Sequence[str | Path],
    out_dir: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    progress: bool = True,
    report: bool = True,
) -> list[NotebookRun]:
    """Execute several notebooks into ``out_dir``; failures are recorded, not raised.

    Parameters
    ----------
    notebooks : sequence of str or Path
        The ``.ipynb`` files, run in order.
    out_dir : str or Path
        Folder for the HTML reports (created).
    parameters : mapping, optional
        Parameters injected into every notebook.
    progress : bool, default=True
        Show a progress bar over the notebooks.
    report : bool, default=True
        Render in report mode.

    Returns
    -------
    list of NotebookRun
    """
    from evaltools._progress import progress_bar

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[NotebookRun] = []
    bar = progress_bar(list(notebooks), desc="notebooks", unit="nb", enabled=progress)
    for nb_path in bar:
        nb_path = Path(nb_path)
        bar.set_postfix_str(nb_path.stem)
        target = out / f"{nb_path.stem}.html"
        t0 = time.perf_counter()
        try:
            nb = execute_notebook(nb_path, out_html=target, parameters=parameters, report=report)
        except NotebookError as exc:
            nb = exc.notebook  # type: ignore[attr-defined]
            runs.append(NotebookRun(nb_path.stem, exc.html_path, time.perf_counter() - t0, False,  # type: ignore[attr-defined]
                                    str(exc)[-2000:], notebook_title(nb, nb_path.stem),
                                    dict(nb.metadata.get("evaltools", {}))))
        except Exception as exc:  # noqa: BLE001 - reported per notebook in the index
            runs.append(NotebookRun(nb_path.stem, None, time.perf_counter() - t0, False, str(exc)[-2000:],
                                    nb_path.stem))
        else:
            runs.append(NotebookRun(nb_path.stem, target, time.perf_counter() - t0, True, "",
                                    notebook_title(nb, nb_path.stem), dict(nb.metadata.get("evaltools", {}))))
    return runs
