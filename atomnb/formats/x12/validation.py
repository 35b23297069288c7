"""Element problems of a transaction set, from helper module ``x12.elements`` when it is there,
and a set in the wrong functional group (GS01 against ST01, ``functional_groups``).

The reader checks structure itself (loops, counts, trailers); element rules
(mandatory elements, lengths, data types, code lists) come from the version's
data dictionary in ``atomnb.formats.x12.elements``. Until that module ships, or
when it does not know the version, there is nothing to check and no problem.
Materialising a set's segments as Python lists costs time, so it is done only
when the dictionary is known (``knows(set_id, version)`` when the module offers it).
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import Any

from atomnb.formats.x12.envelope import TransactionSet
from atomnb.formats.x12.functional_groups import group_problem
from atomnb.formats.x12.loops import Problem

__all__ = ["element_problems"]


@cache
def _module() -> ModuleType | None:
    try:
        module = importlib.import_module("atomnb.formats.x12.elements")
    except ImportError:
        return None
    return module if hasattr(module, "validate_elements") else None


def element_problems(ts: TransactionSet, name: str) -> list[Problem]:
    """Problems ``validate_elements`` finds in ``ts`` (ST..SE), with file positions."""
    wrong_group = group_problem(
        ts.id, ts.control_number, ts.envelope.gs.element(1), ts.block, ts.st, name
    )
    problems = [] if wrong_group is None else [wrong_group]
    module = _module()
    if module is None:
        return problems
    version = ts.envelope.gs.element(8)
    knows = getattr(module, "knows", None)
    if knows is not None and not knows(ts.id, version):
        return problems
    block = ts.block
    last = ts.last
    segments = [(block.ids[i], block.elements(i)) for i in range(ts.st, last + 1)]
    delimiters = block.delimiters
    found: list[Any] = module.validate_elements(
        ts.id, version, segments, delimiters.component, delimiters.repeats
    )
    for item in found:
        data = item.as_dict()
        position = data.get("segment_position") or 1
        index = min(ts.st + int(position) - 1, last)
        problems.append(
            Problem(
                str(data.get("message", "")),
                block.where(name, index),
                "x12.element",
                str(data.get("code", "")),
                str(data.get("segment_id", "")),
                int(position),
                data.get("element_position"),
                data.get("component_position"),
            )
        )
    return problems
