"""A record type of a fixed-width layout: how it is recognised, nested and laid out.

A record type places its fields (a field with no ``start`` follows the previous
one), refuses overlaps and duplicates, and says how it is recognised (a code at a
position, extra texts, a ``within`` section) and nested (``parent``, ``repeat``,
``group_name``). Kept apart from the file-level ``Layout`` that checks record
types against each other, and from the ``Field`` it arranges.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

from atomnb.errors import ProfileError
from atomnb.formats.fixed.fields import Field

__all__ = ["RecordType"]


@dataclass(frozen=True)
class RecordType:
    """A kind of record, recognised by the text ``code`` at 1-based ``code_position``.

    ``parent``/``repeat``/``group_name`` describe nesting for the grouped form:
    an entry detail record belongs to the batch header before it (``parent``),
    may repeat (``"many"`` → a list) or not (``"one"`` → a struct), and appears in
    its parent under ``group_name`` ("entries"). Fields are laid out after
    ``__post_init__`` so every field has a ``start``.
    """

    name: str
    fields: tuple[Field, ...]
    code: str | None = None
    code_position: int = 1
    parent: str | None = None
    repeat: Literal["one", "many"] = "many"
    group_name: str | None = None
    #: More (position, text) a record must show besides its code: a variant of a record
    #: type with the same code (NACHA's IAT batch header: "5" and "IAT" at 51).
    also: tuple[tuple[int, str], ...] = ()
    #: A variant chosen by context rather than by its own text: it replaces the record
    #: type with the same code inside a section opened by ``within`` (the IAT entry
    #: detail, code "6", inside an IAT batch header). The section lasts until the next
    #: record carrying ``within``'s code.
    within: str | None = None

    def __post_init__(self) -> None:
        placed: list[Field] = []
        position = 1
        for item in self.fields:
            start = item.start if item.start is not None else position
            placed.append(item if item.start == start else _replace_start(item, start))
            position = start + item.width
        object.__setattr__(self, "fields", tuple(placed))
        names = [f.name for f in placed]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ProfileError(f"record type {self.name!r}: duplicate fields {duplicates}")
        ordered = sorted(placed, key=lambda f: f.start or 0)
        for before, after in itertools.pairwise(ordered):
            if (before.start or 0) + before.width > (after.start or 0):
                raise ProfileError(
                    f"record type {self.name!r}: fields {before.name!r} and {after.name!r} overlap"
                )
        if self.repeat not in ("one", "many"):
            raise ProfileError(f"record type {self.name!r}: repeat must be 'one' or 'many'")
        object.__setattr__(self, "also", tuple((int(p), str(t)) for p, t in self.also))

    @property
    def code_weight(self) -> int:
        """How many characters identify the record: the most specific match wins."""
        return len(self.code or "") + sum(len(text) for _, text in self.also)

    @property
    def length(self) -> int:
        """Where the last field (or the code) ends: the record's length without a layout one."""
        ends = [(f.start or 1) + f.width - 1 for f in self.fields]
        if self.code:
            ends.append(self.code_position + len(self.code) - 1)
        ends += [position + len(text) - 1 for position, text in self.also]
        return max(ends, default=0)

    def min_length(self, full: int) -> int:
        """The shortest line that may stand for this record when trailing blanks are trimmed."""
        ends = [(f.start or 1) + f.width - 1 for f in self.fields if not f.trimmable]
        if self.code:
            ends.append(self.code_position + len(self.code) - 1)
        ends += [position + len(text) - 1 for position, text in self.also]
        return min(full, max(ends, default=1))

    @property
    def member_name(self) -> str:
        return self.group_name or self.name

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.code is not None:
            out["code"] = [self.code_position, self.code]
        for key, default in (("parent", None), ("repeat", "many"), ("group_name", None)):
            if getattr(self, key) != default:
                out[key] = getattr(self, key)
        if self.also:
            out["also"] = [[position, text] for position, text in self.also]
        if self.within is not None:
            out["within"] = self.within
        out["fields"] = [f.to_dict() for f in self.fields]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordType:
        body = dict(data)
        code = body.pop("code", None)
        if isinstance(code, (list, tuple)):
            body["code_position"], body["code"] = int(code[0]), str(code[1])
        elif code is not None:
            body["code"] = str(code)
        body["fields"] = tuple(Field.from_dict(f) for f in body.get("fields", ()))
        if "also" in body:
            body["also"] = tuple((int(p), str(t)) for p, t in body["also"])
        try:
            return cls(**body)
        except TypeError as exc:
            raise ProfileError(f"invalid record type {data.get('name')!r}: {exc}") from None


def _replace_start(item: Field, start: int) -> Field:
    return Field(**{**item.__dict__, "start": start})
