"""The stream connector on real servers: produce, consume, ack after success, dead letters.

Every test runs on Redis Streams and on NATS JetStream (``server``), each a real
server on loopback (conftest). Redelivery waits are short settings
(``redeliver_after_ms``), and every wait for one is a loop with a generous limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import nats
import pytest
import redis

from atomnb.connectors.conformance import assert_conforms
from atomnb.connectors.registry import ConnectorRegistry
from atomnb.connectors.streams import Batch, ConsumeOptions, Consumer, StreamConnection
from atomnb.documents import Documents

REDELIVER_MS = 300


@pytest.fixture(params=["redis", "nats"])
def server(request: pytest.FixtureRequest, unique: str) -> Iterator[tuple[StreamConnection, str]]:
    """A connection and a fresh stream on it (JetStream: stream ``S`` over ``S.>``)."""
    conn: StreamConnection = request.getfixturevalue(f"{request.param}_conn")
    stream = unique.upper() if request.param == "nats" else unique
    conn.ensure_stream(stream)
    yield conn, stream


def subject(conn: StreamConnection, stream: str) -> str:
    """Where to produce: the Redis key, or a subject of the JetStream stream."""
    return stream if conn.kind == "redis" else f"{stream}.in"


def options(**changes: Any) -> ConsumeOptions:
    settings: dict[str, Any] = {
        "group": "g",
        "consumer": "c1",
        "batch_size": 10,
        "wait_ms": 200,
        "redeliver_after_ms": REDELIVER_MS,
        "max_deliveries": 3,
    }
    return ConsumeOptions(**(settings | changes))


def read_until(consumer: Consumer, want: int, timeout_s: float = 60) -> Batch:
    """Read until a batch holds ``want`` messages (redeliveries come after the idle time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = consumer.read()
        if len(batch) >= want:
            return batch
        assert len(batch) == 0, f"got a partial batch {batch.ids}"
    raise AssertionError(f"no batch of {want} within {timeout_s} s")


def read_all(consumer: Consumer, want: int, timeout_s: float = 60) -> list[Batch]:
    """Batches until ``want`` messages came in all."""
    batches: list[Batch] = []
    deadline = time.monotonic() + timeout_s
    while sum(len(b) for b in batches) < want and time.monotonic() < deadline:
        batch = consumer.read()
        if len(batch):
            batches.append(batch)
    assert sum(len(b) for b in batches) == want
    return batches


def dead_letters(conn: StreamConnection, stream: str) -> list[dict[str, str]]:
    """What the dead-letter stream holds: body, reason, origin (read with the plain clients)."""
    if conn.kind == "redis":
        client = redis.Redis.from_url(conn.settings.url, decode_responses=True)
        try:
            return [fields for _, fields in client.xrange(f"{stream}.dead")]
        finally:
            client.close()

    async def fetch() -> list[dict[str, str]]:
        nc = await nats.connect(conn.settings.url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(f"{stream}_dead")
            found: list[dict[str, str]] = []
            if not info.state.messages:
                return found
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(f"{stream}_dead", seq)
                headers = dict(msg.headers or {})
                found.append(
                    {
                        "doc": (msg.data or b"").decode(),
                        "reason": headers["Atomnb-Reason"],
                        "id": headers["Atomnb-Message-Id"],
                        "deliveries": headers["Atomnb-Deliveries"],
                    }
                )
            return found
        finally:
            await nc.close()

    return asyncio.run(fetch())


def test_produce_then_consume_carries_stream_id_and_deliveries(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    docs = Documents.from_records([{"order": i, "item": f"x{i}"} for i in range(25)])
    sent = conn.produce(subject(conn, stream), docs)
    ids = sent.property("message_id").to_pylist()
    assert len(set(ids)) == 25 and sent.to_pylist() == docs.to_pylist()
    consumer = conn.consumer(stream, options())
    batches = read_all(consumer, 25)
    assert all(len(b) <= 10 for b in batches)  # batch_size
    got = [record for b in batches for record in b.documents.to_pylist()]
    assert got == docs.to_pylist()
    props = [b.documents.properties_of(i) for b in batches for i in range(len(b))]
    assert [p["message_id"] for p in props] == ids
    assert {p["stream"] for p in props} == {stream}
    assert {p["deliveries"] for p in props} == {1}
    for batch in batches:
        consumer.settle(batch)
    assert consumer.pending() == 0


def test_redis_produce_trims_to_about_max_length(redis_conn: StreamConnection, unique: str) -> None:
    docs = Documents.from_records([{"n": i} for i in range(2000)])
    redis_conn.produce(unique, docs, max_length=100)
    client = redis.Redis.from_url(redis_conn.settings.url)
    try:
        length = client.xlen(unique)
    finally:
        client.close()
    assert 100 <= length < 2000  # MAXLEN ~ trims whole nodes: about, never below


def test_nothing_is_acknowledged_before_settle(server: tuple[StreamConnection, str]) -> None:
    conn, stream = server
    conn.produce(subject(conn, stream), Documents.from_records([{"n": i} for i in range(4)]))
    first = conn.consumer(stream, options())
    batch = read_until(first, 4)
    assert first.pending() == 4
    # Another consumer of the group gets nothing new: the four are out, not done.
    other = conn.consumer(stream, options(consumer="c2", wait_ms=50))
    assert len(other.read()) == 0
    first.fail(batch, "the run failed")
    again = read_until(other, 4)
    assert again.ids == batch.ids
    assert again.documents.property("deliveries").to_pylist() == [2, 2, 2, 2]
    other.settle(again)
    assert other.pending() == 0
    time.sleep(REDELIVER_MS * 2 / 1000)
    assert len(other.read()) == 0  # settled for good


def test_per_document_settle_acks_the_good_and_retries_the_rejected(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    conn.produce(subject(conn, stream), Documents.from_records([{"n": i} for i in range(3)]))
    consumer = conn.consumer(stream, options())
    batch = read_until(consumer, 3)
    consumer.settle(batch, {batch.ids[1]: "document 1: amount missing"})
    assert consumer.pending() == 1
    retried = read_until(consumer, 1)
    assert retried.ids == [batch.ids[1]] and retried.documents.to_pylist() == [{"n": 1}]


def test_poison_message_reaches_the_dead_letter_stream_after_max_deliveries(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    sent = conn.produce(
        subject(conn, stream), Documents.from_records([{"n": "poison"}, {"n": "fine"}])
    )
    poison, fine = sent.property("message_id").to_pylist()
    consumer = conn.consumer(stream, options(max_deliveries=3))
    tries = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and consumer.pending() + tries < 4:
        batch = consumer.read()
        if not len(batch):
            if consumer.pending() == 0:
                break
            continue
        reason = "division by zero in map 'totals'"
        failed = {m.id: reason for m in batch.messages if m.id == poison}
        tries += len(failed)
        consumer.settle(batch, failed)
    assert tries == 3  # delivered and failed three times, then given up
    assert consumer.pending() == 0
    dead = dead_letters(conn, stream)
    assert len(dead) == 1
    assert dead[0]["id"] == poison and '"poison"' in dead[0]["doc"]
    assert "3 deliveries" in dead[0]["reason"] and "division by zero" in dead[0]["reason"]
    assert fine not in {d["id"] for d in dead}


def test_crashed_runs_lead_to_the_dead_letter_stream_too(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    sent = conn.produce(subject(conn, stream), Documents.from_records([{"n": 1}]))
    (only,) = sent.property("message_id").to_pylist()
    for attempt in range(1, 3):  # two consumers that read and then die without a word
        crashed = conn.consumer(stream, options(max_deliveries=2, consumer=f"dies{attempt}"))
        assert read_until(crashed, 1).messages[0].deliveries == attempt
    survivor = conn.consumer(stream, options(max_deliveries=2, consumer="lives"))
    deadline = time.monotonic() + 60
    while not dead_letters(conn, stream) and time.monotonic() < deadline:
        assert len(survivor.read()) == 0  # the third delivery is not handed to a run
    (dead,) = dead_letters(conn, stream)
    assert dead["id"] == only and "never acknowledged" in dead["reason"]
    assert survivor.pending() == 0


def test_bodies_that_are_not_documents_are_refused_and_dead_lettered_at_once(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    if conn.kind == "redis":
        client = redis.Redis.from_url(conn.settings.url)
        for body in (b'{"ok": 1}', b"not json {", b"[1, 2]", b'{"ok": 2}'):
            client.xadd(stream, {"doc": body})
        client.close()
    else:

        async def send() -> None:
            nc = await nats.connect(conn.settings.url)
            js = nc.jetstream()
            for body in (b'{"ok": 1}', b"not json {", b"[1, 2]", b'{"ok": 2}'):
                await js.publish(f"{stream}.in", body)
            await nc.close()

        asyncio.run(send())
    consumer = conn.consumer(stream, options())
    batch = read_until(consumer, 2)
    assert batch.documents.to_pylist() == [{"ok": 1}, {"ok": 2}]
    assert len(batch.dead) == 2
    where = [r.where for r in batch.documents.rejections]
    assert all(w.startswith(f"stream {stream}, message ") for w in where) and len(where) == 2
    consumer.settle(batch)
    assert consumer.pending() == 0
    reasons = sorted(d["reason"] for d in dead_letters(conn, stream))
    assert reasons[0].startswith("not a document: the body is not JSON")
    assert reasons[1] == "not a document: the body is not a JSON object"


def test_effectively_once_after_a_crash_between_success_and_ack(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    runs: dict[str, str] = {}  # what an execution store would say about each run
    outcome: Callable[[str], Any] = lambda run: runs.get(run, "unknown")  # noqa: E731
    conn.produce(subject(conn, stream), Documents.from_records([{"n": i} for i in range(3)]))
    crashing = conn.consumer(stream, options(consumer="a"), outcome=outcome)
    batch = read_until(crashing, 3)
    crashing.begin(batch, "run-1")
    runs["run-1"] = "succeeded"  # the run did its work ... and the consumer died before settle
    processed: list[int] = []
    restarted = conn.consumer(stream, options(consumer="b"), outcome=outcome)
    deadline = time.monotonic() + 60
    while restarted.pending() and time.monotonic() < deadline:
        again = restarted.read()
        processed += [d["n"] for d in again.documents.to_pylist()]
        if again.skipped:
            assert sorted(again.skipped) == sorted(batch.ids)
    assert processed == []  # recognised, acknowledged, not processed again
    assert restarted.pending() == 0


def test_a_failed_run_is_processed_again_despite_the_ledger(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    runs = {"run-1": "failed"}
    conn.produce(subject(conn, stream), Documents.from_records([{"n": 7}]))
    first = conn.consumer(stream, options(consumer="a"), outcome=lambda r: runs.get(r, "unknown"))
    batch = read_until(first, 1)
    first.begin(batch, "run-1")  # the run failed and the atom died before settling
    second = conn.consumer(stream, options(consumer="b"), outcome=lambda r: runs.get(r, "unknown"))
    again = read_until(second, 1)
    assert again.documents.to_pylist() == [{"n": 7}] and not again.skipped


def test_streams_connector_conforms(redis_url: str, nats_url: str) -> None:
    registry = ConnectorRegistry(
        {"streams": "atomnb.connectors.streams:StreamConnection"}, plugins=False
    )
    for url, unreachable in (
        (redis_url, "redis://127.0.0.1:9/0"),
        (nats_url, "nats://127.0.0.1:9"),
    ):
        assert_conforms(
            "streams",
            {"url": url, "timeout_s": 5},
            registry=registry,
            unreachable={"url": unreachable, "timeout_s": 2},
        )


def test_a_deleted_redis_stream_is_read_again_once_it_is_back(
    redis_conn: StreamConnection, unique: str
) -> None:
    redis_conn.produce(unique, Documents.from_records([{"n": 1}]))
    consumer = redis_conn.consumer(unique, options())
    consumer.settle(read_until(consumer, 1))
    client = redis.Redis.from_url(redis_conn.settings.url)
    try:
        client.delete(unique)  # the group goes with it
    finally:
        client.close()
    assert len(consumer.read()) == 0  # the group is made again
    redis_conn.produce(unique, Documents.from_records([{"n": 2}]))
    assert read_until(consumer, 1).documents.to_pylist() == [{"n": 2}]
