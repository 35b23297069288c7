"""The atom's encrypted secret store, in process: keyring, store rows, service, resolver.

A real SQLite store (schema 6) and real Fernet keys; the end-to-end tests with an
atom in a subprocess are in ``test_secrets_atom.py``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from atomnb.atom.secrets import (
    KEYS_ENV,
    AtomSecrets,
    Keyring,
    NoSecretKeyError,
    SecretKeyMismatchError,
    generate_key,
    load_keyring,
)
from atomnb.components import resolve_secret
from atomnb.components.environments import register_secret_resolver
from atomnb.errors import ConfigError, UnknownEntityError
from atomnb.store import ExecutionStore

VALUE = "pa55-w0rd-\u00e9-canary"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ExecutionStore]:
    opened = ExecutionStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


@pytest.fixture
def no_resolver() -> Iterator[None]:
    register_secret_resolver("atom", None)
    yield
    register_secret_resolver("atom", None)


def _key_file(path: Path, *keys: str, mode: int = 0o600) -> Path:
    path.write_text("# the atom's keys, primary first\n" + "\n".join(keys) + "\n\n")
    path.chmod(mode)
    return path


# -- keyring --------------------------------------------------------------------------------


def test_a_generated_key_is_a_fernet_key() -> None:
    key = generate_key()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert generate_key() != key


def test_the_primary_key_encrypts_and_any_key_decrypts() -> None:
    old, new = generate_key(), generate_key()
    token = Keyring([old], source="test").encrypt(VALUE)
    both = Keyring([new, old], source="test")
    assert both.decrypt("S", token) == VALUE
    rotated = both.rotate("S", token)
    assert Keyring([new], source="test").decrypt("S", rotated) == VALUE
    with pytest.raises(SecretKeyMismatchError):
        Keyring([old], source="test").decrypt("S", rotated)


def test_a_wrong_key_says_so_in_one_sentence() -> None:
    token = Keyring([generate_key()], source="test").encrypt(VALUE)
    with pytest.raises(SecretKeyMismatchError) as caught:
        Keyring([generate_key()], source="test").decrypt("SHOP", token)
    assert caught.value.message == (
        "cannot decrypt secret SHOP: the atom's keys do not match the key it was stored with"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_keys_come_from_the_environment_which_then_forgets_them() -> None:
    first, second = generate_key(), generate_key()
    environ = {KEYS_ENV: f" {first}, {second} ", "OTHER": "x"}
    keyring = load_keyring(None, environ)
    assert keyring is not None and keyring.count == 2
    assert environ == {"OTHER": "x"}  # kernels started later do not inherit the keys
    assert Keyring([first], source="t").decrypt("S", keyring.encrypt(VALUE)) == VALUE


def test_no_key_is_no_keyring() -> None:
    assert load_keyring(None, {}) is None
    assert load_keyring(None, {KEYS_ENV: " "}) is None


def test_keys_come_from_a_file_primary_first(tmp_path: Path) -> None:
    first, second = generate_key(), generate_key()
    environ = {KEYS_ENV: generate_key()}
    keyring = load_keyring(_key_file(tmp_path / "keys", first, second), environ)
    assert keyring is not None and keyring.count == 2
    assert environ == {}
    assert Keyring([first], source="t").decrypt("S", keyring.encrypt(VALUE)) == VALUE


def test_a_key_file_open_to_every_user_is_refused(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "keys", generate_key(), mode=0o644)
    with pytest.raises(ConfigError, match=r"keys: the secret key file is open to every user") as c:
        load_keyring(path, {})
    assert c.value.hint == f"chmod 600 {path}"


def test_a_bad_line_in_the_key_file_is_named_but_not_shown(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "keys", generate_key(), "not-a-key-but-maybe-a-password")
    with pytest.raises(ConfigError, match=r"keys:3: this line is not a Fernet key") as caught:
        load_keyring(path, {})
    assert "maybe-a-password" not in str(caught.value)


def test_a_bad_key_in_the_environment_is_numbered_but_not_shown() -> None:
    with pytest.raises(ConfigError, match=r"ATOMNB_SECRET_KEYS: key 2 is not") as caught:
        load_keyring(None, {KEYS_ENV: f"{generate_key()},hunter2"})
    assert "hunter2" not in str(caught.value)


def test_a_missing_or_empty_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the secret key file"):
        load_keyring(tmp_path / "absent", {})
    with pytest.raises(ConfigError, match="holds no key"):
        load_keyring(_key_file(tmp_path / "keys"), {})


# -- the store and the service ----------------------------------------------------------------


def test_the_store_holds_a_token_never_the_value(store: ExecutionStore, tmp_path: Path) -> None:
    secrets = AtomSecrets(store, Keyring([generate_key()], source="t"))
    stored, created = secrets.set("SHOP_TOKEN", VALUE, actor="test")
    assert created and stored.name == "SHOP_TOKEN"
    again, created = secrets.set("SHOP_TOKEN", VALUE + "2", actor="test")
    assert not created and again.created_at == stored.created_at
    assert again.updated_at >= stored.updated_at
    assert [s.name for s in secrets.all()] == ["SHOP_TOKEN"]
    assert secrets.value("SHOP_TOKEN") == VALUE + "2"
    store.close()
    raw = (tmp_path / "store.db").read_bytes()
    for suffix in ("-wal", "-shm"):
        extra = tmp_path / f"store.db{suffix}"
        raw += extra.read_bytes() if extra.exists() else b""
    assert VALUE.encode() not in raw
    with sqlite3.connect(tmp_path / "store.db") as db:
        (token,) = db.execute("SELECT ciphertext FROM secrets").fetchone()
    assert token.startswith("gAAAAA")  # a Fernet token


def test_delete_and_unknown_names(store: ExecutionStore) -> None:
    secrets = AtomSecrets(store, Keyring([generate_key()], source="t"))
    secrets.set("A", "1", actor="test")
    secrets.delete("A", actor="test")
    assert secrets.all() == []
    with pytest.raises(UnknownEntityError, match="no secret 'A'"):
        secrets.delete("A", actor="test")
    with pytest.raises(ConfigError, match="atom secret A is not set on this atom"):
        secrets.value("A")
    with pytest.raises(ConfigError, match="is not an atom secret name"):
        secrets.set("../etc", "x", actor="test")


@pytest.mark.parametrize(
    ("value", "rule"),
    [("", "may not be empty"), (42, "must be text"), ("a\x00b", "NUL"), ("x" * 70000, "limited")],
)
def test_values_that_cannot_be_stored(store: ExecutionStore, value: object, rule: str) -> None:
    secrets = AtomSecrets(store, Keyring([generate_key()], source="t"))
    with pytest.raises(ConfigError, match=rule) as caught:
        secrets.set("A", value, actor="test")
    assert "xxxx" not in str(caught.value)
    assert secrets.rows.all() == []


def test_without_a_key_every_command_says_how_to_start(store: ExecutionStore) -> None:
    secrets = AtomSecrets(store, None)
    expected = "this atom has no secret key; start it with --secret-key-file or ATOMNB_SECRET_KEYS"
    for call in (
        lambda: secrets.set("A", "1", actor="t"),
        secrets.all,
        lambda: secrets.delete("A", actor="t"),
        lambda: secrets.rotate(actor="t"),
        lambda: secrets.value("A"),
    ):
        with pytest.raises(NoSecretKeyError) as caught:
            call()
        assert caught.value.message == expected


def test_rotation_moves_every_secret_to_the_primary_key(store: ExecutionStore) -> None:
    old, new = generate_key(), generate_key()
    AtomSecrets(store, Keyring([old], source="t")).set("A", "one", actor="t")
    AtomSecrets(store, Keyring([old], source="t")).set("B", "two", actor="t")
    both = AtomSecrets(store, Keyring([new, old], source="t"))
    assert both.rotate(actor="t") == ["A", "B"]
    only_new = AtomSecrets(store, Keyring([new], source="t"))
    assert (only_new.value("A"), only_new.value("B")) == ("one", "two")


def test_rotation_is_all_or_nothing(store: ExecutionStore) -> None:
    old, stray, new = generate_key(), generate_key(), generate_key()
    AtomSecrets(store, Keyring([old], source="t")).set("A", "one", actor="t")
    AtomSecrets(store, Keyring([stray], source="t")).set("B", "two", actor="t")
    before = {name: store_token(store, name) for name in ("A", "B")}
    with pytest.raises(SecretKeyMismatchError, match="cannot decrypt secret B"):
        AtomSecrets(store, Keyring([new, old], source="t")).rotate(actor="t")
    assert {name: store_token(store, name) for name in ("A", "B")} == before


def store_token(store: ExecutionStore, name: str) -> str | None:
    return AtomSecrets(store, None).rows.token(name)


def test_the_started_service_resolves_atom_references(
    store: ExecutionStore, tmp_path: Path, no_resolver: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    monkeypatch.setenv(KEYS_ENV, key)
    secrets = AtomSecrets.open(store)
    secrets.start()
    assert KEYS_ENV not in os.environ
    secrets.set("SHOP", VALUE, actor="t")
    assert resolve_secret("atom:SHOP", name="api_token") == VALUE
    assert secrets.kernel_env(["SHOP"]) == {"ATOMNB_ATOM_SECRET__SHOP": VALUE}
    with pytest.raises(ConfigError, match=r"^secret .api_token.: atom secret NOPE is not set"):
        resolve_secret("atom:NOPE", name="api_token")
    secrets.stop()
    with pytest.raises(ConfigError, match="only in runs on an atom"):
        resolve_secret("atom:SHOP", name="api_token")


def test_a_rotated_away_key_fails_the_reference_in_one_sentence(
    store: ExecutionStore, no_resolver: None
) -> None:
    AtomSecrets(store, Keyring([generate_key()], source="t")).set("SHOP", VALUE, actor="t")
    other = AtomSecrets(store, Keyring([generate_key()], source="t"))
    register_secret_resolver("atom", other.value)
    with pytest.raises(ConfigError) as caught:
        resolve_secret("atom:SHOP", name="api_token")
    assert str(caught.value).splitlines()[0] == (
        "secret 'api_token': cannot decrypt secret SHOP: the atom's keys do not match the "
        "key it was stored with"
    )


def test_the_audit_log_says_who_and_what_never_the_value(
    store: ExecutionStore, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = AtomSecrets(store, Keyring([generate_key()], source="t"))
    with caplog.at_level(logging.INFO, logger="atomnb.atom.secrets.audit"):
        secrets.set("SHOP", VALUE, actor="127.0.0.1 (api token)")
        secrets.value("SHOP")
        secrets.rotate(actor="127.0.0.1")
        secrets.delete("SHOP", actor="127.0.0.1")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "secret SHOP created by 127.0.0.1 (api token)",
        "secret SHOP decrypted for a run",
        "1 secret(s) re-encrypted under the primary key by 127.0.0.1",
        "secret SHOP deleted by 127.0.0.1",
    ]
    assert VALUE not in caplog.text
