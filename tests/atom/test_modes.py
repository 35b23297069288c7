"""Process modes on a real atom: what general, bridge and low_latency keep of a request.

One process, deployed three times (one per ``atomnb.mode``), answers the same
messages alike; then each mode's records are looked at on disk and through the API:
what must exist and what must not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

from atomnb.components import Workspace
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import ExecutionStatus, ExecutionStore, Trigger
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port

pytestmark = pytest.mark.atom

SETUP = (
    "import atomnb as ab\n"
    "from atomnb.maps import Map, Rule, Step\n"
    "from atomnb.profiles import Element, ElementType as T, Profile\n"
    'SRC = Profile("order", (Element("orderId", T.STRING), Element("qty", T.STRING)))\n'
    'OUT = Profile("out", (Element("id", T.STRING, mandatory=True), Element("q", T.INTEGER)))\n'
    'MAP = Map("order_flat", SRC, OUT, (\n'
    '    Rule("id", ("orderId",), (Step("replace", {"old": "SO-", "new": "INV-"}),)),\n'
    '    Rule("q", ("qty",), (Step("to_integer"),)),\n'
    "))\n"
)
PER_MESSAGE = (
    'orders = ab.start(ab.Documents.from_records([{"orderId": "SO-0", "qty": "1"}]))\n'
    'mapped = ab.map(orders, MAP, name="flatten")\n'
    'ab.notify("{count} orders mapped", mapped)\n'
    'ab.write(mapped, ab.context().output_dir / "mapped.json")\n'
    "print(mapped.to_pylist())  # a cell output that shows documents\n"
    "ab.return_documents(mapped)\n"
)
MESSAGES = [
    [{"orderId": "SO-1", "qty": "2"}, {"orderId": "SO-2", "qty": "5"}],
    [{"orderId": "SO-3", "qty": "7"}],
]
DOCUMENT_FILES = ("incoming.arrow", "returned", "output", "capture.jsonl")


def _notebook(path: Path, mode: str | None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["kernelspec"]["language"] = "python"
    if mode is not None:
        nb.metadata["atomnb"] = {"mode": mode, "workers": 1}
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(PER_MESSAGE, metadata={"tags": ["per-message"]}),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    root = tmp_path_factory.mktemp("modes")
    ws = Workspace.init(root / "ws", name="modes-tests")
    started = AtomProcess(root / "home", _free_port(), ["--workers", "2"], root / "atom.log")
    try:
        started.start()
        modes = (("in_general", None), ("in_bridge", "bridge"), ("in_fast", "low_latency"))
        for name, mode in modes:
            started.deploy(_notebook(ws.notebooks_dir / f"{name}.ipynb", mode))
        yield started
    finally:
        if started.proc is not None:
            started.stop()


def _post(atom: AtomProcess, process: str, lines: list[dict[str, Any]]) -> httpx.Response:
    response = httpx.post(f"{atom.url}/listen/{process}", json=lines, timeout=120)
    assert response.status_code == 200, response.text
    return response


def _folder(atom: AtomProcess, execution_id: str) -> Path:
    return atom.home / "executions" / execution_id


def test_every_mode_gives_the_same_answers(atom: AtomProcess) -> None:
    for lines in MESSAGES:
        answers = [_post(atom, p, lines) for p in ("in_general", "in_bridge", "in_fast")]
        assert answers[0].content == answers[1].content == answers[2].content
        expected = [{"id": r["orderId"].replace("SO-", "INV-"), "q": int(r["qty"])} for r in lines]
        assert answers[0].json() == expected


def test_general_keeps_the_record_trace_log_notebook_and_documents(atom: AtomProcess) -> None:
    execution_id = _post(atom, "in_general", MESSAGES[0]).headers["X-Atomnb-Execution"]
    record = atom.client.execution(execution_id)
    assert record["status"] == "succeeded"
    assert _shape_counts(record) == {"start": (0, {"out": 2}), "flatten": (2, {"out": 2})}
    assert [e["message"] for e in record["logs"]] == ["2 orders mapped"]
    assert record["output_path"]
    assert "INV-1" in atom.client.output_notebook(execution_id).decode()  # the print's output
    folder = _folder(atom, execution_id)
    for name in ("incoming.arrow", "returned", "output"):
        assert (folder / name).exists(), name
    assert json.loads((folder / "output" / "mapped.json").read_text())[0]["id"] == "INV-1"


def test_bridge_keeps_the_record_trace_and_log_but_no_documents(atom: AtomProcess) -> None:
    answer = _post(atom, "in_bridge", MESSAGES[0])
    execution_id = answer.headers["X-Atomnb-Execution"]
    assert answer.headers["X-Atomnb-Status"] == "succeeded"
    record = atom.client.execution(execution_id)
    assert record["status"] == "succeeded"
    assert _shape_counts(record) == {"start": (0, {"out": 2}), "flatten": (2, {"out": 2})}
    assert [e["message"] for e in record["logs"]] == ["2 orders mapped"]
    assert record["output_path"] is None
    missing = httpx.get(f"{atom.url}/api/executions/{execution_id}/notebook", timeout=60)
    assert missing.status_code == 404
    folder = _folder(atom, execution_id)
    assert folder.is_dir()  # the record's folder: trace and logs
    left = sorted(p.name for p in folder.iterdir())
    assert not [n for n in left if n in DOCUMENT_FILES or n.endswith(".ipynb")], left
    assert not any(b"INV-1" in p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_low_latency_keeps_no_record_only_counts(atom: AtomProcess) -> None:
    before = _stats(atom)
    answer = _post(atom, "in_fast", MESSAGES[0])
    assert "X-Atomnb-Execution" not in answer.headers
    assert answer.headers["X-Atomnb-Mode"] == "low_latency"
    assert atom.client.executions(process="in_fast") == []
    after = _stats(atom)
    assert after["requests"] == before["requests"] + 1 and after["ok"] == before["ok"] + 1
    assert not [p for p in (atom.home / "lowlatency").rglob("*") if p.is_file()]
    written = [p for p in atom.home.rglob("mapped.json") if "executions" not in p.parts]
    assert written == []  # what it wrote into ab.context().output_dir is gone too


def test_a_bridge_debugging_run_captures_nothing(
    workspace: Workspace, store: ExecutionStore
) -> None:
    executor = PapermillExecutor(workspace, store)
    runs = {}
    for mode in ("general", "bridge"):
        notebook = _notebook(workspace.notebooks_dir / f"{mode}.ipynb", mode)
        runs[mode] = executor.run(RunRequest(notebook=notebook, capture=True))
        assert runs[mode].status.ok, runs[mode].error_summary
    general = workspace.executions_dir / runs["general"].id
    bridge = workspace.executions_dir / runs["bridge"].id
    assert (general / "capture.jsonl").exists() and (general / "general.ipynb").exists()
    assert (general / "output" / "mapped.json").exists()
    assert runs["bridge"].output_path is None
    assert sorted(p.name for p in bridge.iterdir() if p.name in DOCUMENT_FILES) == []
    assert not list(bridge.glob("*.ipynb")) and not list(bridge.glob(".*.ipynb"))
    assert {"start", "flatten", "notify"} <= {s.name for s in store.shapes(runs["bridge"].id)}


def _shape_counts(record: dict[str, Any]) -> dict[str, tuple[int, dict[str, int]]]:
    return {
        s["name"]: (s["documents_in"], s["documents_out"])
        for s in record["shapes"]
        if s["name"] in ("start", "flatten")
    }


def _stats(atom: AtomProcess) -> dict[str, Any]:
    response = httpx.get(f"{atom.url}/api/processes/in_fast/stats", timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json()["stats"] or {"requests": 0, "ok": 0})


def test_a_bridge_listener_run_without_its_message_fails_saying_so(
    workspace: Workspace, store: ExecutionStore
) -> None:
    """A retry of a bridge listener execution finds no message (none is kept): it fails at
    once instead of running on the notebook's sample documents."""
    notebook = _notebook(workspace.notebooks_dir / "bridged.ipynb", "bridge")
    record = PapermillExecutor(workspace, store).run(
        RunRequest(notebook=notebook, trigger=Trigger.LISTENER)
    )
    assert record.status is ExecutionStatus.FAILED
    assert "cannot run again" in (record.error_summary or "")
    assert store.shapes(record.id) == []  # nothing ran
