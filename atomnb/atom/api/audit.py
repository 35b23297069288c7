"""Audit routes and middleware: every change recorded with who, what, when and from where."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_audit_routes"]


def add_audit_routes(app: FastAPI, atom: Atom) -> None:
    """Not yet built (issue 14): registers nothing."""
