"""The index page of a report folder: what each notebook is, whether it ran, and on which data."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_index"]

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1150px;
  margin: 0 auto; padding: 1.5em 2em 4em 2em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.lead { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 14px; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 0.4em 0.8em; vertical-align: top; text-align: left; }
th { background: #f4f4f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ok { color: #1b7d3a; font-weight: 600; }
.failed { color: #b00020; font-weight: 600; }
pre { white-space: pre-wrap; font-size: 12px; background: #fff3f3; padding: 0.4em; margin: 0.3em 0 0 0; }
.note { color: #555; font-size: 13px; }
figure { margin: 0.6em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; font-size: 14px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
"""


def _facts(items: Mapping[str, object]) -> str:
    rows = "".join(
        f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>"
        for k, v in items.items()
        if v is not None
    )
    return f"<dl class='facts'>{rows}</dl>"


def _value(name: str, v: object) -> str:
    """A parameter value as the index shows it (``None`` of a municipality or period is "all")."""
    if v is None:
        return "all" if name in ("municipality", "period") else "default"
    if isinstance(v, (list, tuple)):
        return ", ".join(
            f"{x[0]}-{x[1]}" if isinstance(x, (list, tuple)) and len(x) == 2 else str(x) for x in v
        )
    return str(v)


def _fmt_seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def write_index(
    runs: Sequence[Any],
    out_dir: str | Path,
    *,
    title: str = "evaltools report",
    lead: str = "",
    parameters: Mapping[str, object] | None = None,
    provenance: Mapping[str, object] | None = None,
    extra_html: str = "",
) -> Path:
    """Write ``index.html``: the notebook table, the run's parameters, data provenance and timing.

    Parameters
    ----------
    runs : sequence of NotebookRun
        From :func:`~evaltools.reporting.notebooks.execute_all`.  Each run's
        notebook metadata may carry ``seed_report`` and ``adds`` (shown in the
        table) and the checked ``parameters``.
    out_dir : str or Path
        The report folder (the notebooks' HTML files are linked relative to it).
    title : str, default="evaltools report"
        Page title.
    lead : str, default=""
        One paragraph under the title (plain text).
    parameters : mapping, optional
        Parameters injected into every notebook (shown as "defaults of each
        notebook" when empty).
    provenance : mapping, optional
        Facts about the data (source, generator, seed, window, checksums).
    extra_html : str, default=""
        Further HTML (e.g. an overview figure) placed after the data section.

    Returns
    -------
    Path
        The index file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    total = 0.0
    for r in runs:
        total += r.seconds
        meta = getattr(r, "meta", {}) or {}
        name = html.escape(getattr(r, "title", "") or r.name)
        link = f"<a href='{html.escape(r.html_path.name)}'>{name}</a>" if r.html_path else name
        status = "<span class='ok'>ran</span>" if r.ok else (
            "<span class='failed'>stopped</span>"
            + (" (partial report)" if r.html_path else "")
            + f"<pre>{html.escape(r.error)}</pre>"
        )
        checked = meta.get("parameters")
        ran_with = checked.get("values") if isinstance(checked, dict) else None
        shown = "; ".join(f"{k} = {_value(k, v)}" for k, v in (ran_with or {}).items())
        rows.append(
            "<tr>"
            f"<td>{link}<br><span class='note'>{html.escape(r.name)}.ipynb</span></td>"
            f"<td>{html.escape(str(meta.get('seed_report', '')))}</td>"
            f"<td>{html.escape(str(meta.get('adds', '')))}</td>"
            f"<td class='note'>{html.escape(shown)}</td>"
            f"<td>{status}</td><td class='num'>{_fmt_seconds(r.seconds)}</td>"
            "</tr>"
        )
    n_ok = sum(1 for r in runs if r.ok)
    params = dict(parameters or {})
    param_html = (
        _facts(params)
        if params
        else "<p class='note'>Every notebook ran with the defaults of its <code>parameters</code> cell "
        "(listed per notebook in the table). Rerun one with other values through "
        "<code>evaltools.reporting.notebooks.execute_notebook(path, parameters={...})</code>.</p>"
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        + (f"<p class='lead'>{html.escape(lead)}</p>" if lead else "")
        + "<h2>Notebooks</h2>"
        f"<p class='note'>{n_ok} of {len(runs)} notebooks ran, in {_fmt_seconds(total)} in all. "
        "Each report opens with its code hidden; the <i>Show code</i> button reveals it.</p>"
        "<table><thead><tr><th>notebook</th><th>source report</th><th>what it adds</th>"
        "<th>parameters</th><th>status</th><th>time</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        "<h2>Parameters of the run</h2>" + param_html
        + ("<h2>Data</h2>" + _facts(provenance) if provenance else "")
        + extra_html
        + "</body></html>"
    )
    target = out / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
