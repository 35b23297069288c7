"""The atom's API refuses what it must: other sites, foreign hosts, wrong bodies, bad input.

Real atoms in subprocesses answer over loopback; the few cases an outside
client cannot bring about (an atom that is stopping) use the app in-process.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.atom.client import AtomClient
from atomnb.atom.package import build_package
from atomnb.components import Workspace
from atomnb.errors import AtomError, UnknownEntityError
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook, run_async

pytestmark = pytest.mark.atom

TOKEN = "t0ken-for-the-test-atom"


@pytest.fixture
def atom(start_atom, atom_workspace: Workspace) -> AtomProcess:
    started: AtomProcess = start_atom("--workers", "1")
    started.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    return started


def _executions(atom: AtomProcess) -> list[dict[str, Any]]:
    return atom.client.executions(process="echo")


# -- CSRF and DNS rebinding --------------------------------------------------------------


def test_a_request_from_another_sites_page_is_refused(atom: AtomProcess) -> None:
    url = f"{atom.url}/api/processes/echo/executions"
    for origin in ("http://evil.example", "null", f"http://evil.example:{atom.port}"):
        response = httpx.post(url, json={}, headers={"origin": origin}, timeout=60)
        assert response.status_code == 403, response.text
        assert "cross-origin" in response.json()["error"]
    simple = httpx.post(
        url,
        content=b"{}",
        headers={"origin": "http://evil.example", "content-type": "text/plain"},
        timeout=60,
    )
    assert simple.status_code == 403
    assert _executions(atom) == []  # nothing ran

    own = httpx.post(url, json={}, headers={"origin": atom.url}, timeout=60)
    assert own.status_code == 202, own.text
    also_own = httpx.get(
        f"{atom.url}/api/health", headers={"origin": f"http://localhost:{atom.port}"}, timeout=60
    )
    assert also_own.status_code == 200


def test_a_foreign_host_name_is_refused_against_dns_rebinding(atom: AtomProcess) -> None:
    for host in (f"evil.example:{atom.port}", "evil.example", f"127.0.0.1:{atom.port + 1}"):
        response = httpx.get(f"{atom.url}/api/health", headers={"host": host}, timeout=60)
        assert response.status_code == 421, (host, response.text)
        assert "host" in response.json()["error"]
    page = httpx.get(f"{atom.url}/", headers={"host": f"rebound.example:{atom.port}"}, timeout=60)
    assert page.status_code == 421
    for host in (f"localhost:{atom.port}", f"127.0.0.1:{atom.port}", f"[::1]:{atom.port}"):
        assert (
            httpx.get(f"{atom.url}/api/health", headers={"host": host}, timeout=60).status_code
            == 200
        )


def test_bodies_need_their_proper_content_type(
    atom: AtomProcess, atom_workspace: Workspace
) -> None:
    package = build_package(atom_workspace.notebooks_dir / "echo.ipynb")
    deploy = f"{atom.url}/api/deployments"
    params = {"notebook": package.notebook}
    for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = httpx.post(
            deploy, params=params, content=package.data, headers={"content-type": media}, timeout=60
        )
        assert response.status_code == 415, response.text
        assert "application/zip" in response.json()["error"]
    raw = httpx.post(
        deploy,
        params=params,
        content=package.data,
        headers={"content-type": "application/octet-stream"},
        timeout=60,
    )
    assert raw.status_code == 201, raw.text

    trigger = f"{atom.url}/api/processes/echo/executions"
    for media in ("text/plain", "application/x-www-form-urlencoded"):
        response = httpx.post(trigger, content=b"{}", headers={"content-type": media}, timeout=60)
        assert response.status_code == 415, response.text
    assert _executions(atom) == []
    assert httpx.post(trigger, timeout=60).status_code == 202  # no body: defaults
    assert httpx.post(trigger, json={"parameters": {"times": 2}}, timeout=60).status_code == 202


# -- the API token -----------------------------------------------------------------------


@pytest.fixture
def token_atom(
    tmp_path: Path, atom_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AtomProcess]:
    """An atom whose atom.toml asks for a token (read from $ATOM_TEST_TOKEN)."""
    home = tmp_path / "token-atom"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "token-atom"\n\n[settings]\napi_token = "env:ATOM_TEST_TOKEN"\n'
    )
    monkeypatch.setenv("ATOM_TEST_TOKEN", TOKEN)
    monkeypatch.delenv("ATOMNB_ATOM_TOKEN", raising=False)
    port = _free_port()
    log = tmp_path / "token-atom.log"
    command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(home)]
    command += ["--port", str(port), "--stop-grace", "5", "--workers", "1"]
    proc = subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # generous: atoms start slowly on loaded cores
    while True:
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 401:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    atom = AtomProcess(home, port, [], log, proc)
    atom.client = AtomClient(url, timeout_s=60, token=TOKEN)
    yield atom
    atom.stop()


def test_with_a_token_every_request_needs_it(
    token_atom: AtomProcess, atom_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = token_atom.url
    for method, path in (
        ("GET", "/api/health"),
        ("GET", "/api/executions"),
        ("POST", "/api/processes/echo/executions"),
        ("POST", "/listen/echo"),
        ("GET", "/"),
        ("GET", "/executions/abc"),
    ):
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
            response = httpx.request(method, f"{url}{path}", headers=headers, timeout=60)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
    with AtomClient(url) as anonymous, pytest.raises(AtomError, match="API token"):
        anonymous.health()

    monkeypatch.setenv("ATOMNB_ATOM_TOKEN", TOKEN)  # how the CLI finds it
    with AtomClient(url) as client:
        assert client.health()["status"] == "ok"
        client.deploy(build_package(atom_workspace.notebooks_dir / "echo.ipynb"))
        assert [d["process"] for d in client.deployments()] == ["echo"]
    dashboard = httpx.get(f"{url}/", headers={"authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert dashboard.status_code == 200 and "Overview" in dashboard.text
    schema = httpx.get(f"{url}/openapi.json", timeout=60)  # describes the API, holds no data
    assert schema.status_code == 200
    assert schema.json()["security"] == [{"atomToken": []}]
    # the API viewer and its own files open without the token (they hold no data)
    viewer = httpx.get(f"{url}/docs", timeout=60)
    assert viewer.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in viewer.text
    script = httpx.get(f"{url}/docs/assets/swagger-ui-bundle.js", timeout=60)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert httpx.get(f"{url}/docs/assets/../api/health", timeout=60).status_code == 401


def test_an_api_token_that_is_not_a_reference_stops_the_atom(tmp_path: Path) -> None:
    home = tmp_path / "bad-token"
    home.mkdir()
    (home / "atom.toml").write_text('[atom]\nid = "x"\n\n[settings]\napi_token = "plain"\n')
    command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(home)]
    result = subprocess.run(
        [*command, "--port", str(_free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "secret reference" in result.stdout + result.stderr


# -- bad input answers 4xx, not 500 --------------------------------------------------------


def test_bad_query_values_answer_400_or_422(atom: AtomProcess) -> None:
    bogus = httpx.get(f"{atom.url}/api/executions", params={"status": "bogus"}, timeout=60)
    assert bogus.status_code == 400, bogus.text
    assert "succeeded" in bogus.json()["hint"] and "queued" in bogus.json()["hint"]
    for limit in ("0", "-5"):
        response = httpx.get(f"{atom.url}/api/executions", params={"limit": limit}, timeout=60)
        assert response.status_code == 422, response.text
    assert (
        httpx.get(f"{atom.url}/api/executions", params={"status": "queued"}, timeout=60).status_code
        == 200
    )
    missing = httpx.post(f"{atom.url}/api/processes/nobody/executions", json={}, timeout=60)
    assert missing.status_code == 404 and "nobody" in missing.json()["error"]
    with pytest.raises(UnknownEntityError):
        atom.client.trigger("nobody")
    assert httpx.get(f"{atom.url}/api/executions/0000000", timeout=60).status_code == 404
    assert httpx.get(f"{atom.url}/api/deployments/nobody", timeout=60).status_code == 404


def _deploy_raw(atom: AtomProcess, data: bytes, **params: Any) -> httpx.Response:
    return httpx.post(
        f"{atom.url}/api/deployments",
        params=params,
        content=data,
        headers={"content-type": "application/zip"},
        timeout=60,
    )


def test_refused_deployments_change_nothing(atom: AtomProcess, atom_workspace: Workspace) -> None:
    package = build_package(atom_workspace.notebooks_dir / "echo.ipynb")
    before = httpx.get(f"{atom.url}/api/deployments/echo", timeout=60).json()
    cases: list[tuple[bytes, dict[str, Any], str]] = [
        (package.data, {"notebook": "../notebooks/echo.ipynb"}, "relative path"),
        (package.data, {"notebook": "/notebooks/echo.ipynb"}, "relative path"),
        (package.data, {"notebook": "notebooks\\echo.ipynb"}, "relative path"),
        (package.data, {"schedule": "0 0 30 2 *"}, "never fires"),
        (package.data, {"timeout_s": "nan"}, "timeout_s"),
        (package.data, {"timeout_s": "inf"}, "timeout_s"),
        (package.data, {"timeout_s": str(8 * 24 * 3600)}, "timeout_s"),
        (package.data, {"retry_delay_s": "-1"}, "retry_delay_s"),
        (package.data, {"retry_delay_s": "1e9"}, "retry_delay_s"),
        (package.data, {"retries": "101"}, "retries"),
        (package.data, {"max_concurrent": "0"}, "max_concurrent"),
        (package.data, {"max_concurrent": "1001"}, "max_concurrent"),
        (_corrupt(package.data), {}, "corrupt"),
        (_zip({"a": b"x", "a/b": b"y"}), {}, "both as a file and as a folder"),
        (b"not a zip at all", {}, "not a zip"),
    ]
    for data, params, message in cases:
        query = {"notebook": package.notebook, **params}
        response = _deploy_raw(atom, data, **query)
        assert response.status_code == 400, (params, response.text)
        assert message in response.json()["error"], (params, response.json())
    assert httpx.get(f"{atom.url}/api/deployments/echo", timeout=60).json() == before
    assert all(s["cron"] != "0 0 30 2 *" for s in atom.client.schedules())


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _corrupt(package: bytes) -> bytes:
    """The same zip with one byte of the notebook's data changed: its CRC no longer fits."""
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        for name in archive.namelist():
            entries[name] = archive.read(name)
    marker = b'"cells"'
    data = _zip(entries)
    at = data.index(marker)
    return data[:at] + b'"cellz"' + data[at + len(marker) :]


