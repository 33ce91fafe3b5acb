"""Run the per-person transforms on Dask DataFrames partitioned by person (optional ``dask`` extra).

Every transform in :mod:`evaltools.data` works person by person, so a panel
split into partitions of whole persons can be processed partition by
partition with the pandas code and gives identical results:

>>> dp = partition_panel(panel, npartitions=8)            # doctest: +SKIP
>>> spells = build_spells_dask(dp, gap_rule="calendar_month")  # doctest: +SKIP
>>> cp = to_counting_process_dask(spells, dp, treatments="mentor")  # doctest: +SKIP
>>> cp.compute().reset_index(drop=True)                   # doctest: +SKIP

All Dask frames made here share the same ``divisions`` over ``person_id``
(the index holds the person id; the ``person_id`` column is kept), so their
partitions line up.  Results compute to exactly the pandas output after
``.reset_index(drop=True)``; spell ids are renumbered globally to match.
Dask is imported lazily; without it the functions raise :class:`ImportError`
naming ``pip install evaltools[dask]``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaltools.data.codes import CodeTable
from evaltools.data.counting import to_counting_process
from evaltools.data.panel import RegisterPanel
from evaltools.data.person_period import to_person_period
from evaltools.data.spells import build_spells
from evaltools.exceptions import SpecificationError

__all__ = [
    "DaskPanel",
    "partition_panel",
    "build_spells_dask",
    "to_counting_process_dask",
    "to_person_period_dask",
    "outcome_dask",
]


def _dd() -> Any:
    try:
        return importlib.import_module("dask.dataframe")
    except ImportError as exc:
        raise ImportError(
            "evaltools.data.dask needs the optional dask dependency. Install it with "
            "`pip install evaltools[dask]` (or `pip install 'dask[dataframe]'`)."
        ) from exc


@dataclass(frozen=True)
class DaskPanel:
    """A :class:`RegisterPanel` split by person into aligned Dask DataFrames.

    Attributes
    ----------
    states, persons : dask DataFrame
        Indexed by person id with identical ``divisions``.
    events : dict of str to dask DataFrame
        Event tables, aligned the same way.
    codes : CodeTable
        The code table.
    divisions : tuple of int
        Person-id boundaries of the partitions.
    meta : dict
        The panel's meta.
    dtypes : dict
        Column dtypes of every pandas table (restored inside each task, since
        Dask may convert ``object`` columns to ``string[pyarrow]``).
    """

    states: Any
    persons: Any
    events: Mapping[str, Any]
    codes: CodeTable
    divisions: tuple[int, ...]
    meta: Mapping[str, object] = field(default_factory=dict)
    dtypes: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)

    @property
    def npartitions(self) -> int:
        """Number of partitions."""
        return len(self.divisions) - 1

    @classmethod
    def from_store(cls, path: Any) -> DaskPanel:
        """Open a partitioned panel store lazily (see :func:`evaltools.data.read_panel_dask`)."""
        from evaltools.data._store_dask import read_panel_dask

        return read_panel_dask(path)


def _take(ix: np.ndarray, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[ix]


def _by_person(frame: pd.DataFrame, divisions: tuple[int, ...]) -> Any:
    """Dask DataFrame of ``frame`` (sorted by person) indexed by person id with the given divisions."""
    dd = _dd()
    f = frame.set_axis(pd.Index(frame["person_id"].to_numpy(), name=None), axis=0)
    cuts = np.searchsorted(f.index.to_numpy(), np.asarray(divisions[1:-1]), side="left")
    parts = np.split(np.arange(len(f)), cuts)
    return dd.from_map(_take, parts, args=(f,), divisions=divisions, meta=f.iloc[:0], enforce_metadata=False)


def partition_panel(panel: RegisterPanel, *, npartitions: int = 4) -> DaskPanel:
    """Split ``panel`` by person into aligned Dask DataFrames.

    Parameters
    ----------
    panel : RegisterPanel
        The panel (persons are kept whole within a partition).
    npartitions : int, default=4
        Number of partitions (fewer if there are fewer persons).

    Returns
    -------
    DaskPanel
    """
    if isinstance(npartitions, bool) or int(npartitions) < 1:
        raise SpecificationError(
            "The 'npartitions' parameter of partition_panel must be an int >= 1. "
            f"Got {npartitions!r} instead."
        )
    ids = panel.persons["person_id"].to_numpy()
    if len(ids) == 0:
        raise SpecificationError("partition_panel: the panel has no persons; there is nothing to partition.")
    k = min(int(npartitions), len(ids))
    cut = np.unique(ids[np.linspace(0, len(ids), k + 1).astype(int)[:-1]])
    divisions = (*map(int, cut), int(ids[-1]))
    if len(divisions) == 1:
        divisions = (divisions[0], divisions[0])
    return DaskPanel(
        states=_by_person(panel.states, divisions),
        persons=_by_person(panel.persons, divisions),
        events={k_: _by_person(v, divisions) for k_, v in panel.events.items()},
        codes=panel.codes,
        divisions=divisions,
        meta=dict(panel.meta),
        dtypes={
            "states": panel.states.dtypes.to_dict(),
            "persons": panel.persons.dtypes.to_dict(),
            **{f"events/{k_}": v.dtypes.to_dict() for k_, v in panel.events.items()},
        },
    )


@dataclass(frozen=True)
class _Spec:
    """What a partition task needs besides the frames (no Dask collections inside)."""

    codes: CodeTable
    event_names: tuple[str, ...]
    meta: Mapping[str, object]
    dtypes: Mapping[str, Mapping[Any, Any]]


def _spec(dp: DaskPanel) -> _Spec:
    return _Spec(codes=dp.codes, event_names=tuple(dp.events), meta=dict(dp.meta), dtypes=dp.dtypes)


def _restore(frame: pd.DataFrame, dtypes: Mapping[Any, Any]) -> pd.DataFrame:
    """Undo Dask's automatic object -> string[pyarrow] conversion so results equal pandas exactly."""
    frame = frame.reset_index(drop=True)
    change = {c: t for c, t in dtypes.items() if c in frame.columns and frame[c].dtype != t}
    return frame.astype(change) if change else frame


