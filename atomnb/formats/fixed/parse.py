"""Parsing one chunk of records column-wise with Arrow.

The chunk becomes one Arrow array of lines; the record type of every line comes
from ``utf8_slice_codeunits`` at the code position, then for each record type and
field one slice, trim, validation (a regex or ``strptime``) and cast over the whole
column. Only records with problems are looked at one by one, to say what is wrong.
Positions count characters, which are bytes in the single-byte encodings
fixed-width files use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from atomnb.formats.fixed.layout import Field, Layout, RecordType

__all__ = ["Parsed", "Problem", "parse"]

_INTEGER = r"^[+-]?[0-9]+$"
_DECIMAL = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"


@dataclass
class Problem:
    row: int  # index in the chunk
    rule: str
    message: str


@dataclass
class Parsed:
    """One chunk, parsed: the record type of each line, per-type struct arrays, problems."""

    texts: list[str | None]
    kinds: list[int]  # index into layout.record_types; -1 unknown, -2 padding
    lengths: list[int]
    structs: dict[int, pa.StructArray] = field(default_factory=dict)
    rows: dict[int, dict[int, int]] = field(default_factory=dict)  # type -> chunk row -> struct row
    problems: dict[int, list[Problem]] = field(default_factory=dict)

    def add(self, row: int, rule: str, message: str) -> None:
        self.problems.setdefault(row, []).append(Problem(row, rule, message))


def parse(
    lines: list[bytes],
    layout: Layout,
    *,
    unbroken: bool = False,
    sections: dict[str, int] | None = None,
) -> Parsed:
    """One chunk; ``sections`` carries the open ``within`` sections from chunk to chunk."""
    encoding = layout.encoding
    texts, undecodable = _decode(lines, encoding)
    arr = pa.array(texts, pa.string())
    lengths = pc.fill_null(pc.utf8_length(arr), -1)
    kinds = _kinds(arr, layout, {} if sections is None else sections)
    parsed = Parsed(texts, kinds.to_pylist(), lengths.to_pylist())
    for row, message in undecodable.items():
        parsed.add(row, "fixed.encoding", message)
    for index, record in enumerate(layout.record_types):
        expected = layout.length_of(record)
        shortest = (
            record.min_length(expected)
            if layout.trimmed_lines or layout.record_length is None
            else expected
        )
        of_type = pc.equal(kinds, index)
        fits = pc.and_(
            of_type, pc.and_(pc.greater_equal(lengths, shortest), pc.less_equal(lengths, expected))
        )
        wrong = pc.indices_nonzero(pc.and_(of_type, pc.invert(fits))).to_pylist()
        for row in wrong:
            parsed.add(
                row,
                "fixed.record_length",
                _length_message(parsed.lengths[row], record, expected, shortest, layout),
            )
        rows = pc.indices_nonzero(fits)
        if len(rows) == 0:
            continue
        records = pc.utf8_rpad(arr.take(rows), expected, " ")
        row_list = rows.to_pylist()
        values, bad = _fields(records, record)
        for position, message in bad:
            parsed.add(row_list[position], "fixed.field", message)
        parsed.structs[index] = pa.StructArray.from_arrays(
            values, fields=list(layout.struct_type(record))
        )
        parsed.rows[index] = {row: i for i, row in enumerate(row_list)}
    unknown = pc.indices_nonzero(pc.equal(kinds, -1)).to_pylist()
    for row in unknown:
        text = texts[row]
        if text == "":
            parsed.add(row, "fixed.record_length", "empty line, expected a record")
        elif text is not None:
            message = _unknown_message(text, layout)
            if unbroken:
                message += (
                    " (records are cut every "
                    f"{layout.record_length} characters: one that does not start with a code "
                    "usually means bytes were added or lost before it)"
                )
            parsed.add(row, "fixed.record_type", message)
    return parsed


def _decode(lines: list[bytes], encoding: str) -> tuple[list[str | None], dict[int, str]]:
    """The lines as text (None where undecodable) and, by row, why a line is not text."""
    try:
        parts: list[str | None] = list(b"\n".join(lines).decode(encoding).split("\n"))
        if len(parts) == len(lines):
            return parts, {}
    except UnicodeDecodeError:
        pass
    texts: list[str | None] = []
    problems: dict[int, str] = {}
    for row, line in enumerate(lines):
        try:
            texts.append(line.decode(encoding))
        except UnicodeDecodeError as exc:
            texts.append(None)
            problems[row] = (
                f"byte {line[exc.start : exc.start + 1]!r} at position {exc.start + 1} "
                f"is not valid {encoding}"
            )
    return texts, problems


def _matches(arr: pa.Array, record: RecordType) -> pa.Array:
    """Which lines show the record's code and its ``also`` texts."""
    code = record.code or ""
    begin = record.code_position - 1
    match = pc.equal(pc.utf8_slice_codeunits(arr, begin, begin + len(code)), code)
    for position, text in record.also:
        at = pc.equal(pc.utf8_slice_codeunits(arr, position - 1, position - 1 + len(text)), text)
        match = pc.and_(match, at)
    return pc.fill_null(match, False)


