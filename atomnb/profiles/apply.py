"""Give documents their profile's types: text parsed by masks into numbers, dates, booleans.

Readers deliver text (exactly what the file said); a profile says what it means.
``apply_profile`` validates first, so each document that does not fit is
rejected with its reasons instead of failing the batch, then converts the valid
ones column by column (nested records and lists included). Dates are parsed
once per distinct value, since the same date repeats across a batch.

The typed documents hold the profile's fields only; fields it does not know are
not dropped silently: they are logged (paths and document counts, never values)
on the ``atomnb.profiles`` logger, and measured into the active drift collector
(``collecting_drift``) so a process shape can write the drift to its run's log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents, Rejection
from atomnb.profiles.convert import arrow_type
from atomnb.profiles.detect import DEFAULT_PARSE_MASKS
from atomnb.profiles.drift_collect import record_drift
from atomnb.profiles.model import Element, ElementType, Profile
from atomnb.profiles.validate import ERRORS_PROPERTY, validate

__all__ = ["apply_profile"]

log = logging.getLogger("atomnb.profiles")


def apply_profile(
    documents: Documents, profile: Profile, *, source: str = "<documents>"
) -> Documents:
    """Typed documents for those that fit ``profile``; the others become rejections."""
    report = validate(documents, profile)
    record_drift(documents, profile)
    if report.unknown_fields:
        paths = ", ".join(f"{p} ({n})" for p, n in list(report.unknown_fields.items())[:10])
        log.warning(
            "%s: fields not in profile %r left out of the typed documents: %s",
            source,
            profile.name,
            paths,
        )
    rejections = [
        Rejection(
            message=error_text,
            where=source,
            rule="profile",
            index=index,
            raw=json.dumps(record, default=str, ensure_ascii=False).encode("utf-8"),
        )
        for index, record, error_text in zip(
            report.invalid_indices,
            report.invalid.to_pylist(),
            report.invalid.property(ERRORS_PROPERTY).to_pylist() if len(report.invalid) else [],
            strict=True,
        )
    ]
    valid = report.valid
    table = valid.to_arrow()
    columns, fields = [], []
    for element in profile.elements:
        if element.name in table.column_names:
            values = table.column(element.name).combine_chunks()
            converted = _convert(element, values)
        else:
            converted = pa.nulls(len(valid), type=arrow_type(element))
        columns.append(converted)
        fields.append(pa.field(element.name, converted.type))
    typed = pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))
    return valid.with_table(typed).with_rejections(rejections)


def _convert(element: Element, values: pa.Array) -> pa.Array:
    target = arrow_type(element)
    if element.repeating and (pa.types.is_list(values.type) or pa.types.is_large_list(values.type)):
        single = _single(element)
        items = _convert(single, pc.list_flatten(values))
        offsets = values.offsets
        if offsets[0].as_py() != 0:
            offsets = pc.subtract(offsets, offsets[0])
        return pa.ListArray.from_arrays(offsets, items, mask=pc.is_null(values))
    if element.type is ElementType.RECORD:
        if not pa.types.is_struct(values.type):
            return pa.nulls(len(values), type=target)
        names = {values.type.field(i).name: i for i in range(values.type.num_fields)}
        children = [
            _convert(child, pc.struct_field(values, [names[child.name]]))
            if child.name in names
            else pa.nulls(len(values), type=arrow_type(child))
            for child in element.children
        ]
        return pa.StructArray.from_arrays(
            children,
            fields=[
                pa.field(c.name, a.type) for c, a in zip(element.children, children, strict=True)
            ],
            mask=pc.is_null(values),
        )
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return values if values.type == target else values.cast(target)
    return _parse_text(element, values, target)


def _parse_text(element: Element, values: pa.Array, target: pa.DataType) -> pa.Array:
    if element.type is ElementType.STRING:
        return values
    text = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    text = pc.utf8_trim_whitespace(text)
    match element.type:
        case ElementType.INTEGER | ElementType.DECIMAL:
            return text.cast(target)
        case ElementType.BOOLEAN:
            lowered = pc.utf8_lower(text)
            truthy = pc.is_in(lowered, value_set=pa.array(["true", "1", "yes", "y"]))
            return pc.if_else(pc.is_null(lowered), pa.scalar(None, pa.bool_()), truthy)
        case _:
            return _parse_temporal(element, text, target)


def _parse_temporal(element: Element, text: pa.Array, target: pa.DataType) -> pa.Array:
    masks = [element.mask] if element.mask else list(DEFAULT_PARSE_MASKS[element.type])
    zoned = getattr(target, "tz", None) is not None
    distinct = pc.unique(text)
    parsed = [_parse_one(v, masks, element.type, zoned) for v in distinct.to_pylist()]
    lookup = pa.array(parsed, type=target)
    return pc.take(lookup, pc.index_in(text, value_set=distinct))


def _parse_one(text: str | None, masks: list[str], kind: ElementType, zoned: bool) -> object:
    if text is None:
        return None
    for mask in masks:
        try:
            moment = datetime.strptime(text, mask)
        except ValueError:
            continue
        if kind is ElementType.DATE:
            return moment.date()
        if kind is ElementType.TIME:
            return moment.time()
        if zoned:  # a zone-aware column: naive text is taken as UTC
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    return None


def _single(element: Element) -> Element:
    return replace(element, max_occurs=1, min_occurs=0, mandatory=False)
