"""``atomnb atom start``: the atom and its API in the foreground, stopped cleanly by Ctrl-C.

uvicorn serves the API on the main thread and handles SIGINT/SIGTERM; when it
returns, the atom stops taking work, lets running executions finish for a
grace period and marks the rest interrupted — so a stop never leaves a record
running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from atomnb.atom.home import AtomHome
from atomnb.atom.service import Atom

__all__ = ["serve"]

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
) -> Atom:
    """Run an atom until interrupted (or until ``after_start`` returns True: then stop).

    ``after_start`` runs on its own thread once the API is up — the main job uses
    it to deploy and run the example processes.
    """
    import uvicorn

    from atomnb.atom.api import create_app

    url = f"http://{host}:{port}"
    atom = Atom(
        AtomHome(home),
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
    config = uvicorn.Config(
        create_app(atom), host=host, port=port, log_level="warning", lifespan="off"
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
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it caught: a normal stop
        pass
    finally:
        print("atom stopping: finishing running executions …", flush=True)
        atom.stop(grace_s=stop_grace_s)
        print("atom stopped", flush=True)
    return atom
