"""EDIFACT messages to one Arrow table, column by column, with placements cached per tag sequence.

The grouping rule is the definitions module's (greedy, a trigger segment starts
the next group occurrence, only "max 1" enforced); it depends only on the
sequence of tags, so it runs once per distinct sequence. Component values sit
in the blocks' binary arrays (``scan``); they are decoded per codec in one go
(UTF-8 and ASCII need no copy, single-byte character sets go through a byte
table) and gathered into ``TAGnn`` / ``TAGnn_mm`` struct fields with Arrow
``take``. Messages whose definitions disagree on whether a segment repeats are
given lists for both (``lists``), so one table holds every message type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from atomnb.formats._gather import place_plans, ranges
from atomnb.formats.edifact.block import Block
from atomnb.formats.edifact.definitions import Entry, MessageDefinition

__all__ = ["MessageRef", "Placement", "Shape", "build_table", "list_paths", "place", "shape_of"]

Ints = npt.NDArray[np.int64]
Path = tuple[str, ...]
_COMPONENTS = pa.list_(pa.string())
GENERIC_TYPE = pa.list_(pa.struct([("tag", pa.string()), ("elements", pa.list_(_COMPONENTS))]))


@dataclass(frozen=True)
class Node:
    index: int
    name: str
    parent: int
    tag: str
    is_group: bool
    many: bool
    repeats: bool  # the definition lets it occur more than once
    children: tuple[int, ...]


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key
class Shape:
    definition: MessageDefinition
    nodes: tuple[Node, ...]


def shape_of(definition: MessageDefinition, lists: frozenset[Path] = frozenset()) -> Shape:
    nodes: list[Node] = []

    def add(entry: Entry | None, parent: int, path: Path) -> int:
        index = len(nodes)
        nodes.append(None)  # type: ignore[arg-type]  # children are numbered after their parent
        entries = definition.entries if entry is None else entry.children
        children = tuple(add(child, index, (*path, child.name)) for child in entries)
        if entry is None:
            nodes[index] = Node(index, definition.message, -1, "", True, False, False, children)
        else:
            many = entry.is_group or entry.repeats or path in lists
            nodes[index] = Node(
                index, entry.name, parent, entry.tag, entry.is_group, many, entry.repeats, children
            )
        return index

    add(None, -1, ())
    return Shape(definition, tuple(nodes))


def list_paths(definition: MessageDefinition) -> tuple[frozenset[Path], frozenset[Path]]:
    """(paths that are lists, paths that are single structs) in this definition."""
    many: set[Path] = set()
    single: set[Path] = set()

    def walk(entries: tuple[Entry, ...], path: Path) -> None:
        for entry in entries:
            here = (*path, entry.name)
            (many if entry.is_group or entry.repeats else single).add(here)
            walk(entry.children, here)

    walk(definition.entries, ())
    return frozenset(many), frozenset(single)


@dataclass
class Placement:
    node: Ints
    parent: Ints
    segment: Ints  # body position (0-based after UNH), -1 for a group occurrence
    counts: Ints
    #: (body position, tag before it or None) of the first segment with no place
    not_allowed: tuple[int, str | None] | None = None


@lru_cache(maxsize=4096)
def place(shape: Shape, tags: tuple[str, ...]) -> Placement:
    """Where each body segment goes (the definitions module's rule, on tags only)."""
    nodes = shape.nodes
    counts = [0] * len(nodes)
    counts[0] = 1
    occ_node: list[int] = []
    occ_parent: list[int] = []
    occ_segment: list[int] = []

    def record(node: int, parent: int, segment: int) -> int:
        occ_node.append(node)
        occ_parent.append(parent)
        occ_segment.append(segment)
        counts[node] += 1
        return counts[node] - 1

    def level(node: Node, occurrence: int, position: int, is_group: bool) -> int:
        seen = [0] * len(node.children)
        current = 0
        if is_group:
            record(node.children[0], occurrence, position)
            seen[0], position, current = 1, position + 1, 1
        while position < len(tags):
            index = None
            for i in range(current, len(node.children)):
                child = nodes[node.children[i]]
                if child.tag == tags[position] and (child.repeats or seen[i] == 0):
                    index = i
                    break
            if index is None:
                break
            child = nodes[node.children[index]]
            if child.is_group:
                inner = record(child.index, occurrence, -1)
                position = level(child, inner, position, True)
            else:
                record(child.index, occurrence, position)
                position += 1
            seen[index] += 1
            current = index
        return position

    end = level(nodes[0], 0, 0, False)
    placement = Placement(
        np.array(occ_node, dtype=np.int64),
        np.array(occ_parent, dtype=np.int64),
        np.array(occ_segment, dtype=np.int64),
        np.array(counts, dtype=np.int64),
    )
    if end < len(tags):
        placement.not_allowed = (end, tags[end - 1] if end else None)
    return placement


@dataclass(slots=True)
class MessageRef:
    block: Block
    first: int  # index of UNH in the block
    body_end: int  # index after the last body segment (the UNT, or after the last segment)
    codec: str
    shape: Shape | None  # None: read generically
    placement: Placement | None


class _Tokens:
    """The batch's blocks joined, with component values decoded by one codec."""

    def __init__(self, blocks: list[Block], codec: str) -> None:
        self.seg_base: dict[int, int] = {}
        if len(blocks) == 1:  # the usual batch: the block's own arrays, decoded once per block
            block = blocks[0]
            self.seg_base[id(block)] = 0
            self.seg_elem_start: Ints = block.seg_elem_start
            self.seg_elem_count: Ints = block.seg_elem_count
            self.elem_start: Ints = block.elem_start
            self.elem_count: Ints = block.elem_count
            decoded = block.decoded.get(codec)
            if decoded is None:
                decoded = block.decoded[codec] = decode(block.comps, codec)
            self.values = decoded
            return
        seg_base = elem_base = comp_base = 0
        seg_start, seg_count, elem_start, elem_count, comps = [], [], [], [], []
        for block in blocks:
            self.seg_base[id(block)] = seg_base
            seg_start.append(block.seg_elem_start + elem_base)
            seg_count.append(block.seg_elem_count)
            elem_start.append(block.elem_start + comp_base)
            elem_count.append(block.elem_count)
            comps.append(block.comps)
            seg_base += len(block)
            elem_base += len(block.elem_start)
            comp_base += len(block.comps)
        self.seg_elem_start = np.concatenate(seg_start)
        self.seg_elem_count = np.concatenate(seg_count)
        self.elem_start = np.concatenate(elem_start)
        self.elem_count = np.concatenate(elem_count)
        binary = comps[0] if len(comps) == 1 else pa.concat_arrays(comps)
        self.values = decode(binary, codec)

    def positions(self, messages: Sequence[MessageRef]) -> Ints:
        """Each message's UNH as an index into the joined segments."""
        if len(self.seg_base) == 1:
            return np.fromiter((m.first for m in messages), np.int64, len(messages))
        base = self.seg_base
        return np.fromiter((base[id(m.block)] + m.first for m in messages), np.int64, len(messages))

    def take(self, indices: Ints, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
        if valid is None:
            return self.values.take(pa.array(indices))
        return self.values.take(pa.array(np.where(valid, indices, 0), mask=~valid))


def decode(binary: pa.Array, codec: str) -> pa.Array:
    """Binary component values as strings in ``codec`` (no copy for UTF-8 and plain ASCII)."""
    offsets_buffer, data_buffer = binary.buffers()[1], binary.buffers()[2]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[: len(binary) + 1]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)[: offsets[-1]]
        if data_buffer is not None
        else np.empty(0, dtype=np.uint8)
    )
    name = codec.lower().replace("_", "-")
    if name in ("utf-8", "utf8", "ascii", "us-ascii") or not data.size or data.max() < 0x80:
        return pa.Array.from_buffers(pa.string(), len(binary), [None, offsets_buffer, data_buffer])
    table = _byte_lengths(name)
    if table is None:  # a multi-byte codec: value by value
        return pa.array([None if v is None else v.decode(codec) for v in binary.to_pylist()])
    raw = data.tobytes()
    text = raw.decode(codec, errors="replace").encode("utf-8")
    sums = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(table[data], out=sums[1:])
    new_offsets = sums[offsets].astype(np.int32)
    return pa.Array.from_buffers(
        pa.string(), len(binary), [None, pa.py_buffer(new_offsets), pa.py_buffer(text)]
    )


