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
import os
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


# -- deployment packages: zip bombs and kept versions ------------------------------------


def _zeros_zip(members: dict[str, int], *, stored: bool = False) -> bytes:
    """A zip whose members are ``size`` zero bytes each, written in chunks (never in memory)."""
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, size in members.items():
            with archive.open(name, "w", force_zip64=size > 2**31) as sink:
                for start in range(0, size, MB):
                    sink.write(bytes(min(MB, size - start)))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"data/bomb.bin": 250 * MB}, "byte limit"),  # 250 KB unpacking to 250 MB
        ({"atomnb.toml": 10, "data/dense.bin": 20 * MB}, "100:1"),  # under the size limit
        ({f"data/{n}.bin": 900 * 1024 for n in range(60)}, "100:1"),  # each small, all dense
    ],
    ids=["total", "member-ratio", "overall-ratio"],
)
def test_a_zip_bomb_is_refused_before_anything_is_written(
    tmp_path: Path, members: dict[str, int], message: str
) -> None:
    from atomnb.atom.unpack import unpack_package
    from atomnb.errors import PayloadTooLargeError

    data = _zeros_zip(members)
    target = tmp_path / "unpacked"
    with pytest.raises(PayloadTooLargeError, match=message):
        unpack_package(data, target)
    assert not target.exists()


def test_too_many_members_and_special_files_are_refused(tmp_path: Path) -> None:
    from atomnb.atom.unpack import MAX_MEMBERS, unpack_package
    from atomnb.errors import AtomError, PayloadTooLargeError

    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(MAX_MEMBERS + 1):
            archive.writestr(f"f/{n}", b"")
    with pytest.raises(PayloadTooLargeError, match="files, over the limit"):
        unpack_package(many.getvalue(), tmp_path / "many")
    assert not (tmp_path / "many").exists()

    fifo = io.BytesIO()
    with zipfile.ZipFile(fifo, "w") as archive:
        info = zipfile.ZipInfo("data/pipe")
        info.external_attr = (0o010644) << 16  # S_IFIFO
        archive.writestr(info, b"")
    with pytest.raises(AtomError, match="special file"):
        unpack_package(fifo.getvalue(), tmp_path / "fifo")
    drive = io.BytesIO()
    with zipfile.ZipFile(drive, "w") as archive:
        archive.writestr("C:evil.txt", b"x")
    with pytest.raises(AtomError, match="unsafe name"):
        unpack_package(drive.getvalue(), tmp_path / "drive")


def test_a_member_that_inflates_past_its_header_is_refused_and_removed(tmp_path: Path) -> None:
    """The directory says 1,000 bytes; the data inflates to 5 MB."""
    from atomnb.atom.unpack import unpack_package
    from atomnb.errors import AtomError

    data = bytearray(_zeros_zip({"atomnb.toml": 1000, "data/liar.bin": 5 * MB}))
    for signature, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central, local
        at = data.rindex(signature)  # the second member's headers come last
        data[at + size_at : at + size_at + 4] = (1000).to_bytes(4, "little")
    target = tmp_path / "unpacked"
    with pytest.raises(AtomError, match=r"liar\.bin"):
        unpack_package(bytes(data), target)
    assert not target.exists()  # what was written before the lie was found is gone


def test_the_unpacked_size_limit_is_a_setting(start_atom, atom_workspace: Workspace) -> None:
    from atomnb.atom.package import build_package

    home = atom_workspace.root.parent / "small-packages"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "small-packages"\n\n[settings]\npackage_max_unpacked_bytes = 1048576\n'
    )
    atom: AtomProcess = start_atom("--workers", "1", home=home)
    data_dir = atom_workspace.notebooks_dir / "data"
    data_dir.mkdir()
    (data_dir / "noise.bin").write_bytes(os.urandom(2 * MB))  # incompressible: no ratio
    package = build_package(atom_workspace.notebooks_dir / "echo.ipynb")
    response = httpx.post(
        f"{atom.url}/api/deployments",
        params={"notebook": package.notebook},
        content=package.data,
        headers={"content-type": "application/zip"},
        timeout=60,
    )
    assert response.status_code == 413, response.text
    assert "1048576 byte limit" in response.json()["error"]
    assert "package_max_unpacked_bytes" in response.json()["hint"]
    assert atom.client.deployments() == []
    assert not list((home / "deployments").glob("*/v*"))


def test_old_package_versions_are_removed_but_not_one_in_use(
    start_atom, atom_workspace: Workspace
) -> None:
    home = atom_workspace.root.parent / "few-versions"
    home.mkdir()
    (home / "atom.toml").write_text(
        '[atom]\nid = "few-versions"\n\n[settings]\npackage_versions_kept = 2\n'
    )
    atom: AtomProcess = start_atom("--workers", "1", home=home)
    notebook = atom_workspace.notebooks_dir / "sleeper.ipynb"
    version_file = atom_workspace.notebooks_dir / "data" / "version.txt"
    version_file.parent.mkdir()

    def deploy(n: int) -> int:
        version_file.write_text(str(n))  # a new content hash: a new version
        return int(atom.deploy(notebook)["version"])

    def kept() -> set[str]:
        return {p.name for p in (home / "deployments" / "sleeper").glob("v*")}

    assert deploy(1) == 1
    running = atom.client.trigger("sleeper", {"seconds": 600.0})
    atom.wait_for(
        lambda: atom.client.execution(running["id"])["status"] == "running", what="running"
    )
    for n in range(2, 6):
        assert deploy(n) == n
    assert kept() == {"v1", "v4", "v5"}  # v1 runs; the two newest; v2 and v3 went
    atom.client.cancel(running["id"])
    atom.finished(running["id"])
    deploy(6)
    assert kept() == {"v5", "v6"}
    history = atom.client._call("GET", "/api/deployments/sleeper").json()
    assert sorted(d["version"] for d in history) == [1, 2, 3, 4, 5, 6]  # the records stay


def test_a_process_with_a_full_queue_refuses_the_next_trigger_with_503(
    atom: AtomProcess,
) -> None:
    """At most MAX_QUEUED_PER_PROCESS executions of one process wait; the next trigger is
    answered 503 with Retry-After (and a message naming the process) instead of queueing
    without end, and a cancelled one makes room again. The atom is paused, so nothing
    it queues starts and the queue only grows."""
    from atomnb.atom.service import MAX_QUEUED_PER_PROCESS

    this = next(a for a in atom.client.atoms() if a["this"])
    atom.client.pause_atom(this["id"])
    queued = [
        atom.client.trigger("echo", {"greeting": f"n{i}"}) for i in range(MAX_QUEUED_PER_PROCESS)
    ]
    assert {record["status"] for record in queued} == {"queued"}

    def trigger() -> httpx.Response:
        return httpx.post(
            f"{atom.url}/api/processes/echo/executions",
            json={"parameters": {"greeting": "one too many"}},
            timeout=60,
        )

    refused = trigger()
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "5"
    assert f"echo already has {MAX_QUEUED_PER_PROCESS} executions queued" in refused.json()["error"]
    assert len(atom.client.executions(process="echo", limit=500)) == MAX_QUEUED_PER_PROCESS

    atom.client.cancel(queued[0]["id"])
    accepted = trigger()
    assert accepted.status_code in (200, 201, 202), accepted.text
    assert accepted.json()["status"] == "queued"
