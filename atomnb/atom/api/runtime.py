"""Runtime management routes: the atoms on the store, pausing atoms and schedules, rollback."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_runtime_routes"]


def add_runtime_routes(app: FastAPI, atom: Atom) -> None:
    """Not yet built (issue 14): registers nothing."""
