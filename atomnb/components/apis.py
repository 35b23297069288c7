"""API components: ``components/apis/<name>.yaml`` publishes processes as an HTTP API.

An API has a base path (under ``/apis/``), routes (method and path template to a
deployed process, with request and response profiles by name), one or more
authentication schemes (API keys, HTTP basic, JWT bearer), a rate limit per
caller and a request size limit. Credentials are secret *references*
(``env:``, ``file:``, ``atom:``), never values: a literal password or JWT key in
the file is refused. Every problem found is reported at once, each naming the
file and the field (``routes[1].path``), so one fix round is enough.

This module only reads and checks the file; profiles are looked up by the atom
when the API is deployed (the components layer sits below profiles). It is the
public face: the values live in ``api_model`` and the checks in ``api_checks``,
both re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from atomnb.components.api_checks import api_from_body
from atomnb.components.api_model import (
    API_KIND,
    API_ROOT,
    AUTH_TYPES,
    PARAMETER_TYPES,
    ApiDefinition,
    AuthScheme,
    Body,
    Parameter,
    RateLimit,
    Route,
)
from atomnb.components.api_model import DEFAULT_MAX_BODY_BYTES as DEFAULT_MAX_BODY_BYTES
from atomnb.components.api_model import JWT_ALGORITHMS as JWT_ALGORITHMS
from atomnb.components.api_model import MAX_BODY_LIMIT as MAX_BODY_LIMIT
from atomnb.components.api_model import METHODS as METHODS
from atomnb.components.files import ComponentFile, component_path, load_component
from atomnb.errors import ComponentError

# DEFAULT_MAX_BODY_BYTES, JWT_ALGORITHMS, MAX_BODY_LIMIT and METHODS stay importable from
# here (re-exported by their ``as`` imports) and out of __all__, as before the split.
__all__ = [
    "API_KIND",
    "API_ROOT",
    "AUTH_TYPES",
    "PARAMETER_TYPES",
    "ApiDefinition",
    "AuthScheme",
    "Body",
    "Parameter",
    "RateLimit",
    "Route",
    "api_from_body",
    "api_names",
    "api_path",
    "load_api",
]


def api_names(components_dir: Path) -> list[str]:
    """The API components in a workspace's (or package's) ``components/apis/`` folder."""
    folder = components_dir / f"{API_KIND}s"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_api(components_dir: Path, name: str) -> tuple[ApiDefinition, ComponentFile]:
    """Read and check ``components/apis/<name>.yaml``; every problem names the file and field."""
    component = load_component(components_dir, API_KIND, name)
    where = str(component_path(components_dir, API_KIND, name))
    if component.name != name:
        raise ComponentError(f"name: {component.name!r} differs from the file's name", where=where)
    return api_from_body(name, component.body, where=where, description=component.description), (
        component
    )


def api_path(components_dir: Path, name: str) -> Path:
    """Where API component ``name`` lives in a workspace's components folder."""
    return component_path(components_dir, API_KIND, name)
