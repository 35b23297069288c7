"""Trailer checks: SE, GE and IEA counts and control numbers against what they close.

A wrong trailer spoils only the sets it covers, so each check gives a ``Problem``
(with the acknowledgement code of the element that was wrong) instead of raising;
the ``*_fine`` checks answer the common case (everything matches) without
building a segment or a message.
"""

from __future__ import annotations

from dataclasses import replace

from atomnb.formats.x12.events import TransactionSet
from atomnb.formats.x12.loops import Problem
from atomnb.formats.x12.scan import Block
from atomnb.formats.x12.tokens import Segment

__all__ = [
    "check_se",
    "coded",
    "control_problem",
    "count_problem",
    "se_fine",
    "set_problem",
    "trailer_fine",
    "where_of",
]


def where_of(name: str, segment: Segment) -> str:
    return f"{name}, segment {segment.number} (line {segment.line})"


def count_problem(
    name: str, segment: Segment, index: int, expected: int, what: str, rule: str
) -> Problem | None:
    value = segment.element(index)
    if value.strip() == str(expected) or value.strip().lstrip("0") == str(expected).lstrip("0"):
        return None
    return Problem(
        f"{segment.id}{index:02d} says {value!r} {what}, but there are {expected}",
        where_of(name, segment),
        rule,
    )


def control_problem(
    name: str, segment: Segment, index: int, expected: str, header: str, rule: str
) -> Problem | None:
    value = segment.element(index)
    if value.strip() == expected.strip():
        return None
    return Problem(
        f"{segment.id}{index:02d} {value!r} does not match {header} {expected!r}",
        where_of(name, segment),
        rule,
    )


def set_problem(
    name: str, segment: Segment, message: str, rule: str, code: str, position: int
) -> Problem:
    return Problem(message, where_of(name, segment), rule, code, "SE", position)


def _fine_count(value: str, expected: int) -> bool:
    stated = value.strip()
    return stated == str(expected) or stated.lstrip("0") == str(expected).lstrip("0")


def se_fine(values: list[str], current: TransactionSet | None, block: Block, index: int) -> bool:
    """SE01 counts the set's segments and SE02 repeats ST02 (the common case, checked fast)."""
    if current is None or current.block is not block or len(values) < 2:
        return False
    st_values = current.st_segment.elements
    if len(st_values) < 2 or values[1].strip() != st_values[1].strip():
        return False
    stated, expected = values[0].strip(), str(index - current.st + 1)
    return stated == expected or stated.lstrip("0") == expected


def trailer_fine(values: list[str], expected: int, control: str) -> bool:
    """GE/IEA: element 1 counts what it closes, element 2 repeats the header's number."""
    return (
        len(values) >= 2
        and _fine_count(values[0], expected)
        and values[1].strip() == control.strip()
    )


def check_se(name: str, segment: Segment, current: TransactionSet, count: int) -> None:
    stated = segment.element(1)
    if not (stated.strip() == str(count) or stated.strip().lstrip("0") == str(count)):
        current.problems.append(
            set_problem(
                name,
                segment,
                f"SE01 says {stated!r} segments, but there are {count}",
                "x12.segment-count",
                "4",
                count,
            )
        )
    st02 = current.control_number
    if segment.element(2).strip() != st02.strip():
        current.problems.append(
            set_problem(
                name,
                segment,
                f"SE02 {segment.element(2)!r} does not match ST02 {st02!r}",
                "x12.control-number",
                "3",
                count,
            )
        )


def coded(found: list[Problem | None], segment_id: str, codes: dict[int, str]) -> list[Problem]:
    """Trailer problems with their AK905 / TA105 code (by the element that was wrong)."""
    out = []
    for element, problem in enumerate(found, 1):
        if problem is not None:
            out.append(
                replace(
                    problem, code=codes[element], segment_id=segment_id, element_position=element
                )
            )
    return out
