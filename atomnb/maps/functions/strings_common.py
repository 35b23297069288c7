"""What every string function shares: the string type, missing-in-missing-out, argument checks.

The rules themselves are written down once, in ``strings``' docstring; these are
the few helpers that carry them out, kept here so each part of the string group
(``strings_edit``, ``strings_match``, ``strings_value``) uses the same ones.
"""

from __future__ import annotations

from typing import Any

from atomnb.errors import MapError
from atomnb.profiles import ElementType

__all__ = ["S", "as_text", "need"]

S = ElementType.STRING


def as_text(value: Any) -> str | None:
    """The value as text for a per-record twin; a missing value stays missing."""
    return None if value is None else str(value)


def need(condition: bool, message: str) -> None:
    """Reject a map function's argument at compile time with ``message``."""
    if not condition:
        raise MapError(message)
