"""The one ``MetaData`` every store table registers on, and the CHECK helper they share."""

from __future__ import annotations

from sqlalchemy import MetaData

from atomnb.store.models import ExecutionStatus, Trigger

__all__ = ["check_in", "metadata"]

metadata = MetaData()


def check_in(column: str, values: type[ExecutionStatus] | type[Trigger]) -> str:
    """A CHECK constraint's text: ``column`` holds one of the enum's values."""
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({allowed})"
