"""/metrics and HTTP request statistics on a real atom, after real executions and requests.

One atom for the module: a process run once to success and once to failure by
trigger, twice through its listener, one listener request to an unknown
process. Prometheus' own parser reads the scrape; the store's ``http_requests``
rows are read back through ``atomnb.store.http_stats``.
"""

from __future__ import annotations

import secrets
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from atomnb.atom.observe.collector import AtomCollector
from atomnb.atom.observe.requests import RequestRecorder
from atomnb.components import Workspace
from atomnb.process.trace import ShapeRecord, Trace
from atomnb.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    Trigger,
    new_execution_id,
    utcnow,
)
from atomnb.store.http_stats import HttpStats
from atomnb.store.tables import executions, http_requests
from tests.atom.observed import own_atom
from tests.conftest import make_notebook

pytestmark = pytest.mark.atom

LISTEN = "/listen/{process}"


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("metrics")
    workspace = Workspace.init(root / "ws", name="metrics-tests")
    notebook = make_notebook(
        workspace.notebooks_dir / "orders.ipynb",
        "import atomnb as ab\n"
        "sample = ab.Documents.from_records([{'n': 1}, {'n': 2}, {'n': 3}])\n"
        "orders = ab.start(sample, name='take orders')\n"
        "if fail:\n    raise RuntimeError('fails on purpose')\n"
        "ab.return_documents(orders)",
        parameters="fail = False",
    )
    home = root / "home"
    atom = own_atom(home, "metrics", ["--workers", "1"])
    try:
        process = atom.deploy(notebook)["process"]
        assert process == "orders"
        ok = atom.client.trigger("orders", wait=True)
        failed = atom.client.trigger("orders", {"fail": True}, wait=True)
        assert (ok["status"], failed["status"]) == ("succeeded", "failed"), (ok, failed)
        for records in ([{"n": 10}, {"n": 11}], [{"n": 12}]):
            answer = httpx.post(f"{atom.url}/listen/orders", json=records, timeout=60)
            assert answer.status_code == 200, answer.text
        missing = httpx.post(f"{atom.url}/listen/nothing-here", json=[{"n": 1}], timeout=60)
        assert missing.status_code == 404
        text = httpx.get(f"{atom.url}/metrics", timeout=60)
        assert text.status_code == 200, text.text
        assert text.headers["content-type"].startswith("text/plain")
        stats = HttpStats(ExecutionStore.open(f"sqlite:///{home / 'store.db'}"))

        def listener_rows() -> dict[int, int] | None:
            since = utcnow() - timedelta(hours=1)
            by_status: dict[int, int] = {}
            for point in stats.requests_by_status(since, route=LISTEN):
                by_status[point.status] = by_status.get(point.status, 0) + point.count
            return by_status if sum(by_status.values()) >= 3 else None

        rows = atom.wait_for(listener_rows, 60, "the listener requests in http_requests")
        yield {
            "atom": atom,
            "samples": _samples(text.text),
            "rows": rows,
            "stats": stats,
            "atom_id": atom.client.health()["atom"],
        }
        stats.engine.dispose()
    finally:
        atom.stop(signal.SIGINT)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(scraped: dict[str, Any], name: str, **labels: str) -> float | None:
    return scraped["samples"].get((name, frozenset(labels.items())))


def test_executions_are_counted_by_process_and_status(scraped: dict[str, Any]) -> None:
    # two triggered runs, two listener runs; the listener's unknown process ran nothing
    assert _value(scraped, "atomnb_executions_total", process="orders", status="succeeded") == 3
    assert _value(scraped, "atomnb_executions_total", process="orders", status="failed") == 1
    assert _value(scraped, "atomnb_execution_duration_seconds_count", process="orders") == 4
    assert (
        _value(scraped, "atomnb_execution_duration_seconds_bucket", process="orders", le="+Inf")
        == 4
    )
    total = _value(scraped, "atomnb_execution_duration_seconds_sum", process="orders")
    assert total is not None and total > 0
    # nothing waits or runs once they are done
    assert _value(scraped, "atomnb_executions_queued", process="orders") in (None, 0)
    assert _value(scraped, "atomnb_executions_running", process="orders") in (None, 0)


def test_documents_are_counted_per_shape(scraped: dict[str, Any]) -> None:
    # start: 3 sample documents in each triggered run (the failed one too), 2 + 1 by listener
    out = _value(scraped, "atomnb_shape_documents_out_total", process="orders", shape="take orders")
    assert out == 3 + 3 + 2 + 1
    assert (
        _value(scraped, "atomnb_shape_documents_in_total", process="orders", shape="take orders")
        == 0
    )


