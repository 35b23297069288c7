"""Environment extensions: what an environment (dev, test, prod) changes, and secret references.

``extensions/<env>.toml`` overrides process parameters for every process
(``[parameters]``) or one process (``[processes.<name>.parameters]``) and names
secrets by *reference* (``[secrets]``: ``name = "env:VAR"``, ``"file:/path"`` or
``"atom:NAME"``), so no secret value is ever written into a committed file. References
are resolved only at use time, by ``resolve_secret``. ``[connections.<name>]`` overrides
the settings of one connection component (a URL, a host, a credential reference);
settings whose key names a secret must be references there too (``literal_secrets``).

``atom:NAME`` names a secret kept encrypted in an atom's store. The atom registers a
resolver for it (``register_secret_resolver``) that decrypts from its store; a kernel
the atom starts gets the value in ``ATOMNB_ATOM_SECRET__<NAME>`` instead. Anywhere else
(a local ``atomnb run``) the reference fails with a message saying so.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb.errors import ConfigError

__all__ = [
    "ATOM_SECRET_ENV_PREFIX",
    "ATOM_SECRET_NAME",
    "DEFAULT_ENVIRONMENT",
    "SECRET_REFERENCE_PREFIXES",
    "Environment",
    "SecretResolver",
    "atom_secret_env_name",
    "check_atom_secret_name",
    "is_secret_key",
    "is_secret_reference",
    "literal_secrets",
    "load_environment",
    "register_secret_resolver",
    "resolve_secret",
]

DEFAULT_ENVIRONMENT = "default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Words that make a setting's key a secret (``password``, ``client_secret``, ``api_key`` ...).
_SECRET_WORDS = frozenset({"password", "passwd", "secret", "passphrase", "token", "credentials"})
_SECRET_KEYS = frozenset(
    {"api_key", "apikey", "private_key", "secret_key", "secret_access_key", "account_key"}
)
#: What a secret reference starts with; anything else in a secret setting is a value.
SECRET_REFERENCE_PREFIXES = ("env:", "file:", "atom:")
_REFERENCE_EXAMPLES = "'env:VAR', 'file:/path' or 'atom:NAME'"
#: Where a kernel started by an atom finds the atom secret NAME (the executor sets it).
ATOM_SECRET_ENV_PREFIX = "ATOMNB_ATOM_SECRET__"
#: An atom secret's name: it becomes part of an environment variable's name, so plain.
ATOM_SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

#: Turns the target of a reference (``NAME`` of ``atom:NAME``) into its value.
SecretResolver = Callable[[str], str]
_BUILT_IN_KINDS = frozenset({"env", "file"})
_resolvers: dict[str, SecretResolver] = {}


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
        if not is_secret_reference(ref):
            raise ConfigError(
                f"secret {key!r} must be a reference like {_REFERENCE_EXAMPLES}, not a value",
                where=str(path),
                hint="never write secret values into extension files; they are committed",
            )
        if ref.startswith("atom:"):
            try:
                check_atom_secret_name(ref.removeprefix("atom:"))
            except ConfigError as exc:
                raise ConfigError(f"secret {key!r}: {exc.message}", where=str(path)) from None
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
                f"{_REFERENCE_EXAMPLES}, not a value",
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

    A secret key may be empty or hold a reference (``env:VAR``, ``file:/path``,
    ``atom:NAME``); anything else is a literal secret that must not be written to a file.
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
                and not is_secret_reference(value)
            ):
                found.append(dotted)
    elif isinstance(settings, list):
        for index, item in enumerate(settings):
            found += literal_secrets(item, f"{prefix}{index}.")
    return found


def is_secret_reference(value: object) -> bool:
    """Whether ``value`` is a secret reference (``env:VAR``, ``file:/path``, ``atom:NAME``)."""
    return isinstance(value, str) and value.startswith(SECRET_REFERENCE_PREFIXES)


def check_atom_secret_name(name: str) -> str:
    """``name`` if it may name an atom secret; a ``ConfigError`` saying the rule otherwise."""
    if not ATOM_SECRET_NAME.match(name):
        raise ConfigError(
            f"{name!r} is not an atom secret name (a letter or _, then letters, digits or _; "
            "at most 128)"
        )
    return name


def atom_secret_env_name(name: str) -> str:
    """The environment variable that carries atom secret ``name`` into a kernel."""
    return ATOM_SECRET_ENV_PREFIX + check_atom_secret_name(name)


def register_secret_resolver(kind: str, resolver: SecretResolver | None) -> None:
    """Let ``resolver`` answer references ``kind:TARGET`` in this process (None: forget it).

    The atom registers one for ``atom`` at start, so the references of the runs it
    prepares are decrypted from its store; ``env`` and ``file`` are built in. A
    resolver raises ``ConfigError`` with a message that never holds a value.
    """
    if kind in _BUILT_IN_KINDS:
        raise ValueError(f"the secret reference kind {kind!r} is built in")
    if resolver is None:
        _resolvers.pop(kind, None)
    else:
        _resolvers[kind] = resolver


def resolve_secret(reference: str, *, name: str = "secret") -> str:
    """The value behind ``env:VAR``, ``file:/path`` or ``atom:NAME``; errors never hold a value.

    ``atom:NAME`` asks the resolver registered for ``atom`` (the atom's store), else
    reads ``ATOMNB_ATOM_SECRET__<NAME>`` (a kernel the atom started), else fails.
    """
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
    resolver = _resolvers.get(kind)
    if resolver is not None:
        try:
            return resolver(target)
        except ConfigError as exc:
            raise ConfigError(f"secret {name!r}: {exc.message}", hint=exc.hint) from None
    if kind == "atom":
        value = os.environ.get(ATOM_SECRET_ENV_PREFIX + target)
        if value is None:
            raise ConfigError(
                f"secret {name!r}: atom secret {target} is not available here "
                "(only in runs on an atom)"
            )
        return value
    raise ConfigError(
        f"secret {name!r}: unknown reference kind {kind!r} (use env:, file: or atom:)"
    )
