"""EDIFACT element validation against the UN/EDIFACT directory (D.96A, D.01B).

The message definitions (``definitions/``) shape the segment groups; this
module checks the inside of each segment against ``dictionary/<version>.json``:
mandatory elements and components, too many elements or components (the sign
of free text written without release characters: ``10:30`` in a simple element
becomes two components), formats ``a``/``n``/``an`` with fixed or ``..max``
lengths, and the few code lists shipped. Each problem carries the CONTRL
syntax error code (data element 0085) a UCD segment needs.

Unknown versions or message types give ``[]``, and segments the dictionary
lacks are skipped (the structural definition reports those). ``lenient=True``
keeps only the hard errors: missing mandatory data, too many constituents and
too long values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from atomnb.formats.x12.elements import ElementProblem

__all__ = ["ElementProblem", "dictionary_version", "validate_elements"]

_FOLDER = Path(__file__).parent / "dictionary"

#: CONTRL syntax error codes (0085).
INVALID_VALUE = 12
MISSING = 13
TOO_MANY_CONSTITUENTS = 16
INVALID_CHARACTER = 37
MISSING_DIGIT = 38
TOO_LONG = 39
TOO_SHORT = 40

_FORMAT = re.compile(r"(an|a|n)(\.\.)?([0-9]+)")
_NUMBER = re.compile(r"-?[0-9]*(?:[.,][0-9]*)?")
_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True, slots=True)
class _Simple:
    id: str
    name: str
    kind: str  # "a", "n" or "an"
    min: int
    max: int
    codes: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _Slot:
    position: int
    required: bool
    simple: _Simple | None
    composite: _Composite | None


@dataclass(frozen=True, slots=True)
class _Composite:
    id: str
    name: str
    components: tuple[_Slot, ...]
    required: tuple[_Slot, ...] = ()


@dataclass(frozen=True, slots=True)
class _SegmentSpec:
    id: str
    name: str
    slots: tuple[_Slot, ...]
    required: tuple[_Slot, ...] = ()  # checked when the segment ends before them


@cache
def dictionary_version(version: str) -> str | None:
    """The dictionary for a UNH version: "D96A", "D:96A", "96A" → "D96A"; None if not shipped."""
    text = "".join(ch for ch in version.upper() if ch.isalnum())
    if text and not text.startswith("D"):
        text = "D" + text
    return text if text and (_FOLDER / f"{text}.json").is_file() else None


@cache
def _dictionary(base: str) -> Mapping[str, Any]:
    with (_FOLDER / f"{base}.json").open(encoding="utf-8") as handle:
        body: Mapping[str, Any] = json.load(handle)
    return body


def _simple(element_id: str, body: Mapping[str, Any]) -> _Simple:
    match = _FORMAT.fullmatch(str(body["format"]))
    if match is None:
        raise ValueError(f"element {element_id}: bad format {body['format']!r}")
    kind, ranged, size = match.group(1), match.group(2), int(match.group(3))
    codes = body.get("codes")
    return _Simple(
        element_id,
        str(body["name"]),
        kind,
        1 if ranged else size,
        size,
        frozenset(str(c) for c in codes) if codes else None,
    )


def _slots(entries: Sequence[Mapping[str, Any]], book: Mapping[str, Any]) -> tuple[_Slot, ...]:
    slots = []
    for position, entry in enumerate(entries, 1):
        element_id = str(entry["id"])
        required = entry.get("req", "C") == "M"
        if element_id in book["composites"]:
            body = book["composites"][element_id]
            components = _slots(body["components"], book)
            composite = _Composite(
                element_id,
                str(body["name"]),
                components,
                tuple(c for c in components if c.required),
            )
            slots.append(_Slot(position, required, None, composite))
        else:
            slots.append(
                _Slot(position, required, _simple(element_id, book["elements"][element_id]), None)
            )
    return tuple(slots)


@cache
def _compiled(base: str, message_type: str) -> Mapping[str, _SegmentSpec] | None:
    book = _dictionary(base)
    members = book.get("messages", {}).get(message_type)
    if members is None:
        return None
    wanted = set(members) | {"UNH", "UNT"}
    specs = {}
    for tag, body in book["segments"].items():
        if tag in wanted:
            slots = _slots(body["elements"], book)
            specs[tag] = _SegmentSpec(
                tag, str(body["name"]), slots, tuple(s for s in slots if s.required)
            )
    return specs


def validate_elements(
    message_type: str,
    version: str,
    segments: Sequence[tuple[str, Sequence[Sequence[str]]]],
    *,
    lenient: bool = False,
) -> list[ElementProblem]:
    """Every element problem of one message (UNH to UNT); [] for unknown types or versions.

    ``segments`` are (tag, elements), each element the list of its components
    with release characters already resolved.
    """
    base = dictionary_version(version)
    if base is None:
        return []
    specs = _compiled(base, message_type.upper())
    if specs is None:
        return []
    problems: list[ElementProblem] = []
    for number, (tag, elements) in enumerate(segments, 1):
        spec = specs.get(tag)
        if spec is not None:
            _segment(problems, number, spec, elements, lenient)
    return problems


def _add(
    problems: list[ElementProblem],
    number: int,
    spec: _SegmentSpec,
    position: int | None,
    component: int | None,
    code: int,
    text: str,
    element_id: str | None,
    level: Literal["segment", "element"] = "element",
) -> None:
    where = spec.id if position is None else f"{spec.id} element {position}"
    if component is not None:
        where += f" component {component}"
    problems.append(
        ElementProblem(
            number,
            spec.id,
            position,
            component,
            code,
            level,
            f"segment {number} ({spec.id} {spec.name}): {where} {text}",
            element_id,
        )
    )


def _segment(
    problems: list[ElementProblem],
    number: int,
    spec: _SegmentSpec,
    elements: Sequence[Sequence[str]],
    lenient: bool,
) -> None:
    slots = spec.slots
    if len(elements) > len(slots):
        extra = [i for i in range(len(slots), len(elements)) if any(elements[i])]
        if extra:
            _add(
                problems, number, spec, extra[0] + 1, None, TOO_MANY_CONSTITUENTS,
                f"is beyond the {len(slots)} data elements the segment has "
                "(an unreleased '+' in the data?)",
                None, "segment",
            )  # fmt: skip
    count = len(elements)
    for slot, parts in zip(slots, elements, strict=False):
        simple = slot.simple
        if simple is not None and len(parts) == 1:
            value = parts[0]
            if (  # the common case: alphanumeric or digits only, of a good length
                simple.codes is None
                and simple.min <= len(value) <= simple.max
                and (simple.kind == "an" or (simple.kind == "n" and value.isdigit()))
            ):
                continue
            if not value:
                if slot.required:
                    _missing(problems, number, spec, slot)
                continue
            _value(problems, number, spec, slot.position, None, simple, value, lenient)
            continue
        if not any(parts):
            if slot.required:
                _missing(problems, number, spec, slot)
            continue
        if simple is not None:
            if len(parts) > 1 and any(parts[1:]):
                _add(
                    problems, number, spec, slot.position, 2, TOO_MANY_CONSTITUENTS,
                    f"({simple.id} {simple.name}) is a simple element but holds "
                    f"{len(parts)} components (an unreleased ':' in the data?)",
                    simple.id,
                )  # fmt: skip
                continue
            _value(problems, number, spec, slot.position, None, simple, parts[0], lenient)
            continue
        composite = slot.composite
        assert composite is not None
        components = composite.components
        if len(parts) > len(components) and any(parts[len(components) :]):
            _add(
                problems, number, spec, slot.position, len(components) + 1,
                TOO_MANY_CONSTITUENTS,
                f"({composite.id} {composite.name}) has {len(parts)} components, more than "
                f"{len(components)} (an unreleased ':' in the data?)",
                composite.id,
            )  # fmt: skip
        for component, value in zip(components, parts, strict=False):
            simple = component.simple
            assert simple is not None
            if (
                simple.codes is None
                and simple.min <= len(value) <= simple.max
                and (simple.kind == "an" or (simple.kind == "n" and value.isdigit()))
            ):
                continue
            if not value:
                if component.required:
                    _add(
                        problems, number, spec, slot.position, component.position, MISSING,
                        f"({simple.id} {simple.name}) of {composite.id} is mandatory but missing",
                        simple.id,
                    )  # fmt: skip
                continue
            _value(
                problems, number, spec, slot.position, component.position, simple, value, lenient
            )
        for component in composite.required:
            if component.position > len(parts):
                simple = component.simple
                assert simple is not None
                _add(
                    problems, number, spec, slot.position, component.position, MISSING,
                    f"({simple.id} {simple.name}) of {composite.id} is mandatory but missing",
                    simple.id,
                )  # fmt: skip
    for slot in spec.required:
        if slot.position > count:
            _missing(problems, number, spec, slot)


def _missing(problems: list[ElementProblem], number: int, spec: _SegmentSpec, slot: _Slot) -> None:
    element = slot.simple or slot.composite
    assert element is not None
    _add(
        problems, number, spec, slot.position, None, MISSING,
        f"({element.id} {element.name}) is mandatory but missing", element.id,
    )  # fmt: skip


def _value(
    problems: list[ElementProblem],
    number: int,
    spec: _SegmentSpec,
    position: int,
    component: int | None,
    simple: _Simple,
    value: str,
    lenient: bool,
) -> None:
    dots = "" if simple.min == simple.max else ".."
    label = f"({simple.id} {simple.name}, {simple.kind}{dots}{simple.max})"
    if simple.kind == "n":
        if _NUMBER.fullmatch(value) is None or _DIGIT.search(value) is None:
            if not lenient:
                _add(
                    problems, number, spec, position, component, INVALID_CHARACTER,
                    f"{label} {value!r} is not a number", simple.id,
                )  # fmt: skip
            return
        digits = len(value) - value.startswith("-") - ("." in value or "," in value)
        if not lenient and value.lstrip("-")[:1] in (".", ","):
            _add(
                problems, number, spec, position, component, MISSING_DIGIT,
                f"{label} {value!r} has no digit in front of the decimal mark", simple.id,
            )  # fmt: skip
            return
    else:
        digits = len(value)
    if digits > simple.max:
        _add(
            problems, number, spec, position, component, TOO_LONG,
            f"{label} is {digits} long, more than {simple.max}", simple.id,
        )  # fmt: skip
        return
    if lenient:
        return
    if digits < simple.min:
        _add(
            problems, number, spec, position, component, TOO_SHORT,
            f"{label} is {digits} long, less than {simple.min}", simple.id,
        )  # fmt: skip
    elif simple.kind == "a" and _DIGIT.search(value):
        _add(
            problems, number, spec, position, component, INVALID_CHARACTER,
            f"{label} {value!r} holds digits but is alphabetic", simple.id,
        )  # fmt: skip
    elif simple.codes is not None and value not in simple.codes:
        _add(
            problems, number, spec, position, component, INVALID_VALUE,
            f"{label} value {value!r} is not in the code list", simple.id,
        )  # fmt: skip
