"""Documents back to EDIFACT bytes: interchanges rebuilt from the envelope properties.

Consecutive documents with the same UNA/UNB (and UNG) form one interchange
(group); UNT, UNE and UNZ counts are always computed afresh, so documents a map
has added or removed still give a valid interchange. Every value is escaped with
the release character for the separators in force. Documents without envelope
properties (built by a map) get a UNB from the ``syntax``/``sender``/
``recipient``/``interchange_ref`` options.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import IO, Any

from atomnb import _clock as clock
from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.edifact.definitions import definition_for
from atomnb.formats.edifact.reader import PROPERTIES
from atomnb.formats.edifact.shape import Elements, record_segments, segment_elements
from atomnb.formats.edifact.syntax import (
    DEFAULT_SEPARATORS,
    LINE_BREAKS,
    Separators,
    encoding_for,
    escape,
)

__all__ = ["write_interchanges"]

_RESERVED = frozenset({"message_type", "UNH", "segments"})


def write_interchanges(
    documents: Documents,
    sink: IO[bytes],
    *,
    syntax: str = "UNOC:3",
    sender: str = "SENDER",
    recipient: str = "RECIPIENT",
    interchange_ref: str = "1",
    segment_end: str = "\n",
) -> None:
    defaults = {
        "edifact.una": "",
        "edifact.unb": None,
        "edifact.ung": None,
        "edifact.interchange_ref": interchange_ref,
        "edifact.segment_end": segment_end,
    }
    columns = {
        name: documents.property(name).to_pylist()
        for name in PROPERTIES
        if name in documents.property_names
    }

    def props(index: int) -> dict[str, Any]:
        found = {name: values[index] for name, values in columns.items()}
        return {**defaults, **{k: v for k, v in found.items() if v is not None}}

    docs = ((i, row, props(i)) for i, row in enumerate(documents))
    options = {"syntax": syntax, "sender": sender, "recipient": recipient}
    key = _interchange_key
    for _, interchange in groupby(docs, key=lambda d: key(d[2])):
        _write_interchange(list(interchange), sink, options)


def _interchange_key(props: dict[str, Any]) -> tuple[Any, ...]:
    return (props["edifact.una"], props["edifact.unb"], props["edifact.interchange_ref"])


def _write_interchange(
    docs: list[tuple[int, dict[str, Any], dict[str, Any]]],
    sink: IO[bytes],
    options: dict[str, str],
) -> None:
    first = docs[0][2]
    una: str = first["edifact.una"] or ""
    seps = Separators.from_una(una.encode("latin-1")) if una else DEFAULT_SEPARATORS
    end: str = first["edifact.segment_end"]
    last_end = docs[-1][2].get("edifact.trailer_end")
    trailer_end: str = end if last_end is None else last_end
    unb: str | None = first["edifact.unb"]
    syntax = (unb.split(chr(seps.element))[1] if unb else options["syntax"]).split(":")[0]
    codec = first.get("edifact.encoding") or encoding_for(syntax) or "utf-8"
    term = chr(seps.terminator)
    ref = first["edifact.interchange_ref"]
    where = f"document {docs[0][0]}"

    def emit(text: str, after: str = end) -> None:
        try:
            sink.write((text + term + after).encode(codec))
        except UnicodeEncodeError as exc:
            raise FormatError(
                f"{exc.object[exc.start]!r} cannot be written in {codec} ({syntax})",
                where=where,
                hint="declare UNOY (UTF-8) in UNB or replace the character with a map",
            ) from None

    if una:
        sink.write((una + end).encode("latin-1"))
    if unb is None:
        stamp = clock.now().strftime("%y%m%d:%H%M")
        parts = [options["syntax"], options["sender"], options["recipient"], stamp, ref]
        fields = [p.split(":") for p in parts]
        unb = render("UNB", [[escape(c, seps) for c in f] for f in fields], seps, escaped=True)
    emit(unb)
    groups = 0
    for ung, members in groupby(docs, key=lambda d: d[2].get("edifact.ung")):
        batch = list(members)
        if ung:
            groups += 1
            emit(ung)
        for index, row, props in batch:
            where = f"document {index}"
            for segment in _message_segments(index, row, props, seps):
                emit(segment)
        if ung:
            group_ref = ung.split(chr(seps.element))[5] if ung.count(chr(seps.element)) >= 5 else ""
            emit(render("UNE", [[str(len(batch))], [group_ref]], seps))
    count = groups or len(docs)
    emit(render("UNZ", [[str(count)], [ref]], seps), trailer_end)


def _message_segments(
    index: int, row: dict[str, Any], props: dict[str, Any], seps: Separators
) -> Iterator[str]:
    where = f"document {index}"
    message_type = row.get("message_type") or ""
    if row.get("UNH"):
        unh = segment_elements("UNH", row["UNH"], where)
    else:
        version = (props.get("edifact.version") or "D:96A:UN").split(":")
        unh = [[props.get("edifact.message_ref") or str(index + 1)], [message_type, *version]]
    body = list(_body(index, row, message_type))
    yield render("UNH", unh, seps)
    for tag, elements in body:
        yield render(tag, elements, seps)
    yield render("UNT", [[str(len(body) + 2)], [unh[0][0]]], seps)


def _body(index: int, row: dict[str, Any], message_type: str) -> Iterator[tuple[str, Elements]]:
    where = f"document {index}"
    if row.get("segments") is not None:
        for segment in row["segments"]:
            yield segment["tag"], [list(e) for e in segment["elements"]]
        return
    definition = definition_for(message_type)
    if definition is None:
        raise FormatError(
            f"no definition for message type {message_type!r} and no 'segments' column",
            where=where,
            hint="give the message as a 'segments' list of {tag, elements}",
        )
    record = {k: v for k, v in row.items() if k not in _RESERVED}
    yield from record_segments(definition.entries, record, where)


def render(tag: str, elements: Elements, seps: Separators, *, escaped: bool = False) -> str:
    """One segment as text (no terminator): values escaped unless ``escaped`` says they are."""
    element, component = chr(seps.element), chr(seps.component)
    parts = [tag]
    for values in elements:
        for value in values:
            if any(ch in value for ch in LINE_BREAKS.decode()):
                raise FormatError(
                    f"segment {tag}: value {value[:40]!r} contains a line break",
                    hint="EDIFACT values cannot carry line breaks; replace them in a map",
                )
        parts.append(component.join(v if escaped else escape(v, seps) for v in values))
    return element.join(parts)
