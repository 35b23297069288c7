"""Kernel managers that start a kernel with extra environment variables and a log file.

Secret parameter values reach the kernel only through its environment (never
through notebook cells), and the execution context travels the same way. papermill
takes a kernel manager *class*, so each run gets a small subclass that carries
its own environment and log path — nothing is written to ``os.environ`` of the
caller, which matters once several executions run side by side. The kernel's
own stdout/stderr (warnings, crashes, whatever a process writes past the
notebook) go through a pipe and a scrubber (``KernelLog``) to the execution's
log file instead of the caller's terminal.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from atomnb.process.scrubber import Scrubber
from atomnb.runtime.control import RunControl
from atomnb.runtime.kernel_log import KernelLog
from atomnb.store import ExecutionStatus

__all__ = ["kernel_manager_with_env", "kill_process", "killer", "timeout_timer"]


class _EnvKernelManager(AsyncKernelManager):
    extra_env: Mapping[str, str] = {}
    log_path: Path | None = None
    start_cwd: Path | None = None
    on_started: Callable[[int], None] | None = None
    scrubber: Scrubber | None = None
    _log: KernelLog | None = None

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        kw["env"] = {**os.environ, **kw.get("env", {}), **self.extra_env}
        if self.start_cwd is not None:  # not papermill's chdir: that moves the whole process
            kw["cwd"] = str(self.start_cwd)
        if self.log_path is not None and self._log is None:
            self._log = KernelLog(self.log_path, self.scrubber)
            kw.setdefault("stdout", self._log.write_fd)
            kw.setdefault("stderr", self._log.write_fd)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:  # launched or not, our copy of the pipe's write end goes (or the log never ends)
            if self._log is not None:
                self._log.started()

    async def _async_post_start_kernel(self, **kw: Any) -> None:
        await super()._async_post_start_kernel(**kw)
        pid = getattr(self.provisioner, "pid", None)
        if self.on_started is not None and pid:
            self.on_started(int(pid))

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._log is not None and not restart:
            self._log.close()
            self._log = None


def kernel_manager_with_env(
    env: Mapping[str, str],
    log_path: Path | None = None,
    cwd: Path | None = None,
    on_started: Callable[[int], None] | None = None,
    scrubber: Scrubber | None = None,
) -> type[AsyncKernelManager]:
    """An ``AsyncKernelManager`` subclass whose kernels start with ``env`` added, in ``cwd``.

    ``on_started`` receives the kernel's process id, so a timeout or cancel can kill it;
    ``scrubber`` cleans the kernel's output on its way to ``log_path``.
    """
    return type(
        "AtomnbKernelManager",
        (_EnvKernelManager,),
        {
            "extra_env": dict(env),
            "log_path": log_path,
            "start_cwd": cwd,
            "on_started": staticmethod(on_started) if on_started else None,
            "scrubber": scrubber,
        },
    )


def kill_process(pid: int) -> None:
    """SIGKILL a kernel process from any thread; a no-op if it already ended.

    A timeout or a cancel stops a kernel this way: the client running the
    notebook then sees a dead kernel and the run ends at once.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def killer(control: RunControl) -> Callable[[int], None]:
    """Once papermill's kernel has started, let ``control`` kill it by process id."""

    def started(pid: int) -> None:
        control.attach(functools.partial(kill_process, pid))

    return started


def timeout_timer(limit: float | None, control: RunControl) -> threading.Timer | None:
    """A timer that stops the run (``control``) once it has run ``limit`` seconds."""
    if not limit:
        return None
    timer = threading.Timer(
        limit,
        control.stop,
        (ExecutionStatus.FAILED, f"timed out: the execution ran longer than {limit:g} s"),
    )
    timer.daemon = True
    timer.start()
    return timer
