"""The grouped form: documents that start at one record type and nest the records under it."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from atomnb.documents import Documents, Rejection
from atomnb.formats.base import Source
from atomnb.formats.fixed.framing import Chunk, Facts, properties, where
from atomnb.formats.fixed.layout import Layout, RecordType
from atomnb.formats.fixed.parse import Parsed

__all__ = ["Grouper"]


class Grouper:
    """Turns records into documents that start at the ``group`` record type, nested by parent.

    A record of the group type opens a document; records that nest under it (by
    ``parent``, at any depth) join it; any other record closes it and becomes a
    document of its own. A document with a bad record is rejected whole, with the
    bytes of all its records, so a batch never goes on with an entry missing.
    """

    def __init__(self, layout: Layout, group: RecordType, source: Source, facts: Facts) -> None:
        self.layout = layout
        self.group = group
        self.source = source
        self.facts = facts
        self.columns = ["record_type", group.name] + [
            r.name
            for r in layout.record_types
            if r.name != group.name and not layout.descends(r.name, group.name)
        ]
        self.schema = pa.schema(
            [pa.field("record_type", pa.string())]
            + [
                pa.field(
                    name, layout.struct_type(layout.record_type(name), nested=name == group.name)
                )
                for name in self.columns[1:]
            ]
        )
        self.ready: list[tuple[dict[str, Any], int, list[int]]] = []
        self.rejected: list[Rejection] = []
        self.current: dict[str, Any] | None = None
        self.current_number = 0
        self.current_raw: list[bytes] = []
        self.current_lengths: list[int] = []
        self.current_problems: list[str] = []
        self.current_rule = ""
        self.stack: list[tuple[RecordType, dict[str, Any]]] = []
        self.ordinal = 0  # documents formed so far, good or rejected (a rejection's index)

    def _next(self) -> int:
        self.ordinal += 1
        return self.ordinal - 1

    def feed(self, parsed: Parsed, chunk: Chunk) -> None:
        values: dict[int, list[dict[str, Any]]] = {
            index: struct.to_pylist() for index, struct in parsed.structs.items()
        }
        for row, kind in enumerate(parsed.kinds):
            if kind == -2:
                continue
            number = chunk.first + row + 1
            raw = chunk.lines[row]
            problems = parsed.problems.get(row)
            record = self.layout.record_types[kind] if kind >= 0 else None
            if problems or record is None:
                messages = [p.message for p in problems or []]
                rule = problems[0].rule if problems else "fixed.record_type"
                if self.current is not None and (
                    record is None or self.layout.descends(record.name, self.group.name)
                ):
                    self.current_raw.append(raw)
                    self.current_problems += [f"{self._unit()} {number}: {m}" for m in messages]
                    self.current_rule = self.current_rule or rule
                    continue
                self._close()
                self.rejected.append(
                    Rejection(
                        "; ".join(messages),
                        where(self.source, self.facts, number),
                        rule,
                        index=self._next(),
                        raw=raw,
                    )
                )
                continue
            value = values[kind][parsed.rows[kind][row]]
            self._place(record, value, number, raw, parsed.lengths[row])

    def _place(
        self, record: RecordType, value: dict[str, Any], number: int, raw: bytes, length: int
    ) -> None:
        layout = self.layout
        if record.name == self.group.name:
            self._close()
            node = self._node(record, value)
            self.current, self.current_number, self.current_raw = node, number, [raw]
            self.current_lengths = [length]
            self.stack = [(record, node)]
            return
        if layout.descends(record.name, self.group.name):
            place = f"{self._unit()} {number}"
            if self.current is None:
                self.rejected.append(
                    Rejection(
                        f"{record.name} record outside any {self.group.name}",
                        where(self.source, self.facts, number),
                        "fixed.record_order",
                        index=self._next(),
                        raw=raw,
                    )
                )
                return
            self.current_raw.append(raw)
            self.current_lengths.append(length)
            while self.stack and self.stack[-1][0].name != record.parent:
                self.stack.pop()
            if not self.stack:
                self.current_problems.append(
                    f"{place}: {record.name} record without a {record.parent} before it"
                )
                self.current_rule = self.current_rule or "fixed.record_order"
                self.stack = [(self.group, self.current)]
                return
            parent = self.stack[-1][1]
            node = self._node(record, value)
            if record.repeat == "one":
                if parent[record.member_name] is not None:
                    self.current_problems.append(
                        f"{place}: a second {record.name} record in one {record.parent}"
                    )
                    self.current_rule = self.current_rule or "fixed.record_order"
                parent[record.member_name] = node
            else:
                parent[record.member_name].append(node)
            self.stack.append((record, node))
            return
        self._close()
        self._next()
        self.ready.append(({"record_type": record.name, record.name: value}, number, [length]))

    def _unit(self) -> str:
        return "record" if self.facts.unbroken else "line"

    def _node(self, record: RecordType, value: dict[str, Any]) -> dict[str, Any]:
        node = dict(value)
        for child in self.layout.children(record.name):
            node[child.member_name] = None if child.repeat == "one" else []
        return node

    def _close(self) -> None:
        if self.current is None:
            return
        if self.current_problems:
            self.rejected.append(
                Rejection(
                    "; ".join(self.current_problems),
                    where(self.source, self.facts, self.current_number),
                    self.current_rule,
                    index=self._next(),
                    raw=(self.facts.line_ending or "").encode().join(self.current_raw),
                )
            )
        else:
            self._next()
            self.ready.append(
                (
                    {"record_type": self.group.name, self.group.name: self.current},
                    self.current_number,
                    self.current_lengths,
                )
            )
        self.current, self.current_raw, self.current_problems = None, [], []
        self.current_rule, self.stack = "", []

    def finish(self) -> None:
        self._close()

    def take_rejections(self) -> list[Rejection]:
        out, self.rejected = self.rejected, []
        return out

    def take(self, batch_size: int, *, final: bool) -> Documents | None:
        if not self.ready and not self.rejected:
            return None
        if len(self.ready) < batch_size and not final:
            return None
        part, self.ready = self.ready[:batch_size], self.ready[batch_size:]
        rows = [{name: doc.get(name) for name in self.columns} for doc, _, _ in part]
        table = pa.Table.from_pylist(rows, schema=self.schema)
        props = properties(
            self.source,
            self.facts,
            [n for _, n, _ in part],
            [lengths for _, _, lengths in part],
        )
        return Documents(table, props).with_rejections(self.take_rejections())
