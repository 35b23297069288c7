"""Routes of the atom for as2 (being built: issue 15/16)."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_as2_routes"]


def add_as2_routes(app: FastAPI, atom: Atom) -> None:
    """Nothing yet."""
