"""Writing fixed-width records: pad, align and imply decimals back, one record per line.

Records are formatted one by one in Python (fields are few and short); what the
reader learnt about the file's framing travels as document properties, so an
unchanged read writes the same bytes: ``line_ending`` (``""`` for records
without line breaks), ``final_line_ending`` (of the last document), and
``record_lengths`` (per document, the length each of its records had: a line
that lacked its trailing blanks is written without them again).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents
from atomnb.errors import AtomnbError, FormatError, ValidationErrorGroup
from atomnb.formats.fixed.layout import Field, Layout, RecordType

__all__ = ["format_record", "write_fixed"]

_ROWS_PER_WRITE = 10_000


def write_fixed(
    documents: Documents,
    sink: IO[bytes],
    layout: Layout,
    *,
    line_ending: str | None = None,
    final_line_ending: bool | None = None,
    trim_trailing_blanks: bool | None = None,
) -> None:
    if line_ending not in (None, "\n", "\r\n", ""):
        raise FormatError(f"line_ending must be '\\n', '\\r\\n' or '', not {line_ending!r}")
    count = len(documents)
    names = documents.property_names
    if line_ending is None:
        known = "line_ending" in names and count
        line_ending = documents.property("line_ending")[0].as_py() if known else None
        line_ending = layout.line_ending if line_ending is None else line_ending
    if final_line_ending is None:
        known = "final_line_ending" in names and count
        final = documents.property("final_line_ending")[count - 1].as_py() if known else None
        final_line_ending = True if final is None else bool(final)
    lengths = (
        documents.property("record_lengths").to_pylist()
        if trim_trailing_blanks is None and "record_lengths" in names
        else None
    )
    table = documents.to_arrow()
    if not layout.single and count and "record_type" not in table.column_names:
        raise FormatError(
            "documents for a layout with several record types need a record_type column",
            hint="read them with this layout, or add record_type naming each document's record",
        )
    written = 0
    index = 0
    for batch in table.to_batches(max_chunksize=_ROWS_PER_WRITE):
        records = _records(batch, layout, index)
        lines: list[str] = []
        for offset, doc_lines in enumerate(records):
            if trim_trailing_blanks:
                doc_lines = [line.rstrip(" ") for line in doc_lines]
            elif lengths is not None and lengths[index + offset]:
                keep = lengths[index + offset]
                doc_lines = [
                    _trim(line, keep[i]) if i < len(keep) else line
                    for i, line in enumerate(doc_lines)
                ]
            lines.extend(doc_lines)
        index += batch.num_rows
        if lines:
            text = line_ending.join(lines)
            if written:
                text = line_ending + text
            sink.write(_encode(text, layout))
            written += len(lines)
    if layout.padding is not None and layout.record_length is not None and written:
        block = layout.padding.block
        filler = [layout.padding.char * layout.record_length] * ((block - written % block) % block)
        if filler:
            sink.write(_encode(line_ending + line_ending.join(filler), layout))
            written += len(filler)
    if written and final_line_ending and line_ending:
        sink.write(line_ending.encode(layout.encoding))


def _records(batch: pa.RecordBatch, layout: Layout, first: int) -> list[list[str]]:
    """Each document's record lines: vectorized when every document is one flat record."""
    fast = _fast_lines(batch, layout)
    if fast is not None:
        return [[line] for line in fast]
    out: list[list[str]] = []
    problems: list[AtomnbError] = []
    for offset, row in enumerate(batch.to_pylist()):
        lines: list[str] = []
        try:
            _document(row, layout, lines)
        except FormatError as exc:
            problems.append(FormatError(exc.message, where=f"document {first + offset}"))
        out.append(lines)
    if problems:
        raise ValidationErrorGroup("documents do not fit the fixed-width layout", problems)
    return out


def _trim(line: str, keep: int | None) -> str:
    if keep is not None and keep < len(line) and not line[keep:].strip(" "):
        return line[:keep]
    return line


def _encode(text: str, layout: Layout) -> bytes:
    try:
        return text.encode(layout.encoding)
    except UnicodeEncodeError as exc:
        raise FormatError(
            f"{text[exc.start : exc.end]!r} cannot be written in {layout.encoding}",
            hint="change or transliterate the value, or use a layout with another encoding",
        ) from None


