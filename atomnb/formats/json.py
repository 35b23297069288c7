"""JSON: one document, an array of documents, or JSON Lines.

JSON Lines streams through pyarrow's block reader and a large array streams item
by item through ijson, so a file larger than memory is read a batch at a time. A
single document, or an array below ``STREAM_ARRAY_BYTES``, is parsed with the
standard library (exact line and column in errors) and then batched.
The layout read is kept in the table's schema metadata so ``write`` gives back
the same shape.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.json as pa_json

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.base import DEFAULT_BLOCK_BYTES, Source, block_size_error, with_file_property

__all__ = ["JsonFormat"]

Layout = Literal["auto", "single", "array", "lines"]
LAYOUT_KEY = b"atomnb.json.layout"
_BLOCK_BYTES = 1 << 20
#: Arrays larger than this are streamed item by item (exact error positions below it).
STREAM_ARRAY_BYTES = 32 << 20
#: A single JSON document (not an array, not lines) must be read whole: refuse huge ones.
MAX_DOCUMENT_BYTES = 512 << 20


class JsonFormat:
    name = "json"
    extensions = (".json", ".jsonl", ".ndjson")

    def read_batches(
        self,
        source: Source,
        *,
        batch_size: int,
        layout: Layout = "auto",
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        **options: Any,
    ) -> Iterator[Documents]:
        _reject_unknown(options)
        if layout == "auto":
            layout = _sniff_layout(source)
        if layout == "lines":
            yield from _read_lines(source, batch_size, block_bytes)
            return
        if layout == "array" and source.size() > STREAM_ARRAY_BYTES:
            yield from _batches(_stream_array(source), source, batch_size, layout)
            return
        if source.size() > max_document_bytes:
            raise FormatError(
                f"file too large to read as one JSON document "
                f"({source.size():,} > {max_document_bytes:,} bytes)",
                where=source.name,
                hint="write it as JSON Lines or an array (both stream), "
                "or raise max_document_bytes=",
            )
        records = _load_whole(source)
        if layout == "single" and isinstance(records, list):
            records = [records]
        if isinstance(records, dict):
            records, layout = [records], "single"
        elif not isinstance(records, list):
            raise FormatError(
                f"top-level JSON value is a {type(records).__name__}; expected an object or array",
                where=source.name,
            )
        yield from _batches(iter(records), source, batch_size, layout)

    def write(
        self,
        documents: Documents,
        sink: IO[bytes],
        *,
        layout: Layout = "auto",
        indent: int | None = None,
        **options: Any,
    ) -> None:
        _reject_unknown(options)
        if layout == "auto":
            layout = (documents.schema.metadata or {}).get(LAYOUT_KEY, b"array").decode()
            if layout == "single" and len(documents) != 1:
                layout = "array"
        if (
            layout in ("lines", "array")
            and indent is None
            and _write_columnar(documents, sink, layout)
        ):
            return
        writer = io.TextIOWrapper(sink, encoding="utf-8", newline="\n", write_through=True)
        try:
            if layout == "lines":
                for record in documents:
                    writer.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            elif layout == "single":
                writer.write(
                    json.dumps(documents[0], ensure_ascii=False, indent=indent, default=str)
                )
            else:
                writer.write(
                    json.dumps(list(documents), ensure_ascii=False, indent=indent, default=str)
                )
            writer.flush()
        finally:
            writer.detach()


def _write_columnar(documents: Documents, sink: IO[bytes], layout: str) -> bool:
    """Write with polars' Rust JSON writer (about 10x json.dumps per record); False when
    the columns hold something it cannot write, so the caller falls back to the stdlib.

    A seekable sink (a file) is written straight through: polars flushes the file and
    writes to it without the encoded batch passing through Python, which halves the
    writer's cost. Anything else gets the encoded batch in one write.
    """
    table = documents.to_arrow()
    if table.num_columns == 0 or not all(_polars_writes(f.type) for f in table.schema):
        return False
    import polars as pl  # the map engine; loaded only when there is JSON to write

    try:
        frame = pl.from_arrow(table.replace_schema_metadata(None))
    except (pl.exceptions.PolarsError, pa.ArrowException, TypeError, ValueError):
        return False
    assert isinstance(frame, pl.DataFrame)
    start = _position(sink)
    buffer = io.BytesIO() if start is None else None
    target: IO[bytes] = sink if buffer is None else buffer
    try:
        if layout == "lines":
            frame.write_ndjson(target)
        else:
            frame.write_json(target)  # type: ignore[call-overload]  # any binary file object
    except (pl.exceptions.PolarsError, pa.ArrowException, TypeError, ValueError) as exc:
        if start is not None and _position(sink) != start:
            raise FormatError(
                f"the JSON writer failed after writing part of the output: {exc}"
            ) from exc
        return False
    if buffer is not None:
        sink.write(buffer.getbuffer())  # no copy of the encoded batch
    return True


def _position(sink: IO[bytes]) -> int | None:
    """Where a seekable sink stands (so a failed write can tell whether it wrote), else None."""
    try:
        return sink.tell() if sink.seekable() else None
    except (OSError, ValueError, AttributeError):
        return None


#: Binary types, which polars' JSON writer cannot write (binary_view is newer than pyarrow 15).
_BINARY = tuple(
    getattr(pa.types, f"is_{name}")
    for name in ("binary", "large_binary", "binary_view", "fixed_size_binary")
    if hasattr(pa.types, f"is_{name}")
)


def _polars_writes(kind: pa.DataType) -> bool:
    """Whether polars' JSON writer takes the type: it panics on binary (a BaseException,
    so this is checked before writing rather than caught)."""
    if any(is_binary(kind) for is_binary in _BINARY):
        return False
    if pa.types.is_struct(kind):
        return all(_polars_writes(f.type) for f in kind)
    if pa.types.is_map(kind):
        return _polars_writes(kind.key_type) and _polars_writes(kind.item_type)
    if pa.types.is_dictionary(kind):
        return _polars_writes(kind.value_type)
    if hasattr(kind, "value_type"):  # list, large list, fixed-size list, list view
        return _polars_writes(kind.value_type)
    return True


def _batches(
    records: Iterator[Any], source: Source, batch_size: int, layout: str
) -> Iterator[Documents]:
    """Group records into Documents batches; a non-object element is named by its index."""
    start = 0
    while True:
        chunk = list(itertools.islice(records, batch_size))
        if not chunk and start:
            return
        bad = next((i for i, r in enumerate(chunk) if not isinstance(r, dict)), None)
        if bad is not None:
            raise FormatError(
                f"array element is a {type(chunk[bad]).__name__}, not an object",
                where=f"{source.name}, document {start + bad}",
            )
        table = _table_from_records(chunk, source, start)
        yield with_file_property(_tag_layout(table, layout), source)
        if len(chunk) < batch_size:
            return
        start += len(chunk)


def _stream_array(source: Source) -> Iterator[Any]:
    """Array items one at a time (ijson's C parser), so a huge array never sits in memory."""
    import ijson

    count = 0
    with source.open() as handle:
        try:
            for item in ijson.items(handle, "item", use_float=True):
                yield item
                count += 1
        except ijson.JSONError as exc:
            reason = str(exc).splitlines()[0]
            raise FormatError(
                f"invalid JSON after document {count - 1 if count else 0}: {reason}",
                where=source.name,
            ) from None


def _reject_unknown(options: dict[str, Any]) -> None:
    if options:
        raise FormatError(f"unknown JSON option(s): {', '.join(sorted(options))}")


def _sniff_layout(source: Source) -> Layout:
    if source.suffix in (".jsonl", ".ndjson"):
        return "lines"
    with source.open() as handle:
        head = handle.read(_BLOCK_BYTES)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "array"
    # An object followed by another object on a later line is JSON Lines.
    first_line, _, rest = text.partition(b"\n")
    if rest.strip() and first_line.strip().endswith(b"}") and rest.lstrip().startswith(b"{"):
        try:
            json.loads(first_line)
            return "lines"
        except ValueError:
            pass
    return "single"


def _load_whole(source: Source) -> Any:
    raw = source.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"not valid UTF-8 at byte {exc.start}",
            where=source.name,
            hint="JSON must be UTF-8; re-encode the file or check what produced it",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"invalid JSON: {exc.msg}",
            where=f"{source.name}, line {exc.lineno}, column {exc.colno} (char {exc.pos})",
        ) from None
    except RecursionError:
        raise FormatError("JSON nesting is too deep to read", where=source.name) from None


