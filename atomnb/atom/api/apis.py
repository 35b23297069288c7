"""Routes of the atom for apis (being built: issue 15/16)."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_apis_routes"]


def add_apis_routes(app: FastAPI, atom: Atom) -> None:
    """Nothing yet."""