def _panel_of(sp: _Spec, states: pd.DataFrame, persons: pd.DataFrame, *events: pd.DataFrame) -> RegisterPanel:
    return RegisterPanel(
        states=_restore(states, sp.dtypes["states"]),
        persons=_restore(persons, sp.dtypes["persons"]),
        events={k: _restore(v, sp.dtypes[f"events/{k}"]) for k, v in zip(sp.event_names, events)},
        codes=sp.codes,
        meta=sp.meta,
    )


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_axis(pd.Index(frame["person_id"].to_numpy(), name=None), axis=0)


def _meta_of(func: Callable[..., pd.DataFrame], dp: DaskPanel, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """Empty output frame with the right dtypes, from running ``func`` on a 0-person panel."""
    empty = RegisterPanel(
        states=pd.DataFrame(
            {"person_id": [], "week": [], "state": pd.Categorical([], dtype=dp.codes.dtype())}
        ),
        persons=_restore(dp.persons._meta, dp.dtypes["persons"]),
        events={k: _restore(v._meta, dp.dtypes[f"events/{k}"]) for k, v in dp.events.items()},
        codes=dp.codes,
    )
    return _indexed(func(empty, *args, **kwargs))


def _spells_part(
    dp: _Spec, kwargs: dict, states: pd.DataFrame, persons: pd.DataFrame, *events
) -> pd.DataFrame:
    return _indexed(build_spells(_panel_of(dp, states, persons, *events), **kwargs))


def _offset(frame: pd.DataFrame, offsets: np.ndarray, partition_info: dict | None = None) -> pd.DataFrame:
    if partition_info is None:
        raise SpecificationError("_offset numbers spells per partition; run it with map_partitions.")
    out = frame.copy()
    out["spell_id"] = out["spell_id"].to_numpy() + int(offsets[partition_info["number"]])
    return out


def build_spells_dask(dp: DaskPanel, **kwargs: Any) -> Any:
    """:func:`evaltools.data.build_spells` per partition, with spell ids numbered globally.

    Parameters
    ----------
    dp : DaskPanel
        From :func:`partition_panel`.
    **kwargs
        Options of :func:`evaltools.data.build_spells`.

    Returns
    -------
    dask DataFrame
        Same columns and dtypes as the pandas result, indexed by person id.
        Computing the global spell ids needs one pass over the partitions.
    """
    dd = _dd()
    meta = _meta_of(build_spells, dp, **kwargs)
    local = dd.map_partitions(
        _spells_part,
        _spec(dp),
        kwargs,
        dp.states,
        dp.persons,
        *dp.events.values(),
        meta=meta,
        align_dataframes=False,
    )
    sizes = local.map_partitions(len, meta=(None, "int64")).compute()
    offsets = np.r_[0, np.cumsum(np.asarray(sizes))[:-1]]
    return local.map_partitions(_offset, offsets, meta=meta)


def _rows_part(
    func: Callable[..., pd.DataFrame],
    dp: _Spec,
    kwargs: dict,
    spells: pd.DataFrame,
    states: pd.DataFrame,
    persons: pd.DataFrame,
    *events: pd.DataFrame,
) -> pd.DataFrame:
    panel = _panel_of(dp, states, persons, *events)
    return _indexed(func(spells.reset_index(drop=True), panel, **kwargs))


def _rows_dask(func: Callable[..., pd.DataFrame], spells: Any, dp: DaskPanel, kwargs: dict) -> Any:
    dd = _dd()
    if tuple(spells.divisions) != tuple(dp.divisions):
        raise SpecificationError(
            "spells and the DaskPanel are partitioned differently. Build the spells with "
            "build_spells_dask(dp, ...) from the same DaskPanel."
        )
    meta_sp = spells._meta.reset_index(drop=True)
    meta = _meta_of(lambda p, **kw: func(meta_sp, p, **kw), dp, **kwargs)
    return dd.map_partitions(
        _rows_part,
        func,
        _spec(dp),
        kwargs,
        spells,
        dp.states,
        dp.persons,
        *dp.events.values(),
        meta=meta,
        align_dataframes=False,
    )


def to_counting_process_dask(spells: Any, dp: DaskPanel, **kwargs: Any) -> Any:
    """:func:`evaltools.data.to_counting_process` per partition.

    Parameters
    ----------
    spells : dask DataFrame
        From :func:`build_spells_dask` on the same ``dp``.
    dp : DaskPanel
        From :func:`partition_panel`.
    **kwargs
        Options of :func:`evaltools.data.to_counting_process`.

    Returns
    -------
    dask DataFrame
        Indexed by person id; ``.compute().reset_index(drop=True)`` equals the
        pandas result.
    """
    return _rows_dask(to_counting_process, spells, dp, kwargs)


def to_person_period_dask(spells: Any, dp: DaskPanel, **kwargs: Any) -> Any:
    """:func:`evaltools.data.to_person_period` per partition (see :func:`to_counting_process_dask`)."""
    return _rows_dask(to_person_period, spells, dp, kwargs)


def _outcome_part(
    func: Callable[..., pd.Series],
    dp: _Spec,
    kwargs: dict,
    refs: pd.DataFrame,
    states: pd.DataFrame,
    persons: pd.DataFrame,
    *events: pd.DataFrame,
) -> pd.Series:
    panel = _panel_of(dp, states, persons, *events)
    r = refs.reset_index(drop=True).astype({"person_id": np.int64, "week": np.int64, "_row": np.int64})
    res = func(panel, r[["person_id", "week"]], **kwargs)
    return pd.Series(res.array, index=pd.Index(r["_row"].to_numpy(), name=None), name=res.name)


def outcome_dask(
    func: Callable[..., pd.Series],
    dp: DaskPanel,
    ref_weeks: pd.Series | pd.DataFrame,
    **kwargs: Any,
) -> Any:
    """Apply an outcome function of :mod:`evaltools.data.outcomes` per partition.

    Parameters
    ----------
    func : callable
        :func:`~evaltools.data.self_supporting_at`,
        :func:`~evaltools.data.weeks_self_supporting` or
        :func:`~evaltools.data.weeks_on_public_support`.
    dp : DaskPanel
        From :func:`partition_panel`.
    ref_weeks : Series or DataFrame
        As for the pandas function (kept in pandas; split by person here).
    **kwargs
        Options of ``func`` (``horizon``, ``lookback``, ``definition``, ...).

    Returns
    -------
    dask Series
        Indexed by the position of each reference row; ``.compute().sort_index()``
        gives the pandas values in input order.
    """
    dd = _dd()
    if isinstance(ref_weeks, pd.Series):
        refs = pd.DataFrame({"person_id": ref_weeks.index.to_numpy(), "week": ref_weeks.to_numpy()})
    else:
        refs = ref_weeks[["person_id", "week"]].reset_index(drop=True)
    refs = refs.assign(_row=np.arange(len(refs)), person_id=refs["person_id"].to_numpy(np.int64))
    refs = refs.sort_values(["person_id", "_row"], kind="stable", ignore_index=True)
    lo, hi = dp.divisions[0], dp.divisions[-1]
    outside = (refs["person_id"] < lo) | (refs["person_id"] > hi)
    if outside.any():
        raise SpecificationError(
            f"outcome_dask: {int(outside.sum()):,} reference row(s) name persons outside the panel "
            f"(e.g. person_id={refs.loc[outside, 'person_id'].head(3).tolist()}). "
            "Restrict ref_weeks to the panel's persons."
        )
    refs_dd = _by_person(refs, dp.divisions)
    probe = func(
        RegisterPanel(
            states=pd.DataFrame(
                {"person_id": [], "week": [], "state": pd.Categorical([], dtype=dp.codes.dtype())}
            ),
            persons=_restore(dp.persons._meta, dp.dtypes["persons"]),
            codes=dp.codes,
        ),
        refs.iloc[:0][["person_id", "week"]],
        **kwargs,
    )
    return dd.map_partitions(
        _outcome_part,
        func,
        _spec(dp),
        kwargs,
        refs_dd,
        dp.states,
        dp.persons,
        *dp.events.values(),
        meta=probe,
        align_dataframes=False,
    )