def test_listener_requests_by_route_template_and_status(scraped: dict[str, Any]) -> None:
    assert _value(scraped, "atomnb_http_requests_total", route=LISTEN, status="200") == 2
    assert _value(scraped, "atomnb_http_requests_total", route=LISTEN, status="404") == 1
    count = _value(
        scraped, "atomnb_http_request_duration_seconds_count", route=LISTEN, status="200"
    )
    assert count == 2
    inf = _value(
        scraped,
        "atomnb_http_request_duration_seconds_bucket",
        route=LISTEN,
        status="200",
        le="+Inf",
    )
    assert inf == 2
    # no raw paths: one series per route template
    routes = {dict(labels).get("route") for (name, labels) in scraped["samples"] if "http" in name}
    assert "/listen/orders" not in routes and "/listen/nothing-here" not in routes


def test_the_atom_heartbeat_is_reported(scraped: dict[str, Any]) -> None:
    atom_id = scraped["atom_id"]
    assert _value(scraped, "atomnb_atom_up", atom=atom_id) == 1
    assert _value(scraped, "atomnb_atom_paused", atom=atom_id) == 0
    beat = _value(scraped, "atomnb_atom_heartbeat_timestamp_seconds", atom=atom_id)
    assert beat is not None and abs(beat - utcnow().timestamp()) < 3600


def test_http_requests_rows_hold_listener_requests(scraped: dict[str, Any]) -> None:
    assert scraped["rows"] == {200: 2, 404: 1}
    stats: HttpStats = scraped["stats"]
    since = utcnow() - timedelta(hours=1)
    latency = stats.latency(since, route=LISTEN)
    assert latency.count == 3
    assert latency.p50_s is not None and latency.p99_s is not None
    assert 0 < latency.p50_s <= latency.p95_s <= latency.p99_s  # type: ignore[operator]
    routes = {r.route: r for r in stats.route_summaries(since)}
    assert routes[LISTEN].by_status == {200: 2, 404: 1}
    assert "/api/processes/{process}/executions" in routes  # the triggers, counted as API
    hourly = stats.requests_by_status(since, step="hour", route=LISTEN)
    assert all(p.at.minute == 0 for p in hourly)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_collector_and_http_stats_on_each_store(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The same aggregate SQL (JSON sums, duration buckets, upserts) on SQLite and PostgreSQL."""
    url = (
        request.getfixturevalue("postgres_url")
        if dialect == "postgresql"
        else f"sqlite:///{tmp_path}/store.db"
    )
    store = ExecutionStore.open(url)
    atom_id = f"collector-{secrets.token_hex(4)}"
    records = []
    for n, (status, seconds) in enumerate([("succeeded", 0.7), ("failed", 42.0)]):
        record = ExecutionRecord(
            id=new_execution_id(),
            process="collected",
            notebook="n.ipynb",
            environment="default",
            trigger=Trigger.MANUAL,
            status=ExecutionStatus(status),
            created_at=utcnow(),
            ended_at=utcnow(),
            duration_s=seconds,
            atom=atom_id,
        )
        store.insert(record)
        trace = Trace()
        trace.add(ShapeRecord(0, "split", "data", documents_in=5, documents_out={"a": 3, "b": n}))
        store.save_trace(record.id, trace)
        records.append(record)
    recorder = RequestRecorder(atom_id)
    recorder.observe(LISTEN, 200, 0.02)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AtomCollector(store, atom_id, recorder))
    found = _samples(generate_latest(registry).decode())
    scraped = {"samples": found}
    try:
        assert (
            _value(scraped, "atomnb_shape_documents_in_total", process="collected", shape="split")
            == 10
        )
        assert (
            _value(scraped, "atomnb_shape_documents_out_total", process="collected", shape="split")
            == 7
        )
        bucket = "atomnb_execution_duration_seconds_bucket"
        assert _value(scraped, bucket, process="collected", le="1.0") == 1
        assert _value(scraped, bucket, process="collected", le="60.0") == 2
        assert _value(scraped, "atomnb_http_requests_total", route=LISTEN, status="200") == 1
        stats = HttpStats(store)
        stats.add(recorder.take())
        recorder.observe(LISTEN, 200, 0.2)
        stats.add(recorder.take())  # the same minute (most likely): added to the row
        since = utcnow() - timedelta(hours=1)
        latency = stats.latency(since, atom=atom_id)
        assert latency.count == 2 and latency.p99_s is not None and latency.p99_s <= 0.25
    finally:
        with store.engine.begin() as connection:
            connection.execute(executions.delete().where(executions.c.atom == atom_id))
            connection.execute(http_requests.delete().where(http_requests.c.atom == atom_id))
        store.close()
