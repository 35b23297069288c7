"""Reading: iterparse over a hardened parser, elements to records, records to Arrow batches."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pyarrow as pa
from lxml import etree

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError
from atomnb.formats.base import Source, with_file_property
from atomnb.formats.xml._common import NAMESPACES_KEY, RECORD_KEY, TEXT, WRAPPER_KEY, XML_NS
from atomnb.formats.xml._errors import syntax_error
from atomnb.formats.xml._guard import MAX_ATTRIBUTES, TagGuard


def read_batches(
    source: Source,
    batch_size: int,
    record_path: str | None,
    repeating: tuple[str, ...],
    max_attributes: int = MAX_ATTRIBUTES,
) -> Iterator[Documents]:
    """Batches of at most ``batch_size`` documents, one per record element."""
    reader = _Reader(source, batch_size, _RecordPath.parse(record_path), repeating)
    return reader.batches(max_attributes)


class _Refused(Exception):
    """A record that is well-formed but cannot be read (an unexpanded entity reference)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class _Shape:
    """What the batch has shown of one element path: struct or string, list or single."""

    path: tuple[str, ...]
    complex: bool = False
    repeating: bool = False
    text: bool = False
    attributes: dict[str, None] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    children: dict[str, _Shape] = field(default_factory=dict)
    emitted: bool = False


@dataclass(frozen=True)
class _Node:
    attributes: tuple[tuple[str, str], ...]
    text: str | None
    children: tuple[tuple[str, _Node], ...]


@dataclass(frozen=True)
class _RecordPath:
    steps: tuple[str, ...]
    absolute: bool

    @classmethod
    def parse(cls, text: str | None) -> _RecordPath | None:
        if text is None:
            return None
        if not isinstance(text, str) or not text.strip("/ "):
            raise FormatError(f"record_path must name an element, got {text!r}")
        absolute = text.startswith("/") and not text.startswith("//")
        steps = tuple(text.strip().lstrip("/").split("/"))
        if any(not step or any(c in step for c in "[]@()=") for step in steps):
            raise FormatError(
                f"record_path {text!r} is not supported",
                hint="use element names separated by '/', e.g. '/Orders/Order' or 'Order'",
            )
        return cls(steps, absolute)

    def matches(self, stack: list[str]) -> bool:
        n = len(self.steps)
        if len(stack) < n or (self.absolute and len(stack) != n):
            return False
        return all(_step_matches(s, q) for s, q in zip(self.steps, stack[-n:], strict=True))


def _step_matches(step: str, qname: str) -> bool:
    return step in ("*", qname) or (":" not in step and qname.rpartition(":")[2] == step)


