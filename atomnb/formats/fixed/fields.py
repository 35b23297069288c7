"""One field of a fixed-width record: its place, width and how its text becomes a value.

The field is the unit both the parser and the writer work on (alignment, padding,
implied decimals, masks, the Arrow type), and it checks itself on creation; it
sits apart from record types and the file layout, which only arrange fields.
Positions are 1-based and inclusive, like every published record layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from atomnb.errors import ProfileError

__all__ = ["Field", "FieldType"]

FieldType = Literal["string", "integer", "decimal", "date", "boolean"]
_TYPES = ("string", "integer", "decimal", "date", "boolean")
#: Widest integer field that always fits an int64 (19 digits may overflow).
_MAX_INTEGER_WIDTH = 18


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
