"""Execution traces over OTLP/HTTP: a real atom, a real kernel, a receiver on loopback.

The receiver is a small HTTP server that accepts ``POST /v1/traces`` and decodes
the protobuf with opentelemetry-proto; it also serves ``GET /items`` for the
process's HTTP call. The process reads its start documents, calls that HTTP
endpoint, writes to a SQLite database and puts files: the trace must hold the
execution, a span per shape and a client span per connector call under its shape.
"""

from __future__ import annotations

import gzip
import json
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

import atomnb as ab
from atomnb.components import Workspace
from atomnb.connectors.files import FileConnection
from atomnb.connectors.http import HttpConnection, HttpOperation
from atomnb.connectors.sql import SqlConnection
from atomnb.process.run import current_run, new_run
from tests.atom.observed import own_atom
from tests.conftest import make_notebook

pytestmark = pytest.mark.atom


class Receiver(ThreadingHTTPServer):
    """OTLP/HTTP traces in (decoded), a small JSON API out."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[ExportTraceServiceRequest] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list[dict[str, Any]]:
        """Every span received, flattened with its resource's attributes."""
        found = []
        with self.lock:
            requests = list(self.requests)
        for request in requests:
            for resource_spans in request.resource_spans:
                resource = _attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(
                            {
                                "name": span.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "kind": span.kind,
                                "status": span.status.code,
                                "start": span.start_time_unix_nano,
                                "end": span.end_time_unix_nano,
                                "attributes": _attributes(span.attributes),
                                "resource": resource,
                            }
                        )
        return found


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces":
            self.send_error(404)
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.server.lock:
            self.server.requests.append(request)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        answer = json.dumps([{"sku": "A"}, {"sku": "B"}]).encode()
        self.send_response(200 if self.path.startswith("/items") else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def _attributes(items: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        value = item.value
        kind = value.WhichOneof("value")
        values[item.key] = getattr(value, kind) if kind else None
    return values


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


PROCESS = """\
import atomnb as ab
from atomnb.connectors.files import FileConnection
from atomnb.connectors.http import HttpConnection, HttpOperation
from atomnb.connectors.sql import SqlConnection

orders = ab.start(ab.Documents.from_records([{'n': 1}, {'n': 2}]), name='take orders')
items = ab.http_call(HttpConnection(api), HttpOperation('GET', '/items'), name='fetch items')
db = SqlConnection(f'sqlite:///{folder}/erp.db')
with db.engine.begin() as c:
    c.exec_driver_sql('CREATE TABLE IF NOT EXISTS orders (n INTEGER)')
ab.database_write(db, 'insert', 'orders', orders, name='save orders')
ab.file_put(FileConnection('file', root=folder), items, '{sku}.json', name='write items')
if fail:
    raise RuntimeError('fails on purpose')
"""


@pytest.fixture(scope="module")
def traced(
    tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("tracing")
    workspace = Workspace.init(root / "ws", name="tracing-tests")
    notebook = make_notebook(
        workspace.notebooks_dir / "traced.ipynb",
        PROCESS,
        parameters='api = ""\nfolder = ""\nfail = False',
    )
    (root / "out").mkdir()
    atom = own_atom(
        root / "home",
        "tracing",
        ["--workers", "1"],
        settings=f'otlp_endpoint = "{receiver.url}"',
    )
    try:
        atom.deploy(notebook)
        parameters = {"api": receiver.url, "folder": str(root / "out")}
        ok = atom.client.trigger("traced", parameters, wait=True)
        failed = atom.client.trigger("traced", {**parameters, "fail": True}, wait=True)
        assert (ok["status"], failed["status"]) == ("succeeded", "failed"), (ok, failed)

        def both_roots() -> list[dict[str, Any]] | None:
            spans = receiver.spans()
            roots = {s["attributes"].get("atomnb.execution.id") for s in spans if not s["parent"]}
            return spans if {ok["id"], failed["id"]} <= roots else None

        spans = atom.wait_for(both_roots, 90, "both executions' spans at the receiver")
        yield {"spans": spans, "ok": ok, "failed": failed, "atom": atom}
    finally:
        atom.stop(signal.SIGINT)


def _trace_of(traced: dict[str, Any], execution_id: str) -> list[dict[str, Any]]:
    root = next(
        s
        for s in traced["spans"]
        if not s["parent"] and s["attributes"]["atomnb.execution.id"] == execution_id
    )
    return [s for s in traced["spans"] if s["trace_id"] == root["trace_id"]]


def test_one_trace_per_execution_with_a_span_per_shape(traced: dict[str, Any]) -> None:
    ok = traced["ok"]
    spans = _trace_of(traced, ok["id"])
    (root,) = [s for s in spans if not s["parent"]]
    assert root["name"] == "execute traced"
    assert root["resource"]["service.name"] == "atomnb-atom"
    assert root["resource"]["atomnb.atom.id"] == traced["atom"].client.health()["atom"]
    attributes = root["attributes"]
    assert attributes["atomnb.process"] == "traced"
    assert attributes["atomnb.execution.status"] == "succeeded"
    assert root["status"] != 2  # not STATUS_CODE_ERROR
    shapes = {s["name"]: s for s in spans if s["parent"] == root["span_id"]}
    assert set(shapes) == {"take orders", "fetch items", "save orders", "write items"}
    for shape in shapes.values():
        assert shape["attributes"]["atomnb.execution.id"] == ok["id"]
        assert shape["attributes"]["atomnb.process"] == "traced"
        assert root["start"] <= shape["start"] <= shape["end"] <= root["end"]
    assert shapes["take orders"]["attributes"]["atomnb.documents.out"] == 2
    assert shapes["fetch items"]["attributes"]["atomnb.documents.out"] == 2
    assert shapes["save orders"]["attributes"]["atomnb.documents.in"] == 2
    assert attributes["atomnb.documents.in"] == sum(
        s["attributes"]["atomnb.documents.in"] for s in shapes.values()
    )


def test_connector_calls_are_child_spans_of_their_shape(traced: dict[str, Any]) -> None:
    spans = _trace_of(traced, traced["ok"]["id"])
    by_id = {s["span_id"]: s for s in spans}
    calls = [s for s in spans if "atomnb.call.kind" in s["attributes"]]
    parent_of = {s["name"]: by_id[s["parent"]]["name"] for s in calls}
    assert parent_of == {
        "http GET": "fetch items",
        "database insert": "save orders",
        "files put": "write items",
    }
    http = next(s for s in calls if s["name"] == "http GET")
    assert http["attributes"]["atomnb.call.target"].endswith("/items")
    assert http["attributes"]["atomnb.call.target"].startswith("127.0.0.1:")
    assert http["attributes"]["http.response.status_code"] == 200
    assert http["kind"] == 3  # SPAN_KIND_CLIENT
    database = next(s for s in calls if s["name"] == "database insert")
    assert database["attributes"]["atomnb.call.target"].startswith("sqlite:///")
    assert database["attributes"]["atomnb.call.target"].endswith("erp.db orders")
    assert all(s["attributes"]["atomnb.call.outcome"] == "ok" for s in calls)


def test_a_failed_execution_is_an_error_span(traced: dict[str, Any]) -> None:
    spans = _trace_of(traced, traced["failed"]["id"])
    (root,) = [s for s in spans if not s["parent"]]
    assert root["attributes"]["atomnb.execution.status"] == "failed"
    assert root["status"] == 2  # STATUS_CODE_ERROR
    assert {s["name"] for s in spans if s["parent"] == root["span_id"]} >= {"take orders"}


def test_connector_calls_are_recorded_in_the_process_trace(
    tmp_path: Path, receiver: Receiver
) -> None:
    """In a kernel-less run: each call names its kind, target and shape; no credentials."""
    new_run()
    api = HttpConnection(receiver.url.replace("http://", "http://user:pw@"))
    ab.http_call(api, HttpOperation("GET", "/items", query={"key": "s3cret"}), name="fetch")
    db = SqlConnection(f"sqlite:///{tmp_path / 'erp.db'}")
    with db.engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    ab.database_write(db, "insert", "t", ab.Documents.from_records([{"n": 1}]), name="save")
    box = FileConnection("file", root=str(tmp_path))
    ab.file_put(box, ab.Documents.from_records([{"n": 1}]), "n.json", name="put")
    trace = current_run().trace
    index = {s.name: s.index for s in trace.shapes}
    recorded = [(c.kind, c.operation, c.shape, c.outcome) for c in trace.calls]
    assert recorded == [
        ("http", "GET", index["fetch"], "ok"),
        ("database", "insert", index["save"], "ok"),
        ("files", "put", index["put"], "ok"),
    ]
    assert trace.calls[0].target == f"127.0.0.1:{receiver.server_address[1]}/items"
    assert trace.calls[0].status == 200
    assert trace.calls[2].target.endswith("/n.json")
    assert "s3cret" not in json.dumps(trace.to_dict()) and "pw@" not in json.dumps(trace.to_dict())
    db.dispose()


def test_a_called_process_has_a_trace_naming_its_caller(
    traced: dict[str, Any], receiver: Receiver, tmp_path: Path
) -> None:
    workspace = Workspace.init(tmp_path / "calls", name="traced-calls")
    make_notebook(
        workspace.notebooks_dir / "callee.ipynb",
        "import atomnb as ab\ndocs = ab.start(ab.Documents.from_records([{'n': 0}]))\n"
        "ab.return_documents(docs, 'back')",
        parameters="n = 0",
    )
    caller = make_notebook(
        workspace.notebooks_dir / "caller.ipynb",
        "import atomnb as ab\n"
        "back = ab.process_call('callee.ipynb', ab.Documents.from_records([{'n': 1}]))\n"
        "assert len(back['back']) == 1",
        parameters="x = 0",
    )
    atom = traced["atom"]
    atom.deploy(caller)
    parent = atom.client.trigger("caller", wait=True)
    assert parent["status"] == "succeeded", parent["error_summary"]

    def child_root() -> dict[str, Any] | None:
        return next(
            (
                s
                for s in receiver.spans()
                if not s["parent"]
                and s["attributes"].get("atomnb.execution.parent_id") == parent["id"]
            ),
            None,
        )

    root = atom.wait_for(child_root, 90, "the called execution's trace at the receiver")
    assert root["name"] == "execute callee"
    assert root["attributes"]["atomnb.trigger"] == "process_call"
