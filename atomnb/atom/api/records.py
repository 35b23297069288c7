"""The console's record pages: executions (filtered, paged), one execution, deployments."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_records_routes"]


def add_records_routes(app: FastAPI, atom: Atom) -> None:
    """Not yet built (issue 14): registers nothing."""
