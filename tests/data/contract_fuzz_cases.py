"""Valid base inputs and the outcome checks of the input-contract fuzz suite (not a test module)."""

from __future__ import annotations

import itertools
import json
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from evaltools.data import RegisterPanel, dream_column, isoweek_to_index
from evaltools.exceptions import EvaltoolsError, InputWarning

#: Codes of the base inputs: none of them absorbing.
NONABS = ("111", "112", "701", "702", "890", "651")
YEARS = (2009, 2014, 2015, 2019, 2020)

#: Outcome counts over the whole run (printed by the suite's last test).
TALLY: Counter = Counter()
SEEN: set[str] = set()
_FILES = itertools.count()


@dataclass
class Case:
    """A valid DREAM extract: ``n`` persons by ``k`` consecutive weeks."""

    ids: list
    text: bool
    weeks: np.ndarray
    codes: list[list[str]]
    sex: list[str]

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def k(self) -> int:
        return len(self.weeks)

    @property
    def cols(self) -> list[str]:
        return dream_column(self.weeks)

    @property
    def n_coded(self) -> int:
        return sum(c != "" for row in self.codes for c in row)

    @property
    def pnr(self) -> list[str]:
        """Ids as written in the file."""
        return [str(i) for i in self.ids]

    def frame(self) -> pd.DataFrame:
        data: dict[str, object] = {"PNR": self.ids, "sex": self.sex}
        for j, c in enumerate(self.cols):
            data[c] = [row[j] for row in self.codes]
        return pd.DataFrame(data)

    def lines(self) -> list[str]:
        out = [",".join(["PNR", "sex", *self.cols])]
        for i in range(self.n):
            out.append(",".join([self.pnr[i], self.sex[i], *self.codes[i]]))
        return out

    def csv(self) -> str:
        return "\n".join(self.lines()) + "\n"

    def long(self, *, dense: bool, person_col: str = "person_id") -> pd.DataFrame:
        rows = [
            (self.ids[i], int(w), self.codes[i][j] or None)
            for i in range(self.n)
            for j, w in enumerate(self.weeks.tolist())
            if dense or self.codes[i][j]
        ]
        return pd.DataFrame(rows, columns=[person_col, "week", "state"])

    def persons(self, person_col: str = "person_id") -> pd.DataFrame:
        return pd.DataFrame(
            {
                person_col: self.ids,
                "obs_start": int(self.weeks[0]),
                "obs_end": int(self.weeks[-1]),
                "sex": self.sex,
            }
        )


@st.composite
def cases(draw: st.DrawFn, text: bool | None = None, n_min: int = 2) -> Case:
    """A valid extract: every person and the last weekly column have a code, no absorbing code."""
    n = draw(st.integers(n_min, 6))
    k = draw(st.integers(3, 7))
    year = draw(st.sampled_from(YEARS))
    lo = int(isoweek_to_index(year, draw(st.integers(1, 52))))
    text = draw(st.booleans()) if text is None else text
    nums = draw(st.lists(st.integers(1, 10**9), min_size=n, max_size=n, unique=True))
    ids = [f"0{v:09d}" for v in nums] if text else nums
    codes = [[draw(st.sampled_from((*NONABS, "", "", ""))) for _ in range(k)] for _ in range(n)]
    for row in codes:
        if not any(row):
            row[draw(st.integers(0, k - 1))] = draw(st.sampled_from(NONABS))
    if not any(row[-1] for row in codes):
        codes[draw(st.integers(0, n - 1))][-1] = draw(st.sampled_from(NONABS))
    sex = [draw(st.sampled_from(["M", "F"])) for _ in range(n)]
    return Case(ids=ids, text=text, weeks=lo + np.arange(k), codes=codes, sex=sex)


def write(directory: Path, content: str | bytes, suffix: str = ".csv") -> Path:
    """A fresh file in ``directory`` holding ``content``."""
    p = directory / f"f{next(_FILES)}{suffix}"
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return p


@dataclass(frozen=True)
class Err:
    """Expected: this EvaltoolsError subclass, its message holding every needle."""

    cls: type
    needles: tuple[str, ...] = ()

    def __init__(self, cls: type, *needles: str) -> None:
        object.__setattr__(self, "cls", cls)
        object.__setattr__(self, "needles", needles)


@dataclass(frozen=True)
class Ok:
    """Expected: a panel with these persons, coded weeks and observed weeks, and these notes.

    ``observed`` counts the input's person-weeks: the panel's observed weeks plus
    the weeks that an absorbing code took out of observation (recorded in the
    note) must add up to it.
    """

    persons: int
    coded: int
    observed: int
    notes: frozenset = field(default_factory=frozenset)


def ok(case: Case, *notes: str, persons: int | None = None, coded: int | None = None, observed=None) -> Ok:
    return Ok(
        persons=case.n if persons is None else persons,
        coded=case.n_coded if coded is None else coded,
        observed=case.n * case.k if observed is None else observed,
        notes=frozenset(notes),
    )


