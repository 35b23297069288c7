"""Per-user API tokens with roles, on a real atom: who may read, run, deploy; revoked is out.

One atom for the module: it starts with no token (open on loopback), then the
first token is made on its machine with ``atomnb tokens create --home`` and
the others through the API by that admin, the two ways the README describes.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from atomnb.components import Workspace
from tests.atom.auth_helpers import (
    cli,
    deploy,
    http,
    make_token,
    start,
    start_closed,
    wait_until_closed,
    workspace,
)
from tests.atom.conftest import AtomProcess
from tests.conftest import run_async

pytestmark = pytest.mark.atom


class Setup:
    def __init__(self, atom: AtomProcess, ws: Workspace, tokens: dict[str, str]) -> None:
        self.atom, self.ws, self.tokens = atom, ws, tokens

    @property
    def url(self) -> str:
        return self.atom.url


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("roles")
    ws = workspace(root / "ws")
    atom = start(root / "home", root / "atom.log")
    try:
        tokens = {"ada": make_token(atom.home, "ada", "admin")}
        wait_until_closed(atom.url)
        with http(atom.url, tokens["ada"]) as admin:
            for name, role in (("vic", "viewer"), ("ollie", "operator")):
                answer = admin.post("/api/tokens", json={"name": name, "role": role})
                assert answer.status_code == 201, answer.text
                tokens[name] = answer.json()["token"]
        yield Setup(atom, ws, tokens)
    finally:
        atom.stop()


def test_without_a_token_an_atom_that_has_tokens_answers_401(setup: Setup) -> None:
    with http(setup.url) as anonymous:
        for method, path in (("GET", "/api/health"), ("POST", "/api/processes/echo/executions")):
            answer = anonymous.request(method, path)
            assert answer.status_code == 401, (path, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
            assert "token" in answer.json()["error"]
    with http(setup.url, "atnb_not-a-token") as wrong:
        assert wrong.get("/api/executions").status_code == 401


def test_admin_deploys_viewer_reads_but_may_not_trigger(setup: Setup) -> None:
    assert deploy(setup.url, setup.tokens["ada"], setup.ws.notebooks_dir / "echo.ipynb").is_success
    with http(setup.url, setup.tokens["vic"]) as viewer:
        assert viewer.get("/api/health").status_code == 200
        assert "echo" in [d["process"] for d in viewer.get("/api/deployments").json()]
        refused = viewer.post("/api/processes/echo/executions", json={})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "this needs the operator role; vic is a viewer"
        assert viewer.get("/api/executions").json() == []  # nothing ran
        assert viewer.get("/api/tokens").status_code == 403  # who holds tokens: admins only


def test_operator_triggers_and_cancels_but_may_not_deploy(setup: Setup) -> None:
    ada, ollie = setup.tokens["ada"], setup.tokens["ollie"]
    refused = deploy(setup.url, ollie, setup.ws.notebooks_dir / "sleeper.ipynb")
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "this needs the admin role; ollie is an operator"
    assert deploy(setup.url, ada, setup.ws.notebooks_dir / "sleeper.ipynb").status_code == 201
    with http(setup.url, ollie) as operator:
        started = operator.post("/api/processes/sleeper/executions", json={})
        assert started.status_code == 202, started.text
        execution = started.json()["id"]
        cancelled = operator.post(f"/api/executions/{execution}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert operator.delete("/api/deployments/sleeper").status_code == 403  # undeploy: admin
        assert operator.put("/api/secrets/X", json={"value": "v"}).status_code == 403
        assert operator.post("/api/tokens", json={"name": "x", "role": "admin"}).status_code == 403


def test_a_revoked_token_answers_401_at_once(setup: Setup) -> None:
    home = str(setup.atom.home)
    token = make_token(setup.atom.home, "short-lived", "viewer")
    with http(setup.url, token) as client:
        assert client.get("/api/executions").status_code == 200
        result = cli("tokens", "revoke", "short-lived", "--home", home)  # on the atom's machine
        assert result.returncode == 0 and "revoked" in result.stdout, result.stderr
        assert client.get("/api/executions").status_code == 401
    # and through the API, by an admin
    other = make_token(setup.atom.home, "also-short", "operator")
    with http(setup.url, setup.tokens["ada"]) as admin:
        assert admin.delete("/api/tokens/also-short").status_code == 200
        listed = {t["name"]: t for t in admin.get("/api/tokens").json()}
    assert listed["also-short"]["revoked_at"] and listed["ada"]["revoked_at"] is None
    with http(setup.url, other) as client:
        assert client.get("/api/executions").status_code == 401


def test_tokens_are_stored_hashed_never_in_clear(setup: Setup) -> None:
    with http(setup.url, setup.tokens["vic"]) as viewer:  # used: last_used_at is written
        assert viewer.get("/api/executions").status_code == 200
    database = setup.atom.home / "store.db"
    with sqlite3.connect(database) as db:
        rows = dict(db.execute("SELECT name, token_hash FROM api_tokens").fetchall())
        used = db.execute("SELECT last_used_at FROM api_tokens WHERE name = 'vic'").fetchone()
    for name, token in setup.tokens.items():
        assert rows[name] == hashlib.sha256(token.encode()).hexdigest()
    assert used[0] is not None
    # not in the database file, its WAL, nor anywhere else in the atom's home
    for path in setup.atom.home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for token in setup.tokens.values():
                assert token.encode() not in data, path


def test_tokens_cli_lists_names_and_roles_only(setup: Setup) -> None:
    result = cli("tokens", "list", "--home", str(setup.atom.home))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "CREATED", "BY", "LAST", "USED", "REVOKED"]
    assert any(line.split()[:2] == ["vic", "viewer"] for line in lines)
    for token in setup.tokens.values():
        assert token not in result.stdout
    through_api = cli("tokens", "list", "--atom", setup.url, token=setup.tokens["ada"])
    assert through_api.returncode == 0 and "ollie" in through_api.stdout, through_api.stderr
    refused = cli("tokens", "list", "--atom", setup.url, token=setup.tokens["vic"])
    assert refused.returncode == 2
    assert "this needs the admin role; vic is a viewer" in refused.stderr
    made = cli(
        "tokens",
        "create",
        "bob",
        "--role",
        "viewer",
        "--atom",
        setup.url,
        token=setup.tokens["ada"],
    )
    assert made.returncode == 0 and made.stdout.strip().startswith("atnb_"), made.stderr
    again = cli("tokens", "create", "bob", "--role", "admin", "--home", str(setup.atom.home))
    assert again.returncode == 2 and "a token named 'bob' exists already" in again.stderr
    bad = cli("tokens", "create", "api_token", "--role", "admin", "--home", str(setup.atom.home))
    assert bad.returncode == 2 and "reserved" in bad.stderr


def test_the_settings_api_token_is_an_admin_named_api_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """atom.toml's api_token keeps working beside the store's tokens, as the admin "api_token"."""
    home = tmp_path / "legacy"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "legacy"\n\n[settings]\napi_token = "env:AUTH_TEST_TOKEN"\n'
    )
    monkeypatch.setenv("AUTH_TEST_TOKEN", "the-settings-token")
    made = cli("tokens", "create", "vera", "--role", "viewer", "--home", str(home))
    assert made.returncode == 0, made.stderr
    atom = start_closed(home, tmp_path / "legacy.log", "the-settings-token")
    try:
        with http(atom.url, "the-settings-token") as admin:
            created = admin.post("/api/tokens", json={"name": "otto", "role": "operator"})
            assert created.status_code == 201
            assert created.json()["created_by"] == "api_token"
        with http(atom.url, made.stdout.strip()) as viewer:
            assert viewer.get("/api/health").status_code == 200
            assert viewer.delete("/api/tokens/otto").status_code == 403
    finally:
        atom.stop()


def test_the_atoms_own_call_token_is_an_operator_named_process_call(tmp_path: Path) -> None:
    """The token an atom hands its kernels for process calls runs work but deploys nothing."""

    import httpx

    from atomnb.atom.api import create_app
    from atomnb.atom.home import AtomHome
    from atomnb.atom.service import Atom
    from atomnb.store.tokens import TokenStore

    atom = Atom(AtomHome(tmp_path / "calls"), url="http://127.0.0.1:8765", prewarm=False)
    try:
        TokenStore(atom.store).create("someone", "viewer")  # the atom needs tokens now
        atom.call_token = "kernel-call-token"  # type: ignore[attr-defined]
        app = create_app(atom)

        async def calls() -> list[int]:
            transport = httpx.ASGITransport(app=app)
            headers = {"authorization": "Bearer kernel-call-token"}
            async with httpx.AsyncClient(
                transport=transport, base_url=atom.url, headers=headers, timeout=60
            ) as client:
                run = await client.post("/api/executions/nope/calls", json={"notebook": "x"})
                deploy = await client.post("/api/deployments", params={"notebook": "x"})
                audit = await client.get("/api/audit", params={"actor": "process-call"})
                return [run.status_code, deploy.status_code, len(audit.json()["entries"])]

        run, deploy, recorded = run_async(calls())
    finally:
        atom.store.close()
    assert run == 404  # past the guard: the execution is unknown
    assert deploy == 403
    assert recorded == 2
