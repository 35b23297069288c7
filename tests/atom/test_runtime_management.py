"""Runtime management on real atoms: rollback, undeploy, pause and resume of atoms and
schedules, graceful restart, and the atoms of a store with their resources.

Atoms run in subprocesses (``atomnb atom start``); two atoms share one SQLite store
where the test is about a molecule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import atomnb
from atomnb.components import Workspace
from atomnb.errors import AtomError, UnknownEntityError
from tests.atom.conftest import AtomProcess, kill_hard
from tests.conftest import _free_port, make_notebook, run_cli

pytestmark = pytest.mark.atom

EVERY_SECOND = "* * * * * *"


def _stamp(value: str) -> datetime:
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _workspace(root: Path) -> Workspace:
    ws = Workspace.init(root, name="runtime-tests")
    make_notebook(
        ws.notebooks_dir / "versioned.ipynb", "print('version', label)", parameters='label = "one"'
    )
    make_notebook(ws.notebooks_dir / "ticker.ipynb", "print('tick', n)", parameters="n = 1")
    make_notebook(
        ws.notebooks_dir / "sleeper.ipynb",
        "import time\ntime.sleep(seconds)\nprint('slept', seconds)",
        parameters="seconds = 3.0",
    )
    make_notebook(
        ws.notebooks_dir / "echo.ipynb", "print('echo', greeting)", parameters='greeting = "hi"'
    )
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _workspace(tmp_path_factory.mktemp("runtime-ws") / "ws")


@pytest.fixture(scope="module")
def solo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    """One atom for the tests that do not pause or restart it (each uses its own process)."""
    base = tmp_path_factory.mktemp("runtime-solo")
    atom = AtomProcess(base / "home", _free_port(), [], base / "atom.log").start()
    yield atom
    atom.stop()


@pytest.fixture
def starter(tmp_path: Path) -> Iterator[Callable[..., AtomProcess]]:
    """Start atoms on homes under this test's folder; all are stopped afterwards."""
    started: list[AtomProcess] = []

    def start(*args: str, name: str = "", port: int | None = None) -> AtomProcess:
        home = tmp_path / (name or f"atom{len(started)}")
        atom = AtomProcess(home, port or _free_port(), list(args), tmp_path / f"{home.name}.log")
        started.append(atom)
        return atom.start()

    yield start
    for atom in started:
        if atom.proc is not None and atom.proc.poll() is None:
            if hasattr(atom, "client"):
                atom.stop()
            else:  # it never answered: no client to close
                atom.proc.kill()
                atom.proc.wait(timeout=30)


def _this(atom: AtomProcess) -> dict[str, Any]:
    return next(a for a in atom.client.atoms() if a["this"])


def _record_of(atom: AtomProcess, execution_id: str) -> dict[str, Any]:
    return atom.client.execution(execution_id)


# -- rollback and undeploy --------------------------------------------------------------------


