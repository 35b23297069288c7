"""Profile drift: how live documents have moved away from their profile, in counts and paths.

A partner adds a field, starts sending text where a number was, drops a
mandatory element or a new code: ``validate`` catches some of that per document,
but a reader with a profile silently drops unknown fields. ``drift`` measures the
batch as a whole instead: per element path, how many documents carry a field the
profile does not know, a value off the element's type or mask, a missing
mandatory value, or a code outside the element's enumeration.

The report holds paths and counts only, never a value: documents may hold
personal data, and a drift report is meant to be logged, stored and shown.
Checks run column by column over Arrow arrays in slices of ``batch_size``
documents, so a large batch (or a ``DocumentStream``) is measured in bounded
extra memory; the type and mask checks are the validator's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents
from atomnb.profiles.model import Element, ElementType, Profile
from atomnb.profiles.validate import _filled, _parses

__all__ = ["DriftReport", "drift"]


#: Distinct new code values remembered per path (as hashes); beyond it the count is a floor.
MAX_DISTINCT_CODES = 10_000
_BATCH = 65_536
_SUMMARY_PATHS = 5


@dataclass(frozen=True)
class CodeDrift:
    """New code values at one enumerated path: how many distinct ones, in how many documents."""

    distinct: int
    documents: int
    capped: bool = False  # True when ``distinct`` is a floor (MAX_DISTINCT_CODES reached)


@dataclass(frozen=True)
class DriftReport:
    """Counts per element path of each kind of drift; no document value is ever held.

    Paths are dotted element paths as in ``Profile.walk`` (``lines.sku`` for a field
    of the items of the list ``lines``); every count is a number of documents.
    """

    profile: str
    documents: int
    new_fields: dict[str, int] = field(default_factory=dict)
    off_type: dict[str, int] = field(default_factory=dict)
    missing_mandatory: dict[str, int] = field(default_factory=dict)
    new_codes: dict[str, CodeDrift] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return bool(self.new_fields or self.off_type or self.missing_mandatory or self.new_codes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: profile, document count, and the four kinds by path."""
        return {
            "profile": self.profile,
            "documents": self.documents,
            "new_fields": dict(self.new_fields),
            "off_type": dict(self.off_type),
            "missing_mandatory": dict(self.missing_mandatory),
            "new_codes": {
                path: {"distinct": c.distinct, "documents": c.documents, "capped": c.capped}
                for path, c in self.new_codes.items()
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def summary(self) -> str:
        """One line: what drifted, where, in how many documents (paths and counts only)."""
        if not self.drifted:
            return f"no drift from profile {self.profile!r} in {self.documents} document(s)"
        parts = []
        kinds = (
            ("new field", self.new_fields),
            ("off type/mask", self.off_type),
            ("missing mandatory", self.missing_mandatory),
        )
        for label, counts in kinds:
            if counts:
                parts.append(f"{label}: {_top(counts)}")
        if self.new_codes:
            shown = sorted(self.new_codes.items(), key=lambda kv: (-kv[1].documents, kv[0]))
            text = ", ".join(
                f"{p} ({c.distinct}{'+' if c.capped else ''} new code(s) in {c.documents})"
                for p, c in shown[:_SUMMARY_PATHS]
            )
            more = len(shown) - _SUMMARY_PATHS
            parts.append(f"new codes: {text}" + (f" and {more} more path(s)" if more > 0 else ""))
        return f"drift from profile {self.profile!r} in {self.documents} document(s): " + "; ".join(
            parts
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        counts = (
            f"new_fields={len(self.new_fields)} off_type={len(self.off_type)} "
            f"missing_mandatory={len(self.missing_mandatory)} new_codes={len(self.new_codes)}"
        )
        return f"<DriftReport {self.profile!r} documents={self.documents} {counts}>"


def _top(counts: dict[str, int]) -> str:
    shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{path} ({n})" for path, n in shown[:_SUMMARY_PATHS])
    more = len(shown) - _SUMMARY_PATHS
    return text + (f" and {more} more path(s)" if more > 0 else "")


DriftInput: TypeAlias = (
    Documents | pa.Table | pa.RecordBatch | Iterable[Documents] | Iterable[Mapping[str, Any]]
)


def drift(documents: DriftInput, profile: Profile, *, batch_size: int = _BATCH) -> DriftReport:
    """Measure how ``documents`` drift from ``profile``: new fields, off-type values,
    missing mandatory values and new codes, as counts of documents per path.

    ``documents`` may be ``Documents``, an Arrow table or record batch, a polars
    DataFrame, a ``DocumentStream`` (or any iterable of ``Documents``), or a list of
    dicts. Large inputs are measured ``batch_size`` documents at a time.
    """
    tally = _Tally()
    for batch in _batches(documents, batch_size):
        tally.documents += batch.num_rows
        _measure_batch(batch, profile, tally)
    return tally.report(profile.name)


def _batches(documents: object, batch_size: int) -> Iterable[pa.RecordBatch]:
    if isinstance(documents, Documents):
        yield from documents.to_arrow().to_batches(max_chunksize=batch_size)
        return
    if isinstance(documents, pa.RecordBatch):
        documents = pa.Table.from_batches([documents])
    if isinstance(documents, pa.Table):
        yield from documents.to_batches(max_chunksize=batch_size)
        return
    to_arrow = getattr(documents, "to_arrow", None)
    if callable(to_arrow):  # a polars or similar frame
        table = to_arrow()
        if isinstance(table, pa.Table):
            yield from table.to_batches(max_chunksize=batch_size)
            return
    if not isinstance(documents, Iterable):
        raise TypeError(f"drift needs Documents, an Arrow table or records, got {documents!r}")
    records: list[Mapping[str, Any]] = []
    for item in documents:
        if isinstance(item, Documents):
            yield from item.to_arrow().to_batches(max_chunksize=batch_size)
        elif isinstance(item, Mapping):
            records.append(item)
            if len(records) >= batch_size:
                yield from Documents.from_records(records).to_arrow().to_batches()
                records = []
        else:
            raise TypeError(
                f"drift needs Documents or dicts, got an item of type {type(item).__name__}"
            )
    if records:
        yield from Documents.from_records(records).to_arrow().to_batches()


class _Tally:
    """Counts summed over batches; new code values kept only as hashes, bounded per path."""

    def __init__(self) -> None:
        self.documents = 0
        self.batch_rows = 0  # documents in the batch being measured (doc indices are below it)
        self.new_fields: dict[str, int] = {}
        self.off_type: dict[str, int] = {}
        self.missing: dict[str, int] = {}
        self.code_docs: dict[str, int] = {}
        self.code_hashes: dict[str, set[int]] = {}
        self.code_capped: dict[str, bool] = {}

    def add(self, counts: dict[str, int], path: str, docs: np.ndarray) -> None:
        if not docs.size:
            return
        seen = np.zeros(self.batch_rows, dtype=bool)  # cheaper than np.unique
        seen[docs] = True
        n = int(np.count_nonzero(seen))
        if n:
            counts[path] = counts.get(path, 0) + n

    def add_codes(self, path: str, values: pa.Array, docs: np.ndarray) -> None:
        if not docs.size:
            return
        self.add(self.code_docs, path, docs)
        seen = self.code_hashes.setdefault(path, set())
        if len(seen) >= MAX_DISTINCT_CODES:
            self.code_capped[path] = True
            return
        for value in pc.unique(values).to_pylist():
            if len(seen) >= MAX_DISTINCT_CODES:
                self.code_capped[path] = True
                break
            seen.add(hash(value))

    def merge(self, other: _Tally) -> None:
        """Add ``other``'s counts (a nested collector's) to these."""
        self.documents += other.documents
        for mine, theirs in (
            (self.new_fields, other.new_fields),
            (self.off_type, other.off_type),
            (self.missing, other.missing),
            (self.code_docs, other.code_docs),
        ):
            for path, n in theirs.items():
                mine[path] = mine.get(path, 0) + n
        for path, hashes in other.code_hashes.items():
            seen = self.code_hashes.setdefault(path, set())
            room = MAX_DISTINCT_CODES - len(seen)
            added = hashes - seen
            if len(added) > room:
                added = set(list(added)[: max(room, 0)])
                self.code_capped[path] = True
            seen |= added
            if other.code_capped.get(path):
                self.code_capped[path] = True

    def report(self, profile: str) -> DriftReport:
        return DriftReport(
            profile=profile,
            documents=self.documents,
            new_fields=dict(sorted(self.new_fields.items())),
            off_type=dict(sorted(self.off_type.items())),
            missing_mandatory=dict(sorted(self.missing.items())),
            new_codes={
                path: CodeDrift(
                    len(self.code_hashes.get(path, ())), n, self.code_capped.get(path, False)
                )
                for path, n in sorted(self.code_docs.items())
            },
        )


def _measure_batch(batch: pa.RecordBatch, profile: Profile, tally: _Tally) -> None:
    n = batch.num_rows
    tally.batch_rows = n
    docs = np.arange(n)
    here = np.ones(n, dtype=bool)
    known = {e.name for e in profile.elements}
    for name in batch.schema.names:
        if name not in known:
            column = batch.column(name)
            tally.add(tally.new_fields, name, docs[_valid(column)])
    for element in profile.elements:
        if element.name not in batch.schema.names:
            if element.mandatory or element.min_occurs:
                tally.add(tally.missing, element.name, docs)
            continue
        _element(element, batch.column(element.name), here, docs, element.name, tally)


def _element(
    element: Element, array: pa.Array, present: np.ndarray, docs: np.ndarray, path: str, t: _Tally
) -> None:
    """One element's values; ``present`` marks values whose parent exists, ``docs`` their doc."""
    filled = _filled(array)
    if element.mandatory or element.min_occurs:
        t.add(t.missing, path, docs[present & ~filled])
    here = present & filled
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        if not element.repeating:
            t.add(t.off_type, path, docs[here])
            return
        items = pc.list_flatten(array)
        parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
        _value(element, items, here[parents], docs[parents], path, t)
        return
    _value(element, array, here, docs, path, t)


def _value(
    element: Element, array: pa.Array, here: np.ndarray, docs: np.ndarray, path: str, t: _Tally
) -> None:
    if element.type is ElementType.RECORD:
        if not pa.types.is_struct(array.type):
            t.add(t.off_type, path, docs[here])
            return
        names = {array.type.field(i).name: i for i in range(array.type.num_fields)}
        known = {c.name for c in element.children}
        for name, index in names.items():
            if name not in known:
                child = pc.struct_field(array, [index])
                t.add(t.new_fields, f"{path}.{name}", docs[here & _valid(child)])
        for child in element.children:
            child_path = f"{path}.{child.name}"
            if child.name not in names:
                if child.mandatory or child.min_occurs:
                    t.add(t.missing, child_path, docs[here])
                continue
            _element(child, pc.struct_field(array, [names[child.name]]), here, docs, child_path, t)
        return
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        ok = here
        if element.type is not ElementType.STRING:
            parses = _parses(element, array)
            t.add(t.off_type, path, docs[here & ~parses])
            ok = here & parses
        if element.enum is not None:
            allowed = pa.array(list(element.enum), type=pa.string())
            inside = pc.fill_null(pc.is_in(array, value_set=allowed), False)
            outside = ok & ~inside.to_numpy(zero_copy_only=False)
            if outside.any():
                positions = np.flatnonzero(outside)
                t.add_codes(path, array.take(pa.array(positions)), docs[positions])
        return
    if not _fits(element.type, array.type):
        t.add(t.off_type, path, docs[here])
    elif element.enum is not None and pa.types.is_integer(array.type):
        allowed = pa.array(list(element.enum), type=pa.string())
        inside = pc.fill_null(pc.is_in(array.cast(pa.string()), value_set=allowed), False)
        outside = here & ~inside.to_numpy(zero_copy_only=False)
        if outside.any():
            positions = np.flatnonzero(outside)
            t.add_codes(path, array.take(pa.array(positions)), docs[positions])


def _fits(kind: ElementType, arrow: pa.DataType) -> bool:
    """Does an already typed (non-text) Arrow value fit the element's type?"""
    if pa.types.is_null(arrow):
        return True
    if pa.types.is_struct(arrow) or pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return False
    match kind:
        case ElementType.STRING:
            return True
        case ElementType.INTEGER:
            return pa.types.is_integer(arrow)
        case ElementType.DECIMAL:
            return (
                pa.types.is_integer(arrow)
                or pa.types.is_floating(arrow)
                or pa.types.is_decimal(arrow)
            )
        case ElementType.BOOLEAN:
            return pa.types.is_boolean(arrow)
        case ElementType.DATE:
            return pa.types.is_date(arrow) or pa.types.is_timestamp(arrow)
        case ElementType.DATETIME:
            return pa.types.is_timestamp(arrow) or pa.types.is_date(arrow)
        case ElementType.TIME:
            return pa.types.is_time(arrow)
        case _:
            return False


def _valid(array: pa.Array) -> np.ndarray:
    return pc.is_valid(array).to_numpy(zero_copy_only=False)
