"""Delimited text (CSV, TSV, pipe): read with pyarrow's streaming CSV reader, written back.

Without a profile every column is read as text: "007" stays "007" and a round
trip is exact. ``infer_types=True`` lets pyarrow type the columns instead.
A ragged row is never silently shifted: by default (``on_error="reject"``) it
becomes a rejection naming its line, with its original text, and the good rows go
on; ``on_error="raise"`` stops the read with that line instead.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError
from atomnb.formats.base import DEFAULT_BLOCK_BYTES, Source, block_size_error, with_file_property

__all__ = ["CsvFormat"]

_BLOCK_BYTES = 1 << 20
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

        def on_invalid(row: pa_csv.InvalidRow) -> str:
            bad_rows.append(row)
            return "skip" if on_error == "reject" else "error"

        parse = pa_csv.ParseOptions(
            delimiter=delimiter,
            quote_char=quote_char,
            escape_char=escape_char,
            newlines_in_values=True,
            invalid_row_handler=on_invalid,
        )
        names = column_names
        read = pa_csv.ReadOptions(
            block_size=block_bytes,
            encoding=encoding,
            column_names=names,
            autogenerate_column_names=not header and not column_names,
            skip_rows=1 if (header and column_names) else 0,
        )
        try:
            convert = self._convert_options(source, read, parse, infer_types)
            bad_rows.clear()  # the look at the first block reported them already; read again
            reader = pa_csv.open_csv(
                source.open(), read_options=read, parse_options=parse, convert_options=convert
            )
            for batch in reader:
                rejected = [_rejection(row, source) for row in bad_rows]
                bad_rows.clear()
                for start in range(0, max(batch.num_rows, 1), batch_size):
                    docs = with_file_property(batch.slice(start, batch_size), source)
                    yield docs.with_rejections(rejected) if start == 0 else docs
            if bad_rows:  # rows refused in the last block, after the final batch
                empty = with_file_property(pa.Table.from_batches([], schema=reader.schema), source)
                yield empty.with_rejections([_rejection(row, source) for row in bad_rows])
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            too_long = block_size_error(exc, source, block_bytes)
            raise (too_long or _translate(exc, source, bad_rows, encoding)) from None

    @staticmethod
    def _convert_options(
        source: Source, read: pa_csv.ReadOptions, parse: pa_csv.ParseOptions, infer_types: bool
    ) -> pa_csv.ConvertOptions:
        if infer_types:
            return pa_csv.ConvertOptions()
        # Learn the column names from the first block, then read every column as text.
        with source.open() as handle:
            try:
                names = pa_csv.open_csv(handle, read_options=read, parse_options=parse).schema.names
            except pa.ArrowInvalid as exc:
                if "Empty CSV file" in str(exc):
                    names = []
                else:
                    raise
        _check_delimiter(names, parse.delimiter, source)
        return pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )

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


def _rejection(row: pa_csv.InvalidRow, source: Source) -> Rejection:
    line = row.number if row.number is not None else _locate(source, row.text)
    return Rejection(
        message=f"expected {row.expected_columns} fields, found {row.actual_columns}",
        where=f"{source.name}, line {line}" if line else source.name,
        rule="csv.field-count",
        raw=row.text.encode("utf-8"),
    )


def _locate(source: Source, text: str) -> int | None:
    """The line where a refused row starts (pyarrow cannot count lines when quoted
    fields may hold newlines, so the file is scanned for the row, only on error)."""
    first = text.split("\n", 1)[0].encode("utf-8")
    with source.open() as handle:
        for number, line in enumerate(handle, start=1):
            if line.rstrip(b"\r\n").lstrip(b"\xef\xbb\xbf") == first:
                return number
    return None


def _translate(
    exc: Exception, source: Source, bad_rows: list[pa_csv.InvalidRow], encoding: str
) -> FormatError:
    if bad_rows:
        rejection = _rejection(bad_rows[0], source)
        return FormatError(
            f"{rejection.message}: {bad_rows[0].text[:80]!r}",
            where=rejection.where,
            hint="check the delimiter and quoting, or fix the row",
        )
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in str(exc):
        offset, line = _first_undecodable(source, encoding)
        return FormatError(
            f"not valid {encoding} at byte {offset}",
            where=f"{source.name}, line {line}",
            hint="pass encoding= (e.g. 'latin-1' or 'cp1252') matching the file",
        )
    return FormatError(f"invalid CSV: {str(exc).splitlines()[0]}", where=source.name)


def _first_undecodable(source: Source, encoding: str) -> tuple[int, int]:
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
    return offset, line