def _document(row: dict[str, Any], layout: Layout, out: list[str]) -> None:
    if layout.single:
        _emit(layout.record_types[0], row, layout, out)
        return
    name = row.get("record_type")
    if name is None:
        raise FormatError("record_type is missing")
    record = layout.record_type(str(name))
    value = row.get(record.name)
    if not isinstance(value, dict):
        raise FormatError(f"record_type is {name!r} but the {record.name!r} column is empty")
    _emit(record, value, layout, out)


def _emit(record: RecordType, value: dict[str, Any], layout: Layout, out: list[str]) -> None:
    out.append(format_record(record, value, layout.length_of(record)))
    for child in layout.children(record.name):
        if child.member_name not in value:
            continue
        member = value[child.member_name]
        if child.repeat == "one":
            if member is not None:
                _emit(child, member, layout, out)
        else:
            for item in member or ():
                _emit(child, item, layout, out)


def format_record(record: RecordType, value: dict[str, Any], length: int) -> str:
    """One record's text: its code, every field padded and aligned, blanks in the gaps."""
    chars = [" "] * length
    if record.code is not None:
        begin = record.code_position - 1
        chars[begin : begin + len(record.code)] = record.code
    for position, text in record.also:
        chars[position - 1 : position - 1 + len(text)] = text
    problems = []
    for item in record.fields:
        try:
            text = format_field(item, value.get(item.name))
        except FormatError as exc:
            problems.append(exc.message)
            continue
        begin = (item.start or 1) - 1
        chars[begin : begin + item.width] = text
    if problems:
        raise FormatError(f"{record.name}: " + "; ".join(problems))
    return "".join(chars)


def format_field(item: Field, value: Any) -> str:
    """A value as exactly ``item.width`` characters, or a FormatError saying why it cannot be."""
    if value is None or (value == "" and item.type != "string"):
        if not item.blank_ok:
            raise FormatError(f"field {item.name!r} is required ({item.type})")
        return " " * item.width
    text = _text(item, value)
    if len(text) > item.width:
        raise FormatError(
            f"field {item.name!r} is {len(text)} characters ({text!r}), wider than {item.width}"
        )
    if item.numeric and item.pad_char == "0" and item.alignment == "right":
        sign, digits = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
        return sign + digits.rjust(item.width - len(sign), "0")
    if item.alignment == "left":
        return text.ljust(item.width, item.pad_char)
    return text.rjust(item.width, item.pad_char)


def _text(item: Field, value: Any) -> str:
    name = item.name
    if item.type == "string":
        text = str(value)
        if "\n" in text or "\r" in text:
            raise FormatError(f"field {name!r} holds a line break, which would split the record")
        return text
    if item.type == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
            raise FormatError(f"field {name!r} is {value!r}, expected an integer")
        try:
            return str(int(value))
        except ValueError:
            raise FormatError(f"field {name!r} is {value!r}, expected an integer") from None
    if item.type == "decimal":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise FormatError(f"field {name!r} is {value!r}, expected a decimal") from None
        scale = item.decimal_scale
        exponent = number.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and -exponent > scale
            and number != number.quantize(Decimal(1).scaleb(-scale))
        ):
            raise FormatError(f"field {name!r} is {value}, more than {scale} decimals")
        if item.implied_decimals:
            return str(int(number.scaleb(item.implied_decimals)))
        return f"{number:.{scale}f}"
    if item.type == "date":
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise FormatError(f"field {name!r} is {value!r}, expected a date") from None
        if not isinstance(value, dt.date):
            raise FormatError(f"field {name!r} is {value!r}, expected a date")
        # Four-digit years below 1000 too, as Arrow writes them.
        return value.strftime((item.format or "%Y%m%d").replace("%Y", f"{value.year:04d}"))
    true, false = item.booleans
    if not isinstance(value, bool):
        raise FormatError(f"field {name!r} is {value!r}, expected true or false")
    return true if value else false


# -- vectorized formatting ---------------------------------------------------------------
#
# The fast path formats whole columns with Arrow and gives up (returns None) on anything
# unusual — nested documents, a value too wide, a null in a required field, a type it
# does not expect — so the per-record path above produces the exact error messages.

_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, KeyError)


