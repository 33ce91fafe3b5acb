"""Linkage metadata of the indicator tables (how their cells relate to the panel).

Every indicator table carries a :class:`~evaltools.reporting.linkage.Linkage`
so that a :class:`~evaltools.reporting.Release` can protect it jointly with
the other tables published from the same panel.  Families:

* ``states``: person-weeks and distinct persons of register states (``fte``,
  ``fte_dask``, ``activation_rate``, ``company_oriented_share``,
  ``tool_mix_by_duration``), with dimensions ``state`` (register code),
  ``week``, ``age`` and ``person.<column>``;
* one family per cohort definition (``cohort_self_support``), assessment
  definition (``job_ready_share``) and spell/event definition
  (``first_contact_within``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltools.data.panel import RegisterPanel
from evaltools.indicators._core import Context, required
from evaltools.reporting.linkage import ALL, BIG, Dim, Linkage, Measure, dataset_fingerprint, interval

PERSONS = Measure("persons", "count", additive=("person.*",))
PERSON_WEEKS = Measure("person_weeks", "magnitude")


def fingerprint(panel: RegisterPanel) -> str:
    """Identity of the panel (tables of different panels are never linked)."""
    from evaltools.indicators import _dask

    ids = panel.persons["person_id"].to_numpy(np.int64)
    n_states = _dask.state_rows(panel) if _dask.is_shell(panel) else len(panel.states)
    return dataset_fingerprint(len(ids), n_states, panel.week_range, int(ids.sum() % 10**12))


def _levels(series: pd.Series) -> tuple[Any, ...]:
    return tuple(pd.unique(series.astype(object)))


def band_subsets(edges: Sequence[float] | np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Age or duration band label -> interval subset (bands ``[a, b)``; "outside" = the rest)."""
    e = np.asarray(edges, dtype=float)
    out: dict[str, Any] = {}
    for lab, a, b in zip(labels, e[:-1], e[1:]):
        out[lab] = ((int(a), BIG if not np.isfinite(b) else int(b) - 1),)
    lo, hi = int(e[0]), (BIG if not np.isfinite(e[-1]) else int(e[-1]))
    rest = []
    if lo > -BIG:
        rest.append((-BIG, lo - 1))
    if hi < BIG:
        rest.append((hi, BIG))
    out["outside"] = tuple(rest)
    return out


def person_dims(
    panel: RegisterPanel, columns: Sequence[str], persons_where: Mapping[str, object] | None
) -> dict[str, Dim]:
    """``person.<col>`` dimensions for grouping columns and the ``persons_where`` filter."""
    out: dict[str, Dim] = {}
    pw = dict(persons_where or {})
    for col in dict.fromkeys([*columns, *pw]):
        flt = ALL
        if col in pw:
            v = pw[col]
            flt = frozenset(v) if isinstance(v, (list, tuple, set, frozenset)) else frozenset([v])
        out[f"person.{col}"] = Dim(
            "set",
            columns=((col, None),) if col in columns else (),
            filter=flt,
            universe=_levels(panel.persons[col]),
        )
    return out


def _state_dim(panel: RegisterPanel, ctx: Context, code_ok: np.ndarray) -> Dim:
    codes = np.asarray(panel.codes.codes, dtype=object)
    cols = []
    for d in ctx.dims:
        if d.kind in ("state", "internal"):
            mapping = {lab: frozenset(codes[(d.lut == i) & code_ok]) for i, lab in enumerate(d.labels)}
            cols.append((d.name, mapping))
    return Dim("set", columns=tuple(cols), filter=frozenset(codes[code_ok]), universe=tuple(codes))


def _age_dim(ctx: Context) -> Dim:
    flt = ALL if ctx.ages is None else ((int(ctx.ages[0]), int(ctx.ages[1])),)
    cols = []
    for d in ctx.dims:
        if d.kind == "age":
            edges = required(d.bands, d, "band edges")
            cols.append((d.name, band_subsets(edges, [str(x) for x in d.labels])))
    return Dim("interval", columns=tuple(cols), filter=flt)


def week_dim(ctx: Context, column: str = "period") -> Dim:
    """Weeks of each period label of the context, within its window."""
    p = ctx.periods
    mapping = {lab: ((int(a), int(b)),) for lab, a, b in zip(p.labels, p.first, p.last)}
    return Dim("interval", columns=((column, mapping),), filter=((int(p.lo), int(p.hi)),))


def states_linkage(
    panel: RegisterPanel,
    ctx: Context,
    persons_where: Mapping[str, object] | None,
    measures: Mapping[str, tuple[Measure, np.ndarray | None]],
    *,
    extra: Mapping[str, Dim] | None = None,
    ratios: Mapping[str, tuple[Sequence[str], str]] | None = None,
) -> Linkage:
    """Linkage of a table of register-state cells (family ``states``).

    ``measures`` maps value columns to a measure and the code selection they
    count (``None``: the context's codes).
    """
    by_person = [d.name for d in ctx.dims if d.kind == "person"]
    dims: dict[str, Dim] = {
        "state": _state_dim(panel, ctx, ctx.code_ok),
        "week": week_dim(ctx),
        "age": _age_dim(ctx),
        **person_dims(panel, by_person, persons_where),
        **dict(extra or {}),
    }
    meas = {}
    for col, (m, codes) in measures.items():
        if codes is not None:
            m = Measure(m.quantity, m.kind, m.additive, m.scale, {"state": _state_dim(panel, ctx, codes)})
        meas[col] = m
    return Linkage(f"states@{fingerprint(panel)}", dims, meas, ratios=dict(ratios or {}))


