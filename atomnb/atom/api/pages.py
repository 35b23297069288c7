"""The atom's first pages, now served by the console.

``/`` is the console's Overview (``atomnb.atom.api.console``) and
``/executions/{id}`` redirects to the console's execution page
(``atomnb.atom.api.records``); both are registered before this module, so the
old dashboard and execution page that lived here are gone. ``add_pages`` stays
for the app's wiring and registers nothing.
"""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_pages"]


def add_pages(app: FastAPI, atom: Atom) -> None:
    """Registers nothing: the console's modules serve these paths."""
