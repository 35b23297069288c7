"""Documents a reader or shape refused, kept beside the batch instead of aborting it.

Integration batches must not fail for one bad document: the good ones go on,
and each refused one is kept with where it was, the rule it broke, a message a
person can act on, and its original bytes, so nothing is silently lost and it
can be repaired and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rejection"]


@dataclass(frozen=True)
class Rejection:
    """One refused document: position, rule, message and the original bytes when known."""

    message: str
    where: str
    rule: str
    index: int | None = None
    raw: bytes | None = None

    def __str__(self) -> str:
        document = f"document {self.index}, " if self.index is not None else ""
        return f"{self.where}, {document}rule {self.rule}: {self.message}"
