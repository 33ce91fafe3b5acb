"""Readers and writers for the DREAM wide layout and the long person-week layout.

DREAM wide layout
-----------------
One row per person:

- the id column (``PNR`` by default);
- one column per ISO week, ``y_YYWW`` (two-digit year with a pivot at 90,
  week 53 in long ISO years), holding the benefit code as a string; blank,
  ``""`` and NA mean "no registered transfer";
- optional monthly columns ``branche_YYYY_MM`` (industry) and
  ``grad_YYYY_MM`` (employment degree), from 2008;
- optional yearly columns ``akYY`` (UI-fund membership);
- any other column is a person-level background variable (sex,
  municipality, ...) and goes to ``panel.persons``.

Monthly and yearly columns are kept as two *calendar tables* in
``panel.events`` (same schema as event tables, so they subset and store like
events, but :func:`evaltools.data.validate` does not treat them as events):

``events["dream_monthly"]``
    ``person_id, week, end_week, month ("YYYY-MM"), branche, grad``: one row
    per person-month with a non-missing value; ``week``/``end_week`` are the
    first and last ISO week whose Thursday falls in the month (the DREAMtoolsR
    rule).
``events["dream_yearly"]``
    ``person_id, week, end_week, year, ak``: one row per person-year with a
    non-missing value; the weeks are the ISO weeks of that year.

Long layout
-----------
One row per person-week: person, week, state.  *Sparse* files hold only the
weeks with a code; *dense* files hold every observed week (blank state for no
code) and are checked for gaps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaltools._validation import check_columns, warn_dropped
from evaltools.data.checks import (
    check_duplicate_weeks,
    check_gaps,
    check_orphan_states,
    check_unknown_codes,
    check_window,
)
from evaltools.data.codes import CodeTable, default_codes
from evaltools.data.panel import RegisterPanel
from evaltools.data.weeks import (
    EPOCH,
    dream_column,
    isoweek_to_index,
    parse_dream_columns,
    week_label,
    weeks_in_year,
)
from evaltools.exceptions import DataValidationError, SpecificationError

__all__ = ["read_dream", "to_dream_wide", "write_dream", "read_long", "write_long"]

MONTHLY_COLUMN = re.compile(r"^(branche|grad)_(\d{4})_(\d{2})$")
YEARLY_COLUMN = re.compile(r"^ak(\d{2})$")
ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{2})\s*$")
MONTHLY_TABLE = "dream_monthly"
YEARLY_TABLE = "dream_yearly"


# -- helpers ---------------------------------------------------------------------
def _suffix(path: Path, where: str) -> str:
    suf = path.suffix.lower()
    if suf in (".csv", ".txt", ".gz") and (suf != ".gz" or path.name.lower().endswith(".csv.gz")):
        return "csv"
    if suf in (".parquet", ".pq"):
        return "parquet"
    raise SpecificationError(
        f"{where}: cannot tell the format of {path.name!r} from its suffix. "
        "Use a .csv, .csv.gz, .parquet or .pq file, or pass a DataFrame."
    )


def _as_code_strings(col: pd.Series) -> pd.Series:
    """Codes as stripped strings with NA for blank; integral floats lose their '.0'."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        vals = col.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = ~np.isnan(vals)
        out = np.full(len(vals), None, dtype=object)
        if ok.any():
            iv = vals[ok]
            if np.any(iv != np.round(iv)):
                raise DataValidationError(
                    f"column {col.name!r} holds non-integer numbers "
                    f"(e.g. {iv[iv != np.round(iv)][:3].tolist()}); "
                    "codes must be strings or integers. Read the file with string dtype for code columns."
                )
            out[ok] = iv.astype(np.int64).astype(str)
        return pd.Series(out, index=col.index, dtype="string")
    s = col.astype("string").str.strip()
    return s.mask(s == "")


