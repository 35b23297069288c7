"""`atomnb partners`: B2B trading partners and their acknowledgements (issue 16)."""

from __future__ import annotations

from atomnb.cli.root import cli

__all__: list[str] = []


@cli.group("partners")
def partners() -> None:
    """B2B trading partners: show them, control numbers, overdue acknowledgements."""
