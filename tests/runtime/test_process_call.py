"""A process calls another as its own execution, with documents in and out."""

from __future__ import annotations

import pytest

from atomnb.components import Workspace
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import ExecutionStatus, ExecutionStore, Trigger
from tests.conftest import make_notebook

pytestmark = pytest.mark.notebook

CHILD = """\
import atomnb as ab
docs = ab.start(ab.Documents.from_records([{"n": 0}]))
import pyarrow as pa
doubled = ab.custom(docs, lambda d: d.with_table(pa.table({"n": [x["n"] * factor for x in d]})))
ab.return_documents(doubled, "doubled")
if fail:
    raise RuntimeError("child says no")
"""
PARENT = """\
import atomnb as ab
docs = ab.Documents.from_records([{"n": 1}, {"n": 2}], properties={"file_name": ["a", "b"]})
returned = ab.process_call("child.ipynb", docs, parameters={"factor": 10, "fail": fail_child})
values = [d["n"] for d in returned["doubled"]]
assert values == [10, 20], values
"""


@pytest.fixture
def executor(workspace: Workspace, store: ExecutionStore) -> PapermillExecutor:
    make_notebook(
        workspace.notebooks_dir / "child.ipynb", CHILD, parameters="factor = 2\nfail = False"
    )
    return PapermillExecutor(workspace, store)


def test_documents_go_in_and_come_back_from_a_called_process(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    parent = make_notebook(
        workspace.notebooks_dir / "parent.ipynb", PARENT, parameters="fail_child = False"
    )
    record = executor.run(RunRequest(notebook=parent))
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    runs = {r.process: r for r in store.recent()}
    assert runs["child"].trigger is Trigger.PROCESS_CALL and runs["child"].status.ok
    assert runs["child"].parameters == {"factor": 10, "fail": False}
    call = next(s for s in store.shapes(record.id) if s.kind == "process_call")
    assert (call.name, call.documents_in, call.documents_out) == ("child", 2, {"doubled": 2})
    child_start = store.shapes(runs["child"].id)[0]
    assert (child_start.kind, child_start.documents_out) == ("start", {"out": 2})


def test_a_failing_called_process_fails_the_call_with_its_reason(
    executor: PapermillExecutor, workspace: Workspace, store: ExecutionStore
) -> None:
    parent = make_notebook(
        workspace.notebooks_dir / "parent.ipynb", PARENT, parameters="fail_child = False"
    )
    record = executor.run(RunRequest(notebook=parent, parameters={"fail_child": "true"}))
    assert record.status is ExecutionStatus.FAILED
    assert "process call: child failed: RuntimeError: child says no" in (record.error_summary or "")
    child = next(r for r in store.recent() if r.process == "child")
    assert child.status is ExecutionStatus.FAILED
