"""JSON Lines: blocks of whole lines parsed by pyarrow; a bad line is a Rejection.

The file is read a block of whole lines at a time. Each block is depth-scanned
first; a clean block goes straight to pyarrow's parser. When a block holds a line
too deep, a NaN/Infinity, or anything pyarrow refuses, its lines are checked one
by one with the standard library: each bad line becomes a ``Rejection`` (line,
column, rule, original bytes) and the good lines of the block are parsed
together. A line whose field type disagrees with the lines before it is rejected
too (rule ``json.type``), so one odd line never fails the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

import pyarrow as pa
import pyarrow.json as pa_json

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError
from atomnb.formats.base import Source, with_file_property
from atomnb.formats.json.limits import DepthScanner, StrictHooks, find_constant, find_key
from atomnb.formats.json.whole import arrow_message, tag_layout

__all__ = ["read_lines"]

_ROW = re.compile(r" ?in row (\d+)")


def read_lines(
    source: Source, batch_size: int, block_bytes: int, max_depth: int, hooks: StrictHooks
) -> Iterator[Documents]:
    """Batches of at most ``batch_size`` documents; refused lines ride on the next batch."""
    reader = _LinesReader(source, block_bytes, max_depth, hooks)
    pending: list[pa.RecordBatch] = []
    refused: list[Rejection] = []
    rows = 0
    sent = False
    with source.open() as handle:
        for table, rejections in reader.tables(handle):
            refused.extend(rejections)
            if table is not None and table.num_rows:
                pending.extend(table.to_batches())
                rows += table.num_rows
            while rows >= batch_size:
                gathered = _concat(pending)
                yield _documents(gathered.slice(0, batch_size), source, refused)
                refused, sent = [], True
                rest = gathered.slice(batch_size)
                pending, rows = rest.to_batches(), rest.num_rows
    if rows or refused or (not sent and reader.schema is not None):
        gathered = _concat(pending) if pending else (reader.schema or pa.schema([])).empty_table()
        yield _documents(gathered, source, refused)


def _concat(batches: list[pa.RecordBatch]) -> pa.Table:
    tables = [pa.Table.from_batches([b]) for b in batches]
    return pa.concat_tables(tables, promote_options="permissive")


def _documents(table: pa.Table, source: Source, refused: list[Rejection]) -> Documents:
    documents = with_file_property(tag_layout(table, "lines"), source)
    return documents.with_rejections(refused) if refused else documents


class _LinesReader:
    def __init__(
        self, source: Source, block_bytes: int, max_depth: int, hooks: StrictHooks
    ) -> None:
        self.source = source
        self.block_bytes = block_bytes
        self.scanner = DepthScanner(max_depth, lines=True)
        self.hooks = hooks
        self.schema: pa.Schema | None = None  # fixed by the first block that has rows

    def tables(self, handle: IO[bytes]) -> Iterator[tuple[pa.Table | None, list[Rejection]]]:
        line = 1
        for block in self._blocks(handle):
            if not block.strip():
                self.scanner.feed(block)
                line += block.count(b"\n")
                continue
            too_deep = {v.line: v for v in self.scanner.feed(block)}
            suspicious = too_deep or (
                not self.hooks.allow_nan and (b"NaN" in block or b"Infinity" in block)
            )
            table = None if suspicious else self._parse(block)
            if table is not None:
                yield table, []
            else:
                yield self._line_by_line(block, line, too_deep)
            line += block.count(b"\n")

    def _blocks(self, handle: IO[bytes]) -> Iterator[bytes]:
        """Blocks of whole lines, about ``block_bytes`` each."""
        carry = b""
        line = 1
        while True:
            chunk = handle.read(self.block_bytes)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                if len(data) > self.block_bytes:
                    raise FormatError(
                        f"a single line is longer than the {self.block_bytes:,} byte read block",
                        where=f"{self.source.name}, line {line}",
                        hint=f"pass block_bytes= larger than the longest line "
                        f"(e.g. {self.block_bytes * 8:,})",
                    )
                carry = data
                continue
            block, carry = data[:cut], data[cut:]
            line += block.count(b"\n")
            yield block
        if carry.strip():
            yield carry + b"\n"

    def _parse(self, block: bytes) -> pa.Table | None:
        """The block parsed by pyarrow, or None when pyarrow refuses it."""
        try:
            return self._arrow(block)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None

    def _arrow(self, block: bytes) -> pa.Table:
        options = pa_json.ReadOptions(block_size=max(len(block) + 1, 1 << 16))
        if self.schema is None:
            table = pa_json.read_json(pa.BufferReader(block), read_options=options)
            # pyarrow turns ISO-looking strings into timestamps; a reader must give back the
            # text as written ("...Z" stays "...Z"), so those fields are read as strings.
            as_text = pa.schema(
                [f.with_type(_text_type(f.type)) for f in table.schema if not _is_null(f.type)]
            )
            if any(_has_timestamp(f.type) for f in table.schema):
                table = self._with_schema(block, options, as_text)
            self.schema = as_text
            return table
        table = self._with_schema(block, options, self.schema)
        # Fields first seen (or first typed) in this block keep their type from now on.
        known = set(self.schema.names)
        for found in table.schema:
            if found.name not in known and not _is_null(found.type):
                self.schema = self.schema.append(found.with_type(_text_type(found.type)))
        return table

    @staticmethod
    def _with_schema(block: bytes, options: pa_json.ReadOptions, schema: pa.Schema) -> pa.Table:
        parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        return pa_json.read_json(pa.BufferReader(block), read_options=options, parse_options=parse)

    def _line_by_line(
        self, block: bytes, first_line: int, too_deep: dict[int, Any]
    ) -> tuple[pa.Table | None, list[Rejection]]:
        """Check each line alone; the good ones are parsed together, the bad ones refused."""
        good: list[tuple[int, bytes]] = []
        refused: list[Rejection] = []
        for number, text in enumerate(block.split(b"\n"), start=first_line):
            if not text.strip():
                continue
            problem = self._check(text, number, too_deep.get(number))
            if isinstance(problem, Rejection):
                refused.append(problem)
            else:
                good.append((number, problem))
        while good:
            joined = b"\n".join(text for _, text in good) + b"\n"
            try:
                return self._arrow(joined), refused
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                row = _ROW.search(str(exc))
                if row is not None and int(row.group(1)) < len(good):
                    number, text = good.pop(int(row.group(1)))
                    message = _ROW.sub("", arrow_message(exc)).rstrip()
                    refused.append(self._rejection(number, None, message, "json.type", text))
                    continue
            # A value the types fixed by earlier blocks cannot hold (no row named).
            widened = self._widened(joined)
            if widened is not None:
                return widened, refused
            good = self._fitting(good, refused)
        return None, refused

    def _widened(self, joined: bytes) -> pa.Table | None:
        """The lines read with their own types when those only widen earlier ones (an
        integer field now holding decimals becomes a float field); else None."""
        assert self.schema is not None
        try:
            table = pa_json.read_json(
                pa.BufferReader(joined),
                read_options=pa_json.ReadOptions(block_size=max(len(joined) + 1, 1 << 16)),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
        fields = list(self.schema)
        for index, known in enumerate(fields):
            if known.name not in table.schema.names:
                continue
            found = table.schema.field(known.name).type
            if found == known.type or _is_null(found):
                continue
            if not (pa.types.is_integer(known.type) and pa.types.is_floating(found)):
                return None
            fields[index] = known.with_type(found)
        self.schema = pa.schema(fields)
        return table

    def _fitting(
        self, good: list[tuple[int, bytes]], refused: list[Rejection]
    ) -> list[tuple[int, bytes]]:
        """The lines the fixed types can hold, each tried alone; the others are refused."""
        assert self.schema is not None
        options = pa_json.ReadOptions(block_size=1 << 16)
        kept: list[tuple[int, bytes]] = []
        for number, text in good:
            try:
                self._with_schema(text + b"\n", options, self.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                message = _ROW.sub("", arrow_message(exc)).rstrip()
                refused.append(self._rejection(number, None, message, "json.type", text))
            else:
                kept.append((number, text))
        if len(kept) == len(good):  # nothing singled out: the lines fail only together
            raise FormatError(
                "invalid JSON Lines: the lines of a block cannot be read together",
                where=f"{self.source.name}, line {good[0][0]}",
            )
        return kept

    def _check(self, text: bytes, number: int, deep: Any) -> Rejection | bytes:
        """The line's bytes to parse (re-encoded when duplicates are allowed), or a Rejection."""
        if deep is not None:
            return self._rejection(number, deep.column, deep.message(), "json.depth", text)
        self.hooks.reset()
        try:
            value = json.loads(
                text,
                object_pairs_hook=self.hooks.object_pairs,
                parse_constant=self.hooks.parse_constant,
            )
        except json.JSONDecodeError as exc:
            return self._rejection(
                number, exc.colno, f"invalid JSON: {exc.msg}", "json.syntax", text
            )
        except (UnicodeDecodeError, RecursionError) as exc:
            return self._rejection(number, None, str(exc), "json.syntax", text)
        if self.hooks.problem is not None:
            offset = (
                find_key(text, self.hooks.duplicate)
                if self.hooks.duplicate is not None
                else find_constant(text)
            )
            column = offset + 1 if offset is not None else None
            return self._rejection(number, column, self.hooks.problem, self.hooks.rule, text)
        if not isinstance(value, dict):
            kind = type(value).__name__
            return self._rejection(
                number, 1, f"line is a {kind}, not an object", "json.not-object", text
            )
        if self.hooks.allow_duplicate_keys:
            return json.dumps(value, ensure_ascii=False).encode()
        return text

    def _rejection(
        self, number: int, column: int | None, message: str, rule: str, text: bytes
    ) -> Rejection:
        where = f"{self.source.name}, line {number}"
        if column is not None:
            where += f", column {column}"
        return Rejection(message=message, where=where, rule=rule, index=number - 1, raw=text)


def _is_null(kind: pa.DataType) -> bool:
    return pa.types.is_null(kind)


def _has_timestamp(kind: pa.DataType) -> bool:
    return _text_type(kind) != kind


def _text_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(_text_type(f.type)) for f in kind])
    if pa.types.is_list(kind):
        return pa.list_(kind.value_field.with_type(_text_type(kind.value_type)))
    return kind
