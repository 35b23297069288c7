"""Delimited text (CSV, TSV, pipe): read with pyarrow's streaming CSV reader, written back.

Without a profile every column is read as text: "007" stays "007" and a round
trip is exact. ``infer_types=True`` lets pyarrow type the columns instead.
A ragged row is never silently shifted: by default (``on_error="reject"``) it
becomes a rejection naming its line, with its original text, and the good rows go
on; ``on_error="raise"`` stops the read with that line instead.

The first row is the header unless ``header=False`` (columns ``f0``, ``f1``, ...) or
``column_names=[...]`` (with ``header=True`` the file's own header row is skipped).
A header row that looks like data (every value a number or a date) is logged as a
warning saying so; a header with a duplicate name is refused, both with that hint.
A file with no line break is read as one row when it fits in a block and refused
when it does not (pyarrow would call it empty).
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable, Iterator
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError
from atomnb.formats.base import DEFAULT_BLOCK_BYTES, Source, block_size_error, with_file_property
from atomnb.formats.csv.rows import RowLocator, header_problem

__all__ = ["CsvFormat"]

_BLOCK_BYTES = 1 << 20
log = logging.getLogger("atomnb.formats")
OnError = Literal["reject", "raise"]


class CsvFormat:
    name = "csv"
    extensions = (".csv", ".tsv", ".psv")

    def read_batches(
        self,
        source: Source,
        *,
        batch_size: int,
        delimiter: str = ",",
        quote_char: str | bool = '"',
        escape_char: str | bool = False,
        header: bool = True,
        column_names: list[str] | None = None,
        encoding: str = "utf-8",
        infer_types: bool = False,
        on_error: OnError = "reject",
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        **options: Any,
    ) -> Iterator[Documents]:
        if options:
            raise FormatError(f"unknown CSV option(s): {', '.join(sorted(options))}")
        if on_error not in ("reject", "raise"):
            raise FormatError(f"on_error must be 'reject' or 'raise', not {on_error!r}")
        bad_rows: list[pa_csv.InvalidRow] = []
        probing = [True]  # the first look only learns the names: it refuses nothing

        def on_invalid(row: pa_csv.InvalidRow) -> str:
            bad_rows.append(row)
            return "skip" if on_error == "reject" or probing[0] else "error"

        parse = pa_csv.ParseOptions(
            delimiter=delimiter,
            quote_char=quote_char,
            escape_char=escape_char,
            newlines_in_values=True,
            invalid_row_handler=on_invalid,
        )
        read = pa_csv.ReadOptions(
            block_size=block_bytes,
            encoding=encoding,
            column_names=column_names,
            autogenerate_column_names=not header and not column_names,
            skip_rows=1 if (header and column_names) else 0,
        )
        head = source.read_head(block_bytes)
        if not head.strip():
            return  # an empty file holds no documents
        _check_encoding(head, encoding, source)
        opener = _opener(source, head, block_bytes)
        locator = RowLocator(source)
        header_note: str | None = None
        reader: pa_csv.CSVStreamingReader | None = None
        try:
            with opener() as probe:
                convert, names = _convert_options(probe, read, parse, infer_types, source)
            if header and not column_names:
                header_note = _warn_header(names, source)
            bad_rows.clear()  # the look at the first block reported them already; read again
            probing[0] = False
            with opener() as handle:
                reader = pa_csv.open_csv(
                    handle, read_options=read, parse_options=parse, convert_options=convert
                )
                sent = False
                for batch in reader:
                    sent = True
                    rejected = [_rejection(row, source, locator) for row in bad_rows]
                    bad_rows.clear()
                    for start in range(0, max(batch.num_rows, 1), batch_size):
                        docs = with_file_property(batch.slice(start, batch_size), source)
                        yield docs.with_rejections(rejected) if start == 0 else docs
                if bad_rows or not sent:  # rows refused after the final batch, or no rows
                    schema = reader.schema
                    empty = with_file_property(pa.Table.from_batches([], schema=schema), source)
                    refused = [_rejection(r, source, locator) for r in bad_rows]
                    yield empty.with_rejections(refused) if refused else empty
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            too_long = block_size_error(exc, source, block_bytes)
            error = too_long or _translate(exc, source, bad_rows, encoding, locator, header_note)
            raise error from None
        finally:
            # Closed here, not by the garbage collector: a reader left open keeps pyarrow
            # threads that can call into an interpreter already shutting down.
            if reader is not None:
                reader.close()
            locator.close()

    def write(
        self,
        documents: Documents,
        sink: IO[bytes],
        *,
        delimiter: str = ",",
        header: bool = True,
        formula_escape: bool = False,
        **options: Any,
    ) -> None:
        if options:
            raise FormatError(f"unknown CSV option(s): {', '.join(sorted(options))}")
        table = documents.to_arrow().replace_schema_metadata(None)
        nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
        if nested:
            raise FormatError(
                f"CSV cannot hold nested columns: {', '.join(nested)}",
                hint="flatten them with a map first",
            )
        if formula_escape:
            table = _escape_formulas(table)
        options_out = pa_csv.WriteOptions(include_header=header, delimiter=delimiter)
        pa_csv.write_csv(table, sink, write_options=options_out)


_FORMULA_START = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"


def _escape_formulas(table: pa.Table) -> pa.Table:
    """Prefix text a spreadsheet would run as a formula (=, +, -, @, tab, CR) with ``'``;
    numbers such as ``-12.50`` are left alone."""
    for index, field in enumerate(table.schema):
        if not pa.types.is_string(field.type):
            continue
        column = table.column(index)
        risky = pc.and_(
            pc.match_substring_regex(column, _FORMULA_START),
            pc.invert(pc.match_substring_regex(column, _NUMBER)),
        )
        escaped = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        table = table.set_column(index, field, escaped)
    return table


def _check_encoding(head: bytes, encoding: str, source: Source) -> None:
    """Bytes the encoding cannot decode in the first block (binary data, UTF-16, Latin-1)
    are named before pyarrow meets them in a refused row it cannot even show."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(head)
    except UnicodeDecodeError as exc:
        line = head.count(b"\n", 0, exc.start) + 1
        raise FormatError(
            f"not valid {encoding} at byte {exc.start}",
            where=f"{source.name}, line {line}",
            hint="pass encoding= (e.g. 'latin-1' or 'cp1252') matching the file, "
            "or check that it is delimited text",
        ) from None
    except LookupError:
        raise FormatError(f"unknown encoding {encoding!r}") from None


