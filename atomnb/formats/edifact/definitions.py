"""Message definitions (data files in ``definitions/``) and the segment-group tree they give.

Definitions are JSON data, not code, so a partner's variant or another message
type is added by dropping a file next to the others. They shape the document
(which segment starts which group, what nests in what); they are kept loose on
purpose: repeat counts are recorded but only "max 1" is enforced, because a
single struct cannot hold two occurrences.

Grouping is the usual greedy EDIFACT rule: a segment goes to the first entry at
or after the current position of the current group that accepts its tag; if none
does, the group is finished and its parent tries; a group's trigger segment seen
again starts the next occurrence of that group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from atomnb.errors import FormatError

__all__ = ["Entry", "MessageDefinition", "NotAllowed", "build_tree", "definition_for"]

DEFINITIONS_DIR = Path(__file__).parent / "definitions"

#: A segment as the tree builder sees it: tag, element fields, number in the message.
Seg = tuple[str, dict[str, str], int]


@dataclass(frozen=True)
class Entry:
    """One position of a definition: a segment, or a group whose first child is its trigger."""

    name: str  # the column / field name: the tag for segments, "SGn" for groups
    tag: str  # the segment tag, or the trigger segment's tag for a group
    max: int
    children: tuple[Entry, ...] = ()

    #: Groups are always lists; segments are lists unless they may occur only once.
    repeats: bool = False

    @property
    def is_group(self) -> bool:
        return bool(self.children)


@dataclass(frozen=True)
class MessageDefinition:
    message: str
    entries: tuple[Entry, ...]
    by_name: dict[str, Entry] = field(default_factory=dict)


class NotAllowed(Exception):
    """A segment the definition has no place for; carries its position in the message."""

    def __init__(self, tag: str, number: int, after: str | None, message_type: str) -> None:
        self.tag, self.number = tag, number
        where = f"after {after}" if after else "at the start of the message body"
        super().__init__(f"segment {tag} is not allowed {where} by the {message_type} definition")


@cache
def definition_for(message_type: str) -> MessageDefinition | None:
    """The definition of ``message_type`` (e.g. "ORDERS"), or None to read it generically."""
    path = DEFINITIONS_DIR / f"{message_type.upper()}.json"
    if not message_type.isalnum() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = tuple(_entry(item) for item in data["segments"])
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"message definition is invalid: {exc}", where=str(path)) from None
    return MessageDefinition(data["message"], entries, {e.name: e for e in entries})


def _entry(item: dict[str, Any]) -> Entry:
    if "group" in item:
        children = tuple(_entry(child) for child in item["segments"])
        if not children or children[0].is_group:
            raise ValueError(f"group {item['group']} must start with its trigger segment")
        return Entry(item["group"], children[0].tag, int(item.get("max", 1)), children, True)
    tag, most = str(item["segment"]), int(item.get("max", 1))
    return Entry(str(item.get("name", tag)), tag, most, repeats=most > 1)


def build_tree(definition: MessageDefinition, segments: list[Seg]) -> dict[str, Any]:
    """The nested record of a message body (UNH and UNT excluded); raises NotAllowed."""
    record, position = _level(definition.entries, segments, 0, is_group=False)
    if position < len(segments):
        tag, _, number = segments[position]
        after = segments[position - 1][0] if position else None
        raise NotAllowed(tag, number, after, definition.message)
    return record


def _level(
    entries: tuple[Entry, ...], segments: list[Seg], position: int, *, is_group: bool
) -> tuple[dict[str, Any], int]:
    record: dict[str, Any] = {}
    counts = [0] * len(entries)
    current = 0
    if is_group:  # the trigger was checked by the caller
        _store(record, entries[0], segments[position][1])
        counts[0], position, current = 1, position + 1, 1
    while position < len(segments):
        tag = segments[position][0]
        index = _find(entries, tag, current, counts)
        if index is None:
            break
        entry = entries[index]
        if entry.is_group:
            child, position = _level(entry.children, segments, position, is_group=True)
            record.setdefault(entry.name, []).append(child)
        else:
            _store(record, entry, segments[position][1])
            position += 1
        counts[index] += 1
        current = index
    return record, position


def _find(entries: tuple[Entry, ...], tag: str, start: int, counts: list[int]) -> int | None:
    for index in range(start, len(entries)):
        entry = entries[index]
        if entry.tag == tag and (entry.repeats or counts[index] == 0):
            return index
    return None


def _store(record: dict[str, Any], entry: Entry, fields: dict[str, str]) -> None:
    if entry.repeats:
        record.setdefault(entry.name, []).append(fields)
    else:
        record[entry.name] = fields
