"""The main job behind ``make demo``.

1. Build the shipped synthetic sample panel if it is missing
   (``data_samples/sample_panel``, reproducible from its recorded seed).
2. Print and plot a short overview of the panel.
3. Execute every notebook in ``notebooks/`` on the sample and render them to
   HTML in the output folder, with an ``index.html`` page.

Run ``python -m evaltools.demo --help`` for options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools.data.panel import RegisterPanel
from evaltools.data.store import read_panel
from evaltools.data.weeks import week_label

__all__ = ["ensure_sample", "overview", "provenance", "main"]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = ROOT / "data_samples" / "sample_panel"


def ensure_sample(path: Path = DEFAULT_SAMPLE) -> Path:
    """Return ``path``, generating the synthetic sample there first if it is missing."""
    if not (path / "states.parquet").is_file():
        from evaltools.synth import build_sample

        print(f"Sample panel not found in {path}; generating it (seeded, reproducible) ...")
        build_sample(path)
    return path


def overview(panel: RegisterPanel) -> pd.DataFrame:
    """Weekly number of persons by benefit group (the stock), one column per group.

    Codes flagged as censoring in the code table (emigration, death, no longer in the population) are not a
    benefit and are left out.
    """
    table = panel.codes.table
    benefit = dict(zip(table["code"], table["benefit"]))
    censoring = set(table.loc[table["censoring"], "code"])
    states = panel.states
    code = states["state"].astype(str)
    keep = ~code.isin(censoring).to_numpy()
    return (
        pd.DataFrame({"week": states["week"].to_numpy()[keep], "benefit": code[keep].map(benefit).to_numpy()})
        .groupby(["week", "benefit"], observed=True)
        .size()
        .unstack("benefit", fill_value=0)
        .sort_index()
    )


def _plot_overview(stock: pd.DataFrame, target: Path, *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evaltools.reporting.plotting import legend_outside, use_style

    use_style()
    fig, ax = plt.subplots(figsize=(10, 4.6))
    order = stock.sum().sort_values(ascending=False).index
    weeks = stock.index.to_numpy()
    for col in order:
        ax.plot(weeks, stock[col].to_numpy(), label=col)
    ticks = weeks[:: max(1, len(weeks) // 8)]
    ax.set_xticks(ticks, week_label(ticks), rotation=30, ha="right")
    ax.set_title(title)
    ax.set_xlabel("ISO week")
    ax.set_ylabel("persons on the benefit in the week")
    ax.set_ylim(bottom=0)
    legend_outside(ax, title="benefit group")
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def provenance(panel: RegisterPanel, source: Path) -> dict[str, object]:
    """Facts about the data for the index page (source, generator, seed, window, sizes, checksums)."""
    lo, hi = panel.week_range
    meta = dict(panel.meta)
    try:
        shown = source.resolve().relative_to(ROOT)
    except ValueError:  # a panel outside the repository: its own path
        shown = source
    facts: dict[str, object] = {
        "source": str(shown),
        "data": ("synthetic (evaltools.synth): no real person" if meta.get("synthetic")
                 else "register extract"),
        "generator": (
            f"{meta.get('generator')} version {meta.get('generator_version')}, seed {meta.get('seed')}"
            if meta.get("generator") else None
        ),
        "persons": f"{panel.n_persons:,}",
        "window": f"{week_label(lo)} .. {week_label(hi)} ({hi - lo + 1:,} weeks)",
        "coded person-weeks": f"{len(panel.states):,} of {panel.n_person_weeks:,} observed",
        "event tables": ", ".join(f"{k} ({len(v):,})" for k, v in panel.events.items()) or "none",
    }
    checks = source / "checksums.json"
    if checks.is_file():
        import json

        sums = json.loads(checks.read_text())
        if "states" in sums:
            facts["content checksum (states, SHA-256)"] = sums["states"]
    return facts


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m evaltools.demo``."""
    parser = argparse.ArgumentParser(prog="python -m evaltools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build/report", help="output folder for the HTML report")
    parser.add_argument("--data", default=str(DEFAULT_SAMPLE), help="panel directory (write_panel layout)")
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks"), help="folder of notebooks to execute")
    parser.add_argument("--sample-only", action="store_true", help="only build the sample if missing")
    args = parser.parse_args(argv)

    data = Path(args.data)
    if data == DEFAULT_SAMPLE or args.sample_only:
        ensure_sample(data)
    if args.sample_only:
        print(f"Sample panel ready in {data}")
        return 0
    panel = read_panel(data)
    print(panel)
    stock = overview(panel)
    lo, hi = panel.week_range
    mean_stock = stock.mean().sort_values(ascending=False)
    print(f"\nAverage weekly number of persons by benefit group, {week_label(lo)} to {week_label(hi)}:")
    print(mean_stock.round(1).to_string())
    out = Path(args.out)
    synthetic = " (synthetic sample)" if panel.meta.get("synthetic") else ""
    png = _plot_overview(stock, out / "overview.png", title=f"Persons on each benefit per week{synthetic}")
    print(f"\nOverview plot: {png}")

    from evaltools.reporting.notebooks import execute_all, write_index
    from evaltools.reporting.tables import show_table

    notebooks = sorted(Path(args.notebooks).glob("*.ipynb"))
    t0 = time.perf_counter()
    runs = execute_all(notebooks, out, parameters=None) if notebooks else []
    total = time.perf_counter() - t0
    stock_table = show_table(
        mean_stock.rename("persons").rename_axis("benefit group").reset_index(),
        title=f"Average weekly number of persons by benefit group, {week_label(lo)} to {week_label(hi)}",
    )
    extra = (
        "<h2>The data at a glance</h2>"
        "<figure><img src='overview.png' alt='Weekly number of persons by benefit group' width='900'>"
        "<figcaption>Persons on each benefit group per week (codes that end observation are not a "
        "benefit and are left out).</figcaption></figure>"
        f"{stock_table._repr_html_()}"
    )
    index = write_index(
        runs,
        out,
        title="evaltools report",
        lead=(
            "Curated notebooks that reproduce published Danish evaluation reports on a synthetic register "
            "panel with known effects, and then estimate what the reports could not. Each notebook opens as "
            f"a report; run {time.strftime('%Y-%m-%d %H:%M')}, {total / 60:.1f} minutes in all."
        ),
        provenance=provenance(panel, data),
        extra_html=extra,
    )
    failed = [r for r in runs if not r.ok]
    print(f"Report: {index} ({len(runs) - len(failed)} of {len(runs)} notebooks executed)")
    for r in failed:
        print(f"FAILED {r.name}: {r.error.splitlines()[-1] if r.error else ''}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    np.seterr(all="ignore")
    raise SystemExit(main())
