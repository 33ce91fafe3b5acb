"""The partitioned panel store: Parquet partitions of whole persons described by a manifest.

Layout::

    DIR/manifest.json                     format, partitions, week window, dtypes, meta
    DIR/codes.csv                         the code table
    DIR/states/part-00000.parquet         person_id, first_week, last_week, state
    DIR/persons/part-00000.parquet        the person table of the partition
    DIR/events/<name>/part-00000.parquet  one file per event table and partition

States are stored as *runs*: one row per maximal stretch of consecutive weeks
with the same code of one person (``first_week`` .. ``last_week``,
inclusive).  DREAM codes come in long spells, so runs are far fewer than
person-weeks; :func:`decode_runs` rebuilds the sparse long ``states`` table
exactly.  Partition ``k`` holds whole persons with ids in
``[person_id_min, person_id_max]`` of its manifest entry; the ranges of the
partitions are disjoint and increasing.

A store is written by :class:`PanelStoreWriter` into a hidden sibling folder
that is renamed to ``DIR`` only when :meth:`PanelStoreWriter.close` succeeds;
the manifest is the last file written.  An interrupted write therefore leaves
no directory that :func:`read_store` accepts.  Only Parquet, CSV and JSON are
written and read (no pickle).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import ArrowException

from evaltools.data.codes import CodeTable
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import isoweek_to_index
from evaltools.exceptions import DataValidationError, FileFormatError, SpecificationError

__all__ = [
    "PanelStoreWriter",
    "read_store",
    "load_manifest",
    "is_store",
    "encode_runs",
    "decode_runs",
    "parse_weeks",
    "STORE_FORMAT",
    "STORE_VERSION",
]

STORE_FORMAT = "evaltools-panel-store"
STORE_VERSION = 1
MANIFEST = "manifest.json"
_REQUIRED = ("format", "format_version", "codes", "partitions", "events", "dtypes", "week_window", "meta")
_PART_KEYS = ("file", "person_id_min", "person_id_max", "n_persons", "n_runs", "n_state_rows", "n_events")
_FIX = "Rewrite the store (PanelStoreWriter or write_panel(..., partition_persons=...))."


# -- run-length encoding of states -------------------------------------------------------------
def encode_runs(states: pd.DataFrame) -> pd.DataFrame:
    """Runs of equal code in consecutive weeks of the sparse long ``states`` of a panel.

    Parameters
    ----------
    states : DataFrame
        ``person_id``, ``week``, ``state`` sorted by ``(person_id, week)``
        without duplicate person-weeks (as in :attr:`RegisterPanel.states`).

    Returns
    -------
    DataFrame
        ``person_id`` (int64), ``first_week``, ``last_week`` (int32, inclusive)
        and ``state`` (the categorical code of the run).
    """
    pid = states["person_id"].to_numpy(np.int64)
    week = states["week"].to_numpy(np.int64)
    code = states["state"].cat.codes.to_numpy()
    n = len(pid)
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = (pid[1:] != pid[:-1]) | (week[1:] != week[:-1] + 1) | (code[1:] != code[:-1])
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], n] - 1 if n else starts  # no coded week: no runs
    return pd.DataFrame(
        {
            "person_id": pid[starts],
            "first_week": week[starts].astype(np.int32),
            "last_week": week[ends].astype(np.int32),
            "state": pd.Categorical.from_codes(code[starts], dtype=states["state"].dtype),  # type: ignore[call-overload]
        }
    )


def decode_runs(runs: pd.DataFrame, dtype: pd.CategoricalDtype) -> pd.DataFrame:
    """Sparse long states (one row per coded person-week) from runs made by :func:`encode_runs`.

    Parameters
    ----------
    runs : DataFrame
        ``person_id``, ``first_week``, ``last_week``, ``state`` (categorical or strings).
    dtype : CategoricalDtype
        The code table's dtype of the ``state`` column.

    Returns
    -------
    DataFrame
        ``person_id`` (int64), ``week`` (int32), ``state`` (``dtype``).
    """
    first = runs["first_week"].to_numpy(np.int64)
    length = runs["last_week"].to_numpy(np.int64) - first + 1
    if len(length) and length.min() < 1:
        raise FileFormatError(
            f"store: {int((length < 1).sum()):,} state run(s) have last_week before first_week. {_FIX}"
        )
    state = runs["state"]
    if not isinstance(state.dtype, pd.CategoricalDtype):
        state = state.astype("category")
    if state.cat.categories.dtype != object:
        state = state.cat.rename_categories([str(c) for c in state.cat.categories])
    codes = state.cat.set_categories(list(dtype.categories)).cat.codes.to_numpy()
    if (codes < 0).any():
        raise DataValidationError(
            f"store: {int((codes < 0).sum()):,} state run(s) carry codes not in the store's codes.csv "
            f"(e.g. {sorted(set(runs['state'][codes < 0].astype(str)))[:5]}). {_FIX}"
        )
    total = int(length.sum())
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(length) - length, length)
    return pd.DataFrame(
        {
            "person_id": np.repeat(runs["person_id"].to_numpy(np.int64), length),
            "week": (np.repeat(first, length) + offset).astype(np.int32),
            "state": pd.Categorical.from_codes(np.repeat(codes, length), dtype=dtype),
        }
    )


# -- dtypes recorded in the manifest -------------------------------------------------------------
def _json_value(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _dtype_spec(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for c in frame.columns:
        t = frame[c].dtype
        if isinstance(t, pd.CategoricalDtype):
            out[str(c)] = {
                "kind": "category",
                "categories": [_json_value(v) for v in t.categories.tolist()],
                "ordered": bool(t.ordered),
            }
        else:
            out[str(c)] = {"kind": "plain", "dtype": str(t)}
    return out


def _merge_spec(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], table: str) -> None:
    """Check that a chunk's table has the columns of the first chunk; widen category lists."""
    if list(old) != list(new):
        raise DataValidationError(
            f"PanelStoreWriter.append: table {table!r} has columns {list(new)} but earlier chunks had "
            f"{list(old)}. Give every chunk the same columns (in the same order)."
        )
    for c, spec in new.items():
        o = old[c]
        if o["kind"] == "category" and spec["kind"] == "category":
            seen = set(o["categories"])
            o["categories"] = o["categories"] + [v for v in spec["categories"] if v not in seen]
        elif o != spec:
            raise DataValidationError(
                f"PanelStoreWriter.append: column {c!r} of table {table!r} has dtype "
                f"{spec.get('dtype', 'category')} but earlier chunks had {o.get('dtype', 'category')}. "
                "Give every chunk the same dtypes."
            )


