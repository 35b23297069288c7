"""The fixed-width layout model: fields, record types and the file around them.

Frozen dataclasses that load from and save to plain dicts (so a layout can live
in a profile component file) and map to Arrow types. Positions are 1-based and
inclusive like every published record layout ("04-13"); ``offset`` (0-based)
may be given instead, and a field with neither follows the previous one.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import pyarrow as pa

from atomnb.errors import ProfileError

__all__ = ["Field", "FieldType", "Layout", "RecordType"]

FieldType = Literal["string", "integer", "decimal", "date", "boolean"]
_TYPES = ("string", "integer", "decimal", "date", "boolean")
#: Widest integer field that always fits an int64 (19 digits may overflow).
_MAX_INTEGER_WIDTH = 18


#: Layout settings a dict may give, besides record_types and padding.
_SETTINGS = {"record_length", "line_ending", "encoding", "trimmed_lines", "name"}
#: Kept as they are (descriptions, component-file bookkeeping), with no meaning here.
_METADATA = {"description", "id", "kind", "version", "engine_version", "content_hash"}


@dataclass(frozen=True)
class Field:
    """One field of a record: where it is, how wide, and how its text becomes a value.

    ``start`` is 1-based. Numbers are right-aligned and zero-padded by default, text
    left-aligned and space-padded. ``implied_decimals`` places a decimal point the
    file leaves out ("000012345" with 2 → 123.45). ``format`` is a strftime mask for
    dates ("%y%m%d") or "TRUE/FALSE" texts for booleans ("Y/N"). ``scale`` is the
    number of decimals of a decimal field written with an explicit point.
    """

    name: str
    width: int
    start: int | None = None
    type: FieldType = "string"
    align: Literal["left", "right"] | None = None
    pad: str | None = None
    implied_decimals: int = 0
    scale: int | None = None
    format: str | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ProfileError(f"field {self.name!r}: unknown type {self.type!r}")
        if self.width < 1:
            raise ProfileError(f"field {self.name!r}: width must be at least 1")
        if self.start is not None and self.start < 1:
            raise ProfileError(f"field {self.name!r}: start is 1-based, got {self.start}")
        if self.pad is not None and len(self.pad) != 1:
            raise ProfileError(f"field {self.name!r}: pad must be one character")
        if self.type == "integer" and self.width > _MAX_INTEGER_WIDTH:
            raise ProfileError(
                f"field {self.name!r}: an integer of {self.width} digits may not fit 64 bits",
                hint="declare it as a string (identifiers) or a decimal (amounts)",
            )
        if self.type == "date" and not self.format:
            raise ProfileError(f"field {self.name!r}: a date needs a format mask such as %y%m%d")

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "decimal")

    @property
    def alignment(self) -> Literal["left", "right"]:
        if self.align is not None:
            return self.align
        return "right" if self.numeric else "left"

    @property
    def pad_char(self) -> str:
        if self.pad is not None:
            return self.pad
        return "0" if self.numeric else " "

    @property
    def decimal_scale(self) -> int:
        if self.implied_decimals:
            return self.implied_decimals
        return self.scale if self.scale is not None else 2

    @property
    def booleans(self) -> tuple[str, str]:
        true, _, false = (self.format or "Y/N").partition("/")
        return true, false

    @property
    def blank_ok(self) -> bool:
        """Whether all blanks is a valid value (an empty string, or null when optional)."""
        return self.type == "string" or self.optional

    @property
    def trimmable(self) -> bool:
        """Whether a line may end before or inside this field because its blanks were trimmed.

        Only left-aligned text (padded with trailing blanks) and optional fields: a cut
        inside a right-aligned field would have removed digits, not padding.
        """
        return self.optional or (self.type == "string" and self.alignment == "left")

    def arrow_type(self) -> pa.DataType:
        if self.type == "integer":
            return pa.int64()
        if self.type == "decimal":
            precision = min(38, max(self.width, self.decimal_scale + 1))
            return pa.decimal128(precision, self.decimal_scale)
        if self.type == "date":
            return pa.date32()
        if self.type == "boolean":
            return pa.bool_()
        return pa.string()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "start": self.start, "width": self.width}
        defaults = Field("x", 1)
        for key in ("type", "align", "pad", "implied_decimals", "scale", "format", "optional"):
            value = getattr(self, key)
            if value != getattr(defaults, key):
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Field:
        body = dict(data)
        if "offset" in body:
            offset = body.pop("offset")
            body.setdefault("start", None if offset is None else int(offset) + 1)
        try:
            return cls(**body)
        except TypeError as exc:
            raise ProfileError(f"invalid field {data!r}: {exc}") from None


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


def _replace_start(item: Field, start: int) -> Field:
    return Field(**{**item.__dict__, "start": start})
