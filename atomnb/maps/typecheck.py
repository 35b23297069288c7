"""Type rules of a map checked before running: what a function accepts, what a target takes.

One place for the compatibility rules (an integer fits where a decimal is wanted,
anything fits a string target) and for the hint that tells the author which
conversion step to add, so the compiler's messages and ``check_map``'s agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atomnb.errors import MapError
from atomnb.maps.functions.registry import ANY, MapFunction
from atomnb.maps.sources import Value
from atomnb.profiles import ElementType

__all__ = ["accepts", "check_types", "conversion_hint", "fits"]


def check_types(fn: MapFunction, inputs: Sequence[Value], where: str) -> None:
    """Raise a ``MapError`` for the first input whose type ``fn`` does not take."""
    specs = list(fn.inputs)
    for position, value in enumerate(inputs):
        spec = specs[min(position, len(specs) - 1)].type if specs else ANY
        if not accepts(spec, value.type):
            wanted = (
                spec
                if isinstance(spec, str)
                else (" or ".join(t.value for t in spec) if isinstance(spec, tuple) else spec.value)
            )
            raise MapError(
                f"rule {where}: input {position + 1} is {value.type.value}, but {fn.name} "
                f"expects {wanted}",
                hint=conversion_hint(value.type, ElementType.DECIMAL)
                if value.type is ElementType.STRING
                else None,
            )


def accepts(spec: Any, kind: ElementType) -> bool:
    """Whether an input declared as ``spec`` takes a value of type ``kind``."""
    if spec == ANY or spec == "same":
        return True
    allowed = spec if isinstance(spec, tuple) else (ElementType(spec),)
    if kind in allowed:
        return True
    return kind is ElementType.INTEGER and ElementType.DECIMAL in allowed


def fits(value: ElementType, target: ElementType) -> bool:
    """Whether a value of type ``value`` may be written to a target of type ``target``."""
    if value is target or target is ElementType.STRING:
        return True
    return value is ElementType.INTEGER and target is ElementType.DECIMAL


def conversion_hint(value: ElementType, target: ElementType) -> str | None:
    """The step to add to turn text into ``target``; None when no step does it."""
    if value is ElementType.STRING:
        return {
            ElementType.INTEGER: "add a to_integer step",
            ElementType.DECIMAL: "add a to_number step",
            ElementType.DATE: "add a parse_date step with the text's mask",
            ElementType.DATETIME: "add a parse_datetime step with the text's mask",
        }.get(target)
    return None
