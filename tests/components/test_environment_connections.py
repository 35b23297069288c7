"""Environment extensions: per-connection overrides and the literal-secret rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomnb.components import load_environment
from atomnb.components.environments import is_secret_key, literal_secrets
from atomnb.errors import ConfigError


def test_connections_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "prod.toml").write_text(
        '[connections.shop]\nbase_url = "https://shop"\n[connections.erp]\nurl = "sqlite://"\n'
    )
    env = load_environment(tmp_path, "prod")
    assert env.connections == {"shop": {"base_url": "https://shop"}, "erp": {"url": "sqlite://"}}
    assert env.connection_overrides("shop") == {"base_url": "https://shop"}
    assert env.connection_overrides("other") == {}
    assert load_environment(tmp_path, None).connections == {}


def test_a_literal_secret_in_a_connection_override_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "prod.toml").write_text('[connections.erp]\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match=r"prod\.toml: connection 'erp': password must be"):
        load_environment(tmp_path, "prod")


def test_connections_must_be_tables(tmp_path: Path) -> None:
    (tmp_path / "dev.toml").write_text('connections = "shop"\n')
    with pytest.raises(ConfigError, match=r"\[connections\] must hold one table"):
        load_environment(tmp_path, "dev")


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("client_secret", True),
        ("client_secret_ref", True),
        ("value_ref", True),
        ("api_key", True),
        ("token", True),
        ("secret_access_key", True),
        ("passphrase", True),
        ("token_url", False),
        ("access_key_id", False),
        ("known_hosts", False),
        ("user", False),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_literal_secrets_are_found_at_any_depth() -> None:
    settings = {
        "auth": {"kind": "basic", "password_ref": "env:PW"},
        "headers": [{"token": "abc"}],
        "password": None,
        "secret": "file:/run/secret",
    }
    assert literal_secrets(settings) == ["headers.0.token"]
