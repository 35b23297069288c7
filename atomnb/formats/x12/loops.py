"""Segments to the nested document tree, following a definition's loops.

A segment becomes a struct of its elements, named ``<id><nn>`` (``BEG03``), each
the text exactly as in the file. Elements that hold components become
``<id><nn>_<mm>`` fields instead (``SV101_01``, ``SV101_02``), and elements the
definition marks as repeating become a list of strings. An element present but
empty is ``""``; an element the segment does not have is absent (null), which is
how trailing empty elements survive a round trip.

Loop matching is the usual X12 rule: a segment is looked for at the current
position of the innermost open loop and later; if not there, the loop closes and
the parent is searched, and a loop's first segment opens a new occurrence.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from atomnb.formats.edi_problem import Problem
from atomnb.formats.x12.definitions import Definition, Item
from atomnb.formats.x12.tokens import Segment

__all__ = ["Problem", "Tree", "build_tree", "generic_segments", "segment_fields"]


@dataclass
class Tree:
    """A transaction set as nested columns, its unknown segments, and what was wrong."""

    columns: dict[str, Any]
    unknown: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def segment_fields(
    segment: Segment, repeating: frozenset[int] = frozenset()
) -> dict[str, str | list[str]]:
    """The struct of one segment: ``BEG01``..., components as ``_01``, repeats as lists."""
    delimiters = segment.delimiters
    fields: dict[str, str | list[str]] = {}
    for index, value in enumerate(segment.elements, 1):
        key = _element_key(segment.id, index)
        if index in repeating and delimiters.repeats:
            fields[key] = value.split(delimiters.repeats)
        elif delimiters.component in value:
            for sub, component in enumerate(value.split(delimiters.component), 1):
                fields[f"{key}_{sub:02d}"] = component
        else:
            fields[key] = value
    return fields


@functools.cache
def _element_key(segment_id: str, index: int) -> str:
    return f"{segment_id}{index:02d}"


def generic_segments(segments: Sequence[Segment]) -> list[dict[str, Any]]:
    """Segments without a definition: a flat list of ``{"id", "elements"}`` (text as in file)."""
    return [{"id": s.id, "elements": list(s.elements)} for s in segments]


@dataclass
class _Level:
    items: tuple[Item, ...]
    node: dict[str, Any]
    name: str
    pos: int = 0
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.items)

    def find(self, segment_id: str) -> int | None:
        for index in range(self.pos, len(self.items)):
            item = self.items[index]
            if item.segment == segment_id and self.counts[index] < item.max:
                return index
        return None


def _attach(node: dict[str, Any], item: Item, value: Any) -> None:
    if item.max == 1:
        node[item.name] = value
    else:
        node.setdefault(item.name, []).append(value)


def build_tree(
    definition: Definition,
    body: Sequence[Segment],
    *,
    strict: bool,
    where: Callable[[Segment], str],
    control_number: str,
    end: Segment,
) -> Tree:
    """Place the segments between ST and SE (``body``) into the definition's loops.

    ``where(segment)`` gives the position text for messages; ``end`` (the SE) is where
    a missing mandatory segment is reported. A segment with no place
    is a problem (rule ``x12.unexpected-segment``) or, with ``strict=False``, goes to
    ``unknown`` with its position so the writer can put it back.
    """
    tree = Tree(columns={})
    stack = [_Level(definition.items, tree.columns, definition.id)]
    for position, segment in enumerate(body, 2):  # ST is segment 1 of the set
        placed = False
        for depth in range(len(stack) - 1, -1, -1):
            level = stack[depth]
            index = level.find(segment.id)
            if index is None:
                continue
            for closed in reversed(stack[depth + 1 :]):
                _check_required(closed, segment, tree, where)
            del stack[depth + 1 :]
            item = level.items[index]
            level.pos = index
            level.counts[index] += 1
            if item.is_loop:
                child: dict[str, Any] = {}
                _attach(level.node, item, child)
                inner = _Level(item.items, child, item.name)
                inner.counts[0] = 1
                _attach(child, item.items[0], segment_fields(segment, item.items[0].repeating))
                stack.append(inner)
            else:
                _attach(level.node, item, segment_fields(segment, item.repeating))
            placed = True
            break
        if placed:
            continue
        if strict:
            tree.problems.append(
                Problem(
                    f"segment {segment.id} at position {position} of transaction set "
                    f"{control_number} is not allowed there by the {definition.id} definition",
                    where(segment),
                    "x12.unexpected-segment",
                )
            )
        else:
            tree.unknown.append(
                {"position": position, "id": segment.id, "elements": list(segment.elements)}
            )
    for level in reversed(stack):
        _check_required(level, end, tree, where)
    return tree


def _check_required(
    level: _Level, at: Segment, tree: Tree, where: Callable[[Segment], str]
) -> None:
    for item, count in zip(level.items, level.counts, strict=True):
        if item.required and count == 0:
            kind = "loop" if item.is_loop else "segment"
            tree.problems.append(
                Problem(
                    f"mandatory {kind} {item.name} is missing in {level.name}",
                    where(at),
                    "x12.missing-segment",
                )
            )