# -- size limits -------------------------------------------------------------------------------


@pytest.fixture
def small_listener(start_atom, atom_workspace: Workspace, tmp_path: Path) -> AtomProcess:
    make_notebook(
        atom_workspace.notebooks_dir / "count.ipynb",
        "import atomnb as ab\nrows = ab.start(ab.Documents.from_records([{'n': 1}]))\n"
        "ab.return_documents(ab.Documents.from_records([{'count': len(rows)}]))",
        parameters="x = 1",
    )
    home = tmp_path / "small"
    home.mkdir()
    (home / "atom.toml").write_text('[atom]\nid = "small"\n\n[settings]\nlisten_max_bytes = 2000\n')
    atom: AtomProcess = start_atom("--workers", "1", home=home)
    atom.deploy(atom_workspace.notebooks_dir / "count.ipynb")
    return atom


def test_oversized_bodies_answer_413(small_listener: AtomProcess) -> None:
    url = f"{small_listener.url}/listen/count"
    big = b"[" + b",".join(b'{"n": 1}' for _ in range(1000)) + b"]"
    declared = httpx.post(
        url, content=big, headers={"content-type": "application/json"}, timeout=60
    )
    assert declared.status_code == 413, declared.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    streamed = httpx.post(
        url, content=chunks(), headers={"content-type": "application/json"}, timeout=60
    )
    assert streamed.status_code == 413, streamed.text
    huge_trigger = httpx.post(
        f"{small_listener.url}/api/processes/count/executions",
        json={"parameters": {"x": "y" * 2_000_000}},
        timeout=60,
    )
    assert huge_trigger.status_code == 413, huge_trigger.text
    assert small_listener.client.executions(process="count") == []

    small = httpx.post(url, json=[{"n": 1}, {"n": 2}], timeout=60)
    assert small.status_code == 200, small.text
    assert small.json() == [{"count": 2}]

    status_line = _raw_post(
        small_listener.port,
        "/api/deployments?notebook=notebooks/count.ipynb",
        {"content-type": "application/zip", "content-length": str(300 * 1024 * 1024)},
        b"PK",
    )
    assert b" 413 " in status_line, status_line  # refused before 300 MB arrive


