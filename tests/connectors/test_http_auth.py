"""Auth by secret reference: the right credentials reach the server, and never leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomnb.connectors.http import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    HttpConnection,
    HttpOperation,
    HttpStatusError,
    OAuth2ClientCredentials,
)
from atomnb.documents import Documents
from atomnb.errors import ConfigError, FatalConnectorError
from tests.connectors.conftest import (
    API_KEY,
    BASIC_PASSWORD,
    BEARER_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_LIFETIME,
    FakeTime,
    LiveServer,
    connection,
)

SECRETS = (BASIC_PASSWORD, BEARER_TOKEN, API_KEY, CLIENT_SECRET)


def _no_secret_in(docs: Documents) -> None:
    for name in docs.property_names:
        text = str(docs.property(name).to_pylist())
        assert not any(secret in text for secret in SECRETS), name


def test_basic_auth_reaches_the_protected_endpoint(
    server: LiveServer, fake_time: FakeTime, secrets_env: None
) -> None:
    conn = connection(server.url, fake_time, auth=BasicAuth("alice", "env:T_BASIC_PASSWORD"))
    docs = HttpOperation("GET", "/basic").call(conn)
    assert docs.to_pylist() == [{"user": "alice"}]
    assert BASIC_PASSWORD not in repr(conn)
    _no_secret_in(docs)


def test_wrong_password_is_fatal_and_the_echoed_credentials_are_redacted(
    server: LiveServer, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_WRONG", "wrong-pass-31")
    conn = connection(server.url, fake_time, auth=BasicAuth("alice", "env:T_WRONG"))
    with pytest.raises(HttpStatusError) as caught:
        HttpOperation("GET", "/basic").call(conn)
    message = str(caught.value)
    assert caught.value.status == 401 and "401" in message and "bad credentials" in message
    assert "wrong-pass-31" not in message and "***" in message
    assert "YWxpY2U6d3JvbmctcGFzcy0zMQ" not in message  # base64 of alice:wrong-pass-31
    assert fake_time.sleeps == []  # 401 is not retried


def test_bearer_token_from_a_file_reference(
    server: LiveServer, fake_time: FakeTime, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(BEARER_TOKEN + "\n")
    conn = connection(server.url, fake_time, auth=BearerAuth(f"file:{token_file}"))
    assert HttpOperation("GET", "/bearer").call(conn).to_pylist() == [{"ok": True}]
    assert BEARER_TOKEN not in repr(conn) and BEARER_TOKEN not in str(conn.to_dict())


@pytest.mark.parametrize("where", ["header", "query"])
def test_api_key_in_header_or_query(
    server: LiveServer, fake_time: FakeTime, secrets_env: None, where: str
) -> None:
    auth = ApiKeyAuth("X-Api-Key" if where == "header" else "api_key", "env:T_API_KEY", where)  # type: ignore[arg-type]
    conn = connection(server.url, fake_time, auth=auth)
    docs = HttpOperation("GET", "/echo").call(conn)
    echoed = docs[0]
    if where == "header":
        assert echoed["headers"]["x-api-key"] == API_KEY
    else:
        assert echoed["query"] == {"api_key": API_KEY}
        assert "api_key=***" in docs.properties_of(0)["http.url"]
    _no_secret_in(docs)


def test_missing_secret_names_the_reference(server: LiveServer, fake_time: FakeTime) -> None:
    conn = connection(server.url, fake_time, auth=BearerAuth("env:T_NOT_SET_ANYWHERE"))
    with pytest.raises(ConfigError, match="T_NOT_SET_ANYWHERE"):
        HttpOperation("GET", "/bearer").call(conn)


def _oauth(
    server: LiveServer, fake_time: FakeTime
) -> tuple[HttpConnection, OAuth2ClientCredentials]:
    auth = OAuth2ClientCredentials(
        f"{server.url}/oauth/token", CLIENT_ID, "env:T_CLIENT_SECRET", scope="pets:read"
    )
    return connection(server.url, fake_time, auth=auth), auth


def test_oauth_token_is_cached_then_refreshed_before_expiry(
    server: LiveServer, fake_time: FakeTime, secrets_env: None
) -> None:
    conn, auth = _oauth(server, fake_time)
    op = HttpOperation("GET", "/oauth/data")
    first = op.call(conn)[0]["token"]
    assert op.call(conn)[0]["token"] == first  # cached: one token for both calls
    assert auth.tokens_issued == 1
    fake_time.now += TOKEN_LIFETIME - auth.refresh_margin + 1  # inside the refresh margin
    second = op.call(conn)[0]["token"]
    assert second != first and auth.tokens_issued == 2
    assert second in server.state.tokens and first in server.state.tokens
    assert CLIENT_SECRET not in repr(conn)
    assert first not in repr(conn)


def test_oauth_bad_client_secret_is_fatal_without_the_secret(
    server: LiveServer, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_CLIENT_SECRET", "not-the-secret-88")
    conn, _ = _oauth(server, fake_time)
    with pytest.raises(FatalConnectorError, match="401") as caught:
        HttpOperation("GET", "/oauth/data").call(conn)
    assert "not-the-secret-88" not in str(caught.value)


def test_connection_round_trips_through_its_dict(secrets_env: None) -> None:
    conn = HttpConnection(
        "https://api.example.com",
        headers={"Accept": "application/json"},
        connect_timeout=2,
        read_timeout=10,
        verify="/etc/ssl/certs/ca-certificates.crt",
        auth=OAuth2ClientCredentials("https://id.example.com/token", "me", "env:T_CLIENT_SECRET"),
    )
    body = conn.to_dict()
    assert HttpConnection.from_dict(body) == conn
    assert body["auth"]["client_secret_ref"] == "env:T_CLIENT_SECRET"
    assert CLIENT_SECRET not in str(body) and CLIENT_SECRET not in repr(conn)
    for auth in (BasicAuth("u", "env:P"), BearerAuth("env:T"), ApiKeyAuth("k", "env:K", "query")):
        again = HttpConnection.from_dict(HttpConnection("http://h", auth=auth).to_dict())
        assert again.auth == auth


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        HttpConnection("ftp://example.com")
    with pytest.raises(ConfigError, match="unknown auth kind"):
        HttpConnection.from_dict({"base_url": "http://h", "auth": {"kind": "magic"}})
    with pytest.raises(ConfigError, match="unknown HTTP connection setting"):
        HttpConnection.from_dict({"base_url": "http://h", "password": "x"})


def test_revoked_oauth_token_is_refreshed_once(
    server: LiveServer, fake_time: FakeTime, secrets_env: None
) -> None:
    conn, auth = _oauth(server, fake_time)
    op = HttpOperation("GET", "/oauth/data")
    first = op.call(conn)[0]["token"]
    del server.state.tokens[first]  # the server revokes it before it expires
    assert op.call(conn)[0]["token"] != first
    assert auth.tokens_issued == 2 and fake_time.sleeps == []


def test_unreadable_ca_bundle_is_a_configuration_error(tmp_path: Path) -> None:
    conn = HttpConnection("https://api.example.com", verify=str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="CA bundle"):
        HttpOperation("GET", "/").call(conn)
    with pytest.raises(ConfigError, match="HTTP connection"):
        HttpConnection.from_dict({"base_url": "http://h", "retry": {"attempts": 3}})