def _person_ids(raw: pd.Series, where: str) -> tuple[np.ndarray, pd.Series | None]:
    """int64 person ids, plus the original ids when they are not plain integers."""
    name = raw.name
    if raw.isna().any():
        rows = np.flatnonzero(raw.isna().to_numpy())[:3].tolist()
        raise DataValidationError(
            f"{where}: column {name!r} is missing in {int(raw.isna().sum()):,} rows (e.g. rows {rows}). "
            "Every row needs a person id; drop or fix those rows."
        )
    dup = raw.duplicated(keep=False).to_numpy()
    if dup.any():
        ex = raw[dup].unique()[:3].tolist()
        raise DataValidationError(
            f"{where}: column {name!r} has {int(dup.sum()):,} rows with a duplicated id (e.g. {ex}). "
            "The wide layout has one row per person; merge the duplicated rows."
        )
    if pd.api.types.is_integer_dtype(raw.dtype):
        return raw.to_numpy(dtype=np.int64), None
    if pd.api.types.is_float_dtype(raw.dtype):
        v = raw.to_numpy(dtype=np.float64)
        if np.all(v == np.round(v)):
            return v.astype(np.int64), None
    s = raw.astype(str).str.strip()
    if s.str.fullmatch(r"-?[1-9]\d{0,17}|0").all():
        return s.astype(np.int64).to_numpy(), None
    # non-numeric ids (or leading zeros): number them in sorted order and keep the original
    codes, _ = pd.factorize(s, sort=True)
    return (codes + 1).astype(np.int64), s.rename(name)


