"""A real HTTP server on loopback for the connector tests (uvicorn in a thread).

The Starlette app plays the remote systems: paged lists in five styles, flaky
endpoints (429 with Retry-After, 503), a slow one, a 404, an echo, endpoints
behind basic and bearer auth, an OAuth token endpoint that counts the tokens it
issues, the petstore's ``/pets`` (list and create) and bodies in XML, CSV and
broken JSON. Flaky endpoints count calls per key, so tests stay independent.
TLS servers and a forwarding proxy are in ``tls_servers``.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from atomnb.connectors.http import HttpConnection, RetryPolicy
from tests.connectors.file_remotes import remote, secret_env  # noqa: F401  (fixtures)
from tests.connectors.file_servers import ftp_server, s3_server, sftp_server  # noqa: F401  (fixtures)
from tests.connectors.tls_servers import (  # noqa: F401  (fixtures)
    auth_proxy_server,
    ftps_server,
    mtls_server,
    pki,
    proxy_server,
    tls_server,
)

PETS = [{"id": i, "name": f"pet{i}"} for i in range(1, 8)]  # 7 pets: pages of 3, 3, 1
PAGE = 3
BASIC_USER, BASIC_PASSWORD = "alice", "s3cret-pass-9x"
BEARER_TOKEN = "tok-bearer-77q"
API_KEY = "key-abc-5566"
CLIENT_ID, CLIENT_SECRET = "atomnb", "client-secret-42z"
TOKEN_LIFETIME = 60


@dataclass
class ServerState:
    """What the server saw: calls per key, tokens issued, pets created."""

    calls: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, float] = field(default_factory=dict)
    created: list[Any] = field(default_factory=list)


def _slice(offset: int, size: int = PAGE) -> list[dict[str, Any]]:
    return PETS[offset : offset + size]


def build_app(state: ServerState) -> Starlette:
    async def link(request: Request) -> Response:
        offset = int(request.query_params.get("offset", 0))
        headers = {}
        if offset + PAGE < len(PETS):
            headers["Link"] = f'<{request.url.path}?offset={offset + PAGE}>; rel="next"'
        return JSONResponse(_slice(offset), headers=headers)

    async def next_url(request: Request) -> Response:
        offset = int(request.query_params.get("offset", 0))
        more = offset + PAGE < len(PETS)
        nxt = str(request.url.include_query_params(offset=offset + PAGE)) if more else None
        return JSONResponse({"data": _slice(offset), "paging": {"next": nxt}})

    async def cursor(request: Request) -> Response:
        offset = int(request.query_params.get("cursor", "c0")[1:])
        more = offset + PAGE < len(PETS)
        return JSONResponse({"data": _slice(offset), "cursor": f"c{offset + PAGE}" if more else ""})

    async def offset_limit(request: Request) -> Response:
        offset, limit = int(request.query_params["offset"]), int(request.query_params["limit"])
        return JSONResponse(_slice(offset, limit))

    async def page(request: Request) -> Response:
        number = int(request.query_params["page"])
        state.calls["page"] += 1
        return JSONResponse({"data": _slice((number - 1) * PAGE)})

    async def endless(request: Request) -> Response:
        number = int(request.query_params.get("page", 1))
        return JSONResponse({"data": [{"n": number}]})

    async def pet(request: Request) -> Response:
        pet_id = request.path_params["pet_id"]
        found = [p for p in PETS if str(p["id"]) == pet_id]
        if not found:
            return JSONResponse({"error": f"no pet {pet_id}"}, status_code=404)
        return JSONResponse(found[0], headers={"X-Rate-Remaining": "99"})

    async def flaky(request: Request) -> Response:
        kind, key = request.path_params["kind"], request.path_params["key"]
        fails = int(request.query_params.get("fails", 1))
        state.calls[key] += 1
        if state.calls[key] <= fails:
            if kind == "429":
                return Response("slow down", 429, headers={"Retry-After": "7"})
            if kind == "429date":
                when = formatdate(time.time() + 20, usegmt=True)
                return Response("slow down", 429, headers={"Retry-After": when})
            return Response("unavailable", 503)
        return JSONResponse({"ok": True, "calls": state.calls[key]})

    async def slow(request: Request) -> Response:
        await asyncio.sleep(float(request.query_params.get("delay", 2)))
        return JSONResponse({"ok": True})

    async def echo(request: Request) -> Response:
        raw = await request.body()
        state.calls["echo"] += 1
        body: Any = None
        if raw:
            try:
                body = await request.json()
            except ValueError:
                body = raw.decode()
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "headers": dict(request.headers),
                "query": dict(request.query_params),
                "body": body,
            }
        )

    async def basic(request: Request) -> Response:
        given = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
        if given != f"Basic {expected}":
            # A careless server that echoes the credentials it refused: tests check redaction.
            return Response(f"bad credentials: {given}", 401)
        return JSONResponse({"user": BASIC_USER})

    async def bearer(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {BEARER_TOKEN}":
            return Response("invalid token", 401)
        return JSONResponse({"ok": True})

    async def token(request: Request) -> Response:
        # parsed by hand: Starlette's form parser needs python-multipart
        form = dict(parse_qsl((await request.body()).decode()))
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        state.calls["tokens"] += 1
        issued = f"at-{state.calls['tokens']}"
        state.tokens[issued] = time.time() + TOKEN_LIFETIME
        return JSONResponse(
            {"access_token": issued, "expires_in": TOKEN_LIFETIME, "scope": form.get("scope")}
        )

    async def oauth_data(request: Request) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if given not in state.tokens:
            return Response("unknown token", 401)
        return JSONResponse({"token": given})

    async def pets(request: Request) -> Response:
        if request.method == "POST":
            state.calls["create"] += 1
            state.created.append(await request.json())
            return Response(status_code=201)
        limit = int(request.query_params.get("limit", len(PETS)))
        nameless = [{"id": 99}] if limit > len(PETS) else []  # a record the Pet schema refuses
        return JSONResponse(PETS[:limit] + nameless)

    async def formats(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind == "xml":
            body = (
                "<pets><pet id='1'><name>pet1</name><born>2020-01-05</born></pet>"
                "<pet id='2'><name>pet2</name><born>not a date</born></pet>"
                "<pet id='3'><name>pet3</name><born>2021-07-30</born></pet></pets>"
            )
            return Response(body, media_type="application/xml")
        if kind in ("csv", "csv-as-text"):
            body = "id,name,weight\n1,pet1,3.5\n2,pet2,heavy\n3,pet3,12\n"
            return Response(body, media_type="text/csv" if kind == "csv" else "text/plain")
        return Response("{not json", media_type="application/json")  # "bad-json"

    async def text(request: Request) -> Response:
        return Response("plain words", media_type="text/plain")

    async def empty(request: Request) -> Response:
        return Response(status_code=204)

    async def redirect(request: Request) -> Response:
        return RedirectResponse(request.query_params["to"], status_code=302)

    return Starlette(
        routes=[
            Route("/pets", pets, methods=["GET", "POST"]),
            Route("/formats/{kind}", formats),
            Route("/pets/link", link),
            Route("/pets/next_url", next_url),
            Route("/pets/cursor", cursor),
            Route("/pets/offset", offset_limit),
            Route("/pets/page", page),
            Route("/pets/endless", endless),
            Route("/pets/{pet_id}", pet),
            Route("/flaky/{kind}/{key}", flaky, methods=["GET", "POST"]),
            Route("/slow", slow),
            Route("/echo", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/basic", basic),
            Route("/bearer", bearer),
            Route("/oauth/token", token, methods=["POST"]),
            Route("/oauth/data", oauth_data),
            Route("/redirect", redirect),
            Route("/text", text),
            Route("/empty", empty, methods=["DELETE"]),
        ]
    )


@dataclass
class LiveServer:
    url: str
    state: ServerState


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    """The app on a free loopback port, served by uvicorn in a background thread."""
    state = ServerState()
    port = _free_port()
    config = uvicorn.Config(
        build_app(state),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="http-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test HTTP server did not start")
        time.sleep(0.01)
    yield LiveServer(f"http://127.0.0.1:{port}", state)
    uv.should_exit = True
    thread.join(timeout=10)


class FakeTime:
    """An injectable clock and sleep: sleeping advances the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every secret the server knows, behind environment references."""
    monkeypatch.setenv("T_BASIC_PASSWORD", BASIC_PASSWORD)
    monkeypatch.setenv("T_BEARER", BEARER_TOKEN)
    monkeypatch.setenv("T_API_KEY", API_KEY)
    monkeypatch.setenv("T_CLIENT_SECRET", CLIENT_SECRET)


def connection(base_url: str, fake: FakeTime, **options: Any) -> HttpConnection:
    """A connection whose retries sleep on the fake clock (no test waits for backoff)."""
    retry_options = options.pop("retry", {})
    retry = RetryPolicy(
        sleep=fake.sleep, clock=fake.clock, wall=time.time, random=lambda: 0.5, **retry_options
    )
    return HttpConnection(base_url, retry=retry, **options)
