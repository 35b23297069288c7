"""The operations console's pages (overview, processes, executions, deployments, HTTP status)."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_console_routes"]


def add_console_routes(app: FastAPI, atom: Atom) -> None:
    """Not yet built (issue 14): registers nothing."""
