"""Infer a profile from sample documents: fields, nesting, repetition, types and masks.

Works on the Arrow columns, so the union of every document's fields is already
there (readers unify schemas) and inference needs no format. Text columns are
typed by ``detect`` on a sample of distinct values; a field is mandatory when
every document (or every present parent) has a non-empty value.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents
from atomnb.profiles.detect import detect
from atomnb.profiles.model import Element, ElementType, Profile

__all__ = ["SAMPLE_VALUES", "infer_profile"]

#: Distinct values per column looked at by the detectors.
SAMPLE_VALUES = 1_000
_SAMPLE_CHARS = 60


def infer_profile(
    documents: Documents, *, name: str = "inferred", format: str | None = None
) -> Profile:
    """A profile that every one of ``documents`` fits, as specific as the data allows."""
    table = documents.to_arrow()
    elements = tuple(
        _element(field.name, table.column(i).combine_chunks(), None)
        for i, field in enumerate(table.schema)
    )
    options = {
        key.decode(): value.decode()
        for key, value in (table.schema.metadata or {}).items()
        if key.startswith(b"atomnb.")
    }
    return Profile(name=name, elements=elements, format=format, options=options)


def _element(name: str, array: pa.Array, present: pa.Array | None) -> Element:
    """One element from the values of a column; ``present`` marks where its parent exists."""
    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        items = pc.list_flatten(array)
        inner = _element(name, items, None)
        lengths = pc.list_value_length(array)
        relevant = lengths if present is None else pc.filter(lengths, present)
        non_empty = len(relevant) > 0 and pc.min(pc.fill_null(relevant, 0)).as_py() > 0
        return Element(
            name=name,
            type=inner.type,
            mandatory=_mandatory(array, present),
            min_occurs=1 if non_empty else 0,
            max_occurs=None,
            mask=inner.mask,
            scale=inner.scale,
            children=inner.children,
            sample=inner.sample,
        )
    if pa.types.is_struct(kind):
        valid = pc.is_valid(array)
        here = valid if present is None else pc.and_(present, valid)
        children = tuple(
            _element(kind.field(i).name, pc.struct_field(array, [i]), here)
            for i in range(kind.num_fields)
        )
        return Element(name, ElementType.RECORD, _mandatory(array, present), children=children)
    element_type, mask, scale = _scalar_type(array)
    return Element(
        name=name,
        type=element_type,
        mandatory=_mandatory(array, present),
        mask=mask,
        scale=scale,
        sample=_sample(array),
    )


def _scalar_type(array: pa.Array) -> tuple[ElementType, str | None, int | None]:
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        distinct = pc.unique(pc.drop_null(array)).slice(0, SAMPLE_VALUES).to_pylist()
        found = detect(distinct)
        return found.type, found.mask, found.scale
    if pa.types.is_boolean(kind):
        return ElementType.BOOLEAN, None, None
    if pa.types.is_integer(kind):
        return ElementType.INTEGER, None, None
    if pa.types.is_decimal(kind):
        return ElementType.DECIMAL, None, kind.scale
    if pa.types.is_floating(kind):
        return ElementType.DECIMAL, None, None
    if pa.types.is_timestamp(kind):
        return ElementType.DATETIME, None, None
    if pa.types.is_date(kind):
        return ElementType.DATE, None, None
    if pa.types.is_time(kind):
        return ElementType.TIME, None, None
    return ElementType.STRING, None, None


def _mandatory(array: pa.Array, present: pa.Array | None) -> bool:
    """Non-null (and non-empty text) wherever the parent is present, and seen at least once."""
    filled = pc.is_valid(array)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        filled = pc.and_(filled, pc.fill_null(pc.not_equal(array, ""), False))
    relevant = filled if present is None else pc.filter(filled, present)
    return len(relevant) > 0 and bool(pc.all(relevant).as_py())


def _sample(array: pa.Array) -> Any:
    values = pc.drop_null(array)
    for value in values.slice(0, 50).to_pylist():
        if value != "":
            text = str(value)
            return text if len(text) <= _SAMPLE_CHARS else text[: _SAMPLE_CHARS - 1] + "…"
    return None
