"""Which class builds which kind of connection: a lazy registry keyed by explicit names.

Built-ins (``http``, ``database``, ``files``) and third-party connectors (entry
point group ``atomnb.connectors``, value ``"module:Class"``) are listed the same
way and imported only when a connection of that kind is built, so a broken
plugin breaks only its own connections, never ``import atomnb``. A plugin cannot
replace a built-in: a name clash keeps the built-in.

A target is anything with ``from_dict(settings)`` (see ``base.ConnectorFactory``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from atomnb.connectors.base import ConnectorFactory
from atomnb.errors import AtomnbError, ConfigError

__all__ = ["BUILTIN_CONNECTORS", "ENTRY_POINT_GROUP", "ConnectorRegistry", "default_registry"]

ENTRY_POINT_GROUP = "atomnb.connectors"
BUILTIN_CONNECTORS: dict[str, str] = {
    "http": "atomnb.connectors.http:HttpConnection",
    "database": "atomnb.connectors.sql:SqlConnection",
    "files": "atomnb.connectors.files:FileConnection",
    "streams": "atomnb.connectors.streams:StreamConnection",
}


class ConnectorRegistry:
    """Connector names to factories, loaded on first use.

    ``ConnectorRegistry()`` reads the entry points once, when first asked;
    ``ConnectorRegistry({...}, plugins=False)`` is a closed table (for tests).
    """

    def __init__(self, targets: Mapping[str, str] | None = None, *, plugins: bool = True) -> None:
        self._targets: dict[str, str] = dict(BUILTIN_CONNECTORS if targets is None else targets)
        self._origins: dict[str, str] = dict.fromkeys(self._targets, "atomnb")
        self._loaded: dict[str, ConnectorFactory] = {}
        self._plugins_read = not plugins

    def names(self) -> list[str]:
        self._read_plugins()
        return sorted(self._targets)

    def origin(self, name: str) -> str:
        """The distribution that registered ``name`` (``atomnb`` for the built-ins)."""
        self._read_plugins()
        return self._origins.get(name, "?")

    def factory(self, name: str) -> ConnectorFactory:
        """The class behind ``name``, imported now; unknown names list the known ones."""
        if name in self._loaded:
            return self._loaded[name]
        self._read_plugins()
        target = self._targets.get(name)
        if target is None:
            raise ConfigError(
                f"unknown connector {name!r}",
                hint=f"known connectors: {', '.join(self.names())}; plugins register in the "
                f"entry point group {ENTRY_POINT_GROUP!r}",
            )
        module_name, _, attribute = target.partition(":")
        try:
            loaded: Any = importlib.import_module(module_name)
            for part in attribute.split(".") if attribute else ():
                loaded = getattr(loaded, part)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"connector {name!r} ({target}, from {self.origin(name)}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}",
                hint="install the package that provides it, or fix its entry point",
            ) from None
        if not callable(getattr(loaded, "from_dict", None)):
            raise ConfigError(f"connector {name!r} ({target}) has no from_dict(settings)")
        self._loaded[name] = loaded
        return loaded

    def create(self, name: str, settings: Mapping[str, Any]) -> Any:
        """A connection of kind ``name`` from its settings (secret references unresolved)."""
        factory = self.factory(name)
        try:
            return factory.from_dict(dict(settings))
        except AtomnbError:
            raise
        except (TypeError, KeyError, ValueError) as exc:
            detail = f"missing setting {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ConfigError(f"{name} connection settings: {detail}") from None

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.name in self._targets:
                continue  # a plugin never shadows a built-in (or an earlier plugin)
            self._targets[entry.name] = entry.value
            dist = getattr(entry, "dist", None)
            self._origins[entry.name] = getattr(dist, "name", None) or "a plugin"


_DEFAULT: ConnectorRegistry | None = None


def default_registry() -> ConnectorRegistry:
    """The process-wide registry, built on first use (never at import)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ConnectorRegistry()
    return _DEFAULT
