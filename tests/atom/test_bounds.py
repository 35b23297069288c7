"""Bounded resources: a body without Content-Length is counted while it streams in.

A chunked body (no Content-Length) used to be read whole before anything was
checked: 300 MB sent to the trigger endpoint took the atom from 208 to
1,080 MB, even for a process that does not exist. Each case here sends several
hundred MB chunked to a real atom and asserts both the answer (404 for an
unknown process before the body is read, 413 once the limit is passed) and the
atom's peak resident memory (``VmHWM``, reset before each case).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess

pytestmark = pytest.mark.atom

MB = 1024 * 1024
SENT_MB = 300
#: What the atom may grow by while refusing SENT_MB: a few buffers, never the body.
MAX_RISE_MB = 100


@pytest.fixture
def atom(start_atom, atom_workspace: Workspace) -> AtomProcess:
    started: AtomProcess = start_atom("--workers", "1")
    started.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    return started


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _peak_rise_mb(atom: AtomProcess, send: httpx.Request) -> tuple[httpx.Response, float]:
    """Send ``send``; the answer and how far the atom's peak RSS rose above its RSS before."""
    assert atom.proc is not None
    pid = atom.proc.pid
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    except OSError:
        pytest.skip("cannot reset the atom's peak RSS (/proc/PID/clear_refs)")
    before = _status_kb(pid, "VmRSS")
    with httpx.Client(timeout=120) as client:
        response = client.send(send)
    return response, (_status_kb(pid, "VmHWM") - before) / 1024


def _chunked(total_mb: int = SENT_MB, head: bytes = b"") -> Iterator[bytes]:
    """``total_mb`` MB in 1 MB chunks (httpx sends a generator without Content-Length)."""
    block = b" " * MB
    if head:
        yield head
    for _ in range(total_mb):
        yield block


def _post(url: str, media: str, body: Iterator[bytes]) -> httpx.Request:
    return httpx.Request("POST", url, content=body, headers={"content-type": media})


def test_a_chunked_trigger_for_an_unknown_process_answers_404_unread(atom: AtomProcess) -> None:
    url = f"{atom.url}/api/processes/nobody/executions"
    response, rise = _peak_rise_mb(atom, _post(url, "application/json", _chunked(head=b"{")))
    assert response.status_code == 404, response.text
    assert "nobody" in response.json()["error"]
    assert rise < MAX_RISE_MB, f"the atom grew by {rise:.0f} MB"


def test_a_chunked_trigger_over_the_limit_answers_413(atom: AtomProcess) -> None:
    url = f"{atom.url}/api/processes/echo/executions"
    head = b'{"parameters": {"greeting": "'
    response, rise = _peak_rise_mb(atom, _post(url, "application/json", _chunked(head=head)))
    assert response.status_code == 413, response.text
    assert "limit" in response.json()["error"]
    assert rise < MAX_RISE_MB, f"the atom grew by {rise:.0f} MB"
    assert atom.client.executions(process="echo") == []
    small = httpx.post(url, json={"parameters": {"times": 3}}, timeout=60)  # still serving
    assert small.status_code == 202, small.text


def test_a_chunked_listener_message_is_bounded(atom: AtomProcess) -> None:
    unknown, rise = _peak_rise_mb(
        atom, _post(f"{atom.url}/listen/nobody", "application/json", _chunked(head=b"["))
    )
    assert unknown.status_code == 404, unknown.text
    assert rise < MAX_RISE_MB, f"the atom grew by {rise:.0f} MB for an unknown process"
    known, rise = _peak_rise_mb(
        atom, _post(f"{atom.url}/listen/echo", "application/json", _chunked(head=b"["))
    )
    assert known.status_code == 413, known.text
    assert rise < MAX_RISE_MB, f"the atom grew by {rise:.0f} MB"


def test_a_chunked_deploy_upload_is_bounded(atom: AtomProcess) -> None:
    url = f"{atom.url}/api/deployments?notebook=notebooks/echo.ipynb"
    response, rise = _peak_rise_mb(atom, _post(url, "application/zip", _chunked(head=b"PK")))
    assert response.status_code == 413, response.text
    assert rise < MAX_RISE_MB, f"the atom grew by {rise:.0f} MB"
    leftovers = list((atom.home / "deployments" / ".incoming").glob("*"))
    assert leftovers == [], leftovers  # the spooled upload is removed


def test_a_package_just_under_the_limit_still_deploys_from_a_stream(
    atom: AtomProcess, atom_workspace: Workspace
) -> None:
    """A chunked upload that is within the limit is spooled to disk and deployed."""
    from atomnb.atom.package import build_package

    package = build_package(atom_workspace.notebooks_dir / "echo.ipynb")
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        assert archive.namelist()  # a real package

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(package.data), 4096):
            yield package.data[start : start + 4096]

    response = httpx.post(
        f"{atom.url}/api/deployments",
        params={"notebook": package.notebook, "retries": "1"},
        content=chunks(),
        headers={"content-type": "application/zip"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    assert response.json()["deployment"]["retries"] == 1
