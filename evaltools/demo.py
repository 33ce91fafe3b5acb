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
import html
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools.data.panel import RegisterPanel
from evaltools.data.store import read_panel
from evaltools.data.weeks import week_label

__all__ = ["ensure_sample", "overview", "main"]

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
    """Weekly number of persons by benefit group (the stock), one column per group."""
    benefit = panel.codes.mapping("benefit")
    states = panel.states
    groups = states["state"].astype(str).map(benefit)
    table = (
        pd.DataFrame({"week": states["week"].to_numpy(), "benefit": groups.to_numpy()})
        .groupby(["week", "benefit"], observed=True)
        .size()
        .unstack("benefit", fill_value=0)
        .sort_index()
    )
    return table


def _plot_overview(stock: pd.DataFrame, target: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    top = stock.sum().sort_values(ascending=False).index[:8]
    weeks = stock.index.to_numpy()
    for col in top:
        ax.plot(weeks, stock[col].to_numpy(), label=col)
    ticks = weeks[:: max(1, len(weeks) // 8)]
    ax.set_xticks(ticks, week_label(ticks), rotation=30)
    ax.set_title("Persons on each benefit per week (synthetic sample)")
    ax.set_ylabel("persons")
    ax.legend(ncol=2, fontsize="small")
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


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
    png = _plot_overview(stock, out / "overview.png")
    print(f"\nOverview plot: {png}")

    from evaltools.reporting.notebooks import execute_all, write_index

    notebooks = sorted(Path(args.notebooks).glob("*.ipynb"))
    runs = execute_all(notebooks, out, parameters=None) if notebooks else []
    extra = (
        f"<p>{html.escape(repr(panel))}</p><img src='overview.png' width='800'>"
        f"<h2>Average weekly stock by benefit</h2>{mean_stock.round(1).to_frame('persons').to_html()}"
    )
    index = write_index(runs, out, extra_html=extra)
    failed = [r for r in runs if not r.ok]
    print(f"Report: {index} ({len(runs) - len(failed)} of {len(runs)} notebooks executed)")
    for r in failed:
        print(f"FAILED {r.name}: {r.error.splitlines()[-1] if r.error else ''}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    np.seterr(all="ignore")
    raise SystemExit(main())
