"""The atom's HTTP API, split by job: request guard, bodies, routes per resource, pages."""

from atomnb.atom.api.app import create_app
from atomnb.atom.api.bodies import PACKAGE_MEDIA_TYPES, read_limited
from atomnb.atom.api.executions import TriggerRequest
from atomnb.atom.api.guard import RequestGuard, allowed_hosts

__all__ = [
    "PACKAGE_MEDIA_TYPES",
    "RequestGuard",
    "TriggerRequest",
    "allowed_hosts",
    "create_app",
    "read_limited",
]