def _kinds(arr: pa.Array, layout: Layout, sections: dict[str, int]) -> pa.Array:
    """The record type index of every line (-1 unknown, -2 a padding record), vectorized."""
    if layout.single and layout.record_types[0].code is None:
        kinds = pa.array([0] * len(arr), pa.int32())
    else:
        kinds = pa.nulls(len(arr), pa.int32())
        ordered = sorted(enumerate(layout.record_types), key=lambda item: -item[1].code_weight)
        for index, record in ordered:
            if record.within is not None:
                continue
            kinds = pc.if_else(
                pc.and_(_matches(arr, record), pc.is_null(kinds)),
                pa.scalar(index, pa.int32()),
                kinds,
            )
        kinds = _within(arr, layout, kinds, sections)
    if layout.padding is not None and layout.record_length is not None:
        filler = layout.padding.char * layout.record_length
        is_filler = pc.fill_null(pc.equal(arr, filler), False)
        kinds = pc.if_else(is_filler, pa.scalar(-2, pa.int32()), kinds)
    return pc.fill_null(kinds, pa.scalar(-1, pa.int32()))


def _within(arr: pa.Array, layout: Layout, kinds: pa.Array, sections: dict[str, int]) -> pa.Array:
    """Context variants: inside a ``within`` section they replace their same-code sibling.

    The section is decided by the last record carrying the opener's code (the IAT
    batch header or a plain one, both "5"), carried across chunks in ``sections``.
    """
    names = [r.name for r in layout.record_types]
    at_start = dict(sections)  # every variant starts from the sections open before the chunk
    for index, record in enumerate(layout.record_types):
        if record.within is None or len(arr) == 0:
            continue
        opener = layout.record_types[names.index(record.within)]
        peers = [
            i
            for i, r in enumerate(layout.record_types)
            if r.code == opener.code and r.code_position == opener.code_position
        ]
        is_peer = pc.is_in(kinds, pa.array(peers, pa.int32()))
        marks = pc.if_else(pc.fill_null(is_peer, False), kinds, pa.nulls(len(arr), pa.int32()))
        carried = at_start.get(record.within, -1)
        if not marks[0].is_valid:
            marks = pa.concat_arrays([pa.array([carried], pa.int32()), marks.slice(1)])
        section = pc.fill_null_forward(marks)
        last = section[len(section) - 1].as_py()
        sections[record.within] = -1 if last is None else int(last)
        inside = pc.fill_null(pc.equal(section, names.index(record.within)), False)
        siblings = [  # what the line was read as outside the section (entry_detail for "6")
            i
            for i, r in enumerate(layout.record_types)
            if r.within is None
            and r.code == record.code
            and r.code_position == record.code_position
        ]
        was_sibling = pc.fill_null(pc.is_in(kinds, pa.array(siblings, pa.int32())), False)
        replace = pc.and_(inside, pc.and_(was_sibling, _matches(arr, record)))
        kinds = pc.if_else(replace, pa.scalar(index, pa.int32()), kinds)
    return kinds


def _length_message(
    actual: int, record: RecordType, expected: int, shortest: int, layout: Layout
) -> str:
    if actual > expected:
        message = f"record is {actual} characters long, expected {expected} ({record.name})"
        if layout.record_length and actual % layout.record_length == 0:
            message += f"; it may be {actual // layout.record_length} records without line breaks"
        return message
    message = f"record is {actual} characters long, expected {expected} ({record.name})"
    if shortest < expected:
        message += f"; trimmed lines must keep at least {shortest} (the last non-blank field)"
    return message


def _shortest_code(layout: Layout, position: int) -> int:
    return min(len(r.code or "") for r in layout.record_types if r.code_position == position)


def _unknown_message(text: str, layout: Layout) -> str:
    positions = sorted({r.code_position for r in layout.record_types})
    found = ", ".join(  # as many characters as the shortest code there ('4', not '422')
        f"{text[p - 1 : p - 1 + _shortest_code(layout, p)]!r} at position {p}" for p in positions
    )
    known = ", ".join(f"{r.code!r} ({r.name})" for r in layout.record_types)
    message = f"unknown record type code {found}; expected one of {known}"
    if layout.record_length is not None and len(text) != layout.record_length:
        message += f"; record is {len(text)} characters long, expected {layout.record_length}"
    return message


