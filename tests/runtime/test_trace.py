"""Shapes in a real kernel: the trace reaches the store, warnings and stops change the status,
persisted properties survive between executions, and document contents never reach the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import ExecutionStatus, ExecutionStore
from tests.conftest import make_notebook, run_cli

pytestmark = pytest.mark.notebook

SHAPES = """\
import atomnb as ab
docs = ab.start(ab.Documents.from_records([
    {"id": "A-1", "total": 50, "secret": "card-4111-1111"},
    {"id": "A-2", "total": 5000, "secret": "card-5500-0000"},
]))
big, small = ab.decision(docs, "total > 1000", name="big orders")
ab.notify("{count} big order(s)", big)
"""


@pytest.fixture
def executor(workspace: Workspace, store: ExecutionStore) -> PapermillExecutor:
    return PapermillExecutor(workspace, store)


def test_shape_rows_reach_the_store_without_document_contents(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    nb = make_notebook(workspace.notebooks_dir / "orders.ipynb", SHAPES)
    record = executor.run(RunRequest(notebook=nb))
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    shapes = store.shapes(record.id)
    assert [(s.kind, s.name, s.documents_in, s.documents_out) for s in shapes] == [
        ("start", "start", 0, {"out": 2}),
        ("decision", "big orders", 2, {"true": 1, "false": 1}),
        ("notify", "notify", 1, {"out": 1}),
    ]
    assert [(e.level, e.message) for e in store.logs(record.id)] == [("info", "1 big order(s)")]
    db = Path(workspace.store_url().removeprefix("sqlite:///"))
    for path in [db, *db.parent.glob("store.db-*")]:
        assert b"card-4111" not in path.read_bytes()


def test_caught_documents_make_a_success_with_warnings(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    body = (
        SHAPES
        + "ok, caught = ab.try_catch(\n"
        + '    docs, lambda d: d.filter([x["total"] < 100 or 1/0 for x in d])\n'
        + ")\n"
    )
    nb = make_notebook(workspace.notebooks_dir / "orders.ipynb", body)
    record = executor.run(RunRequest(notebook=nb))
    assert record.status is ExecutionStatus.SUCCEEDED_WITH_WARNINGS
    catch = store.shapes(record.id)[-1]
    assert (catch.kind, catch.errors, catch.documents_out) == (
        "try_catch",
        1,
        {"try": 1, "catch": 1},
    )


def test_stop_ends_the_process_successfully(
    executor: PapermillExecutor, workspace: Workspace
) -> None:
    nb = make_notebook(
        workspace.notebooks_dir / "p.ipynb",
        "import atomnb as ab\nab.stop('nothing to do')",
        "raise RuntimeError('must not run')",
    )
    record = executor.run(RunRequest(notebook=nb))
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary


def test_exception_shape_fails_with_a_message_from_documents(
    executor: PapermillExecutor, workspace: Workspace
) -> None:
    body = SHAPES + 'ab.exception("order {id} needs approval", big)\n'
    record = executor.run(
        RunRequest(notebook=make_notebook(workspace.notebooks_dir / "p.ipynb", body))
    )
    assert record.status is ExecutionStatus.FAILED
    assert "order A-2 needs approval" in (record.error_summary or "")


def test_persisted_properties_survive_between_successful_executions(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    body = (
        "import atomnb as ab\n"
        "runs = ab.persisted_property('runs', 0)\n"
        "ab.persist_property('runs', runs + 1)\n"
        "print('runs before', runs)\n"
    )
    nb = make_notebook(
        workspace.notebooks_dir / "counter.ipynb",
        body,
        "assert not fail",
        parameters="fail = False",
    )
    for _ in range(2):
        assert executor.run(RunRequest(notebook=nb)).status.ok
    assert store.persisted("counter", "default") == {"runs": 2}
    failed = executor.run(RunRequest(notebook=nb, parameters={"fail": "true"}))
    assert failed.status is ExecutionStatus.FAILED
    assert store.persisted("counter", "default") == {"runs": 2}  # a failed run keeps nothing


def test_tracked_fields_answer_what_happened_to_an_order(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    body = SHAPES + 'ab.track(big, "id", name="big order numbers")\n'
    record = executor.run(
        RunRequest(notebook=make_notebook(workspace.notebooks_dir / "p.ipynb", body))
    )
    assert record.status.ok, record.error_summary
    found = store.find_tracked("id", "A-2")
    assert [(r.id, shape, doc) for r, shape, doc in found] == [(record.id, "big order numbers", 0)]
    assert store.find_tracked("id", "A-1") == []  # only the documents that reached the shape
    shown = run_cli("executions", "find", "id", "A-2", cwd=workspace.root)
    assert record.id in shown.stdout and "big order numbers" in shown.stdout


def test_document_capture_only_for_debugging_runs_and_never_in_the_store(
    executor: PapermillExecutor, workspace: Workspace
) -> None:
    nb = make_notebook(workspace.notebooks_dir / "orders.ipynb", SHAPES)
    plain = executor.run(RunRequest(notebook=nb))
    assert not (workspace.executions_dir / plain.id / "capture.jsonl").exists()
    debug = executor.run(RunRequest(notebook=nb, capture=True))
    assert debug.status.ok, debug.error_summary
    lines = [
        json.loads(line)
        for line in (workspace.executions_dir / debug.id / "capture.jsonl").read_text().splitlines()
    ]
    big = next(
        entry for entry in lines if entry["name"] == "big orders" and entry["path"] == "true"
    )
    assert big["documents"] == [{"id": "A-2", "total": 5000, "secret": "card-5500-0000"}]
    db = Path(workspace.store_url().removeprefix("sqlite:///"))
    for path in [db, *db.parent.glob("store.db-*")]:
        assert b"card-5500" not in path.read_bytes()
