"""Observability routes: `/metrics` in the Prometheus text format."""

from __future__ import annotations

from fastapi import FastAPI

from atomnb.atom.service import Atom

__all__ = ["add_metrics_routes"]


def add_metrics_routes(app: FastAPI, atom: Atom) -> None:
    """Not yet built (issue 14): registers nothing."""