@lru_cache(maxsize=64)
def _byte_lengths(codec: str) -> npt.NDArray[np.int64] | None:
    """UTF-8 length of each byte decoded by a single-byte codec; None for other codecs."""
    chars = bytes(range(256)).decode(codec, errors="replace")
    if len(chars) != 256:
        return None
    return np.array([len(c.encode("utf-8")) for c in chars], dtype=np.int64)


def build_table(messages: Sequence[MessageRef]) -> pa.Table:
    """One row per message, in order."""
    if not messages:
        return pa.table({})
    groups: dict[tuple[int, str], list[int]] = {}
    blocks: dict[tuple[int, str], dict[int, Block]] = {}
    for row, ref in enumerate(messages):
        key = (id(ref.shape), ref.codec)
        rows = groups.get(key)
        if rows is None:
            rows = groups[key] = []
            blocks[key] = {}
        rows.append(row)
        blocks[key][id(ref.block)] = ref.block
    tables = []
    for key, rows in groups.items():
        members = messages if len(groups) == 1 else [messages[r] for r in rows]
        tokens = _Tokens(list(blocks[key].values()), members[0].codec)
        unh = tokens.positions(members)
        shape = members[0].shape
        if shape is None:
            tables.append(_generic(tokens, members, unh))
        else:
            tables.append(_defined(tokens, members, shape, unh))
    if len(tables) == 1:
        return tables[0]
    table = pa.concat_tables(tables, promote_options="permissive")
    order = np.concatenate([np.array(rows) for rows in groups.values()])
    if bool((np.diff(order) > 0).all()):  # each type's rows follow the other's: in order
        return table
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order))
    return table.take(pa.array(inverse))


