"""The document shape of one segment: element fields named by position, and back.

A segment becomes a struct whose fields are named ``<TAG><element>`` for the
first component of each data element and ``<TAG><element>_<component>`` for the
others (``DTM01`` = "11", ``DTM01_02`` = "20160726", ``DTM01_03`` = "102").
Names depend only on position, so every occurrence of a segment gets the same
field for the same element, whether or not it has more components; maps can
address ``BGM02`` without knowing the data dictionary. A field is present (maybe
"") when the file had that element/component and null when it did not, which is
how trailing empty elements and components survive a round trip.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from atomnb.errors import FormatError
from atomnb.formats.edifact.definitions import Entry

__all__ = ["field_name", "record_segments", "segment_elements", "segment_fields"]

_FIELD = re.compile(r"^(?P<tag>[A-Z0-9]{3})(?P<element>\d{2,3})(?:_(?P<component>\d{2,3}))?$")

Elements = list[list[str]]


def field_name(tag: str, element: int, component: int) -> str:
    if component == 1:
        return f"{tag}{element:02d}"
    return f"{tag}{element:02d}_{component:02d}"


def segment_fields(tag: str, elements: Elements) -> dict[str, str]:
    """``{"BGM01": "351", "BGM02": "Y02197250", ...}`` for one segment's elements."""
    fields: dict[str, str] = {}
    for e, components in enumerate(elements, 1):
        for c, value in enumerate(components, 1):
            fields[field_name(tag, e, c)] = value
    return fields


def segment_elements(tag: str, fields: Mapping[str, Any], where: str) -> Elements:
    """The elements of one segment from its fields; nulls inside become empty values."""
    positions: dict[int, dict[int, str]] = {}
    for name, value in fields.items():
        if value is None:
            continue
        match = _FIELD.match(name)
        if match is None or match["tag"] != tag:
            raise FormatError(
                f"field {name!r} is not an element of segment {tag}",
                where=where,
                hint=f"name element fields {tag}01, {tag}01_02, ... (element, component)",
            )
        if not isinstance(value, str):
            value = str(value)
        element = int(match["element"])
        component = int(match["component"] or 1)
        positions.setdefault(element, {})[component] = value
    if not positions:
        return []
    elements: Elements = []
    for e in range(1, max(positions) + 1):
        components = positions.get(e, {})
        last = max(components, default=1)
        elements.append([components.get(c, "") for c in range(1, last + 1)])
    return elements


def record_segments(
    entries: tuple[Entry, ...], record: Mapping[str, Any], where: str
) -> Iterator[tuple[str, Elements]]:
    """The segments of a (nested) record, in definition order."""
    known = {entry.name for entry in entries}
    unknown = [k for k, v in record.items() if v is not None and k not in known]
    if unknown:
        raise FormatError(
            f"{', '.join(sorted(unknown))} is not a segment or group at this level "
            "of the message definition",
            where=where,
        )
    for entry in entries:
        value = record.get(entry.name)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is None:
                continue
            if entry.is_group:
                yield from record_segments(entry.children, item, f"{where}, {entry.name}")
            else:
                yield entry.tag, segment_elements(entry.tag, item, where)
