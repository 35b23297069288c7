"""Telling "does not match the mask" from "an impossible date" (2024-02-30 fits %Y-%m-%d).

Both fail to parse; the user fixes them differently (a wrong mask versus a wrong
value in the data), so each has its own message. A text that has the mask's shape
— digits where the mask has numbers, its literal characters in between — but does
not parse names a day, month or time that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from atomnb.maps.functions.exprs import bind

__all__ = ["impossible_message", "is_impossible", "mask_shape", "split_failures"]

_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{1,2}",
    "d": r"\d{1,2}",
    "e": r" ?\d{1,2}",
    "H": r"\d{1,2}",
    "I": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "j": r"\d{1,3}",
    "f": r"\d{1,9}",
    "z": r"(?:Z|[+-]\d{2}:?\d{2})",
    "p": r"[AaPp][Mm]",
    "b": r"[A-Za-z]{3,9}",
    "B": r"[A-Za-z]{3,9}",
    "a": r"[A-Za-z]{2,9}",
    "A": r"[A-Za-z]{2,9}",
    "%": "%",
}


def mask_shape(mask: str) -> str:
    """A regular expression for texts shaped like ``mask`` (any directive not known: ``.+``)."""
    out, i = ["^"], 0
    while i < len(mask):
        if mask[i] == "%" and i + 1 < len(mask):
            out.append(_DIRECTIVES.get(mask[i + 1], ".+"))
            i += 2
        else:
            out.append(re.escape(mask[i]))
            i += 1
    return "".join(out) + "$"


def impossible_message(mask: str) -> str:
    return f"impossible date (fits mask {mask}, but no such day, month or time)"


def split_failures(
    text: pl.Expr, parse: Callable[[pl.Expr], pl.Expr], mask: str
) -> tuple[pl.Expr, pl.Expr]:
    """Where ``text`` is there but does not parse: (not the mask's shape, impossible).

    Each is one expression reading ``text`` once (``bind``), as every build does.
    """
    shape = mask_shape(mask)

    def failed(t: pl.Expr, impossible: bool) -> pl.Expr:
        def body(t: pl.Expr, p: pl.Expr) -> pl.Expr:
            shaped = t.str.contains(shape).fill_null(False)
            return t.is_not_null() & p.is_null() & (shaped if impossible else ~shaped)

        return bind([t, parse(t)], body)

    return (
        bind([text], lambda t: failed(t, False)),
        bind([text], lambda t: failed(t, True)),
    )


def is_impossible(text: str, mask: str) -> bool:
    """The per-record twin: the text has the mask's shape (so its failure is the date)."""
    return re.match(mask_shape(mask), text) is not None
