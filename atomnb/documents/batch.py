"""The in-memory batch of documents every stage of atomnb passes along.

A batch is an Arrow table (one row per document, nested data as struct and list
columns) plus per-document properties (file name, HTTP status, partner id, …)
kept as Arrow columns of the same length. Arrow, not lists of dicts, so maps run
vectorized and a batch costs the memory of its columns, not of Python objects.
Documents are immutable: every operation returns a new batch, which keeps shapes
and the execution trace honest about what went in and what came out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents.html import documents_html
from atomnb.documents.rejections import Rejection

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_BATCH_ROWS", "Documents"]

#: Rows per record batch when streaming; large enough to amortise Arrow's overhead,
#: small enough that a batch of wide documents stays a few MB.
DEFAULT_BATCH_ROWS = 65_536

PropertyColumns = Mapping[str, pa.Array | pa.ChunkedArray | Sequence[Any]]


class Documents:
    """A batch of documents: an Arrow table plus per-document properties.

    >>> docs = Documents.from_records([{"id": 1}, {"id": 2}], properties={"file": ["a", "b"]})
    >>> len(docs), docs[1], docs.properties_of(1)
    (2, {'id': 2}, {'file': 'b'})
    """

    __slots__ = ("_properties", "_rejections", "_table")

    def __init__(
        self,
        table: pa.Table | pa.RecordBatch,
        properties: PropertyColumns | None = None,
        rejections: Sequence[Rejection] = (),
    ) -> None:
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        if not isinstance(table, pa.Table):
            raise TypeError(f"Documents needs a pyarrow.Table, got {type(table).__name__}")
        self._table: pa.Table = table
        self._rejections: tuple[Rejection, ...] = tuple(rejections)
        self._properties: dict[str, pa.ChunkedArray] = {}
        for name, values in (properties or {}).items():
            column = _as_chunked(values)
            if len(column) != table.num_rows:
                raise ValueError(
                    f"property {name!r} has {len(column)} values for {table.num_rows} documents"
                )
            self._properties[name] = column

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        schema: pa.Schema | None = None,
        properties: PropertyColumns | None = None,
    ) -> Documents:
        """Build a batch from dicts, one per document (nested dicts and lists allowed)."""
        rows = list(records)
        if schema is not None:
            return cls(pa.Table.from_pylist(rows, schema=schema), properties)
        if not rows:
            return cls(pa.table({}), properties)
        # pa.array infers the union of every record's keys; Table.from_pylist would keep only
        # the first record's keys and silently drop fields that appear later.
        return cls(pa.Table.from_struct_array(pa.array(rows)), properties)

    @classmethod
    def from_arrow(
        cls, data: pa.Table | pa.RecordBatch, properties: PropertyColumns | None = None
    ) -> Documents:
        return cls(data, properties)

    @classmethod
    def from_pandas(
        cls, frame: pd.DataFrame, properties: PropertyColumns | None = None
    ) -> Documents:
        """Build a batch from a DataFrame; its index is dropped, as documents have no index."""
        return cls(pa.Table.from_pandas(frame, preserve_index=False), properties)

    @classmethod
    def concat(cls, batches: Iterable[Documents]) -> Documents:
        """Join batches end to end; schemas are unified and missing properties become null."""
        parts = list(batches)
        if not parts:
            return cls(pa.table({}))
        if all(p._table.num_columns == 0 for p in parts):
            # Arrow cannot concatenate tables without columns and keep their row count.
            rows = sum(len(p) for p in parts)
            table = pa.table({"_": pa.nulls(rows)}).drop_columns(["_"])
        else:
            table = pa.concat_tables([p._table for p in parts], promote_options="permissive")
        names: dict[str, None] = {}
        for part in parts:
            names.update(dict.fromkeys(part._properties))
        properties = {name: _concat_property(parts, name) for name in names}
        return cls(table, properties, [r for p in parts for r in p._rejections])

    # -- size and access ------------------------------------------------------------

    def __len__(self) -> int:
        return self._table.num_rows

    def __bool__(self) -> bool:
        return self._table.num_rows > 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Documents as dicts, converted one record batch at a time to bound memory."""
        for batch in self._table.to_batches(max_chunksize=DEFAULT_BATCH_ROWS):
            yield from batch.to_pylist()

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return self.take(list(range(start, stop, step)))
            return self._slice(start, stop - start)
        index = _normalise_index(key, len(self))
        return self._table.slice(index, 1).to_pylist()[0]

    @property
    def rejections(self) -> tuple[Rejection, ...]:
        """Documents refused while this batch was made (by a reader or a shape), with reasons."""
        return self._rejections

    def with_rejections(self, rejections: Sequence[Rejection]) -> Documents:
        """The same documents, with ``rejections`` added to those already carried."""
        return Documents(self._table, self._properties, (*self._rejections, *rejections))

    @property
    def schema(self) -> pa.Schema:
        return self._table.schema

    @property
    def column_names(self) -> list[str]:
        return list(self._table.column_names)

    @property
    def property_names(self) -> list[str]:
        return list(self._properties)

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns and properties, as the execution trace reports them."""
        return self._table.nbytes + sum(c.nbytes for c in self._properties.values())

    def column(self, name: str) -> pa.ChunkedArray:
        return self._table.column(name)

    def property(self, name: str) -> pa.ChunkedArray:
        """One property for every document; an unknown name raises ``KeyError`` listing known."""
        try:
            return self._properties[name]
        except KeyError:
            known = ", ".join(self._properties) or "none"
            raise KeyError(f"no document property {name!r} (known: {known})") from None

    def properties_of(self, index: int) -> dict[str, Any]:
        """The properties of one document as a dict."""
        index = _normalise_index(index, len(self))
        return {name: col[index].as_py() for name, col in self._properties.items()}

    # -- conversion -----------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        return self._table

    def to_pandas(self, *, with_properties: bool = False) -> pd.DataFrame:
        """A DataFrame of the documents; properties become ``_prop.<name>`` columns if asked."""
        frame = self._table.to_pandas()
        if with_properties:
            for name, col in self._properties.items():
                frame[f"_prop.{name}"] = col.to_pandas()
        return frame

    def to_pylist(self) -> list[dict[str, Any]]:
        return self._table.to_pylist()

    def iter_batches(self, max_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[Documents]:
        """Split into batches of at most ``max_rows`` documents without copying data."""
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        for start in range(0, len(self), max_rows):
            yield self._slice(start, max_rows)

    # -- derivation (always a new batch) --------------------------------------------

    def with_properties(self, **properties: Any) -> Documents:
        """Set properties: a scalar applies to every document, a sequence gives one per document."""
        merged: dict[str, Any] = dict(self._properties)
        for name, value in properties.items():
            if isinstance(value, (pa.Array, pa.ChunkedArray, list, tuple)):
                merged[name] = value
            else:
                merged[name] = pa.array([value] * len(self))
        return Documents(self._table, merged, self._rejections)

    def with_table(self, table: pa.Table) -> Documents:
        """Same documents, new content (e.g. after a map); properties travel along."""
        if table.num_rows != len(self):
            raise ValueError(f"new table has {table.num_rows} rows for {len(self)} documents")
        return Documents(table, self._properties, self._rejections)

    def filter(self, mask: pa.Array | pa.ChunkedArray | Sequence[bool]) -> Documents:
        """Keep the documents where ``mask`` is true (nulls count as false)."""
        mask_array = _as_chunked(mask)
        if len(mask_array) != len(self):
            raise ValueError(f"mask has {len(mask_array)} values for {len(self)} documents")
        keep = pc.fill_null(mask_array, False)
        return Documents(
            self._table.filter(keep),
            {n: pc.filter(c, keep) for n, c in self._properties.items()},
            self._rejections,
        )

    def take(self, indices: Sequence[int] | pa.Array) -> Documents:
        idx = pa.array(indices, type=pa.int64()) if not isinstance(indices, pa.Array) else indices
        return Documents(
            self._table.take(idx),
            {n: c.take(idx) for n, c in self._properties.items()},
            self._rejections,
        )

    def _slice(self, offset: int, length: int) -> Documents:
        # A slice is a view of some documents; the batch's rejections stay with the batch,
        # so iterating a batch in slices never reports the same rejection twice.
        return Documents(
            self._table.slice(offset, length),
            {n: c.slice(offset, length) for n, c in self._properties.items()},
        )

    # -- display --------------------------------------------------------------------

    def __repr__(self) -> str:
        columns = ", ".join(f"{f.name}: {f.type}" for f in self._table.schema)
        props = f", properties=[{', '.join(self._properties)}]" if self._properties else ""
        rejected = f", rejected={len(self._rejections)}" if self._rejections else ""
        return f"<Documents n={len(self)} [{columns}]{props}{rejected}>"

    def _repr_html_(self) -> str:
        return documents_html(self._table, self._properties, self._rejections)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Documents):
            return NotImplemented
        return (
            self._table.equals(other._table)
            and self._properties.keys() == other._properties.keys()
            and all(c.equals(other._properties[n]) for n, c in self._properties.items())
        )

    __hash__ = None  # type: ignore[assignment]


def _as_chunked(values: Any) -> pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    return pa.chunked_array([pa.array(list(values))])


def _normalise_index(index: int, length: int) -> int:
    if index < 0:
        index += length
    if not 0 <= index < length:
        raise IndexError(f"document {index} out of range for a batch of {length}")
    return index


def _concat_property(parts: Sequence[Documents], name: str) -> pa.ChunkedArray:
    """One property across batches; batches without it contribute nulls of the common type."""
    present = [p._properties[name].type for p in parts if name in p._properties]
    common = next((t for t in present if not pa.types.is_null(t)), present[0])
    chunks: list[pa.Array] = []
    for part in parts:
        column = part._properties.get(name)
        if column is None:
            chunks.append(pa.nulls(len(part), type=common))
        else:
            chunks.extend(column.cast(common).chunks)
    return pa.chunked_array(chunks, type=common)