def _pandas_dtype(spec: Mapping[str, Any]) -> Any:
    if spec["kind"] == "category":
        return pd.CategoricalDtype(list(spec["categories"]), ordered=bool(spec["ordered"]))
    return pd.api.types.pandas_dtype(spec["dtype"])


def _apply_dtypes(frame: pd.DataFrame, spec: Mapping[str, Mapping[str, Any]], where: str) -> pd.DataFrame:
    if list(frame.columns) != list(spec):
        raise FileFormatError(
            f"read_panel: {where} has columns {list(frame.columns)}, the manifest lists {list(spec)}. {_FIX}"
        )
    change = {}
    for c, s in spec.items():
        t = _pandas_dtype(s)
        if frame[c].dtype != t:
            change[c] = t
    try:
        return frame.astype(change) if change else frame
    except (TypeError, ValueError) as e:
        raise FileFormatError(
            f"read_panel: {where} does not match the manifest dtypes ({e}). {_FIX}"
        ) from None


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


# -- the writer ------------------------------------------------------------------------------------
class PanelStoreWriter:
    """Write a partitioned panel store chunk by chunk.

    Parameters
    ----------
    path : str or Path
        Target directory.  It appears only when :meth:`close` succeeds.
    codes : CodeTable, optional
        Code table of every chunk; default: that of the first chunk.
    meta : mapping, optional
        Provenance stored in the manifest (JSON-serialisable values; others are
        stored as strings); default: the first chunk's meta.
    partition_persons : int, optional
        Split each appended chunk into partitions of at most this many persons;
        default: one partition per chunk.
    compression : str, default="zstd"
        Parquet codec.
    overwrite : bool, default=False
        Replace an existing panel directory at ``path`` (a store or a
        :func:`~evaltools.data.write_panel` directory; other directories are
        never replaced).

    Examples
    --------
    >>> with PanelStoreWriter(out, codes=panel.codes) as w:  # doctest: +SKIP
    ...     for chunk in chunks:
    ...         w.append(chunk)

    Notes
    -----
    Chunks must hold whole persons in increasing order of person id: the ids of
    a chunk (person table, states and events) must all exceed those of the
    previous chunk.  Every chunk has the same event tables and columns.  On an
    exception inside the ``with`` block the partial output is deleted.  Extra
    files (e.g. hidden simulation truth) may be written under
    :attr:`staging` before :meth:`close`; they are moved with the store.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        codes: CodeTable | None = None,
        meta: Mapping[str, object] | None = None,
        partition_persons: int | None = None,
        compression: str = "zstd",
        overwrite: bool = False,
    ) -> None:
        if codes is not None and not isinstance(codes, CodeTable):
            raise SpecificationError(
                f"The 'codes' parameter of PanelStoreWriter must be a CodeTable. Got {type(codes).__name__}."
            )
        if partition_persons is not None and (
            isinstance(partition_persons, bool)
            or not isinstance(partition_persons, int | np.integer)
            or partition_persons < 1
        ):
            raise SpecificationError(
                "The 'partition_persons' parameter must be None or an int >= 1. "
                f"Got {partition_persons!r} instead."
            )
        self.path = Path(path)
        _check_target(self.path, overwrite)
        self.codes = codes
        self.meta = dict(meta) if meta is not None else None
        self.partition_persons = None if partition_persons is None else int(partition_persons)
        self.compression = compression
        self.overwrite = overwrite
        self.staging = self.path.parent / f".{self.path.name}.writing-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir(parents=True)
        self._parts: list[dict[str, Any]] = []
        self._dtypes: dict[str, dict[str, dict[str, Any]]] = {}
        self._events: tuple[str, ...] | None = None
        self._last_id: int | None = None
        self._window: list[int] | None = None
        self._closed = False

    def __enter__(self) -> PanelStoreWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def abort(self) -> None:
        """Delete everything written so far (the target directory is left untouched)."""
        self._closed = True
        shutil.rmtree(self.staging, ignore_errors=True)

    def append(self, panel: RegisterPanel) -> None:
        """Write the persons of ``panel`` as one or more new partitions.

        Raises
        ------
        DataValidationError
            If the chunk's person ids do not all exceed those already written,
            its code table differs, or its tables differ in columns/dtypes or
            event names from earlier chunks.
        """
        if self._closed:
            raise SpecificationError("PanelStoreWriter.append: the writer is closed; open a new one.")
        if not isinstance(panel, RegisterPanel):
            raise SpecificationError(
                f"PanelStoreWriter.append expects a RegisterPanel. Got {type(panel).__name__} instead."
            )
        self._check_chunk(panel)
        if panel.n_persons == 0 and len(panel.states) == 0:
            return
        pid = panel.persons["person_id"].to_numpy()
        k = self.partition_persons or max(len(pid), 1)
        bounds = pid[k::k]  # first person id of each later piece
        for i in range(len(bounds) + 1):
            lo = int(bounds[i - 1]) if i else None
            hi = int(bounds[i]) if i < len(bounds) else None
            self._write_piece(panel, lo, hi)

    def _check_chunk(self, panel: RegisterPanel) -> None:
        if self.codes is None:
            self.codes = panel.codes
        elif list(panel.codes.codes) != list(self.codes.codes) or not panel.codes.table.equals(
            self.codes.table
        ):
            raise DataValidationError(
                "PanelStoreWriter.append: the chunk's code table differs from the store's "
                f"({len(panel.codes)} vs {len(self.codes)} codes). Build every chunk with the same CodeTable."
            )
        if self.meta is None:
            self.meta = dict(panel.meta)
        names = tuple(panel.events)
        if self._events is None:
            self._events = names
        elif names != self._events:
            raise DataValidationError(
                f"PanelStoreWriter.append: the chunk has event tables {list(names)} but earlier chunks had "
                f"{list(self._events)}. Give every chunk the same event tables (empty ones are fine)."
            )
        ids = [panel.persons["person_id"].to_numpy(), panel.states["person_id"].to_numpy()]
        ids += [v["person_id"].to_numpy() for v in panel.events.values()]
        lo = min((int(a.min()) for a in ids if len(a)), default=None)
        hi = max((int(a.max()) for a in ids if len(a)), default=None)
        if lo is None or hi is None:
            return
        if self._last_id is not None and lo <= self._last_id:
            seen = np.concatenate(ids)
            ex = np.unique(seen[seen <= self._last_id])[:3].tolist()
            raise DataValidationError(
                f"PanelStoreWriter.append: person_id {lo} (e.g. {ex}) is not above the largest id already "
                f"written ({self._last_id}); a person split over chunks or chunks out of order. Append "
                "whole persons in increasing person_id order."
            )
        sid = ids[1]
        known = np.isin(np.unique(sid), ids[0])
        if not known.all():
            ex = np.unique(sid)[~known][:3].tolist()
            raise DataValidationError(
                f"PanelStoreWriter.append: {int((~known).sum()):,} person(s) have states but no row in the "
                f"person table (e.g. person_id={ex}). Add them to the chunk's person table."
            )
        self._last_id = hi
        for name, frame in (
            ("persons", panel.persons),
            *((f"events/{k}", v) for k, v in panel.events.items()),
        ):
            spec = _dtype_spec(frame)
            if name in self._dtypes:
                _merge_spec(self._dtypes[name], spec, name)
            else:
                self._dtypes[name] = spec
        w = panel.persons
        if len(w):
            lo_w, hi_w = int(w["obs_start"].min()), int(w["obs_end"].max())
            self._window = (
                [lo_w, hi_w]
                if self._window is None
                else [
                    min(self._window[0], lo_w),
                    max(self._window[1], hi_w),
                ]
            )

    def _write_piece(self, panel: RegisterPanel, lo: int | None, hi: int | None) -> None:
        def cut(frame: pd.DataFrame) -> pd.DataFrame:
            p = frame["person_id"].to_numpy()
            a = 0 if lo is None else int(np.searchsorted(p, lo, side="left"))
            b = len(p) if hi is None else int(np.searchsorted(p, hi, side="left"))
            return frame.iloc[a:b]

        persons = cut(panel.persons)
        states = cut(panel.states)
        runs = encode_runs(states)
        events = {k: cut(v) for k, v in panel.events.items()}
        name = f"part-{len(self._parts):05d}.parquet"
        runs_t = _to_arrow(runs)
        i = runs_t.schema.get_field_index("state")
        runs_t = runs_t.set_column(
            i, "state", runs_t.column("state").cast(pa.dictionary(pa.int16(), pa.string()))
        )
        self._write(runs_t, Path("states") / name)
        self._write(_to_arrow(persons), Path("persons") / name)
        for k, v in events.items():
            self._write(_to_arrow(v), Path("events") / k / name)
        ids = np.concatenate([persons["person_id"].to_numpy(), states["person_id"].to_numpy()])
        entry: dict[str, Any] = {
            "file": name,
            "person_id_min": int(ids.min()),
            "person_id_max": int(ids.max()),
            "n_persons": len(persons),
            "n_runs": len(runs),
            "n_state_rows": len(states),
            "n_events": {k: len(v) for k, v in events.items()},
            "week_min": int(persons["obs_start"].min()) if len(persons) else None,
            "week_max": int(persons["obs_end"].max()) if len(persons) else None,
        }
        self._parts.append(entry)

    def _write(self, table: pa.Table, rel: Path) -> None:
        dest = self.staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, dest, compression=self.compression, row_group_size=1 << 20)

    def close(self, *, meta: Mapping[str, object] | None = None) -> Path:
        """Write the code table and the manifest, then move the store into place.

        Parameters
        ----------
        meta : mapping, optional
            Replace the stored provenance (e.g. notes collected over all chunks).

        Returns
        -------
        Path
            The store directory.
        """
        if self._closed:
            raise SpecificationError("PanelStoreWriter.close: the writer is already closed.")
        try:
            if not self._parts or self.codes is None:
                raise SpecificationError(
                    f"PanelStoreWriter.close: no person was appended, so there is no store to write at "
                    f"{self.path}. Append at least one non-empty chunk."
                )
            if meta is not None:
                self.meta = dict(meta)
            self.codes.table.to_csv(self.staging / "codes.csv", index=False)
            manifest = {
                "format": STORE_FORMAT,
                "format_version": STORE_VERSION,
                "states_encoding": "runs",
                "codes": "codes.csv",
                "n_persons": sum(p["n_persons"] for p in self._parts),
                "n_state_rows": sum(p["n_state_rows"] for p in self._parts),
                "n_runs": sum(p["n_runs"] for p in self._parts),
                "person_id_range": [self._parts[0]["person_id_min"], self._parts[-1]["person_id_max"]],
                "week_window": self._window,
                "events": list(self._events or ()),
                "dtypes": self._dtypes,
                "partitions": self._parts,
                "meta": self.meta or {},
            }
            text = json.dumps(manifest, indent=1, sort_keys=False, default=str)
            (self.staging / MANIFEST).write_text(text)
            _replace(self.staging, self.path, self.overwrite)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path


def _is_panel_dir(path: Path) -> bool:
    return (path / MANIFEST).is_file() or (path / "states.parquet").is_file()


def _check_target(path: Path, overwrite: bool) -> None:
    if not path.exists():
        return
    if not path.is_dir():
        raise SpecificationError(
            f"PanelStoreWriter: {path} exists and is not a directory. Choose another path."
        )
    if any(path.iterdir()) and not (overwrite and _is_panel_dir(path)):
        hint = (
            "Pass overwrite=True to replace it."
            if _is_panel_dir(path)
            else "Choose a new or empty directory."
        )
        raise SpecificationError(f"PanelStoreWriter: {path} exists and is not empty. {hint}")


def _replace(staging: Path, path: Path, overwrite: bool) -> None:
    if path.exists():
        _check_target(path, overwrite)
        old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
        path.rename(old)
        staging.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(path)


# -- the reader ------------------------------------------------------------------------------------
def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a partitioned store (has a ``manifest.json``)."""
    return (Path(path) / MANIFEST).is_file()


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check the manifest of the store at ``path``.

    Raises
    ------
    DataValidationError
        If there is no ``manifest.json`` or ``codes.csv``.
    FileFormatError
        If the manifest is not valid JSON, is of another format or version, or
        lacks entries.
    """
    src = Path(path)
    f = src / MANIFEST
    if not f.is_file():
        raise DataValidationError(
            f"read_panel: {f} not found, so {src} is not a complete panel store (an interrupted write "
            f"leaves none). {_FIX}"
        )
    try:
        man = json.loads(f.read_text())
    except (OSError, ValueError) as e:
        raise FileFormatError(f"read_panel: {f} is not valid JSON ({e}). {_FIX}") from None
    if not isinstance(man, dict) or man.get("format") != STORE_FORMAT:
        raise FileFormatError(f"read_panel: {f} is not an {STORE_FORMAT} manifest. {_FIX}")
    missing = [k for k in _REQUIRED if k not in man]
    if missing:
        raise FileFormatError(f"read_panel: {f} lacks the entries {missing}. {_FIX}")
    if man["format_version"] != STORE_VERSION:
        raise FileFormatError(
            f"read_panel: {f} has format_version {man['format_version']!r}; this evaltools reads version "
            f"{STORE_VERSION}. Upgrade evaltools or rewrite the store."
        )
    parts = man["partitions"]
    bad = [i for i, p in enumerate(parts) if not isinstance(p, dict) or any(k not in p for k in _PART_KEYS)]
    if not isinstance(parts, list) or not parts or bad:
        raise FileFormatError(
            f"read_panel: {f} has no or incomplete partition entries (e.g. {bad[:3]}). {_FIX}"
        )
    lo = np.array([p["person_id_min"] for p in parts], dtype=np.int64)
    hi = np.array([p["person_id_max"] for p in parts], dtype=np.int64)
    if (hi < lo).any() or (lo[1:] <= hi[:-1]).any():
        raise FileFormatError(f"read_panel: {f} has overlapping or unsorted partition id ranges. {_FIX}")
    if not (src / man["codes"]).is_file():
        raise DataValidationError(
            f"read_panel: {src / man['codes']} not found (the store's code table). {_FIX}"
        )
    return man


def parse_weeks(weeks: object, where: str = "read_panel") -> tuple[int, int] | None:
    """A week window ``(lo, hi)`` of week indices or ISO labels (``"2008-W01"``) as indices."""
    if weeks is None:
        return None
    if not isinstance(weeks, Sequence) or isinstance(weeks, str) or len(weeks) != 2:
        raise SpecificationError(
            f"The 'weeks' parameter of {where} must be a pair (first, last) of week indices or ISO labels "
            f"like '2008-W01'. Got {weeks!r} instead."
        )
    out = []
    for w in weeks:
        if isinstance(w, str):
            m = re.fullmatch(r"\s*(\d{4})-?W(\d{1,2})\s*", w)
            if not m:
                raise SpecificationError(
                    f"The 'weeks' parameter of {where}: {w!r} is not an ISO week label like '2008-W01'."
                )
            out.append(int(isoweek_to_index(int(m.group(1)), int(m.group(2)))))
        elif isinstance(w, int | np.integer) and not isinstance(w, bool):
            out.append(int(w))
        else:
            raise SpecificationError(
                f"The 'weeks' parameter of {where} must hold week indices or ISO labels. Got {w!r}."
            )
    if out[1] < out[0]:
        raise SpecificationError(
            f"The 'weeks' parameter of {where}: the last week is before the first ({weeks!r})."
        )
    return out[0], out[1]


def parse_persons(persons: object, where: str = "read_panel") -> np.ndarray | None:
    """Sorted unique int64 person ids from an array, Series, or DataFrame with ``person_id``."""
    if persons is None:
        return None
    if isinstance(persons, pd.DataFrame):
        if "person_id" not in persons.columns:
            raise SpecificationError(
                f"The 'persons' parameter of {where} is a DataFrame without a 'person_id' column. "
                "Pass ids or a table with person_id."
            )
        persons = persons["person_id"]
    arr = np.asarray(persons)
    if arr.ndim != 1 or (len(arr) and not np.issubdtype(arr.dtype, np.integer)):
        raise SpecificationError(
            f"The 'persons' parameter of {where} must be integer person ids. Got dtype {arr.dtype}, "
            f"shape {arr.shape}."
        )
    return np.unique(arr.astype(np.int64))


def _read(path: Path, expected: int | None, filt: Any = None, columns: list[str] | None = None) -> pa.Table:
    if not path.is_file():
        raise DataValidationError(f"read_panel: partition file {path} is missing. {_FIX}")
    try:
        if expected is not None:
            n = pq.ParquetFile(path).metadata.num_rows
            if n != expected:
                raise FileFormatError(
                    f"read_panel: {path} has {n:,} rows, the manifest records {expected:,}. {_FIX}"
                )
        return pq.read_table(path, filters=filt, columns=columns)
    except (OSError, ArrowException) as e:
        raise FileFormatError(f"read_panel: cannot read partition file {path} ({e}). {_FIX}") from None


def _frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def _filters(ids: np.ndarray | None, window: tuple[int, int] | None, start: str, end: str) -> Any:
    expr = None
    if ids is not None:
        expr = pc.field("person_id").isin(pa.array(ids, type=pa.int64()))
    if window is not None:
        w = (pc.field(start) <= window[1]) & (pc.field(end) >= window[0])
        expr = w if expr is None else expr & w
    return expr


def read_partition(
    src: Path,
    man: Mapping[str, Any],
    part: Mapping[str, Any],
    codes: CodeTable,
    ids: np.ndarray | None = None,
    window: tuple[int, int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """States (long), persons and events of one partition, filtered and with the manifest dtypes."""
    name = part["file"]
    check = ids is None and window is None
    runs = _frame(
        _read(
            src / "states" / name,
            part["n_runs"] if check else None,
            _filters(ids, window, "first_week", "last_week"),
        )
    )
    if window is not None:
        runs["first_week"] = np.maximum(runs["first_week"].to_numpy(), window[0]).astype(np.int32)
        runs["last_week"] = np.minimum(runs["last_week"].to_numpy(), window[1]).astype(np.int32)
    states = decode_runs(runs, codes.dtype())
    if check and len(states) != part["n_state_rows"]:
        raise FileFormatError(
            f"read_panel: {src / 'states' / name} decodes to {len(states):,} person-weeks, the manifest "
            f"records {part['n_state_rows']:,}. {_FIX}"
        )
    pfile = src / "persons" / name
    persons = _frame(
        _read(pfile, part["n_persons"] if check else None, _filters(ids, window, "obs_start", "obs_end"))
    )
    persons = _apply_dtypes(persons, man["dtypes"]["persons"], str(pfile))
    if window is not None:
        persons["obs_start"] = np.maximum(persons["obs_start"].to_numpy(), window[0]).astype(np.int32)
        persons["obs_end"] = np.minimum(persons["obs_end"].to_numpy(), window[1]).astype(np.int32)
    events = {}
    for k in man["events"]:
        f = src / "events" / k / name
        n = part["n_events"].get(k) if check else None
        ev = _apply_dtypes(
            _frame(_read(f, n, _filters(ids, window, "week", "end_week"))),
            man["dtypes"][f"events/{k}"],
            str(f),
        )
        if window is not None:
            ev["week"] = np.maximum(ev["week"].to_numpy(), window[0]).astype(np.int32)
            ev["end_week"] = np.minimum(ev["end_week"].to_numpy(), window[1]).astype(np.int32)
        events[k] = ev
    if window is not None and len(states):
        # state weeks of persons whose window no longer covers them cannot occur: states lie inside
        # [obs_start, obs_end] in a valid panel; keep the rows of persons kept
        keep = np.isin(states["person_id"].to_numpy(), persons["person_id"].to_numpy())
        if not keep.all():
            states = states.loc[keep].reset_index(drop=True)
    return states, persons, events


def select_partitions(
    man: Mapping[str, Any], ids: np.ndarray | None, window: tuple[int, int] | None
) -> list[Mapping[str, Any]]:
    """Partitions that can hold any of ``ids`` and overlap the week window (manifest only)."""
    out = []
    for p in man["partitions"]:
        if ids is not None:
            a = np.searchsorted(ids, p["person_id_min"], side="left")
            if a >= len(ids) or ids[a] > p["person_id_max"]:
                continue
        if window is not None and p.get("week_min") is not None:
            if p["week_min"] > window[1] or p["week_max"] < window[0]:
                continue
        out.append(p)
    return out


def _within(ids: np.ndarray | None, part: Mapping[str, Any]) -> np.ndarray | None:
    """The requested ids inside a partition's id range (the filter pushed to its scan)."""
    if ids is None:
        return None
    a, b = np.searchsorted(ids, [part["person_id_min"], part["person_id_max"]], side="left")
    b = b + int(b < len(ids) and ids[b] == part["person_id_max"])
    return ids[a:b]


