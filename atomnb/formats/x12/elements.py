"""X12 element validation: mandatory elements, lengths, types, components and code lists.

The structural definitions (``definitions/``) say which segments a set holds;
this module checks what is inside each segment against the element dictionary
of the version (``dictionary/004010.json``, ``dictionary/005010.json``) and
returns every problem with the 997 AK4-03 / 999 IK4-03 code an acknowledgement
needs, instead of stopping at the first. The dictionary is compiled once per
version and set into tuples and regexes (cached): this runs for every set of a
gigabyte file, so the per-element work is a length test and, for the typed
elements only, one regex match.

An unknown version or set gives ``[]`` (nothing to check against), and so does
a segment the dictionary lacks: the structural definition reports unknown
segments. ``lenient=True`` keeps only the hard errors (missing mandatory
elements, too many elements, repetitions or components, too long values) and
skips code lists, minimum lengths, characters, dates, times and syntax notes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

__all__ = ["ElementProblem", "dictionary_version", "validate_elements"]

_FOLDER = Path(__file__).parent / "dictionary"

#: 997 AK4-03 / 999 IK4-03 element syntax error codes.
MISSING = 1
CONDITIONAL_MISSING = 2
TOO_MANY_ELEMENTS = 3
TOO_SHORT = 4
TOO_LONG = 5
INVALID_CHARACTER = 6
INVALID_CODE = 7
INVALID_DATE = 8
INVALID_TIME = 9
EXCLUSION = 10
TOO_MANY_REPETITIONS = 12
TOO_MANY_COMPONENTS = 13


@dataclass(frozen=True)
class ElementProblem:
    """One element (or segment syntax-note) problem, placed for an acknowledgement.

    ``code`` is the X12 AK4-03/IK4-03 code, or for EDIFACT the CONTRL syntax
    error code (0085). Positions are 1-based; the set's ST (or UNH) is segment 1.
    """

    segment_position: int
    segment_id: str
    element_position: int | None
    component_position: int | None
    code: int
    level: Literal["segment", "element"]
    message: str
    element_id: str | None = None
    repetition: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the compiled dictionary ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Simple:
    """A simple element (or a component): its checks ready to run."""

    id: str
    name: str
    type: str
    min: int
    max: int
    codes: frozenset[str] | None
    pattern: re.Pattern[str] | None  # None: AN/ID, any printable character


@dataclass(frozen=True, slots=True)
class _Slot:
    """One position of a segment or composite: required flag, repeat and its element."""

    position: int
    required: bool
    repeat: int
    simple: _Simple | None
    composite: _Composite | None


@dataclass(frozen=True, slots=True)
class _Composite:
    id: str
    name: str
    components: tuple[_Slot, ...]
    notes: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True, slots=True)
class _SegmentSpec:
    id: str
    name: str
    slots: tuple[_Slot, ...]
    notes: tuple[tuple[str, tuple[int, ...]], ...]
    required: tuple[_Slot, ...] = ()  # checked after the given elements when the segment is short
    #: Per slot, what the fast path needs (min, max, codes, pattern, kind); None for composites.
    fast: tuple[_Fast | None, ...] = ()


#: kind: 0 text (AN, ID), 1 number (Nn, R), 2 date, 3 time.
_Fast = tuple[int, int, frozenset[str] | None, re.Pattern[str] | None, int]


def _fast(slot: _Slot) -> _Fast | None:
    simple = slot.simple
    if simple is None:
        return None
    kind = {"DT": 2, "TM": 3}.get(simple.type, 1 if simple.pattern is not None else 0)
    return (simple.min, simple.max, simple.codes, simple.pattern, kind)


_NUMERIC = re.compile(r"-?[0-9]+")
_REAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[Ee]-?[0-9]+)?")
_DATE = re.compile(r"[0-9]{6}(?:[0-9]{2})?")
_TIME = re.compile(r"([01][0-9]|2[0-3])([0-5][0-9])(?:([0-5][0-9])([0-9]{0,2}))?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
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


def _simple(element_id: str, body: Mapping[str, Any]) -> _Simple:
    kind = str(body["type"])
    pattern: re.Pattern[str] | None = None
    if kind == "R":
        pattern = _REAL
    elif kind.startswith("N"):
        pattern = _NUMERIC
    elif kind in ("DT", "TM"):
        pattern = _DATE if kind == "DT" else _TIME
    codes = body.get("codes")
    return _Simple(
        element_id,
        str(body["name"]),
        kind,
        int(body["min"]),
        int(body["max"]),
        frozenset(str(c) for c in codes) if codes else None,
        pattern,
    )


def _notes(raw: Sequence[str]) -> tuple[tuple[str, tuple[int, ...]], ...]:
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


def _slots(entries: Sequence[Mapping[str, Any]], book: Mapping[str, Any]) -> tuple[_Slot, ...]:
    slots = []
    for position, entry in enumerate(entries, 1):
        element_id = str(entry["id"])
        required = entry.get("req", "O") == "M"
        repeat = int(entry.get("repeat", 1))
        if element_id in book["composites"]:
            body = book["composites"][element_id]
            composite = _Composite(
                element_id,
                str(body["name"]),
                _slots(body["components"], book),
                _notes(body.get("syntax", ())),
            )
            slots.append(_Slot(position, required, repeat, None, composite))
        else:
            simple = _simple(element_id, book["elements"][element_id])
            slots.append(_Slot(position, required, repeat, simple, None))
    return tuple(slots)


@cache
def _compiled(base: str, set_id: str) -> Mapping[str, _SegmentSpec] | None:
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
            specs[segment_id] = _SegmentSpec(
                segment_id,
                str(body["name"]),
                slots,
                _notes(body.get("syntax", ())),
                tuple(slot for slot in slots if slot.required),
                tuple(_fast(slot) for slot in slots),
            )
    return specs


# -- validation ----------------------------------------------------------------------


def validate_elements(
    set_id: str,
    version: str,
    segments: Sequence[tuple[str, Sequence[str]]],
    component_separator: str,
    repetition_separator: str | None,
    *,
    lenient: bool = False,
) -> list[ElementProblem]:
    """Every element problem of one set (ST to SE), in segment order; [] for unknown sets.

    ``segments`` are (id, raw element texts after the id); ``version`` is GS08.
    """
    base = dictionary_version(version)
    if base is None:
        return []
    specs = _compiled(base, set_id)
    if specs is None:
        return []
    problems: list[ElementProblem] = []
    check = _Checker(problems, component_separator, repetition_separator, lenient)
    for number, (segment_id, elements) in enumerate(segments, 1):
        spec = specs.get(segment_id)
        if spec is not None:
            check.segment(number, spec, elements)
    return problems


class _Checker:
    """Walks segments, appending problems; one per set, so no state survives a call."""

    def __init__(
        self, problems: list[ElementProblem], component: str, repetition: str | None, lenient: bool
    ) -> None:
        self.problems = problems
        self.component = component or None
        self.repetition = repetition or None
        self.lenient = lenient

    def add(
        self,
        number: int,
        spec: _SegmentSpec,
        slot: _Slot | None,
        code: int,
        message: str,
        *,
        component: int | None = None,
        element_id: str | None = None,
        repetition: int | None = None,
        level: Literal["segment", "element"] = "element",
        position: int | None = None,
    ) -> None:
        where = f"{spec.id}{(position or (slot.position if slot else 0)):02d}"
        if component is not None:
            where += f"-{component:02d}"
        self.problems.append(
            ElementProblem(
                number,
                spec.id,
                position if position is not None else (slot.position if slot else None),
                component,
                code,
                level,
                f"segment {number} ({spec.id} {spec.name}): {where} {message}",
                element_id,
                repetition,
            )
        )

    def segment(self, number: int, spec: _SegmentSpec, elements: Sequence[str]) -> None:
        slots = spec.slots
        if len(elements) > len(slots):
            extra = [i for i in range(len(slots), len(elements)) if elements[i]]
            if extra:
                self.add(
                    number,
                    spec,
                    None,
                    TOO_MANY_ELEMENTS,
                    f"is beyond the {len(slots)} data elements the segment has",
                    level="segment",
                    position=extra[0] + 1,
                )
        count = len(elements)
        component, repetition = self.component, self.repetition
        for slot, fast, value in zip(slots, spec.fast, elements, strict=False):
            if not value:
                if slot.required:
                    self.missing(number, spec, slot, None)
                continue
            if (
                fast is not None
                and value.isprintable()
                and (component is None or component not in value)
                and (repetition is None or repetition not in value)
            ):
                low, high, codes, pattern, kind = fast
                size = len(value)
                if kind == 0:
                    if low <= size <= high and (codes is None or value in codes):
                        continue  # the common case: plain text of a good length
                elif pattern is not None and pattern.fullmatch(value) is not None:
                    if kind == 1:  # a sign and a decimal point never make it too long
                        if size <= high and (size >= low + 2 or (low <= size and value.isdigit())):
                            continue
                    elif low <= size <= high and (kind == 3 or _valid_date(value)):
                        continue
            self.element(number, spec, slot, value)
        for slot in spec.required:
            if slot.position > count:
                self.missing(number, spec, slot, None)
        if spec.notes and not self.lenient:
            self.notes(number, spec, spec.notes, elements, None)

    def element(self, number: int, spec: _SegmentSpec, slot: _Slot, value: str) -> None:
        values = [value]
        if self.repetition is not None and self.repetition in value:
            values = value.split(self.repetition)
            if len(values) > slot.repeat:  # also a non-repeating element that repeats
                self.add(
                    number,
                    spec,
                    slot,
                    TOO_MANY_REPETITIONS,
                    f"repeats {len(values)} times, more than {slot.repeat}",
                    element_id=_slot_id(slot),
                )
                values = values[: slot.repeat]
        for index, text in enumerate(values, 1):
            repetition = index if len(values) > 1 else None
            if slot.composite is not None:
                self.composite(number, spec, slot, slot.composite, text, repetition)
                continue
            assert slot.simple is not None
            if self.component is not None and self.component in text:
                self.add(
                    number,
                    spec,
                    slot,
                    TOO_MANY_COMPONENTS,
                    f"({slot.simple.id} {slot.simple.name}) is a simple element "
                    "but holds components",
                    element_id=slot.simple.id,
                    repetition=repetition,
                )
                continue
            self.value(number, spec, slot, slot.simple, text, None, repetition)

    def missing(self, number: int, spec: _SegmentSpec, slot: _Slot, component: int | None) -> None:
        element = slot.simple or slot.composite
        assert element is not None
        self.add(
            number,
            spec,
            slot,
            MISSING,
            f"({element.id} {element.name}) is mandatory but missing",
            component=component,
            element_id=element.id,
        )

    def composite(
        self,
        number: int,
        spec: _SegmentSpec,
        slot: _Slot,
        composite: _Composite,
        text: str,
        repetition: int | None,
    ) -> None:
        parts = text.split(self.component) if self.component is not None else [text]
        components = composite.components
        if len(parts) > len(components) and any(parts[len(components) :]):
            self.add(
                number,
                spec,
                slot,
                TOO_MANY_COMPONENTS,
                f"({composite.id} {composite.name}) has {len(parts)} components, "
                f"more than {len(components)}",
                component=len(components) + 1,
                element_id=composite.id,
                repetition=repetition,
            )
        for component in components:
            index = component.position
            value = parts[index - 1] if index <= len(parts) else ""
            simple = component.simple
            assert simple is not None
            if not value:
                if component.required:
                    self.add(
                        number,
                        spec,
                        slot,
                        MISSING,
                        f"({simple.id} {simple.name}) of {composite.id} is mandatory but missing",
                        component=index,
                        element_id=simple.id,
                        repetition=repetition,
                    )
                continue
            self.value(number, spec, slot, simple, value, index, repetition)
        if composite.notes and not self.lenient:
            self.notes(number, spec, composite.notes, parts, slot)

    def value(
        self,
        number: int,
        spec: _SegmentSpec,
        slot: _Slot,
        simple: _Simple,
        value: str,
        component: int | None,
        repetition: int | None,
    ) -> None:
        kind = simple.type
        pattern = simple.pattern
        if kind == "R" or kind[0] == "N":  # numbers: sign, decimal point, exponent do not count
            mantissa = value.split("E", 1)[0].split("e", 1)[0]
            length = len(mantissa) - mantissa.startswith("-") - ("." in mantissa)
        else:
            length = len(value)
        label = f"({simple.id} {simple.name})"
        if length > simple.max:
            self.add(
                number, spec, slot, TOO_LONG,
                f"{label} is {length} long, more than the maximum {simple.max}",
                component=component, element_id=simple.id, repetition=repetition,
            )  # fmt: skip
            return
        if self.lenient:
            return
        if length < simple.min:
            self.add(
                number, spec, slot, TOO_SHORT,
                f"{label} is {length} long, less than the minimum {simple.min}",
                component=component, element_id=simple.id, repetition=repetition,
            )  # fmt: skip
            return
        if pattern is None:
            if _CONTROL.search(value):
                self.add(
                    number, spec, slot, INVALID_CHARACTER,
                    f"{label} holds a control character",
                    component=component, element_id=simple.id, repetition=repetition,
                )  # fmt: skip
            elif simple.codes is not None and value not in simple.codes:
                self.add(
                    number, spec, slot, INVALID_CODE,
                    f"{label} value {value!r} is not in the code list",
                    component=component, element_id=simple.id, repetition=repetition,
                )  # fmt: skip
            return
        match = pattern.fullmatch(value)
        if kind == "DT":
            if match is None or not _valid_date(value):
                self.add(
                    number, spec, slot, INVALID_DATE,
                    f"{label} {value!r} is not a date (CCYYMMDD or YYMMDD)",
                    component=component, element_id=simple.id, repetition=repetition,
                )  # fmt: skip
        elif kind == "TM":
            if match is None:
                self.add(
                    number, spec, slot, INVALID_TIME,
                    f"{label} {value!r} is not a time (HHMM, HHMMSS or HHMMSSdd)",
                    component=component, element_id=simple.id, repetition=repetition,
                )  # fmt: skip
        elif match is None:
            what = "a decimal number" if kind == "R" else "a whole number"
            self.add(
                number, spec, slot, INVALID_CHARACTER,
                f"{label} {value!r} is not {what}",
                component=component, element_id=simple.id, repetition=repetition,
            )  # fmt: skip

    def notes(
        self,
        number: int,
        spec: _SegmentSpec,
        notes: tuple[tuple[str, tuple[int, ...]], ...],
        values: Sequence[str],
        composite_slot: _Slot | None,
    ) -> None:
        """X12 syntax notes: P paired, R required, E exclusion, C conditional, L list."""
        count = len(values)
        for kind, positions in notes:
            if kind != "R" and min(positions) > count:
                break
            given = [p for p in positions if p <= count and values[p - 1]]
            if kind != "R" and not given:
                continue
            bad: int | None = None
            code = CONDITIONAL_MISSING
            rule = ""
            if kind == "P" and len(given) < len(positions):
                bad = next(p for p in positions if p not in given)
                rule = "all or none of {} must be present"
            elif kind == "R" and not given:
                bad = positions[0]
                rule = "at least one of {} is required"
            elif kind == "E" and len(given) > 1:
                bad, code = given[1], EXCLUSION
                rule = "only one of {} may be present"
            elif kind == "C" and given[0] == positions[0] and len(given) < len(positions):
                bad = next(p for p in positions[1:] if p not in given)
                rule = "when the first of {} is present, all the others are required"
            elif kind == "L" and given[0] == positions[0] and len(given) < 2:
                bad = positions[1]
                rule = "when the first of {} is present, at least one other is required"
            if bad is None:
                continue
            if composite_slot is not None:
                names = ", ".join(
                    f"{spec.id}{composite_slot.position:02d}-{p:02d}" for p in positions
                )
            else:
                names = ", ".join(f"{spec.id}{p:02d}" for p in positions)
            self.add(
                number,
                spec,
                composite_slot,
                code,
                f"breaks syntax note {kind}{''.join(f'{p:02d}' for p in positions)}: "
                + rule.format(names),
                component=bad if composite_slot is not None else None,
                level="segment",
                position=composite_slot.position if composite_slot is not None else bad,
            )


def _slot_id(slot: _Slot) -> str:
    element = slot.simple or slot.composite
    return element.id if element is not None else ""


@cache
def _valid_date(value: str) -> bool:
    try:
        if len(value) == 8:
            date(int(value[:4]), int(value[4:6]), int(value[6:]))
        else:
            date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        return False
    return True
