"""Save and load a :class:`RegisterPanel` as a directory of Parquet files.

Layout::

    DIR/states.parquet           person_id, week, state (codes as strings)
    DIR/persons.parquet          person table
    DIR/events/<name>.parquet    one file per event table
    DIR/codes.csv                the code table used
    DIR/meta.json                provenance (JSON-serialisable values only)

Only Parquet, CSV and JSON are read: no pickle, so loading a directory from
somebody else cannot execute code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from pyarrow import ArrowException

from evaltools.data.codes import CodeTable
from evaltools.data.panel import RegisterPanel
from evaltools.exceptions import DataValidationError, FileFormatError

__all__ = ["write_panel", "read_panel"]


def write_panel(panel: RegisterPanel, path: str | Path, *, compression: str = "zstd") -> Path:
    """Write ``panel`` to directory ``path`` (created if needed; existing files are replaced).

    Parameters
    ----------
    panel : RegisterPanel
        The panel to save.
    path : str or Path
        Target directory.
    compression : str, default="zstd"
        Parquet compression codec.

    Returns
    -------
    Path
        The directory written.
    """
    out = Path(path)
    (out / "events").mkdir(parents=True, exist_ok=True)
    states = panel.states.assign(state=panel.states["state"].astype(str))
    states.to_parquet(out / "states.parquet", index=False, compression=compression)
    panel.persons.to_parquet(out / "persons.parquet", index=False, compression=compression)
    for old in (out / "events").glob("*.parquet"):
        if old.stem not in panel.events:
            old.unlink()
    for name, tab in panel.events.items():
        tab.to_parquet(out / "events" / f"{name}.parquet", index=False, compression=compression)
    panel.codes.table.to_csv(out / "codes.csv", index=False)
    (out / "meta.json").write_text(json.dumps(dict(panel.meta), indent=2, sort_keys=True, default=str))
    return out


def read_panel(path: str | Path) -> RegisterPanel:
    """Read a panel written by :func:`write_panel`.

    The tables then go through the input contract of :class:`RegisterPanel`.

    Raises
    ------
    DataValidationError
        If ``states.parquet`` or ``persons.parquet`` is missing.
    FileFormatError
        If a file cannot be read (corrupt Parquet, invalid ``meta.json``).
    """
    src = Path(path)
    for f in ("states.parquet", "persons.parquet"):
        if not (src / f).is_file():
            raise DataValidationError(
                f"read_panel: {src / f} not found. Point to a directory written by write_panel "
                "(or build the sample with `make sample`)."
            )
    codes = CodeTable.from_csv(src / "codes.csv") if (src / "codes.csv").is_file() else None
    try:
        states = pd.read_parquet(src / "states.parquet")
        persons = pd.read_parquet(src / "persons.parquet")
        events = {p.stem: pd.read_parquet(p) for p in sorted((src / "events").glob("*.parquet"))}
        meta = json.loads((src / "meta.json").read_text()) if (src / "meta.json").is_file() else {}
    except (OSError, ValueError, ArrowException) as e:
        raise FileFormatError(f"read_panel: cannot read the panel in {str(src)!r} ({e}).") from None
    kwargs = {"codes": codes} if codes is not None else {}
    return RegisterPanel(states=states, persons=persons, events=events, meta=meta, **kwargs)
