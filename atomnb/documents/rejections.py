"""Documents a reader or shape refused, kept beside the batch instead of aborting it.

Integration batches must not fail for one bad document: the good ones go on,
and each refused one is kept with where it was, the rule it broke, a message a
person can act on, and its original bytes, so nothing is silently lost and it
can be repaired and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Rejection"]


@dataclass(frozen=True)
class Rejection:
    """One refused document: position, rule, message and the original bytes when known."""

    message: str
    where: str
    rule: str
    index: int | None = None
    raw: bytes | None = None
    #: Structured problems for acknowledgements (997/999/CONTRL): dicts with
    #: ``segment_position`` (1-based in the set, ST/UNH = 1), ``segment_id``,
    #: ``element_position``, ``component_position``, ``code`` and ``message``.
    problems: tuple[dict[str, Any], ...] = ()
    #: The envelope properties the document would have had (``x12.isa``, ``x12.gs``,
    #: ``edifact.unb``, control numbers, delimiters ...), so a refused set can be
    #: acknowledged in its own interchange and group; None when not known.
    properties: dict[str, Any] | None = None

    def __str__(self) -> str:
        document = f"document {self.index}, " if self.index is not None else ""
        return f"{self.where}, {document}rule {self.rule}: {self.message}"
