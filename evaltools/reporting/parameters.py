"""Check the parameters of a report or notebook against the data before anything runs.

A parameterised notebook is rerun by people who did not write it: a typo in a
municipality, a period outside the panel's window or a benefit name that is
not in the code table should stop the run at once, with one message that
names the parameter, the value, what the panel has and the fix.
:func:`check_parameters` does that and returns a :class:`RunParameters`
object that displays the checked parameters as a small table (the first thing
a reader of the rendered report sees).

Examples
--------
>>> from evaltools.data import read_panel
>>> from evaltools.reporting import check_parameters
>>> panel = read_panel("data_samples/sample_panel")  # doctest: +SKIP
>>> check_parameters(panel, municipality="Odence")  # doctest: +SKIP
Traceback (most recent call last):
ParameterError: municipality='Odence' is not a municipality of the panel; did you mean 'Odense'? ...
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaltools.exceptions import ParameterError

__all__ = ["RunParameters", "check_parameters", "PARAMETERS_MIME"]

#: MIME type under which a notebook records its checked parameters (read by ``execute_notebook``).
PARAMETERS_MIME = "application/x-evaltools-parameters"

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
_PERIOD_LABEL = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?$")


def _fold(name: str) -> str:
    return name.translate(_DANISH).casefold().replace(" ", "").replace("-", "")


def _close(value: str, valid: Sequence[str]) -> list[str]:
    """Valid names close to ``value``: same letters up to case and Danish spelling first, then difflib."""
    folded = {_fold(v): v for v in valid}
    exact = folded.get(_fold(value))
    if exact is not None:
        return [exact]
    hits = difflib.get_close_matches(_fold(value), list(folded), n=3, cutoff=0.6)
    return [folded[h] for h in hits]


def _listing(valid: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(valid[:limit])
    return shown + (f", ... ({len(valid)} in all)" if len(valid) > limit else "")


def _names(value: object, name: str, problems: list[str]) -> list[str] | None:
    """``None``, one name or a sequence of names as a list of str (a problem is recorded otherwise)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    problems.append(f"{name}={value!r} must be a name, a list of names or None.")
    return None


def _check_names(
    value: object, name: str, valid: Sequence[str], what: str, problems: list[str], *, none_means: str,
    plural: str | None = None,
) -> list[str] | None:
    names = _names(value, name, problems)
    if names is None:
        return None
    if not names:
        problems.append(f"{name}={value!r} is empty; give at least one {what} or None ({none_means}).")
        return None
    for v in names:
        if v in valid:
            continue
        close = _close(v, valid)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        problems.append(
            f"{name}={v!r} is not a {what} of the panel; {hint}The panel's {plural or what + 's'}: "
            f"{_listing(valid)}. "
            f"Set {name} to one of them (or None for {none_means})."
        )
    return names


