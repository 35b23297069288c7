"""The atom's log as JSON lines (``--log-format json``): one object a line, with execution ids."""

from __future__ import annotations

import io
import json
import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atomnb.atom.home import AtomHome
from atomnb.atom.observe.logs import JsonFormatter, configure_logging
from atomnb.components import Workspace
from atomnb.errors import ConfigError
from tests.atom.observed import own_atom
from tests.conftest import make_notebook

pytestmark = pytest.mark.atom

#: What the atom prints on stdout besides its log (status lines, not log records).
STATUS_LINES = ("atom stopping", "atom stopped")


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("jsonlogs")
    workspace = Workspace.init(root / "ws", name="json-logs")
    notebook = make_notebook(
        workspace.notebooks_dir / "chatty.ipynb",
        "if fail:\n    raise RuntimeError('fails on purpose')\nprint('fine')",
        parameters="fail = False",
    )
    atom = own_atom(root / "home", "jsonlogs", ["--workers", "1", "--log-format", "json"])
    try:
        atom.deploy(notebook)
        ok = atom.client.trigger("chatty", wait=True)
        failed = atom.client.trigger("chatty", {"fail": True}, wait=True)
        with socket.create_connection(("127.0.0.1", atom.port), timeout=60) as raw:
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # the web server logs a warning
            raw.recv(1024)
    finally:
        atom.stop(signal.SIGINT)
    yield {"log": atom.log.read_text(encoding="utf-8"), "ok": ok, "failed": failed}


def _records(text: str) -> list[dict[str, Any]]:
    records = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(STATUS_LINES) or " serving http" in line:
            continue
        records.append(json.loads(line))  # anything else must be one JSON object
    return records


def test_every_log_line_is_a_json_object(logged: dict[str, Any]) -> None:
    records = _records(logged["log"])
    assert records, logged["log"]
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
        assert record["time"].endswith("+00:00")


def test_the_web_servers_own_lines_are_json_too(logged: dict[str, Any]) -> None:
    records = _records(logged["log"])
    served = [r for r in records if r["logger"].startswith("uvicorn")]
    assert any("Invalid HTTP request" in r["message"] for r in served), records


def test_lines_about_an_execution_carry_its_id(logged: dict[str, Any]) -> None:
    records = _records(logged["log"])
    by_execution = {r["execution_id"]: r for r in records if "execution_id" in r}
    ok, failed = logged["ok"], logged["failed"]
    assert "ended: succeeded" in by_execution[ok["id"]]["message"]
    assert by_execution[ok["id"]]["logger"].startswith("atomnb.")
    assert "ended: failed" in by_execution[failed["id"]]["message"]


def test_the_formatter_finds_the_execution_id_and_keeps_tracebacks() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("atomnb.test.jsonlogs")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        logger.warning("execution %s could not run", "20261204101500a1b2c3d4e5f6")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("no id here", extra={"execution_id": "given"})
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["execution_id"] == "20261204101500a1b2c3d4e5f6"
    assert first["level"] == "warning" and first["logger"] == "atomnb.test.jsonlogs"
    assert second["execution_id"] == "given"
    assert "ValueError: boom" in second["exception"]


def test_log_format_is_a_checked_setting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "atom.toml").write_text('[atom]\nid = "x"\n[settings]\nlog_format = "xml"\n')
    with pytest.raises(ConfigError, match="log_format must be 'text' or 'json'"):
        AtomHome(home).settings()
    with pytest.raises(ConfigError, match="unknown log format"):
        configure_logging("xml")
