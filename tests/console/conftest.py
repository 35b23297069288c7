"""One real atom with real executions of every status, shared by the console's page tests.

``console_atom`` (module scope) starts ``atomnb atom start`` in a subprocess and
leaves it running with (see ``ConsoleAtom.ids``):

- process ``orders`` (manual triggers), deployed twice (v1, then v2):
  v1 ``succeeded``, ``succeeded_with_warnings`` (a business rule rejected order A-9,
  "order A-9: total must be positive"), ``failed`` (an error log line
  "the shop refused order A-2", then RuntimeError "the shop refused order A-2");
  v2 ``succeeded_v2`` and ``interrupted`` (the atom was stopped while it ran,
  then started again on the same home and port);
- process ``ticker``, scheduled once a day at a fixed time in Europe/Berlin and
  deployed so that its first fire came a few seconds after the deploy:
  ``scheduled`` (trigger "schedule", succeeded).

Every ``orders`` run goes through shapes (start, decision "big orders", track
"big order numbers" on field ``id``), so shapes, documents in/out and tracked
values exist. Tests must not change what is deployed or run more executions of
these processes (other modules share the numbers): deploy processes of their own.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook

ORDERS = """\
import atomnb as ab
records = [{"id": "A-1", "total": 50}, {"id": "A-2", "total": 5000}, {"id": "A-3", "total": 120}]
if mode == "warn":
    records.append({"id": "A-9", "total": -5})
docs = ab.start(ab.Documents.from_records(records))
big, small = ab.decision(docs, "total > 1000", name="big orders")
ab.track(big, "id", name="big order numbers")
"""
ORDERS_THEN = """\
if mode == "warn":
    good, bad = ab.business_rules(
        docs, [("positive total", "total > 0", "order {id}: total must be positive")]
    )
if mode == "fail":
    ab.notify("the shop refused order {id}", big, level="error")
    raise RuntimeError("the shop refused order A-2")
if mode == "hold":
    import time
    from pathlib import Path
    Path(marker).write_text("holding")
    time.sleep(300)
"""
TICKER = """\
import atomnb as ab
ticks = ab.start(ab.Documents.from_records([{"tick": 1}, {"tick": 2}]))
print("tick")
"""

#: The scheduled process's time zone, shown on the Processes page.
TICKER_ZONE = "Europe/Berlin"


@dataclass
class ConsoleAtom:
    """The running atom, its workspace and the ids of its executions by what they show."""

    atom: AtomProcess
    workspace: Workspace
    ids: dict[str, str] = field(default_factory=dict)
    ticker_cron: str = ""

    @property
    def url(self) -> str:
        return self.atom.url

    def record(self, key: str) -> dict[str, Any]:
        """The execution's record from the atom's API, e.g. ``record("failed")``."""
        return self.atom.client.execution(self.ids[key])


def _quiet_port() -> int:
    """A free loopback port below the blocks ``tests.conftest._free_port`` hands out.

    This atom lives for a whole module (and is restarted on the same port), so a port
    of its own keeps other test runs on this machine, which choose from those blocks
    in order, from finding it busy or, worse, talking to it.
    """
    for _ in range(200):
        port = random.randint(12_000, 19_999)
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 12000..19999")


def _start(home: Path, port: int, log: Path) -> AtomProcess:
    return AtomProcess(home, port, ["--workers", "2"], log).start()


def _build(root: Path) -> ConsoleAtom:
    ws = Workspace.init(root / "ws", name="console-tests")
    orders = make_notebook(
        ws.notebooks_dir / "orders.ipynb",
        ORDERS,
        ORDERS_THEN,
        parameters='mode = "ok"\nmarker = ""',
    )
    ticker = make_notebook(ws.notebooks_dir / "ticker.ipynb", TICKER, parameters="n = 1")
    home, port, log = root / "home", _quiet_port(), root / "atom.log"
    atom = _start(home, port, log)
    built = ConsoleAtom(atom, ws)
    try:
        atom.deploy(orders, max_concurrent=3)
        started = {
            "succeeded": atom.client.trigger("orders", {"mode": "ok"}),
            "succeeded_with_warnings": atom.client.trigger("orders", {"mode": "warn"}),
            "failed": atom.client.trigger("orders", {"mode": "fail"}),
        }
        for key, record in started.items():
            finished = atom.finished(record["id"], timeout_s=300)
            expected = "failed" if key == "failed" else key
            assert finished["status"] == expected, finished
            built.ids[key] = record["id"]

        # v2: the same process with one more cell.
        make_notebook(
            orders, ORDERS, ORDERS_THEN, "print('version 2')", parameters='mode = "ok"\nmarker = ""'
        )
        assert atom.deploy(orders, max_concurrent=3)["version"] == 2
        ok = atom.client.trigger("orders", {"mode": "ok"}, wait=True, wait_timeout_s=300)
        assert ok["status"] == "succeeded", ok
        built.ids["succeeded_v2"] = ok["id"]
        marker = root / "holding.txt"
        held = atom.client.trigger("orders", {"mode": "hold", "marker": str(marker)})
        atom.wait_for(
            marker.exists,
            timeout_s=300,
            what="the held run to start",
        )
        atom.stop()  # SIGINT, 5 s grace: the held run is interrupted
        atom = built.atom = _start(home, port, log)
        assert atom.client.execution(held["id"])["status"] == "interrupted"
        built.ids["interrupted"] = held["id"]

        # A daily schedule whose first fire is a few seconds away.
        zone = ZoneInfo(TICKER_ZONE)
        fire = (datetime.now(UTC) + timedelta(seconds=12)).astimezone(zone)
        built.ticker_cron = f"{fire.minute} {fire.hour} * * * {fire.second}"  # seconds last
        atom.deploy(ticker, schedule=built.ticker_cron, timezone=TICKER_ZONE)

        def scheduled() -> dict[str, Any] | None:
            runs = atom.client.executions(process="ticker")
            done = [r for r in runs if r["status"] not in ("queued", "running")]
            return done[0] if done else None

        tick = atom.wait_for(scheduled, timeout_s=300, what="the scheduled run")
        assert (tick["trigger"], tick["status"]) == ("schedule", "succeeded"), tick
        built.ids["scheduled"] = tick["id"]
    except BaseException:
        if built.atom.proc is not None and built.atom.proc.poll() is None:
            built.atom.stop()
        raise
    return built


@pytest.fixture(scope="module")
def console_atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleAtom]:
    """A running atom with executions of every status (see the module docstring)."""
    began = time.monotonic()
    built = _build(tmp_path_factory.mktemp("console"))
    built.atom.log.with_suffix(".took").write_text(f"{time.monotonic() - began:.1f} s\n")
    yield built
    if built.atom.proc is not None and built.atom.proc.poll() is None:
        built.atom.stop()