def _read_lines(source: Source, batch_size: int, block_bytes: int) -> Iterator[Documents]:
    options = pa_json.ReadOptions(block_size=block_bytes)
    try:
        if not source.read_head(4096).strip():
            return
        with _native(source) as probe:
            inferred = pa_json.open_json(probe, read_options=options).schema
        # pyarrow turns ISO-looking strings into timestamps; a reader must give back the
        # text as written ("...Z" stays "...Z"), so those fields are read as strings.
        as_text = _timestamps_as_text(inferred)
        parse = (
            pa_json.ParseOptions(explicit_schema=as_text, unexpected_field_behavior="infer")
            if as_text != inferred
            else None
        )
        with _native(source) as handle:
            reader = pa_json.open_json(handle, read_options=options, parse_options=parse)
            yield from _gathered(reader, source, batch_size)
    except pa.ArrowInvalid as exc:
        too_long = block_size_error(exc, source, block_bytes)
        message = f"invalid JSON Lines: {_arrow_message(exc)}"
        raise (too_long or FormatError(message, where=source.name)) from None


def _gathered(reader: Any, source: Source, batch_size: int) -> Iterator[Documents]:
    """Blocks are a few MB; gather them into batches of ``batch_size`` rows so the
    stages after the reader (maps, writers) pay their per-batch costs rarely."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    sent = False
    for block in reader:
        pending.append(block)
        rows += block.num_rows
        while rows >= batch_size:
            table = pa.Table.from_batches(pending)
            yield with_file_property(_tag_layout(table.slice(0, batch_size), "lines"), source)
            sent = True
            rest = table.slice(batch_size)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows or not sent:
        table = pa.Table.from_batches(pending, schema=reader.schema)
        yield with_file_property(_tag_layout(table, "lines"), source)


def _native(source: Source) -> pa.NativeFile:
    """The source as an Arrow file: pyarrow reads it without taking the GIL for each block
    (a Python file object would make the parser wait on whichever thread holds it)."""
    if source.path is not None:
        return pa.OSFile(str(source.path))
    return pa.BufferReader(source.data or b"")


def _timestamps_as_text(schema: pa.Schema) -> pa.Schema:
    return pa.schema([field.with_type(_text_type(field.type)) for field in schema])


def _text_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(_text_type(f.type)) for f in kind])
    if pa.types.is_list(kind):
        return pa.list_(kind.value_field.with_type(_text_type(kind.value_type)))
    return kind


def _table_from_records(records: list[dict[str, Any]], source: Source, offset: int) -> pa.Table:
    if not records:
        return pa.table({})
    try:
        return pa.Table.from_struct_array(pa.array(records))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise FormatError(
            f"documents disagree on a field's type: {_arrow_message(exc)}",
            where=f"{source.name}, documents {offset}-{offset + len(records) - 1}",
            hint="give a profile that declares the field's type (e.g. string)",
        ) from None


def _tag_layout(table: pa.Table, layout: str) -> pa.Table:
    metadata = dict(table.schema.metadata or {})
    metadata[LAYOUT_KEY] = layout.encode()
    return table.replace_schema_metadata(metadata)


def _arrow_message(exc: Exception) -> str:
    return str(exc).splitlines()[0]
