"""Stream a DREAM wide file into a partitioned panel store (:func:`dream_to_store`)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from evaltools.data._store_parts import PanelStoreWriter
from evaltools.data._stream import iter_dream, merge_notes
from evaltools.data.contract.notes import notes_of
from evaltools.exceptions import DataValidationError, InputWarning

__all__ = ["dream_to_store"]


def dream_to_store(
    source: str | Path | pd.DataFrame,
    out: str | Path,
    *,
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
        The store; ``read_panel(out)`` equals ``read_dream(source, **read_kwargs)``
        (the ``meta`` also records ``input_notes`` merged over the batches and
        ``input_warnings``, the messages of the warnings issued by the read).

    Raises
    ------
    DataValidationError
        Besides the reader's errors: integer person ids that are not in
        increasing order across batches (sort the file by id first).
    """
    notes = []
    meta: dict[str, Any] | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        with PanelStoreWriter(out, partition_persons=partition_persons, overwrite=overwrite) as w:
            for batch in iter_dream(source, **read_kwargs):
                if meta is None:
                    meta = {k: v for k, v in batch.meta.items() if k not in ("batch", "input_notes")}
                notes.append(notes_of(batch))
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
            final = dict(meta or {})
            final["input_notes"] = [n.as_dict() for n in merge_notes(notes, "dream_to_store")]
            final["input_warnings"] = [str(c.message) for c in caught if issubclass(c.category, InputWarning)]
            w.meta = final
    for c in caught:
        warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
    return Path(out)
