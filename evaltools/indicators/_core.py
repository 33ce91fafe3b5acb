"""Vectorised aggregation of sparse register states into (group, period) cells.

Everything here works on integer arrays: the person position (row of
``panel.persons``), the week index and the code position (category code of
``states.state``).  Group keys are combined into one integer per row and
aggregated with :func:`numpy.bincount`; distinct persons are counted once per
key after collapsing runs (states are sorted by person and week).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaltools._validation import check_option
from evaltools.data.codes import CODE_COLUMNS
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import index_to_isoweek, isoweek_to_index, week_label, week_month
from evaltools.exceptions import DataValidationError, SpecificationError

PERIODS = ("week", "month", "quarter", "half_year", "year")
STATE_DIMS = ("state", *[c for c in CODE_COLUMNS if c not in ("code", "label_da", "label_en", "source")])
DEFAULT_AGE_BANDS = (16, 25, 30, 40, 50, 60, 67)


# ----------------------------------------------------------------------------------------------
# periods
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Periods:
    """Partition of the weeks ``lo .. hi`` into periods (a week belongs to the period of its Thursday)."""

    lo: int
    hi: int
    code: np.ndarray  # period code of week lo + k
    labels: list[str]
    n_weeks: np.ndarray  # weeks per period
    first: np.ndarray  # first week of each period
    last: np.ndarray  # last week of each period

    @property
    def n(self) -> int:
        """Number of periods."""
        return len(self.labels)

    def of(self, week: np.ndarray) -> np.ndarray:
        """Period code for weeks inside the window."""
        return self.code[np.asarray(week, dtype=np.int64) - self.lo]


def make_periods(lo: int, hi: int, period: str | None, where: str) -> Periods:
    """Build the period partition of the window ``lo .. hi``; ``period=None`` is one period."""
    if hi < lo:
        raise SpecificationError(f"{where}: the window is empty (first week {lo} > last week {hi}).")
    weeks = np.arange(lo, hi + 1, dtype=np.int64)
    if period is None:
        key = np.zeros(len(weeks), dtype=np.int64)
        labels = [f"{week_label(lo)}..{week_label(hi)}"]
    else:
        check_option("period", period, PERIODS, where)
        month = week_month(weeks).astype(np.int64)  # months since 1970-01
        year = month // 12 + 1970
        if period == "week":
            key = weeks
        elif period == "month":
            key = month
        elif period == "quarter":
            key = year * 4 + (month % 12) // 3
        elif period == "half_year":
            key = year * 2 + (month % 12) // 6
        else:
            key = year
        uniq, first_pos = np.unique(key, return_index=True)
        fw = weeks[first_pos]
        if period == "week":
            labels = list(week_label(fw))
        elif period == "month":
            labels = [str(np.datetime64(int(k), "M")) for k in uniq]
        elif period == "quarter":
            labels = [f"{k // 4}-Q{k % 4 + 1}" for k in uniq]
        elif period == "half_year":
            labels = [f"{k // 2}-H{k % 2 + 1}" for k in uniq]
        else:
            labels = [str(k) for k in uniq]
        key = np.searchsorted(uniq, key)
    n_weeks = np.bincount(key).astype(np.int64)
    first = lo + np.r_[0, np.cumsum(n_weeks)[:-1]]
    last = first + n_weeks - 1
    return Periods(lo, hi, key, labels, n_weeks, first, last)


def iso_year_first_week(year: np.ndarray) -> np.ndarray:
    """Week index of ISO week 1 of each year (vectorised)."""
    y = np.asarray(year, dtype=np.int64)
    return isoweek_to_index(y, np.ones_like(y), validate=False).astype(np.int64)


# ----------------------------------------------------------------------------------------------
# dimensions
# ----------------------------------------------------------------------------------------------
@dataclass
class Dim:
    """One grouping dimension: per-row codes are produced by ``row_codes``."""

    name: str
    kind: str  # "person", "state", "age", "internal"
    labels: Sequence[object]
    person_codes: np.ndarray | None = None  # kind person
    lut: np.ndarray | None = None  # kind state/internal: code position -> level
    bands: np.ndarray | None = None  # kind age: band edges

    @property
    def n(self) -> int:
        """Number of levels."""
        return len(self.labels)


def required(value: np.ndarray | None, d: Dim, what: str) -> np.ndarray:
    """``value`` (a per-kind field of ``d``), or a SpecificationError naming the dimension if it is unset."""
    if value is None:
        raise SpecificationError(
            f"Grouping dimension {d.name!r} of kind {d.kind!r} has no {what}; build it with make_dims."
        )
    return value


def band_labels(edges: Sequence[float] | np.ndarray) -> list[str]:
    """Labels such as ``"16-24"`` and ``"60-66"`` for integer band edges ``[a, b)``."""
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        out.append(f"{int(a)}+" if not np.isfinite(b) else f"{int(a)}-{int(b) - 1}")
    return out


def make_dims(
    panel: RegisterPanel, by: Sequence[str], where: str, *, age_bands: Sequence[float] = DEFAULT_AGE_BANDS
) -> list[Dim]:
    """Resolve ``by`` names to person, state or age dimensions."""
    persons = panel.persons
    table = panel.codes.table
    dims: list[Dim] = []
    if isinstance(by, str):
        by = (by,)
    if len(set(by)) != len(by):
        raise SpecificationError(f"{where}: 'by' lists a column twice: {list(by)}.")
    for name in by:
        if name == "age_group":
            edges = np.asarray(age_bands, dtype=float)
            if len(edges) < 2 or np.any(np.diff(edges) <= 0):
                raise SpecificationError(f"{where}: age_bands must be increasing with at least two edges.")
            dims.append(Dim(name, "age", band_labels(edges), bands=edges))
        elif name in STATE_DIMS:
            col = "code" if name == "state" else name
            vals = table[col].to_numpy()
            # levels in order of first appearance in the code table
            codes_, uniq = pd.factorize(pd.Series(vals, dtype=object))
            dims.append(Dim(name, "state", list(uniq), lut=codes_.astype(np.int64)))
        elif name in persons.columns and name not in ("person_id", "obs_start", "obs_end"):
            pcol = persons[name]
            codes_, uniq = pd.factorize(pcol, sort=True, use_na_sentinel=False)
            dims.append(Dim(name, "person", list(uniq), person_codes=codes_.astype(np.int64)))
        else:
            raise SpecificationError(
                f"{where}: cannot group by {name!r}. Use a person column {list(persons.columns[3:])}, "
                f"a code-table column {list(STATE_DIMS)} or 'age_group'."
            )
    return dims


def restrict_levels(d: Dim, code_ok: np.ndarray) -> Dim:
    """Keep only the levels of a state dimension reached by selected codes (in order of appearance)."""
    if d.kind not in ("state", "internal"):
        return d
    lut = np.where(code_ok, required(d.lut, d, "code lookup"), -1)
    used = pd.unique(lut[lut >= 0])
    remap = np.full(max(d.n, 1), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    new_lut = np.where(lut >= 0, remap[np.clip(lut, 0, None)], -1)
    return Dim(d.name, d.kind, [d.labels[i] for i in used], lut=new_lut)


def restrict_person_levels(d: Dim, person_ok: np.ndarray) -> Dim:
    """Keep only the levels of a person dimension held by selected persons."""
    if d.kind != "person" or person_ok.all():
        return d
    pcodes = required(d.person_codes, d, "person codes")
    used = np.unique(pcodes[person_ok])
    remap = np.full(max(d.n, 1), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return Dim(d.name, d.kind, [d.labels[i] for i in used], person_codes=remap[pcodes])


# ----------------------------------------------------------------------------------------------
# context and row selection
# ----------------------------------------------------------------------------------------------
@dataclass
class Context:
    """Everything needed to tabulate a chunk of states rows."""

    person_ids: np.ndarray
    birth_year: np.ndarray | None
    periods: Periods
    dims: list[Dim]
    code_ok: np.ndarray  # bool per code position
    person_ok: np.ndarray  # bool per person
    ages: tuple[int, int] | None
    iso_year: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per window week

    def birth_years(self) -> np.ndarray:
        """Birth year per person (loaded whenever ages or an age band are in use)."""
        if self.birth_year is None:
            raise SpecificationError(
                "The tabulation uses ages but its context has no birth years; build it with make_context."
            )
        return self.birth_year

    @property
    def shape(self) -> tuple[int, ...]:
        """Sizes of the group dimensions followed by the number of periods."""
        return (*[d.n for d in self.dims], self.periods.n)

    @property
    def n_keys(self) -> int:
        """Number of cells."""
        return int(np.prod(self.shape))


def person_filter(
    persons: pd.DataFrame, persons_where: Mapping[str, object] | None, where: str
) -> np.ndarray:
    """Boolean selection of persons from ``{column: value or list of values}``."""
    ok = np.ones(len(persons), dtype=bool)
    for col, val in (persons_where or {}).items():
        if col not in persons.columns:
            raise DataValidationError(
                f"{where}: persons_where names column {col!r}, which is not in panel.persons "
                f"(columns: {list(persons.columns)})."
            )
        vals = list(val) if isinstance(val, (list, tuple, set, frozenset)) else [val]
        ok &= persons[col].isin(vals).to_numpy()
    return ok


def code_filter(panel: RegisterPanel, codes_where: Mapping[str, object] | None) -> np.ndarray:
    """Boolean per code position; default excludes censoring codes."""
    cw = dict(codes_where) if codes_where is not None else {"censoring": False}
    selected = set(panel.codes.codes_where(**cw)) if cw else set(panel.codes.codes)
    return np.array([c in selected for c in panel.codes.codes], dtype=bool)


def make_context(
    panel: RegisterPanel,
    *,
    by: Sequence[str],
    period: str | None,
    window: tuple[int, int] | None,
    codes_where: Mapping[str, object] | None,
    persons_where: Mapping[str, object] | None,
    ages: tuple[int, int] | None,
    age_bands: Sequence[float],
    where: str,
    extra_dims: Sequence[Dim] = (),
) -> Context:
    """Validate options and build the tabulation context."""
    if panel.n_persons == 0:
        raise DataValidationError(f"{where}: the panel has no persons.")
    lo, hi = window if window is not None else panel.week_range
    periods = make_periods(int(lo), int(hi), period, where)
    dims = make_dims(panel, by, where, age_bands=age_bands) + list(extra_dims)
    need_age = ages is not None or any(d.kind == "age" for d in dims)
    birth = None
    if need_age:
        if "birth_year" not in panel.persons.columns:
            raise DataValidationError(
                f"{where}: age limits need column 'birth_year' in panel.persons, which is missing. "
                "Add it or pass ages=None (and do not group by 'age_group')."
            )
        b = pd.to_numeric(panel.persons["birth_year"], errors="coerce")
        if b.isna().any():
            bad = b.isna().to_numpy()
            ex = panel.persons.loc[bad, "person_id"].head(3).tolist()
            raise DataValidationError(
                f"{where}: column 'birth_year' is missing for {int(bad.sum()):,} person(s) (e.g. person_id "
                f"{ex}). Fill it or pass ages=None."
            )
        birth = b.to_numpy(dtype=np.int64)
    if ages is not None and (len(ages) != 2 or ages[0] > ages[1]):
        raise SpecificationError(f"{where}: ages must be (lowest, highest) age, e.g. (16, 66); got {ages!r}.")
    iso_year = index_to_isoweek(np.arange(periods.lo, periods.hi + 1))[0].astype(np.int64)
    code_ok = code_filter(panel, codes_where)
    person_ok = person_filter(panel.persons, persons_where, where)
    dims = [restrict_person_levels(restrict_levels(d, code_ok), person_ok) for d in dims]
    return Context(
        person_ids=panel.persons["person_id"].to_numpy(np.int64),
        birth_year=birth,
        periods=periods,
        dims=dims,
        code_ok=code_ok,
        person_ok=person_ok,
        ages=(ages[0], ages[1]) if ages is not None else None,
        iso_year=iso_year,
    )


def states_arrays(
    states: pd.DataFrame, ctx: Context, codes: Sequence[str], where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Person position, week and code position for a chunk of states rows."""
    pid = states["person_id"].to_numpy(np.int64)
    pidx = np.searchsorted(ctx.person_ids, pid)
    pidx_c = np.minimum(pidx, len(ctx.person_ids) - 1)
    unknown = ctx.person_ids[pidx_c] != pid
    if unknown.any():
        ex = np.unique(pid[unknown])[:3].tolist()
        raise DataValidationError(
            f"{where}: {int(unknown.sum()):,} states rows belong to persons missing from the person table "
            f"(e.g. person_id {ex}). Add them to persons."
        )
    st = states["state"]
    if isinstance(st.dtype, pd.CategoricalDtype) and list(st.cat.categories.astype(str)) == list(codes):
        scode = st.cat.codes.to_numpy().astype(np.int64)
    else:
        scode = pd.Categorical(st.astype(str), categories=list(codes)).codes.astype(np.int64)
    if (scode < 0).any():
        raise DataValidationError(
            f"{where}: {int((scode < 0).sum()):,} states rows have codes outside the table."
        )
    return pidx, states["week"].to_numpy(np.int64), scode


