"""Writing JSON columnar with polars when the columns allow it (the stdlib otherwise)."""

from __future__ import annotations

import io
from typing import IO

import pyarrow as pa

from atomnb.documents import Documents
from atomnb.errors import FormatError

__all__ = ["write_columnar"]


def write_columnar(documents: Documents, sink: IO[bytes], layout: str) -> bool:
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
