"""Environment extensions: what an environment (dev, test, prod) changes, and secret references.

``extensions/<env>.toml`` overrides process parameters for every process
(``[parameters]``) or one process (``[processes.<name>.parameters]``) and names
secrets by *reference* (``[secrets]``: ``name = "env:VAR"`` or ``"file:/path"``),
so no secret value is ever written into a committed file. References are resolved
only at use time, by ``resolve_secret``. ``[connections.<name>]`` overrides the
settings of one connection component (a URL, a host, a credential reference);
settings whose key names a secret must be references there too (``literal_secrets``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb.errors import ConfigError

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "Environment",
    "is_secret_key",
    "literal_secrets",
    "load_environment",
    "resolve_secret",
]

DEFAULT_ENVIRONMENT = "default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Words that make a setting's key a secret (``password``, ``client_secret``, ``api_key`` ...).
_SECRET_WORDS = frozenset({"password", "passwd", "secret", "passphrase", "token", "credentials"})
_SECRET_KEYS = frozenset(
    {"api_key", "apikey", "private_key", "secret_key", "secret_access_key", "account_key"}
)
_REFERENCE_PREFIXES = ("env:", "file:")


@dataclass(frozen=True)
class Environment:
    """The overrides one environment applies; empty for the default environment."""

    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    source: Path | None = None
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def parameters_for(self, process: str) -> dict[str, Any]:
        """Parameters for ``process``: the environment-wide ones, then the process's own."""
        own = self.processes.get(process, {}).get("parameters", {})
        return {**self.parameters, **own}

    def connection_overrides(self, name: str) -> dict[str, Any]:
        """The settings this environment changes for connection ``name`` (may be empty)."""
        return dict(self.connections.get(name, {}))


def load_environment(extensions_dir: Path, name: str | None) -> Environment:
    """Read ``extensions/<name>.toml``; the default environment needs no file."""
    name = name or DEFAULT_ENVIRONMENT
    if not _NAME.match(name):
        raise ConfigError(f"environment name {name!r} is not allowed (letters, digits, _ . -)")
    path = extensions_dir / f"{name}.toml"
    if not path.exists():
        if name == DEFAULT_ENVIRONMENT:
            return Environment(name)
        known = (
            sorted(p.stem for p in extensions_dir.glob("*.toml")) if extensions_dir.is_dir() else []
        )
        raise ConfigError(
            f"unknown environment {name!r}: {path} does not exist",
            hint=f"known environments: {', '.join(known) or 'none'}; create the file to add one",
        )
    try:
        body = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(path)) from None
    secrets = body.get("secrets", {})
    for key, ref in secrets.items():
        if not isinstance(ref, str) or not ref.startswith(("env:", "file:")):
            raise ConfigError(
                f"secret {key!r} must be a reference like 'env:VAR' or 'file:/path', not a value",
                where=str(path),
                hint="never write secret values into extension files; they are committed",
            )
    connections = body.get("connections", {})
    if not isinstance(connections, dict) or not all(
        isinstance(v, dict) for v in connections.values()
    ):
        raise ConfigError(
            "[connections] must hold one table per connection, like [connections.shop_api]",
            where=str(path),
        )
    for connection_name, settings in connections.items():
        bad = literal_secrets(settings)
        if bad:
            raise ConfigError(
                f"connection {connection_name!r}: {', '.join(bad)} must be a reference like "
                "'env:VAR' or 'file:/path', not a value",
                where=str(path),
                hint="never write secret values into extension files; they are committed",
            )
    return Environment(
        name=name,
        parameters=dict(body.get("parameters", {})),
        processes={k: dict(v) for k, v in body.get("processes", {}).items()},
        secrets=dict(secrets),
        source=path,
        connections={k: dict(v) for k, v in connections.items()},
    )


def is_secret_key(key: str) -> bool:
    """Whether a setting named ``key`` holds a secret (``password``, ``client_secret_ref``...).

    ``token_url`` or ``access_key_id`` are not: only a key whose last word is a secret
    word, a known secret key, or any ``*_ref`` key (a reference by its own name).
    """
    words = key.lower().replace("-", "_").split("_")
    if words[-1] == "ref" and len(words) > 1:
        return True
    return words[-1] in _SECRET_WORDS or "_".join(words) in _SECRET_KEYS


def literal_secrets(settings: Any, prefix: str = "") -> list[str]:
    """Dotted keys of ``settings`` (searched recursively) that hold a secret *value*.

    A secret key may be empty or hold a reference (``env:VAR``, ``file:/path``);
    anything else is a literal secret that must not be written to a file.
    """
    found: list[str] = []
    if isinstance(settings, dict):
        for key, value in settings.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, (dict, list)):
                found += literal_secrets(value, dotted + ".")
            elif (
                is_secret_key(str(key))
                and value not in (None, "")
                and not (isinstance(value, str) and value.startswith(_REFERENCE_PREFIXES))
            ):
                found.append(dotted)
    elif isinstance(settings, list):
        for index, item in enumerate(settings):
            found += literal_secrets(item, f"{prefix}{index}.")
    return found


def resolve_secret(reference: str, *, name: str = "secret") -> str:
    """The value behind ``env:VAR`` or ``file:/path``; errors name the reference, never a value."""
    kind, _, target = reference.partition(":")
    if kind == "env":
        value = os.environ.get(target)
        if value is None:
            raise ConfigError(f"secret {name!r}: environment variable {target} is not set")
        return value
    if kind == "file":
        try:
            return Path(target).read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise ConfigError(f"secret {name!r}: cannot read {target}: {exc.strerror}") from None
    raise ConfigError(f"secret {name!r}: unknown reference kind {kind!r} (use env: or file:)")
