"""The shipped synthetic sample panel (``data_samples/sample_panel``) and its content checksums."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from evaltools.data.panel import RegisterPanel
from evaltools.data.store import write_panel
from evaltools.synth.calibration import calibration_report
from evaltools.synth.generate import generate

__all__ = [
    "SAMPLE_SEED",
    "SAMPLE_PERSONS",
    "SAMPLE_YEARS",
    "SAMPLE_START_YEAR",
    "build_sample",
    "content_checksums",
]

#: Recorded seed of the shipped sample.
SAMPLE_SEED = 20240301
SAMPLE_PERSONS = 20_000
SAMPLE_YEARS = 5
SAMPLE_START_YEAR = 2008


def _table_sha256(df: pd.DataFrame) -> str:
    """SHA-256 of a table's content: column names, dtypes as values, and row hashes."""
    h = hashlib.sha256()
    h.update(json.dumps(list(map(str, df.columns))).encode())
    # categorical columns are hashed by their labels, so category order does not matter
    plain = df.copy()
    for c in plain.columns:
        if isinstance(plain[c].dtype, pd.CategoricalDtype):
            plain[c] = plain[c].astype(str)
    h.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
    return h.hexdigest()


def content_checksums(panel: RegisterPanel) -> dict[str, str]:
    """SHA-256 of the *data content* of every table of a panel.

    Parquet files carry library versions in their metadata, so file bytes are
    not comparable across machines; these checksums are.

    Parameters
    ----------
    panel : RegisterPanel
        The panel.

    Returns
    -------
    dict
        ``{"states": ..., "persons": ..., "events/<name>": ...}``.
    """
    out = {"states": _table_sha256(panel.states), "persons": _table_sha256(panel.persons)}
    for name in sorted(panel.events):
        out[f"events/{name}"] = _table_sha256(panel.events[name])
    return out


def build_sample(out_dir: str | Path = "data_samples/sample_panel", *, overwrite: bool = False) -> Path:
    """Generate the shipped sample panel from its recorded seed.

    Writes the panel (:func:`~evaltools.data.store.write_panel` layout) plus
    ``truth.json`` (true effects), ``hidden/het_type.parquet`` (the unobserved
    types, for Monte Carlo checks only), ``hidden/potential.parquet`` (every
    treated person's simulated outcomes with and without the treatment, for
    :func:`~evaltools.synth.att_for_sample`), ``checksums.json`` (content checksums)
    and ``calibration.csv`` (the calibration report).

    Parameters
    ----------
    out_dir : str or Path, default="data_samples/sample_panel"
        Target directory.
    overwrite : bool, default=False
        Replace an existing sample.

    Returns
    -------
    Path
        The directory written.

    Raises
    ------
    FileExistsError
        If the directory already holds a panel and ``overwrite`` is False.
    """
    out = Path(out_dir)
    if (out / "states.parquet").is_file() and not overwrite:
        raise FileExistsError(
            f"build_sample: {out} already holds a panel. Pass overwrite=True to regenerate it."
        )
    res = generate(
        seed=SAMPLE_SEED, n_persons=SAMPLE_PERSONS, years=SAMPLE_YEARS, start_year=SAMPLE_START_YEAR
    )
    write_panel(res.panel, out)
    res.truth.to_json(out / "truth.json")
    (out / "hidden").mkdir(exist_ok=True)
    res.hidden.to_parquet(out / "hidden" / "het_type.parquet", index=False, compression="zstd")
    res.potential.to_parquet(out / "hidden" / "potential.parquet", index=False, compression="zstd")
    (out / "checksums.json").write_text(
        json.dumps(content_checksums(res.panel), indent=2, sort_keys=True) + "\n"
    )
    calibration_report(res.panel).to_csv(out / "calibration.csv", index=False)
    return out