def select_rows(pidx: np.ndarray, week: np.ndarray, scode: np.ndarray, ctx: Context) -> np.ndarray:
    """Rows inside the window, on selected codes and persons, and inside the age limits."""
    p = ctx.periods
    ok = (week >= p.lo) & (week <= p.hi)
    ok &= ctx.code_ok[scode] & ctx.person_ok[pidx]
    if ctx.ages is not None:
        age = ctx.iso_year[np.clip(week - p.lo, 0, p.hi - p.lo)] - ctx.birth_years()[pidx]
        ok &= (age >= ctx.ages[0]) & (age <= ctx.ages[1])
    return ok


def row_keys(pidx: np.ndarray, week: np.ndarray, scode: np.ndarray, ctx: Context) -> np.ndarray:
    """Combined integer cell key per (already selected) row; -1 if outside every age band."""
    key = np.zeros(len(pidx), dtype=np.int64)
    bad = np.zeros(len(pidx), dtype=bool)
    for d in ctx.dims:
        if d.kind == "person":
            c = required(d.person_codes, d, "person codes")[pidx]
        elif d.kind == "age":
            age = ctx.iso_year[week - ctx.periods.lo] - ctx.birth_years()[pidx]
            c = np.searchsorted(required(d.bands, d, "band edges"), age, side="right") - 1
            bad |= (c < 0) | (c >= d.n)
            c = np.clip(c, 0, d.n - 1)
        else:
            c = required(d.lut, d, "code lookup")[scode]
            bad |= c < 0
            c = np.clip(c, 0, None)
        key = key * d.n + c
    key = key * ctx.periods.n + ctx.periods.of(week)
    key[bad] = -1
    return key


