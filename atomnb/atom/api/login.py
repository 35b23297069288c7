"""The console's login and logout (session cookie), for atoms that have per-user API tokens."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_login_routes"]


def add_login_routes(app: FastAPI, atom: Atom) -> None:
    """Not yet built (issue 14): registers nothing."""
