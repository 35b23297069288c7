"""String functions that read any value as text or measure it: length and to_text.

``_to_text_py`` is the one rule for how a value is written as text (numbers as
polars writes them, booleans as true/false); logic, lookup and aggregate use it as
``text_of`` through ``strings``, so comparisons and joins agree with ``to_text``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from atomnb.maps.functions.registry import BuildContext, Built, Input, register
from atomnb.maps.functions.strings_common import S, as_text
from atomnb.profiles import ElementType


def _length_py(value: Any) -> int | None:
    text = as_text(value)
    return None if text is None else len(text)


@register(
    "length",
    group="string",
    description="How many characters the text has (Unicode code points; missing stays missing)",
    inputs=[Input("value", S)],
    output=ElementType.INTEGER,
    python=_length_py,
)
def _length(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.String).str.len_chars().cast(pl.Int64))


def _to_text_py(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return "NaN"
        text = repr(value)
        if "e-0" in text:  # polars writes 1.5e-6, and 1.5e-05 positionally
            text = text.replace("e-0", "e-")
            if text.endswith("e-5"):
                text = format(Decimal(text), "f")
        return text
    return str(value)


@register(
    "to_text",
    group="string",
    description="Any value as text: numbers as written (1.5, 1e+20), booleans as true/false, "
    "dates as 2024-02-29 (use format_date or format_number to choose the form)",
    inputs=[Input("value")],
    output=S,
    python=_to_text_py,
)
def _to_text(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.String))
