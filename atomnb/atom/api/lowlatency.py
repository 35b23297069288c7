"""Low-latency processes: their aggregated statistics (no record is kept per request)."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_lowlatency_routes"]


def add_lowlatency_routes(app: FastAPI, atom: Atom) -> None:
    """Not yet built (issue 15): registers nothing."""
