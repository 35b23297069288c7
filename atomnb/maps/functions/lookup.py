"""Cross-reference lookups: a value's counterpart in a table loaded for the map run.

The tables come in ``ctx.tables`` (the apply step loads cross-reference components
into it) as a mapping of key → value, or of key → row (a mapping of column → value)
for tables with several columns; then ``key_column`` and ``value_column`` choose the
columns. Keys are compared as text (10 matches "10"); values are text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from atomnb.errors import MapError
from atomnb.maps.functions.exprs import bind
from atomnb.maps.functions.registry import (
    ANY,
    Arg,
    BuildContext,
    Built,
    Input,
    MapValueError,
    register,
)
from atomnb.maps.functions.strings import _to_text_py as text_of
from atomnb.profiles import ElementType

NOT_FOUND = ("default", "error", "null")


def pairs(table: Mapping[str, Any], key_column: str, value_column: str) -> dict[str, str | None]:
    """The table as text key → text value, using the columns when its values are rows."""
    out: dict[str, str | None] = {}
    for name, row in table.items():
        key: Any = name
        if isinstance(row, Mapping):
            if key_column != "key":
                key = row.get(key_column)
            value = row.get(value_column)
        else:
            value = row
        if key is not None:
            out[str(text_of(key))] = None if value is None else str(text_of(value))
    return out


def _table(ctx_tables: Mapping[str, Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    try:
        return ctx_tables[name]
    except KeyError:
        known = ", ".join(sorted(ctx_tables)) or "none"
        raise MapError(
            f"lookup: cross-reference table {name!r} is not loaded (loaded: {known})",
            hint="list it in the map's tables, and keep its component in the workspace",
        ) from None


def _check(args: Mapping[str, Any]) -> None:
    if args["not_found"] not in NOT_FOUND:
        raise MapError(f"lookup: not_found must be one of {', '.join(NOT_FOUND)}")


def _lookup_py(
    value: Any,
    *,
    table: str,
    key_column: str = "key",
    value_column: str = "value",
    default: Any = None,
    not_found: str = "default",
    tables: Mapping[str, Mapping[str, Any]] | None = None,
) -> str | None:
    """Per document; ``tables`` is what the build gets as ``ctx.tables``."""
    _check({"not_found": not_found})
    mapping = pairs(_table(tables or {}, table), key_column, value_column)
    if value is None:
        return None
    key = str(text_of(value))
    if key in mapping:
        return mapping[key]
    if not_found == "error":
        raise MapValueError(f"{key!r} is not in table {table}")
    return None if not_found == "null" or default is None else str(default)


@register(
    "lookup",
    group="lookup",
    description="The value for this key in a cross-reference table (keys compared as text); a key "
    "not there gives default (not_found=default), missing (null) or an error (error)",
    inputs=[Input("key", ANY)],
    output=ElementType.STRING,
    args=[
        Arg("table", str, description="the cross-reference table's name"),
        Arg("key_column", str, "key", "column holding the keys (tables with several columns)"),
        Arg("value_column", str, "value", "column holding the result"),
        Arg("default", (str, int, float, bool), None, "result for keys not in the table"),
        Arg("not_found", str, "default", "default, null or error", ("default", "null", "error")),
    ],
    python=_lookup_py,
)
def _lookup(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _check(args)
    mapping = pairs(_table(ctx.tables, args["table"]), args["key_column"], args["value_column"])
    key = inputs[0].cast(pl.String)
    default = args["default"] if args["not_found"] == "default" else None
    fallback = pl.lit(None if default is None else str(text_of(default)), dtype=pl.String)

    def found(k: pl.Expr) -> pl.Expr:
        if not mapping:
            return pl.when(k.is_not_null()).then(fallback)
        return pl.when(k.is_not_null()).then(
            k.replace_strict(mapping, default=fallback, return_dtype=pl.String)
        )

    value = bind([key], found)
    if args["not_found"] != "error":
        return Built(value)
    keys = pl.Series(list(mapping), dtype=pl.String)
    missing = bind([key], lambda k: k.is_not_null() & ~k.is_in(keys))
    return Built(value, missing, f"is not in table {args['table']}")
