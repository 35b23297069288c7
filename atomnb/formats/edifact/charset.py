"""Which codec decodes a message, and what its bytes break of the declared character set.

UNB's syntax identifier (UNOA, UNOC, UNOY, ...) names the character set. Files
lie about it (RELIABILITY row 7): a UNOA interchange with 'Ü' in it, a UNOC one
whose bytes are really UTF-8. The rule here: never invent characters (no U+FFFD)
and never drop bytes. A violation that still decodes without loss is a warning
in ``charset="lenient"`` mode and a refusal in ``"strict"`` mode; bytes that
cannot be decoded at all refuse the message, naming the byte offset in the file
and the encoding expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atomnb.formats.edifact.envelope import Message, Problem
from atomnb.formats.edifact.syntax import LINE_BREAKS, UNOA_BYTES, encoding_for
from atomnb.formats.edifact.tokenizer import RawSegment

__all__ = ["Decoding", "choose_codec", "plain_codec"]

_REPLACEMENT = "\ufffd".encode()
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))
_HIGH = re.compile(rb"[\x80-\xff]")


@dataclass
class Decoding:
    codec: str
    warnings: list[str] = field(default_factory=list)
    problem: Problem | None = None


def choose_codec(message: Message, *, charset: str, encoding: str | None, name: str) -> Decoding:
    """The codec for ``message`` and any charset warnings or the problem that refuses it."""
    syntax = message.interchange.syntax.upper()
    declared = encoding_for(syntax)
    if encoding is None and declared is not None and _plain(message, syntax):
        return Decoding("ascii" if syntax in ("UNOA", "UNOB") else declared)
    raw = message.raw
    if encoding is not None:
        return _strict(message, raw, encoding, f"encoding={encoding!r}", name)
    if declared is None:
        result = _strict(message, raw, "utf-8", f"UTF-8 (unknown syntax {syntax!r})", name)
        result.warnings.append(f"unknown syntax identifier {syntax!r}; read as UTF-8")
        return result
    if syntax in ("UNOA", "UNOB"):
        repertoire = UNOA_BYTES if syntax == "UNOA" else _PRINTABLE_ASCII
        allowed = repertoire + LINE_BREAKS + message.interchange.separators.specials
        offset = _first_outside(raw, allowed)
        if offset is None:
            return Decoding("ascii")
        byte = raw[offset]
        text = (
            f"byte 0x{byte:02X} at byte offset {_file_offset(message, offset)} "
            f"is not in the {syntax} character set"
        )
        if charset == "strict":
            problem = _character_problem("charset", text, message, offset, name)
            return Decoding(declared, problem=problem)
        codec = next(c for c in ("ascii", "utf-8", "latin-1") if _decodes(raw, c))
        return Decoding(codec, [f"{text}; read as {codec}"])
    result = _strict(message, raw, declared, f"{declared} ({syntax})", name)
    if result.problem is None and declared.startswith("iso-8859"):
        _latin_warnings(message, raw, syntax, charset, result, name)
    return result


def plain_codec(message: Message, encoding: str | None) -> str | None:
    """The codec ``choose_codec`` gives without a warning when the message's block is plain
    in its declared syntax (the same for every message of the block); None otherwise."""
    syntax = message.interchange.syntax.upper()
    declared = encoding_for(syntax)
    if encoding is None and declared is not None and _plain(message, syntax):
        return "ascii" if syntax in ("UNOA", "UNOB") else declared
    return None


def _plain(message: Message, syntax: str) -> bool:
    """Whether the message's whole block is plain ASCII within the syntax's repertoire.

    Checked once per block (cached on it): then no message in it can break the
    character set, and the per-message checks below are skipped.
    """
    block = message.block
    known = block.plain.get(syntax)
    if known is None:
        data = block.data
        if syntax in ("UNOA", "UNOB"):
            repertoire = UNOA_BYTES if syntax == "UNOA" else _PRINTABLE_ASCII
            allowed = repertoire + LINE_BREAKS + message.interchange.separators.specials
            known = not data.translate(None, allowed)
        else:
            known = data.isascii()
        block.plain[syntax] = known
    return known


def _strict(message: Message, raw: bytes, codec: str, expected: str, name: str) -> Decoding:
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        text = f"not valid {expected} at byte offset {_file_offset(message, exc.start)}"
        return Decoding(
            codec,
            problem=_character_problem("encoding", text, message, exc.start, name),
        )
    except LookupError:
        text = f"unknown encoding {codec!r}"
        return Decoding(
            codec, problem=Problem(rule="encoding", message=text, where=_where(message, 0, name))
        )
    return Decoding(codec)


def _latin_warnings(
    message: Message, raw: bytes, syntax: str, charset: str, result: Decoding, name: str
) -> None:
    """ISO 8859 decodes any byte, so look for the signs of UTF-8 sent under a Latin syntax."""
    damaged = raw.find(_REPLACEMENT)
    if damaged >= 0:
        text = (
            f"bytes EF BF BD (UTF-8 of U+FFFD) at byte offset {_file_offset(message, damaged)}: "
            "the data was damaged before atomnb read it"
        )
        if charset == "strict":
            result.problem = _character_problem("charset", text, message, damaged, name)
            return
        result.warnings.append(text)
    first_high = _HIGH.search(raw)
    if first_high is not None and _decodes(raw, "utf-8"):
        result.warnings.append(
            f"declared {syntax} ({result.codec}) but the bytes from byte offset "
            f"{_file_offset(message, first_high.start())} are valid UTF-8: "
            "check the sender's charset"
        )


def _first_outside(raw: bytes, allowed: bytes) -> int | None:
    stray = raw.translate(None, allowed)
    if not stray:
        return None
    return min(raw.find(bytes([b])) for b in set(stray))


def _decodes(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _file_offset(message: Message, offset: int) -> int:
    return message.block.offset + int(message.block.starts[message.first]) + offset


def _where(message: Message, offset: int, name: str) -> str:
    _, segment = _segment_at(message, offset)
    return f"{segment.where(name)}, byte {_file_offset(message, offset)}"


def _segment_at(message: Message, offset: int) -> tuple[int, RawSegment]:
    """The segment holding byte ``offset`` of the message, and its position (UNH = 1)."""
    absolute = _file_offset(message, offset)
    position, segment = 1, message.segments[0]
    for number, seg in enumerate(message.segments, 1):
        if seg.offset > absolute:
            break
        position, segment = number, seg
    return position, segment


def _character_problem(rule: str, text: str, message: Message, offset: int, name: str) -> Problem:
    """A charset or encoding problem placed where a CONTRL can name it: UCS with the
    segment's position and syntax error 21 (invalid character)."""
    position, segment = _segment_at(message, offset)
    return Problem(
        rule=rule,
        message=text,
        where=f"{segment.where(name)}, byte {_file_offset(message, offset)}",
        code="21",
        segment_id=segment.tag,
        segment_position=position,
    )
