"""Documents back to an X12 interchange, with every count computed afresh.

Consecutive documents that share an ISA (``x12.isa``) form one interchange and,
within it, consecutive documents sharing a GS (``x12.gs``) form one group; the
writer emits ISA/GS/ST ... SE/GE/IEA with SE01, GE01 and IEA01 counted from what
it actually writes, so edited documents never carry stale counts. With the
delimiters and line endings the reader recorded, a file read and written back is
byte-identical (TA1 segments kept in ``x12.ta1`` go back between ISA and the
first GS). Documents with no envelope (built by a map, read from JSON) get
one from the writer's options.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from atomnb import _clock as clock
from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.x12.definitions import Definition, Item, find_definition
from atomnb.formats.x12.tokens import Delimiters

__all__ = ["EnvelopeOptions", "build_isa", "write_x12"]

#: GS01 functional identifier for the transaction sets atomnb defines.
FUNCTIONAL_IDS = {"850": "PO", "810": "IN", "855": "PR", "856": "SH", "997": "FA", "837": "HC"}


@dataclass(frozen=True)
class EnvelopeOptions:
    """What the writer needs to build an envelope for documents that carry none."""

    sender_id: str | None = None
    receiver_id: str | None = None
    interchange_control_number: int | str | None = None
    group_control_number: int | str | None = None
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    version: str = "004010"
    functional_id: str | None = None
    usage: str = "P"
    date: datetime | None = None
    delimiters: Delimiters = field(default_factory=Delimiters)

    def missing(self) -> list[str]:
        needed = ("sender_id", "receiver_id", "interchange_control_number", "group_control_number")
        return [name for name in needed if getattr(self, name) in (None, "")]


@dataclass
class _Interchange:
    isa: str
    delimiters: Delimiters
    after: str
    ta1: list[str] = field(default_factory=list)  # x12.ta1: written between ISA and GS
    groups: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)


def write_x12(
    documents: Documents,
    sink: IO[bytes],
    options: EnvelopeOptions,
    *,
    encoding: str = "utf-8",
    definitions: Mapping[str, Definition] | None = None,
) -> None:
    """Write ``documents`` as one or more interchanges to ``sink``."""
    for interchange in _interchanges(documents, options):
        _Writer(interchange, encoding, definitions).write(sink)


def _properties(documents: Documents) -> Iterator[dict[str, Any]]:
    names = [n for n in documents.property_names if n.startswith("x12.")]
    columns = {n: documents.property(n).to_pylist() for n in names}
    for index in range(len(documents)):
        yield {n: values[index] for n, values in columns.items()}


def _interchanges(documents: Documents, options: EnvelopeOptions) -> Iterator[_Interchange]:
    current: _Interchange | None = None
    built_isa: str | None = None
    built_groups: dict[str, str] = {}
    group_number = 0
    for row, props in zip(documents, _properties(documents), strict=True):
        isa, gs = props.get("x12.isa"), props.get("x12.gs")
        if isa and gs:
            delimiters = _delimiters(props.get("x12.delimiters"))
            after = (props.get("x12.delimiters") or {}).get("after_interchange")
            after = delimiters.line_ending if after is None else after
        else:
            missing = options.missing()
            if missing:
                raise FormatError(
                    "documents have no X12 envelope (x12.isa / x12.gs properties) "
                    f"and the options to build one are missing: {', '.join(missing)}",
                    hint="pass sender_id=, receiver_id=, interchange_control_number= and "
                    "group_control_number= to write",
                )
            delimiters, after = options.delimiters, options.delimiters.line_ending
            if built_isa is None:
                built_isa = _build_isa(options)
            isa = built_isa
            set_id = str(row.get("transaction_set") or (row.get("ST") or {}).get("ST01") or "")
            functional = options.functional_id or FUNCTIONAL_IDS.get(set_id, "ZZ")
            if functional not in built_groups:
                number = int(str(options.group_control_number)) + group_number
                group_number += 1
                built_groups[functional] = _build_gs(options, functional, number)
            gs = built_groups[functional]
        if current is None or current.isa != isa or current.delimiters != delimiters:
            if current is not None:
                yield current
            current = _Interchange(isa, delimiters, after, list(props.get("x12.ta1") or []))
        current.after = after
        if not current.groups or current.groups[-1][0] != gs:
            current.groups.append((gs, []))
        current.groups[-1][1].append(row)
    if current is not None:
        yield current


def _delimiters(value: Mapping[str, Any] | None) -> Delimiters:
    if not value:
        return Delimiters()
    return Delimiters(
        element=value.get("element") or "*",
        component=value.get("component") or ">",
        segment=value.get("segment") or "~",
        repetition=value.get("repetition"),
        line_ending=value.get("line_ending") or "",
    )


def build_isa(options: EnvelopeOptions) -> str:
    """The ISA segment (no terminator) the writer builds from ``options`` (for TA1-only
    interchanges, which carry no group the writer could write)."""
    return _build_isa(options)


def _build_isa(options: EnvelopeOptions) -> str:
    d = options.delimiters
    when = options.date or clock.now()
    # ISA12 is the first five digits of the GS08 version ("004010" -> "00401").
    isa_version = options.version[:5] if options.version[:5].isdigit() else "00401"
    repetition = d.repetition if isa_version >= "00402" and d.repetition else "U"
    if isa_version >= "00402" and not d.repetition:
        repetition = "^"
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        options.sender_qualifier.ljust(2)[:2],
        str(options.sender_id).ljust(15)[:15],
        options.receiver_qualifier.ljust(2)[:2],
        str(options.receiver_id).ljust(15)[:15],
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        repetition,
        isa_version,
        str(options.interchange_control_number).zfill(9)[-9:],
        "0",
        options.usage,
        d.component,
    ]
    return d.element.join(fields)


def _build_gs(options: EnvelopeOptions, functional: str, number: int) -> str:
    when = options.date or clock.now()
    fields = [
        "GS",
        functional,
        str(options.sender_id),
        str(options.receiver_id),
        when.strftime("%Y%m%d"),
        when.strftime("%H%M"),
        str(number),
        "X",
        options.version,
    ]
    return options.delimiters.element.join(fields)


class _Writer:
    """One interchange: segments are counted as they are written."""

    def __init__(
        self,
        interchange: _Interchange,
        encoding: str,
        definitions: Mapping[str, Definition] | None,
    ) -> None:
        self.interchange = interchange
        self.d = interchange.delimiters
        self.encoding = encoding
        self.definitions = definitions
        self.end = self.d.segment + self.d.line_ending

    def write(self, sink: IO[bytes]) -> None:
        element = self.d.element
        isa = self.interchange.isa
        if len(isa) != 105 or isa[3] != element:
            raise FormatError(
                f"x12.isa is not a 105-character ISA using {element!r}: {isa[:40]!r}..."
            )
        parts = [isa + self.end, *(ta1 + self.end for ta1 in self.interchange.ta1)]
        for gs, rows in self.interchange.groups:
            parts.append(gs + self.end)
            for number, row in enumerate(rows, 1):
                parts.extend(self._transaction_set(row, number))
            group_number = gs.split(element)[6] if gs.count(element) >= 6 else ""
            parts.append(f"GE{element}{len(rows)}{element}{group_number}{self.end}")
        control = isa.split(element)[13]
        iea = f"IEA{element}{len(self.interchange.groups)}{element}{control}"
        parts.append(iea + self.d.segment + self.interchange.after)
        sink.write("".join(parts).encode(self.encoding))

    def _transaction_set(self, row: Mapping[str, Any], number: int) -> list[str]:
        st = dict(row.get("ST") or {})
        set_id = str(row.get("transaction_set") or st.get("ST01") or "")
        if not set_id:
            raise FormatError("a document has no transaction_set (or ST01) to write")
        if not st.get("ST01"):
            st["ST01"] = set_id
        if not st.get("ST02"):
            st["ST02"] = str(number).zfill(4)
        segments = [self._segment("ST", st)]
        unknown = sorted(row.get("unknown") or (), key=lambda u: int(u["position"]))
        if row.get("segments") is not None:
            body: Iterable[str] = (self._raw(s["id"], s["elements"]) for s in row["segments"])
        else:
            definition = find_definition(set_id, self.definitions)
            if definition is None:
                raise FormatError(
                    f"no X12 definition for transaction set {set_id} and no 'segments' column",
                    hint="give the document a 'segments' list of {id, elements}",
                )
            _check_columns(row, definition)
            body = self._walk(definition.items, row)
        for text in body:
            while unknown and int(unknown[0]["position"]) <= len(segments) + 1:
                extra = unknown.pop(0)
                segments.append(self._raw(extra["id"], extra["elements"]))
            segments.append(text)
        segments.extend(self._raw(u["id"], u["elements"]) for u in unknown)
        segments.append(f"SE{self.d.element}{len(segments) + 1}{self.d.element}{st['ST02']}")
        return [s + self.end for s in segments]

    def _walk(self, items: Iterable[Item], node: Mapping[str, Any]) -> Iterator[str]:
        for item in items:
            value = node.get(item.name)
            if value is None:
                continue
            occurrences = value if isinstance(value, list) else [value]
            for occurrence in occurrences:
                if occurrence is None:
                    continue
                if item.is_loop:
                    yield from self._walk(item.items, occurrence)
                else:
                    yield self._segment(item.segment, occurrence)

    def _segment(self, segment_id: str, fields: Mapping[str, Any]) -> str:
        simple: dict[int, str] = {}
        composite: dict[int, dict[int, str]] = {}
        for key, value in fields.items():
            if value is None:
                continue
            suffix = key[len(segment_id) :] if key.startswith(segment_id) else ""
            position, _, sub = suffix.partition("_")
            if not position.isdigit() or (sub and not sub.isdigit()):
                raise FormatError(f"field {key!r} is not an element of segment {segment_id}")
            if sub:
                composite.setdefault(int(position), {})[int(sub)] = str(value)
            elif isinstance(value, list):
                if len(value) > 1 and not self.d.repeats:
                    raise FormatError(
                        f"field {key!r} holds repeats, but this interchange has no "
                        "repetition separator (ISA11 is one only from version 00402 on, "
                        "and only when it is not a letter, digit or space)",
                        hint="write with version 00402 or later, or join the values first",
                    )
                simple[int(position)] = (self.d.repeats or "").join(str(v) for v in value)
            else:
                simple[int(position)] = str(value)
        count = max([*simple, *composite, 0])
        elements: list[str] = []
        for index in range(1, count + 1):
            if index in simple:
                elements.append(simple[index])
            elif index in composite:
                parts = composite[index]
                elements.append(
                    self.d.component.join(parts.get(i, "") for i in range(1, max(parts) + 1))
                )
            else:
                elements.append("")
        return self._raw(segment_id, elements)

    def _raw(self, segment_id: str, elements: Iterable[str]) -> str:
        values = [str(v) for v in elements]
        for value in values:
            if self.d.element in value or self.d.segment in value:
                raise FormatError(
                    f"segment {segment_id}: value {value!r} contains a delimiter "
                    f"({self.d.element!r} or {self.d.segment!r})",
                    hint="remove the character or write with other delimiters",
                )
        return self.d.element.join([segment_id, *values])


def _check_columns(row: Mapping[str, Any], definition: Definition) -> None:
    known = {item.name for item in definition.items}
    known |= {"transaction_set", "ST", "SE", "unknown", "segments"}
    extra = [k for k, v in row.items() if v is not None and k not in known]
    if extra:
        raise FormatError(
            f"column(s) {', '.join(sorted(extra))} are not segments or loops of the "
            f"{definition.id} definition",
            hint="rename them to the definition's names, or drop them before writing",
        )
