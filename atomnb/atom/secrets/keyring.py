"""The atom's secret keys: Fernet keys from a key file or ``$ATOMNB_SECRET_KEYS``.

Several keys make a ``MultiFernet``: the first (primary) encrypts, every one
decrypts, so an operator rotates by putting a new key first, restarting the atom,
running ``atomnb secrets rotate`` (every token re-encrypted under the primary)
and then dropping the old key. A key never appears in a message, and a token the
keys cannot open gives one sentence, not a traceback.

The key file must not be readable by other users; the environment variable is
removed from the atom's own environment once read, so the kernels it starts
(which run the processes' code) do not inherit the keys.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import MutableMapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from atomnb.errors import ConfigError

__all__ = [
    "KEYS_ENV",
    "NO_KEY_MESSAGE",
    "Keyring",
    "NoSecretKeyError",
    "SecretKeyMismatchError",
    "generate_key",
    "load_keyring",
]

log = logging.getLogger(__name__)

#: Comma-separated Fernet keys, the first one primary.
KEYS_ENV = "ATOMNB_SECRET_KEYS"
NO_KEY_MESSAGE = (
    "this atom has no secret key; start it with --secret-key-file or ATOMNB_SECRET_KEYS"
)
_KEY_HINT = "make a key with: atomnb secrets key"


class NoSecretKeyError(ConfigError):
    """The atom was started without a secret key: its secrets cannot be used (API: 409)."""

    def __init__(self) -> None:
        super().__init__(NO_KEY_MESSAGE, hint=_KEY_HINT)


class SecretKeyMismatchError(ConfigError):
    """A stored token does not open with the atom's keys (a wrong or rotated-away key)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"cannot decrypt secret {name}: the atom's keys do not match the key it was "
            "stored with",
            hint="start the atom with that key too (after the primary key), or set the "
            "secret again",
        )


def generate_key() -> str:
    """A new random Fernet key, for the operator to keep in a key file or secret manager."""
    return Fernet.generate_key().decode("ascii")


class Keyring:
    """Encrypts under the primary key, decrypts under any key, rotates to the primary."""

    def __init__(self, keys: Sequence[str], *, source: str) -> None:
        if not keys:
            raise ConfigError(f"{source} holds no key", hint=_KEY_HINT)
        fernets = []
        for number, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):  # never echo the text: it may be a key
                raise ConfigError(
                    f"key {number} is not a Fernet key (32 url-safe base64-encoded bytes)",
                    where=source,
                    hint=_KEY_HINT,
                ) from None
        self._fernet = MultiFernet(fernets)
        self.count = len(fernets)
        self.source = source

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, name: str, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretKeyMismatchError(name) from None

    def rotate(self, name: str, token: str) -> str:
        """The token re-encrypted under the primary key (its value unchanged)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretKeyMismatchError(name) from None


def load_keyring(
    key_file: Path | None = None, environ: MutableMapping[str, str] | None = None
) -> Keyring | None:
    """The keys from ``key_file`` (one per line, ``#`` comments) or ``$ATOMNB_SECRET_KEYS``.

    None when neither is given: the atom starts, and its secrets answer that it
    has no key. The environment variable is removed from ``environ`` (default
    ``os.environ``) either way, so kernels started later never see it.
    """
    environ = os.environ if environ is None else environ
    from_env = environ.pop(KEYS_ENV, None)
    if key_file is not None:
        if from_env:
            log.warning("%s is ignored: the keys come from %s", KEYS_ENV, key_file)
        return Keyring(_read_key_file(key_file), source=str(key_file))
    if from_env is None or not from_env.strip():
        return None
    keys = [part.strip() for part in from_env.split(",") if part.strip()]
    return Keyring(keys, source=f"${KEYS_ENV}")


def _read_key_file(path: Path) -> list[str]:
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the secret key file: {exc.strerror}", where=str(path)
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError("the secret key file is not a regular file", where=str(path))
    if info.st_mode & stat.S_IRWXO:
        raise ConfigError(
            f"the secret key file is open to every user (mode {stat.S_IMODE(info.st_mode):o}); "
            "refusing to use it",
            where=str(path),
            hint=f"chmod 600 {path}",
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
        raise ConfigError(f"cannot read the secret key file: {reason}", where=str(path)) from None
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        try:
            Fernet(key.encode("ascii"))
        except ValueError:  # never echo the line: it may be a key with a typo
            raise ConfigError(
                "this line is not a Fernet key (32 url-safe base64-encoded bytes)",
                where=f"{path}:{number}",
                hint=_KEY_HINT,
            ) from None
        keys.append(key)
    return keys
