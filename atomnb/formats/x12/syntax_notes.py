"""X12 syntax notes: which of a segment's (or composite's) notes its values break.

P0102 paired (all or none), R0203 required (at least one), E0405 exclusion (at most
one), C0607 conditional (when the first is there, all the others), L080910 list
conditional (when the first is there, at least one other). Positions are 1-based.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from atomnb.formats.x12.element_book import Note
from atomnb.formats.x12.element_codes import CONDITIONAL_MISSING, EXCLUSION

__all__ = ["BrokenNote", "broken_notes"]


class BrokenNote(NamedTuple):
    """A note the values break: the position to report, the AK4-03 code and the rule
    (a sentence with one ``{}`` for the names of the note's positions)."""

    kind: str
    positions: tuple[int, ...]
    bad: int
    code: int
    rule: str


_RULES = {
    "P": "all or none of {} must be present",
    "R": "at least one of {} is required",
    "E": "only one of {} may be present",
    "C": "when the first of {} is present, all the others are required",
    "L": "when the first of {} is present, at least one other is required",
}


def broken_notes(notes: Sequence[Note], values: Sequence[str]) -> Iterator[BrokenNote]:
    """The notes ``values`` (element or component texts, '' for absent) break, in note
    order. ``notes`` come R first, then by lowest position (see `element_book`): a note
    wholly past the last value given cannot be broken, and neither can any after it."""
    count = len(values)
    for kind, positions in notes:
        if kind != "R" and min(positions) > count:
            break
        given = [p for p in positions if p <= count and values[p - 1]]
        if kind != "R" and not given:
            continue
        bad: int | None = None
        code = CONDITIONAL_MISSING
        if kind == "P" and len(given) < len(positions):
            bad = next(p for p in positions if p not in given)
        elif kind == "R" and not given:
            bad = positions[0]
        elif kind == "E" and len(given) > 1:
            bad, code = given[1], EXCLUSION
        elif kind == "C" and given[0] == positions[0] and len(given) < len(positions):
            bad = next(p for p in positions[1:] if p not in given)
        elif kind == "L" and given[0] == positions[0] and len(given) < 2:
            bad = positions[1]
        if bad is not None:
            yield BrokenNote(kind, positions, bad, code, _RULES[kind])
