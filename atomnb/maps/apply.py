"""Run a compiled map over Documents, batch by batch, keeping failing documents apart.

Each batch: source documents are typed by the source profile if they are not
already (so a CSV read as text maps like typed JSON), converted to a polars
frame without copying, evaluated with the plan's expressions in one ``select``,
and converted back to Arrow in the target profile's exact schema. Documents
whose rule failed (a date that does not parse, a lookup that misses) become
rejections naming the rule and carrying the source document; the others go on.
With fan-out a source document fails as a whole: one rejection, none of its
repetitions mapped (as the per-record reference has it).
A ``DocumentStream`` maps lazily, so memory stays bounded by the batch, with one
plan compiled for the whole stream; sequence numbers run on across batches.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from atomnb import _clock as clock
from atomnb.documents import Documents, DocumentStream, Rejection
from atomnb.documents.progress import progress
from atomnb.maps.compile import Plan, compile_map
from atomnb.maps.functions.registry import BuildContext
from atomnb.maps.model import Map, Rule
from atomnb.maps.xref import tables_for
from atomnb.profiles import apply_profile, to_arrow_schema
from atomnb.profiles.drift_collect import record_drift

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
    ctx_properties = {"now": clock.now(), **(properties or {})}
    run = _reused_run(mapping, tables, udfs)
    if run is None:
        loaded = tables if tables is not None else tables_for(mapping)
        run = _Run(mapping, loaded, udfs or {})
        if _run_independent(mapping, loaded, udfs):
            run.plan(ctx_properties)
            _remember(mapping, run)
    if isinstance(documents, DocumentStream):
        # The next batch is read while this one is mapped (both release the GIL).
        return DocumentStream(
            _stream(run, documents.prefetch(1), ctx_properties), source=documents.source
        )
    return run.apply(documents, ctx_properties)


#: Plans of maps called again and again (a listener maps each message): compiling one costs
#: about as much as mapping a small message. Keyed by the map object, checked by a weak
#: reference so a recycled ``id`` never finds another map's plan.
_REUSED: dict[int, tuple[weakref.ref[Map], _Compiled]] = {}
_REUSED_MAX = 128
_Compiled = tuple[pa.Schema, pa.Schema, Plan]
_RUN_DEPENDENT = frozenset({"now", "today", "sequence", "process_property"})


def _run_independent(
    mapping: Map,
    tables: Mapping[str, Mapping[str, Any]],
    udfs: Mapping[str, Callable[..., Any]] | None,
) -> bool:
    """Whether a plan compiled now is the plan of every later call with the same map.

    Not when a rule reads the run (its time, properties, sequence numbers: compiled in as
    literals), nor with lookup tables (loaded from files that may change) or UDFs given
    per call.
    """
    return not tables and not udfs and not _uses(mapping.rules, _RUN_DEPENDENT)


def _uses(rules: Iterable[Rule], functions: frozenset[str]) -> bool:
    return any(
        any(step.fn in functions for step in rule.steps) or _uses(rule.children, functions)
        for rule in rules
    )


def _reused_run(
    mapping: Map,
    tables: Mapping[str, Mapping[str, Any]] | None,
    udfs: Mapping[str, Callable[..., Any]] | None,
) -> _Run | None:
    if tables or udfs:
        return None
    entry = _REUSED.get(id(mapping))
    if entry is None or entry[0]() is not mapping:
        return None
    return _Run(mapping, {}, {}, compiled=entry[1])


def _remember(mapping: Map, run: _Run) -> None:
    """Keep the run's schemas and plan (not the map: the entry goes when the map does)."""
    if run.compiled is None:
        return
    if len(_REUSED) >= _REUSED_MAX:
        _REUSED.pop(next(iter(_REUSED)))
    key = id(mapping)
    _REUSED[key] = (weakref.ref(mapping, lambda _: _REUSED.pop(key, None)), run.compiled)


def _stream(run: _Run, stream: DocumentStream, properties: dict[str, Any]) -> Any:
    offset = 0  # sequence numbers continue across batches
    rejected = 0
    with progress(f"mapping {run.mapping.name}", unit="documents") as bar:
        for batch in stream:
            out, numbered = run.numbered(batch, {**properties, "sequence_offset": offset})
            offset += numbered
            rejected += len(out.rejections)
            bar.advance(len(batch), f"{rejected:,} rejected" if rejected else None)
            yield out
        bar.finish()