def test_rollback_runs_the_older_version_and_records_who(solo: AtomProcess, ws: Workspace) -> None:
    notebook = ws.notebooks_dir / "versioned.ipynb"
    first = solo.deploy(notebook)
    make_notebook(notebook, "print('version', label)", parameters='label = "two"')
    second = solo.deploy(notebook, schedule="0 3 * * *")
    assert second["version"] == first["version"] + 1
    assert second["deployed_by"] == "local" and second["activated_by"] == "local"

    answer = solo.client.rollback("versioned")  # to: null = the version before the active one
    assert answer["changed"] is True and answer["from_version"] == second["version"]
    active = answer["deployment"]
    assert (active["version"], active["active"], active["schedule"]) == (
        first["version"],
        True,
        None,
    )
    assert active["activated_by"] == "local"
    assert _stamp(active["activated_at"]) > _stamp(second["deployed_at"])
    # v1 had no schedule: the v2 schedule no longer fires
    assert "versioned" not in {s["process"] for s in solo.client.schedules()}

    run = solo.client.trigger("versioned", wait=True)
    assert run["status"] == "succeeded", run["error_summary"]
    assert run["deployment_version"] == first["version"]
    output = solo.client.output_notebook(run["id"]).decode()
    assert "version one" in output and "version two" not in output

    history = solo.client.deployment_history("versioned")
    assert [(d["version"], d["active"]) for d in history] == [
        (second["version"], False),
        (first["version"], True),
    ]
    assert all(d["deployed_by"] == "local" for d in history)

    # the CLI: forward again to v2 by number; its schedule is back
    done = run_cli(
        "rollback", "versioned", "--to", str(second["version"]), "--atom", solo.url, cwd=ws.root
    )
    assert done.returncode == 0, done.stderr
    assert (
        f"rolled back versioned to v{second['version']} on {solo.url} (was v{first['version']})"
        in done.stdout
    )
    assert "schedule 0 3 * * * (UTC)" in done.stdout
    assert any(s["process"] == "versioned" for s in solo.client.schedules())
    table = run_cli("deployments", "versioned", "--atom", solo.url, cwd=ws.root)
    assert table.returncode == 0, table.stderr
    assert "VERSION" in table.stdout and "local" in table.stdout

    # nothing before the first version; an unknown version is named
    solo.client.rollback("versioned", first["version"])
    with pytest.raises(AtomError, match=f"no version before v{first['version']}"):
        solo.client.rollback("versioned")
    with pytest.raises(UnknownEntityError, match="has no version 99"):
        solo.client.rollback("versioned", 99)
    bad = httpx.post(
        f"{solo.url}/api/deployments/versioned/rollback", json={"to": "two"}, timeout=60
    )
    assert bad.status_code == 400 and "to" in bad.json()["error"]


def test_undeploy_from_the_cli_stops_triggers_and_a_rollback_brings_a_version_back(
    solo: AtomProcess, ws: Workspace
) -> None:
    deployed = solo.deploy(ws.notebooks_dir / "echo.ipynb", schedule="0 4 * * *")
    gone = run_cli("undeploy", "echo", "--atom", solo.url, cwd=ws.root)
    assert gone.returncode == 0, gone.stderr
    assert f"undeployed echo from {solo.url}" in gone.stdout
    assert "echo" not in {d["process"] for d in solo.client.deployments()}
    assert "echo" not in {s["process"] for s in solo.client.schedules()}
    with pytest.raises(UnknownEntityError):
        solo.client.trigger("echo")
    again = run_cli("undeploy", "echo", "--atom", solo.url, cwd=ws.root)
    assert again.returncode == 2 and "no process 'echo' is deployed" in again.stderr

    back = solo.client.rollback("echo", deployed["version"])  # an undeployed process: named version
    assert back["changed"] and back["from_version"] is None
    assert any(s["process"] == "echo" for s in solo.client.schedules())


# -- schedules --------------------------------------------------------------------------------


