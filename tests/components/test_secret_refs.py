"""``atom:NAME`` secret references: accepted wherever ``env:``/``file:`` are, resolved at use time.

Outside an atom, an ``atom:`` reference resolves from ``ATOMNB_ATOM_SECRET__<NAME>`` (how a
kernel started by the atom receives it) or fails with a clear message; inside the atom a
registered resolver answers (it decrypts from the atom's store).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atomnb.components import load_environment, resolve_secret
from atomnb.components.environments import (
    atom_secret_env_name,
    is_secret_reference,
    literal_secrets,
    register_secret_resolver,
)
from atomnb.connectors.connections import ConnectionSpec
from atomnb.errors import ConfigError


@pytest.fixture
def no_resolver() -> Iterator[None]:
    """Leave no resolver registered behind, whatever a test registers."""
    register_secret_resolver("atom", None)
    yield
    register_secret_resolver("atom", None)


def test_an_extension_may_name_an_atom_secret(tmp_path: Path) -> None:
    (tmp_path / "prod.toml").write_text(
        '[secrets]\napi_token = "atom:SHOP_TOKEN"\n'
        '[connections.erp]\nurl = "sqlite://"\npassword = "atom:ERP_PASSWORD"\n'
    )
    env = load_environment(tmp_path, "prod")
    assert env.secrets == {"api_token": "atom:SHOP_TOKEN"}
    assert env.connection_overrides("erp")["password"] == "atom:ERP_PASSWORD"


@pytest.mark.parametrize("reference", ["atom:", "atom:has space", "atom:../x", "atom:a=b"])
def test_an_atom_reference_needs_a_plain_name(tmp_path: Path, reference: str) -> None:
    (tmp_path / "prod.toml").write_text(f'[secrets]\napi_token = "{reference}"\n')
    with pytest.raises(ConfigError, match=r"prod\.toml: secret 'api_token': .*atom secret name"):
        load_environment(tmp_path, "prod")


def test_a_literal_secret_is_still_refused(tmp_path: Path) -> None:
    (tmp_path / "prod.toml").write_text('[secrets]\napi_token = "atomic-value"\n')
    with pytest.raises(ConfigError, match="must be a reference") as caught:
        load_environment(tmp_path, "prod")
    assert "atomic-value" not in str(caught.value)
    assert "atom:NAME" in str(caught.value)


def test_literal_secrets_take_atom_references() -> None:
    settings = {"password": "atom:DB_PW", "auth": {"token_ref": "atom:T"}, "secret": "x"}
    assert literal_secrets(settings) == ["secret"]
    assert is_secret_reference("atom:DB_PW")
    assert not is_secret_reference("atom")
    assert not is_secret_reference(42)


def test_a_connection_component_takes_an_atom_reference() -> None:
    ConnectionSpec("erp", "http", {"auth": {"kind": "bearer", "token": "atom:ERP"}}).check_secrets()


def test_outside_an_atom_the_reference_says_where_it_works(
    no_resolver: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(atom_secret_env_name("SHOP_TOKEN"), raising=False)
    with pytest.raises(ConfigError) as caught:
        resolve_secret("atom:SHOP_TOKEN", name="api_token")
    assert str(caught.value) == (
        "secret 'api_token': atom secret SHOP_TOKEN is not available here (only in runs on an atom)"
    )


def test_a_kernel_started_by_the_atom_reads_it_from_its_environment(
    no_resolver: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert atom_secret_env_name("SHOP_TOKEN") == "ATOMNB_ATOM_SECRET__SHOP_TOKEN"
    monkeypatch.setenv("ATOMNB_ATOM_SECRET__SHOP_TOKEN", "s3cr3t")
    assert resolve_secret("atom:SHOP_TOKEN", name="api_token") == "s3cr3t"


def test_a_registered_resolver_answers_first(
    no_resolver: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMNB_ATOM_SECRET__SHOP_TOKEN", "from-env")
    asked: list[str] = []

    def from_store(target: str) -> str:
        asked.append(target)
        return "from-store"

    register_secret_resolver("atom", from_store)
    assert resolve_secret("atom:SHOP_TOKEN") == "from-store"
    assert asked == ["SHOP_TOKEN"]
    register_secret_resolver("atom", None)
    assert resolve_secret("atom:SHOP_TOKEN") == "from-env"


def test_a_resolver_error_names_the_parameter(no_resolver: None) -> None:
    def failing(target: str) -> str:
        raise ConfigError(f"cannot decrypt secret {target}: the atom's keys do not match")

    register_secret_resolver("atom", failing)
    with pytest.raises(ConfigError, match=r"^secret 'pw': cannot decrypt secret DB: the atom"):
        resolve_secret("atom:DB", name="pw")


def test_env_and_file_cannot_be_replaced() -> None:
    with pytest.raises(ValueError, match="built in"):
        register_secret_resolver("env", lambda target: "x")


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"use env:, file: or atom:"):
        resolve_secret("vault:x", name="pw")


def test_connectors_take_atom_references_for_their_secret_fields() -> None:
    from atomnb.connectors.files.connection import FileConnection
    from atomnb.connectors.http.connection import HttpConnection
    from atomnb.connectors.sql import SqlConnection

    assert SqlConnection.from_dict({"url": "sqlite://", "password": "atom:DB_PW"}).password
    FileConnection("sftp", root="/in", host="h", user="u", password="atom:SFTP_PW")
    HttpConnection("https://api.example.com", proxy="http://proxy:3128", proxy_password="atom:P")
    with pytest.raises(ConfigError, match="must be a secret reference"):
        SqlConnection.from_dict({"url": "sqlite://", "password": "hunter2"})
