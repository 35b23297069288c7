"""Transaction-set definitions: which segments and loops a set may hold, in order.

Definitions are data (``definitions/<id>.json``), not code, so a partner's
variant is a file to copy and edit. Each entry is a segment or a loop::

    {"segment": "REF", "max": 12}                      # optional, up to 12 in a row
    {"segment": "BEG", "required": true}               # max defaults to 1
    {"segment": "PER", "max": ">1", "name": "PER_1"}   # ">1" = unbounded; name = column
    {"segment": "EB", "repeating": [3]}                # EB03 uses the repetition separator
    {"loop": "N1_loop", "max": 200, "segments": [...]} # the loop starts with its first segment

Definitions are deliberately loose (few mandatory flags, generous max use) so
real files parse; business rules belong in profiles.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from atomnb.errors import FormatError

__all__ = ["UNBOUNDED", "Definition", "Item", "find_definition", "parse_definition"]

UNBOUNDED = 1 << 30
_FOLDER = Path(__file__).parent / "definitions"


@dataclass(frozen=True)
class Item:
    """A segment or a loop at one position of a definition."""

    name: str
    segment: str  # the segment id, or for a loop the id of its first segment
    max: int = 1
    required: bool = False
    repeating: frozenset[int] = frozenset()
    items: tuple[Item, ...] = ()  # a loop's contents; empty for a segment

    @property
    def is_loop(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class Definition:
    """One transaction set: id, description and the ordered items between ST and SE."""

    id: str
    description: str
    items: tuple[Item, ...] = field(default_factory=tuple)


def parse_definition(body: Mapping[str, Any], origin: str = "definition") -> Definition:
    """A Definition from its JSON body; a mistake names the entry so the file can be fixed."""
    try:
        items = tuple(_item(entry, origin) for entry in body["segments"])
        return Definition(str(body["transaction_set"]), str(body.get("description", "")), items)
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"invalid X12 definition: {exc}", where=origin) from None


def _item(entry: Mapping[str, Any], origin: str) -> Item:
    raw_max = entry.get("max", 1)
    maximum = UNBOUNDED if raw_max in (">1", None) else int(raw_max)
    if "loop" in entry:
        children = tuple(_item(child, origin) for child in entry["segments"])
        if not children or children[0].is_loop:
            raise ValueError(f"loop {entry['loop']} must start with a segment")
        return Item(
            name=str(entry.get("name", entry["loop"])),
            segment=children[0].segment,
            max=maximum,
            required=bool(entry.get("required", False)),
            items=children,
        )
    segment = str(entry["segment"])
    return Item(
        name=str(entry.get("name", segment)),
        segment=segment,
        max=maximum,
        required=bool(entry.get("required", False)),
        repeating=frozenset(int(i) for i in entry.get("repeating", ())),
    )


@cache
def _builtin(transaction_set: str) -> Definition | None:
    path = _FOLDER / f"{transaction_set}.json"
    if not path.is_file():
        return None
    return parse_definition(json.loads(path.read_text(encoding="utf-8")), str(path))


def find_definition(
    transaction_set: str, custom: Mapping[str, Definition] | None = None
) -> Definition | None:
    """The definition for a set id: a caller's own first, then the built-in ones."""
    if custom and transaction_set in custom:
        return custom[transaction_set]
    if not transaction_set.isalnum():
        return None
    return _builtin(transaction_set)
