"""The X12 element checker: one segment after another against the compiled dictionary.

Per element: mandatory, repetitions, components, length, characters, code list, date
and time; per segment and composite: the syntax notes (`syntax_notes`). Every problem
is kept, with the AK4-03 / IK4-03 code an acknowledgement needs (`element_codes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from atomnb.formats.x12.element_book import (
    CONTROL,
    Composite,
    Note,
    SegmentSpec,
    Simple,
    Slot,
    valid_date,
)
from atomnb.formats.x12.element_codes import (
    INVALID_CHARACTER,
    INVALID_CODE,
    INVALID_DATE,
    INVALID_TIME,
    MISSING,
    TOO_LONG,
    TOO_MANY_COMPONENTS,
    TOO_MANY_ELEMENTS,
    TOO_MANY_REPETITIONS,
    TOO_SHORT,
    ElementProblem,
)
from atomnb.formats.x12.syntax_notes import broken_notes

__all__ = ["Checker"]


class Checker:
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
        spec: SegmentSpec,
        slot: Slot | None,
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

    def segment(self, number: int, spec: SegmentSpec, elements: Sequence[str]) -> None:
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
                    elif low <= size <= high and (kind == 3 or valid_date(value)):
                        continue
            self.element(number, spec, slot, value)
        for slot in spec.required:
            if slot.position > count:
                self.missing(number, spec, slot, None)
        if spec.notes and not self.lenient:
            self.notes(number, spec, spec.notes, elements, None)

    def element(self, number: int, spec: SegmentSpec, slot: Slot, value: str) -> None:
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

    def missing(self, number: int, spec: SegmentSpec, slot: Slot, component: int | None) -> None:
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
        spec: SegmentSpec,
        slot: Slot,
        composite: Composite,
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
        spec: SegmentSpec,
        slot: Slot,
        simple: Simple,
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
            if CONTROL.search(value):
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
            if match is None or not valid_date(value):
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
        spec: SegmentSpec,
        notes: tuple[Note, ...],
        values: Sequence[str],
        composite_slot: Slot | None,
    ) -> None:
        """X12 syntax notes: P paired, R required, E exclusion, C conditional, L list."""
        for kind, positions, bad, code, rule in broken_notes(notes, values):
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


def _slot_id(slot: Slot) -> str:
    element = slot.simple or slot.composite
    return element.id if element is not None else ""
