"""Fixed-width flat files (NACHA ACH, bank statements, mainframe extracts), read with a layout.

A ``Layout`` names the record types (recognised by a code at a position), their
fields (position, width, type, alignment, padding, implied decimals, date mask)
and the file around them (record length, line ending, encoding, filler records).

Documents come in two shapes:

* **flat** (default): one document per record. With one record type its fields
  are the columns; with several, ``record_type`` names the type and each type's
  fields sit in a struct column named after it (null for the other types)::

      {"record_type": "entry_detail", "file_header": None, ...,
       "entry_detail": {"transaction_code": "27", "amount": Decimal("1000000.00"), ...}}

* **grouped** (``group_by="batch_header"`` or its code ``"5"``): a document starts
  at each record of that type and holds the records that nest under it by
  ``parent`` — NACHA: ``{"record_type": "batch_header", "batch_header": {...batch
  fields, "entries": [{...entry, "addenda": [...]}], "control": {...}}}``. Records
  outside the group (file header and control) are documents of their own, as in
  the flat form; ``group_by="file_header"`` gives one document per file.

Bad records never abort a read: with ``on_error="reject"`` (the default) each
becomes a ``Rejection`` (file, line, field, expected vs actual, the raw bytes)
beside the good documents — in the grouped form the whole group is rejected, so
a batch never goes on with an entry missing; ``on_error="raise"`` reads on and
raises one ``ValidationErrorGroup`` listing every problem (up to 1000).

Framing: records are lines (``\n`` or ``\r\n``), or — when the data has no line
breaks and the layout has a ``record_length`` — every ``record_length`` bytes; a
file whose size is then not a multiple of it is refused (a shifted file). The
layout's ``padding`` filler lines (NACHA's all-'9' records) are skipped on read
and written again up to the blocking factor. ``trimmed_lines`` accepts lines that
lost their trailing blanks, but only where left-aligned text or optional fields
end the record — never a cut through digits.

Besides ``file_name``, each document carries ``record_number`` (of its first
record), ``record_lengths``, ``line_ending`` and ``final_line_ending``: what
``write`` needs to give back the same bytes after an unchanged read. Documents
built some other way are written with full-length records and the layout's line
ending; ``write`` options ``line_ending``, ``final_line_ending`` and
``trim_trailing_blanks`` override either.

Usage::

    docs = ab.read("ppd.ach", format="fixed", layout="nacha", group_by="batch_header")
    data = ab.write(docs, format="fixed", layout="nacha")
    layout = Layout.from_dict({"record_length": 30, "fields": [
        {"name": "id", "width": 8, "type": "integer"},
        {"name": "amount", "width": 10, "type": "decimal", "implied_decimals": 2}]})
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.base import Source
from atomnb.formats.fixed.layout import Field, Layout, Padding, RecordType
from atomnb.formats.fixed.reader import read_fixed
from atomnb.formats.fixed.writer import write_fixed

__all__ = ["Field", "FixedWidthFormat", "Layout", "Padding", "RecordType"]

LayoutLike = Layout | dict[str, Any] | str


class FixedWidthFormat:
    """``format="fixed"``; needs ``layout=``: a Layout, its dict, or a built-in name ("nacha")."""

    name = "fixed"
    extensions: tuple[str, ...] = ()

    def read_batches(
        self,
        source: Source,
        *,
        batch_size: int,
        layout: LayoutLike | None = None,
        group_by: str | None = None,
        on_error: str = "reject",
        **options: Any,
    ) -> Iterator[Documents]:
        if options:
            raise FormatError(f"unknown fixed-width option(s): {', '.join(sorted(options))}")
        if on_error not in ("reject", "raise"):
            raise FormatError(f"on_error must be 'reject' or 'raise', not {on_error!r}")
        return read_fixed(
            source,
            _layout(layout),
            batch_size=batch_size,
            group_by=group_by,
            on_error="raise" if on_error == "raise" else "reject",
        )

    def write(
        self,
        documents: Documents,
        sink: IO[bytes],
        *,
        layout: LayoutLike | None = None,
        line_ending: str | None = None,
        final_line_ending: bool | None = None,
        trim_trailing_blanks: bool | None = None,
        **options: Any,
    ) -> None:
        if options:
            raise FormatError(f"unknown fixed-width option(s): {', '.join(sorted(options))}")
        write_fixed(
            documents,
            sink,
            _layout(layout),
            line_ending=line_ending,
            final_line_ending=final_line_ending,
            trim_trailing_blanks=trim_trailing_blanks,
        )


def _layout(layout: LayoutLike | None) -> Layout:
    if layout is None:
        raise FormatError(
            "fixed-width files need a layout",
            hint='pass layout=Layout(...), its dict, or a built-in name such as "nacha"',
        )
    return Layout.of(layout)
