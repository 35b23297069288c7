"""Transaction sets to one Arrow table, built column by column (no dict per segment).

Every segment's element values already sit in a block's string array (``scan``)
and every set's placement in the definition comes from a cached ``Plan``. Here
numpy turns the plans of a whole batch into, per definition node, the segments
it holds and the parent occurrence each belongs to; Arrow ``take`` then gathers
element values into struct fields, and list offsets come from counts. The shape
is the one the package docstring describes (``XXnn`` fields, ``_mm`` components,
lists for repeating segments and loops, null where absent).

Sets of different types (an 810 and an 850 in one interchange) are built as one
table per definition and concatenated with their columns unified; where the
definitions disagree on whether a segment or loop repeats, the reader has already
made it a list for both (``plan.shape_of(lists=...)``), so the union always exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.formats._gather import place_plans, ranges
from atomnb.formats.x12.plan import Plan, Shape
from atomnb.formats.x12.scan import Block

__all__ = ["SetRef", "build_table"]

Ints = npt.NDArray[np.int64]
_ELEMENTS = pa.list_(pa.string())
GENERIC_TYPE = pa.list_(pa.struct([("id", pa.string()), ("elements", _ELEMENTS)]))
UNKNOWN_TYPE = pa.list_(
    pa.struct([("position", pa.int64()), ("id", pa.string()), ("elements", _ELEMENTS)])
)


@dataclass(slots=True)
class SetRef:
    """One transaction set to deliver: where its segments are and how they are placed."""

    block: Block
    st: int  # index of the ST segment in the block
    body_end: int  # index after the last body segment (the SE, or the end of the set)
    shape: Shape | None  # None: no definition, read generically
    plan: Plan | None


class _Batch:
    """The token arrays of every block the batch's sets come from, joined."""

    def __init__(self, sets: Sequence[SetRef]) -> None:
        blocks: dict[int, Block] = {}
        for ref in sets:
            blocks.setdefault(id(ref.block), ref.block)
        self.blocks = list(blocks.values())
        self.seg_base: dict[int, int] = {}
        first = self.blocks[0].delimiters
        if len(self.blocks) == 1:  # the usual batch: the block's own arrays, no copies
            block = self.blocks[0]
            self.seg_base[id(block)] = 0
            self.tok_start: Ints = block.tok_start
            self.tok_count: Ints = block.tok_count
            self.has_component = block.has_component
            self.tokens: pa.Array = block.tokens
            self.block_of = np.zeros(len(block), dtype=np.int64)
            self.uniform = True
            return
        seg_base, tok_base = 0, 0
        tok_starts, tok_counts, comps, tokens = [], [], [], []
        for block in self.blocks:
            self.seg_base[id(block)] = seg_base
            tok_starts.append(block.tok_start + tok_base)
            tok_counts.append(block.tok_count)
            comps.append(block.has_component)
            tokens.append(block.tokens)
            seg_base += len(block)
            tok_base += len(block.tokens)
        self.tok_start = np.concatenate(tok_starts)
        self.tok_count = np.concatenate(tok_counts)
        self.has_component = np.concatenate(comps)
        self.tokens = pa.concat_arrays(tokens)
        # per segment: which block's delimiters apply (only consulted when they differ)
        self.block_of = np.repeat(np.arange(len(self.blocks)), [len(b) for b in self.blocks])
        self.uniform = all(
            (b.delimiters.component, b.delimiters.repeats) == (first.component, first.repeats)
            for b in self.blocks
        )

    def seg(self, ref: SetRef, index: int) -> int:
        return self.seg_base[id(ref.block)] + index

    def st_positions(self, sets: Sequence[SetRef]) -> Ints:
        """Each set's ST as an index into the joined segments."""
        if len(self.seg_base) == 1:
            return np.fromiter((ref.st for ref in sets), np.int64, len(sets))
        base = self.seg_base
        return np.fromiter((base[id(ref.block)] + ref.st for ref in sets), np.int64, len(sets))

    def take(self, indices: Ints, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
        if valid is None:
            return self.tokens.take(pa.array(indices))
        return self.tokens.take(pa.array(np.where(valid, indices, 0), mask=~valid))


def build_table(sets: Sequence[SetRef]) -> pa.Table:
    """One row per set, in order (see the module docstring)."""
    if not sets:
        return pa.table({})
    batch = _Batch(sets)
    groups: dict[int, list[int]] = {}
    for row, ref in enumerate(sets):
        groups.setdefault(id(ref.shape), []).append(row)
    tables = []
    for rows in groups.values():
        members = [sets[r] for r in rows]
        shape = members[0].shape
        tables.append(
            _generic(batch, members) if shape is None else _defined(batch, members, shape)
        )
    if len(tables) == 1:
        return tables[0]
    table = pa.concat_tables(tables, promote_options="permissive")
    order = np.concatenate([np.array(rows) for rows in groups.values()])
    if bool((np.diff(order) > 0).all()):  # each type's rows follow the other's: in order
        return table
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order))
    return table.take(pa.array(inverse))


