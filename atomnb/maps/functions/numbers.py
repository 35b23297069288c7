"""Number functions: arithmetic, rounding, conversion from text (masks: ``number_masks``).

Decisions, shown to the user in the descriptions:

* a missing input gives a missing result; division by zero, text that is not a number
  and text that does not fit its mask are per-document errors;
* decimals are float64 unless the profile gives them a scale; rounding and formatting
  work on the number *as written* (its shortest decimal form, what you see), so 2.675
  rounds to 2.68 and 1.005 to 1.01 with ``half_up``, unlike float arithmetic;
* ``half_even`` (default, banker's: 2.5 → 2, 0.125 → 0.12) and ``half_up`` (ties away
  from zero like Java's HALF_UP: 2.5 → 3, -2.5 → -3, 0.125 → 0.13);
* rounding is exact while |value| * 10**digits < 1e14 (below a trillion at two
  decimals); beyond that, and for NaN and infinity, ``round`` leaves the number as it
  is and ``format_number`` reports a per-document error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from atomnb.errors import MapError
from atomnb.maps.functions.exprs import bind, bind_pair
from atomnb.maps.functions.registry import (
    Arg,
    BuildContext,
    Built,
    Input,
    MapValueError,
    OutputRule,
    register,
)
from atomnb.profiles import ElementType

NUMBERS = (ElementType.INTEGER, ElementType.DECIMAL)
D = ElementType.DECIMAL
#: Most decimal places for round and masks (10**15 is still exact as a float).
SCALE = 15
#: Rounding is exact while |value| * 10**digits stays below this: the tie between two
#: candidates then has at most 15 significant digits, so no other decimal of that
#: length has the same float, and "the float equals the tie" means "written as the tie".
LIMIT = 1e14
ROUND_MODES = ("half_even", "half_up")
_PY_MODES = {"half_even": ROUND_HALF_EVEN, "half_up": ROUND_HALF_UP}
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_INTEGER = r"^[+-]?[0-9]+(\.0*)?$"


def round_mode(args: Mapping[str, Any]) -> str:
    mode = args.get("mode", "half_even")
    if mode not in ROUND_MODES:
        raise MapError(f"unknown rounding mode {mode!r}; use half_even or half_up")
    return str(mode)


def _digits(args: Mapping[str, Any], name: str = "digits") -> int:
    digits = args[name]
    if not 0 <= digits <= SCALE:
        raise MapError(f"{name} must be between 0 and {SCALE}, got {digits}")
    return int(digits)


def scaled_round(value: pl.Expr, digits: int, mode: str) -> tuple[pl.Expr, pl.Expr]:
    """``(k, ok)``: the value rounded to ``digits`` places, as the whole number k / 10**digits.

    Rounds the number *as written* (its shortest decimal form) without going through
    text: with p = 10**digits, the candidates are m = floor(x·p) and m + 1, and the
    tie between them, (m + 0.5) / p, is computed as a correctly rounded float T. The
    written number is above, below or exactly on the tie exactly when the float x is
    above, below or equal to T (T has at most 15 significant digits, so its float is
    unique). A wrong floor from the rounding of x·p is corrected by the same test.
    ``ok`` is false for NaN, infinity and |x|·p ≥ 1e14 (left as they are).
    """
    number = value.cast(pl.Float64)
    p = 10.0**digits
    floor = (number * p).floor()
    tie = (floor + 0.5) / divisor(number, p)
    if mode == "half_even":
        on_tie = (floor % 2) != 0
    else:  # half_up: ties away from zero
        on_tie = number > 0
    up = pl.when(number > tie).then(True).when(number < tie).then(False).otherwise(on_tie)
    k = floor + up.cast(pl.Float64)
    ok = (number * p).abs() < LIMIT
    return k, ok


def divisor(like: pl.Expr, p: float) -> pl.Expr:
    """``p`` as a column shaped like ``like``.

    polars divides by a scalar by multiplying with its reciprocal (267.5 / 100 gives
    2.6750000000000003); dividing by a column is the correctly rounded IEEE division.
    """
    return like.is_null().cast(pl.Float64) * 0.0 + p


def py_rounded(value: Any, digits: int, mode: str) -> Decimal | None:
    """The reference: the number's shortest decimal form, quantized; None past the limit."""
    number = float(value)
    if not math.isfinite(number) or not abs(number * 10.0**digits) < LIMIT:
        return None
    text = repr(value) if isinstance(value, float) else str(value)
    return Decimal(text).quantize(Decimal(1).scaleb(-digits), rounding=_PY_MODES[mode])


