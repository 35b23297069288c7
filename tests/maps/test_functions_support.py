"""Helpers for the map function tests: evaluate one function on a frame, compare with its twin.

A module (not a conftest) so the test files import exactly what they use; it holds
no tests itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from atomnb.maps.functions.registry import BuildContext, MapValueError, function_library

ERROR = object()  # what a row is expected to be when the function fails for it


def run(
    name: str,
    columns: Mapping[str, Any],
    args: Mapping[str, Any] | None = None,
    *,
    inputs: Sequence[str] | None = None,
    ctx: BuildContext | None = None,
    schema: Mapping[str, Any] | None = None,
) -> tuple[list[Any], list[bool]]:
    """Values and error flags of ``name`` over ``columns`` (inputs: the named columns)."""
    fn = function_library()[name]
    resolved = fn.resolve_args(dict(args or {}), rule="test")
    frame = pl.DataFrame(dict(columns), schema=dict(schema) if schema else None)
    exprs = [pl.col(c) for c in (inputs if inputs is not None else list(columns))]
    built = fn.build(exprs, resolved, ctx or BuildContext())
    error = built.error if built.error is not None else pl.lit(False)
    for more, _message in built.more:  # further ways it fails (an impossible date …)
        error = error.fill_null(False) | more.fill_null(False)
    out = frame.with_columns(__value=built.value, __error=error.fill_null(False))
    return out["__value"].to_list(), out["__error"].to_list()


def values(
    name: str,
    columns: Mapping[str, Any],
    args: Mapping[str, Any] | None = None,
    **kw: Any,
) -> list[Any]:
    """Values with ``ERROR`` where the error expression is true."""
    got, failed = run(name, columns, args, **kw)
    return [ERROR if bad else value for value, bad in zip(got, failed, strict=True)]


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN (and 0.0 to -0.0, as ``==`` already has it)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) and (a is None) == (b is None)


def check_twin(
    name: str,
    columns: Mapping[str, Any],
    args: Mapping[str, Any] | None = None,
    *,
    schema: Mapping[str, Any] | None = None,
    ctx: BuildContext | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """The vectorized form equals ``python`` row by row; errors where python raises."""
    fn = function_library()[name]
    resolved = fn.resolve_args(dict(args or {}), rule="test")
    got, failed = run(name, columns, args, schema=schema, ctx=ctx)
    frame = pl.DataFrame(dict(columns), schema=dict(schema) if schema else None)
    for row, value, bad in zip(frame.iter_rows(), got, failed, strict=True):
        try:
            expected = fn.python(*row, **resolved, **(extra or {}))
        except MapValueError:
            assert bad, f"{name}{row} should fail, gave {value!r}"
            assert value is None, f"{name}{row} failed but has the value {value!r}"
            continue
        assert not bad, f"{name}{row} failed, python gave {expected!r}"
        assert same(value, expected), f"{name}{row}: vectorized {value!r} != python {expected!r}"