class _Reader:
    """One pass over one source: namespaces, shapes and the current batch."""

    def __init__(
        self,
        source: Source,
        batch_size: int,
        record_path: _RecordPath | None,
        repeating: tuple[str, ...],
    ) -> None:
        self.source = source
        self.batch_size = batch_size
        self.record_path = record_path
        self.repeating = repeating
        self.prefix_of: dict[str, str] = {XML_NS: "xml"}
        self.namespaces: dict[str, str] = {}
        self.attribute_prefix: dict[str, str] = {}
        self.shape = _Shape(path=(), complex=True)
        self.record_name: str | None = None
        self.wrapper: list[str] | None = None
        self.late_changes: list[str] = []
        self.started = False

    # namespaces --------------------------------------------------------------

    def declare(self, prefix: str | None, uri: str) -> None:
        if uri in self.prefix_of:
            return
        prefix = prefix or ""
        # Unprefixed names mean the root's default namespace; one declared deeper down
        # (an embedded vocabulary) gets a prefix of its own so the root is not moved into it.
        if prefix in self.namespaces or (not prefix and self.started):
            stem, n = prefix or "ns", 1
            while f"{stem}{n}" in self.namespaces:
                n += 1
            prefix = f"{stem}{n}"
        self.prefix_of[uri] = prefix
        self.namespaces[prefix] = uri

    def qname(self, tag: str, *, attribute: bool = False) -> str:
        if not tag.startswith("{"):
            return tag
        uri, _, local = tag[1:].partition("}")
        if uri not in self.prefix_of:
            self.declare(None, uri)
        prefix = self.prefix_of[uri]
        if attribute and not prefix:
            # An attribute in the default namespace's URI needs a prefix of its own.
            prefix = self.attribute_prefix.get(uri, "")
            if not prefix:
                n = 1
                while f"ns{n}" in self.namespaces:
                    n += 1
                prefix = self.attribute_prefix[uri] = f"ns{n}"
                self.namespaces[prefix] = uri
        return f"{prefix}:{local}" if prefix else local

    # parsing -----------------------------------------------------------------

    def batches(self, max_attributes: int) -> Iterator[Documents]:
        etree.clear_error_log()
        try:
            with self.source.open() as handle:
                guarded = TagGuard(handle, self.source.name, max_attributes=max_attributes)
                yield from self._parse(guarded)
        except etree.XMLSyntaxError as exc:
            raise syntax_error(exc, self.source) from None

    def _parse(self, handle: TagGuard) -> Iterator[Documents]:
        events = etree.iterparse(
            handle,
            events=("start", "end", "start-ns"),
            resolve_entities=False,
            load_dtd=False,
            dtd_validation=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
        )
        stack: list[str] = []
        record_depth: int | None = None
        checked = False
        index = 0
        nodes: list[_Node] = []
        rejections: list[Rejection] = []
        # Elements are typed Any here: lxml's union of event payloads is narrowed by ``event``.
        for event, item in cast("Iterator[tuple[str, Any]]", events):
            if event == "start-ns":
                self.declare(*item)
                continue
            if event == "start":
                if not checked:
                    checked = self.started = True
                    _refuse_declared_entities(item, self.source)
                stack.append(self.qname(item.tag))
                if record_depth is None and self._is_record(stack):
                    record_depth = len(stack)
                    if self.wrapper is None:
                        self.wrapper = stack[:-1]
                        self.record_name = stack[-1]
                continue
            # "end"
            if record_depth == len(stack):
                record_depth = None
                try:
                    nodes.append(self._take(item))
                except _Refused as problem:
                    if self.record_path is None:
                        line = f", line {problem.line}" if problem.line else ""
                        where = f"{self.source.name}{line}"
                        raise FormatError(problem.message, where=where) from None
                    rejections.append(self._rejection(problem, item, index))
                index += 1
                _release(item)
                if len(nodes) >= self.batch_size:
                    yield self._batch(nodes, rejections)
                    nodes, rejections = [], []
            elif record_depth is None:
                _release(item)
            stack.pop()
        if nodes or rejections:
            yield self._batch(nodes, rejections)

    def _is_record(self, stack: list[str]) -> bool:
        if self.record_path is None:
            return len(stack) == 1
        return self.record_path.matches(stack)

    def _take(self, element: Any) -> _Node:
        entity = next(element.iter(etree.Entity), None)
        if entity is not None:
            raise _Refused(
                f"entity reference {entity.text} refused: atomnb expands no entities "
                "and loads no DTD",
                entity.sourceline,
            )
        return self._observe(element, self.shape)

    def _rejection(self, problem: _Refused, element: Any, index: int) -> Rejection:
        line = problem.line or element.sourceline
        return Rejection(
            message=problem.message,
            where=f"{self.source.name}, line {line}" if line else self.source.name,
            rule="xml.entity",
            index=index,
            raw=etree.tostring(element, encoding="UTF-8", with_tail=False),
        )

    # shapes -------------------------------------------------------------------

    def _observe(self, element: Any, shape: _Shape) -> _Node:
        """Convert one element to a node and teach ``shape`` what it looks like."""
        attributes = tuple(
            (self.qname(name, attribute=True), value) for name, value in element.attrib.items()
        )
        for name, _ in attributes:
            shape.attributes.setdefault(name, None)
        children: list[tuple[str, _Node]] = []
        counts: dict[str, int] = {}
        pieces = [element.text or ""]
        for child in element:
            pieces.append(child.tail or "")
            if not isinstance(child.tag, str):  # comments or PIs the parser kept
                continue
            name = self.qname(child.tag)
            child_shape = shape.children.get(name)
            if child_shape is None:
                child_shape = self._new_child(shape, name, counts)
            counts[name] = counts.get(name, 0) + 1
            if counts[name] == 2:
                self._mark(child_shape, "repeating")
            children.append((name, self._observe(child, child_shape)))
        if children:
            kept = [p for p in pieces if p.strip()]
            text: str | None = "".join(kept) if kept else None
        else:
            text = element.text if element.text is not None else ""
        if text:
            shape.text = True
        if attributes or children:
            self._mark(shape, "complex")
        return _Node(attributes, text, tuple(children))

    def _new_child(self, shape: _Shape, name: str, seen: Mapping[str, int]) -> _Shape:
        path = (*shape.path, name)
        child = shape.children[name] = _Shape(path=path)
        child.repeating = any(_declared(entry, path) for entry in self.repeating)
        # Insert after the names this element has shown so far, to keep document order.
        positions = [shape.order.index(known) for known in seen if known in shape.order]
        shape.order.insert(max(positions) + 1 if positions else 0, name)
        return child

    def _mark(self, shape: _Shape, what: str) -> None:
        if getattr(shape, what):
            return
        setattr(shape, what, True)
        if shape.emitted:
            self.late_changes.append(f"{'/'.join(shape.path)} ({what})")

    def _batch(self, nodes: list[_Node], rejections: list[Rejection]) -> Documents:
        if self.late_changes:
            changes = ", ".join(self.late_changes)
            raise FormatError(
                f"element(s) changed shape after an earlier batch was read: {changes}",
                where=self.source.name,
                hint="declare repeating elements up front with repeating=[...]; for an element "
                "that only later gains attributes or children, read with a larger batch_size",
            )
        fields = _fields(self.shape)
        _freeze(self.shape)
        rows = [_value(node, self.shape) for node in nodes]
        if fields:
            table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
        else:  # empty elements: no columns, but still one row per document
            empty = pa.array(rows, type=pa.struct([]))
            table = pa.Table.from_batches([pa.RecordBatch.from_struct_array(empty)])
        metadata = {
            NAMESPACES_KEY: json.dumps(self.namespaces).encode(),
            RECORD_KEY: (self.record_name or "").encode(),
            WRAPPER_KEY: json.dumps(self.wrapper or []).encode(),
        }
        documents = with_file_property(table.replace_schema_metadata(metadata), self.source)
        return documents.with_rejections(rejections) if rejections else documents


