"""Disk full (RELIABILITY case 25): the execution fails with that reason, the atom keeps serving.

For real: the atom's executions folder is a 2 MB tmpfs mounted by the test
(root only; skipped with the reason otherwise), filled to the last byte before
a trigger. The execution must end ``failed`` naming "no space left on device"
and the path, the atom must answer its health check, and once space returns
the next execution must succeed. Nothing half-written may stay behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess

pytestmark = pytest.mark.atom


def _mount_tmpfs(folder: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the atom's executions folder")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")


def _fill(folder: Path) -> Path:
    """Write a file in ``folder`` until the file system is full; returns it."""
    filler = folder / "filler.bin"
    block = b"\0" * 4096
    with filler.open("wb", buffering=0) as sink:
        try:
            while True:
                sink.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    with filler.open("ab", buffering=0) as sink:  # the last partial block, too
        try:
            while True:
                sink.write(b"\0")
        except OSError:
            pass
    return filler


@pytest.fixture
def full_disk_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "full-atom"
    executions = home / "executions"
    _mount_tmpfs(executions, "2m")
    yield home
    subprocess.run(["umount", "-l", str(executions)], check=False)


def test_a_full_disk_fails_the_execution_and_the_atom_keeps_serving(
    start_atom, atom_workspace: Workspace, full_disk_home: Path
) -> None:
    atom: AtomProcess = start_atom("--workers", "1", home=full_disk_home)
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
    executions = full_disk_home / "executions"
    filler = _fill(executions)

    failed = atom.finished(atom.client.trigger("echo", {"times": 1})["id"])
    assert failed["status"] == "failed", failed
    reason = failed["error_summary"] or ""
    assert "no space left on device" in reason, reason
    assert str(executions) in reason, reason  # names where
    assert httpx.get(f"{atom.url}/api/health", timeout=60).status_code == 200
    leftovers = [
        p.name for p in executions.rglob("*") if p.name.endswith((".tmp", ".partial.ipynb"))
    ]
    assert leftovers == [], leftovers

    filler.unlink()  # space returns
    shutil.rmtree(executions / failed["id"], ignore_errors=True)
    ok = atom.finished(atom.client.trigger("echo", {"times": 2})["id"])
    assert ok["status"] == "succeeded", ok
    assert (executions / ok["id"] / "echo.ipynb").is_file()


def test_a_read_only_disk_fails_the_execution_and_the_atom_keeps_serving(
    start_atom, atom_workspace: Workspace, full_disk_home: Path
) -> None:
    executions = full_disk_home / "executions"
    remount = ["mount", "-o", "remount,ro", "tmpfs", str(executions)]  # before any writer
    if subprocess.run(remount, capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only")
    try:
        atom: AtomProcess = start_atom("--workers", "1", home=full_disk_home)
        atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")
        failed = atom.finished(atom.client.trigger("echo")["id"])
        assert failed["status"] == "failed", failed
        reason = failed["error_summary"] or ""
        assert "read-only file system" in reason and str(executions) in reason, reason
        assert httpx.get(f"{atom.url}/api/health", timeout=60).status_code == 200
    finally:
        subprocess.run(["mount", "-o", "remount,rw", "tmpfs", str(executions)], check=False)
    ok = atom.finished(atom.client.trigger("echo")["id"])
    assert ok["status"] == "succeeded", ok


def test_a_package_that_cannot_be_kept_answers_503_naming_the_disk(
    start_atom, atom_workspace: Workspace, tmp_path: Path
) -> None:
    home = tmp_path / "full-deployments"
    deployments = home / "deployments"
    _mount_tmpfs(deployments, "2m")
    try:
        atom: AtomProcess = start_atom("--workers", "1", home=home)
        filler = _fill(deployments)
        from atomnb.atom.package import build_package

        package = build_package(atom_workspace.notebooks_dir / "echo.ipynb")
        response = httpx.post(
            f"{atom.url}/api/deployments",
            params={"notebook": package.notebook},
            content=package.data,
            headers={"content-type": "application/zip"},
            timeout=60,
        )
        assert response.status_code == 503, response.text
        assert "no space left on device" in response.json()["error"], response.text
        assert [p.name for p in deployments.rglob("*") if p != filler] in ([], [".incoming"])
        filler.unlink()
        assert atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb")["version"] == 1
        atom.stop()
    finally:
        subprocess.run(["umount", "-l", str(deployments)], check=False)
