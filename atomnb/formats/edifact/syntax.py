"""Service characters (UNA) and character sets (UNB syntax identifier) of an interchange.

Kept apart from the tokenizer because the writer needs exactly the same rules in
reverse: whatever the reader treats as a separator, the writer must escape with
the release character, or a round trip silently changes the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

__all__ = [
    "DEFAULT_SEPARATORS",
    "ENCODINGS",
    "UNOA_BYTES",
    "Separators",
    "encoding_for",
    "escape",
]

#: Line breaks are layout, never data: readers skip them, writers refuse to write them in values.
LINE_BREAKS = b"\r\n"


@dataclass(frozen=True)
class Separators:
    """The six UNA service characters, as single bytes (all ASCII in every EDIFACT charset)."""

    component: int = ord(":")
    element: int = ord("+")
    decimal: int = ord(".")
    release: int = ord("?")
    repetition: int = ord(" ")
    terminator: int = ord("'")

    @classmethod
    def from_una(cls, una: bytes) -> Separators:
        """Separators from the 9 bytes ``UNA`` + six characters (ISO 9735 order)."""
        c, e, d, r, rep, t = una[3:9]
        return cls(c, e, d, r, rep, t)

    def una(self) -> bytes:
        chars = (self.component, self.element, self.decimal)
        rest = (self.release, self.repetition, self.terminator)
        return b"UNA" + bytes(chars) + bytes(rest)

    @cached_property
    def specials(self) -> bytes:
        """Bytes a value must escape: the separators in force and the release character."""
        chars = {self.component, self.element, self.release, self.terminator}
        if self.repetition != ord(" "):
            chars.add(self.repetition)
        return bytes(sorted(chars))

    @cached_property
    def ignorable(self) -> bytes:
        """Line-break bytes that are layout here (a newline terminator is not ignorable)."""
        used = {self.component, self.element, self.release, self.terminator}
        return bytes(b for b in LINE_BREAKS if b not in used)


DEFAULT_SEPARATORS = Separators()

#: Syntax identifier (UNB S001/0001) -> Python codec. UNOA/UNOB are 7-bit subsets of ASCII.
ENCODINGS: dict[str, str] = {
    "UNOA": "ascii",
    "UNOB": "ascii",
    "UNOC": "iso-8859-1",
    "UNOD": "iso-8859-2",
    "UNOE": "iso-8859-5",
    "UNOF": "iso-8859-7",
    "UNOG": "iso-8859-3",
    "UNOH": "iso-8859-4",
    "UNOI": "iso-8859-6",
    "UNOJ": "iso-8859-8",
    "UNOK": "iso-8859-9",
    "UNOW": "utf-8",
    "UNOY": "utf-8",
    "IATA": "ascii",
    "IATB": "ascii",
}

#: ISO 9735 level A repertoire: A-Z, 0-9, space and . , - ( ) / = ' + : ? ! " % & * ; < >
UNOA_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?!\"%&*;<>"


def encoding_for(syntax: str) -> str | None:
    """The codec a syntax identifier names, or None when atomnb does not know it."""
    return ENCODINGS.get(syntax.upper())


def escape(value: str, separators: Separators) -> str:
    """``value`` with every service character preceded by the release character."""
    specials = separators.specials.decode("ascii")
    if not any(ch in value for ch in specials):
        return value
    release = chr(separators.release)
    return "".join(release + ch if ch in specials else ch for ch in value)