def _opener(source: Source, head: bytes, block_bytes: int) -> Callable[[], pa.NativeFile]:
    """Arrow's own file (pyarrow reads it without the GIL, and no reader thread calls back
    into Python). A file with no line break is refused when it is longer than a block
    (pyarrow would take it as empty) and given its missing line end when it is not."""
    if b"\n" not in head and b"\r" not in head and head.strip():
        if source.size() > block_bytes:
            raise FormatError(
                f"no line break in the first {block_bytes:,} bytes",
                where=f"{source.name}, line 1",
                hint="check that the file is CSV; if a record really is that long, pass "
                f"block_bytes= larger than it (e.g. {block_bytes * 8:,})",
            )
        ended = head + b"\n"
        return lambda: pa.BufferReader(ended)
    if source.path is not None:
        path = str(source.path)
        return lambda: source.track(pa.OSFile(path))  # tracked: a read's progress is told
    data = source.data or b""
    return lambda: pa.BufferReader(data)


def _convert_options(
    probe: pa.NativeFile,
    read: pa_csv.ReadOptions,
    parse: pa_csv.ParseOptions,
    infer_types: bool,
    source: Source,
) -> tuple[pa_csv.ConvertOptions, list[str]]:
    """Learn the column names from the first block; without ``infer_types`` every column
    is read as text."""
    try:
        reader = pa_csv.open_csv(probe, read_options=read, parse_options=parse)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return pa_csv.ConvertOptions(), []
        raise
    try:
        names = reader.schema.names
    finally:
        reader.close()
    _check_delimiter(names, parse.delimiter, source)
    if infer_types:
        return pa_csv.ConvertOptions(), names
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    return convert, names


def _warn_header(names: list[str], source: Source) -> str | None:
    """Say so when the header row looks like data: the file may have no header row."""
    problem = header_problem(names)
    if problem is None:
        return None
    if problem.startswith("it looks like"):
        raise FormatError(
            f"the first row is not a CSV header: {problem}",
            where=f"{source.name}, line 1",
            hint="read it with the format it is in (format='json', 'jsonl' or 'xml'), "
            "or pass header=False if it really is delimited text",
        )
    if problem.startswith("duplicate"):  # Arrow cannot join batches with two equal names
        raise FormatError(
            f"the header row has a {problem}",
            where=f"{source.name}, line 1",
            hint="if the file has no header row, pass header=False; "
            "otherwise name the columns with column_names=[...]",
        )
    note = (
        f"the header row looks like data ({problem}); if the file has no header row, "
        "pass header=False (or column_names=[...])"
    )
    log.warning("%s, line 1: %s", source.name, note)
    return note


def _check_delimiter(names: list[str], delimiter: str, source: Source) -> None:
    """One column whose name holds another common delimiter: the delimiter is surely wrong."""
    if len(names) != 1:
        return
    for other in (",", ";", "\t", "|"):
        if other != delimiter and names[0].count(other) >= 1:
            raise FormatError(
                f"found a single column {names[0][:60]!r} that contains {other!r}",
                where=f"{source.name}, line 1",
                hint=f"the file looks delimited by {other!r}: pass delimiter={other!r}",
            )


def _rejection(row: pa_csv.InvalidRow, source: Source, locator: RowLocator) -> Rejection:
    line = row.number if row.number is not None else locator.locate(row.text)
    return Rejection(
        message=f"expected {row.expected_columns} fields, found {row.actual_columns}",
        where=f"{source.name}, line {line}" if line else source.name,
        rule="csv.field-count",
        raw=row.text.encode("utf-8"),
    )


def _translate(
    exc: Exception,
    source: Source,
    bad_rows: list[pa_csv.InvalidRow],
    encoding: str,
    locator: RowLocator,
    header_note: str | None,
) -> FormatError:
    if bad_rows:
        rejection = _rejection(bad_rows[0], source, locator)
        return FormatError(
            f"{rejection.message}: {bad_rows[0].text[:80]!r}",
            where=rejection.where,
            hint=header_note or "check the delimiter and quoting, or fix the row",
        )
    undecodable = _first_undecodable(source, encoding)
    if undecodable is not None:
        offset, line = undecodable
        return FormatError(
            f"not valid {encoding} at byte {offset}",
            where=f"{source.name}, line {line}",
            hint="pass encoding= (e.g. 'latin-1' or 'cp1252') matching the file",
        )
    return FormatError(f"invalid CSV: {str(exc).splitlines()[0]}", where=source.name)


def _first_undecodable(source: Source, encoding: str) -> tuple[int, int] | None:
    """Byte offset and line of the first byte ``encoding`` cannot decode (read in chunks)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with source.open() as handle:
        while chunk := handle.read(_BLOCK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start, line + chunk[: exc.start].count(b"\n")
            offset += len(chunk)
            line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, line  # a character cut short at the end
    return None
