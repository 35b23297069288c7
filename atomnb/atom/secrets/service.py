"""The atom's secret store: set, list, delete and rotate secrets; decrypt them for runs.

Values are encrypted with the atom's ``Keyring`` before they reach the store and
decrypted only when a run needs them (``value``, registered as the resolver of
``atom:NAME`` references while the atom runs). Nothing here returns a value to a
caller outside the atom, and the audit log (logger ``atomnb.atom.secrets.audit``)
says who changed which secret when, never what it holds.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from atomnb.atom.secrets.keyring import NO_KEY_MESSAGE, Keyring, NoSecretKeyError, load_keyring
from atomnb.components.environments import (
    atom_secret_env_name,
    check_atom_secret_name,
    register_secret_resolver,
)
from atomnb.errors import ConfigError, UnknownEntityError
from atomnb.store import ExecutionStore
from atomnb.store.secrets import SecretStore, StoredSecret

__all__ = ["MAX_SECRET_BYTES", "AtomSecrets", "audit", "enable_audit_log"]

#: A value as long as a PEM private key with room to spare; more is not a secret.
MAX_SECRET_BYTES = 64 * 1024

audit = logging.getLogger("atomnb.atom.secrets.audit")


def enable_audit_log() -> None:
    """Send the audit lines to the atom's stderr (its log), unless a handler is set up."""
    if audit.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s audit %(message)s"))
    audit.addHandler(handler)
    audit.setLevel(logging.INFO)


class AtomSecrets:
    """The secrets of one atom: its store's ``secrets`` rows opened with its keys."""

    def __init__(self, store: ExecutionStore, keyring: Keyring | None) -> None:
        self.rows = SecretStore(store)
        self.keyring = keyring

    @classmethod
    def open(cls, store: ExecutionStore, key_file: Path | None = None) -> AtomSecrets:
        """The secrets of an atom: keys from ``key_file`` or ``$ATOMNB_SECRET_KEYS``.

        Without either the atom still starts; its secrets then answer
        ``NoSecretKeyError``. A bad key file stops the start with its reason.
        """
        return cls(store, load_keyring(key_file))

    def start(self) -> None:
        """Answer ``atom:`` references in this process from here (the atom is starting)."""
        enable_audit_log()
        register_secret_resolver("atom", self.value)
        if self.keyring is not None:
            audit.info(
                "secret store open with %d key(s) from %s", self.keyring.count, self.keyring.source
            )
        else:
            audit.info("secret store closed: %s", NO_KEY_MESSAGE)

    def stop(self) -> None:
        """Stop answering ``atom:`` references in this process (the atom is stopping)."""
        register_secret_resolver("atom", None)

    @property
    def available(self) -> bool:
        return self.keyring is not None

    def _keys(self) -> Keyring:
        if self.keyring is None:
            raise NoSecretKeyError()
        return self.keyring

    def set(self, name: str, value: object, *, actor: str) -> tuple[StoredSecret, bool]:
        """Encrypt and store ``value`` under ``name``; True when the secret is new."""
        keys = self._keys()
        check_atom_secret_name(name)
        text = _checked_value(value)
        stored, created = self.rows.put(name, keys.encrypt(text))
        audit.info("secret %s %s by %s", name, "created" if created else "replaced", actor)
        return stored, created

    def all(self) -> list[StoredSecret]:
        """Names and times of every secret; never a value."""
        self._keys()
        return self.rows.all()

    def delete(self, name: str, *, actor: str) -> None:
        self._keys()
        if not self.rows.delete(check_atom_secret_name(name)):
            raise UnknownEntityError(f"no secret {name!r} on this atom")
        audit.info("secret %s deleted by %s", name, actor)

    def rotate(self, *, actor: str) -> list[str]:
        """Re-encrypt every secret under the primary key; all or nothing. Their names."""
        keys = self._keys()
        names = self.rows.rewrite(keys.rotate)
        audit.info("%d secret(s) re-encrypted under the primary key by %s", len(names), actor)
        return names

    def value(self, name: str) -> str:
        """The plain value of ``name`` for a run (the ``atom:`` resolver); ConfigError if not."""
        keys = self._keys()
        token = self.rows.token(check_atom_secret_name(name))
        if token is None:
            raise ConfigError(
                f"atom secret {name} is not set on this atom",
                hint=f"set it with: atomnb secrets set {name} --atom URL",
            )
        value = keys.decrypt(name, token)
        audit.info("secret %s decrypted for a run", name)
        return value

    def kernel_env(self, names: Iterable[str]) -> dict[str, str]:
        """``ATOMNB_ATOM_SECRET__<NAME>`` for each name: how a kernel receives atom secrets."""
        return {atom_secret_env_name(name): self.value(name) for name in names}


def _checked_value(value: object) -> str:
    """The value if it may be stored; the error never repeats the value."""
    if not isinstance(value, str):
        raise ConfigError("a secret value must be text")
    if not value:
        raise ConfigError("a secret value may not be empty")
    if "\x00" in value:
        raise ConfigError("a secret value may not hold a NUL character")
    if len(value.encode("utf-8")) > MAX_SECRET_BYTES:
        raise ConfigError(f"a secret value is limited to {MAX_SECRET_BYTES} bytes")
    return value
