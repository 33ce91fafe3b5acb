"""Stream a DREAM wide file into a partitioned panel store (:func:`dream_to_store`)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaltools.data._store_parts import PanelStoreWriter
from evaltools.data._stream import iter_dream, merge_notes
from evaltools.data._wide import MONTHLY_TABLE, YEARLY_TABLE
from evaltools.data.contract.notes import notes_of
from evaltools.data.panel import RegisterPanel, normalise_events
from evaltools.exceptions import DataValidationError, InputWarning, SpecificationError

__all__ = ["dream_to_store"]


class EventSlices:
    """The caller's event tables, cut into the persons of each batch of a streamed read.

    The tables are checked and sorted once (as :class:`RegisterPanel` does);
    :meth:`cut` gives the rows of the persons of the next batch (batches come
    in increasing person id order), :meth:`finish` checks that every row went
    to a batch.
    """

    def __init__(self, events: Mapping[str, pd.DataFrame], where: str) -> None:
        if not isinstance(events, Mapping):
            raise SpecificationError(
                f"The 'events' parameter of {where} must be a mapping of names to DataFrames. "
                f"Got {type(events).__name__} instead."
            )
        for k in events:
            if not isinstance(k, str) or not k or k.startswith(".") or "/" in k or "\\" in k:
                raise SpecificationError(
                    f"{where}: event table name {k!r} cannot name a folder of the store; use a plain name "
                    "such as 'activation'."
                )
            if k in (MONTHLY_TABLE, YEARLY_TABLE):
                raise SpecificationError(
                    f"{where}: events[{k!r}] has the name of the calendar table the reader builds from the "
                    "file's monthly or yearly columns; give the table another name."
                )
        self.where = where
        self.tables = {k: normalise_events(k, v) for k, v in events.items()}
        self.pid = {k: t["person_id"].to_numpy() for k, t in self.tables.items()}
        self.done = dict.fromkeys(self.tables, 0)
        self.last: int | None = None

    def _orphans(self, name: str, rows: np.ndarray) -> DataValidationError:
        ex = np.unique(rows)[:3].tolist()
        return DataValidationError(
            f"{self.where}: {len(rows):,} row(s) of events[{name!r}] belong to person_id(s) that are not "
            f"read from the file (e.g. {ex}). A store keeps each event with its person: drop those rows "
            "(e.g. with persons_filter=..., filter the event table the same way), or read in memory "
            "without out=."
        )

    def cut(self, person_id: np.ndarray) -> dict[str, pd.DataFrame]:
        """The rows of the persons ``person_id`` (sorted, above those of earlier batches)."""
        if not len(person_id) or (self.last is not None and int(person_id[0]) <= self.last):
            # no persons, or out of order (the store writer names that): no rows
            return {k: t.iloc[:0] for k, t in self.tables.items()}
        self.last = int(person_id[-1])
        out = {}
        for k, t in self.tables.items():
            p = self.pid[k]
            a = int(np.searchsorted(p, person_id[0], side="left"))
            b = int(np.searchsorted(p, person_id[-1], side="right"))
            if a > self.done[k]:
                raise self._orphans(k, p[self.done[k] : a])
            inside = np.isin(p[a:b], person_id)
            if not inside.all():
                raise self._orphans(k, p[a:b][~inside])
            out[k] = t.iloc[a:b].reset_index(drop=True)
            self.done[k] = b
        return out

    def finish(self) -> None:
        """Raise for rows after the last batch's persons."""
        for k, p in self.pid.items():
            if self.done[k] < len(p):
                raise self._orphans(k, p[self.done[k] :])


def dream_to_store(
    source: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    events: Mapping[str, pd.DataFrame] | None = None,
    partition_persons: int | None = None,
    overwrite: bool = False,
    **read_kwargs: Any,
) -> Path:
    """Read a DREAM wide file batch by batch straight into a partitioned panel store.

    Memory is bounded by one batch (``batch_rows`` rows of the file): each
    batch of :func:`~evaltools.data.iter_dream` is appended to a
    :class:`~evaltools.data.PanelStoreWriter`, which writes into a temporary
    sibling folder renamed to ``out`` only when the whole file was read.  A
    malformed batch (ragged row, unknown code, duplicated id, truncated file)
    stops the read with the reader's named error and leaves no store.

    Parameters
    ----------
    source : str, Path or DataFrame
        A DataFrame in the wide layout, or a ``.csv``/``.csv.gz``/``.parquet``/``.sas7bdat`` file.
    out : str or Path
        Target directory of the store.
    events : mapping of str to DataFrame, optional
        Further event tables (activation, mentor, ...), as for
        :func:`~evaltools.data.read_dream`: stored partitioned with their
        persons, like the calendar tables, and read back by
        :func:`~evaltools.data.read_panel` and
        :func:`~evaltools.data.read_panel_dask`.  Every row must belong to a
        person read from the file.
    partition_persons : int, optional
        Persons per partition; default one partition per batch.
    overwrite : bool, default=False
        Replace an existing panel directory at ``out``.
    **read_kwargs
        Options of :func:`~evaltools.data.iter_dream` (``id_col``, ``codes``,
        ``weeks``, ``persons_filter``, ``code_filter``, ``batch_rows``, ...).

    Returns
    -------
    Path
        The store; ``read_panel(out)`` equals ``read_dream(source, events=events, **read_kwargs)``
        (the ``meta`` also records ``input_notes`` merged over the batches and
        ``input_warnings``, the messages of the warnings issued by the read).

    Raises
    ------
    DataValidationError
        Besides the reader's errors: integer person ids that are not in
        increasing order across batches (sort the file by id first), and rows
        of ``events`` whose person is not read from the file.
    SpecificationError
        ``events`` that is not a mapping of DataFrames, or an event table
        named like a calendar table (``dream_monthly``, ``dream_yearly``) or
        not usable as a folder name.
    """
    given = events is not None and not (isinstance(events, Mapping) and not events)
    extra = EventSlices(events, "dream_to_store") if given else None  # type: ignore[arg-type]
    notes = []
    meta: dict[str, Any] | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        with PanelStoreWriter(out, partition_persons=partition_persons, overwrite=overwrite) as w:
            for batch in iter_dream(source, **read_kwargs):
                if meta is None:
                    meta = {k: v for k, v in batch.meta.items() if k not in ("batch", "input_notes")}
                notes.append(notes_of(batch))
                if extra is not None:  # the caller's tables first, as read_dream orders them
                    ev = {**extra.cut(batch.persons["person_id"].to_numpy()), **batch.events}
                    batch = RegisterPanel._from_reader(
                        batch.states, batch.persons, ev, batch.codes, batch.meta
                    )
                try:
                    w.append(batch)
                except DataValidationError as e:
                    if "increasing person_id" not in str(e):
                        raise
                    info = batch.meta.get("batch")
                    first = info if isinstance(info, dict) else {}
                    raise DataValidationError(
                        f"dream_to_store: the batch starting at row {first.get('first_row')} of {source} "
                        f"holds person ids below ids of earlier rows ({e}). A store keeps persons in id "
                        "order: sort the file by its id column first (e.g. PROC SORT in SAS), or read "
                        "it with read_dream."
                    ) from None
            if extra is not None:
                extra.finish()
            final = dict(meta or {})
            final["input_notes"] = [n.as_dict() for n in merge_notes(notes, "dream_to_store")]
            final["input_warnings"] = [str(c.message) for c in caught if issubclass(c.category, InputWarning)]
            w.meta = final
    for c in caught:
        warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
    return Path(out)
