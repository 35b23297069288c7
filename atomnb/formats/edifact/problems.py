"""Message problems in the structured form a CONTRL needs, and element checks by ``elements``.

Every problem the reader finds for a message becomes a dict (``edifact.problems``
on a delivered message, ``Rejection.problems`` on a refused one) with the CONTRL
syntax error code (data element 0085): "15" segment not supported in this
position, "13" missing, "29" control count does not match, "28" references do
not match, "21" invalid characters. Element rules come from the data dictionary
module ``atomnb.formats.edifact.elements`` when it is installed (helper edivalid).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache
from types import ModuleType
from typing import Any

from atomnb.formats.edi_problem import PROBLEMS_TYPE
from atomnb.formats.edifact.envelope import Message, Problem

__all__ = ["PROBLEMS_TYPE", "as_dicts", "element_problems"]


#: rule -> (CONTRL 0085 code, service segment, element in error)
_CODES: dict[str, tuple[str, str, int | None]] = {
    "unt-count": ("29", "UNT", 1),
    "unt-reference": ("28", "UNT", 2),
    "unt-missing": ("13", "UNT", None),
    "une-count": ("29", "UNE", 1),
    "une-reference": ("28", "UNE", 2),
    "une-missing": ("13", "UNE", None),
    "unz-count": ("29", "UNZ", 1),
    "unz-reference": ("28", "UNZ", 2),
    "unz-missing": ("13", "UNZ", None),
    "charset": ("21", "", None),
    "encoding": ("21", "", None),
}


def as_dicts(problems: Iterable[Problem], message: Message | None) -> list[dict[str, Any]]:
    """Problems as dicts; service-segment problems get their code and position filled in."""
    out = []
    for problem in problems:
        code, segment_id, element = problem.code, problem.segment_id, problem.element_position
        position = problem.segment_position
        if not code and problem.rule in _CODES:
            code, segment_id, element = _CODES[problem.rule]
            if segment_id == "UNT" and message is not None:
                position = message.count
        out.append(
            {
                "segment_position": position,
                "segment_id": segment_id,
                "element_position": element,
                "component_position": problem.component_position,
                "code": code,
                "message": problem.message,
            }
        )
    return out


@cache
def _module() -> ModuleType | None:
    try:
        module = importlib.import_module("atomnb.formats.edifact.elements")
    except ImportError:
        return None
    return module if hasattr(module, "validate_elements") else None


def element_problems(message: Message, message_type: str, codec: str, name: str) -> list[Problem]:
    """What ``elements.validate_elements`` finds in the message (UNH..UNT), with positions."""
    module = _module()
    if module is None:
        return []
    unh = message.unh
    # S009 version and release ("D", "96A") name the dictionary; the agency is not part of it
    parts = unh.elements[1][1:3] if len(unh.elements) > 1 else []
    version = ":".join(c.decode("latin-1") for c in parts)
    knows = getattr(module, "knows", None)
    if knows is not None and not knows(message_type, version):
        return []
    block = message.block
    segments = [
        (block.tags[i], [[c.decode(codec) for c in e] for e in block.elements(i)])
        for i in range(message.first, message.last + 1)
    ]
    found: list[Any] = module.validate_elements(message_type, version, segments)
    problems = []
    for item in found:
        data = item.as_dict()
        position = int(data.get("segment_position") or 1)
        index = min(message.first + position - 1, message.last)
        problems.append(
            Problem(
                rule="element",
                message=str(data.get("message", "")),
                where=(
                    f"{name}, segment {block.first_number + index} (line {int(block.lines[index])})"
                ),
                code=str(data.get("code", "")),
                segment_id=str(data.get("segment_id", "")),
                segment_position=position,
                element_position=data.get("element_position"),
                component_position=data.get("component_position"),
            )
        )
    return problems
