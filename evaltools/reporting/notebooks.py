"""Execute parameterised notebooks and render them to HTML.

Notebooks follow the papermill convention: the cell tagged ``parameters``
holds default values, and :func:`execute_notebook` inserts a cell tagged
``injected-parameters`` right after it with the caller's overrides.  Execution
uses ``nbclient`` (no network, local kernel) and rendering ``nbconvert``.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltools.exceptions import EvaltoolsError, SpecificationError

__all__ = ["NotebookRun", "execute_notebook", "execute_all", "write_index"]


@dataclass(frozen=True)
class NotebookRun:
    """Outcome of executing one notebook."""

    name: str
    html_path: Path | None
    seconds: float
    ok: bool
    error: str = ""


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


def _parameter_cell(nbformat: Any, parameters: Mapping[str, Any]) -> Any:
    lines = ["# Parameters injected by evaltools.reporting.notebooks"]
    for key, value in parameters.items():
        if not str(key).isidentifier():
            raise SpecificationError(f"Notebook parameter names must be identifiers; got {key!r}.")
        lines.append(f"{key} = {value!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    return cell


def execute_notebook(
    path: str | Path,
    *,
    out_html: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 1800,
    cwd: str | Path | None = None,
    kernel_name: str = "python3",
) -> Any:
    """Execute a notebook, optionally with injected parameters, and render it to HTML.

    Parameters
    ----------
    path : str or Path
        The ``.ipynb`` file.
    out_html : str or Path, optional
        Where to write the rendered HTML.
    parameters : mapping, optional
        Values that override the defaults in the ``parameters``-tagged cell.
    timeout : int, default=1800
        Seconds allowed per cell.
    cwd : str or Path, optional
        Working directory for the kernel (default: the notebook's folder).
    kernel_name : str, default="python3"
        Jupyter kernel.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.
    """
    nbformat, NotebookClient, HTMLExporter = _import_nb()
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
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
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    client.execute()
    if out_html is not None:
        body, _ = HTMLExporter().from_notebook_node(nb)
        Path(out_html).parent.mkdir(parents=True, exist_ok=True)
        Path(out_html).write_text(body, encoding="utf-8")
    return nb


def execute_all(
    notebooks: Sequence[str | Path],
    out_dir: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> list[NotebookRun]:
    """Execute several notebooks into ``out_dir`` with a progress bar; failures are recorded, not raised."""
    from tqdm.auto import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[NotebookRun] = []
    bar = tqdm(list(notebooks), desc="notebooks", unit="nb", disable=not progress)
    for nb_path in bar:
        nb_path = Path(nb_path)
        bar.set_postfix_str(nb_path.stem)
        target = out / f"{nb_path.stem}.html"
        t0 = time.perf_counter()
        try:
            execute_notebook(nb_path, out_html=target, parameters=parameters)
            runs.append(NotebookRun(nb_path.stem, target, time.perf_counter() - t0, True))
        except Exception as exc:  # noqa: BLE001 - reported per notebook in the index
            runs.append(NotebookRun(nb_path.stem, None, time.perf_counter() - t0, False, str(exc)[-2000:]))
    return runs


def write_index(runs: Sequence[NotebookRun], out_dir: str | Path, *, extra_html: str = "") -> Path:
    """Write ``index.html`` linking every rendered notebook with its status and run time."""
    rows = []
    for r in runs:
        name = html.escape(r.name)
        link = f"<a href='{html.escape(r.html_path.name)}'>{name}</a>" if r.html_path else name
        status = "ok" if r.ok else f"<b>failed</b><pre>{html.escape(r.error)}</pre>"
        rows.append(f"<tr><td>{link}</td><td>{status}</td><td>{r.seconds:.1f} s</td></tr>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>evaltools report</title></head><body>"
        "<h1>evaltools report</h1>"
        f"{extra_html}"
        "<h2>Notebooks</h2><table border='1' cellpadding='4'>"
        "<tr><th>notebook</th><th>status</th><th>time</th></tr>" + "".join(rows) + "</table></body></html>"
    )
    target = Path(out_dir) / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
