"""Atoms killed, restarted, stopped and doubled: schedules fire once, no record is lost."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from atomnb.components import Workspace
from atomnb.store import ExecutionStore
from tests.atom.conftest import kill_hard

pytestmark = pytest.mark.atom

EVERY_SECOND = "* * * * * *"  # croniter: a sixth field is seconds


def test_a_schedule_fires_on_time(start_atom, atom_workspace: Workspace) -> None:
    atom = start_atom()
    atom.deploy(atom_workspace.notebooks_dir / "echo.ipynb", schedule="* * * * * */2")
    runs = atom.wait_for(
        lambda: (
            [r for r in atom.client.executions(process="echo") if r["status"] == "succeeded"]
            if len(atom.client.executions(process="echo")) >= 2
            else None
        ),
        timeout_s=60,
        what="two scheduled runs",
    )
    assert {r["trigger"] for r in atom.client.executions(process="echo")} == {"schedule"}
    [schedule] = atom.client.schedules()
    fires = schedule["fires"]
    assert fires and {f["outcome"] for f in fires} == {"run"}
    due = [f["due_at"] for f in fires]
    assert len(due) == len(set(due))
    assert all(int(d[17:19]) % 2 == 0 for d in due)  # on the even seconds the cron names
    assert runs


def test_sigkill_mid_run_loses_nothing_and_the_restart_recovers(
    start_atom, atom_workspace: Workspace, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    atom = start_atom(home=home)
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb", retries=1, retry_delay_s=0.1)
    marker = tmp_path / "slept-once"
    running = atom.client.trigger("sleeper", {"seconds": 60, "marker": str(marker)})
    atom.wait_for(lambda: marker.exists(), what="the run to start sleeping")
    kill_hard(atom)

    store = ExecutionStore.open(f"sqlite:///{home / 'store.db'}")
    try:
        assert store.get(running["id"]).status.value == "running"  # as the dead atom left it
    finally:
        store.close()

    again = start_atom(home=home, port=atom.port)
    first = again.client.execution(running["id"])
    assert first["status"] == "interrupted"
    assert "killed or crashed" in first["error_summary"]
    assert "last seen alive" in first["error_summary"]
    assert first["ended_at"] is not None

    def retried():
        found = [r for r in again.client.executions(process="sleeper") if r["attempt"] == 2]
        return found[0] if found and found[0]["status"] == "succeeded" else None

    retry = again.wait_for(retried, what="the retry of the interrupted run")
    assert retry["retry_of"] == running["id"]


def test_ctrl_c_finishes_or_marks_running_executions(
    start_atom, atom_workspace: Workspace, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    atom = start_atom(home=home)  # --stop-grace 5 in the fixture
    atom.deploy(atom_workspace.notebooks_dir / "sleeper.ipynb")
    marker = tmp_path / "sleeping"
    record = atom.client.trigger("sleeper", {"seconds": 60, "marker": str(marker)})
    atom.wait_for(lambda: marker.exists(), what="the run to start")
    assert atom.stop(signal.SIGINT) == 0
    store = ExecutionStore.open(f"sqlite:///{home / 'store.db'}")
    try:
        stopped = store.get(record["id"])
    finally:
        store.close()
    assert stopped.status.value == "interrupted"
    assert "atom was stopped" in (stopped.error_summary or "")


@pytest.mark.parametrize("policy", ["once", "skip"])
def test_catch_up_after_downtime(
    start_atom, atom_workspace: Workspace, tmp_path: Path, policy: str
) -> None:
    home = tmp_path / "home"
    atom = start_atom("--misfire-grace", "1", home=home)
    atom.deploy(
        atom_workspace.notebooks_dir / "echo.ipynb", schedule="* * * * * */2", catch_up=policy
    )
    atom.wait_for(lambda: atom.client.executions(process="echo"), what="a first run")
    atom.stop(signal.SIGINT)
    time.sleep(7)  # about three fire times pass with no atom running
    again = start_atom("--misfire-grace", "1", home=home, port=atom.port)

    def late_fire():
        fires = again.client.schedules()[0]["fires"]
        late = [f for f in fires if f["outcome"] in ("catch_up", "skipped")]
        # the downtime's decision: on a loaded machine a fire run more than the 1 s grace
        # late is also caught up or skipped (missed 1), and fires come newest first
        return max(late, key=lambda f: f["missed"]) if late else None

    late = again.wait_for(late_fire, what="the catch-up decision")
    assert late["missed"] >= 2
    if policy == "once":
        assert late["outcome"] == "catch_up"
        assert late["execution_id"] is not None
        run = again.finished(late["execution_id"])
        assert run["trigger"] == "schedule"
    else:
        assert late["outcome"] == "skipped" and late["execution_id"] is None


@pytest.mark.postgres
def test_two_atoms_on_one_postgres_store_fire_each_due_time_once(
    start_atom, atom_workspace: Workspace, postgres_url: str
) -> None:
    url = postgres_url.rsplit("/", 1)[0] + "/postgres"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS atom_molecule"))
        connection.execute(sa.text("CREATE DATABASE atom_molecule"))
    engine.dispose()
    store_url = postgres_url.rsplit("/", 1)[0] + "/atom_molecule"
    atoms = [start_atom("--store", store_url, "--workers", "2") for _ in range(2)]
    for atom in atoms:
        atom.deploy(
            atom_workspace.notebooks_dir / "echo.ipynb", schedule=EVERY_SECOND, max_concurrent=4
        )
    time.sleep(8)
    for atom in atoms:  # stopped first: no fire is between its claim and its queueing
        atom.stop(signal.SIGINT)
    store = ExecutionStore.open(store_url)
    try:
        with store.engine.connect() as connection:
            fires = connection.execute(
                sa.text("SELECT due_at, atom, execution_id FROM schedule_fires")
            ).all()
            scheduled = connection.execute(
                sa.text("SELECT id FROM executions WHERE trigger = 'schedule'")
            ).all()
    finally:
        store.close()
    assert len(fires) >= 5
    assert len({f.due_at for f in fires}) == len(fires)  # one claim per due time
    assert all(f.execution_id for f in fires)  # every claimed fire time was queued
    linked = Counter(f.execution_id for f in fires if f.execution_id)
    assert all(n == 1 for n in linked.values())
    assert {r.id for r in scheduled} >= set(linked)  # every run fire has its one execution
    assert len(scheduled) <= len(fires)  # and no due time ran twice


def test_overlap_skip_records_fires_while_the_last_run_is_still_on(
    start_atom, atom_workspace: Workspace
) -> None:
    atom = start_atom()
    atom.deploy(
        atom_workspace.notebooks_dir / "sleeper.ipynb", schedule="* * * * * */2", overlap="skip"
    )

    def skipped_twice():
        fires = atom.client.schedules()[0]["fires"]
        return fires if sum(f["outcome"] == "skipped" for f in fires) >= 2 else None

    fires = atom.wait_for(skipped_twice, what="two skipped fire times")
    runs = atom.client.executions(process="sleeper")
    assert len(runs) == 1 and runs[0]["status"] == "running"  # the 30 s run, never overlapped
    assert [f["execution_id"] for f in fires if f["outcome"] == "run"] == [runs[0]["id"]]
    assert all(f["execution_id"] is None for f in fires if f["outcome"] == "skipped")
    atom.client.cancel(runs[0]["id"])