class _Run:
    """One call's worth of mapping: schemas and the compiled plan, made once, not per batch.

    A plan depends on the batch only through the ``sequence_offset`` property, so it is
    compiled once for the whole stream unless the map numbers documents (``sequence``).
    """

    def __init__(
        self,
        mapping: Map,
        tables: Mapping[str, Mapping[str, Any]],
        udfs: Mapping[str, Callable[..., Any]],
        *,
        compiled: _Compiled | None = None,
    ) -> None:
        self.mapping = mapping
        self.tables = tables
        self.udfs = udfs
        self._plan: Plan | None = None
        if compiled is not None:
            self.source_schema, self.target_schema, self._plan = compiled
        else:
            self.source_schema = to_arrow_schema(mapping.source)
            self.target_schema = to_arrow_schema(mapping.target)
        self.per_batch = _numbers_documents(mapping.rules)

    @property
    def compiled(self) -> _Compiled | None:
        """The schemas and plan, once a plan that holds for every batch is compiled."""
        if self._plan is None:
            return None
        return self.source_schema, self.target_schema, self._plan

    def plan(self, properties: Mapping[str, Any]) -> Plan:
        if self._plan is not None:
            return self._plan
        ctx = BuildContext(tables=self.tables, properties=properties, udfs=self.udfs)
        plan = compile_map(self.mapping, ctx)
        if not self.per_batch:
            self._plan = plan
        return plan

    def apply(self, documents: Documents, properties: Mapping[str, Any]) -> Documents:
        return self.numbered(documents, properties)[0]

    def numbered(
        self, documents: Documents, properties: Mapping[str, Any]
    ) -> tuple[Documents, int]:
        """The mapped batch, and how many documents ``sequence`` numbered in it (the rows
        mapped, failing ones included; not those the source profile refused)."""
        mapping = self.mapping
        if not _same_types(documents.to_arrow().schema, self.source_schema):
            documents = apply_profile(documents, mapping.source, source=f"map {mapping.name}")
        else:  # already typed: still measured for the run's drift report (counts only)
            record_drift(documents, mapping.source)
        plan = self.plan(properties)
        frame = _frame(documents)
        fan_out = mapping.fan_out if plan.fan_out is not None else None
        if fan_out:
            frame = frame.filter(pl.col(fan_out).list.len() > 0).explode(fan_out)
        error_names = [f"__atomnb_error_{i}" for i in range(len(plan.errors))]
        errors = [
            e.expr.fill_null(False).alias(n) for e, n in zip(plan.errors, error_names, strict=True)
        ]
        # one query: the target columns and each rule's error flag. Everything else here
        # is eager Series/column work, because each polars query costs a fixed fraction
        # of a millisecond however small the batch (it dominated a low-latency request).
        selected = frame.select(*plan.columns, *errors, pl.col(_ROW))
        rejections = list(documents.rejections)
        filtered = False
        if error_names:
            failed = _any_failed(selected, error_names)
            if failed.any():
                bad = selected.filter(failed)
                if fan_out:
                    # a source document fails as a whole, as in the per-record reference:
                    # one rejection for it, and none of its repetitions go through
                    bad = bad.group_by(_ROW, maintain_order=True).agg(pl.col(error_names).any())
                    failed = selected[_ROW].is_in(bad[_ROW].implode())
                rejections += _rejections(mapping, documents, bad, plan, error_names)
                selected = selected.filter(~failed)
                filtered = True
        target = pl.DataFrame([selected.get_column(n) for n in self.target_schema.names])
        table = target.to_arrow().cast(self.target_schema)
        if fan_out or filtered:
            rows = selected[_ROW].to_arrow()
            carried = {n: documents.property(n).take(rows) for n in documents.property_names}
        else:  # every document, in order: the properties are the batch's own
            carried = {n: documents.property(n) for n in documents.property_names}
        return Documents(table, carried, rejections), frame.height


def _any_failed(selected: pl.DataFrame, error_names: list[str]) -> pl.Series:
    """Whether any rule failed, per row: an or over the error flags, without a query."""
    failed = selected[error_names[0]]
    for name in error_names[1:]:
        failed = failed | selected[name]
    return failed


def _numbers_documents(rules: tuple[Rule, ...]) -> bool:
    """Whether a rule (or a child rule) uses ``sequence``, whose plan depends on the batch."""
    return any(
        any(step.fn == "sequence" for step in rule.steps) or _numbers_documents(rule.children)
        for rule in rules
    )


def _frame(documents: Documents) -> pl.DataFrame:
    """The documents as a polars frame, with their row numbers and properties as columns."""
    table = documents.to_arrow()
    frame = pl.from_arrow(table) if table.num_columns else pl.DataFrame()
    assert isinstance(frame, pl.DataFrame)
    rows = pl.Series(_ROW, np.arange(len(documents), dtype=np.int64))
    props = [
        pl.Series(PROPERTY_PREFIX + name, documents.property(name).combine_chunks())
        for name in documents.property_names
    ]
    return pl.DataFrame([*frame.get_columns(), rows, *props])


def _rejections(
    mapping: Map,
    documents: Documents,
    failed: pl.DataFrame,
    plan: Plan,
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