def _head_columns(batch: _Batch, st: Ints) -> dict[str, pa.Array]:
    ids = batch.take(batch.tok_start[st] + 1, batch.tok_count[st] > 1)
    return {
        "transaction_set": pc.fill_null(ids, ""),
        "ST": _segment_struct(batch, st, "ST", frozenset()),
    }


def _generic(batch: _Batch, sets: Sequence[SetRef]) -> pa.Table:
    st = batch.st_positions(sets)
    columns = _head_columns(batch, st)
    starts = st + 1
    lengths = np.array([ref.body_end - ref.st - 1 for ref in sets], dtype=np.int64)
    segments = ranges(starts, lengths)
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = pa.StructArray.from_arrays(
        [batch.take(batch.tok_start[segments]), _element_lists(batch, segments)],
        names=["id", "elements"],
    )
    columns["segments"] = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)
    return pa.table(columns)


def _defined(batch: _Batch, sets: Sequence[SetRef], shape: Shape) -> pa.Table:
    nodes = shape.nodes
    count = len(sets)
    plans = [ref.plan for ref in sets if ref.plan is not None]
    assert len(plans) == count  # every defined set was planned when it was scanned
    parents = np.array([n.parent for n in nodes], dtype=np.int64)
    st = batch.st_positions(sets)
    body = st + 1
    placed = place_plans(plans, parents, body)
    parent, segment, bounds, counts = placed.parent, placed.segment, placed.bounds, placed.counts
    totals = counts.sum(axis=0)
    built: dict[int, tuple[pa.Array, Ints]] = {}  # node -> (values, parent occurrence)
    for current in reversed(nodes[1:]):
        lo, hi = int(bounds[current.index]), int(bounds[current.index + 1])
        if lo == hi:
            continue
        if current.is_loop:
            values = _struct(
                [(nodes[c], built[c]) for c in current.children if c in built], hi - lo
            )
        else:
            values = _segment_struct(batch, segment[lo:hi], current.segment, current.repeating)
        built[current.index] = (values, parent[lo:hi])
    columns = _head_columns(batch, st)
    for child in nodes[0].children:
        if child in built:
            columns[nodes[child].name] = _attach(nodes[child].many, *built[child], count)
    unknown = _unknown(batch, sets, body)
    if unknown is not None:
        columns["unknown"] = unknown
    del totals
    return pa.table(columns)


def _struct(children: list[tuple[object, tuple[pa.Array, Ints]]], length: int) -> pa.Array:
    arrays, names = [], []
    for node, (values, parent) in children:
        arrays.append(_attach(node.many, values, parent, length))  # type: ignore[attr-defined]
        names.append(node.name)  # type: ignore[attr-defined]
    return pa.StructArray.from_arrays(arrays, names=names)


def _attach(many: bool, values: pa.Array, parent: Ints, length: int) -> pa.Array:
    """Child occurrences as a field of ``length`` parent occurrences: a list or a struct."""
    if many:
        counts = np.bincount(parent, minlength=length)
        offsets = np.zeros(length + 1, dtype=np.int32)
        np.cumsum(counts, out=offsets[1:])
        mask = pa.array(counts == 0)
        return pa.ListArray.from_arrays(pa.array(offsets), values, mask=mask)
    if len(parent) == length and bool((parent == np.arange(length)).all()):
        return values  # one occurrence under every parent, in order: nothing to gather
    index = np.full(length, -1, dtype=np.int64)
    index[parent] = np.arange(len(parent))
    return values.take(pa.array(np.maximum(index, 0), mask=index < 0))


