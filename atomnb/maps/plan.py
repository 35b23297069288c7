"""What compiling a map produces: the plan that ``apply`` runs, and the dtype rule it casts to.

Kept apart from ``compile`` so the compiler's parts (sources, type checks, Python
functions) can share these types without importing the compiler; ``compile``
re-exports all of them, which stays the public path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from atomnb.errors import MapError
from atomnb.profiles import Element, arrow_type

__all__ = ["FAN_OUT_COLUMN", "Plan", "RuleError", "polars_type"]

FAN_OUT_COLUMN = "__atomnb_fan_out"


@dataclass(frozen=True)
class RuleError:
    """Where a rule can fail per document: the expression, the rule and what went wrong."""

    rule: str
    expr: pl.Expr
    message: str


@dataclass
class Plan:
    """The compiled map: target column expressions, error expressions, and a fan-out."""

    columns: list[pl.Expr]
    errors: list[RuleError]
    fan_out: pl.Expr | None = None
    problems: list[MapError] = field(default_factory=list)


def polars_type(element: Element) -> pl.DataType:
    """The polars dtype of an element, derived from its Arrow type (one source of truth)."""
    return pl.from_arrow(pa.array([], type=arrow_type(element))).dtype  # type: ignore[union-attr]
