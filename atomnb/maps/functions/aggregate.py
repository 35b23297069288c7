"""Aggregates over a repeating element: sum, count, min, max, average, first, last, join …

``inputs[0]`` is a list column (one list per document, or per parent repetition). A
missing list counts as empty. Missing items are left out, except by ``count`` (which
counts repetitions) and ``first``/``last`` (which give the item, even when missing).
On an empty list: sum and the counts give 0, join gives "", any_true false and
all_true true (nothing is false); min, max, average, first and last give missing.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from atomnb.maps.functions.registry import (
    Arg,
    BuildContext,
    Built,
    FunctionKind,
    Input,
    register,
)
from atomnb.maps.functions.strings import _to_text_py as text_of
from atomnb.profiles import ElementType

NUMBERS = (ElementType.INTEGER, ElementType.DECIMAL)
ORDERED = (*NUMBERS, ElementType.STRING, ElementType.DATE, ElementType.DATETIME, ElementType.TIME)
AGG = FunctionKind.AGGREGATE


def _present(values: list[Any] | None) -> list[Any]:
    return [v for v in (values or []) if v is not None]


def _sum_py(values: list[Any] | None) -> Any:
    return sum(_present(values))


@register(
    "sum",
    group="aggregate",
    description="The sum of a repeating element's values (missing values count as nothing)",
    inputs=[Input("values", NUMBERS)],
    output="same",
    python=_sum_py,
    kind=AGG,
)
def _sum(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    # + 0 turns polars' -0.0 (the sum of an empty float list) into 0.0
    return Built(inputs[0].list.sum().fill_null(0) + 0)


def _count_py(values: list[Any] | None) -> int:
    return len(values or [])


@register(
    "count",
    group="aggregate",
    description="How many times a repeating element occurs",
    inputs=[Input("values")],
    output=ElementType.INTEGER,
    python=_count_py,
    kind=AGG,
)
def _count(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.len().fill_null(0).cast(pl.Int64))


def _min_py(values: list[Any] | None) -> Any:
    present = _present(values)
    return min(present) if present else None


def _max_py(values: list[Any] | None) -> Any:
    present = _present(values)
    return max(present) if present else None


@register(
    "min",
    group="aggregate",
    description="The smallest value (earliest date, first in text order); missing if none",
    inputs=[Input("values", ORDERED)],
    output="same",
    python=_min_py,
    kind=AGG,
)
def _min(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.min())


@register(
    "max",
    group="aggregate",
    description="The largest value (latest date, last in text order); missing if none",
    inputs=[Input("values", ORDERED)],
    output="same",
    python=_max_py,
    kind=AGG,
)
def _max(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.max())


def _average_py(values: list[Any] | None) -> float | None:
    present = _present(values)
    return sum(present) / len(present) if present else None


@register(
    "average",
    group="aggregate",
    description="The mean of the values that are there (not rounded); missing if none",
    inputs=[Input("values", NUMBERS)],
    output=ElementType.DECIMAL,
    python=_average_py,
    kind=AGG,
)
def _average(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.mean())


def _first_py(values: list[Any] | None) -> Any:
    return values[0] if values else None


def _last_py(values: list[Any] | None) -> Any:
    return values[-1] if values else None


@register(
    "first",
    group="aggregate",
    description="The value of the first repetition; missing if there is none",
    inputs=[Input("values")],
    output="same",
    python=_first_py,
    kind=AGG,
)
def _first(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.get(0, null_on_oob=True))


@register(
    "last",
    group="aggregate",
    description="The value of the last repetition; missing if there is none",
    inputs=[Input("values")],
    output="same",
    python=_last_py,
    kind=AGG,
)
def _last(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.get(-1, null_on_oob=True))


def _join_py(values: list[Any] | None, *, separator: str = ",") -> str:
    return separator.join(str(text_of(v)) for v in _present(values))


@register(
    "join",
    group="aggregate",
    description="The values as one text with a separator between them (missing ones left out)",
    inputs=[Input("values")],
    output=ElementType.STRING,
    args=[Arg("separator", str, ",", "text put between the values")],
    python=_join_py,
    kind=AGG,
)
def _join(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    texts = inputs[0].list.eval(pl.element().cast(pl.String))
    return Built(texts.list.join(args["separator"], ignore_nulls=True).fill_null(""))


def _count_distinct_py(values: list[Any] | None) -> int:
    return len(set(_present(values)))


@register(
    "count_distinct",
    group="aggregate",
    description="How many different values there are (missing ones not counted)",
    inputs=[Input("values")],
    output=ElementType.INTEGER,
    python=_count_distinct_py,
    kind=AGG,
)
def _count_distinct(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.drop_nulls().list.n_unique().fill_null(0).cast(pl.Int64))


def _any_true_py(values: list[Any] | None) -> bool:
    return any(v is True for v in values or [])


def _all_true_py(values: list[Any] | None) -> bool:
    return all(v is not False for v in values or [])


@register(
    "any_true",
    group="aggregate",
    description="True if any value is true; false for none",
    inputs=[Input("values", ElementType.BOOLEAN)],
    output=ElementType.BOOLEAN,
    python=_any_true_py,
    kind=AGG,
)
def _any_true(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.any().fill_null(False))


@register(
    "all_true",
    group="aggregate",
    description="True if no value is false (missing ones left out); true for none",
    inputs=[Input("values", ElementType.BOOLEAN)],
    output=ElementType.BOOLEAN,
    python=_all_true_py,
    kind=AGG,
)
def _all_true(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].list.all().fill_null(True))
