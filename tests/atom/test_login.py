"""The console's login on a real atom: a form, a session cookie, CSRF on every console form."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.atom.auth_helpers import http, make_token, start, wait_until_closed
from tests.atom.conftest import AtomProcess
from tests.conftest import run_async

pytestmark = pytest.mark.atom

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AtomProcess, str]]:
    root = tmp_path_factory.mktemp("login")
    atom = start(root / "home", root / "atom.log")
    try:
        with http(atom.url) as before:  # no token yet: the login page says the atom is open
            page = before.get("/login")
            assert page.status_code == 200 and "has no API tokens" in page.text
        token = make_token(atom.home, "lena", "viewer")
        wait_until_closed(atom.url)
        yield atom, token
    finally:
        atom.stop()


def _csrf(page: str) -> str:
    found = re.search(r"name='csrf_token' value='([^']+)'", page)
    assert found, page
    return found.group(1)


def _login(client: httpx.Client, token: str, next_url: str = "/") -> httpx.Response:
    form = client.get("/login", params={"next": next_url})
    assert form.status_code == 200
    fields = {"token": token, "csrf_token": _csrf(form.text), "next": next_url}
    return client.post("/login", data=fields)


def test_a_page_without_a_session_sends_the_browser_to_login(atom: tuple[AtomProcess, str]) -> None:
    process, _ = atom
    with http(process.url) as browser:
        answer = browser.get("/console/audit", params={"actor": "x"}, headers=HTML)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/console/audit%3Factor%3Dx"
        assert browser.get("/", headers=HTML).headers["location"] == "/login?next=/"
        assert browser.get("/api/executions").status_code == 401  # the API: no redirect
        page = browser.get("/login", params={"next": "/console/audit"})
        assert "<form method='post' action='/login'>" in page.text
        assert "src=" not in page.text and "http" not in page.text.split("<body>")[1]


def test_login_sets_a_session_cookie_that_opens_the_pages(atom: tuple[AtomProcess, str]) -> None:
    process, token = atom
    with http(process.url) as browser:
        answer = _login(browser, token, "/console/audit")
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/console/audit"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("atomnb_session=")
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags  # http://127.0.0.1: a Secure cookie would not come back
        session = browser.cookies["atomnb_session"]
        page = browser.get("/console/audit", headers=HTML)
        assert page.status_code == 200 and "Audit log" in page.text
        assert "signed in as <b>lena</b>" in page.text
        assert browser.get("/", headers=HTML).status_code == 200
        assert browser.get("/api/executions").status_code == 200  # the cookie works for reads
        assert browser.post("/api/processes/echo/executions", json={}).status_code == 403
    with sqlite3.connect(process.home / "store.db") as db:
        stored = [row[0] for row in db.execute("SELECT session_hash FROM console_sessions")]
    assert hashlib.sha256(session.encode()).hexdigest() in stored
    assert session not in stored


def test_a_console_post_without_its_csrf_field_is_refused(atom: tuple[AtomProcess, str]) -> None:
    process, token = atom
    with http(process.url) as browser:
        assert _login(browser, token).status_code == 303
        page = browser.get("/console/audit", headers=HTML)
        refused = browser.post("/logout", data={})
        assert refused.status_code == 403
        assert (
            refused.json()["error"] == "this form is stale or did not come from the atom's console"
        )
        wrong = browser.post("/logout", data={"csrf_token": "0" * 64})
        assert wrong.status_code == 403
        assert browser.get("/api/executions").status_code == 200  # still logged in
        out = browser.post("/logout", data={"csrf_token": _csrf(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/login"


def test_after_logout_the_old_cookie_opens_nothing(atom: tuple[AtomProcess, str]) -> None:
    process, token = atom
    with http(process.url) as browser:
        assert _login(browser, token).status_code == 303
        session = browser.cookies["atomnb_session"]
        page = browser.get("/console/audit", headers=HTML)
        assert browser.post("/logout", data={"csrf_token": _csrf(page.text)}).status_code == 303
    with http(process.url, cookies={"atomnb_session": session}) as replay:
        assert replay.get("/api/executions").status_code == 401
        assert replay.get("/console/audit", headers=HTML).status_code == 303


def test_a_wrong_token_or_a_foreign_next_does_not_get_far(atom: tuple[AtomProcess, str]) -> None:
    process, token = atom
    with http(process.url) as browser:
        wrong = _login(browser, "atnb_guessed")
        assert wrong.status_code == 401 and "not valid on this atom" in wrong.text
        assert "atomnb_session" not in browser.cookies
        for foreign in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            browser.cookies.clear()
            answer = _login(browser, token, foreign)
            assert answer.status_code == 303 and answer.headers["location"] == "/", foreign
        form = browser.get("/login").text
        stale = browser.post("/login", data={"token": token})  # no CSRF field: refused
        assert stale.status_code == 403 and "csrf_token" in form


def test_behind_https_the_cookie_is_secure(tmp_path: Path) -> None:
    """An atom whose base_url is https (behind TLS) marks its session cookie Secure."""
    from atomnb.atom.api import create_app
    from atomnb.atom.home import AtomHome
    from atomnb.atom.service import Atom
    from atomnb.store.tokens import TokenStore

    home = tmp_path / "tls"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "tls"\n\n[settings]\nbase_url = "https://atom.example.org"\n'
    )
    atom = Atom(AtomHome(home), url="http://127.0.0.1:8765", prewarm=False)
    try:
        _, token = TokenStore(atom.store).create("tess", "viewer")
        app = create_app(atom)

        async def login() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            base = "https://atom.example.org"
            async with httpx.AsyncClient(transport=transport, base_url=base, timeout=60) as web:
                return await _alogin(web, token)

        answer = run_async(login())
    finally:
        atom.store.close()
    assert answer.status_code == 303, answer.text
    flags = {part.strip().lower() for part in answer.headers["set-cookie"].split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict"} <= flags


async def _alogin(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await client.get("/login")
    return await client.post("/login", data={"token": token, "csrf_token": _csrf(form.text)})


@pytest.mark.browser
def test_a_person_logs_in_with_chromium_and_out_again(
    atom: tuple[AtomProcess, str], tmp_path: Path
) -> None:
    """Real Chromium: sent to the login page, the token typed in, the page shown, logged out."""
    import importlib.util
    import os

    from tests.browser.conftest import CHROMIUM, TIMEOUT_MS, shared_browser

    if not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None:
        if os.environ.get("ATOMNB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no Chromium at {CHROMIUM} or no playwright")
        pytest.skip(f"no Chromium at {CHROMIUM} or no playwright")
    artifacts = Path(os.environ.get("ATOMNB_TEST_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    process, token = atom
    context = shared_browser().new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{process.url}/console/audit")
        assert page.url == f"{process.url}/login?next=/console/audit"
        page.fill("#token", token)
        page.screenshot(path=str(artifacts / "login-form.png"))
        page.click("button[type=submit]")
        page.wait_for_url(f"{process.url}/console/audit")
        assert "signed in as lena" in page.inner_text("header")
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script sees the session
        (cookie,) = context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
            "atomnb_session",
            True,
            "Strict",
        )
        page.screenshot(path=str(artifacts / "audit-after-login.png"), full_page=True)
        page.click("header button[type=submit]")  # Log out (a form with its CSRF field)
        page.wait_for_url(f"{process.url}/login")
        page.goto(f"{process.url}/console/audit")
        assert page.url.startswith(f"{process.url}/login?next=")
    finally:
        context.close()
