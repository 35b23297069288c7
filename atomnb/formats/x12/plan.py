"""Where each segment of a transaction set goes in the definition's loops, computed once per shape.

Loop matching (the usual X12 rule, see ``loops``) depends only on the sequence of
segment ids, and real files repeat the same few sequences over and over (every
850 with three lines has the same ids). So the placement is computed once per
distinct id sequence and cached: a ``Plan`` says, for every occurrence of every
segment and loop, which definition node it is, which occurrence of the parent it
belongs to, and which body segment it holds, plus the structural problems found.
The column builder then turns thousands of sets into Arrow arrays with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from atomnb.formats.x12.definitions import Definition, Item

__all__ = ["Node", "Plan", "PlanProblem", "Shape", "plan_for", "shape_of"]

Ints = npt.NDArray[np.int64]
Path = tuple[str, ...]


@dataclass(frozen=True)
class Node:
    """One segment or loop of a definition (node 0 is the transaction set itself)."""

    index: int
    name: str
    parent: int
    segment: str  # segment id; for a loop the id of its first segment
    is_loop: bool
    many: bool  # a list in the document (max > 1, or another set type makes it one)
    maximum: int
    required: bool
    repeating: frozenset[int]
    children: tuple[int, ...]
    path: Path


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a cache key
class Shape:
    """A definition flattened to nodes; ``lists`` names paths other set types force to lists."""

    definition: Definition
    nodes: tuple[Node, ...]


def shape_of(definition: Definition, lists: frozenset[Path] = frozenset()) -> Shape:
    nodes: list[Node] = []

    def add(item: Item | None, parent: int, path: Path) -> int:
        index = len(nodes)
        nodes.append(None)  # type: ignore[arg-type]  # placeholder, children come first
        items = definition.items if item is None else item.items
        children = tuple(add(child, index, (*path, child.name)) for child in items)
        if item is None:
            node = Node(
                index, definition.id, -1, "", True, False, 1, True, frozenset(), children, ()
            )
        else:
            node = Node(
                index,
                item.name,
                parent,
                item.segment,
                item.is_loop,
                item.max > 1 or path in lists,
                item.max,
                item.required,
                item.repeating,
                children,
                path,
            )
        nodes[index] = node
        return index

    add(None, -1, ())
    return Shape(definition, tuple(nodes))


def list_paths(definition: Definition) -> frozenset[Path]:
    """Paths of the segments and loops the definition makes lists (max > 1)."""
    found: set[Path] = set()

    def walk(items: tuple[Item, ...], path: Path) -> None:
        for item in items:
            here = (*path, item.name)
            if item.max > 1:
                found.add(here)
            walk(item.items, here)

    walk(definition.items, ())
    return frozenset(found)


def single_paths(definition: Definition) -> frozenset[Path]:
    found: set[Path] = set()

    def walk(items: tuple[Item, ...], path: Path) -> None:
        for item in items:
            here = (*path, item.name)
            if item.max <= 1:
                found.add(here)
            walk(item.items, here)

    walk(definition.items, ())
    return frozenset(found)


@dataclass(frozen=True)
class PlanProblem:
    """A structural problem: ``at`` is the body position (0-based) or -1 for the set's end."""

    rule: str
    code: str  # 997 AK304 / 999 IK304
    at: int
    segment_id: str
    detail: str


@dataclass
class Plan:
    node: Ints  # per occurrence: node index
    parent: Ints  # per occurrence: index among the parent node's occurrences in this set
    segment: Ints  # per occurrence: body position of its segment, -1 for a loop
    counts: Ints  # per node: occurrences in this set
    unknown: list[int] = field(default_factory=list)
    problems: list[PlanProblem] = field(default_factory=list)


@dataclass
class _Level:
    node: Node
    occurrence: int
    pos: int = 0
    counts: list[int] = field(default_factory=list)


@lru_cache(maxsize=4096)
def plan_for(shape: Shape, strict: bool, ids: tuple[str, ...]) -> Plan:
    """The placement of the body segments ``ids`` (between ST and SE) in ``shape``."""
    nodes = shape.nodes
    counts = [0] * len(nodes)
    counts[0] = 1
    occ_node: list[int] = []
    occ_parent: list[int] = []
    occ_segment: list[int] = []
    empty = np.empty(0, np.int64)
    plan = Plan(empty, empty, empty, empty)
    root = nodes[0]
    stack = [_Level(root, 0, 0, [0] * len(root.children))]

    def record(node: int, parent: int, segment: int) -> int:
        occ_node.append(node)
        occ_parent.append(parent)
        occ_segment.append(segment)
        counts[node] += 1
        return counts[node] - 1

    for position, segment_id in enumerate(ids):
        placed = False
        for depth in range(len(stack) - 1, -1, -1):
            level = stack[depth]
            index = _find(nodes, level, segment_id)
            if index is None:
                continue
            for closed in reversed(stack[depth + 1 :]):
                _check_required(nodes, closed, position, plan)
            del stack[depth + 1 :]
            child = nodes[level.node.children[index]]
            level.pos = index
            level.counts[index] += 1
            if child.is_loop:
                occurrence = record(child.index, level.occurrence, -1)
                first = nodes[child.children[0]]
                record(first.index, occurrence, position)
                inner = _Level(child, occurrence, 0, [0] * len(child.children))
                inner.counts[0] = 1
                stack.append(inner)
            else:
                record(child.index, level.occurrence, position)
            placed = True
            break
        if placed:
            continue
        rule, code, detail = _why_not(nodes, stack, segment_id)
        if strict or code != "2":
            plan.problems.append(PlanProblem(rule, code, position, segment_id, detail))
        if not strict:
            plan.unknown.append(position)
    for level in reversed(stack):
        _check_required(nodes, level, -1, plan)
    plan.node = np.array(occ_node, dtype=np.int64)
    plan.parent = np.array(occ_parent, dtype=np.int64)
    plan.segment = np.array(occ_segment, dtype=np.int64)
    plan.counts = np.array(counts, dtype=np.int64)
    return plan


def _find(nodes: tuple[Node, ...], level: _Level, segment_id: str) -> int | None:
    children = level.node.children
    for index in range(level.pos, len(children)):
        child = nodes[children[index]]
        if child.segment == segment_id and level.counts[index] < child.maximum:
            return index
    return None


def _why_not(nodes: tuple[Node, ...], stack: list[_Level], segment_id: str) -> tuple[str, str, str]:
    """Rule, AK304 code and detail for a segment with no place: over its maximum, or unexpected."""
    for level in reversed(stack):
        children = level.node.children
        for index in range(level.pos, len(children)):
            child = nodes[children[index]]
            if child.segment == segment_id:
                if child.is_loop:
                    return (
                        "x12.loop-over-maximum",
                        "4",
                        f"loop {child.name} occurs more than its maximum of {child.maximum}",
                    )
                return (
                    "x12.segment-over-maximum",
                    "5",
                    f"segment {child.name} occurs more than its maximum of {child.maximum}",
                )
    return ("x12.unexpected-segment", "2", "")


def _check_required(nodes: tuple[Node, ...], level: _Level, at: int, plan: Plan) -> None:
    for index, child_index in enumerate(level.node.children):
        child = nodes[child_index]
        if child.required and level.counts[index] == 0:
            kind = "loop" if child.is_loop else "segment"
            plan.problems.append(
                PlanProblem(
                    "x12.missing-segment",
                    "3",
                    at,
                    child.segment,
                    f"mandatory {kind} {child.name} is missing in {level.node.name}",
                )
            )
