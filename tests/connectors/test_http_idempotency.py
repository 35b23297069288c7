"""A retried execution re-sends with the same idempotency keys (RELIABILITY row 18).

Real kernels under papermill POST two documents to a loopback server that
records every request's headers. The first attempt fails after sending; its
retry (a record whose ``retry_of`` is the first attempt, as the atom queues
it) and the retry's retry send the very same keys, so the target can see the
duplicates; an unrelated execution sends other keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.connectors.http import HttpConnection, HttpOperation
from atomnb.connectors.http.idempotency import ROOT_EXECUTION_ENV, idempotency_key
from atomnb.documents import Documents
from atomnb.process.context import ENV_PREFIX, ExecutionContext
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
)
from tests.conftest import make_notebook
from tests.connectors.hostile_servers import Counting, counting_server

pytestmark = pytest.mark.notebook

BODY = """\
import os, atomnb as ab
from atomnb.connectors.http import HttpConnection, HttpOperation
conn = HttpConnection({url!r}, connect_timeout=60, read_timeout=60)
op = HttpOperation("POST", "/orders", body="document", idempotency_key=True)
ab.http_call(conn, op, ab.Documents.from_records([{{"n": 1}}, {{"n": 2}}]))
if not os.path.exists({marker!r}):  # the first attempt fails after sending
    open({marker!r}, "w").close()
    raise ConnectionError("lost the answer")
"""


@pytest.fixture
def target() -> Iterator[Counting]:
    with counting_server("127.0.0.1") as server:
        yield server


def _retry_of(store: ExecutionStore, first: ExecutionRecord) -> ExecutionRecord:
    """A queued retry of ``first``, as the atom records it."""
    retry = ExecutionRecord(
        id=new_execution_id(),
        process=first.process,
        notebook=first.notebook,
        environment=first.environment,
        trigger=Trigger.MANUAL,
        status=ExecutionStatus.QUEUED,
        attempt=first.attempt + 1,
        retry_of=first.id,
    )
    return store.insert(retry)


def _keys(target: Counting, start: int) -> list[str]:
    return [seen["headers"]["idempotency-key"] for seen in target.seen[start:]]


def test_a_retried_execution_resends_the_same_keys(
    workspace: Workspace, store: ExecutionStore, target: Counting, tmp_path: Path
) -> None:
    marker = str(tmp_path / "first-attempt-done")
    nb = make_notebook(
        workspace.notebooks_dir / "send.ipynb", BODY.format(url=target.url, marker=marker)
    )
    executor = PapermillExecutor(workspace, store)
    first = executor.run(RunRequest(notebook=nb))
    assert first.status is ExecutionStatus.FAILED
    sent_first = _keys(target, 0)
    assert len(sent_first) == 2 and len(set(sent_first)) == 2  # one key per document

    second = executor.run(RunRequest(notebook=nb, execution_id=_retry_of(store, first).id))
    assert second.status is ExecutionStatus.SUCCEEDED, second.error_summary
    assert _keys(target, 2) == sent_first  # the target can see the duplicates

    third = executor.run(RunRequest(notebook=nb, execution_id=_retry_of(store, second).id))
    assert third.status is ExecutionStatus.SUCCEEDED, third.error_summary
    assert _keys(target, 4) == sent_first  # the root of the chain decides, not the parent

    other = executor.run(RunRequest(notebook=nb))
    assert other.status is ExecutionStatus.SUCCEEDED, other.error_summary
    assert not set(_keys(target, 6)) & set(sent_first)  # another execution: other keys


def test_keys_follow_the_root_execution_and_the_request_number(
    target: Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = HttpConnection(target.url, connect_timeout=60, read_timeout=60)
    op = HttpOperation("POST", "/orders", body="document", idempotency_key=True)
    docs = Documents.from_records([{"n": 1}, {"n": 2}])
    monkeypatch.delenv(ROOT_EXECUTION_ENV, raising=False)
    op.call(conn, docs)
    op.call(conn, docs)
    interactive = _keys(target, 0)
    assert len(set(interactive)) == 4  # no execution to retry: random keys

    monkeypatch.setenv(ROOT_EXECUTION_ENV, "20261204000000root")
    assert idempotency_key("PUT /other") != idempotency_key("PUT /other")  # numbered
    op.call(conn, docs)
    keys = _keys(target, 4)
    assert len(set(keys)) == 2 and not set(keys) & set(interactive)


def test_the_executor_and_the_connector_agree_on_the_variable(tmp_path: Path) -> None:
    ctx = ExecutionContext("e2", "p", "dev", "manual", tmp_path, None, root_execution_id="e1")
    assert ctx.as_env()[ROOT_EXECUTION_ENV] == "e1"
    assert ROOT_EXECUTION_ENV.startswith(ENV_PREFIX)
    plain = ExecutionContext("e3", "p", "dev", "manual", tmp_path, None)
    assert plain.as_env()[ROOT_EXECUTION_ENV] == "e3"  # a first attempt is its own root
