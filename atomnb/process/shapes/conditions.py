"""Conditions for decisions and routes: vectorized where possible, per document where not.

A condition is a polars expression (``pl.col("total") > 1000``), a SQL-like text
(``"total > 1000 AND country = 'DE'"``, evaluated by polars), or a Python function
of one document (a dict), which runs per document — the escape hatch for logic
no expression can say.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa

from atomnb.documents import Documents
from atomnb.errors import ProcessError

__all__ = ["Condition", "evaluate", "frame_of"]

Condition = pl.Expr | str | Callable[[dict[str, Any]], Any]


def frame_of(documents: Documents) -> pl.DataFrame:
    table = documents.to_arrow()
    if table.num_columns == 0:
        return pl.DataFrame({"__row": list(range(len(documents)))})
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def evaluate(documents: Documents, condition: Condition, *, shape: str) -> pa.Array:
    """One value per document (booleans for decisions, route keys for routes)."""
    if len(documents) == 0:
        return pa.array([], type=pa.bool_())
    if isinstance(condition, str):
        try:
            condition = pl.sql_expr(condition)
        except Exception as exc:
            raise ProcessError(
                f"shape {shape}: cannot read the condition {condition!r}: {exc}"
            ) from None
    if isinstance(condition, pl.Expr):
        try:
            series = frame_of(documents).select(condition.alias("__value")).to_series()
        except pl.exceptions.PolarsError as exc:
            raise ProcessError(f"shape {shape}: the condition failed: {exc}") from None
        return series.to_arrow()
    if callable(condition):
        return pa.array([condition(doc) for doc in documents])
    raise ProcessError(f"shape {shape}: a condition must be an expression, text or function")