def read_store(path: str | Path, persons: object = None, weeks: object = None) -> RegisterPanel:
    """Load a store, or the subset of it given by ``persons`` and ``weeks`` (see :func:`read_panel`)."""
    src = Path(path)
    man = load_manifest(src)
    codes = CodeTable.from_csv(src / man["codes"])
    ids = parse_persons(persons)
    window = parse_weeks(weeks)
    parts = select_partitions(man, ids, window)
    if not parts:  # nothing matches: the schema of the first partition, no rows
        parts = [man["partitions"][0]]
        ids = np.zeros(0, np.int64)
    loaded = [read_partition(src, man, p, codes, _within(ids, p), window) for p in parts]
    states = pd.concat([x[0] for x in loaded], ignore_index=True)
    pers = pd.concat([x[1] for x in loaded], ignore_index=True)
    events = {k: pd.concat([x[2][k] for x in loaded], ignore_index=True) for k in man["events"]}
    pers = _apply_dtypes(pers, man["dtypes"]["persons"], str(src / "persons"))
    events = {
        k: _apply_dtypes(v, man["dtypes"][f"events/{k}"], str(src / "events" / k)) for k, v in events.items()
    }
    meta = dict(man["meta"])
    if window is not None:
        fw, lw = meta.get("first_week"), meta.get("last_week")
        meta["first_week"] = max(int(fw), window[0]) if isinstance(fw, int) else window[0]
        meta["last_week"] = min(int(lw), window[1]) if isinstance(lw, int) else window[1]
        meta["store_subset"] = {"weeks": list(window)}
    return RegisterPanel(states=states, persons=pers, events=events, codes=codes, meta=meta)