def _fast_lines(batch: pa.RecordBatch, layout: Layout) -> list[str] | None:
    try:
        if layout.single:
            texts = _format_struct(batch.to_struct_array(), layout.record_types[0], layout)
            return None if texts is None else texts.to_pylist()
        names = batch.schema.names
        if "record_type" not in names:
            return None
        kinds = batch.column("record_type")
        out: list[str | None] = [None] * batch.num_rows
        for record in layout.record_types:
            mask = pc.fill_null(pc.equal(kinds, record.name), False)
            if not pc.any(mask).as_py():
                continue
            if record.name not in names:
                return None
            column = pc.filter(batch.column(record.name), mask)
            if column.null_count:
                return None
            texts = _format_struct(column, record, layout)
            if texts is None:
                return None
            rows = pc.indices_nonzero(mask).to_pylist()
            for row, text in zip(rows, texts.to_pylist(), strict=True):
                out[row] = text
        if any(text is None for text in out):
            return None
        return out  # type: ignore[return-value]  # no None left, checked above
    except _ARROW_ERRORS:
        return None


def _format_struct(column: pa.StructArray, record: RecordType, layout: Layout) -> pa.Array | None:
    present = {column.type.field(i).name for i in range(column.type.num_fields)}
    if any(child.member_name in present for child in layout.children(record.name)):
        return None  # grouped documents: records nest, one line per record is not enough
    segments: list[tuple[int, int, Any]] = []
    if record.code is not None:
        segments.append((record.code_position, len(record.code), record.code))
    covered = {(item.start or 1) + i for item in record.fields for i in range(item.width)}
    segments += [  # texts a field also writes (IAT at 51, the SEC code field) come once
        (position, len(text), text) for position, text in record.also if position not in covered
    ]
    for item in record.fields:
        if item.name in present:
            text = _format_column(column.field(item.name), item)
            if text is None:
                return None
        elif item.blank_ok:
            text = " " * item.width
        else:
            return None
        segments.append((item.start or 1, item.width, text))
    pieces: list[Any] = []
    position = 1
    for start, width, text in sorted(segments, key=lambda s: s[0]):
        if start > position:
            pieces.append(" " * (start - position))
        pieces.append(text)
        position = start + width
    length = layout.length_of(record)
    if length >= position:
        pieces.append(" " * (length - position + 1))
    arrays = [p for p in pieces if isinstance(p, (pa.Array, pa.ChunkedArray))]
    if not arrays:
        return pa.repeat(pa.scalar("".join(pieces)), len(column))
    return pc.binary_join_element_wise(*pieces, "")


def _format_column(values: pa.Array, item: Field) -> pa.Array | None:
    """One field of every record as text of exactly ``item.width`` characters, or None."""
    kind = values.type
    if values.null_count and not item.blank_ok:
        return None
    if item.type == "string":
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return None
        if pc.any(pc.match_substring_regex(values, "[\r\n]")).as_py():
            return None
        text = values
    elif item.type == "integer":
        if not pa.types.is_integer(kind):
            return None
        text = _number(pc.cast(values, pa.string()), item)
    elif item.type == "decimal":
        if not pa.types.is_decimal(kind):
            return None
        text = pc.cast(pc.cast(values, item.arrow_type()), pa.string())
        if item.implied_decimals:
            digits = pc.replace_substring(text, ".", "")
            text = pc.replace_substring_regex(digits, r"^(-?)0+([0-9])", r"\1\2")
        text = _number(text, item)
    elif item.type == "date":
        if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
            return None
        text = pc.strftime(pc.cast(values, pa.timestamp("s")), format=item.format)
    else:
        if not pa.types.is_boolean(kind):
            return None
        true, false = item.booleans
        text = pc.if_else(values, true, false)
    if item.type == "string" or not (item.alignment == "right" and item.pad_char == "0"):
        pad = pc.utf8_rpad if item.alignment == "left" else pc.utf8_lpad
        text = pad(text, width=item.width, padding=item.pad_char)
    if pc.any(pc.greater(pc.utf8_length(text), item.width)).as_py():
        return None
    return pc.fill_null(text, " " * item.width)


def _number(text: pa.Array, item: Field) -> pa.Array:
    """Signed digits padded like the per-record path: zeros go between the sign and digits."""
    if not (item.alignment == "right" and item.pad_char == "0"):
        return text
    negative = pc.starts_with(text, "-")
    digits = pc.replace_substring_regex(text, "^-", "")
    positive = pc.utf8_lpad(digits, width=item.width, padding="0")
    signed = pc.binary_join_element_wise(
        "-", pc.utf8_lpad(digits, width=max(item.width - 1, 0), padding="0"), ""
    )
    return pc.if_else(negative, signed, positive)
