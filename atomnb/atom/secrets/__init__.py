"""The atom's encrypted secret store: Fernet keys, the service, and its ``atom:`` resolver."""

from atomnb.atom.secrets.keyring import (
    KEYS_ENV,
    Keyring,
    NoSecretKeyError,
    SecretKeyMismatchError,
    generate_key,
    load_keyring,
)
from atomnb.atom.secrets.service import MAX_SECRET_BYTES, AtomSecrets, enable_audit_log

__all__ = [
    "KEYS_ENV",
    "MAX_SECRET_BYTES",
    "AtomSecrets",
    "Keyring",
    "NoSecretKeyError",
    "SecretKeyMismatchError",
    "enable_audit_log",
    "generate_key",
    "load_keyring",
]