def _month_weeks(year: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last week index whose Thursday falls in each calendar month."""
    first = (np.asarray(year) - 1970) * 12 + (np.asarray(month) - 1)
    d0 = first.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    d1 = (first + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
    e = int(EPOCH.astype(np.int64))
    # week whose Thursday is >= d0: Thursday of week w is e + 7w + 3
    w0 = -((-(d0 - e - 3)) // 7)
    w1 = (d1 - e - 3) // 7
    return w0.astype(np.int32), w1.astype(np.int32)


def _year_weeks(year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(year, dtype=np.int64)
    return isoweek_to_index(y, 1), isoweek_to_index(y, weeks_in_year(y))


def _window(value: object, frame: pd.DataFrame, default: int, name: str, where: str) -> np.ndarray:
    if value is None:
        if name in frame.columns:
            value = name
        else:
            return np.full(len(frame), default, dtype=np.int32)
    if isinstance(value, str):
        check_columns(frame, [value], f"{where}({name}=...)")
        col = frame[value]
        if col.isna().any():
            raise DataValidationError(
                f"{where}: column {value!r} ({name}) is missing in {int(col.isna().sum()):,} rows. "
                "Fill it with week indices or pass an int."
            )
        return col.to_numpy(dtype=np.int32)
    return np.full(len(frame), int(value), dtype=np.int32)


def _load(source: str | Path | pd.DataFrame, where: str, str_columns: object) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source, "DataFrame"
    path = Path(source)
    kind = _suffix(path, where)
    if not path.is_file():
        raise FileNotFoundError(f"{where}: file {str(path)!r} not found. Check the path.")
    if kind == "parquet":
        return pd.read_parquet(path), str(path)
    header = pd.read_csv(path, nrows=0).columns
    dtypes = {c: str for c in header if str_columns(str(c))}
    return pd.read_csv(path, dtype=dtypes), str(path)


# -- DREAM wide ------------------------------------------------------------------
def read_dream(
    source: str | Path | pd.DataFrame,
    *,
    id_col: str = "PNR",
    codes: CodeTable | None = None,
    pivot: int = 90,
    obs_start: int | str | None = None,
    obs_end: int | str | None = None,
    events: Mapping[str, pd.DataFrame] | None = None,
) -> RegisterPanel:
    """Read a DREAM file in the wide layout into a :class:`RegisterPanel`.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv``/``.csv.gz``/``.parquet`` file or a DataFrame (not modified).
        Columns may come in any order.
    id_col : str, default="PNR"
        Person id column.  Integer ids are used as ``person_id``; other ids
        (strings, leading zeros) are numbered 1, 2, ... in sorted order and kept
        as a string column ``id_col`` in ``panel.persons``.
    codes : CodeTable, optional
        Code vocabulary (default: :func:`evaltools.data.default_codes`).
    pivot : int, default=90
        Two-digit years ``>= pivot`` are 19YY, the others 20YY.
    obs_start, obs_end : int or str, optional
        Observation window: a week index for everybody, or the name of a column
        holding week indices.  By default, columns named ``obs_start`` /
        ``obs_end`` are used if present (as written by :func:`to_dream_wide`),
        else the file's first and last weekly column.
    events : mapping of str to DataFrame, optional
        Further event tables (activation, mentor, ...).

    Returns
    -------
    RegisterPanel
        ``meta`` records the source, the pivot and the number of weekly columns.

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    DataValidationError
        Missing or duplicated ids, unknown codes (naming column, count, example
        ids), non-existent weeks such as ``y_1953``, weekly columns missing
        inside the file's week range, or codes outside the observation window.
    """
    where = "read_dream"
    codes = codes if codes is not None else default_codes()
    df, src = _load(
        source, where, lambda c: bool(re.match(r"^(y_\d{4}|branche_\d{4}_\d{2}|ak\d{2})$", c)) or c == id_col
    )
    check_columns(df, [id_col], where, role="person id")
    weekly = parse_dream_columns([str(c) for c in df.columns], pivot=pivot)
    if not weekly:
        raise DataValidationError(
            f"{where}: no weekly columns named y_YYWW found (columns: {list(map(str, df.columns[:10]))}). "
            "Is this a DREAM file in the wide layout? For long files use read_long."
        )
    wcols = sorted(weekly, key=weekly.get)
    widx = np.array([weekly[c] for c in wcols], dtype=np.int64)
    if len(np.unique(widx)) != len(widx):
        raise DataValidationError(
            f"{where}: two weekly columns name the same week. Keep one column per week."
        )
    lo, hi = int(widx.min()), int(widx.max())
    if len(widx) != hi - lo + 1:
        missing = np.setdiff1d(np.arange(lo, hi + 1), widx)
        raise DataValidationError(
            f"{where}: {len(missing):,} weekly column(s) are missing inside the file's range "
            f"{dream_column(lo)[0]}..{dream_column(hi)[0]} (e.g. {dream_column(missing[:5])}). "
            "Add them (blank = no transfer) so that absent weeks are not mistaken for self-support."
        )
    pid, original = _person_ids(df[id_col], where)
    monthly = {c: MONTHLY_COLUMN.match(str(c)) for c in df.columns}
    monthly = {c: m for c, m in monthly.items() if m}
    yearly = {c: YEARLY_COLUMN.match(str(c)) for c in df.columns}
    yearly = {c: m for c, m in yearly.items() if m}

    # weekly codes -> sparse long, via integer code matrix (memory: 2 bytes per cell)
    cats = list(codes.codes)
    mat = np.empty((len(df), len(wcols)), dtype=np.int16)
    for j, c in enumerate(wcols):
        s = _as_code_strings(df[c])
        cc = pd.Categorical(s.to_numpy(dtype=object, na_value=None), categories=cats).codes
        unknown = s.notna().to_numpy() & (cc < 0)
        if unknown.any():
            ex = [f"{id_col}={p}" for p in df[id_col].to_numpy()[unknown][:3]]
            raise DataValidationError(
                f"{where}: column {c!r} ({week_label(weekly[c])}) has {int(unknown.sum()):,} code(s) "
                f"not in the "
                f"code table ({sorted(set(s[unknown].astype(str)))[:5]}; e.g. {', '.join(ex)}). "
                "Add the codes to a CodeTable and pass it as codes=..., or recode them."
            )
        mat[:, j] = cc
    rows, cols = np.nonzero(mat >= 0)
    states = pd.DataFrame(
        {
            "person_id": pid[rows],
            "week": (widx[cols]).astype(np.int32),
            "state": pd.Categorical.from_codes(mat[rows, cols], dtype=codes.dtype()),
        }
    )
    del mat

    start = _window(obs_start, df, lo, "obs_start", where)
    end = _window(obs_end, df, hi, "obs_end", where)
    used = {id_col, *weekly, *monthly, *yearly}
    used |= {v for v in (obs_start, obs_end) if isinstance(v, str)}
    used |= {n for n, v in (("obs_start", obs_start), ("obs_end", obs_end)) if v is None and n in df.columns}
    persons = pd.DataFrame({"person_id": pid, "obs_start": start, "obs_end": end})
    if original is not None:
        persons[id_col] = original.to_numpy()
    for c in df.columns:
        if c not in used:
            persons[c] = df[c].array

    ev = dict(events or {})
    if monthly:
        ev[MONTHLY_TABLE] = _read_monthly(df, monthly, pid)
    if yearly:
        ev[YEARLY_TABLE] = _read_yearly(df, yearly, pid, pivot)
    meta = {
        "source": src,
        "layout": "dream_wide",
        "pivot": pivot,
        "n_week_columns": len(wcols),
        "id_col": id_col,
    }
    panel = RegisterPanel(states=states, persons=persons, events=ev, codes=codes, meta=meta)
    issue = check_window(panel.states, panel.persons)
    if issue:
        raise DataValidationError(f"{where}: {issue.message}")
    return panel


def _read_monthly(df: pd.DataFrame, monthly: dict, pid: np.ndarray) -> pd.DataFrame:
    by_month: dict[tuple[int, int], dict[str, str]] = {}
    for c, m in monthly.items():
        by_month.setdefault((int(m.group(2)), int(m.group(3))), {})[m.group(1)] = c
    grad_numeric = all(
        pd.api.types.is_numeric_dtype(df[c].dtype) for c, m in monthly.items() if m.group(1) == "grad"
    )
    parts = []
    for (y, mo), cols in sorted(by_month.items()):
        b = (
            _as_code_strings(df[cols["branche"]])
            if "branche" in cols
            else pd.Series(pd.NA, index=df.index, dtype="string")
        )
        if "grad" in cols:
            g = df[cols["grad"]]
            g = g.astype(np.float64) if grad_numeric else _as_code_strings(g)
        else:
            g = pd.Series(
                np.nan if grad_numeric else pd.NA,
                index=df.index,
                dtype="float64" if grad_numeric else "string",
            )
        keep = (b.notna() | g.notna()).to_numpy()
        w0, w1 = _month_weeks(np.array([y]), np.array([mo]))
        parts.append(
            pd.DataFrame(
                {
                    "person_id": pid[keep],
                    "week": np.full(keep.sum(), w0[0], np.int32),
                    "end_week": np.full(keep.sum(), w1[0], np.int32),
                    "month": f"{y:04d}-{mo:02d}",
                    "branche": b[keep].to_numpy(),
                    "grad": g[keep].to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["branche"] = out["branche"].astype("string")
    if not grad_numeric:
        out["grad"] = out["grad"].astype("string")
    return out.sort_values(["person_id", "week"], kind="stable", ignore_index=True)


def _read_yearly(df: pd.DataFrame, yearly: dict, pid: np.ndarray, pivot: int) -> pd.DataFrame:
    parts = []
    for c, m in yearly.items():
        yy = int(m.group(1))
        y = 1900 + yy if yy >= pivot else 2000 + yy
        v = _as_code_strings(df[c])
        keep = v.notna().to_numpy()
        w0, w1 = _year_weeks(np.array([y]))
        parts.append(
            pd.DataFrame(
                {
                    "person_id": pid[keep],
                    "week": np.full(keep.sum(), w0[0], np.int32),
                    "end_week": np.full(keep.sum(), w1[0], np.int32),
                    "year": np.full(keep.sum(), y, np.int16),
                    "ak": v[keep].to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["ak"] = out["ak"].astype("string")
    return out.sort_values(["person_id", "week"], kind="stable", ignore_index=True)


def to_dream_wide(
    panel: RegisterPanel,
    *,
    id_col: str = "PNR",
    weeks: tuple[int, int] | None = None,
    blank: str = "",
) -> pd.DataFrame:
    """The panel in the DREAM wide layout.

    Parameters
    ----------
    panel : RegisterPanel
        The panel.
    id_col : str, default="PNR"
        Name of the id column; if ``panel.persons`` has a column of that name
        (original string ids from :func:`read_dream`) it is used, else
        ``person_id``.
    weeks : (int, int), optional
        First and last week index to write (default: ``panel.week_range``).
        Codes outside are left out with a :class:`DroppedRowsWarning`.
    blank : str, default=""
        Cell value for weeks without a code.

    Returns
    -------
    DataFrame
        ``id_col``, the background columns, ``obs_start``/``obs_end`` (only if
        some person's window differs from the written range), the ``y_YYWW``
        columns (codes as strings), then ``branche_YYYY_MM``/``grad_YYYY_MM`` and
        ``akYY`` columns if the panel has the calendar tables.
    """
    where = "to_dream_wide"
    lo, hi = weeks if weeks is not None else panel.week_range
    persons = panel.persons
    st = panel.states
    w = st["week"].to_numpy(np.int64)
    inside = (w >= lo) & (w <= hi)
    warn_dropped(int((~inside).sum()), len(st), f"codes outside the written weeks {lo}..{hi}", where)
    st = st.loc[inside]
    n_w = hi - lo + 1
    row = np.searchsorted(persons["person_id"].to_numpy(), st["person_id"].to_numpy())
    mat = np.full((len(persons), n_w), -1, dtype=np.int16)
    mat[row, st["week"].to_numpy(np.int64) - lo] = st["state"].cat.codes.to_numpy()
    labels = np.array([*map(str, st["state"].cat.categories), blank], dtype=object)
    out: dict[str, object] = {}
    out[id_col] = persons[id_col].to_numpy() if id_col in persons.columns else persons["person_id"].to_numpy()
    for c in persons.columns:
        if c not in ("person_id", id_col, "obs_start", "obs_end"):
            out[c] = persons[c].array
    if (persons["obs_start"] != lo).any() or (persons["obs_end"] != hi).any():
        out["obs_start"] = persons["obs_start"].to_numpy()
        out["obs_end"] = persons["obs_end"].to_numpy()
    names = dream_column(np.arange(lo, hi + 1))
    for j, name in enumerate(names):
        out[name] = labels[mat[:, j]]
    frame = pd.DataFrame(out)
    extra = []
    pos = {p: i for i, p in enumerate(persons["person_id"].to_numpy().tolist())} if panel.events else {}
    if MONTHLY_TABLE in panel.events:
        m = panel.events[MONTHLY_TABLE]
        r = m["person_id"].map(pos).to_numpy()
        for var in ("branche", "grad"):
            if var not in m.columns:
                continue
            wide = pd.DataFrame({"r": r, "month": m["month"].to_numpy(), "v": m[var].to_numpy()})
            wide = wide.pivot(index="r", columns="month", values="v").reindex(range(len(persons)))
            wide.columns = [f"{var}_{str(c).replace('-', '_')}" for c in wide.columns]
            extra.append(wide.reset_index(drop=True))
    if YEARLY_TABLE in panel.events:
        yv = panel.events[YEARLY_TABLE]
        wide = pd.DataFrame(
            {"r": yv["person_id"].map(pos).to_numpy(), "y": yv["year"].to_numpy(), "v": yv["ak"]}
        )
        wide = wide.pivot(index="r", columns="y", values="v").reindex(range(len(persons)))
        wide.columns = [f"ak{int(c) % 100:02d}" for c in wide.columns]
        extra.append(wide.reset_index(drop=True))
    if extra:
        frame = pd.concat([frame, *extra], axis=1)
    return frame


def write_dream(panel: RegisterPanel, path: str | Path, **kwargs: object) -> Path:
    """Write the panel in the DREAM wide layout to ``.csv`` (``.csv.gz``) or ``.parquet`` by suffix.

    Parameters
    ----------
    panel : RegisterPanel
        The panel.
    path : str or Path
        Target file.
    **kwargs
        Passed to :func:`to_dream_wide` (``id_col``, ``weeks``).

    Returns
    -------
    Path
        The file written.
    """
    out = Path(path)
    kind = _suffix(out, "write_dream")
    frame = to_dream_wide(panel, **kwargs)  # type: ignore[arg-type]
    if kind == "csv":
        frame.to_csv(out, index=False)
    else:
        weekly = [c for c in frame.columns if str(c).startswith("y_")]
        frame = frame.astype({c: "string" for c in weekly})
        frame.to_parquet(out, index=False)
    return out


# -- long layout -----------------------------------------------------------------
def _parse_weeks(frame: pd.DataFrame, week_col: str, year_col: str | None, where: str) -> np.ndarray:
    col = frame[week_col]
    if col.isna().any():
        raise DataValidationError(
            f"{where}: column {week_col!r} is missing in {int(col.isna().sum()):,} rows. "
            "Every row needs a week."
        )
    if year_col is not None:
        check_columns(frame, [year_col], where, role="ISO year")
        return isoweek_to_index(frame[year_col].to_numpy(np.int64), col.to_numpy(np.int64))
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.to_numpy(dtype=np.int32)
    s = col.astype(str)
    parts = s.str.extract(ISO_WEEK)
    bad = parts[0].isna().to_numpy()
    if bad.any():
        raise DataValidationError(
            f"{where}: column {week_col!r} has {int(bad.sum()):,} value(s) that are neither week indices nor "
            f"ISO weeks like '2019-W05' (e.g. {s[bad].unique()[:3].tolist()}). "
            "Fix the values or pass year_col=."
        )
    return isoweek_to_index(parts[0].astype(np.int64).to_numpy(), parts[1].astype(np.int64).to_numpy())


def read_long(
    source: str | Path | pd.DataFrame,
    *,
    person_col: str = "person_id",
    week_col: str = "week",
    year_col: str | None = None,
    state_col: str = "state",
    persons: pd.DataFrame | None = None,
    events: Mapping[str, pd.DataFrame] | None = None,
    codes: CodeTable | None = None,
    dense: bool = False,
    obs_start: int | None = None,
    obs_end: int | None = None,
) -> RegisterPanel:
    """Read person-week rows in the long layout into a :class:`RegisterPanel`.

    Parameters
    ----------
    source : str, Path or DataFrame
        ``.csv``/``.parquet`` file or DataFrame (not modified).
    person_col, week_col, state_col : str
        Column names.  ``week_col`` holds week indices (int), ISO labels such
        as ``"2019-W05"``, or ISO week numbers when ``year_col`` is given.
    year_col : str, optional
        Column with the ISO year; ``week_col`` is then the ISO week number.
    persons : DataFrame, optional
        Person table with ``person_col`` and optionally ``obs_start``,
        ``obs_end`` and background columns.
    events : mapping of str to DataFrame, optional
        Event tables.
    codes : CodeTable, optional
        Code vocabulary.
    dense : bool, default=False
        ``True``: the file has one row per observed person-week (blank state =
        no code); gaps are an error and each person's window is their first to
        last row.  ``False``: only coded weeks; the window comes from
        ``persons``, else from ``obs_start``/``obs_end``, else from the file's
        first and last week.
    obs_start, obs_end : int, optional
        Observation window for every person (sparse files without windows).

    Returns
    -------
    RegisterPanel
        ``meta["n_blank_rows"]`` counts rows with a blank state (kept as "no
        code" weeks, not stored as rows).

    Raises
    ------
    DataValidationError
        Duplicate person-weeks, unknown codes, gaps (dense), persons missing
        from ``persons``, or weeks outside the observation window.
    """
    where = "read_long"
    codes = codes if codes is not None else default_codes()
    df, src = _load(source, where, lambda c: c == state_col)
    check_columns(df, [person_col, week_col, state_col], where)
    ids = df[person_col]
    if ids.isna().any() or not (
        pd.api.types.is_integer_dtype(ids.dtype) or ids.astype(str).str.fullmatch(r"-?\d{1,18}").all()
    ):
        bad = ids.isna().to_numpy() | ~ids.astype(str).str.fullmatch(r"-?\d{1,18}").to_numpy(dtype=bool)
        raise DataValidationError(
            f"{where}: column {person_col!r} must hold integer person ids; {int(bad.sum()):,} rows do not "
            f"(e.g. {ids[bad].head(3).tolist()}). Map the ids to integers first."
        )
    raw = pd.DataFrame(
        {
            person_col: ids.astype(np.int64).to_numpy()
            if not pd.api.types.is_integer_dtype(ids.dtype)
            else ids.to_numpy(dtype=np.int64),
            week_col: _parse_weeks(df, week_col, year_col, where),
            state_col: _as_code_strings(df[state_col]).to_numpy(dtype=object, na_value=None),
        }
    )
    for issue in (
        check_duplicate_weeks(raw, person_col, week_col),
        check_unknown_codes(raw, codes, person_col=person_col, week_col=week_col, state_col=state_col),
        check_gaps(raw, person_col=person_col, week_col=week_col) if dense else None,
    ):
        if issue:
            raise DataValidationError(f"{where}: {issue.message}")
    blank = pd.isna(raw[state_col]).to_numpy()
    pid = raw[person_col].to_numpy()
    wk = raw[week_col].to_numpy(np.int64)
    if persons is None:
        uniq = np.unique(pid)
        pers = pd.DataFrame({"person_id": uniq})
    else:
        check_columns(persons, [person_col], f"{where}(persons=...)")
        pers = persons.rename(columns={person_col: "person_id"}).copy()
    if "obs_start" not in pers.columns or "obs_end" not in pers.columns:
        if dense:
            g = pd.DataFrame({"p": pid, "w": wk}).groupby("p")["w"]
            first, last = g.min(), g.max()
            pers["obs_start"] = pers["person_id"].map(first)
            pers["obs_end"] = pers["person_id"].map(last)
            no_rows = pers["obs_start"].isna().to_numpy()
            if no_rows.any():
                raise DataValidationError(
                    f"{where}: {int(no_rows.sum()):,} person(s) in persons have no rows in a dense file "
                    f"(e.g. person_id={pers.loc[no_rows, 'person_id'].head(3).tolist()}), so their window is "
                    "unknown. Give persons obs_start/obs_end columns."
                )
        else:
            pers["obs_start"] = int(wk.min()) if obs_start is None else int(obs_start)
            pers["obs_end"] = int(wk.max()) if obs_end is None else int(obs_end)
    states = pd.DataFrame(
        {"person_id": pid[~blank], "week": wk[~blank], "state": raw[state_col].to_numpy()[~blank]}
    )
    issue = check_orphan_states(states, pers)
    if issue:
        raise DataValidationError(f"{where}: {issue.message}")
    meta = {
        "source": src,
        "layout": "long_dense" if dense else "long_sparse",
        "n_blank_rows": int(blank.sum()),
    }
    panel = RegisterPanel(states=states, persons=pers, events=dict(events or {}), codes=codes, meta=meta)
    issue = check_window(panel.states, panel.persons)
    if issue:
        raise DataValidationError(f"{where}: {issue.message}")
    return panel


def write_long(
    panel: RegisterPanel, path: str | Path, *, dense: bool = False, week_format: str = "index"
) -> Path:
    """Write the states in the long layout (``.csv`` or ``.parquet`` by suffix).

    Parameters
    ----------
    panel : RegisterPanel
        The panel.
    path : str or Path
        Target file.  Only the states are written; save the person table
        separately (or use :func:`evaltools.data.write_panel` for everything).
    dense : bool, default=False
        Write every observed person-week (blank state for no code).
    week_format : {"index", "iso"}, default="index"
        Week indices or ISO labels such as ``"2019-W05"``.

    Returns
    -------
    Path
        The file written.
    """
    from evaltools._validation import check_option

    check_option("week_format", week_format, ("index", "iso"), "write_long")
    out = Path(path)
    kind = _suffix(out, "write_long")
    frame = panel.to_long(dense=dense)
    frame["state"] = frame["state"].astype("string")
    if week_format == "iso":
        frame["week"] = week_label(frame["week"].to_numpy())
    if kind == "csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    return out