# -- arithmetic ---------------------------------------------------------------------------


def _arith_type(types: Sequence[ElementType], args: Mapping[str, Any]) -> ElementType:
    decimal = D in types or isinstance(args.get("value"), float)
    return D if decimal else ElementType.INTEGER


_ARITH_RULE = OutputRule(_arith_type, "decimal if any operand is decimal, else integer")
_ARITH_INPUTS = [Input("a", NUMBERS), Input("b", NUMBERS, optional=True)]
_VALUE = Arg("value", (int, float), None, "the second operand when no second input is given")


def _operands(name: str, inputs: list[pl.Expr], args: Mapping[str, Any]) -> tuple[pl.Expr, pl.Expr]:
    if len(inputs) > 1:
        return inputs[0], inputs[1]
    if args.get("value") is None:
        raise MapError(f"{name} needs a second input or the argument value")
    return inputs[0], pl.lit(args["value"])


def _py_operands(values: tuple[Any, ...], value: Any) -> tuple[Any, Any]:
    return (values[0], values[1]) if len(values) > 1 else (values[0], value)


def _add_py(*values: Any, value: Any = None) -> Any:
    a, b = _py_operands(values, value)
    return None if a is None or b is None else a + b


def _subtract_py(*values: Any, value: Any = None) -> Any:
    a, b = _py_operands(values, value)
    return None if a is None or b is None else a - b


def _multiply_py(*values: Any, value: Any = None) -> Any:
    a, b = _py_operands(values, value)
    return None if a is None or b is None else a * b


def _divide_py(*values: Any, value: Any = None) -> Any:
    a, b = _py_operands(values, value)
    if a is None or b is None:
        return None
    if b == 0:
        raise MapValueError("division by zero")
    return float(a) / float(b)


_OPS = {"add": "a + b", "subtract": "a - b", "multiply": "a * b"}


