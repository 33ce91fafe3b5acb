"""Save and load a :class:`RegisterPanel` as a directory of Parquet files.

Two layouts are read and written.  The *single* layout (the default of
:func:`write_panel`)::

    DIR/states.parquet           person_id, week, state (codes as strings)
    DIR/persons.parquet          person table
    DIR/events/<name>.parquet    one file per event table
    DIR/codes.csv                the code table used
    DIR/meta.json                provenance (JSON-serialisable values only)

The *partitioned store* (``write_panel(..., partition_persons=k)``, or
:class:`~evaltools.data.PanelStoreWriter` chunk by chunk) holds whole persons
per Parquet partition, states as runs of equal code, and a ``manifest.json``
(see :mod:`evaltools.data._store_parts`).  :func:`read_panel` reads both and
loads subsets of persons and weeks; :func:`read_panel_dask` opens a store
lazily.

Only Parquet, CSV and JSON are read: no pickle, so loading a directory from
somebody else cannot execute code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyarrow import ArrowException

from evaltools.data._store_parts import PanelStoreWriter, is_store, parse_persons, parse_weeks, read_store
from evaltools.data.codes import CodeTable
from evaltools.data.panel import RegisterPanel
from evaltools.exceptions import DataValidationError, FileFormatError

__all__ = ["write_panel", "read_panel", "read_panel_dask", "PanelStoreWriter", "subset_panel"]


def write_panel(
    panel: RegisterPanel,
    path: str | Path,
    *,
    partition_persons: int | None = None,
    compression: str = "zstd",
) -> Path:
    """Write ``panel`` to directory ``path`` (created if needed; an existing panel there is replaced).

    Parameters
    ----------
    panel : RegisterPanel
        The panel to save.
    path : str or Path
        Target directory.
    partition_persons : int, optional
        ``None`` writes the single layout (one file per table).  An int writes
        a partitioned store with at most that many persons per partition
        (written to a temporary sibling folder and renamed on success).
    compression : str, default="zstd"
        Parquet compression codec.

    Returns
    -------
    Path
        The directory written.
    """
    out = Path(path)
    if partition_persons is not None:
        with PanelStoreWriter(
            out,
            codes=panel.codes,
            meta=panel.meta,
            partition_persons=partition_persons,
            compression=compression,
            overwrite=True,
        ) as w:
            w.append(panel)
        return out
    if is_store(out):  # a partitioned store is replaced by the single layout as a whole
        shutil.rmtree(out)
    (out / "events").mkdir(parents=True, exist_ok=True)
    states = panel.states.assign(state=panel.states["state"].astype(str))
    # call-overload ignores below: pandas-stubs lists only pandas' documented codecs, but pandas hands
    # `compression` to pyarrow, which takes any of its codec names (as PanelStoreWriter does)
    states.to_parquet(out / "states.parquet", index=False, compression=compression)  # type: ignore[call-overload]
    panel.persons.to_parquet(out / "persons.parquet", index=False, compression=compression)  # type: ignore[call-overload]
    for old in (out / "events").glob("*.parquet"):
        if old.stem not in panel.events:
            old.unlink()
    for name, tab in panel.events.items():
        tab.to_parquet(out / "events" / f"{name}.parquet", index=False, compression=compression)  # type: ignore[call-overload]
    panel.codes.table.to_csv(out / "codes.csv", index=False)
    (out / "meta.json").write_text(json.dumps(dict(panel.meta), indent=2, sort_keys=True, default=str))
    return out


def read_panel(path: str | Path, persons: Any = None, weeks: Any = None) -> RegisterPanel:
    """Read a panel written by :func:`write_panel` or :class:`PanelStoreWriter`, or a subset of it.

    Parameters
    ----------
    path : str or Path
        A single-layout directory or a partitioned store.
    persons : array_like of int, Series or DataFrame with ``person_id``, optional
        Keep only these persons (ids not in the panel are ignored).  In a store
        only the partitions whose id range holds a requested id are opened.
    weeks : (first, last), optional
        Keep only weeks ``first..last`` (inclusive; week indices or ISO labels
        such as ``"2008-W01"``): state rows in the window, persons observed in
        it with ``obs_start``/``obs_end`` clipped to it, and events overlapping
        it with ``week``/``end_week`` clipped to it.  ``meta["first_week"]`` and
        ``meta["last_week"]`` become the window (spells running in its first week
        are left-censored) and ``meta["store_subset"]`` records it.  In a store
        the filter is pushed down to the Parquet scan.

    Returns
    -------
    RegisterPanel
        Equal to ``subset_panel(read_panel(path), persons, weeks)``.

    Raises
    ------
    DataValidationError
        If the directory holds neither layout, or a partition file or
        ``codes.csv`` of a store is missing.
    FileFormatError
        If a file cannot be read (corrupt Parquet, invalid ``meta.json`` or
        ``manifest.json``, row counts that differ from the manifest).
    """
    src = Path(path)
    if is_store(src) or (src / "manifest.json").exists():
        return read_store(src, persons=persons, weeks=weeks)
    if persons is not None or weeks is not None:
        return subset_panel(read_panel(src), persons=persons, weeks=weeks)
    for f in ("states.parquet", "persons.parquet"):
        if not (src / f).is_file():
            raise DataValidationError(
                f"read_panel: {src / f} not found (and no manifest.json of a partitioned store). Point to "
                "a directory written by write_panel or PanelStoreWriter (or build the sample with "
                "`make sample`)."
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


def subset_panel(panel: RegisterPanel, persons: Any = None, weeks: Any = None) -> RegisterPanel:
    """The in-memory subset that :func:`read_panel` loads with ``persons`` and ``weeks``.

    Parameters
    ----------
    panel : RegisterPanel
        The full panel.
    persons, weeks
        As in :func:`read_panel`.

    Returns
    -------
    RegisterPanel
        A new panel (the input is not modified).
    """
    ids = parse_persons(persons, "subset_panel")
    window = parse_weeks(weeks, "subset_panel")
    out = panel if ids is None else panel.subset(ids)
    if window is None:
        return out
    lo, hi = window
    p = out.persons
    keep = (p["obs_start"].to_numpy() <= hi) & (p["obs_end"].to_numpy() >= lo)
    p = p.loc[keep].reset_index(drop=True)
    p["obs_start"] = np.maximum(p["obs_start"].to_numpy(), lo).astype(np.int32)
    p["obs_end"] = np.minimum(p["obs_end"].to_numpy(), hi).astype(np.int32)
    kept = p["person_id"].to_numpy()
    s = out.states
    w = s["week"].to_numpy()
    s = s.loc[(w >= lo) & (w <= hi) & np.isin(s["person_id"].to_numpy(), kept)]
    events = {}
    for k, v in out.events.items():
        e = v.loc[(v["week"].to_numpy() <= hi) & (v["end_week"].to_numpy() >= lo)].reset_index(drop=True)
        e["week"] = np.maximum(e["week"].to_numpy(), lo).astype(np.int32)
        e["end_week"] = np.minimum(e["end_week"].to_numpy(), hi).astype(np.int32)
        events[k] = e
    meta = dict(out.meta)
    fw, lw = meta.get("first_week"), meta.get("last_week")
    meta["first_week"] = max(int(fw), lo) if isinstance(fw, int) else lo
    meta["last_week"] = min(int(lw), hi) if isinstance(lw, int) else hi
    meta["store_subset"] = {"weeks": [lo, hi]}
    return RegisterPanel(
        states=s.reset_index(drop=True), persons=p, events=events, codes=out.codes, meta=meta
    )


def read_panel_dask(path: str | Path) -> Any:
    """Open a partitioned store lazily as a :class:`~evaltools.data.dask.DaskPanel` (one task per partition).

    Nothing but the manifest and the Parquet schemas is read until a result
    is computed.  See :func:`evaltools.data._store_dask.read_panel_dask`.
    """
    from evaltools.data._store_dask import read_panel_dask as _open

    return _open(path)
