"""Indicators on a :class:`~evaltools.data.dask.DaskPanel`, partition by partition.

Every indicator function of :mod:`evaltools.indicators` that takes a panel
also accepts a ``DaskPanel`` (dispatch, same signature, same result).  The
person table (one row per person) is read into memory, because the grouping
levels, ages, populations and the disclosure linkage are defined on it; the
states and event tables stay partitioned.  A *shell* panel (the person table,
the code table and an empty states table, :class:`DaskShell`) stands in for
the panel wherever the in-memory code only needs persons and codes; the parts
that read states or events run on every partition's own panel and return
additive partial results:

* cell counts of person-weeks and distinct persons (persons are whole within a
  partition, so distinct counts add) for ``fte``, ``activation_rate``,
  ``company_oriented_share``, ``tool_mix_by_duration`` and ``target_table``;
* partial group-by tables of counts for ``cohort_self_support``,
  ``job_ready_share`` and ``first_contact_within``, added on the union of
  their keys.

Shares, full-time persons and footnote counts are computed after the
reduction, on the combined counts, and small-cell suppression is applied on
export of the combined table only (never per partition), exactly as for the
in-memory panel.  Each partition's panel keeps the full panel's first week
(``meta["first_week"]``), so left-censoring follows the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from evaltools.data.panel import RegisterPanel
from evaltools.indicators._core import Context, required

__all__ = ["DaskShell", "as_panel", "is_shell", "tabulate", "map_panels", "add_tables"]


class DaskShell(RegisterPanel):
    """Person and code tables of a DaskPanel with an empty states table (internal).

    ``dask_panel`` is the partitioned panel; ``n_state_rows`` the number of
    states rows over all partitions (for the linkage fingerprint).
    """

    dask_panel: Any
    n_state_rows: int


def _is_dask_panel(panel: Any) -> bool:
    from evaltools.data.dask import DaskPanel

    return isinstance(panel, DaskPanel)


def is_shell(panel: Any) -> TypeGuard[DaskShell]:
    """Whether ``panel`` stands in for a DaskPanel."""
    return isinstance(panel, DaskShell)


def as_panel(panel: Any) -> Any:
    """``panel`` itself, or the :class:`DaskShell` of a DaskPanel (the person table is computed)."""
    if not _is_dask_panel(panel):
        return panel
    from evaltools.data.dask import _restore

    dp = panel
    persons = _restore(dp.persons.compute(), dp.dtypes["persons"])
    states = pd.DataFrame(
        {
            "person_id": np.zeros(0, np.int64),
            "week": np.zeros(0, np.int64),
            "state": pd.Categorical([], dtype=dp.codes.dtype()),
        }
    )
    events = {k: _restore(v._meta, dp.dtypes[f"events/{k}"]) for k, v in dp.events.items()}
    shell = DaskShell(states=states, persons=persons, events=events, codes=dp.codes, meta=dict(dp.meta))
    object.__setattr__(shell, "dask_panel", dp)
    object.__setattr__(shell, "n_state_rows", -1)
    return shell


def state_rows(shell: DaskShell) -> int:
    """Number of states rows of the partitioned panel (counted once, then cached)."""
    if shell.n_state_rows < 0:
        n = int(np.sum(shell.dask_panel.states.map_partitions(len, meta=(None, "int64")).compute()))
        object.__setattr__(shell, "n_state_rows", n)
    return shell.n_state_rows


def _bounds(shell: DaskShell) -> list[tuple[int, int]]:
    """Positions ``a:b`` of every partition's persons in the shell's (sorted) person table."""
    ids = shell.persons["person_id"].to_numpy(np.int64)
    div = shell.dask_panel.divisions
    cuts = [int(np.searchsorted(ids, d, side="left")) for d in div[:-1]] + [len(ids)]
    return list(zip(cuts[:-1], cuts[1:]))


def slice_context(ctx: Context, a: int, b: int) -> Context:
    """The context restricted to persons ``a:b`` (person positions become partition-local)."""
    dims = [
        replace(d, person_codes=required(d.person_codes, d, "person codes")[a:b]) if d.kind == "person" else d
        for d in ctx.dims
    ]
    return replace(
        ctx,
        person_ids=ctx.person_ids[a:b],
        birth_year=None if ctx.birth_year is None else ctx.birth_year[a:b],
        person_ok=ctx.person_ok[a:b],
        dims=dims,
    )


def _states_of(states: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    from evaltools.data.dask import _restore

    return _restore(states, dtypes)


def _tab_part(states: pd.DataFrame, ctx: Context, codes: Sequence[str], where: str, dtypes: dict) -> dict:
    from evaltools.indicators._core import tabulate as tab

    st = _states_of(states, dtypes)
    out: dict[str, Any] = dict(tab(st, ctx, codes, where) if len(st) else _zeros(ctx))
    out["_n_rows"] = len(st)
    return out


def _zeros(ctx: Context) -> dict[str, np.ndarray]:
    return {"person_weeks": np.zeros(ctx.n_keys), "persons": np.zeros(ctx.n_keys, dtype=np.int64)}


def _compute(tasks: list[Any]) -> list[Any]:
    import dask

    return list(dask.compute(*tasks))


def tabulate(shell: DaskShell, ctx: Context, where: str) -> dict[str, np.ndarray]:
    """:func:`evaltools.indicators._core.tabulate` over the partitions, added."""
    import dask

    dp = shell.dask_panel
    codes = list(shell.codes.codes)
    dts = dict(dp.dtypes["states"])
    tasks = [
        dask.delayed(_tab_part, pure=True)(s, slice_context(ctx, a, b), codes, where, dts)
        for s, (a, b) in zip(dp.states.to_delayed(), _bounds(shell))
    ]
    res = _compute(tasks)
    object.__setattr__(shell, "n_state_rows", int(sum(r["_n_rows"] for r in res)))
    return {k: np.sum([r[k] for r in res], axis=0) for k in ("person_weeks", "persons")}


def _panel_part(
    func: Callable[..., Any],
    spec: Any,
    args: tuple,
    kwargs: dict,
    states: pd.DataFrame,
    persons: pd.DataFrame,
    *events: pd.DataFrame,
) -> Any:
    from evaltools.data.dask import _panel_of

    panel = _panel_of(spec, states, persons, *events)
    return func(panel, *args, **kwargs), len(panel.states)


def map_panels(
    shell: DaskShell,
    func: Callable[..., Any],
    *args: Any,
    per_part: Callable[[int, int], tuple] | None = None,
    **kwargs: Any,
) -> list[Any]:
    """``func(partition_panel, *args, *per_part(a, b), **kwargs)`` on every partition.

    The partition panels keep the full panel's first week in ``meta`` (left-censoring).
    """
    import dask

    from evaltools.data.dask import _spec

    dp = shell.dask_panel
    spec = _spec(dp)
    spec = replace(spec, meta={**dict(spec.meta), "first_week": int(shell.first_week)})
    ev = [v.to_delayed() for v in dp.events.values()]
    tasks = []
    for i, ((a, b), s, p) in enumerate(zip(_bounds(shell), dp.states.to_delayed(), dp.persons.to_delayed())):
        extra = per_part(a, b) if per_part is not None else ()
        tasks.append(
            dask.delayed(_panel_part, pure=True)(
                func, spec, (*args, *extra), kwargs, s, p, *[e[i] for e in ev]
            )
        )
    res = _compute(tasks)
    object.__setattr__(shell, "n_state_rows", int(sum(r[1] for r in res)))
    return [r[0] for r in res]


def add_tables(parts: Sequence[pd.DataFrame], keys: Sequence[str], **groupby: Any) -> pd.DataFrame:
    """Add partial group-by tables of counts on the union of their keys (keys sorted as pandas does)."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return parts[0].iloc[:0].reset_index(drop=True)
    both = pd.concat(frames, ignore_index=True)
    return both.groupby(list(keys), **groupby).sum().reset_index()
