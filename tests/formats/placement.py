"""Where the X12 reader's plan puts each body segment of a set: the placement tests' helper."""

from __future__ import annotations

from atomnb.formats.x12.definitions import find_definition
from atomnb.formats.x12.plan import plan_for, shape_of


def placements(set_id: str, ids: list[str]) -> tuple[list[str], list[tuple[str, str, int]]]:
    """Per body segment its path in the ``set_id`` layout ('?' when it has no place), and
    the structural problems as (rule, segment id, body position)."""
    definition = find_definition(set_id)
    assert definition is not None
    shape = shape_of(definition)
    plan = plan_for(shape, True, tuple(ids))
    where = {
        int(segment): "/".join(shape.nodes[int(node)].path)
        for node, segment in zip(plan.node, plan.segment, strict=True)
        if segment >= 0
    }
    problems = [(p.rule, p.segment_id, p.at) for p in plan.problems]
    return [where.get(i, "?") for i in range(len(ids))], problems
