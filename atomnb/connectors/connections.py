"""Connection components: saved once, overridden per environment, built into live connections.

A connection component is ``components/connections/<name>.yaml``: which connector
(``kind``: ``http``, ``database``, ``files`` or a plugin's name) and its settings,
with every secret as a reference. An environment changes what differs between
dev, test and prod in ``extensions/<env>.toml``::

    [connections.shop_api]
    base_url = "https://shop.example.com/api"
    auth = { kind = "bearer", token_ref = "env:SHOP_TOKEN_PROD" }

``connection("shop_api", env="prod")`` applies those overrides (tables merge key
by key, other values replace) and builds the live object through the connector
registry. Literal secrets are refused on save and on load, naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb._types import PathLike
from atomnb.components import Workspace, load_environment
from atomnb.components.environments import literal_secrets
from atomnb.components.files import ComponentFile, component_path, load_component, save_component
from atomnb.connectors.base import ConnectionTest, timed_test
from atomnb.connectors.registry import ConnectorRegistry, default_registry
from atomnb.errors import AtomnbError, ComponentError, ConfigError

__all__ = [
    "COMPONENT_KIND",
    "ENVIRONMENT_ENV",
    "WORKSPACE_ENV",
    "ConnectionSpec",
    "ConnectionTest",
    "connection",
    "list_connections",
    "load_connection_spec",
    "save_connection",
    "test_connection",
]

COMPONENT_KIND = "connection"
#: Set by the executor in a process's kernel: the environment and workspace it runs in.
ENVIRONMENT_ENV = "ATOMNB_ENVIRONMENT"
WORKSPACE_ENV = "ATOMNB_WORKSPACE"

WorkspaceLike = Workspace | PathLike | None


@dataclass(frozen=True)
class ConnectionSpec:
    """A connection as configured: its name, connector kind and settings (references only)."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)

    def check_secrets(self, where: str | None = None) -> None:
        """Refuse settings that hold a secret value instead of a reference."""
        bad = literal_secrets(self.settings)
        if bad:
            raise ConfigError(
                f"connection {self.name!r}: {', '.join(bad)} must be a reference like "
                "'env:VAR' or 'file:/path', not a value",
                where=where,
                hint="secret values never go into component files: they are committed",
            )


def _workspace(workspace: WorkspaceLike) -> Workspace:
    if isinstance(workspace, Workspace):
        return workspace
    return Workspace.find(workspace or os.environ.get(WORKSPACE_ENV) or None)


def save_connection(spec: ConnectionSpec, workspace: WorkspaceLike = None) -> Path:
    """Write ``components/connections/<name>.yaml`` (version bumped only when it changed)."""
    ws = _workspace(workspace)
    spec.check_secrets()
    if not spec.kind:
        raise ConfigError(f"connection {spec.name!r} needs a kind (http, database, files, ...)")
    body = {"kind": spec.kind, "settings": _plain(spec.settings)}
    save_component(ws.components_dir, ComponentFile(COMPONENT_KIND, spec.name, body))
    return component_path(ws.components_dir, COMPONENT_KIND, spec.name)


def load_connection_spec(
    name: str, workspace: WorkspaceLike = None, env: str | None = None
) -> ConnectionSpec:
    """The saved connection with environment ``env``'s overrides applied.

    ``env`` defaults to the environment the process runs in (``$ATOMNB_ENVIRONMENT``),
    else the default environment (no overrides).
    """
    ws = _workspace(workspace)
    component = load_component(ws.components_dir, COMPONENT_KIND, name)
    where = str(component_path(ws.components_dir, COMPONENT_KIND, name))
    body = component.body
    if not isinstance(body.get("kind"), str) or not isinstance(body.get("settings", {}), dict):
        raise ComponentError(
            "a connection needs 'kind' (text) and 'settings' (a table)", where=where
        )
    spec = ConnectionSpec(name, body["kind"], dict(body.get("settings") or {}))
    spec.check_secrets(where)
    environment = load_environment(ws.extensions_dir, env or os.environ.get(ENVIRONMENT_ENV))
    overrides = environment.connection_overrides(name)
    if overrides:
        kind = overrides.pop("kind", spec.kind)
        spec = ConnectionSpec(name, str(kind), _merge(spec.settings, overrides))
    return spec


def connection(
    name: str,
    env: str | None = None,
    workspace: WorkspaceLike = None,
    *,
    registry: ConnectorRegistry | None = None,
) -> Any:
    """The live connection ``name`` in environment ``env``, built by its connector.

    >>> # shop = ab.connection("shop_api", env="dev")   # an HttpConnection
    """
    spec = load_connection_spec(name, workspace, env)
    return (registry or default_registry()).create(spec.kind, spec.settings)


def list_connections(workspace: WorkspaceLike = None) -> list[str]:
    """Names of the saved connection components, sorted."""
    folder = _workspace(workspace).components_dir / f"{COMPONENT_KIND}s"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def test_connection(conn: Any) -> ConnectionTest:
    """Reachability and authentication of a live connection (or a connection's name).

    Never raises: a connection that cannot be built or tested is a failed test
    with the reason, so a notebook or dashboard can show it as such.
    """

    def probe() -> str:
        target = connection(conn) if isinstance(conn, str) else conn
        tester = getattr(target, "test", None)
        if not callable(tester):
            raise ConfigError(f"{type(target).__name__} has no test() to check it with")
        result = tester()
        if not isinstance(result, ConnectionTest):
            raise ConfigError(f"{type(target).__name__}.test() did not return a ConnectionTest")
        if not result.ok:
            raise _Failed(result.message)
        return result.message

    return timed_test(probe)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


class _Failed(AtomnbError):
    """The connector's own failed result, reported with its message."""


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base``: tables merge key by key, every other value replaces."""
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = _merge(current, value)
        else:
            merged[key] = value
    return merged


def _plain(value: Any) -> Any:
    """Settings as YAML-safe plain data (tuples to lists, mappings to dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
