"""Values that come from the map run rather than the document: constants, sequence, properties.

None of these take inputs. A constant's or a property's output type comes from the
value itself (str → string, int → integer, float → decimal, bool → boolean), or from
the ``type`` argument when it is given, so the compiler can check the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from atomnb.errors import MapError
from atomnb.maps.functions.registry import (
    Arg,
    BuildContext,
    Built,
    MapValueError,
    OutputRule,
    register,
)
from atomnb.profiles import ElementType

JSON_SCALAR = (str, int, float, bool)

_POLARS = {
    ElementType.STRING: pl.String,
    ElementType.INTEGER: pl.Int64,
    ElementType.DECIMAL: pl.Float64,
    ElementType.BOOLEAN: pl.Boolean,
}


def type_of(value: Any, default: ElementType = ElementType.STRING) -> ElementType:
    """The element type of a plain JSON scalar (``None`` gives ``default``)."""
    if isinstance(value, bool):
        return ElementType.BOOLEAN
    if isinstance(value, int):
        return ElementType.INTEGER
    if isinstance(value, float):
        return ElementType.DECIMAL
    return default


def dtype_for(kind: ElementType) -> pl.DataType:
    """The polars dtype a scalar of ``kind`` has in a map (text for anything else)."""
    return _POLARS.get(kind, pl.String)()


def literal(value: Any, kind: ElementType) -> pl.Expr:
    """``value`` as a polars literal of the dtype for ``kind`` (null stays a typed null)."""
    dtype = dtype_for(kind)
    if value is not None and kind is ElementType.DECIMAL:
        value = float(value)
    return pl.lit(value, dtype=dtype)


def _declared(args: Mapping[str, Any], key: str) -> ElementType:
    named = args.get("type")
    if named:
        try:
            kind = ElementType(named)
        except ValueError:
            raise MapError(
                f"unknown type {named!r}; use string, integer, decimal or boolean"
            ) from None
        if kind not in _POLARS:
            raise MapError(
                f"type {named!r} cannot be a constant; use string, integer, decimal or boolean"
            )
        return kind
    return type_of(args.get(key))


def _declared_rule(key: str) -> OutputRule:
    return OutputRule(
        lambda types, args: _declared(args, key), f"the type of '{key}' (or the type argument)"
    )


def _convert(value: Any, kind: ElementType) -> Any:
    if value is None:
        return None
    try:
        if kind is ElementType.STRING:
            return ("true" if value else "false") if isinstance(value, bool) else str(value)
        if kind is ElementType.INTEGER:
            return int(value)
        if kind is ElementType.DECIMAL:
            return float(value)
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
    except ValueError:
        raise MapError(f"value {value!r} is not a {kind.value}") from None


def _constant_py(*, value: Any, type: str | None = None) -> Any:
    return _convert(value, _declared({"value": value, "type": type}, "value"))


_TYPE_ARG = Arg(
    "type",
    str,
    None,
    "string, integer, decimal or boolean (missing: from the value)",
    ("string", "integer", "decimal", "boolean"),
)


@register(
    "constant",
    group="value",
    description="A fixed value for every document (text, number or true/false)",
    inputs=[],
    output=_declared_rule("value"),
    args=[Arg("value", JSON_SCALAR, description="the value"), _TYPE_ARG],
    python=_constant_py,
)
def _constant(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    kind = _declared(args, "value")
    return Built(literal(_convert(args["value"], kind), kind))


def _sequence_py(*, start: int = 1, step: int = 1, position: int = 0, offset: int = 0) -> int:
    """The number of the document at ``position`` (0-based) within the run."""
    return start + (position + offset) * step


@register(
    "sequence",
    group="value",
    description="A running number: start for the run's first document, then + step each; "
    "a batch continues from the process property sequence_offset (documents before it)",
    inputs=[],
    output=ElementType.INTEGER,
    args=[Arg("start", int, 1, "the first number"), Arg("step", int, 1, "the increment")],
    python=_sequence_py,
)
def _sequence(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    offset = int(ctx.properties.get("sequence_offset", 0))
    position = pl.int_range(pl.len(), dtype=pl.Int64) + offset
    return Built(position * args["step"] + args["start"])


def _process_property_py(
    *,
    name: str,
    default: Any = None,
    type: str | None = None,
    properties: Mapping[str, Any] | None = None,
) -> Any:
    value = (properties or {}).get(name, default)
    if value is None:
        value = default
    return _convert(value, _declared({"default": value, "type": type}, "default"))


@register(
    "process_property",
    group="value",
    description="The value of a process property for this run (default when it is not set), "
    "as the type of default or the type argument (text if neither)",
    inputs=[],
    output=_declared_rule("default"),
    args=[
        Arg("name", str, description="the property's name"),
        Arg("default", JSON_SCALAR, None, "value when the property is not set"),
        _TYPE_ARG,
    ],
    python=_process_property_py,
)
def _process_property(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    value = ctx.properties.get(args["name"], args["default"])
    if value is None:
        value = args["default"]
    kind = _declared({"default": args["default"], "type": args["type"]}, "default")
    return Built(literal(_convert(value, kind), kind))


def property_column(name: str) -> str:
    """The column the apply step adds for document property ``name``."""
    return "_prop." + name


def _document_property_py(value: Any = None, *, name: str) -> str | None:
    """Gets the property's value for one document, as the apply step stored it."""
    if value is not None and not isinstance(value, str):
        raise MapValueError(f"document property {name} is not text")
    return value


@register(
    "document_property",
    group="value",
    description="A document property (e.g. a file name or header) of each document, as text; "
    "missing where the document does not have it",
    inputs=[],
    output=ElementType.STRING,
    args=[Arg("name", str, description="the property's name")],
    python=_document_property_py,
)
def _document_property(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(pl.col(property_column(args["name"])).cast(pl.String))
