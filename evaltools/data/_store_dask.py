"""Open a partitioned panel store lazily as a :class:`~evaltools.data.dask.DaskPanel`.

Each store partition becomes one Dask partition of every table (states,
persons, events), indexed by person id with the divisions taken from the
manifest's id ranges, so the frames line up exactly as those of
:func:`~evaltools.data.dask.partition_panel` do.  Only the manifest and the
Parquet schemas are read when the panel is opened; every task reads its own
partition files (states are expanded from runs inside the task).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from evaltools.data._store_parts import _apply_dtypes, _read, decode_runs, load_manifest
from evaltools.data.codes import CodeTable
from evaltools.exceptions import FileFormatError

__all__ = ["read_panel_dask"]


def _dtypes(frame: pd.DataFrame) -> dict[str, object]:
    return {str(c): t for c, t in frame.dtypes.items()}


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_axis(pd.Index(frame["person_id"].to_numpy(), name=None), axis=0)


def _load_states(part: dict[str, Any], src: str, dtype: pd.CategoricalDtype) -> pd.DataFrame:
    f = Path(src) / "states" / part["file"]
    states = decode_runs(_read(f, part["n_runs"]).to_pandas(), dtype)
    if len(states) != part["n_state_rows"]:
        raise FileFormatError(
            f"read_panel_dask: {f} decodes to {len(states):,} person-weeks, the manifest records "
            f"{part['n_state_rows']:,}. Rewrite the store."
        )
    return _indexed(states)


def _load_table(part: dict[str, Any], src: str, table: str, spec: dict[str, Any], n_key: str) -> pd.DataFrame:
    f = Path(src) / table / part["file"]
    n = part["n_persons"] if n_key == "persons" else part["n_events"][n_key]
    return _indexed(_apply_dtypes(_read(f, n).to_pandas(), spec, str(f)))


def _empty(src: Path, table: str, part: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    f = src / table / part["file"]
    if not f.is_file():
        _read(f, None)  # raises the named error
    schema = pq.read_schema(f)
    return _indexed(_apply_dtypes(schema.empty_table().to_pandas(), spec, str(f)))


def read_panel_dask(path: str | Path) -> Any:
    """Open the store at ``path`` lazily.

    Parameters
    ----------
    path : str or Path
        A store written by :class:`~evaltools.data.PanelStoreWriter` (or
        ``write_panel(..., partition_persons=k)``).

    Returns
    -------
    DaskPanel
        States (long: ``person_id``, ``week``, ``state``), persons and events as
        Dask DataFrames indexed by person id with the manifest's divisions; the
        per-partition transforms of :mod:`evaltools.data.dask` run on it and
        give the in-memory results.

    Raises
    ------
    DataValidationError, FileFormatError
        As :func:`~evaltools.data.read_panel` for a missing or corrupt manifest
        (at open) or partition file (when computed).
    """
    from evaltools.data.dask import DaskPanel, _dd

    dd = _dd()
    src = Path(path)
    man = load_manifest(src)
    codes = CodeTable.from_csv(src / man["codes"])
    parts = list(man["partitions"])
    divisions = (*(int(p["person_id_min"]) for p in parts), int(parts[-1]["person_id_max"]))
    dtype = codes.dtype()
    meta_states = _indexed(
        pd.DataFrame(
            {
                "person_id": np.zeros(0, np.int64),
                "week": np.zeros(0, np.int32),
                "state": pd.Categorical([], dtype=dtype),
            }
        )
    )
    states = dd.from_map(
        _load_states,
        parts,
        args=(str(src), dtype),
        divisions=divisions,
        meta=meta_states,
        enforce_metadata=False,
    )
    spec_p = man["dtypes"]["persons"]
    meta_p = _empty(src, "persons", parts[0], spec_p)
    persons = dd.from_map(
        _load_table,
        parts,
        args=(str(src), "persons", spec_p, "persons"),
        divisions=divisions,
        meta=meta_p,
        enforce_metadata=False,
    )
    events = {}
    ev_meta = {}
    for k in man["events"]:
        spec = man["dtypes"][f"events/{k}"]
        ev_meta[k] = _empty(src, f"events/{k}", parts[0], spec)
        events[k] = dd.from_map(
            _load_table,
            parts,
            args=(str(src), f"events/{k}", spec, k),
            divisions=divisions,
            meta=ev_meta[k],
            enforce_metadata=False,
        )
    return DaskPanel(
        states=states,
        persons=persons,
        events=events,
        codes=codes,
        divisions=divisions,
        meta=dict(man["meta"]),
        dtypes={
            "states": _dtypes(meta_states),
            "persons": _dtypes(meta_p),
            **{f"events/{k}": _dtypes(v) for k, v in ev_meta.items()},
        },
    )
