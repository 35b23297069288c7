"""lxml's parse errors as FormatErrors: file, line and column, or the byte that does not decode."""

from __future__ import annotations

import codecs
import re

from lxml import etree

from atomnb.errors import FormatError
from atomnb.formats.base import Source

_BLOCK_BYTES = 1 << 20
_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def syntax_error(exc: etree.XMLSyntaxError, source: Source) -> FormatError:
    message, line, column = exc.msg or str(exc), exc.lineno, exc.position[1]
    if not line or message == "no element found":
        entries = [e for e in exc.error_log if e.level >= etree.ErrorLevels.ERROR]
        if entries:
            last = entries[-1]
            message, line, column = last.message, last.line, last.column
    message = re.sub(r", line \d+, column \d+$", "", message.strip())
    if "amplification" in message or ("entity" in message.lower() and "loop" in message.lower()):
        return FormatError(
            f"entity expansion refused ({message})",
            where=source.name,
            hint="atomnb never expands DTD entities; remove the <!ENTITY> declarations",
        )
    encoding = _encoding_problem(source, until_line=line or None)
    if encoding is not None and (not line or encoding[1] <= line):
        text, bad_line = encoding
        return FormatError(
            text,
            where=f"{source.name}, line {bad_line}",
            hint="re-encode the file, or fix its <?xml encoding=...?> declaration",
        )
    if not line:
        if not source.read_head(4096).strip():
            return FormatError("the file is empty: no XML element", where=f"{source.name}, byte 0")
        return FormatError(f"not well-formed XML: {message}", where=source.name)
    return FormatError(
        f"not well-formed XML: {message}", where=f"{source.name}, line {line}, column {column}"
    )


def _encoding_problem(source: Source, *, until_line: int | None) -> tuple[str, int] | None:
    """A message naming the first byte the declared encoding cannot decode, and its line.

    Decoding stops past ``until_line`` (where lxml found its error): a bad byte after it
    is not what stopped the parse.
    """
    with source.open() as handle:
        head = handle.read(1024)
    encoding, start = "utf-8", 0
    if head.startswith(codecs.BOM_UTF8):
        start = 3
    elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        declared = _ENCODING_RE.match(head)
        if declared:
            encoding = declared.group(1).decode("ascii")
            try:
                codec = codecs.lookup(encoding).name
            except LookupError:
                return f"unknown encoding {encoding!r} declared at byte {declared.start(1)}", 1
            if codec.startswith(("utf-16", "utf-32")):
                return (
                    f"the declaration says {encoding} but the bytes are 8-bit text "
                    f"(byte {declared.start(1)})",
                    1,
                )
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with source.open() as handle:
        handle.read(start)
        offset = start
        while chunk := handle.read(_BLOCK_BYTES):
            pending = decoder.getstate()[0]  # bytes of a character split across chunks
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                start_in_chunk = max(exc.start - len(pending), 0)
                line += chunk.count(b"\n", 0, start_in_chunk)
                return f"not valid {encoding} at byte {offset + exc.start - len(pending)}", line
            line += chunk.count(b"\n")
            offset += len(chunk)
            if until_line is not None and line > until_line:
                return None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return f"not valid {encoding} at byte {offset} (truncated character at the end)", line
    return None
