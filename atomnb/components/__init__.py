"""Layer 1b, components: the workspace and what it holds, generic over component kinds.

Owns the workspace (root marker, folders, store URL), environment extensions and
secret references. Later: one human-readable file per component with id, version
and references, and the "where used" graph.
"""

from atomnb.components.environments import (
    DEFAULT_ENVIRONMENT,
    Environment,
    load_environment,
    resolve_secret,
)
from atomnb.components.workspace import MARKER, Workspace

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "MARKER",
    "Environment",
    "Workspace",
    "load_environment",
    "resolve_secret",
]
