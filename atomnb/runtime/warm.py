"""Warm kernels: started before a request arrives, used for exactly one execution, then killed.

A cold papermill run spends most of its second starting a kernel and
connecting to it. An atom keeps one kernel ready per worker, with its client
already connected, so an execution starts at once. A kernel is never reused:
environment variables, the working directory, patched modules and logging
set-up would leak from one run into the next even after ``%reset``.

Kernels and their ZeroMQ clients belong to the event loop of the thread that
started them (jupyter_core's ``run_sync`` keeps one loop per thread), so a
worker thread starts its own next kernel and runs its executions itself. Only
``kill`` may be called from another thread (a timeout or a cancel): it sends
SIGKILL to the kernel's process, which the running client notices as a dead
kernel.

A warm kernel's stdout and stderr go through a scrubbing pipe (``KernelLog``) from
the start; the secrets to scrub are not known until the kernel is handed its run,
so ``prepare`` gives the pipe its scrubber before the run's values reach the kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from atomnb.errors import ExecutionError
from atomnb.process.scrubber import Scrubber
from atomnb.runtime.kernel_log import KernelLog
from atomnb.runtime.kernels import kill_process

__all__ = ["WarmKernel", "start_warm_kernel"]


@dataclass
class WarmKernel:
    """A started kernel with a connected client, waiting for its one execution."""

    kernel_name: str
    manager: AsyncKernelManager
    client: AsyncKernelClient
    log_path: Path
    _log: KernelLog | None = field(default=None, repr=False)
    used: bool = False

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.manager, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        return int(pid) if pid else None

    def alive(self) -> bool:
        return bool(run_sync(self.manager.is_alive)())

    def prepare(
        self,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        scrubber: Scrubber | None = None,
    ) -> None:
        """Hand the kernel one execution's environment, folder and log file, silently.

        The code runs outside the notebook (``silent``, no history), so the
        values it carries — secrets among them — never appear in a cell or the
        output notebook. The kernel's log file moves to the execution's folder
        (the log's thread keeps writing to the same open file) and scrubs with
        ``scrubber`` from now on, before the kernel has any secret.
        """
        if self.used:
            raise ExecutionError("a warm kernel runs exactly one execution")
        self.used = True
        if scrubber is not None and self._log is not None:
            self._log.set_scrubber(scrubber)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.replace(log_path)
        self.log_path = log_path
        code = (
            "import os as _o, json as _j\n"
            f"_o.environ.update(_j.loads({json.dumps(json.dumps(dict(env)))}))\n"
            f"_o.chdir({str(cwd)!r})\n"
            "del _o, _j\n"
        )
        reply = run_sync(self.client.execute_interactive)(
            code, silent=True, store_history=False, allow_stdin=False, timeout=30
        )
        if reply["content"].get("status") != "ok":
            raise ExecutionError(
                f"the warm kernel refused its set-up: {reply['content'].get('ename', '?')}"
            )

    def kill(self) -> None:
        """SIGKILL the kernel process; safe from any thread, a no-op if it already ended."""
        if self.pid is not None:
            kill_process(self.pid)

    def discard(self) -> None:
        """Stop the kernel and its client (in the owning thread), then close the log."""
        try:
            self.client.stop_channels()
            run_sync(self.manager.shutdown_kernel)(now=True)
        except Exception:  # already dead, or half started: make sure the process is gone
            self.kill()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            if not self.used:  # nothing ran on it: its start-up log is of no interest
                self.log_path.unlink(missing_ok=True)


def start_warm_kernel(
    kernel_name: str, log_dir: Path, *, start_timeout_s: float = 60, cwd: Path | None = None
) -> WarmKernel:
    """Start a kernel and connect a client to it, in the calling thread's event loop."""
    log_dir.mkdir(parents=True, exist_ok=True)
    manager = AsyncKernelManager(kernel_name=kernel_name)
    log_path = log_dir / f"kernel-{os.getpid()}-{id(manager):x}.log"
    log = KernelLog(log_path)  # scrubs nothing until prepare: the kernel has no secret yet
    kwargs: dict[str, Any] = {"stdout": log.write_fd, "stderr": log.write_fd}
    if cwd is not None:
        kwargs["cwd"] = str(cwd)
    try:
        try:
            run_sync(manager.start_kernel)(**kwargs)
        finally:
            log.started()
        client = manager.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=start_timeout_s)
    except Exception as exc:
        with contextlib.suppress(Exception):
            run_sync(manager.shutdown_kernel)(now=True)
        log.close(timeout_s=1)
        raise ExecutionError(f"could not start a {kernel_name!r} kernel: {exc}") from None
    client.allow_stdin = False
    return WarmKernel(kernel_name, manager, client, log_path, log)
