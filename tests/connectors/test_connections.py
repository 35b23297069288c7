"""Connection components: save, load with environment overrides, build, test, list."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from atomnb.components import Workspace
from atomnb.connectors.connections import (
    ConnectionSpec,
    connection,
    list_connections,
    load_connection_spec,
    save_connection,
    test_connection,
)
from atomnb.connectors.files import FileConnection
from atomnb.connectors.http import BearerAuth, HttpConnection
from atomnb.connectors.sql import SqlConnection
from atomnb.errors import ComponentError, ConfigError
from tests.connectors.conftest import BEARER_TOKEN


def _extension(ws: Workspace, env: str, text: str) -> None:
    (ws.extensions_dir / f"{env}.toml").write_text(text, encoding="utf-8")


def test_save_load_and_build_each_builtin_kind(workspace: Workspace, tmp_path: Path) -> None:
    shop = ConnectionSpec(
        "shop_api",
        "http",
        {"base_url": "https://shop.example.com", "auth": {"kind": "bearer", "token_ref": "env:T"}},
    )
    path = save_connection(shop, workspace)
    save_connection(ConnectionSpec("erp", "database", {"url": "sqlite:///erp.db"}), workspace)
    save_connection(
        ConnectionSpec("inbox", "files", {"protocol": "file", "root": str(tmp_path)}), workspace
    )

    assert path == workspace.components_dir / "connections" / "shop_api.yaml"
    stored = yaml.safe_load(path.read_text())
    assert stored["kind"] == "connection" and stored["body"]["kind"] == "http"
    assert list_connections(workspace) == ["erp", "inbox", "shop_api"]
    assert load_connection_spec("shop_api", workspace) == shop
    live = connection("shop_api", workspace=workspace)
    assert isinstance(live, HttpConnection) and live.auth == BearerAuth("env:T")
    assert isinstance(connection("erp", workspace=workspace), SqlConnection)
    assert connection("inbox", workspace=workspace) == FileConnection("file", root=str(tmp_path))
    assert save_connection(shop, workspace) == path
    assert yaml.safe_load(path.read_text())["version"] == 1  # unchanged: no new version


def test_environment_overrides_merge_into_the_settings(workspace: Workspace) -> None:
    save_connection(
        ConnectionSpec(
            "shop_api",
            "http",
            {
                "base_url": "https://dev.shop.example.com",
                "read_timeout": 10.0,
                "auth": {"kind": "basic", "user": "dev", "password_ref": "env:DEV_PW"},
            },
        ),
        workspace,
    )
    _extension(
        workspace,
        "prod",
        '[connections.shop_api]\nbase_url = "https://shop.example.com"\n'
        '[connections.shop_api.auth]\nuser = "prod"\npassword_ref = "env:PROD_PW"\n',
    )

    prod = load_connection_spec("shop_api", workspace, env="prod")
    dev = load_connection_spec("shop_api", workspace)

    assert prod.settings == {
        "base_url": "https://shop.example.com",
        "read_timeout": 10.0,
        "auth": {"kind": "basic", "user": "prod", "password_ref": "env:PROD_PW"},
    }
    assert dev.settings["base_url"] == "https://dev.shop.example.com"
    assert (
        connection("shop_api", env="prod", workspace=workspace).base_url
        == prod.settings["base_url"]
    )


def test_the_process_environment_is_the_default(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_connection(ConnectionSpec("erp", "database", {"url": "sqlite:///dev.db"}), workspace)
    _extension(workspace, "test", '[connections.erp]\nurl = "sqlite:///test.db"\n')
    monkeypatch.setenv("ATOMNB_ENVIRONMENT", "test")
    monkeypatch.setenv("ATOMNB_WORKSPACE", str(workspace.root))

    assert connection("erp").url == "sqlite:///test.db"


@pytest.mark.parametrize(
    "settings",
    [
        {"url": "postgresql://erp@db/erp", "password": "hunter2"},
        {"base_url": "https://x", "auth": {"kind": "bearer", "token_ref": "abc123"}},
        {"protocol": "s3", "root": "b", "secret_access_key": "AKIA/secret"},
        {"base_url": "https://x", "headers": {"X-Api-Key": "x"}, "api_key": "k-123"},
    ],
)
def test_literal_secrets_are_refused_on_save(workspace: Workspace, settings: dict) -> None:
    with pytest.raises(ConfigError, match="must be a reference"):
        save_connection(ConnectionSpec("bad", "http", settings), workspace)
    assert list_connections(workspace) == []


def test_literal_secrets_are_refused_in_component_files_and_extensions(
    workspace: Workspace,
) -> None:
    save_connection(ConnectionSpec("erp", "database", {"url": "sqlite:///x.db"}), workspace)
    path = workspace.components_dir / "connections" / "erp.yaml"
    body = yaml.safe_load(path.read_text())
    body["body"]["settings"]["password"] = "typed-in-by-hand"
    path.write_text(yaml.safe_dump(body))
    with pytest.raises(ConfigError, match=r"erp\.yaml: connection 'erp': password must"):
        load_connection_spec("erp", workspace)

    save_connection(ConnectionSpec("shop", "http", {"base_url": "https://x"}), workspace)
    _extension(
        workspace, "prod", '[connections.shop]\nauth = { kind = "bearer", token_ref = "t0k" }\n'
    )
    with pytest.raises(ConfigError, match=r"prod\.toml: connection 'shop': auth\.token_ref"):
        load_connection_spec("shop", workspace, env="prod")


def test_unknown_names_and_kinds_say_what_is_known(workspace: Workspace) -> None:
    save_connection(ConnectionSpec("erp", "database", {"url": "sqlite:///x.db"}), workspace)
    with pytest.raises(ComponentError, match="no connection named 'nope'") as caught:
        connection("nope", workspace=workspace)
    assert "erp" in str(caught.value)
    save_connection(ConnectionSpec("odd", "carrier-pigeon", {}), workspace)
    with pytest.raises(ConfigError, match="unknown connector 'carrier-pigeon'"):
        connection("odd", workspace=workspace)
    save_connection(ConnectionSpec("typo", "database", {"ulr": "sqlite://"}), workspace)
    with pytest.raises(ConfigError, match="unknown database connection setting"):
        connection("typo", workspace=workspace)


def test_test_connection_reports_and_never_raises(
    workspace: Workspace,
    server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("T_BEARER", BEARER_TOKEN)
    monkeypatch.setenv("T_WRONG", "wrong-token-xyz")
    good = HttpConnection(server.url + "/bearer", auth=BearerAuth("env:T_BEARER"))
    wrong = HttpConnection(server.url + "/bearer", auth=BearerAuth("env:T_WRONG"))
    save_connection(
        ConnectionSpec("db", "database", {"url": f"sqlite:///{tmp_path}/x.db"}), workspace
    )
    monkeypatch.setenv("ATOMNB_WORKSPACE", str(workspace.root))

    ok, refused, by_name, missing = (
        test_connection(good),
        test_connection(wrong),
        test_connection("db"),
        test_connection("not_saved"),
    )

    assert ok.ok and "HTTP 200" in ok.message and ok.elapsed_s >= 0
    assert not refused.ok and "authentication refused (401)" in refused.message
    assert by_name.ok and "sqlite" in by_name.message
    assert not missing.ok and "no connection named 'not_saved'" in missing.message
    assert not test_connection(object()).ok
    for text in (caplog.text, refused.message, repr(wrong)):
        assert BEARER_TOKEN not in text and "wrong-token-xyz" not in text
