"""Run a compiled map over Documents, batch by batch, keeping failing documents apart.

Each batch: source documents are typed by the source profile if they are not
already (so a CSV read as text maps like typed JSON), converted to a polars
frame without copying, evaluated with the plan's expressions in one ``select``,
and converted back to Arrow in the target profile's exact schema. Documents
whose rule failed (a date that does not parse, a lookup that misses) become
rejections naming the rule and carrying the source document; the others go on.
A ``DocumentStream`` maps lazily, so memory stays bounded by the batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pyarrow as pa

from atomnb.documents import Documents, DocumentStream, Rejection
from atomnb.maps.compile import compile_map
from atomnb.maps.functions.registry import BuildContext
from atomnb.maps.model import Map
from atomnb.maps.xref import tables_for
from atomnb.profiles import apply_profile, to_arrow_schema

__all__ = ["apply_map"]

_ROW = "__atomnb_row"
PROPERTY_PREFIX = "_prop."


def apply_map(
    mapping: Map,
    documents: Documents | DocumentStream,
    *,
    properties: Mapping[str, Any] | None = None,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
    udfs: Mapping[str, Callable[..., Any]] | None = None,
) -> Documents | DocumentStream:
    """Map ``documents`` to ``mapping.target``; a stream is mapped lazily, batch by batch.

    Cross-reference tables come from ``tables`` or, by default, from the workspace's
    ``components/xrefs/`` (those the map's lookups name), loaded once per call.
    """
    ctx_properties = {"now": datetime.now(UTC), **(properties or {})}
    loaded = tables if tables is not None else tables_for(mapping)
    if isinstance(documents, DocumentStream):
        # The next batch is read while this one is mapped (both release the GIL).
        return DocumentStream(
            _stream(mapping, documents.prefetch(1), ctx_properties, loaded, udfs or {}),
            source=documents.source,
        )
    return _apply_batch(mapping, documents, ctx_properties, loaded, udfs or {})


def _stream(
    mapping: Map,
    stream: DocumentStream,
    properties: dict[str, Any],
    tables: Mapping[str, Mapping[str, Any]],
    udfs: Mapping[str, Callable[..., Any]],
) -> Any:
    offset = 0  # sequence numbers continue across batches
    for batch in stream:
        out = _apply_batch(mapping, batch, {**properties, "sequence_offset": offset}, tables, udfs)
        offset += len(out) + len(out.rejections) - len(batch.rejections)
        yield out


def _apply_batch(
    mapping: Map,
    documents: Documents,
    properties: Mapping[str, Any],
    tables: Mapping[str, Mapping[str, Any]],
    udfs: Mapping[str, Callable[..., Any]],
) -> Documents:
    source_schema = to_arrow_schema(mapping.source)
    if not _same_types(documents.to_arrow().schema, source_schema):
        documents = apply_profile(documents, mapping.source, source=f"map {mapping.name}")
    ctx = BuildContext(tables=tables, properties=properties, udfs=udfs)
    plan = compile_map(mapping, ctx)
    frame = _frame(documents)
    if plan.fan_out is not None and mapping.fan_out:
        frame = frame.filter(pl.col(mapping.fan_out).list.len() > 0).explode(mapping.fan_out)
    error_names = [f"__atomnb_error_{i}" for i in range(len(plan.errors))]
    selected = frame.select(
        *plan.columns,
        *[e.expr.fill_null(False).alias(n) for e, n in zip(plan.errors, error_names, strict=True)],
        pl.col(_ROW),
    )
    target_schema = to_arrow_schema(mapping.target)
    rejections = list(documents.rejections)
    if error_names:
        failed = selected.select(pl.any_horizontal(error_names).alias("failed"))["failed"]
        if failed.any():
            rejections += _rejections(
                mapping, documents, selected.filter(failed), plan, error_names
            )
            selected = selected.filter(~failed)
    rows = selected[_ROW].to_arrow()
    table = selected.select(target_schema.names).to_arrow().cast(target_schema)
    carried = {name: documents.property(name).take(rows) for name in documents.property_names}
    return Documents(table, carried, rejections)


def _frame(documents: Documents) -> pl.DataFrame:
    table = documents.to_arrow()
    frame = pl.from_arrow(table) if table.num_columns else pl.DataFrame()
    assert isinstance(frame, pl.DataFrame)
    extra = [pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW)] if table.num_columns else []
    if not table.num_columns:
        frame = pl.DataFrame({_ROW: list(range(len(documents)))})
    props = [
        pl.Series(PROPERTY_PREFIX + name, documents.property(name).combine_chunks())
        for name in documents.property_names
    ]
    return frame.with_columns(*extra, *props)


def _rejections(
    mapping: Map,
    documents: Documents,
    failed: pl.DataFrame,
    plan: Any,
    error_names: list[str],
) -> list[Rejection]:
    out = []
    for row in failed.select(_ROW, *error_names).iter_rows(named=True):
        index = int(row[_ROW])
        failing = [e for e, n in zip(plan.errors, error_names, strict=True) if row[n]]
        first = failing[0]
        # the rejection names the first rule itself; others that failed too are named here
        problems = [first.message] + [f"rule {e.rule}: {e.message}" for e in failing[1:]]
        source = json.dumps(documents[index], default=str, ensure_ascii=False).encode("utf-8")
        out.append(
            Rejection(
                message="; ".join(problems),
                where=f"map {mapping.name}",
                rule=first.rule,
                index=index,
                raw=source,
            )
        )
    return out


def _same_types(actual: pa.Schema, expected: pa.Schema) -> bool:
    """Whether the documents are already typed as the profile says (names in any order)."""
    for field in expected:
        index = actual.get_field_index(field.name)
        if index >= 0 and not _compatible(actual.field(index).type, field.type):
            return False
    return True


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    if actual == expected:
        return True
    return pa.types.is_large_string(actual) and pa.types.is_string(expected)