def test_a_paused_schedule_fires_nothing_records_skipped_slots_and_survives_a_redeploy(
    solo: AtomProcess, ws: Workspace
) -> None:
    notebook = ws.notebooks_dir / "ticker.ipynb"
    solo.deploy(notebook, schedule=EVERY_SECOND)
    solo.wait_for(lambda: solo.client.executions(process="ticker"), what="a first scheduled run")

    paused = solo.client.pause_schedule("ticker")
    paused_at = datetime.now(UTC)
    assert paused["paused"] is True and paused["process"] == "ticker"

    def fires() -> list[dict[str, Any]]:
        return next(s["fires"] for s in solo.client.schedules() if s["process"] == "ticker")

    def skipped_while_paused() -> list[dict[str, Any]]:
        found = [
            f for f in fires() if f["outcome"] == "skipped" and _stamp(f["due_at"]) > paused_at
        ]
        return found if len(found) >= 3 else []

    skipped = solo.wait_for(skipped_while_paused, what="three slots skipped while paused")
    assert all(f["execution_id"] is None for f in skipped)
    assert all(_stamp(f["due_at"]) <= paused_at for f in fires() if f["outcome"] == "run")
    runs = solo.client.executions(process="ticker", limit=200)
    assert all(_stamp(r["created_at"]) <= paused_at for r in runs)  # nothing ran while paused

    # a redeploy (a new version) keeps the pause; the listing shows it
    solo.deploy(notebook, schedule=EVERY_SECOND, retries=1)
    [state] = [s for s in solo.client.schedules() if s["process"] == "ticker"]
    assert state["paused"] is True and state["enabled"] is True
    listed = run_cli("schedules", "--atom", solo.url, cwd=ws.root)
    assert listed.returncode == 0, listed.stderr
    assert any(
        line.startswith("ticker") and "paused" in line for line in listed.stdout.splitlines()
    )

    resumed_at = datetime.now(UTC).replace(microsecond=0)  # before: the CLI takes a while
    resumed = run_cli("schedules", "resume", "ticker", "--atom", solo.url, cwd=ws.root)
    assert resumed.returncode == 0, resumed.stderr
    solo.wait_for(
        lambda: [
            r
            for r in solo.client.executions(process="ticker")
            if _stamp(r["created_at"]) > resumed_at
        ],
        what="a scheduled run after resume",
    )
    after = fires()
    assert not [f for f in after if f["outcome"] == "catch_up"]  # the skipped slots stay skipped
    ran = [f for f in after if f["outcome"] == "run" and _stamp(f["due_at"]) > paused_at]
    assert ran and all(_stamp(f["due_at"]) >= resumed_at for f in ran)
    solo.client.undeploy("ticker")


# -- atoms: pause, peers, listing -------------------------------------------------------------