def check(name: str, call: Callable[[], object], expect: Err | Ok) -> None:
    """Run one input and assert the contract: named error or counted warnings with weeks conserved."""
    TALLY["inputs"] += 1
    SEEN.add(name)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            out = call()
        except EvaltoolsError as e:
            msg = str(e)
            assert isinstance(expect, Err), f"{name}: expected acceptance, got {type(e).__name__}: {msg}"
            assert isinstance(e, expect.cls), (
                f"{name}: expected {expect.cls.__name__}, got {type(e).__name__}"
            )
            for needle in expect.needles:
                assert needle in msg, f"{name}: {needle!r} not in message: {msg}"
            TALLY["named_errors"] += 1
            TALLY[f"error:{type(e).__name__}"] += 1
            return
        except Exception as e:  # noqa: BLE001 - the point of the suite
            raise AssertionError(f"{name}: bare {type(e).__name__} escaped a public entry point: {e}") from e
    assert isinstance(expect, Ok), f"{name}: accepted silently, expected {expect.cls.__name__}"
    assert isinstance(out, RegisterPanel)
    notes = list(out.meta.get("input_notes", []))
    rules = {d["rule"] for d in notes}
    assert rules == set(expect.notes), f"{name}: notes {rules}, expected {set(expect.notes)}"
    warned = [str(w.message) for w in rec if issubclass(w.category, InputWarning)]
    assert sorted(warned) == sorted(d["message"] for d in notes), f"{name}: warnings differ from meta notes"
    for d in notes:
        assert d["count"] >= 1 and f"{d['count']:,}" in d["message"], f"{name}: note without its count"
    assert out.n_persons == expect.persons, f"{name}: {out.n_persons} persons, expected {expect.persons}"
    assert len(out.states) == expect.coded, f"{name}: {len(out.states)} coded weeks, expected {expect.coded}"
    cut = sum(
        d["weeks"]
        for d in notes
        if d["rule"] == "absorbing_end" and out.meta["absorbing"] == "end_observation"
    )
    assert out.n_person_weeks + cut == expect.observed, (
        f"{name}: {out.n_person_weeks} observed + {cut} ended != {expect.observed} person-weeks"
    )
    TALLY["counted_warnings" if notes else "accepted_clean"] += 1


# -- registry of malformations ------------------------------------------------------------------
Mutation = Callable[[st.DataObject, Path], tuple[Callable[[], object], "Err | Ok"]]
#: Every registered malformation, by name (the three fuzz modules register theirs).
MUTATIONS: dict[str, Mutation] = {}
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
#: Hypothesis settings of the normal run and of the ``slow`` run.
FAST = settings(max_examples=3, deadline=None, suppress_health_check=_SUPPRESS, database=None)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=_SUPPRESS, database=None)


def registry(prefix: str) -> tuple[Callable[[str], Callable[[Mutation], Mutation]], Callable[[], list[str]]]:
    """``(mutation, names)``: a decorator registering ``prefix + name`` and the module's names."""

    def mutation(name: str) -> Callable[[Mutation], Mutation]:
        def deco(f: Mutation) -> Mutation:
            key = f"{prefix}{name}"
            assert key not in MUTATIONS, key
            MUTATIONS[key] = f
            return f

        return deco

    def names() -> list[str]:
        return sorted(n for n in MUTATIONS if n.startswith(prefix))

    return mutation, names


def run(name: str, data: st.DataObject, directory: Path) -> None:
    """Draw one input of malformation ``name`` and check its outcome."""
    call, expect = MUTATIONS[name](data, directory)
    check(name, call, expect)


def tally_summary() -> dict[str, object]:
    """The counts of the run so far, as printed at the end of the session."""
    return {
        "malformations_registered": len(MUTATIONS),
        "malformations_run": len(SEEN),
        **dict(sorted(TALLY.items())),
    }


def tally_json() -> str:
    return json.dumps(tally_summary())


# -- shared mutation helpers ----------------------------------------------------------------------
def _row(data: st.DataObject, c: Case) -> int:
    return data.draw(st.integers(0, c.n - 1), label="row")


def _col(data: st.DataObject, c: Case, lo: int = 0) -> int:
    return data.draw(st.integers(lo, c.k - 1), label="column")


def _csv(d: Path, lines: list[str], **kw: object) -> Callable[[], object]:
    from evaltools.data import read_dream

    path = write(d, "\n".join(lines) + "\n")
    return lambda: read_dream(path, **kw)


def _line(c: Case, i: int) -> tuple[str, str]:
    return f"line {i + 2}", f"PNR={c.pnr[i]!r}"


def _absorbing(data, code: str, mode: str = "end_observation"):
    c = data.draw(cases(text=False))
    i = _row(data, c)
    j = data.draw(st.integers(0, c.k - 2))
    c.codes[i] = [*c.codes[i][:j], code] + [""] * (c.k - j - 1)
    if not any(row[-1] for row in c.codes):
        c.codes[(i + 1) % c.n][-1] = "111"
    return c, i, j


def _with_column(c: Case, name: str, values: list) -> pd.DataFrame:
    df = c.frame()
    df[name] = values
    return df
