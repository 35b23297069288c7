"""Steps that call a user's Python function, per document, inside the vectorized plan.

A map names such a function as ``'module:function -> type'``. It is the one kind of
step with no polars form: each document's inputs are packed into a struct and the
function is called on them with ``map_elements``; an exception becomes that
document's error (the rest go through), never a failed run. Kept apart from
``compile`` because loading user code and catching its errors is a job of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import polars as pl

from atomnb.errors import MapError
from atomnb.maps.functions.registry import BuildContext
from atomnb.maps.model import Step
from atomnb.maps.plan import polars_type
from atomnb.maps.sources import Value
from atomnb.profiles import Element, ElementType

__all__ = ["import_function", "udf_value"]


def udf_value(step: Step, spec: str, inputs: list[Value], where: str, ctx: BuildContext) -> Value:
    """A user-defined Python function: per document, inside the vectorized plan."""
    target, _, output = spec.partition("->")
    function = ctx.udfs.get(step.fn) if ctx.udfs else None
    if function is None:
        function = import_function(target.strip(), where)
    out_type = ElementType(output.strip()) if output.strip() else ElementType.STRING
    dtype = polars_type(Element("v", out_type))
    if any(v.listed for v in inputs):
        raise MapError(f"rule {where}: a Python function takes single values; aggregate first")

    def call(row: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"value": function(*row.values(), **step.args), "error": None}
        except Exception as exc:
            return {"value": None, "error": f"{type(exc).__name__}: {exc}"}

    packed = pl.struct([v.expr.alias(f"i{n}") for n, v in enumerate(inputs)]).map_elements(
        call, return_dtype=pl.Struct({"value": dtype, "error": pl.String})
    )
    failed = packed.struct.field("error").is_not_null()
    errors = (
        *(e for v in inputs for e in v.errors),
        (failed, f"Python function {step.fn} failed"),
    )
    return Value(packed.struct.field("value"), out_type, errors)


def import_function(target: str, where: str) -> Callable[..., Any]:
    """The function named ``'module:function'``; a ``MapError`` naming the rule if it fails."""
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise MapError(
            f"rule {where}: cannot load Python function {target!r}: {exc}",
            hint="name it as 'module:function', importable from the workspace",
        ) from None
