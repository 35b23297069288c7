"""The kernel log pipe: what a child process writes is scrubbed before it reaches the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync

from atomnb.runtime.kernel_log import KernelLog
from atomnb.runtime.kernels import kernel_manager_with_env
from atomnb.runtime.scrub import Scrubber

SECRET = "pipe-Secret-Value-123"

CHILD = """
import os, sys, time
s = sys.argv[1]
os.write(1, ("before " + s[:7]).encode()); time.sleep(0.1); os.write(1, (s[7:] + "\\n").encode())
os.write(2, ("err " + s + "\\n").encode())
"""


def test_a_child_writing_a_secret_in_two_pieces_leaves_only_stars(tmp_path: Path) -> None:
    log = KernelLog(tmp_path / "kernel.log", Scrubber([SECRET]))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, SECRET], stdout=log.write_fd, stderr=log.write_fd
    )
    log.started()
    assert child.wait(timeout=60) == 0
    log.close(timeout_s=30)
    text = (tmp_path / "kernel.log").read_text()
    assert SECRET[:7] not in text and SECRET not in text
    assert "before ***" in text and "err ***" in text


def test_a_warm_kernels_log_scrubs_from_the_moment_it_gets_its_secrets(tmp_path: Path) -> None:
    log = KernelLog(tmp_path / "kernel.log")  # started before the run's secrets are known
    log.set_scrubber(Scrubber([SECRET]))
    child = subprocess.Popen([sys.executable, "-c", CHILD, SECRET], stdout=log.write_fd)
    log.started()
    child.wait(timeout=60)
    log.close(timeout_s=30)
    assert SECRET not in (tmp_path / "kernel.log").read_text()


def test_a_kernel_that_cannot_start_leaves_no_reader_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "kernels" / "broken"
    spec.mkdir(parents=True)
    argv = [str(tmp_path / "no-such-python"), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "broken", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    manager = kernel_manager_with_env({}, tmp_path / "kernel.log")(kernel_name="broken")
    with pytest.raises(OSError):
        run_sync(manager.start_kernel)()
    log = manager._log
    assert log is not None
    log._thread.join(30)
    assert not log._thread.is_alive()  # the pipe's last write end was closed