def tabulate(states: pd.DataFrame, ctx: Context, codes: Sequence[str], where: str) -> dict[str, np.ndarray]:
    """Person-weeks and distinct persons per cell for one chunk of states (no person split across chunks)."""
    pidx, week, scode = states_arrays(states, ctx, codes, where)
    ok = select_rows(pidx, week, scode, ctx)
    pidx, week, scode = pidx[ok], week[ok], scode[ok]
    key = row_keys(pidx, week, scode, ctx)
    keep = key >= 0
    pidx, key = pidx[keep], key[keep]
    k = ctx.n_keys
    pw = np.bincount(key, minlength=k).astype(np.float64)
    # distinct persons per key: collapse runs, then hash-unique (person, key) pairs
    if len(key):
        new = np.ones(len(key), dtype=bool)
        new[1:] = (key[1:] != key[:-1]) | (pidx[1:] != pidx[:-1])
        pair = key[new] * np.int64(len(ctx.person_ids)) + pidx[new]
        uniq = pd.unique(pair)
        persons = np.bincount(uniq // np.int64(len(ctx.person_ids)), minlength=k)
    else:
        persons = np.zeros(k, dtype=np.int64)
    return {"person_weeks": pw, "persons": persons.astype(np.int64)}


def population(panel: RegisterPanel, ctx: Context) -> np.ndarray:
    """Average population per cell of the person and age dimensions (state dimensions broadcast).

    Person-weeks observed (inside ``obs_start .. obs_end``, the window and the age
    limits) divided by the weeks in the period.
    """
    p = ctx.periods
    persons = panel.persons
    lo = np.maximum(persons["obs_start"].to_numpy(np.int64), p.lo)
    hi = np.minimum(persons["obs_end"].to_numpy(np.int64), p.hi)
    if ctx.ages is not None:
        birth = ctx.birth_years()
        lo = np.maximum(lo, iso_year_first_week(birth + ctx.ages[0]))
        hi = np.minimum(hi, iso_year_first_week(birth + ctx.ages[1] + 1) - 1)
    ok = ctx.person_ok & (hi >= lo)
    pdims = [d for d in ctx.dims if d.kind in ("person", "age")]
    gkey = np.zeros(len(persons), dtype=np.int64)
    for d in pdims:
        if d.kind == "person":
            gkey = gkey * d.n + required(d.person_codes, d, "person codes")
        else:
            gkey = gkey * d.n  # filled per band below
    n_g = int(np.prod([d.n for d in pdims])) if pdims else 1
    n_w = p.hi - p.lo + 2
    diff = np.zeros(n_g * n_w, dtype=np.float64)
    age_dim = next((i for i, d in enumerate(pdims) if d.kind == "age"), None)
    if age_dim is None:
        bands = [(lo, hi, gkey, ok)]
    else:
        d = pdims[age_dim]
        stride = int(np.prod([e.n for e in pdims[age_dim + 1 :]])) if age_dim + 1 < len(pdims) else 1
        bands = []
        edges, birth = required(d.bands, d, "band edges"), ctx.birth_years()
        for b in range(d.n):
            a0, a1 = edges[b], edges[b + 1]
            blo = np.maximum(lo, iso_year_first_week(birth + int(a0)))
            bhi = (
                hi
                if not np.isfinite(a1)
                else np.minimum(hi, iso_year_first_week(birth + int(a1)) - 1)
            )
            bands.append((blo, bhi, gkey + b * stride, ok & (bhi >= blo)))
    for blo, bhi, g, m in bands:
        base = g[m] * n_w
        diff += np.bincount(base + (blo[m] - p.lo), minlength=n_g * n_w)
        diff -= np.bincount(base + (bhi[m] - p.lo + 1), minlength=n_g * n_w)
    per_week = np.cumsum(diff.reshape(n_g, n_w), axis=1)[:, :-1]
    pw = np.zeros((n_g, p.n))
    for j in range(p.n):
        pw[:, j] = per_week[:, p.first[j] - p.lo : p.last[j] - p.lo + 1].sum(axis=1)
    avg = pw / p.n_weeks[None, :]
    # broadcast to the full cell grid (state/internal dims get the same population)
    shape_p = [d.n if d.kind in ("person", "age") else 1 for d in ctx.dims] + [p.n]
    full = np.broadcast_to(avg.reshape(shape_p), ctx.shape)
    return np.ascontiguousarray(full).ravel()


def cell_frame(ctx: Context) -> pd.DataFrame:
    """Key columns for every cell (full cartesian product, C order)."""
    idx = np.unravel_index(np.arange(ctx.n_keys), ctx.shape)
    out = {}
    for d, ix in zip(ctx.dims, idx[:-1]):
        if d.kind == "internal":
            continue
        out[d.name] = np.asarray(d.labels, dtype=object)[ix]
    out["period"] = np.asarray(ctx.periods.labels, dtype=object)[idx[-1]]
    out["weeks"] = ctx.periods.n_weeks[idx[-1]]
    return pd.DataFrame(out)