def _register_arith(name: str, python: Any) -> None:
    @register(
        name,
        group="number",
        description=f"{_OPS[name]}: with the second input, or with the argument value; "
        "missing operands give a missing result",
        inputs=_ARITH_INPUTS,
        output=_ARITH_RULE,
        args=[_VALUE],
        python=python,
    )
    def _build(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
        a, b = _operands(name, inputs, args)
        if name == "add":
            return Built(a + b)
        if name == "subtract":
            return Built(a - b)
        return Built(a * b)


_register_arith("add", _add_py)
_register_arith("subtract", _subtract_py)
_register_arith("multiply", _multiply_py)


@register(
    "divide",
    group="number",
    description="a / b as a decimal (by the second input or the argument value); division by "
    "zero is an error for that document",
    inputs=_ARITH_INPUTS,
    output=D,
    args=[_VALUE],
    python=_divide_py,
)
def _divide(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    def divide(a: pl.Expr, b: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        zero = (b == 0).fill_null(False) & a.is_not_null()
        return pl.when(~zero).then(a.cast(pl.Float64) / b.cast(pl.Float64)), zero

    value, zero = bind_pair(_operands("divide", inputs, args), divide)
    return Built(value, zero, "division by zero")


def _abs_py(value: Any) -> Any:
    return None if value is None else abs(value)


def _negate_py(value: Any) -> Any:
    return None if value is None else -value


@register(
    "abs",
    group="number",
    description="The number without its sign",
    inputs=[Input("value", NUMBERS)],
    output="same",
    python=_abs_py,
)
def _abs(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].abs())


@register(
    "negate",
    group="number",
    description="The number with the opposite sign",
    inputs=[Input("value", NUMBERS)],
    output="same",
    python=_negate_py,
)
def _negate(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(-inputs[0])


# -- rounding -----------------------------------------------------------------------------


def _round_py(value: Any, *, digits: int = 0, mode: str = "half_even") -> float | None:
    if value is None:
        return None
    result = py_rounded(value, digits, mode)
    return float(value) if result is None else float(result)


MODE_ARG = Arg(
    "mode",
    str,
    "half_even",
    "half_even (banker's: 2.5 → 2) or half_up (2.5 → 3)",
    choices=("half_even", "half_up"),
)


@register(
    "round",
    group="number",
    description="The number rounded to digits decimal places, as written (2.675 → 2.68): "
    "half_even (default, banker's: 2.5 → 2, 0.125 → 0.12) or half_up (away from zero: 2.5 → 3)",
    inputs=[Input("value", NUMBERS)],
    output=D,
    args=[Arg("digits", int, 0, "decimal places, 0 to 15"), MODE_ARG],
    python=_round_py,
)
def _round(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    digits, mode = _digits(args), round_mode(args)

    def rounded(number: pl.Expr) -> pl.Expr:
        k, ok = scaled_round(number, digits, mode)
        return pl.when(ok).then(k / divisor(k, 10.0**digits)).otherwise(number.cast(pl.Float64))

    return Built(bind([inputs[0]], rounded))


def _ceil_py(value: Any) -> float | None:
    if value is None:
        return None
    return float(math.ceil(value)) if math.isfinite(value) else float(value)


def _floor_py(value: Any) -> float | None:
    if value is None:
        return None
    return float(math.floor(value)) if math.isfinite(value) else float(value)


@register(
    "ceil",
    group="number",
    description="The smallest whole number not below the value (2.1 → 3, -2.1 → -2)",
    inputs=[Input("value", NUMBERS)],
    output=D,
    python=_ceil_py,
)
def _ceil(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.Float64).ceil())


@register(
    "floor",
    group="number",
    description="The largest whole number not above the value (2.9 → 2, -2.1 → -3)",
    inputs=[Input("value", NUMBERS)],
    output=D,
    python=_floor_py,
)
def _floor(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.Float64).floor())


# -- conversion from text -----------------------------------------------------------------


def blank_text(value: Any) -> str | None:
    """Text stripped of whitespace; None for missing or blank (blank is missing, not an error)."""
    if value is None:
        return None
    text = str(value).strip(" \t\r\n") if not isinstance(value, float) else repr(value)
    return text or None


def clean_text(value: pl.Expr) -> pl.Expr:
    """The value as text without surrounding whitespace; null for blank (computed once)."""
    text = value.cast(pl.String).str.strip_chars(" \t\r\n")
    return bind([text], lambda t: pl.when(t != "").then(t))


def _to_number_py(value: Any) -> float | None:
    text = blank_text(value)
    if text is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if not re.match(_NUMBER, text):
        raise MapValueError(f"{text!r} is not a number")
    return float(text)


@register(
    "to_number",
    group="number",
    description="Text as a decimal number (1234.5, -0.5, 1e3; no grouping: see parse_number); "
    "empty text is missing; anything else is an error for that document",
    inputs=[Input("value", (ElementType.STRING, ElementType.INTEGER, D))],
    output=D,
    python=_to_number_py,
)
def _to_number(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    def number(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        bad = text.is_not_null() & ~text.str.contains(_NUMBER)
        return pl.when(~bad).then(text.cast(pl.Float64, strict=False)), bad

    value, bad = bind_pair([clean_text(inputs[0])], number)
    return Built(value, bad, "is not a number")


def _to_integer_py(value: Any) -> int | None:
    if isinstance(value, float) and not value.is_integer():
        raise MapValueError(f"{value!r} is not a whole number")
    text = blank_text(value)
    if text is None:
        return None
    if not re.match(_INTEGER, text):
        raise MapValueError(f"{text!r} is not a whole number")
    number = int(text.split(".")[0])
    if not -(2**63) <= number < 2**63:
        raise MapValueError(f"{text!r} is too large")
    return number


@register(
    "to_integer",
    group="number",
    description="Text (or a decimal) as a whole number: 42, -7, 3.0; 3.5, other text and numbers "
    "past ±9.2e18 are an error for that document (round first); empty text is missing",
    inputs=[Input("value", (ElementType.STRING, ElementType.INTEGER, D))],
    output=ElementType.INTEGER,
    python=_to_integer_py,
)
def _to_integer(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    def integer(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        whole = text.str.replace(r"\.0*$", "")
        number = pl.when(text.str.contains(_INTEGER)).then(whole.cast(pl.Int64, strict=False))
        return number, text.is_not_null() & number.is_null()

    value, bad = bind_pair([clean_text(inputs[0])], integer)
    return Built(value, bad, "is not a whole number (or is too large)")
