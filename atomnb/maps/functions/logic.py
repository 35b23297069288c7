"""Logic: conditions, comparisons, emptiness, defaults and value-to-value choices.

Decisions, shown in the descriptions:

* comparisons always give true or false, never missing: ``equals`` treats two missing
  values as equal and a missing one as different from any value; ``greater_than`` and
  ``less_than`` are false when either side is missing;
* in ``and_``, ``or_``, ``not_`` and ``if_else`` a missing boolean counts as false;
* "empty" means missing or the empty string ""; whitespace is not empty (trim first);
* ``in_list`` and ``choose`` compare values as text (so 10 and "10" match), with
  booleans as true/false.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    OutputRule,
    register,
)
from atomnb.maps.functions.strings import _to_text_py as text_of
from atomnb.maps.functions.values import JSON_SCALAR, dtype_for, literal, type_of
from atomnb.profiles import ElementType

B = ElementType.BOOLEAN


def _empty(value: pl.Expr) -> pl.Expr:
    return bind([value], lambda v: v.is_null() | (v.cast(pl.String) == ""))


def _py_empty(value: Any) -> bool:
    return value is None or value == ""


# -- conditions ---------------------------------------------------------------------------


def _if_else_type(types: Sequence[ElementType], args: Mapping[str, Any]) -> ElementType:
    if len(types) > 1:
        return types[1]
    given = args.get("then") if args.get("then") is not None else args.get("else")
    return type_of(given)


def _if_else_py(*values: Any, **args: Any) -> Any:
    chosen = 1 if values[0] is True else 2
    if len(values) > chosen:
        return values[chosen]
    return args.get("then") if chosen == 1 else args.get("else")


@register(
    "if_else",
    group="logic",
    description="then if the condition is true, else otherwise (a missing condition counts as "
    "false); then/else are the next inputs or the arguments",
    inputs=[
        Input("condition", B),
        Input("then", ANY, optional=True),
        Input("else", ANY, optional=True),
    ],
    output=OutputRule(_if_else_type, "the type of then"),
    args=[
        Arg("then", JSON_SCALAR, None, "value when true (if no second input)"),
        Arg("else", JSON_SCALAR, None, "value when false (if no third input)"),
    ],
    python=_if_else_py,
)
def _if_else(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    kind = _if_else_type([], args)
    then = inputs[1] if len(inputs) > 1 else literal(args["then"], kind)
    otherwise = inputs[2] if len(inputs) > 2 else literal(args["else"], kind)
    return Built(pl.when(inputs[0].fill_null(False)).then(then).otherwise(otherwise))


def _other(name: str, inputs: list[pl.Expr], args: Mapping[str, Any]) -> pl.Expr:
    if len(inputs) > 1:
        return inputs[1]
    if args.get("value") is None:
        raise MapError(f"{name} needs a second input or the argument value")
    return pl.lit(args["value"])


def _py_other(values: tuple[Any, ...], value: Any) -> Any:
    return values[1] if len(values) > 1 else value


def _equals_py(*values: Any, value: Any = None) -> bool:
    return bool(values[0] == _py_other(values, value))


def _not_equals_py(*values: Any, value: Any = None) -> bool:
    return not _equals_py(*values, value=value)


def _greater_py(*values: Any, value: Any = None) -> bool:
    a, b = values[0], _py_other(values, value)
    return a is not None and b is not None and bool(a > b)


def _less_py(*values: Any, value: Any = None) -> bool:
    a, b = values[0], _py_other(values, value)
    return a is not None and b is not None and bool(a < b)


def _compare(name: str, python: Any, words: str) -> None:
    @register(
        name,
        group="logic",
        description=f"True if the first value {words} the second input (or the argument value); "
        + ("two missing values are equal" if "equal" in name else "false when either is missing"),
        inputs=[Input("a", ANY), Input("b", ANY, optional=True)],
        output=B,
        args=[
            Arg(
                "value",
                JSON_SCALAR,
                None,
                "what to compare with, if no second input",
                kind="value",  # a number field on numbers, a date field on dates …
            )
        ],
        python=python,
    )
    def build(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
        a, b = inputs[0], _other(name, inputs, args)
        if name == "equals":
            return Built(a.eq_missing(b))
        if name == "not_equals":
            return Built(a.ne_missing(b))
        return Built(((a > b) if name == "greater_than" else (a < b)).fill_null(False))


_compare("equals", _equals_py, "equals")
_compare("not_equals", _not_equals_py, "differs from")
_compare("greater_than", _greater_py, "is greater than (later than, after in text order)")
_compare("less_than", _less_py, "is less than (earlier than, before in text order)")


def _is_empty_py(value: Any) -> bool:
    return _py_empty(value)


def _is_not_empty_py(value: Any) -> bool:
    return not _py_empty(value)


@register(
    "is_empty",
    group="logic",
    description='True if the value is missing or the empty text "" (spaces are not empty)',
    inputs=[Input("value", ANY)],
    output=B,
    python=_is_empty_py,
)
def _is_empty(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(_empty(inputs[0]))


@register(
    "is_not_empty",
    group="logic",
    description='True if the value is there and is not the empty text ""',
    inputs=[Input("value", ANY)],
    output=B,
    python=_is_not_empty_py,
)
def _is_not_empty(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(~_empty(inputs[0]))


def _coalesce_py(*values: Any) -> Any:
    return next((v for v in values if not _py_empty(v)), None)


@register(
    "coalesce",
    group="logic",
    description='The first input that is not empty (missing or ""); missing if all are',
    inputs=[Input("values", ANY, variadic=True)],
    output="same",
    python=_coalesce_py,
)
def _coalesce(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(
        bind(inputs, lambda *refs: pl.coalesce([pl.when(~_empty(r)).then(r) for r in refs]))
    )


def _default_py(value: Any, *, value_if_empty: Any) -> Any:
    return value_if_empty if _py_empty(value) else value


@register(
    "default",
    group="logic",
    description='The value, or value_if_empty when it is missing or ""',
    inputs=[Input("value", ANY)],
    output="same",
    args=[Arg("value_if_empty", JSON_SCALAR, description="what to use instead")],
    python=_default_py,
)
def _default(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    fallback = pl.lit(args["value_if_empty"])
    return Built(bind([inputs[0]], lambda v: pl.when(_empty(v)).then(fallback).otherwise(v)))


def _texts(values: Any, name: str) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, JSON_SCALAR) for v in values):
        raise MapError(f"{name}: values must be a list of texts, numbers or booleans")
    return [str(text_of(v)) for v in values]


def _in_list_py(value: Any, *, values: list[Any]) -> bool:
    return value is not None and text_of(value) in _texts(values, "in_list")


@register(
    "in_list",
    group="logic",
    description='True if the value is one of values (compared as text, so 10 matches "10"); '
    "false when missing",
    inputs=[Input("value", ANY)],
    output=B,
    args=[Arg("values", list, description="the allowed values")],
    python=_in_list_py,
)
def _in_list(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    allowed = _texts(args["values"], "in_list")
    return Built(inputs[0].cast(pl.String).is_in(allowed).fill_null(False))


def _not_py(value: Any) -> bool:
    return value is not True


def _and_py(*values: Any) -> bool:
    return all(v is True for v in values)


def _or_py(*values: Any) -> bool:
    return any(v is True for v in values)


@register(
    "not_",
    group="logic",
    description="True if the condition is false or missing",
    inputs=[Input("value", B)],
    output=B,
    python=_not_py,
)
def _not(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(~inputs[0].fill_null(False))


@register(
    "and_",
    group="logic",
    description="True if every condition is true (missing counts as false)",
    inputs=[Input("values", B, variadic=True)],
    output=B,
    python=_and_py,
)
def _and(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(pl.all_horizontal([i.fill_null(False) for i in inputs]))


@register(
    "or_",
    group="logic",
    description="True if any condition is true (missing counts as false)",
    inputs=[Input("values", B, variadic=True)],
    output=B,
    python=_or_py,
)
def _or(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(pl.any_horizontal([i.fill_null(False) for i in inputs]))


def _cases(args: Mapping[str, Any]) -> dict[str, Any]:
    cases = args["cases"]
    if not isinstance(cases, Mapping) or not cases:
        raise MapError("choose: cases must be a non-empty mapping of value → result")
    results = [*cases.values(), args.get("default")]
    kinds = {type_of(v) for v in results if v is not None}
    if len(kinds) > 1 or not all(v is None or isinstance(v, JSON_SCALAR) for v in results):
        raise MapError("choose: all results (and the default) must be of one type")
    return {str(text_of(k)): v for k, v in cases.items()}


def _choose_type(types: Sequence[ElementType], args: Mapping[str, Any]) -> ElementType:
    results = [*(args.get("cases") or {}).values(), args.get("default")]
    return type_of(next((v for v in results if v is not None), None))


def _choose_py(value: Any, *, cases: Mapping[str, Any], default: Any = None) -> Any:
    if value is None:
        return None
    return _cases({"cases": cases}).get(str(text_of(value)), default)


@register(
    "choose",
    group="logic",
    description="The result for the value from cases (value → result, compared as text), else "
    "default; a missing value stays missing",
    inputs=[Input("value", ANY)],
    output=OutputRule(_choose_type, "the type of the results"),
    args=[
        Arg("cases", dict, description="value → result, e.g. {'10': 'NEW', '20': 'PAID'}"),
        Arg("default", JSON_SCALAR, None, "result for values not in cases"),
    ],
    python=_choose_py,
)
def _choose(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    cases = _cases(args)
    kind = _choose_type([], args)
    default = literal(args["default"], kind)

    def choose(value: pl.Expr) -> pl.Expr:
        text = value.cast(pl.String)
        chosen = text.replace_strict(cases, default=default, return_dtype=dtype_for(kind))
        return pl.when(value.is_not_null()).then(chosen)

    return Built(bind([inputs[0]], choose))
