"""The secrets API in process: the atom's real app and store behind its bearer token.

The end-to-end runs are in ``test_secrets_atom.py``; here the answers themselves:
the token is required, no answer or error holds a value, bodies are limited while
they stream, names are checked, and the audit line names who asked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from atomnb.atom.secrets import MAX_SECRET_BYTES, generate_key
from atomnb.atom.secrets.client import ACTOR_HEADER
from atomnb.components.environments import register_secret_resolver
from tests.conftest import run_async

pytestmark = pytest.mark.atom

TOKEN = "atom-api-token-for-tests"
VALUE = "v4lue-that-must-not-come-back"
URL = "http://127.0.0.1:8765"


class Client:
    """Requests to the app in process (httpx's ASGI transport), with the atom's token."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=URL, timeout=60) as http:
                return await http.request(method, path, headers=headers, **kwargs)

        return run_async(call())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    from atomnb.atom.api import create_app
    from atomnb.atom.home import AtomHome
    from atomnb.atom.service import Atom

    monkeypatch.setenv("TEST_ATOM_TOKEN", TOKEN)
    home = tmp_path / "home"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "secrets-api"\n[settings]\napi_token = "env:TEST_ATOM_TOKEN"\n'
    )
    keys = tmp_path / "keys"
    keys.write_text(generate_key() + "\n")
    keys.chmod(0o600)
    atom = Atom(AtomHome(home), url=URL, prewarm=False, secret_key_file=keys)
    yield Client(create_app(atom))
    atom.store.close()
    register_secret_resolver("atom", None)


def test_the_secrets_api_needs_the_atom_token(client: Client) -> None:
    for method, path in [("GET", "/api/secrets"), ("PUT", "/api/secrets/A")]:
        answer = client.request(method, path, json={"value": VALUE}, headers={"authorization": ""})
        assert answer.status_code == 401


def test_set_list_delete_answer_names_and_times_only(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="atomnb.atom.secrets.audit"):
        created = client.put(
            "/api/secrets/SHOP", json={"value": VALUE}, headers={ACTOR_HEADER: "alice@laptop"}
        )
        replaced = client.put("/api/secrets/SHOP", json={"value": VALUE + "2"})
        listed = client.get("/api/secrets")
        deleted = client.delete("/api/secrets/SHOP")
        missing = client.delete("/api/secrets/SHOP")
    assert created.status_code == 201 and created.json()["created"] is True
    assert set(created.json()) == {"name", "created_at", "updated_at", "created"}
    assert replaced.status_code == 200 and replaced.json()["created"] is False
    assert [s["name"] for s in listed.json()] == ["SHOP"]
    assert deleted.json() == {"deleted": "SHOP"}
    assert missing.status_code == 404
    for answer in (created, replaced, listed, deleted, missing):
        assert VALUE not in answer.text and "gAAAAA" not in answer.text
    audit = [r.getMessage() for r in caplog.records if r.name == "atomnb.atom.secrets.audit"]
    assert audit[0] == "secret SHOP created by 127.0.0.1 (api token, alice@laptop)"
    assert audit[-1] == "secret SHOP deleted by 127.0.0.1 (api token)"
    assert VALUE not in caplog.text


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b'{"value": 1}', 400, "must be text"),
        (b'{"value": ""}', 400, "may not be empty"),
        (b'{"value": "x", "note": "' + VALUE.encode() + b'"}', 400, 'one key, "value"'),
        (b'{"value": "' + VALUE.encode(), 400, "not JSON"),
        (b'["' + VALUE.encode() + b'"]', 400, 'one key, "value"'),
    ],
)
def test_a_refused_body_is_not_echoed(client: Client, body: bytes, status: int, says: str) -> None:
    answer = client.put(
        "/api/secrets/SHOP", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == status and says in answer.json()["error"]
    assert VALUE not in answer.text
    assert client.get("/api/secrets").json() == []


def test_a_form_body_is_refused_415(client: Client) -> None:
    answer = client.put(
        "/api/secrets/SHOP", content=f"value={VALUE}", headers={"content-type": "text/plain"}
    )
    assert answer.status_code == 415 and VALUE not in answer.text


def test_an_oversized_body_is_refused_while_it_streams(client: Client) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        nonlocal sent
        yield b'{"value": "'
        for _ in range(4096):
            sent += 1
            yield b"x" * 1024
        yield b'"}'

    answer = client.put(
        "/api/secrets/BIG", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert sent < 4096  # refused before the whole body was read
    value_at_limit = '{"value": "' + "y" * (MAX_SECRET_BYTES + 1) + '"}'
    over = client.put(
        "/api/secrets/BIG", content=value_at_limit, headers={"content-type": "application/json"}
    )
    assert over.status_code == 400 and "limited to" in over.json()["error"]


@pytest.mark.parametrize("name", ["has.dot", "1starts_with_digit", "x" * 129])
def test_names_are_checked(client: Client, name: str) -> None:
    answer = client.put(f"/api/secrets/{name}", json={"value": VALUE})
    assert answer.status_code == 400 and "is not an atom secret name" in answer.json()["error"]


def test_rotate_answers_the_names_and_the_schema_documents_the_routes(client: Client) -> None:
    client.put("/api/secrets/A", json={"value": VALUE})
    client.put("/api/secrets/B", json={"value": VALUE})
    rotated = client.post("/api/secrets/rotate")
    assert rotated.json() == {"rotated": 2, "names": ["A", "B"]}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"put", "delete"} <= set(paths["/api/secrets/{name}"])
    assert "post" in paths["/api/secrets/rotate"]