def test_a_paused_atom_queues_triggers_until_resumed_and_a_peer_runs_its_queue(
    starter: Callable[..., AtomProcess], ws: Workspace, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    a = starter("--store", store, "--stale-after", "4", name="a")
    a.deploy(ws.notebooks_dir / "echo.ipynb")
    a_id = _this(a)["id"]

    paused = a.client.pause_atom(a_id)
    assert paused["paused"] is True and paused["id"] == a_id
    waiting = a.client.trigger("echo", {"greeting": "later"})
    assert waiting["status"] == "queued"
    beat = _this(a)["heartbeat_at"]
    for _ in range(2):  # the control loop goes round (it beats its heart) and starts nothing
        a.wait_for(lambda b=beat: _this(a)["heartbeat_at"] != b, what="a heartbeat")
        beat = _this(a)["heartbeat_at"]
    assert _record_of(a, waiting["id"])["status"] == "queued"
    assert (_this(a)["queued"], _this(a)["running"]) == (1, 0)

    a.client.resume_atom(a_id)
    done = a.finished(waiting["id"])
    assert done["status"] == "succeeded" and done["atom"] == a_id

    # paused again: a second atom on the store runs what is queued on the first
    run_cli("atoms", "pause", a_id, "--atom", a.url, cwd=ws.root).check_returncode()
    for_peer = a.client.trigger("echo", {"greeting": "peer"})
    b = starter("--store", store, "--stale-after", "4", name="b")
    b.deploy(ws.notebooks_dir / "echo.ipynb")  # the same version: b keeps its own copy
    b_id = _this(b)["id"]
    taken = a.finished(for_peer["id"])
    assert taken["status"] == "succeeded" and taken["atom"] == b_id

    # the pause is kept in the store: it outlives a restart of the atom
    a.stop()
    a = starter("--store", store, "--stale-after", "4", name="a", port=a.port)
    assert _this(a)["paused"] is True
    run_cli("atoms", "resume", a_id, "--atom", b.url, cwd=ws.root).check_returncode()  # through b
    a.wait_for(lambda: not _this(a)["paused"], what="the resume")


def test_atoms_lists_resources_and_a_killed_peer_offline(
    starter: Callable[..., AtomProcess], ws: Workspace, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    a = starter("--store", store, "--stale-after", "3", "--workers", "1", name="a")
    b = starter("--store", store, "--stale-after", "3", name="b")
    b_id = _this(b)["id"]
    a.wait_for(lambda: all(x["resources"] for x in a.client.atoms()), what="both atoms' resources")
    listed = {x["id"]: x for x in a.client.atoms()}
    assert {x["status"] for x in listed.values()} == {"online"}
    mine = _this(a)
    assert (mine["version"], mine["workers"], mine["paused"]) == (atomnb.__version__, 1, False)
    assert mine["uptime_s"] >= 0 and mine["pid"] == a.proc.pid
    res = mine["resources"]
    assert (
        0 < res["memory_used"] <= res["memory_total"] and 0 < res["disk_used"] <= res["disk_total"]
    )
    assert 0 <= res["cpu_percent"] <= 100 and res["disk_path"] == str(a.home)
    assert listed[b_id]["url"] == b.url and not listed[b_id]["this"]

    kill_hard(b)
    a.wait_for(
        lambda: {x["id"]: x["status"] for x in a.client.atoms()}[b_id] == "offline",
        what="the killed atom offline",
    )
    out = run_cli("atoms", "--atom", a.url, cwd=ws.root)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith(b_id))
    assert "offline (last seen" in line
    assert "MEMORY" in out.stdout and "GiB" in out.stdout
    as_json = json.loads(run_cli("atoms", "--json", "--atom", a.url, cwd=ws.root).stdout)
    assert {x["id"]: x["status"] for x in as_json}[b_id] == "offline"
    assert next(x for x in as_json if x["this"])["status"] == "online"

    a.stop()  # a clean stop is "stopped", not "offline"
    from atomnb.store import ExecutionStore
    from atomnb.store.queue import atoms_status

    opened = ExecutionStore.open(store)
    try:
        states = {x.id: x.status for x in atoms_status(opened, stale_after_s=3)}
    finally:
        opened.close()
    assert states == {mine["id"]: "stopped", b_id: "offline"}


# -- restart ----------------------------------------------------------------------------------


def test_restart_finishes_the_running_execution_and_comes_back_on_the_same_port(
    starter: Callable[..., AtomProcess], ws: Workspace
) -> None:
    atom = starter("--workers", "1")
    atom.deploy(ws.notebooks_dir / "sleeper.ipynb")
    atom.deploy(ws.notebooks_dir / "echo.ipynb")
    before = _this(atom)
    running = atom.client.trigger("sleeper", {"seconds": 4})
    atom.wait_for(
        lambda: _record_of(atom, running["id"])["status"] == "running", what="the run to start"
    )

    answer = atom.client.restart_atom(before["id"])
    assert answer == {"atom": before["id"], "restarting": True, "pid": before["pid"], "running": 1}
    queued = atom.client.trigger("echo", {"greeting": "after"})  # taken, but not started now

    def back() -> dict[str, Any] | None:
        try:
            now = _this(atom)
        except AtomError:  # between the old process and the new one
            return None
        return now if now["started_at"] != before["started_at"] else None

    again = atom.wait_for(back, timeout_s=120, what="the atom to come back")
    assert again["status"] == "online" and not again["restarting"]
    assert again["url"] == atom.url and again["id"] == before["id"]
    assert again["pid"] == atom.proc.pid and atom.proc.poll() is None  # os.execv: the same process
    finished = _record_of(atom, running["id"])
    assert finished["status"] == "succeeded", finished["error_summary"]
    assert _stamp(finished["ended_at"]) <= _stamp(again["started_at"])
    later = atom.finished(queued["id"])
    assert later["status"] == "succeeded"
    assert _stamp(later["started_at"]) >= _stamp(again["started_at"])
    assert "atom restarting" in atom.log.read_text()

    with pytest.raises(UnknownEntityError):
        atom.client.restart_atom("no-such-atom")


def test_pause_and_resume_of_unknown_atoms_and_schedules_are_404(solo: AtomProcess) -> None:
    for call in (
        lambda: solo.client.pause_atom("nobody"),
        lambda: solo.client.resume_atom("nobody"),
        lambda: solo.client.pause_schedule("nothing"),
        lambda: solo.client.resume_schedule("nothing"),
        lambda: solo.client.rollback("nothing"),
    ):
        with pytest.raises(UnknownEntityError):
            call()
