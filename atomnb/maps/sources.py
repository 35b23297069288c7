"""Source paths resolved against the source profile into compiled values.

A rule's inputs start here: each dotted path is checked against the profile (an
unknown name is reported with the names known at that level) and turned into a
polars expression. Crossing a repeating element opens a *list context* — the
value is then per repetition (``pl.element()``) and remembers the outer list, so
the compiler can evaluate it with ``list.eval`` or close it with an aggregate.
Kept apart from ``compile`` because this is the one place that walks the profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from atomnb.errors import MapError
from atomnb.profiles import Element, ElementType

__all__ = ["Scope", "Value", "element_at", "path_expr", "source_value"]


@dataclass(frozen=True)
class Value:
    """A compiled value: its expression, type, errors, and list context if still open."""

    expr: pl.Expr
    type: ElementType
    errors: tuple[tuple[pl.Expr, str], ...] = ()
    listed: bool = False  # True: ``expr`` is per repetition, inside ``outer.list.eval``
    outer: pl.Expr | None = None
    outer_path: str | None = None


class Scope:
    """Where source paths start: the document (``pl.col``) or one repetition (``pl.element``)."""

    def __init__(self, elements: Sequence[Element], item: bool, prefix: str = "") -> None:
        self.elements = {e.name: e for e in elements}
        self.item = item
        self.prefix = prefix

    def root(self, name: str) -> pl.Expr:
        return pl.element().struct.field(name) if self.item else pl.col(name)


def element_at(path: str, scope: Scope, label: str) -> Element:
    """The element a dotted path names; a ``MapError`` naming the known elements if none."""
    parts = path.split(".")
    elements = scope.elements
    found: Element | None = None
    for part in parts:
        found = elements.get(part)
        if found is None:
            known = ", ".join(elements) or "none"
            shown = f"{scope.prefix}[].{path}" if scope.item else path
            raise MapError(
                f"rule {label}: unknown source path {shown!r} (no {part!r}; known here: {known})"
            )
        elements = {c.name: c for c in found.children}
    assert found is not None
    return found


def path_expr(path: str, scope: Scope) -> pl.Expr:
    """The expression reading a dotted path, without opening list contexts."""
    parts = path.split(".")
    expr = scope.root(parts[0])
    for part in parts[1:]:
        expr = expr.struct.field(part)
    return expr


def source_value(path: str, scope: Scope, label: str) -> Value:
    """A source path as a value; crossing one repeating element opens a list context."""
    parts = path.split(".")
    elements = scope.elements
    expr: pl.Expr | None = None
    outer: pl.Expr | None = None
    outer_path: str | None = None
    element: Element | None = None
    for depth, part in enumerate(parts):
        element = elements.get(part)
        if element is None:
            element_at(path, scope, label)  # raises with the known names
        assert element is not None
        expr = scope.root(part) if expr is None else expr.struct.field(part)
        if element.repeating:
            if outer is not None:
                raise MapError(
                    f"rule {label}: {path!r} crosses two repeating elements; map the outer "
                    "one to a repeating target (children rules) or fan out first"
                )
            outer, outer_path = expr, ".".join(parts[: depth + 1])
            expr = pl.element()
        elements = {c.name: c for c in element.children}
    assert element is not None and expr is not None
    if element.type is ElementType.RECORD and outer is None:
        raise MapError(f"rule {label}: source {path!r} is a record; map its fields instead")
    if outer is not None:
        return Value(expr, element.type, (), True, outer, outer_path)
    return Value(expr, element.type)
