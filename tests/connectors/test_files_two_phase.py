"""No lost input: ``file_get(after=...)`` archives or deletes only when the execution succeeds.

Real kernels under papermill read files from a local folder and from the SFTP
test server; a run that fails after reading, or whose kernel is killed, leaves
its input where it was (and a ``pending`` row in the store), a run that
succeeds (or stops) archives or deletes it (row ``done``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from atomnb.components import Workspace
from atomnb.connectors.files import FileConnection, get_files
from atomnb.connectors.files.pending import PENDING_ENV, perform_pending, read_journal
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore
from atomnb.store.inputs import inputs_of, record_journal
from tests.conftest import make_notebook
from tests.connectors.file_servers import SFTP_USER, SftpServer

pytestmark = pytest.mark.notebook

CSV = b"id,name\n1,alpha\n2,beta\n"


def _inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    (root / "in").mkdir(parents=True)
    (root / "in" / "orders.csv").write_bytes(CSV)
    return root


def _run(
    workspace: Workspace, store: ExecutionStore, settings: dict[str, Any], *body: str
) -> ExecutionRecord:
    head = (
        "import json, atomnb as ab\n"
        "from atomnb.connectors.files import FileConnection\n"
        f"inbox = FileConnection.from_dict(json.loads({json.dumps(settings)!r}))\n"
    )
    nb = make_notebook(workspace.notebooks_dir / "poll.ipynb", head, *body)
    return PapermillExecutor(workspace, store).run(RunRequest(notebook=nb))


GET_DELETE = "docs = ab.file_get(inbox, 'in/*.csv', after='delete')\nassert len(docs) == 2"
GET_ARCHIVE = "docs = ab.file_get(inbox, 'in/*.csv', after='archive')\nassert len(docs) == 2"


def test_a_failed_run_keeps_its_input_and_a_pending_row(
    workspace: Workspace, store: ExecutionStore, tmp_path: Path
) -> None:
    root = _inbox(tmp_path)
    settings = {"protocol": "file", "root": str(root)}
    record = _run(workspace, store, settings, GET_DELETE, "raise RuntimeError('target down')")
    assert record.status is ExecutionStatus.FAILED
    assert (root / "in" / "orders.csv").read_bytes() == CSV  # still there for the next poll
    [row] = inputs_of(store, execution_id=record.id)
    assert (row.status, row.action) == ("pending", "delete")
    assert row.path.endswith("in/orders.csv") and row.connection == f"file://{root}"
    assert row.detail is not None and "the execution failed" in row.detail
    journal = read_journal(workspace.executions_dir / record.id / "pending_inputs.json")
    assert [entry.status for entry in journal] == ["pending"]


def test_a_successful_run_deletes_its_input_and_the_row_is_done(
    workspace: Workspace, store: ExecutionStore, tmp_path: Path
) -> None:
    root = _inbox(tmp_path)
    failed = _run(workspace, store, {"protocol": "file", "root": str(root)}, GET_DELETE, "1 / 0")
    record = _run(workspace, store, {"protocol": "file", "root": str(root)}, GET_DELETE)
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    assert not (root / "in" / "orders.csv").exists()
    [row] = inputs_of(store, execution_id=record.id)
    assert row.status == "done" and row.resolved_at is not None
    # the earlier failed run's row is resolved by the run that finally consumed the file
    [earlier] = inputs_of(store, execution_id=failed.id)
    assert earlier.status == "done" and earlier.detail == f"done by execution {record.id}"
    # the final cell does its work unseen: the published notebook has the user's cells only
    output = nbformat.read(workspace.root / str(record.output_path), as_version=4)
    assert not any("atomnb-finalize" in c.metadata.get("tags", []) for c in output.cells)
    assert len(output.cells) == 2


def test_a_stopped_run_succeeded_and_archives_its_input(
    workspace: Workspace, store: ExecutionStore, tmp_path: Path
) -> None:
    root = _inbox(tmp_path)
    settings = {"protocol": "file", "root": str(root)}
    record = _run(workspace, store, settings, GET_ARCHIVE, "ab.stop('nothing more')", "1 / 0")
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    assert not (root / "in" / "orders.csv").exists()
    assert (root / "archive" / "orders.csv").read_bytes() == CSV
    assert [row.status for row in inputs_of(store, execution_id=record.id)] == ["done"]


def test_a_killed_kernel_keeps_the_input(
    workspace: Workspace, store: ExecutionStore, tmp_path: Path
) -> None:
    root = _inbox(tmp_path)
    settings = {"protocol": "file", "root": str(root)}
    # the connector's own get (not the shape) defers as well
    direct = "docs = inbox.get('in/*.csv', after='delete')\nassert len(docs) == 2"
    kill = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    record = _run(workspace, store, settings, direct, kill)
    assert record.status is ExecutionStatus.FAILED
    assert record.error_summary is not None and "died" in record.error_summary
    assert (root / "in" / "orders.csv").read_bytes() == CSV
    assert [row.status for row in inputs_of(store, execution_id=record.id)] == ["pending"]


def test_sftp_input_stays_on_failure_and_is_deleted_on_success(
    workspace: Workspace,
    store: ExecutionStore,
    sftp_server: SftpServer,
    secret_env: None,
) -> None:
    folder = sftp_server.root / "two-phase"
    (folder / "in").mkdir(parents=True)
    (folder / "in" / "orders.csv").write_bytes(CSV)
    settings = {
        "protocol": "sftp",
        "root": "/two-phase",
        "host": sftp_server.host,
        "port": sftp_server.port,
        "user": SFTP_USER,
        "password": "env:T_SFTP_PASSWORD",
        "known_hosts": str(sftp_server.known_hosts),
    }
    failed = _run(workspace, store, settings, GET_DELETE, "raise ValueError('bad batch')")
    assert failed.status is ExecutionStatus.FAILED
    assert (folder / "in" / "orders.csv").exists()
    assert [row.status for row in inputs_of(store, execution_id=failed.id)] == ["pending"]
    ok = _run(workspace, store, settings, GET_DELETE)
    assert ok.status is ExecutionStatus.SUCCEEDED, ok.error_summary
    assert not (folder / "in" / "orders.csv").exists()
    assert [row.status for row in inputs_of(store, status="pending")] == []


# -- without a kernel: the journal itself ---------------------------------------------------


def test_with_a_journal_the_action_waits_and_a_file_is_recorded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _inbox(tmp_path)
    journal = tmp_path / "execution" / "pending_inputs.json"
    journal.parent.mkdir()
    monkeypatch.setenv(PENDING_ENV, str(journal))
    conn = FileConnection("file", root=str(root))
    assert len(get_files(conn, "in/*.csv", after="delete")) == 2
    assert len(get_files(conn, "in/*.csv", after="delete")) == 2  # still there: read again
    assert [e.status for e in read_journal(journal)] == ["pending"]
    [done] = perform_pending()
    assert done.status == "done" and not (root / "in" / "orders.csv").exists()
    assert [e.status for e in read_journal(journal)] == ["done"]


def test_interactively_the_action_happens_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PENDING_ENV, raising=False)
    root = _inbox(tmp_path)
    get_files(FileConnection("file", root=str(root)), "in/*.csv", after="delete")
    assert not (root / "in" / "orders.csv").exists()


def test_the_journal_of_a_dead_run_can_be_stored_at_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: ExecutionStore
) -> None:
    root = _inbox(tmp_path)
    folder = tmp_path / "executions" / "20261204000000dead"
    folder.mkdir(parents=True)
    monkeypatch.setenv(PENDING_ENV, str(folder / "pending_inputs.json"))
    get_files(FileConnection("file", root=str(root)), "in/*.csv", after="archive")
    # the atom died here; on restart it stores what the dead run left
    reason = "the execution was interrupted"
    assert record_journal(store, folder.name, folder, unfinished_reason=reason) == 1
    assert record_journal(store, folder.name, folder, unfinished_reason=reason) == 1  # again
    [row] = inputs_of(store, execution_id=folder.name)
    assert (row.status, row.action, row.archive_folder) == ("pending", "archive", "archive")
    assert row.detail == f"{reason}; the file stays for the next poll"
    assert (root / "in" / "orders.csv").exists()
