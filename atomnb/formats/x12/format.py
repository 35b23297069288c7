"""The ``x12`` format object the registry loads: options in, reader and writer out.

Kept apart from the reader and writer so both stay free of option parsing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import IO, Any

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.base import Source
from atomnb.formats.x12.definitions import Definition, parse_definition
from atomnb.formats.x12.reader import OnError, read_x12
from atomnb.formats.x12.tokens import Delimiters
from atomnb.formats.x12.writer import EnvelopeOptions, write_x12

__all__ = ["X12Format"]


class X12Format:
    """ANSI X12 interchanges: one document per transaction set (see the package doc)."""

    name = "x12"
    extensions = (".x12", ".edi")
    #: Documents per batch when the caller gives no batch_size: EDI and XML documents are
    #: large nested trees, so a batch of 65k of them would not keep memory bounded.
    default_batch_size = 1_000

    def read_batches(
        self,
        source: Source,
        *,
        batch_size: int,
        on_error: OnError = "reject",
        strict: bool = True,
        encoding: str = "utf-8",
        definitions: Mapping[str, Mapping[str, Any]] | None = None,
        validate: bool = False,
        counts: str = "reject",
        **options: Any,
    ) -> Iterator[Documents]:
        _reject_unknown(options)
        yield from read_x12(
            source,
            batch_size=batch_size,
            on_error=on_error,
            strict=strict,
            encoding=encoding,
            definitions=_definitions(definitions),
            validate=validate,
            counts=counts,
        )

    def write(
        self,
        documents: Documents,
        sink: IO[bytes],
        *,
        sender_id: str | None = None,
        receiver_id: str | None = None,
        interchange_control_number: int | str | None = None,
        group_control_number: int | str | None = None,
        sender_qualifier: str = "ZZ",
        receiver_qualifier: str = "ZZ",
        version: str = "004010",
        functional_id: str | None = None,
        usage: str = "P",
        date: datetime | None = None,
        element: str = "*",
        component: str = ">",
        segment: str = "~",
        repetition: str | None = None,
        line_ending: str = "\n",
        encoding: str = "utf-8",
        definitions: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> None:
        _reject_unknown(options)
        delimiters = Delimiters(element, component, segment, repetition, line_ending)
        chars = [element, component, segment]
        if len(set(chars)) != 3 or any(len(c) != 1 or c.isalnum() for c in chars):
            raise FormatError(
                f"X12 delimiters must be three different single non-alphanumeric characters, "
                f"got element={element!r} component={component!r} segment={segment!r}"
            )
        envelope = EnvelopeOptions(
            sender_id=sender_id,
            receiver_id=receiver_id,
            interchange_control_number=interchange_control_number,
            group_control_number=group_control_number,
            sender_qualifier=sender_qualifier,
            receiver_qualifier=receiver_qualifier,
            version=version,
            functional_id=functional_id,
            usage=usage,
            date=date,
            delimiters=delimiters,
        )
        write_x12(
            documents, sink, envelope, encoding=encoding, definitions=_definitions(definitions)
        )


def _definitions(bodies: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Definition] | None:
    if not bodies:
        return None
    return {key: parse_definition(body, f"definitions[{key!r}]") for key, body in bodies.items()}


def _reject_unknown(options: Mapping[str, Any]) -> None:
    if options:
        raise FormatError(f"unknown X12 option(s): {', '.join(sorted(options))}")