def _as_year(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return None


def _label_years(label: str) -> tuple[int, int] | None:
    m = _PERIOD_LABEL.match(label)
    if m is None:
        return None
    if m.group(2) and m.group(2)[0].isdigit() and not 1 <= int(m.group(2)) <= 12:
        return None
    y = int(m.group(1))
    return y, y


@dataclass(frozen=True)
class RunParameters:
    """The checked parameters of one run, displayed as a table.

    Attributes
    ----------
    values : dict
        Every parameter as given (checked ones and those passed in ``show``).
    municipalities : tuple of str or None
        The ``municipality`` parameter as a tuple of names (``None``: all).
    window : (int, int) or None
        First and last week index of ``period`` (``None``: the whole panel).
    panel_window : (int, int)
        First and last observed week of the panel.
    description : str
        One line describing the data (persons and weeks).
    """

    values: dict[str, Any]
    municipalities: tuple[str, ...] | None
    window: tuple[int, int] | None
    panel_window: tuple[int, int]
    description: str
    title: str = "Parameters of this run"
    checked: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        """The parameter values as JSON (non-JSON values as their ``repr``)."""
        return json.dumps({"values": self.values, "data": self.description}, default=repr)

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for k, v in self.values.items():
            if v is None:
                shown = "all" if k in ("municipality", "period") else "default (None)"
            elif isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
                shown = ", ".join(v)
            elif isinstance(v, tuple) and k == "period":
                shown = f"{v[0]}-{v[1]}"
            else:
                shown = str(v)
            rows.append((k, shown, "checked against the data" if k in self.checked else ""))
        return rows

    def __str__(self) -> str:
        rows = self._rows()
        w = max([len(k) for k, _, _ in rows] + [9])
        body = "\n".join(f"{k.ljust(w)}  {v}" for k, v, _ in rows)
        return f"{self.title}\n{body}\nData: {self.description}"

    def __repr__(self) -> str:
        return f"<RunParameters: {', '.join(f'{k}={v!r}' for k, v in self.values.items())}>"

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(v)}</td><td style='text-align:left;color:#666'>{html.escape(note)}</td></tr>"
            for k, v, note in self._rows()
        )
        return (
            f"<div class='evaltools-parameters'><b>{html.escape(self.title)}</b>"
            f"<table><tbody>{cells}</tbody></table>"
            f"<p><small>Data: {html.escape(self.description)}</small></p></div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # the extra MIME entry lets execute_notebook store the parameters in the notebook's metadata
        return {"text/plain": str(self), "text/html": self._repr_html_(), PARAMETERS_MIME: self.to_json()}


def check_parameters(
    panel: Any,
    *,
    municipality: str | Sequence[str] | None = None,
    period: tuple[int, int] | None = None,
    benefits: str | Sequence[str] | None = None,
    programme: str | Sequence[str] | None = None,
    years: Mapping[str, int] | None = None,
    periods: Mapping[str, str] | None = None,
    municipalities: Mapping[str, str | Sequence[str] | None] | None = None,
    show: Mapping[str, object] | None = None,
    title: str = "Parameters of this run",
) -> RunParameters:
    """Check report parameters against a panel; raise one clear error listing every problem.

    Parameters
    ----------
    panel : RegisterPanel
        The data the report runs on.
    municipality : str, sequence of str or None, optional
        One municipality, several, or ``None`` (all).  Each name must occur in
        ``panel.persons["municipality"]``; a near miss (case, Danish letters
        spelled out, a typo) is suggested.
    period : (int, int), optional
        First and last calendar year (inclusive); both must lie in the
        panel's observed years and ``first <= last``.
    benefits : str or sequence of str, optional
        Benefit groups (the code table's ``benefit`` column, censoring codes
        excluded); each must have coded weeks in the panel.
    programme : str or sequence of str, optional
        Activation kinds (the code table's ``activation`` column, without
        ``"none"``).
    years : mapping of str to int, optional
        Named single years (e.g. ``{"baseline_year": 2011, "target_year":
        2012}``), each inside the panel's years and in non-decreasing order.
    periods : mapping of str to str, optional
        Named period labels as the indicator tables write them (``"2011"``,
        ``"2011-H1"``, ``"2011-Q4"``, ``"2011-03"``), each inside the panel's years.
    municipalities : mapping of str to names, optional
        Further named municipality parameters (e.g. a list of project
        municipalities), checked like ``municipality``.
    show : mapping, optional
        Other parameters to list in the displayed table (not checked).
    title : str, default="Parameters of this run"
        Title of the displayed table.

    Returns
    -------
    RunParameters
        Displays as a table of the parameters; ``window`` holds the week
        range of ``period``.

    Raises
    ------
    ParameterError
        Naming each parameter that does not fit, its value, what the panel
        has, and the fix (all problems in one message).

    Examples
    --------
    >>> from evaltools.synth import generate
    >>> panel = generate(seed=1, n_persons=300).panel
    >>> check_parameters(panel, period=(2009, 2010)).window
    (991, 1095)
    >>> check_parameters(panel, period=(1990, 1991))
    Traceback (most recent call last):
    ...
    evaltools.exceptions.ParameterError: period=(1990, 1991) is outside the panel's observation window ...
    """
    from evaltools.data.weeks import index_to_isoweek, isoweek_to_index, week_label

    problems: list[str] = []
    lo, hi = panel.week_range
    y_lo, y_hi = (int(v) for v in index_to_isoweek(np.array([lo, hi]))[0])
    span = f"{week_label(lo)}..{week_label(hi)}"
    description = f"{panel.n_persons:,} persons, weeks {span}"
    checked: list[str] = []
    values: dict[str, Any] = {}

    muni_valid = sorted(panel.persons["municipality"].astype(str).unique()) if (
        "municipality" in panel.persons.columns
    ) else []
    named_munis = {"municipality": municipality, **dict(municipalities or {})}
    chosen: list[str] | None = None
    for name, value in named_munis.items():
        values[name] = value
        if value is None:
            continue
        checked.append(name)
        if not muni_valid:
            problems.append(f"{name}={value!r} was given, but the panel's person table has no 'municipality' "
                            "column. Add it to the persons table or set the parameter to None.")
            continue
        got = _check_names(value, name, muni_valid, "municipality", problems, none_means="all municipalities",
                           plural="municipalities")
        if name == "municipality":
            chosen = got

    window = None
    values["period"] = period
    if period is not None:
        checked.append("period")
        ok = (isinstance(period, (tuple, list)) and len(period) == 2
              and all(_as_year(p) is not None for p in period))
        if not ok:
            problems.append(f"period={period!r} must be (first_year, last_year), two integers, or None "
                            "(the whole window).")
        else:
            a, b = (int(p) for p in period)
            if a > b:
                problems.append(f"period={period!r}: the first year is after the last; write ({b}, {a}).")
            elif b < y_lo or a > y_hi or a < y_lo or b > y_hi:
                problems.append(
                    f"period={period!r} is outside the panel's observation window {span} (years "
                    f"{y_lo}-{y_hi}). Choose years from {y_lo} to {y_hi}, or None for the whole window."
                )
            else:
                window = (int(isoweek_to_index(a, 1)), int(isoweek_to_index(b + 1, 1)) - 1)
                window = (max(window[0], lo), min(window[1], hi))

    previous: tuple[str, int] | None = None
    for name, year in dict(years or {}).items():
        values[name] = year
        checked.append(name)
        y = _as_year(year)
        if y is None:
            problems.append(f"{name}={year!r} must be a year (an integer).")
            continue
        if not y_lo <= y <= y_hi:
            problems.append(f"{name}={y} is outside the panel's observation window {span}. "
                            f"Choose a year from {y_lo} to {y_hi}.")
        elif previous is not None and y < previous[1]:
            problems.append(f"{name}={y} is before {previous[0]}={previous[1]}; {name} must not come "
                            "earlier.")
        previous = (name, y)

    for name, label in dict(periods or {}).items():
        values[name] = label
        checked.append(name)
        yy = _label_years(label) if isinstance(label, str) else None
        if yy is None:
            problems.append(f"{name}={label!r} is not a period label; write '2011', '2011-H1', '2011-Q4' "
                            "or '2011-03'.")
        elif not y_lo <= yy[0] <= y_hi:
            problems.append(f"{name}={label!r} is outside the panel's observation window {span}. "
                            f"Choose a period from {y_lo} to {y_hi}.")

    if benefits is not None or programme is not None:
        table = panel.codes.table
    if benefits is not None:
        values["benefits"] = benefits
        checked.append("benefits")
        valid = sorted(set(table.loc[~table["censoring"], "benefit"].astype(str)))
        got = _check_names(benefits, "benefits", valid, "benefit", problems, none_means="no restriction")
        if got:
            present = set(panel.codes.lookup(panel.states["state"].cat.categories[
                np.unique(panel.states["state"].cat.codes.to_numpy())], "benefit"))
            with_data = sorted(present & set(valid))
            for ben in got:
                if ben in valid and ben not in present:
                    problems.append(f"benefits: {ben!r} is in the code table but has no coded week in this "
                                    "panel. "
                                    f"Benefits with data: {_listing(with_data)}.")
    if programme is not None:
        values["programme"] = programme
        checked.append("programme")
        valid = sorted(set(table["activation"].astype(str)) - {"none"})
        _check_names(programme, "programme", valid, "programme (activation kind)", problems,
                     none_means="no restriction", plural="programmes")

    for name, shown in dict(show or {}).items():
        values.setdefault(name, shown)

    if problems:
        head = "" if len(problems) == 1 else (
            f"{len(problems)} parameters do not fit the data ({description}):\n- ")
        raise ParameterError(head + "\n- ".join(problems))
    return RunParameters(
        values=values,
        municipalities=None if chosen is None else tuple(chosen),
        window=window,
        panel_window=(lo, hi),
        description=description,
        title=title,
        checked=tuple(checked),
    )
