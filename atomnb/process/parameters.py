"""Runtime parameter values: typed from text, checked against the notebook, layered by precedence.

Command lines and HTTP calls give parameters as text; the notebook's defaults say
what type each should be. Coercing here (not in the kernel) means a wrong value is
refused before any kernel starts, with a message naming the parameter and type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from atomnb.errors import ParameterError
from atomnb.process.notebook import ProcessNotebook

__all__ = ["REDACTED", "coerce", "filter_declared", "redact", "resolve_parameters"]

REDACTED = "***"
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def coerce(value: Any, type_name: str, *, name: str) -> Any:
    """Convert ``value`` (text from a command line, or already typed) to ``type_name``."""
    if not isinstance(value, str) or type_name in ("str", "any"):
        return _check_typed(value, type_name, name=name)
    text = value.strip()
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
        if type_name == "bool":
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(text)
        if type_name in ("list", "dict", "tuple"):
            parsed = json.loads(text)
            expected = {"list": list, "dict": dict, "tuple": list}[type_name]
            if not isinstance(parsed, expected):
                raise ValueError(text)
            return tuple(parsed) if type_name == "tuple" else parsed
    except (ValueError, json.JSONDecodeError):
        raise ParameterError(
            f"parameter {name!r} expects {_describe(type_name)}, got {value!r}"
        ) from None
    return value


def _check_typed(value: Any, type_name: str, *, name: str) -> Any:
    expected: dict[str, type | tuple[type, ...]] = {
        "int": int,
        "float": (int, float),
        "bool": bool,
        "str": str,
        "list": list,
        "dict": dict,
    }
    python_type = expected.get(type_name)
    if python_type is None or isinstance(value, python_type):
        if type_name == "int" and isinstance(value, bool):
            raise ParameterError(f"parameter {name!r} expects an integer, got {value!r}")
        return value
    if type_name == "str" and isinstance(value, (int, float, bool)):
        return str(value)
    raise ParameterError(f"parameter {name!r} expects {_describe(type_name)}, got {value!r}")


def _describe(type_name: str) -> str:
    return {
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "list": "a JSON array",
        "dict": "a JSON object",
        "tuple": "a JSON array",
    }.get(type_name, f"a {type_name}")


def resolve_parameters(
    process: ProcessNotebook, *layers: Mapping[str, Any], strict: bool = True
) -> dict[str, Any]:
    """Merge parameter layers (later wins) and type each value by the notebook's declaration.

    ``strict`` refuses names the notebook does not declare; environment extensions pass
    ``strict=False`` layers through ``filter_declared`` instead, since they apply to many
    processes at once.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    if merged and not process.has_parameters_cell:
        raise ParameterError(
            f"parameters given ({', '.join(sorted(merged))}) but the notebook has no cell "
            "tagged 'parameters'",
            where=str(process.path),
            hint="in Jupyter, add the tag 'parameters' to the cell that sets the defaults",
        )
    resolved: dict[str, Any] = {}
    for name, value in merged.items():
        declared = process.parameters.get(name)
        if declared is None:
            if strict:
                known = ", ".join(sorted(process.parameters)) or "none"
                raise ParameterError(
                    f"unknown parameter {name!r} (the notebook declares: {known})",
                    where=str(process.path),
                )
            continue
        resolved[name] = coerce(value, declared.type_name, name=name)
    return resolved


def filter_declared(process: ProcessNotebook, values: Mapping[str, Any]) -> dict[str, Any]:
    """Only the values the notebook declares (environment-wide values apply where they fit)."""
    return {k: v for k, v in values.items() if k in process.parameters}


def redact(values: Mapping[str, Any], secret_names: frozenset[str] | set[str]) -> dict[str, Any]:
    """A copy safe to record or print: secret values replaced by ``***``."""
    return {k: (REDACTED if k in secret_names else v) for k, v in values.items()}
