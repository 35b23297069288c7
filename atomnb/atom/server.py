"""``atomnb atom start``: the atom and its API in the foreground, stopped cleanly by Ctrl-C.

Before anything starts, the port is probed: a busy one is named (and who holds
it, when the system says) instead of an atom announcing an address it cannot
serve. uvicorn serves the API on the main thread and handles SIGINT/SIGTERM;
when it returns, the atom stops taking work, lets running executions finish for
a grace period and marks the rest interrupted — so a stop never leaves a record
running. uvicorn re-raises the signal it caught once it has shut down: SIGTERM
is turned into the same clean stop as Ctrl-C instead of killing the process
before the atom has stopped.

A graceful restart (``POST /api/atoms/{id}/restart``) ends the same way, once
the running executions have finished, and then the process replaces itself with
a fresh atom: ``os.execv`` with the same interpreter and arguments, so it keeps
its pid (a service manager still sees it running) and serves the same port.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from atomnb.atom.home import AtomHome
from atomnb.atom.lowlatency import stop_all
from atomnb.atom.observe.logs import log_format_chosen
from atomnb.atom.service import Atom
from atomnb.errors import ConfigError

__all__ = ["check_port", "serve"]

log = logging.getLogger(__name__)


def serve(
    home: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    store_url: str | None = None,
    workers: int | None = None,
    misfire_grace_s: float | None = None,
    stop_grace_s: float = 30.0,
    stale_after_s: float = 60.0,
    ready_message: bool = True,
    after_start: Callable[[Atom], bool] | None = None,
    secret_key_file: Path | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Atom:
    """Run an atom until interrupted (or until ``after_start`` returns True: then stop).

    ``after_start`` runs on its own thread once the API is up — the main job uses
    it to deploy and run the example processes. ``settings`` (``AtomSettings``
    names, e.g. ``executor``, ``dask_scheduler``, ``outputs``) win over
    ``atom.toml`` and the environment; None values are not given.
    """
    import uvicorn

    from atomnb.atom.api import create_app

    check_port(host, port)
    url = f"http://{host}:{port}"
    atom = Atom(
        AtomHome(home, settings),
        store_url=store_url,
        workers=workers,
        url=url,
        misfire_grace_s=misfire_grace_s,
        stale_after_s=stale_after_s,
        secret_key_file=secret_key_file,
    )
    atom.start()
    if atom.recovered:
        log.warning("%d interrupted execution(s) recovered", len(atom.recovered))
    # In JSON mode the web server's own lines go through the root logger's JSON handler
    # (log_config=None: uvicorn adds no text handlers of its own).
    json_logs = (log_format_chosen() or atom.settings.log_format) == "json"
    config = uvicorn.Config(
        create_app(atom),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
    )
    server = uvicorn.Server(config)
    if ready_message:
        print(f"atom {atom.id} serving {url} (dashboard: {url}/, API: {url}/docs)", flush=True)
    if after_start is not None:

        def follow_up() -> None:
            try:
                if after_start(atom):
                    server.should_exit = True
            except Exception:
                log.exception("after start")
                server.should_exit = True

        threading.Thread(target=follow_up, name="atomnb-after-start", daemon=True).start()
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)

        def restart() -> None:
            server.should_exit = True

        atom.on_restart = restart  # only a main thread may replace the process
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it caught: a normal stop
        pass
    finally:
        print("atom stopping: finishing running executions …", flush=True)
        atom.stop(grace_s=stop_grace_s)
        stop_all()  # the low-latency workers, before a restart replaces this process
        print("atom stopped", flush=True)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
    if atom.restart_requested:
        _replace_process()
    return atom


def _replace_process() -> None:
    """Become a fresh atom: the same interpreter, options and arguments, the same pid."""
    argv = [sys.executable, *sys.orig_argv[1:]]
    # Not the arguments: a store URL may hold a password.
    print(f"atom restarting (pid {os.getpid()}) …", flush=True)
    sys.stderr.flush()
    os.execv(sys.executable, argv)


def _stop_like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the clean stop of ``serve``, as for Ctrl-C


def check_port(host: str, port: int) -> None:
    """Refuse a port something already listens on, naming the process when it can be found."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
            holder = _listener_of(port)
            raise ConfigError(
                f"port {port} is in use{f' (by {holder})' if holder else ''}",
                hint="pick another with --port or ATOMNB_PORT",
            ) from None


def _listener_of(port: int) -> str | None:
    """``pid N (name)`` of the process listening on ``port``, if the system tells us."""
    try:
        import psutil  # type: ignore[import-untyped]

        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return None
                try:
                    return f"pid {conn.pid}, {psutil.Process(conn.pid).name()}"
                except psutil.Error:
                    return f"pid {conn.pid}"
    except Exception:  # no permission, no psutil: the port is still named
        log.debug("cannot tell who listens on %d", port, exc_info=True)
    return None
