"""JSON: one document, an array of documents, or JSON Lines.

JSON Lines is read a block of whole lines at a time by pyarrow, and a large array
streams item by item through ijson, so a file larger than memory is read a batch
at a time. A single document, or an array below ``STREAM_ARRAY_BYTES``, is parsed
with the standard library (exact line and column in errors) and then batched.
The layout read is kept in the table's schema metadata so ``write`` gives back
the same shape.

Limits and strictness, the same on every path (see ``limits``):

* nesting deeper than ``max_depth`` (default 256) is refused before any parser
  builds it, naming the document, line, column and byte offset;
* a key given twice in one object is refused (``allow_duplicate_keys=True``
  keeps the last value, as most parsers do);
* ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON and are refused
  (``allow_nan=True`` reads them as floats; not for arrays streamed by ijson).

In JSON Lines each refused line (too deep, not JSON, a duplicate key, NaN, not
an object, a field of another type than the lines before) becomes a
``Rejection`` with its line, column, rule and bytes, and the other lines are
read. In one document or an array the whole read stops with a ``FormatError``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import IO, Any, Literal

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.base import DEFAULT_BLOCK_BYTES, Source
from atomnb.formats.json.limits import MAX_DEPTH, StrictHooks, check_depth
from atomnb.formats.json.lines import read_lines
from atomnb.formats.json.whole import LAYOUT_KEY, batches, load_whole, stream_array
from atomnb.formats.json.write import write_columnar

__all__ = ["MAX_DEPTH", "JsonFormat", "check_depth"]

Layout = Literal["auto", "single", "array", "lines"]
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
        max_depth: int = MAX_DEPTH,
        allow_duplicate_keys: bool = False,
        allow_nan: bool = False,
        **options: Any,
    ) -> Iterator[Documents]:
        _reject_unknown(options)
        if max_depth < 1:
            raise FormatError(f"max_depth must be at least 1, not {max_depth}")
        hooks = StrictHooks(allow_duplicate_keys=allow_duplicate_keys, allow_nan=allow_nan)
        if layout == "auto":
            layout = _sniff_layout(source)
        if layout == "lines":
            yield from read_lines(source, batch_size, block_bytes, max_depth, hooks)
            return
        if layout == "array" and source.size() > STREAM_ARRAY_BYTES:
            yield from batches(stream_array(source, max_depth, hooks), source, batch_size, layout)
            return
        if source.size() > max_document_bytes:
            raise FormatError(
                f"file too large to read as one JSON document "
                f"({source.size():,} > {max_document_bytes:,} bytes)",
                where=source.name,
                hint="write it as JSON Lines or an array (both stream), "
                "or raise max_document_bytes=",
            )
        records = load_whole(source, max_depth, hooks)
        if layout == "single" and isinstance(records, list):
            records = [records]
        if isinstance(records, dict):
            records, layout = [records], "single"
        elif not isinstance(records, list):
            raise FormatError(
                f"top-level JSON value is a {type(records).__name__}; expected an object or array",
                where=source.name,
            )
        yield from batches(iter(records), source, batch_size, layout)

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
            and write_columnar(documents, sink, layout)
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