def _declared(entry: str, path: tuple[str, ...]) -> bool:
    steps = tuple(entry.strip("/").split("/"))
    if len(steps) > len(path):
        return False
    return all(_step_matches(s, q) for s, q in zip(steps, path[-len(steps) :], strict=True))


def _freeze(shape: _Shape) -> None:
    shape.emitted = True
    for child in shape.children.values():
        _freeze(child)


def _release(element: Any) -> None:
    """Free a finished element and its earlier siblings (the lxml iterparse idiom)."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _fields(shape: _Shape) -> list[pa.Field]:
    fields = [pa.field(f"@{name}", pa.string()) for name in shape.attributes]
    if shape.text:
        fields.append(pa.field(TEXT, pa.string()))
    for name in shape.order:
        child = shape.children[name]
        kind = pa.struct(_fields(child)) if child.complex else pa.string()
        fields.append(pa.field(name, pa.list_(kind) if child.repeating else kind))
    return fields


def _value(node: _Node, shape: _Shape) -> Any:
    if not shape.complex:
        return node.text or ""
    record: dict[str, Any] = dict.fromkeys((f"@{name}" for name in shape.attributes), None)
    for name, value in node.attributes:
        record[f"@{name}"] = value
    if shape.text:
        record[TEXT] = node.text or None
    grouped: dict[str, list[_Node]] = {}
    for name, child in node.children:
        grouped.setdefault(name, []).append(child)
    for name in shape.order:
        child_shape = shape.children[name]
        items = [_value(child, child_shape) for child in grouped.get(name, ())]
        if child_shape.repeating:
            record[name] = items or None
        else:
            record[name] = items[0] if items else None
    return record


def _refuse_declared_entities(element: Any, source: Source) -> None:
    dtd = element.getroottree().docinfo.internalDTD
    if dtd is None:
        return
    declared = [entity.name for entity in dtd.iterentities()]
    if declared:
        shown = ", ".join(declared[:5]) + (" …" if len(declared) > 5 else "")
        raise FormatError(
            f"entity expansion refused: the DOCTYPE declares entities ({shown})",
            where=source.name,
            hint="atomnb never expands DTD entities (billion-laughs and XXE protection); "
            "remove the <!ENTITY> declarations",
        )