def fte_measures(ctx: Context, with_population: bool) -> dict[str, tuple[Measure, None]]:
    """Measures of the columns of :func:`evaltools.indicators.fte`."""
    out: dict[str, tuple[Measure, None]] = {
        "persons": (PERSONS, None),
        "person_weeks": (PERSON_WEEKS, None),
        "fte": (Measure("person_weeks", "magnitude", scale="weeks"), None),
    }
    if with_population:
        out["population"] = (Measure("population_weeks", "total", scale="weeks"), None)
    return out


def group_dims(
    panel: RegisterPanel,
    frame: pd.DataFrame,
    cols: Sequence[str],
    persons_where: Mapping[str, object] | None,
    age_bands: Sequence[float],
    ages: tuple[int, int] | None,
) -> dict[str, Dim]:
    """Dimensions of the grouping columns of the cohort and spell indicators."""
    person_cols = [c for c in cols if c not in ("age_group", "benefit")]
    dims = person_dims(panel, person_cols, persons_where)
    age_cols: tuple[tuple[str, Any], ...] = ()
    if "age_group" in cols:
        labels = list(pd.unique(frame["age_group"])) if len(frame) else []
        bands = band_subsets(age_bands, [*_band_labels(age_bands)])
        age_cols = (("age_group", {k: bands[k] for k in {*bands, *labels} if k in bands}),)
    dims["age"] = Dim(
        "interval", columns=age_cols, filter=ALL if ages is None else ((int(ages[0]), int(ages[1])),)
    )
    return dims


def _band_labels(edges: Sequence[float]) -> list[str]:
    from evaltools.indicators._core import band_labels

    return band_labels(np.asarray(edges, dtype=float))


def target_atoms(
    selected: Mapping[str, list[np.ndarray]], pidx: np.ndarray, n_targets: int, n_persons: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct non-zero target signatures of baseline rows, actual rows and persons.

    A row's signature has bit ``j`` set when the row is counted by target ``j``;
    a person's is the OR over the person's actual rows.  Signatures of disjoint
    sets of persons (partitions) combine by union.
    """
    bit = np.left_shift(np.int64(1), np.arange(n_targets, dtype=np.int64))
    out = []
    for label in ("baseline", "actual"):
        sig = (np.stack(selected[label], axis=1) * bit).sum(axis=1) if n_targets else np.zeros(0, np.int64)
        out.append(np.unique(sig[sig > 0]))
    per_person = np.zeros(n_persons, dtype=np.int64)
    if n_targets:
        np.bitwise_or.at(per_person, pidx, (np.stack(selected["actual"], axis=1) * bit).sum(axis=1))
    out.append(np.unique(per_person[per_person > 0]))
    return out[0], out[1], out[2]


_TARGET_TABLES = iter(range(1, 2**62))


def target_linkage(
    panel: RegisterPanel,
    data: pd.DataFrame,
    atoms: tuple[np.ndarray, np.ndarray, np.ndarray],
    baseline: tuple[int, int],
    actual: tuple[int, int],
) -> Linkage:
    """Linkage of a target table: every target as a sum of atoms of person-weeks and persons.

    An atom is the set of person-weeks (or persons) belonging to exactly the same
    targets, so "all ages" = "under 30" + "30 and over" is written out for the
    attacker and for the complementary suppression.  ``atoms`` are the distinct
    signatures from :func:`target_atoms`.
    """
    names = data["target_name"].tolist()
    bit = np.left_shift(np.int64(1), np.arange(len(names), dtype=np.int64))
    dims: dict[str, Measure] = {}

    def mapping_of(used: np.ndarray) -> tuple[dict[str, frozenset], int]:
        return {n: frozenset(np.flatnonzero(used & b).tolist()) for n, b in zip(names, bit)}, len(used)

    for label, used in (("baseline", atoms[0]), ("actual", atoms[1])):
        mapping, n_atoms = mapping_of(used)
        win = baseline if label == "baseline" else actual
        dim = Dim("set", columns=(("target_name", mapping),), universe=tuple(range(n_atoms)))
        dims[f"{label}_fte"] = Measure(
            f"{label}_person_weeks",
            "magnitude",
            additive=(f"{label}_atom",),
            scale=float(win[1] - win[0] + 1),
            dims={f"{label}_atom": dim},
        )
    mapping, n_atoms = mapping_of(atoms[2])
    dims["persons"] = Measure(
        "persons",
        "count",
        additive=("person_atom",),
        dims={"person_atom": Dim("set", columns=(("target_name", mapping),), universe=tuple(range(n_atoms)))},
    )
    family = f"target_table@{fingerprint(panel)}#{next(_TARGET_TABLES)}"
    return Linkage(family, {}, dims)


__all__ = [
    "ALL",
    "Dim",
    "Measure",
    "interval",
    "PERSONS",
    "PERSON_WEEKS",
    "fingerprint",
    "band_subsets",
    "person_dims",
    "week_dim",
    "states_linkage",
    "fte_measures",
    "group_dims",
    "target_atoms",
    "target_linkage",
]
