"""The ``atomnb`` command, split by command group; a group's module loads when its command runs."""

from __future__ import annotations

from collections.abc import Sequence

from atomnb.cli.root import cli

__all__ = ["cli", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``atomnb`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="atomnb")
