"""The APIs an atom serves: read from the store, kept in memory, matched against request paths.

The store says which APIs are deployed and at which version (one small query,
at most every ``REFRESH_S``, and again when a path matches nothing, so a
deployment made through another atom of the molecule is served at once);
only APIs whose version changed are loaded again. A stored API that no longer
loads (written by another atomnb) is logged and left out, never served half.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

from atomnb.atom.apis.definition import LoadedApi, load_deployed
from atomnb.atom.apis.problems import Problem
from atomnb.components.apis import API_ROOT, Route
from atomnb.errors import AtomnbError
from atomnb.store import ExecutionStore
from atomnb.store.apikeys import ApiStore

__all__ = ["ApiRegistry", "Match"]

log = logging.getLogger(__name__)
REFRESH_S = 0.5
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Match:
    loaded: LoadedApi
    route: Route
    path_values: dict[str, str]

    @property
    def template(self) -> str:
        """The route's full path template, as the HTTP statistics count it."""
        return self.loaded.api.base_path + (self.route.path if self.route.path != "/" else "")


@dataclass(frozen=True)
class _Compiled:
    loaded: LoadedApi
    routes: tuple[tuple[re.Pattern[str], Route], ...]


def _compile(loaded: LoadedApi) -> _Compiled:
    routes = []
    base = re.escape(loaded.api.base_path)
    for route in sorted(
        loaded.api.routes, key=lambda r: (len(_PLACEHOLDER.findall(r.path)), -len(r.path))
    ):
        rest = "" if route.path == "/" else route.path
        parts = _PLACEHOLDER.split(rest)  # literal, name, literal, name, ...
        pattern = "".join(
            f"(?P<{part}>[^/]+)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
        )
        routes.append((re.compile(f"{base}{pattern}/?"), route))
    return _Compiled(loaded, tuple(routes))


class ApiRegistry:
    """The deployed APIs of one store, as served by this atom."""

    def __init__(self, store: ExecutionStore) -> None:
        self.apis = ApiStore(store)
        self._lock = threading.Lock()
        self._compiled: dict[str, _Compiled] = {}
        self._checked = 0.0

    def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_S:
            return
        versions = self.apis.versions()
        with self._lock:
            self._checked = now
            current = {n: c.loaded.version for n, c in self._compiled.items()}
        if versions == current:
            return
        fresh: dict[str, _Compiled] = {}
        for name, version in versions.items():
            held = self._compiled.get(name)
            if held is not None and held.loaded.version == version:
                fresh[name] = held
                continue
            deployed = self.apis.get(name)
            if deployed is None:
                continue
            try:
                fresh[name] = _compile(load_deployed(deployed))
            except AtomnbError as exc:
                log.error("API %s v%s cannot be served: %s", name, version, exc)
        with self._lock:
            self._compiled = fresh

    def get(self, name: str) -> LoadedApi | None:
        self.refresh()
        found = self._compiled.get(name)
        if found is None:
            self.refresh(force=True)
            found = self._compiled.get(name)
        return found.loaded if found is not None else None

    def all(self) -> list[LoadedApi]:
        self.refresh()
        return [c.loaded for _, c in sorted(self._compiled.items())]

    def match(self, method: str, path: str) -> Match:
        """The route for ``method path``; a 404 or 405 ``Problem`` when there is none."""
        self.refresh()
        found = self._match(method, path)
        if found is None:
            self.refresh(force=True)
            found = self._match(method, path)
        if isinstance(found, Match):
            return found
        if found is not None:
            raise Problem(
                405,
                f"{path} does not take {method}; it takes {', '.join(found)}",
                headers={"Allow": ", ".join(found)},
            )
        raise Problem(404, f"no API route answers {method} {path}")

    def _match(self, method: str, path: str) -> Match | list[str] | None:
        if not path.startswith(API_ROOT):
            return None
        with self._lock:
            compiled = sorted(
                self._compiled.values(), key=lambda c: -len(c.loaded.api.base_path)
            )  # the longest base path first: /apis/orders/v2 before /apis/orders
        allowed: list[str] = []
        for api in compiled:
            base = api.loaded.api.base_path
            if path != base and not path.startswith(base + "/"):
                continue
            for pattern, route in api.routes:
                fit = pattern.fullmatch(path)
                if fit is None:
                    continue
                if route.method == method or (method == "HEAD" and route.method == "GET"):
                    return Match(api.loaded, route, dict(fit.groupdict()))
                allowed.append(route.method)
            if allowed:
                return sorted(set(allowed))
        return None