def _head(tokens: _Tokens, unh: Ints) -> dict[str, pa.Array]:
    struct = _segment_struct(tokens, unh, "UNH")
    element = tokens.seg_elem_start[unh] + 2  # element 2 (S009), component 1: the type
    valid = tokens.seg_elem_count[unh] > 2
    message_type = tokens.take(tokens.elem_start[np.where(valid, element, 0)], valid)
    return {"message_type": message_type.fill_null(""), "UNH": struct}


def _generic(tokens: _Tokens, messages: Sequence[MessageRef], unh: Ints) -> pa.Table:
    columns = _head(tokens, unh)
    starts = unh + 1
    lengths = np.array([m.body_end - m.first - 1 for m in messages], dtype=np.int64)
    segments = ranges(starts, lengths)
    tag = tokens.take(tokens.elem_start[tokens.seg_elem_start[segments]])
    element_counts = tokens.seg_elem_count[segments] - 1
    elements = ranges(tokens.seg_elem_start[segments] + 1, element_counts)
    component_counts = tokens.elem_count[elements]
    values = tokens.take(ranges(tokens.elem_start[elements], component_counts))
    inner = pa.ListArray.from_arrays(pa.array(_offsets(component_counts)), values)
    middle = pa.ListArray.from_arrays(pa.array(_offsets(element_counts)), inner)
    structs = pa.StructArray.from_arrays([tag, middle], names=["tag", "elements"])
    columns["segments"] = pa.ListArray.from_arrays(pa.array(_offsets(lengths)), structs)
    return pa.table(columns)


def _defined(tokens: _Tokens, messages: Sequence[MessageRef], shape: Shape, unh: Ints) -> pa.Table:
    nodes = shape.nodes
    count = len(messages)
    placements = [m.placement for m in messages if m.placement is not None]
    assert len(placements) == count  # every defined message was placed when it was read
    parent_of = np.array([n.parent for n in nodes], dtype=np.int64)
    placed = place_plans(placements, parent_of, unh + 1)
    parent, segment, bounds = placed.parent, placed.segment, placed.bounds
    built: dict[int, tuple[pa.Array, Ints]] = {}
    for current in reversed(nodes[1:]):
        lo, hi = int(bounds[current.index]), int(bounds[current.index + 1])
        if lo == hi:
            continue
        if current.is_group:
            arrays, names = [], []
            for child in current.children:
                if child in built:
                    arrays.append(_attach(nodes[child].many, *built[child], hi - lo))
                    names.append(nodes[child].name)
            values = pa.StructArray.from_arrays(arrays, names=names)
        else:
            values = _segment_struct(tokens, segment[lo:hi], current.tag)
        built[current.index] = (values, parent[lo:hi])
    columns = _head(tokens, unh)
    for child in nodes[0].children:
        if child in built:
            columns[nodes[child].name] = _attach(nodes[child].many, *built[child], count)
    return pa.table(columns)


def _attach(many: bool, values: pa.Array, parent: Ints, length: int) -> pa.Array:
    if many:
        counts = np.bincount(parent, minlength=length)
        return pa.ListArray.from_arrays(
            pa.array(_offsets(counts)), values, mask=pa.array(counts == 0)
        )
    if len(parent) == length and bool((parent == np.arange(length)).all()):
        return values  # one occurrence under every parent, in order: nothing to gather
    index = np.full(length, -1, dtype=np.int64)
    index[parent] = np.arange(len(parent))
    return values.take(pa.array(np.maximum(index, 0), mask=index < 0))


def _segment_struct(tokens: _Tokens, segments: Ints, tag: str) -> pa.Array:
    """``TAGnn`` (component 1 of element nn) and ``TAGnn_mm`` fields of each segment."""
    first = tokens.seg_elem_start[segments]
    count = tokens.seg_elem_count[segments]
    indices: list[Ints] = []
    masks: list[npt.NDArray[np.bool_]] = []
    names: list[str] = []
    for e in range(1, int(count.max()) if len(count) else 1):
        present = count > e
        element = np.where(present, first + e, 0)
        components = np.where(present, tokens.elem_count[element], 0)
        starts = tokens.elem_start[element]
        for c in range(1, int(components.max()) + 1):
            indices.append(starts + c - 1)
            masks.append(components >= c)
            names.append(f"{tag}{e:02d}" if c == 1 else f"{tag}{e:02d}_{c:02d}")
    if not names:
        return pa.array([{}] * len(segments), pa.struct([]))
    # One gather for every field, then zero-copy slices (not one Arrow take per field).
    size = len(segments)
    gathered = tokens.take(np.concatenate(indices), np.concatenate(masks))
    arrays = [gathered.slice(i * size, size) for i in range(len(names))]
    return pa.StructArray.from_arrays(arrays, names=names)


def _offsets(counts: Ints) -> npt.NDArray[np.int32]:
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return offsets
