"""The mapper's argument fields: what each step's "value" field is, and typed text converted.

A browser sends what was typed into an argument field as text. Here it becomes the
value the function declares (``atomnb.maps.functions.arguments``); an argument that
does not fit keeps its previous value in the map and its error goes back to the
widget, keyed ``target/step index/argument``, to show beside the field with the
text as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atomnb.errors import AtomnbError, MapError, ProfileError
from atomnb.maps import Map, function_library
from atomnb.maps.functions.arguments import convert_arg, value_input
from atomnb.nb.widgets.mapping_ops import LinkView, find_link
from atomnb.profiles import ElementType

__all__ = ["convert_step_args", "error_key", "step_input_types", "value_inputs"]


def error_key(target: str, index: int, arg: str) -> str:
    """How the widget's ``errors`` trait names one argument field."""
    return f"{target}/{index}/{arg}"


def step_input_types(mapping: Map, link: LinkView) -> list[ElementType | None]:
    """The type each step of ``link`` works on (its first input), ``None`` where unknown."""
    library = function_library()
    types: list[ElementType | None] = []
    try:
        current: list[ElementType] = [mapping.source.element(s).type for s in link.sources]
    except ProfileError:
        current = []
    for step in link.steps:
        types.append(current[0] if current else None)
        fn = library.get(step.fn)
        if fn is None or not current:
            current = []
            continue
        try:
            resolved = fn.resolve_args(step.args, rule=link.target)
            current = [fn.output_type(current, resolved)]
        except (AtomnbError, ValueError, TypeError, KeyError):
            current = []
    return types


def value_inputs(mapping: Map, link: LinkView) -> list[str]:
    """Per step, the field a "value" argument shows (number on numbers, date on dates …)."""
    return [value_input(t) for t in step_input_types(mapping, link)]


def convert_step_args(
    mapping: Map, target: str, index: int, fn_name: str, given: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``given`` typed per the function's arguments, and the errors by ``error_key``.

    An argument that does not convert is left out of the result (the caller keeps its
    previous value); its error carries the message and the text as typed.
    """
    fn = function_library().get(fn_name)
    if fn is None:
        return dict(given), {}
    declared = {a.name: a for a in fn.args}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise MapError(
            f"function {fn_name} has no argument(s) {', '.join(unknown)}",
            hint=f"its arguments: {', '.join(declared) or 'none'}",
        )
    link = find_link(mapping, target)
    types = step_input_types(mapping, link) if link is not None else []
    input_type = types[index] if 0 <= index < len(types) else None
    converted: dict[str, Any] = {}
    errors: dict[str, dict[str, Any]] = {}
    for name, raw in given.items():
        try:
            converted[name] = convert_arg(declared[name], raw, input_type)
        except MapError as exc:
            message = exc.message + (f" — {exc.hint}" if exc.hint else "")
            errors[error_key(target, index, name)] = {"message": message, "raw": _raw(raw)}
    return converted, errors


def _raw(raw: Any) -> Any:
    return raw if isinstance(raw, (str, int, float, bool)) or raw is None else str(raw)
