"""Input notes: recoverable oddities accepted with a counted warning and recorded in the panel."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from evaltools.exceptions import InputWarning

if TYPE_CHECKING:
    from evaltools.data.panel import RegisterPanel

__all__ = ["InputNote", "emit_notes", "notes_of"]


# -- input notes -------------------------------------------------------------------------
@dataclass(frozen=True)
class InputNote:
    """A recoverable oddity in the input, accepted with a counted warning.

    Attributes
    ----------
    rule : str
        E.g. ``"absorbing_end"``, ``"no_coded_weeks"``, ``"after_today"``,
        ``"blank_trailing_weeks"``.
    column : str
        The column concerned.
    count : int
        Persons (or columns) concerned.
    weeks : int
        Person-weeks concerned (e.g. removed from observation); 0 if none.
    examples : str
        A few examples.
    message : str
        The full message (count, examples, what was done, how to change it).
    """

    rule: str
    column: str
    count: int
    weeks: int
    examples: str
    message: str

    def as_dict(self) -> dict[str, object]:
        """The note as a JSON-serialisable dict (stored in ``panel.meta["input_notes"]``)."""
        return asdict(self)


def emit_notes(notes: Sequence[InputNote], *, warn: bool = True, stacklevel: int = 3) -> list[dict]:
    """Issue one :class:`~evaltools.exceptions.InputWarning` per note; return the notes as dicts."""
    if warn:
        for n in notes:
            warnings.warn(n.message, InputWarning, stacklevel=stacklevel)
    return [n.as_dict() for n in notes]


def notes_of(panel: RegisterPanel) -> list[InputNote]:
    """The input notes recorded in ``panel.meta["input_notes"]``."""
    raw = panel.meta.get("input_notes") or []
    out = []
    for d in raw if isinstance(raw, (list, tuple)) else []:
        if isinstance(d, dict) and {"rule", "message"} <= set(d):
            out.append(
                InputNote(
                    rule=str(d["rule"]),
                    column=str(d.get("column", "")),
                    count=int(d.get("count", 0)),
                    weeks=int(d.get("weeks", 0)),
                    examples=str(d.get("examples", "")),
                    message=str(d["message"]),
                )
            )
    return out
