"""String functions: concat, substring, trim, case, padding, replace, regex, split, to_text.

Common rules (the visual mapper shows them in each description):

* a missing input (null) gives a missing result, never an error; an empty string
  stays an empty string (``is_empty`` / ``default`` in ``logic`` treat "" as empty);
* positions and lengths count Unicode code points (``Zoë`` has length 3), the same in
  polars and Python;
* case mapping is full Unicode (``"ß".upper()`` is ``"SS"``, in polars and Python);
* regular expressions use the Rust ``regex`` syntax polars runs (no look-around, no
  back-references); replacements name groups as ``$1`` or ``${name}``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import polars as pl

from atomnb.errors import MapError
from atomnb.maps.functions.registry import Arg, BuildContext, Built, Input, register
from atomnb.profiles import ElementType

S = ElementType.STRING
#: What ``trim`` removes: ASCII whitespace, so polars and Python agree exactly.
WHITESPACE = " \t\n\r\f\v"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise MapError(message)


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
    text = _text(value)
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
    _need(args["start"] >= 0, "substring: start must be 0 or more")
    _need(args["length"] is None or args["length"] >= 0, "substring: length must be 0 or more")
    return Built(inputs[0].cast(pl.String).str.slice(args["start"], args["length"]))


def _left_py(value: Any, *, n: int) -> str | None:
    text = _text(value)
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
    _need(args["n"] >= 0, "left: n must be 0 or more")
    return Built(inputs[0].cast(pl.String).str.head(args["n"]))


def _right_py(value: Any, *, n: int) -> str | None:
    text = _text(value)
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
    _need(args["n"] >= 0, "right: n must be 0 or more")
    return Built(inputs[0].cast(pl.String).str.tail(args["n"]))


def _trim_py(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text.strip(WHITESPACE)


def _trim_left_py(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text.lstrip(WHITESPACE)


def _trim_right_py(value: Any) -> str | None:
    text = _text(value)
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
    _need(len(args["char"]) == 1, f"{name}: char must be exactly one character")
    _need(args["width"] >= 0, f"{name}: width must be 0 or more")


def _pad_left_py(value: Any, *, width: int, char: str = " ") -> str | None:
    text = _text(value)
    return None if text is None else text.rjust(width, char)


def _pad_right_py(value: Any, *, width: int, char: str = " ") -> str | None:
    text = _text(value)
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


def _replace_py(value: Any, *, old: str, new: str) -> str | None:
    text = _text(value)
    return None if text is None else text.replace(old, new)


@register(
    "replace",
    group="string",
    description="Every occurrence of the text old replaced by new (plain text, not a pattern)",
    inputs=[Input("value", S)],
    output=S,
    args=[Arg("old", str, description="text to find (not empty)"), Arg("new", str, "")],
    python=_replace_py,
)
def _replace(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _need(args["old"] != "", "replace: old must not be empty")
    return Built(inputs[0].cast(pl.String).str.replace_all(args["old"], args["new"], literal=True))


def _check_regex(name: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise MapError(f"{name}: invalid regular expression {pattern!r}: {exc}") from None


_GROUP_REF = re.compile(r"\$(\d+)|\$\{(\w+)\}")


def _python_replacement(replacement: str) -> str:
    """``$1`` / ``${name}`` (polars) as ``\\g<1>`` / ``\\g<name>`` (Python ``re.sub``)."""
    escaped = replacement.replace("\\", "\\\\")
    return _GROUP_REF.sub(lambda m: f"\\g<{m.group(1) or m.group(2)}>", escaped)


def _regex_replace_py(value: Any, *, pattern: str, replacement: str = "") -> str | None:
    text = _text(value)
    return None if text is None else re.sub(pattern, _python_replacement(replacement), text)


@register(
    "regex_replace",
    group="string",
    description="Every match of a regular expression replaced ($1 or ${name} insert groups); "
    "no match leaves the text as it is",
    inputs=[Input("value", S)],
    output=S,
    args=[
        Arg("pattern", str, description="regular expression (Rust regex syntax)"),
        Arg("replacement", str, "", "replacement text; $1 or ${name} for groups"),
    ],
    python=_regex_replace_py,
)
def _regex_replace(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _check_regex("regex_replace", args["pattern"])
    return Built(inputs[0].cast(pl.String).str.replace_all(args["pattern"], args["replacement"]))


def _regex_extract_py(value: Any, *, pattern: str, group: int = 1) -> str | None:
    text = _text(value)
    if text is None:
        return None
    found = re.search(pattern, text)
    return None if found is None else found.group(group)


@register(
    "regex_extract",
    group="string",
    description="The given group of the first match of a regular expression (0 = the whole "
    "match); no match gives a missing value, not an error",
    inputs=[Input("value", S)],
    output=S,
    args=[
        Arg("pattern", str, description="regular expression (Rust regex syntax)"),
        Arg("group", int, 1, "which capture group, 0 for the whole match"),
    ],
    python=_regex_extract_py,
)
def _regex_extract(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _check_regex("regex_extract", args["pattern"])
    groups = re.compile(args["pattern"]).groups
    _need(0 <= args["group"] <= groups, f"regex_extract: the pattern has no group {args['group']}")
    return Built(inputs[0].cast(pl.String).str.extract(args["pattern"], args["group"]))


def _split_py(value: Any, *, separator: str, index: int = 0) -> str | None:
    text = _text(value)
    if text is None:
        return None
    parts = text.split(separator)
    return parts[index] if -len(parts) <= index < len(parts) else None


@register(
    "split",
    group="string",
    description="One part of the text split at a separator: index 0 is the first part, -1 the "
    "last; a part that is not there gives a missing value",
    inputs=[Input("value", S)],
    output=S,
    args=[
        Arg("separator", str, description="plain text to split at (not empty)"),
        Arg("index", int, 0, "which part, from 0 (negative counts from the end)"),
    ],
    python=_split_py,
)
def _split(inputs: list[pl.Expr], args: dict[str, Any], ctx: BuildContext) -> Built:
    _need(args["separator"] != "", "split: separator must not be empty")
    parts = inputs[0].cast(pl.String).str.split(args["separator"])
    return Built(parts.list.get(args["index"], null_on_oob=True))


def _length_py(value: Any) -> int | None:
    text = _text(value)
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
