"""Document properties of EDIFACT messages: envelope values computed once per envelope.

An interchange's and group's values (UNA, UNB, UNG, references, parties, syntax)
are the same for all their messages: built once per envelope and codec, and turned
into columns per run of messages with one ``take`` each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from atomnb.formats.edifact.structure import Group, Interchange, Message
from atomnb.formats.edifact.tokenizer import RawSegment

__all__ = [
    "PROPERTIES",
    "envelope_properties",
    "message_properties",
    "own_properties",
    "property_columns",
]

#: Every document property the reader sets (besides file_name), in order.
PROPERTIES = (
    "edifact.una",
    "edifact.unb",
    "edifact.ung",
    "edifact.interchange_ref",
    "edifact.group_ref",
    "edifact.message_ref",
    "edifact.sender",
    "edifact.recipient",
    "edifact.syntax",
    "edifact.version",
    "edifact.encoding",
    "edifact.segment_end",
    "edifact.trailer_end",
)


def _segment_text(segment: RawSegment | None, codec: str) -> str | None:
    """A service segment as text without its terminator or line breaks (escapes kept)."""
    if segment is None:
        return None
    raw = segment.raw[:-1]
    for byte in segment.separators.ignorable:
        raw = raw.replace(bytes([byte]), b"")
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def message_properties(message: Message, codec: str) -> dict[str, Any]:
    props = dict(envelope_properties(message.interchange, message.group, codec))
    props.update(own_properties(message))
    return props


def own_properties(message: Message) -> dict[str, Any]:
    return {"edifact.message_ref": message.ref, "edifact.version": message.version}


def property_columns(pending: Sequence[Any]) -> dict[str, pa.Array]:
    """The property columns of pending messages (``shared`` and ``own`` dicts each);
    envelope values built once per envelope and gathered.

    Consecutive messages share their envelope's dict, so those columns are made per
    run of messages and repeated with one ``take`` instead of looked up message by message.
    """
    shared: list[dict[str, Any]] = []
    run: list[int] = []
    last: dict[str, Any] | None = None
    for p in pending:
        if p.shared is not last:
            shared.append(p.shared)
            last = p.shared
        run.append(len(shared) - 1)
    index = pa.array(run, pa.int64())
    columns: dict[str, pa.Array] = {}
    for key in PROPERTIES:
        if key in ("edifact.message_ref", "edifact.version", "edifact.trailer_end"):
            values = [p.own[key] if key in p.own else p.shared[key] for p in pending]
            columns[key] = pa.array(values, type=pa.string())
        else:
            column = pa.array([s[key] for s in shared], type=pa.string())
            columns[key] = column.take(index)
    return columns


def envelope_properties(
    interchange: Interchange, group: Group | None, codec: str
) -> dict[str, Any]:
    """The interchange's and group's properties, computed once per envelope and codec."""
    key = (id(group) if group is not None else 0, codec)
    cached: dict[str, Any] | None = interchange.properties.get(key)
    if cached is not None:
        return cached
    segment_end = interchange.unb.after.decode("latin-1")
    props = {
        "edifact.una": interchange.una.decode("latin-1"),
        "edifact.unb": _segment_text(interchange.unb, codec),
        "edifact.ung": _segment_text(group.ung if group else None, codec),
        "edifact.interchange_ref": interchange.ref,
        "edifact.group_ref": group.ref if group else None,
        "edifact.sender": interchange.sender,
        "edifact.recipient": interchange.recipient,
        "edifact.syntax": interchange.syntax,
        "edifact.encoding": codec,
        "edifact.segment_end": segment_end,
        "edifact.trailer_end": segment_end,
    }
    interchange.properties[key] = props  # the interchange outlives its groups: ids stay unique
    return props
