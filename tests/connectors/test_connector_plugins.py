"""Connector plugins: found through real entry points, and checked by the conformance kit.

The third-party connector lives in a package made in a temporary folder with a
``*.dist-info`` (METADATA + entry_points.txt) next to it, put on ``sys.path``:
``importlib.metadata`` finds it exactly as it finds a pip-installed plugin.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from atomnb.connectors.conformance import ConformanceError, assert_conforms, check_connector
from atomnb.connectors.files import FileConnection
from atomnb.connectors.http import HttpOperation
from atomnb.connectors.registry import BUILTIN_CONNECTORS, ConnectorRegistry
from atomnb.documents import Documents
from atomnb.errors import ConfigError
from tests.connectors.conftest import BEARER_TOKEN
from tests.connectors.file_servers import SFTP_PASSWORD, SFTP_USER, free_port

PLUGIN = '''
"""A third party's connector: echoes documents back, stamped with a greeting."""

from atomnb.components import resolve_secret
from atomnb.connectors.base import ConnectionTest, timed_test
from atomnb.errors import ConfigError


class EchoConnection:
    def __init__(self, greeting, token):
        self.greeting, self.token = greeting, token

    @classmethod
    def from_dict(cls, settings):
        unknown = set(settings) - {"greeting", "token"}
        if unknown:
            raise ConfigError(f"unknown echo setting(s): {sorted(unknown)}")
        return cls(settings.get("greeting", "hi"), settings["token"])

    def to_dict(self):
        return {"greeting": self.greeting, "token": self.token}

    def __eq__(self, other):
        return isinstance(other, EchoConnection) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"EchoConnection(greeting={self.greeting!r}, token=<reference>)"

    def test(self):
        def probe():
            resolve_secret(self.token, name="token")
            return "echo is always reachable"
        return timed_test(probe)

    def send(self, documents):
        resolve_secret(self.token, name="token")
        return documents.with_properties(greeting=self.greeting)


class LeakyConnection(EchoConnection):
    """Breaks the contract on purpose: prints its secret and raises a bare exception."""

    def __repr__(self):
        return f"LeakyConnection(token={resolve_secret(self.token)!r})"

    def send(self, documents):
        raise RuntimeError("boom")
'''

ENTRY_POINTS = """\
[atomnb.connectors]
echo = acme_echo:EchoConnection
leaky = acme_echo:LeakyConnection
broken = acme_missing_module:Nothing
http = acme_echo:EchoConnection
"""


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    (site / "acme_echo").mkdir(parents=True)
    (site / "acme_echo" / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = site / "acme_echo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-echo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setenv("T_ECHO_TOKEN", "echo-token-s3cr3t")
    yield site
    sys.modules.pop("acme_echo", None)


def test_a_plugin_registered_through_an_entry_point_is_built_by_name(plugin_site: Path) -> None:
    registry = ConnectorRegistry()

    assert {"echo", "leaky", "broken", "http", "files", "database"} <= set(registry.names())
    assert registry.origin("echo") == "acme-echo"
    echo = registry.create("echo", {"greeting": "hello", "token": "env:T_ECHO_TOKEN"})
    sent = echo.send(Documents.from_records([{"id": 1}]))
    assert sent.properties_of(0) == {"greeting": "hello"}
    assert registry.origin("http") == "atomnb"  # a plugin never shadows a built-in
    assert type(registry.create("http", {"base_url": "http://x"})).__name__ == "HttpConnection"


def test_a_broken_plugin_fails_alone_with_a_clear_error(plugin_site: Path) -> None:
    registry = ConnectorRegistry()
    with pytest.raises(ConfigError, match=r"connector 'broken' .*acme-echo.* cannot be loaded"):
        registry.factory("broken")
    with pytest.raises(ConfigError, match="unknown connector 'nope'") as caught:
        registry.factory("nope")
    assert "echo" in str(caught.value)
    assert registry.create("echo", {"token": "env:T_ECHO_TOKEN"}).greeting == "hi"


def test_the_plugin_conforms(plugin_site: Path) -> None:
    report = assert_conforms(
        "echo",
        {"greeting": "hello", "token": "env:T_ECHO_TOKEN"},
        registry=ConnectorRegistry(),
        secrets=["echo-token-s3cr3t"],
        operation=lambda conn, docs: conn.send(docs),
        sample=Documents.from_records([{"id": 1}]),
        unreachable={"token": "env:T_ECHO_UNSET"},
    )
    assert len(report.checks) == 10 and report.ok


def test_the_kit_reports_every_broken_rule_of_a_bad_plugin(plugin_site: Path) -> None:
    report = check_connector(
        "leaky",
        {"token": "env:T_ECHO_TOKEN"},
        registry=ConnectorRegistry(),
        secrets=["echo-token-s3cr3t"],
        operation=lambda conn, docs: conn.send(docs),
    )
    failed = {check.name for check in report.failures}
    assert failed == {
        "operation takes and returns Documents",
        "no secret value in repr, settings, messages, errors or logs",
    }
    with pytest.raises(ConformanceError, match="does not conform"):
        report.raise_for_failures()
    assert "echo-token-s3cr3t" not in str(report)


def test_builtin_files_connector_conforms(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"id\n1\n")
    assert_conforms(
        "files",
        {"protocol": "file", "root": str(tmp_path)},
        operation=lambda conn, docs: conn.get("*.csv"),
        unreachable={"protocol": "ftp", "host": "127.0.0.1", "port": free_port(), "timeout": 5},
    )


def test_builtin_files_connector_conforms_over_sftp(
    sftp_server, secret_env: None, tmp_path: Path
) -> None:
    settings = {
        "protocol": "sftp",
        "host": sftp_server.host,
        "port": sftp_server.port,
        "user": SFTP_USER,
        "password": "env:T_SFTP_PASSWORD",
        "known_hosts": str(sftp_server.known_hosts),
    }
    docs = Documents.from_records([{"id": "conformance"}])
    assert_conforms(
        "files",
        settings,
        secrets=[SFTP_PASSWORD],
        operation=lambda conn, d: conn.put(d, "{id}.json", if_exists="overwrite"),
        sample=docs,
        unreachable={**settings, "password": "env:T_NOT_SET_ANYWHERE"},
    )
    assert FileConnection.from_dict(settings).get("conformance.json").to_pylist() == [
        {"id": "conformance"}
    ]


def test_builtin_http_connector_conforms(server, secrets_env: None) -> None:
    assert_conforms(
        "http",
        {"base_url": server.url, "auth": {"kind": "bearer", "token_ref": "env:T_BEARER"}},
        secrets=[BEARER_TOKEN],
        operation=lambda conn, docs: HttpOperation("GET", "/bearer").call(conn),
        unreachable={"base_url": f"http://127.0.0.1:{free_port()}"},
    )


def test_builtin_database_connector_conforms(tmp_path: Path) -> None:
    assert_conforms(
        "database",
        {"url": f"sqlite:///{tmp_path / 'erp.db'}"},
        operation=lambda conn, docs: conn.query("SELECT 1 AS one").collect(),
        unreachable={"url": f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}"},
    )


def test_builtins_are_listed_in_one_table() -> None:
    assert sorted(BUILTIN_CONNECTORS) == ["database", "files", "http", "streams"]
    closed = ConnectorRegistry({"files": BUILTIN_CONNECTORS["files"]}, plugins=False)
    assert closed.names() == ["files"]
