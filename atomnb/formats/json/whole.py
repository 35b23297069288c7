"""One document or an array: read whole (small) or item by item with ijson (large).

Both paths run the depth scan before the parser sees the bytes, and note
duplicate keys and NaN/Infinity through ``StrictHooks`` (refused unless allowed).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.base import Source, with_file_property
from atomnb.formats.json.limits import (
    DepthScanner,
    ScannedReader,
    StrictHooks,
    check_depth,
    find_constant,
    find_key,
    line_column,
)

__all__ = ["arrow_message", "batches", "load_whole", "stream_array", "tag_layout"]

LAYOUT_KEY = b"atomnb.json.layout"
_SCAN_CHUNK = 1 << 20


def load_whole(source: Source, max_depth: int, hooks: StrictHooks) -> Any:
    """The whole file parsed by the standard library, after the depth scan."""
    raw = source.read_bytes()
    check_depth(raw, max_depth=max_depth, name=source.name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"not valid UTF-8 at byte {exc.start}",
            where=source.name,
            hint="JSON must be UTF-8; re-encode the file or check what produced it",
        ) from None
    try:
        value = json.loads(
            text, object_pairs_hook=hooks.object_pairs, parse_constant=hooks.parse_constant
        )
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"invalid JSON: {exc.msg}",
            where=f"{source.name}, line {exc.lineno}, column {exc.colno} (char {exc.pos})",
        ) from None
    except RecursionError:
        raise FormatError(
            "JSON nesting is too deep to read",
            where=source.name,
            hint="lower max_depth= below Python's recursion limit",
        ) from None
    if hooks.problem is not None:
        raise _located(hooks, raw, source, value)
    return value


def _located(hooks: StrictHooks, raw: bytes, source: Source, value: Any) -> FormatError:
    """The hooks' finding with the line and column it most likely sits at."""
    offset = find_key(raw, hooks.duplicate) if hooks.duplicate is not None else find_constant(raw)
    where = source.name
    if isinstance(value, list) and offset is not None:
        document = _item_at(raw, offset)
        if document is not None:
            where += f", document {document}"
    if offset is not None:
        line, column = line_column(raw, offset)
        where += f", line {line}, column {column}"
    return FormatError(hooks.problem or "", where=where, hint=hooks.hint)


def _item_at(raw: bytes, offset: int) -> int | None:
    """The index of the top-level array item holding ``offset`` (a depth scan up to it)."""
    scanner = DepthScanner(1 << 30)
    scanner.feed(raw[:offset])
    return scanner.top_items


def stream_array(source: Source, max_depth: int, hooks: StrictHooks) -> Iterator[Any]:
    """Array items one at a time (ijson's C parser), reading through the depth scan."""
    import ijson

    count = 0
    with source.open() as handle:
        reader = ScannedReader(handle, DepthScanner(max_depth), source.name)
        try:
            for item in ijson.items(
                reader, "item", use_float=True, map_type=hooks.map_type(), buf_size=_SCAN_CHUNK
            ):
                if hooks.holds_problem(item):
                    raise FormatError(
                        hooks.problem or "",
                        where=f"{source.name}, document {count}",
                        hint=hooks.hint,
                    )
                yield item
                count += 1
        except ijson.JSONError as exc:
            reason = str(exc).splitlines()[0]
            if "invalid char" in reason and _constant_near(source, reader.consumed):
                reason = "NaN or Infinity is not a JSON number (streamed arrays cannot allow it)"
            raise FormatError(
                f"invalid JSON in document {count}: {reason}",
                where=source.name,
            ) from None


def _constant_near(source: Source, consumed: int) -> bool:
    with source.open() as handle:
        handle.seek(max(consumed - 2 * _SCAN_CHUNK, 0))
        return find_constant(handle.read(2 * _SCAN_CHUNK)) is not None


def batches(
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
        yield with_file_property(tag_layout(table, layout), source)
        if len(chunk) < batch_size:
            return
        start += len(chunk)


def _table_from_records(records: list[dict[str, Any]], source: Source, offset: int) -> pa.Table:
    if not records:
        return pa.table({})
    try:
        return pa.Table.from_struct_array(pa.array(records))
    except OverflowError:
        raise FormatError(
            "a number does not fit in 64 bits",
            where=f"{source.name}, documents {offset}-{offset + len(records) - 1}",
            hint="give a profile that declares the field as a string or a decimal",
        ) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise FormatError(
            f"documents disagree on a field's type: {arrow_message(exc)}",
            where=f"{source.name}, documents {offset}-{offset + len(records) - 1}",
            hint="give a profile that declares the field's type (e.g. string)",
        ) from None


def tag_layout(table: pa.Table, layout: str) -> pa.Table:
    metadata = dict(table.schema.metadata or {})
    metadata[LAYOUT_KEY] = layout.encode()
    return table.replace_schema_metadata(metadata)


def arrow_message(exc: Exception) -> str:
    return str(exc).splitlines()[0]