def _segment_struct(
    batch: _Batch, segments: Ints, segment_id: str, repeating: frozenset[int]
) -> pa.Array:
    """The struct of each segment: ``XXnn`` fields, ``XXnn_mm`` components, repeats as lists."""
    start = batch.tok_start[segments]
    count = batch.tok_count[segments]
    arrays: list[pa.Array] = []
    names: list[str] = []
    size = len(segments)
    ks = np.arange(1, int(count.max()) if size else 1, dtype=np.int64)
    # Every field of every segment at once (row k-1 holds element k): one gather for the
    # plain values of all fields, then zero-copy slices, instead of one gather per field.
    valid_all = count[None, :] > ks[:, None]
    index_all = np.where(valid_all, start[None, :] + ks[:, None], 0)
    composite_all = batch.has_component[index_all] & valid_all
    plain_all = valid_all & ~composite_all
    plain_any: npt.NDArray[np.bool_] = np.asarray(plain_all.any(axis=1))
    gathered = batch.take(index_all.ravel(), plain_all.ravel()) if plain_any.any() else None
    for row, k in enumerate(ks.tolist()):
        key = f"{segment_id}{k:02d}"
        valid = valid_all[row]
        index = index_all[row]
        if k in repeating:
            separators = _separators(batch, segments, "repeats")
            if separators is not None:
                repetitions = _split(batch.take(index, valid), separators)
                arrays.append(repetitions)
                names.append(key)
                for sub, column in enumerate(_repeated_components(batch, repetitions), 1):
                    arrays.append(column)
                    names.append(f"{key}_{sub:02d}")
                continue
        composite = composite_all[row]
        if plain_any[row]:
            assert gathered is not None
            arrays.append(gathered.slice(row * size, size))
            names.append(key)
        if composite.any():
            separators = _separators(batch, segments[composite], "component")
            assert separators is not None
            parts = _split(batch.tokens.take(pa.array(index[composite])), separators)
            for sub, column in enumerate(_list_columns(parts), 1):
                arrays.append(_scatter(column, composite))
                names.append(f"{key}_{sub:02d}")
    if not arrays:
        return pa.array([{}] * len(segments), pa.struct([]))
    return pa.StructArray.from_arrays(arrays, names=names)


def _separators(batch: _Batch, segments: Ints, which: str) -> str | list[str] | None:
    """The separator for these segments: one character, or one per segment if blocks differ."""
    if batch.uniform:
        value: str | None = getattr(batch.blocks[0].delimiters, which)
        return value
    chars = [getattr(batch.blocks[b].delimiters, which) for b in batch.block_of[segments]]
    if any(c is None for c in chars):
        return None if all(c is None for c in chars) else [c or "\x00" for c in chars]
    return chars


def _split(values: pa.Array, separator: str | list[str]) -> pa.Array:
    if isinstance(separator, str):
        return pc.split_pattern(values, separator)
    texts = values.to_pylist()
    return pa.array(
        [None if t is None else t.split(s) for t, s in zip(texts, separator, strict=True)],
        _ELEMENTS,
    )


def _repeated_components(batch: _Batch, repetitions: pa.ListArray) -> list[pa.Array]:
    """A repeated composite's components: ``XXnn_mm`` holds component mm of each repetition.

    ``CTX*SITUATIONAL TRIGGER^SITUATIONAL TRIGGER:2`` (``^`` repeats, ``:`` separates
    components) gives CTX01 ``["SITUATIONAL TRIGGER", "SITUATIONAL TRIGGER:2"]``, CTX01_01
    ``["SITUATIONAL TRIGGER", "SITUATIONAL TRIGGER"]`` and CTX01_02 ``[None, "2"]``. None
    when no repetition holds a component separator (a simple element that repeats).
    """
    component = batch.blocks[0].delimiters.component if batch.uniform else None
    values = repetitions.values
    if not component or not pc.any(pc.match_substring(values, component)).as_py():
        return []
    offsets = repetitions.offsets
    missing = repetitions.is_null()
    return [
        pa.ListArray.from_arrays(offsets, column, mask=missing)
        for column in _list_columns(pc.split_pattern(values, component))
    ]


def _list_columns(lists: pa.Array) -> list[pa.Array]:
    """Column j of a list array (element j of each list, null where the list is shorter)."""
    offsets = np.asarray(lists.offsets)
    lengths = np.diff(offsets)
    flat = lists.values
    columns = []
    for j in range(int(lengths.max()) if len(lengths) else 0):
        valid = lengths > j
        index = np.where(valid, offsets[:-1] + j, 0)
        columns.append(flat.take(pa.array(index, mask=~valid)))
    return columns


def _scatter(values: pa.Array, where: npt.NDArray[np.bool_]) -> pa.Array:
    index = np.cumsum(where.view(np.int8), dtype=np.int64) - 1
    return values.take(pa.array(np.maximum(index, 0), mask=~where))


def _element_lists(batch: _Batch, segments: Ints) -> pa.Array:
    counts = batch.tok_count[segments] - 1
    values = batch.take(ranges(batch.tok_start[segments] + 1, counts))
    offsets = np.zeros(len(segments) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _unknown(batch: _Batch, sets: Sequence[SetRef], body: Ints) -> pa.Array | None:
    per_set = [ref.plan.unknown if ref.plan is not None else [] for ref in sets]
    if not any(per_set):
        return None
    lengths = np.array([len(u) for u in per_set], dtype=np.int64)
    local = np.array([p for u in per_set for p in u], dtype=np.int64)
    segments = np.repeat(body, lengths) + local
    values = pa.StructArray.from_arrays(
        [
            pa.array(local + 2, pa.int64()),
            batch.take(batch.tok_start[segments]),
            _element_lists(batch, segments),
        ],
        names=["position", "id", "elements"],
    )
    offsets = np.zeros(len(sets) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(lengths == 0))
