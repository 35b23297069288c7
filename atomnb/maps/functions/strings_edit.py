"""String functions that reshape text: concat, upper/lower, substring/left/right, trim, pad.

Each works on positions, case or whitespace of the text it is given, without
searching it; the group's common rules are in ``strings``' docstring.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from atomnb.maps.functions.registry import Arg, BuildContext, Built, Input, register
from atomnb.maps.functions.strings_common import S, as_text, need
from atomnb.profiles import ElementType

#: What ``trim`` removes: ASCII whitespace, so polars and Python agree exactly.
WHITESPACE = " \t\n\r\f\v"


def _concat_py(*values: Any, separator: str = "", skip_nulls: bool = True) -> str | None:
    parts = [str(v) for v in values if v is not None] if skip_nulls else list(values)
    if not skip_nulls and any(v is None for v in parts):
        return None
    return separator.join(str(p) for p in parts)


@register(
    "concat",
    group="string",
    description="Join the inputs into one text, with an optional separator between them",
    inputs=[Input("values", ElementType.STRING, variadic=True)],
    output=S,
    args=[
        Arg("separator", str, "", "text put between the values"),
        Arg("skip_nulls", bool, True, "leave out missing values (else the result is missing)"),
    ],
    python=_concat_py,
)
def _concat(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    texts = [i.cast(pl.String) for i in inputs]
    return Built(pl.concat_str(texts, separator=args["separator"], ignore_nulls=args["skip_nulls"]))


def _upper_py(value: Any) -> str | None:
    return None if value is None else str(value).upper()


@register(
    "upper",
    group="string",
    description="The text in upper case (full Unicode: ß becomes SS)",
    inputs=[Input("value", S)],
    output=S,
    python=_upper_py,
)
def _upper(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.String).str.to_uppercase())


def _lower_py(value: Any) -> str | None:
    return None if value is None else str(value).lower()


@register(
    "lower",
    group="string",
    description="The text in lower case (full Unicode)",
    inputs=[Input("value", S)],
    output=S,
    python=_lower_py,
)
def _lower(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.String).str.to_lowercase())


def _substring_py(value: Any, *, start: int = 0, length: int | None = None) -> str | None:
    text = as_text(value)
    if text is None:
        return None
    return text[start:] if length is None else text[start : start + length]


@register(
    "substring",
    group="string",
    description="Part of the text: from position start (0 = first character), length characters "
    "(all the rest if not given); past the end gives what is there, possibly empty",
    inputs=[Input("value", S)],
    output=S,
    args=[
        Arg("start", int, 0, "first character, counted from 0"),
        Arg("length", int, None, "how many characters (missing: to the end)"),
    ],
    python=_substring_py,
)
def _substring(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    need(args["start"] >= 0, "substring: start must be 0 or more")
    need(args["length"] is None or args["length"] >= 0, "substring: length must be 0 or more")
    return Built(inputs[0].cast(pl.String).str.slice(args["start"], args["length"]))


def _left_py(value: Any, *, n: int) -> str | None:
    text = as_text(value)
    return None if text is None else text[:n]


@register(
    "left",
    group="string",
    description="The first n characters (all of a shorter text)",
    inputs=[Input("value", S)],
    output=S,
    args=[Arg("n", int, description="how many characters")],
    python=_left_py,
)
def _left(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    need(args["n"] >= 0, "left: n must be 0 or more")
    return Built(inputs[0].cast(pl.String).str.head(args["n"]))


def _right_py(value: Any, *, n: int) -> str | None:
    text = as_text(value)
    return None if text is None else (text[-n:] if n else "")


@register(
    "right",
    group="string",
    description="The last n characters (all of a shorter text)",
    inputs=[Input("value", S)],
    output=S,
    args=[Arg("n", int, description="how many characters")],
    python=_right_py,
)
def _right(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    need(args["n"] >= 0, "right: n must be 0 or more")
    return Built(inputs[0].cast(pl.String).str.tail(args["n"]))


def _trim_py(value: Any) -> str | None:
    text = as_text(value)
    return None if text is None else text.strip(WHITESPACE)


def _trim_left_py(value: Any) -> str | None:
    text = as_text(value)
    return None if text is None else text.lstrip(WHITESPACE)


def _trim_right_py(value: Any) -> str | None:
    text = as_text(value)
    return None if text is None else text.rstrip(WHITESPACE)


_TRIM_NOTE = " (space, tab, CR, LF, FF, VT; a no-break space stays)"


@register(
    "trim",
    group="string",
    description="The text without whitespace at both ends" + _TRIM_NOTE,
    inputs=[Input("value", S)],
    output=S,
    python=_trim_py,
)
def _trim(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.String).str.strip_chars(WHITESPACE))


@register(
    "trim_left",
    group="string",
    description="The text without whitespace at the start" + _TRIM_NOTE,
    inputs=[Input("value", S)],
    output=S,
    python=_trim_left_py,
)
def _trim_left(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.String).str.strip_chars_start(WHITESPACE))


@register(
    "trim_right",
    group="string",
    description="The text without whitespace at the end" + _TRIM_NOTE,
    inputs=[Input("value", S)],
    output=S,
    python=_trim_right_py,
)
def _trim_right(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    return Built(inputs[0].cast(pl.String).str.strip_chars_end(WHITESPACE))


def _pad_args(name: str, args: dict[str, Any]) -> None:
    need(len(args["char"]) == 1, f"{name}: char must be exactly one character")
    need(args["width"] >= 0, f"{name}: width must be 0 or more")


def _pad_left_py(value: Any, *, width: int, char: str = " ") -> str | None:
    text = as_text(value)
    return None if text is None else text.rjust(width, char)


def _pad_right_py(value: Any, *, width: int, char: str = " ") -> str | None:
    text = as_text(value)
    return None if text is None else text.ljust(width, char)


_PAD_ARGS = [
    Arg("width", int, description="the length to reach; longer texts are left as they are"),
    Arg("char", str, " ", "the one character to pad with"),
]


@register(
    "pad_left",
    group="string",
    description="The text padded at the start to width characters (never cut)",
    inputs=[Input("value", S)],
    output=S,
    args=_PAD_ARGS,
    python=_pad_left_py,
)
def _pad_left(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _pad_args("pad_left", args)
    return Built(inputs[0].cast(pl.String).str.pad_start(args["width"], args["char"]))


@register(
    "pad_right",
    group="string",
    description="The text padded at the end to width characters (never cut)",
    inputs=[Input("value", S)],
    output=S,
    args=_PAD_ARGS,
    python=_pad_right_py,
)
def _pad_right(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _pad_args("pad_right", args)
    return Built(inputs[0].cast(pl.String).str.pad_end(args["width"], args["char"]))