def _raw_post(port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """Send a request whose Content-Length need not be true; return the status line."""
    lines = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return sock.makefile("rb").readline()


# -- an atom that is stopping ----------------------------------------------------------


def test_a_stopping_atom_answers_503(tmp_path: Path, atom_workspace: Workspace) -> None:
    """uvicorn stops serving before the atom stops, so this one runs the app in-process."""
    from atomnb.atom.api import create_app
    from atomnb.atom.home import AtomHome
    from atomnb.atom.service import Atom

    url = "http://127.0.0.1:8765"
    atom = Atom(AtomHome(tmp_path / "inproc"), url=url, prewarm=False)
    package = build_package(atom_workspace.notebooks_dir / "echo.ipynb")

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(atom))
        async with httpx.AsyncClient(transport=transport, base_url=url, timeout=60) as client:
            deployed = await client.post(
                "/api/deployments",
                params={"notebook": package.notebook},
                content=package.data,
                headers={"content-type": "application/zip"},
            )
            atom.stop(grace_s=0)
            triggered = await client.post("/api/processes/echo/executions", json={})
            listened = await client.post("/listen/echo", json=[{"a": 1}])
            return [deployed, triggered, listened]

    deployed, triggered, listened = run_async(scenario())
    assert deployed.status_code == 201, deployed.text
    for response in (triggered, listened):
        assert response.status_code == 503, response.text
        assert "stopping" in response.json()["error"]
        assert response.headers["retry-after"]
