"""Listings for scripts and for people: ``--json``, plain text in a pipe, rich on a terminal.

One workspace with a succeeding and a failing process is run once (``run-all
--json``); the listings are then read as a script would (JSON, plain text from a
pipe) and as a person would (in a pseudo-terminal, with and without NO_COLOR).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest

from atomnb.components import Workspace
from tests.conftest import make_notebook, run_cli

pytestmark = pytest.mark.notebook

COLOUR = "\x1b[3"  # an SGR foreground colour (green 32, red 31 …)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any], int]:
    """A workspace whose run-all --json ran once: (workspace, its JSON, its exit code)."""
    ws = Workspace.init(tmp_path_factory.mktemp("json") / "ws", name="json-ws")
    make_notebook(
        ws.notebooks_dir / "hello.ipynb",
        "import atomnb as ab\nab.track(ab.Documents.from_records([{'order': 'SO-7'}]), 'order')",
        parameters="times = 1",
    )
    make_notebook(
        ws.notebooks_dir / "broken.ipynb",
        "assert times < 0, 'broken on purpose'",
        parameters="times = 1",
    )
    result = run_cli("run-all", "--json", cwd=ws.root)
    assert result.stdout.strip().startswith("{"), result.stdout + result.stderr
    return ws, json.loads(result.stdout), result.returncode


def _terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run ``atomnb args`` with stdout and stderr on a 160-column pseudo-terminal; its output."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full.update(env, TERM="xterm-256color")
    full.pop("TTY_COMPATIBLE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "atomnb", *args],
        cwd=cwd,
        env=full,
        stdin=follower,  # rich sizes itself from the first terminal among stdin, stdout, stderr
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=240)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_run_all_json_is_one_document_and_keeps_exit_code_1(
    ran: tuple[Workspace, dict[str, Any], int],
) -> None:
    _, document, code = ran
    assert code == 1  # a process failed: as without --json
    assert document["succeeded"] == 1 and document["failed"] == 1
    assert document["with_warnings"] == 0 and document["skipped"] == []
    assert document["store"].startswith("sqlite:")
    statuses = {e["process"]: e["status"] for e in document["executions"]}
    assert statuses == {"hello": "succeeded", "broken": "failed"}


def test_executions_list_show_and_find_as_json(ran: tuple[Workspace, dict[str, Any], int]) -> None:
    ws, document, _ = ran
    hello = next(e for e in document["executions"] if e["process"] == "hello")

    listing = run_cli("executions", "--json", cwd=ws.root)
    assert listing.returncode == 0, listing.stderr
    listed = json.loads(listing.stdout)
    assert listed["source"]["kind"] == "store"
    assert {e["id"] for e in listed["executions"]} == {e["id"] for e in document["executions"]}
    for key in ("id", "process", "environment", "trigger", "status", "started_at", "duration_s"):
        assert all(key in e for e in listed["executions"]), key

    shown = run_cli("executions", "show", hello["id"], "--json", cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert set(detail) == {"execution", "shapes", "calls", "log", "drift"}
    assert detail["execution"]["id"] == hello["id"]
    assert [s["number"] for s in detail["shapes"]] == list(range(1, len(detail["shapes"]) + 1))
    assert detail["shapes"][0]["kind"] == "track"

    found = json.loads(run_cli("executions", "find", "order", "SO-7", "--json", cwd=ws.root).stdout)
    assert found["field"] == "order" and found["value"] == "SO-7"
    assert [hit["execution"]["id"] for hit in found["found"]] == [hello["id"]]

    missing = run_cli("executions", "show", "nope", "--json", cwd=ws.root)
    assert missing.returncode == 2 and "no execution with id 'nope'" in missing.stderr


def test_a_pipe_gets_plain_text(ran: tuple[Workspace, dict[str, Any], int]) -> None:
    ws, _, _ = ran
    listing = run_cli("executions", cwd=ws.root, env={"NO_COLOR": ""})
    assert "\x1b[" not in listing.stdout and "─" not in listing.stdout
    header = listing.stdout.splitlines()[0]
    assert header.split()[:5] == ["ID", "PROCESS", "ENV", "TRIGGER", "STATUS"]


def test_a_terminal_gets_a_rich_table_coloured_unless_no_color(
    ran: tuple[Workspace, dict[str, Any], int],
) -> None:
    ws, document, _ = ran
    coloured = _terminal(["executions"], ws.root, {})
    assert "─" in coloured  # the table's rule under its header
    assert COLOUR in coloured  # statuses coloured
    for execution in document["executions"]:
        assert execution["id"] in coloured

    plain = _terminal(["executions"], ws.root, {"NO_COLOR": "1"})
    assert "─" in plain and COLOUR not in plain
    hello = next(e for e in document["executions"] if e["process"] == "hello")
    shown = _terminal(["executions", "show", hello["id"]], ws.root, {"NO_COLOR": "1"})
    assert "succeeded" in shown and COLOUR not in shown
