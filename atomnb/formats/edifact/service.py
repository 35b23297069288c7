"""The values of a block's service segments (UNH, UNT, ...) in one Arrow gather each.

The envelope walk compares UNT counts and references and reads UNH references,
types and versions for every message; gathering them per block and converting
ASCII in bulk keeps that walk free of a segment object per message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.formats.edifact.block import Block

__all__ = ["service_values"]


def text(value: bytes) -> str:
    """Envelope values are ASCII in practice; latin-1 keeps any other byte without loss."""
    return value.decode("latin-1")


#: (element, component) values read for every service segment of a block in one gather:
#: UNT count and reference (and whether either has a second component), UNH reference,
#: type and version.
_SERVICE_VALUES = [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (2, 4)]


@dataclass
class _Values:
    """Element values of a block's service segments, by position in ``block.service``."""

    first: list[str | None]  # element 1, component 1: UNT count, UNH reference
    first_more: list[bool]  # element 1 has a second component
    second: list[str | None]  # element 2, component 1: UNT reference, UNH message type
    second_more: list[bool]
    version: list[str]  # element 2, components 2-4 joined by ":" (UNH version)


def service_values(block: Block) -> _Values:
    """The ``_Values`` of ``block``'s service segments, decoded as latin-1 in bulk."""
    indices = np.array(block.service, dtype=np.int64)
    c11, c12, c21, c22, c23, c24 = block.components(indices, _SERVICE_VALUES)
    # components are contiguous: the longest join whose parts are all present
    version = pc.coalesce(
        pc.binary_join_element_wise(c22, c23, c24, b":"),
        pc.binary_join_element_wise(c22, c23, b":"),
        c22,
    )
    return _Values(
        _texts(c11),
        c12.is_valid().to_pylist(),
        _texts(c21),
        c22.is_valid().to_pylist(),
        [v or "" for v in _texts(version)],
    )


def _texts(values: pa.Array) -> list[str | None]:
    """Binary values as latin-1 text: ASCII (the usual case) converted by Arrow in one go."""
    try:
        strings = values.cast(pa.string())
    except pa.ArrowInvalid:  # not UTF-8, so not ASCII either
        strings = None
    if strings is not None and pc.all(pc.string_is_ascii(strings)).as_py() is not False:
        texts: list[str | None] = strings.to_pylist()
        return texts
    return [None if v is None else text(v) for v in values.to_pylist()]
