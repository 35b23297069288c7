"""`atomnb apis`: published API components, their keys and OpenAPI documents (issue 15)."""

from __future__ import annotations

from atomnb.cli.root import cli

__all__: list[str] = []


@cli.group("apis")
def apis() -> None:
    """Published API components: their keys, limits and OpenAPI documents."""
