"""The X12 element dictionary compiled for checking (one version and set at a time, cached).

``dictionary/004010.json`` and ``dictionary/005010.json`` hold segments (element
positions, mandatory flags, repeat counts, syntax notes), composites and simple
elements (type, lengths, code lists). `compiled` turns the part a transaction set
may use into tuples and regexes once: the checker runs for every set of a gigabyte
file, so its per-element work is a length test and, for typed elements, one match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "CONTROL",
    "Composite",
    "Fast",
    "Note",
    "SegmentSpec",
    "Simple",
    "Slot",
    "compiled",
    "dictionary_version",
    "valid_date",
]

_FOLDER = Path(__file__).parent / "dictionary"

#: A syntax note: its kind (P, R, E, C, L) and the positions it names.
Note = tuple[str, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Simple:
    """A simple element (or a component): its checks ready to run."""

    id: str
    name: str
    type: str
    min: int
    max: int
    codes: frozenset[str] | None
    pattern: re.Pattern[str] | None  # None: AN/ID, any printable character


@dataclass(frozen=True, slots=True)
class Slot:
    """One position of a segment or composite: required flag, repeat and its element."""

    position: int
    required: bool
    repeat: int
    simple: Simple | None
    composite: Composite | None


@dataclass(frozen=True, slots=True)
class Composite:
    id: str
    name: str
    components: tuple[Slot, ...]
    notes: tuple[Note, ...]


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    id: str
    name: str
    slots: tuple[Slot, ...]
    notes: tuple[Note, ...]
    required: tuple[Slot, ...] = ()  # checked after the given elements when the segment is short
    #: Per slot, what the fast path needs (min, max, codes, pattern, kind); None for composites.
    fast: tuple[Fast | None, ...] = ()


#: kind: 0 text (AN, ID), 1 number (Nn, R), 2 date, 3 time.
Fast = tuple[int, int, frozenset[str] | None, re.Pattern[str] | None, int]


def _fast(slot: Slot) -> Fast | None:
    simple = slot.simple
    if simple is None:
        return None
    kind = {"DT": 2, "TM": 3}.get(simple.type, 1 if simple.pattern is not None else 0)
    return (simple.min, simple.max, simple.codes, simple.pattern, kind)


_NUMERIC = re.compile(r"-?[0-9]+")
_REAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[Ee]-?[0-9]+)?")
_DATE = re.compile(r"[0-9]{6}(?:[0-9]{2})?")
_TIME = re.compile(r"([01][0-9]|2[0-3])([0-5][0-9])(?:([0-5][0-9])([0-9]{0,2}))?")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOTE = re.compile(r"([PRECL])((?:[0-9]{2})+)")


@cache
def dictionary_version(version: str) -> str | None:
    """The dictionary a GS08 uses: "005010X222A1" → "005010"; None when none is shipped."""
    base = version.strip()[:6]
    return base if base.isdigit() and (_FOLDER / f"{base}.json").is_file() else None


@cache
def _dictionary(base: str) -> Mapping[str, Any]:
    with (_FOLDER / f"{base}.json").open(encoding="utf-8") as handle:
        body: Mapping[str, Any] = json.load(handle)
    return body


def _simple(element_id: str, body: Mapping[str, Any]) -> Simple:
    kind = str(body["type"])
    pattern: re.Pattern[str] | None = None
    if kind == "R":
        pattern = _REAL
    elif kind.startswith("N"):
        pattern = _NUMERIC
    elif kind in ("DT", "TM"):
        pattern = _DATE if kind == "DT" else _TIME
    codes = body.get("codes")
    return Simple(
        element_id,
        str(body["name"]),
        kind,
        int(body["min"]),
        int(body["max"]),
        frozenset(str(c) for c in codes) if codes else None,
        pattern,
    )


def _notes(raw: Sequence[str]) -> tuple[Note, ...]:
    out = []
    for note in raw:
        match = _NOTE.fullmatch(note)
        if match:
            digits = match.group(2)
            out.append(
                (match.group(1), tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2)))
            )
    # R notes first (they fire on absence), then by lowest position: the check stops at
    # the first note that lies wholly past the segment's last element.
    out.sort(key=lambda note: (note[0] != "R", min(note[1])))
    return tuple(out)


def _slots(entries: Sequence[Mapping[str, Any]], book: Mapping[str, Any]) -> tuple[Slot, ...]:
    slots = []
    for position, entry in enumerate(entries, 1):
        element_id = str(entry["id"])
        required = entry.get("req", "O") == "M"
        repeat = int(entry.get("repeat", 1))
        if element_id in book["composites"]:
            body = book["composites"][element_id]
            composite = Composite(
                element_id,
                str(body["name"]),
                _slots(body["components"], book),
                _notes(body.get("syntax", ())),
            )
            slots.append(Slot(position, required, repeat, None, composite))
        else:
            simple = _simple(element_id, book["elements"][element_id])
            slots.append(Slot(position, required, repeat, simple, None))
    return tuple(slots)


@cache
def compiled(base: str, set_id: str) -> Mapping[str, SegmentSpec] | None:
    """The specs of the segments a set may hold (the whole dictionary when it lists no sets)."""
    book = _dictionary(base)
    sets: Mapping[str, Sequence[str]] = book.get("transaction_sets", {})
    if set_id not in sets:
        return None
    wanted = set(sets[set_id]) | {"ST", "SE"}
    specs = {}
    for segment_id, body in book["segments"].items():
        if segment_id in wanted:
            slots = _slots(body["elements"], book)
            specs[segment_id] = SegmentSpec(
                segment_id,
                str(body["name"]),
                slots,
                _notes(body.get("syntax", ())),
                tuple(slot for slot in slots if slot.required),
                tuple(_fast(slot) for slot in slots),
            )
    return specs


@cache
def valid_date(value: str) -> bool:
    try:
        if len(value) == 8:
            date(int(value[:4]), int(value[4:6]), int(value[6:]))
        else:
            date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        return False
    return True
