"""Expression helpers shared by the function groups.

polars has no ``let``: an expression used three times inside another is computed
three times, and down a chain of map functions the copies multiply (a rounded and
then formatted total once evaluated its list aggregation hundreds of times). Every
build therefore binds an input it needs more than once with ``bind``, which computes
it once into a struct field and reads the field (measured: no cost over using it once).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import polars as pl

__all__ = ["bind", "bind_pair"]

_COUNTER = itertools.count()


def bind(values: Sequence[pl.Expr], body: Callable[..., pl.Expr]) -> pl.Expr:
    """``body(*refs)`` where each ref reads its value, computed once.

    Works wherever ``values`` work, also inside ``list.eval`` over ``pl.element()``,
    and nests. A body sees only its own refs: an inner ``bind`` must be given what it
    uses from outside as values (field names are unique, so a stray outer ref fails
    loudly instead of reading the inner struct's field of the same name).
    """
    names = [f"__v{next(_COUNTER)}" for _ in values]
    packed = pl.struct([value.alias(name) for value, name in zip(values, names, strict=True)])
    result = body(*(pl.field(name) for name in names)).alias("__out")
    bound = packed.struct.with_fields(result).struct.field("__out")
    # keep the output name the unbound expression would have (the first input's)
    name = values[0].meta.output_name(raise_if_undetermined=False) if values else None
    return bound.alias(name) if name else bound


def bind_pair(
    values: Sequence[pl.Expr], body: Callable[..., tuple[pl.Expr, pl.Expr]]
) -> tuple[pl.Expr, pl.Expr]:
    """A value and its error expression from one ``body``, each over values computed once."""
    return (
        bind(values, lambda *refs: body(*refs)[0]),
        bind(values, lambda *refs: body(*refs)[1]),
    )
