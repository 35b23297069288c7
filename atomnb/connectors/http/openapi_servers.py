"""The base URL of an OpenAPI document: its first server, with server variables filled in.

Real specs often write ``{scheme}://{host}/api/{version}`` and declare each
variable with a ``default`` (and sometimes an ``enum``). The defaults make the
address; ``server_variables`` overrides some of them (a tenant, a sandbox host)
without editing the spec. A value outside the variable's ``enum``, an unknown
variable or a placeholder that is not declared is refused naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from atomnb.errors import ConnectorError

__all__ = ["server_url"]

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def server_url(
    spec: Mapping[str, Any],
    base_url: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> str:
    """The absolute base URL: ``base_url`` if given, else the spec's first server, filled in."""
    if base_url:
        return base_url
    servers = spec.get("servers") or [{"url": "/"}]
    server = servers[0] if isinstance(servers[0], Mapping) else {}
    url = _fill(str(server.get("url", "/")), server.get("variables") or {}, variables or {})
    if not url.startswith(("http://", "https://")):
        raise ConnectorError(
            f"the spec's server {url!r} is relative", hint="pass base_url= with the full address"
        )
    return url


def _fill(url: str, declared: Mapping[str, Any], given: Mapping[str, Any]) -> str:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ConnectorError(
            f"no server variable {unknown[0]!r} in the spec's server {url!r}",
            hint=f"its variables: {known}",
        )
    values: dict[str, str] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, Mapping) else {}
        if name in given:
            value = str(given[name])
        elif "default" in spec:
            value = str(spec["default"])
        else:
            raise ConnectorError(
                f"server variable {name!r} has no default in the spec's server {url!r}",
                hint=f"pass server_variables={{{name!r}: ...}}",
            )
        allowed = [str(v) for v in spec.get("enum") or []]
        if allowed and value not in allowed:
            raise ConnectorError(
                f"server variable {name!r} must be one of {', '.join(allowed)} (not {value!r})"
            )
        values[name] = value

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ConnectorError(
                f"the spec's server {url!r} uses '{{{name}}}', which is not declared in its "
                "variables",
                hint="pass base_url= with the full address",
            )
        return values[name]

    return _PLACEHOLDER.sub(substitute, url)
