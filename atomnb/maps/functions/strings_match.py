"""String functions that search the text: replace, regex_replace, regex_extract, split.

Here live the checks a pattern gets before a map runs (a bad regular expression
or a missing group is a compile-time error naming the function) and the
translation of polars' ``$1`` / ``${name}`` replacements to Python's for the
per-record twins; the group's common rules are in ``strings``' docstring.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from atomnb.errors import MapError
from atomnb.maps.functions.registry import Arg, BuildContext, Built, Input, register
from atomnb.maps.functions.strings_common import S, as_text, need


def _replace_py(value: Any, *, old: str, new: str) -> str | None:
    text = as_text(value)
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
    need(args["old"] != "", "replace: old must not be empty")
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
    text = as_text(value)
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
    text = as_text(value)
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
    need(0 <= args["group"] <= groups, f"regex_extract: the pattern has no group {args['group']}")
    return Built(inputs[0].cast(pl.String).str.extract(args["pattern"], args["group"]))


def _split_py(value: Any, *, separator: str, index: int = 0) -> str | None:
    text = as_text(value)
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
    need(args["separator"] != "", "split: separator must not be empty")
    parts = inputs[0].cast(pl.String).str.split(args["separator"])
    return Built(parts.list.get(args["index"], null_on_oob=True))
