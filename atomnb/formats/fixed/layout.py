"""The fixed-width layout model: fields, record types and the file around them.

Frozen dataclasses that load from and save to plain dicts (so a layout can live
in a profile component file) and map to Arrow types. Positions are 1-based and
inclusive like every published record layout ("04-13"); ``offset`` (0-based)
may be given instead, and a field with neither follows the previous one.

This module is the file around the records (``Layout``, ``Padding``) and the
public face of the model: ``Field`` lives in ``fields`` and ``RecordType`` in
``record_types``, both re-exported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pyarrow as pa

from atomnb.errors import ProfileError
from atomnb.formats.fixed.fields import Field, FieldType
from atomnb.formats.fixed.record_types import RecordType

__all__ = ["Field", "FieldType", "Layout", "RecordType"]

#: Layout settings a dict may give, besides record_types and padding.
_SETTINGS = {"record_length", "line_ending", "encoding", "trimmed_lines", "name"}
#: Kept as they are (descriptions, component-file bookkeeping), with no meaning here.
_METADATA = {"description", "id", "kind", "version", "engine_version", "content_hash"}


@dataclass(frozen=True)
class Padding:
    """Filler records padding a file to a block multiple (NACHA: 94 '9's, blocks of 10)."""

    char: str
    block: int = 1


@dataclass(frozen=True)
class Layout:
    """A fixed-width file: its record types, record length, line ending, encoding and padding.

    ``record_length=None`` means variable: each record type is as long as its fields.
    ``trimmed_lines`` accepts lines that lack trailing blanks (editors and some banks
    strip them), but only when every missing field may be blank.
    """

    record_types: tuple[RecordType, ...]
    record_length: int | None = None
    line_ending: str = "\n"
    encoding: str = "utf-8"
    padding: Padding | None = None
    trimmed_lines: bool = False
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.record_types:
            raise ProfileError("a layout needs at least one record type")
        names = [r.name for r in self.record_types]
        if len(set(names)) != len(names):
            raise ProfileError(f"record type names repeat: {names}")
        if len(self.record_types) > 1 and any(r.code is None for r in self.record_types):
            raise ProfileError("with several record types, each needs a code that identifies it")
        if self.line_ending not in ("\n", "\r\n", ""):
            raise ProfileError(
                f"line_ending must be '\\n', '\\r\\n' or '', not {self.line_ending!r}"
            )
        if self.line_ending == "" and self.record_length is None:
            raise ProfileError("records without line breaks need a record_length")
        for record in self.record_types:
            if self.record_length is not None and record.length > self.record_length:
                raise ProfileError(
                    f"record type {record.name!r} is {record.length} long, "
                    f"more than the record length {self.record_length}"
                )
            if record.parent is not None and record.parent not in names:
                raise ProfileError(f"record type {record.name!r}: unknown parent {record.parent!r}")
            if record.within is not None and record.within not in names:
                raise ProfileError(f"record type {record.name!r}: unknown within {record.within!r}")

    # -- lookups --------------------------------------------------------------------

    def record_type(self, name: str) -> RecordType:
        for record in self.record_types:
            if record.name == name or record.code == name:
                return record
        known = ", ".join(r.name for r in self.record_types)
        raise ProfileError(f"no record type {name!r} in the layout (known: {known})")

    def length_of(self, record: RecordType) -> int:
        return self.record_length if self.record_length is not None else record.length

    @property
    def single(self) -> bool:
        return len(self.record_types) == 1

    def children(self, name: str) -> list[RecordType]:
        return [r for r in self.record_types if r.parent == name]

    def descends(self, name: str, ancestor: str) -> bool:
        """Whether record type ``name`` nests (at any depth) under ``ancestor``."""
        parent = self.record_type(name).parent
        while parent is not None:
            if parent == ancestor:
                return True
            parent = self.record_type(parent).parent
        return False

    # -- Arrow ------------------------------------------------------------------------

    def struct_type(self, record: RecordType, *, nested: bool = False) -> pa.StructType:
        fields = [pa.field(f.name, f.arrow_type()) for f in record.fields]
        if nested:
            for child in self.children(record.name):
                inner = self.struct_type(child, nested=True)
                kind = inner if child.repeat == "one" else pa.list_(inner)
                fields.append(pa.field(child.member_name, kind))
        return pa.struct(fields)

    # -- dicts and files ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        out |= {
            "record_length": self.record_length,
            "line_ending": self.line_ending,
            "encoding": self.encoding,
            "trimmed_lines": self.trimmed_lines,
        }
        if self.padding is not None:
            out["padding"] = {"char": self.padding.char, "block": self.padding.block}
        out["record_types"] = [r.to_dict() for r in self.record_types]
        return out | self.extra

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        if not isinstance(data, dict):
            raise ProfileError(f"a layout is a dict, not {type(data).__name__}")
        body = dict(data)
        if "fields" in body:  # shorthand: one record type
            name = body.pop("record_name", "record")
            body["record_types"] = [{"name": name, "fields": body.pop("fields")}]
        records = tuple(RecordType.from_dict(r) for r in body.pop("record_types", ()))
        padding = body.pop("padding", None)
        extra = {k: body.pop(k) for k in list(body) if k in _METADATA}
        unknown = sorted(set(body) - _SETTINGS)
        if unknown:
            raise ProfileError(
                f"unknown layout key(s): {', '.join(unknown)}",
                hint=f"known: {', '.join(sorted(_SETTINGS | _METADATA | {'record_types'}))}",
            )
        return cls(
            record_types=records,
            padding=Padding(**padding) if padding else None,
            extra=extra,
            **body,
        )

    @classmethod
    def builtin(cls, name: str) -> Layout:
        """A layout shipped with atomnb (``"nacha"``), from ``atomnb/formats/fixed_layouts``."""
        folder = resources.files("atomnb.formats").joinpath("fixed_layouts")
        target = folder.joinpath(f"{name}.json")
        if not target.is_file():
            known = sorted(p.name.removesuffix(".json") for p in folder.iterdir())
            raise ProfileError(f"no built-in layout {name!r} (known: {', '.join(known)})")
        return cls.from_dict(json.loads(target.read_text(encoding="utf-8")))

    @classmethod
    def of(cls, layout: Layout | dict[str, Any] | str) -> Layout:
        """A layout from itself, a dict, or the name of a built-in one."""
        if isinstance(layout, Layout):
            return layout
        if isinstance(layout, str):
            return cls.builtin(layout)
        return cls.from_dict(layout)