def _fields(records: pa.Array, record: RecordType) -> tuple[list[pa.Array], list[tuple[int, str]]]:
    """Every field of one record type as a typed column, and (row, message) for bad values."""
    columns: list[pa.Array] = []
    bad: list[tuple[int, str]] = []
    for item in record.fields:
        begin = (item.start or 1) - 1
        raw = pc.utf8_slice_codeunits(records, begin, begin + item.width)
        column, invalid = _convert(raw, item)
        columns.append(column)
        if invalid is not None:
            for row in pc.indices_nonzero(invalid).to_pylist():
                text = raw[row].as_py()
                bad.append((row, _field_message(item, text)))
    return columns, bad


def _field_message(item: Field, text: str) -> str:
    end = (item.start or 1) + item.width - 1
    where = f"field {item.name!r} (positions {item.start}-{end})"
    expected = "an integer" if item.type == "integer" else f"a {item.type}"
    if not text.strip(" " if item.pad_char == "0" else f" {item.pad_char}"):
        return f"{where} is blank, expected {expected}"
    if item.type == "date":
        expected = f"a date as {item.format}"
    elif item.type == "boolean":
        expected = "{} or {}".format(*item.booleans)
    elif item.implied_decimals:
        expected = f"digits (a decimal with {item.implied_decimals} implied decimals)"
    return f"{where} is {text!r}, expected {expected}"


def _convert(raw: pa.Array, item: Field) -> tuple[pa.Array, pa.Array | None]:
    """A field's text column as its type, and a mask of the values that are not valid."""
    pad = item.pad_char
    if item.type == "string":
        trim = pc.utf8_rtrim if item.alignment == "left" else pc.utf8_ltrim
        return trim(raw, characters=pad), None
    text = raw
    if pad not in ("0", " "):
        trim = pc.utf8_rtrim if item.alignment == "left" else pc.utf8_ltrim
        text = trim(text, characters=pad)
    text = pc.utf8_trim_whitespace(text)
    blank = pc.equal(text, "")
    kind = item.arrow_type()
    if item.type == "integer":
        valid = pc.match_substring_regex(text, _INTEGER)
        values = pc.cast(pc.if_else(valid, text, pa.scalar(None, pa.string())), kind)
    elif item.type == "decimal":
        values, valid = _decimal(text, item, kind)
    elif item.type == "date":
        stamps = pc.strptime(text, format=item.format, unit="s", error_is_null=True)
        valid = pc.is_valid(stamps)
        values = pc.cast(stamps, kind)
    else:
        true, false = item.booleans
        is_true = pc.equal(text, true.strip())
        valid = pc.or_(is_true, pc.equal(text, false.strip()))
        values = pc.if_else(valid, is_true, pa.scalar(None, pa.bool_()))
    invalid = pc.invert(valid)
    if item.optional:
        invalid = pc.and_(invalid, pc.invert(blank))
    return values, invalid


def _decimal(text: pa.Array, item: Field, kind: pa.DataType) -> tuple[pa.Array, pa.Array]:
    implied = item.implied_decimals
    if implied:
        valid = pc.match_substring_regex(text, _INTEGER)
        sign = pc.if_else(pc.starts_with(text, "-"), "-", "")
        digits = pc.utf8_lpad(pc.replace_substring_regex(text, "^[+-]", ""), implied + 1, "0")
        text = pc.binary_join_element_wise(
            sign,
            pc.utf8_slice_codeunits(digits, 0, -implied),
            ".",
            pc.utf8_slice_codeunits(digits, -implied, 1 << 30),
            "",
        )
    else:
        valid = pc.match_substring_regex(text, _DECIMAL)
    candidates = pc.if_else(valid, text, pa.scalar(None, pa.string()))
    try:
        return pc.cast(candidates, kind), valid
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Too many decimals or digits for the type in some value: find which, one by one.
        values: list[Decimal | None] = []
        flags: list[bool] = []
        for value in candidates.to_pylist():
            number = _fits(value, kind)
            values.append(number)
            flags.append(number is not None)
        return pa.array(values, kind), pa.array(flags, pa.bool_())


def _fits(value: str | None, kind: pa.Decimal128Type) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent > kind.scale:
        return None
    if len(number.quantize(Decimal(1).scaleb(-kind.scale)).as_tuple().digits) > kind.precision:
        return None
    return number
