"""The stream listener loop on real servers: runs, back pressure, per-document settle, resume.

Batches run in a ``FunctionRunner`` (a function on a thread pool), the same
loop the atom runs with its executions; every wait is a loop with a generous limit.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from atomnb.atom.streams import FunctionRunner, StreamListener
from atomnb.connectors.streams import ConsumeOptions, StreamConnection
from atomnb.documents import Documents, Rejection
from tests.streams.test_streams_connector import dead_letters, subject


@pytest.fixture(params=["redis", "nats"])
def server(request: pytest.FixtureRequest, unique: str) -> Iterator[tuple[StreamConnection, str]]:
    conn: StreamConnection = request.getfixturevalue(f"{request.param}_conn")
    stream = unique.upper() if request.param == "nats" else unique
    conn.ensure_stream(stream)
    yield conn, stream


def options(**changes: Any) -> ConsumeOptions:
    settings: dict[str, Any] = {
        "group": "g",
        "consumer": "atom-1",
        "batch_size": 5,
        "wait_ms": 100,
        "redeliver_after_ms": 300,
        "max_deliveries": 3,
    }
    return ConsumeOptions(**(settings | changes))


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.02)


def produce(conn: StreamConnection, stream: str, numbers: range) -> None:
    conn.produce(subject(conn, stream), Documents.from_records([{"n": n} for n in numbers]))


def test_every_message_runs_once_and_is_acknowledged(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    seen: Counter[int] = Counter()

    def process(documents: Documents) -> Documents:
        seen.update(d["n"] for d in documents)
        return documents

    produce(conn, stream, range(40))
    runner = FunctionRunner(process, workers=2)
    listener = StreamListener(conn.consumer(stream, options()), runner, name=stream)
    listener.start()
    try:
        wait_for(lambda: listener.stats.acknowledged == 40, "40 acknowledged")
    finally:
        listener.stop()
        runner.close()
    assert seen == Counter(range(40))
    assert listener.consumer.pending() == 0
    assert listener.stats.batches >= 8  # batches of 5 at most


def test_back_pressure_stops_reading_while_the_runner_is_full(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    release = threading.Event()
    started: list[int] = []

    def slow(documents: Documents) -> None:
        started.append(len(documents))
        release.wait(60)

    produce(conn, stream, range(100))
    runner = FunctionRunner(slow, workers=1, queue_limit=1)  # room for 2 batches
    listener = StreamListener(conn.consumer(stream, options()), runner, name=stream)
    listener.start()
    try:
        wait_for(lambda: listener.stats.full_waits > 20, "the listener waiting for room")
        # Two batches of five were taken; the other 90 messages are still in the server.
        assert listener.stats.messages == 10
        assert listener.consumer.pending() == 10
        release.set()
        wait_for(lambda: listener.stats.acknowledged == 100, "all 100 acknowledged")
    finally:
        release.set()
        listener.stop()
        runner.close()
    assert sum(started) == 100


def test_rejected_documents_follow_the_failure_policy_the_rest_is_acknowledged(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    runs: Counter[int] = Counter()

    def refuse_sevens(documents: Documents) -> Documents:
        runs.update(d["n"] for d in documents)
        bad = [
            Rejection("n must not be 7", f"document {i}", "no-sevens", i)
            for i, d in enumerate(documents)
            if d["n"] == 7
        ]
        return documents.with_rejections(bad)

    produce(conn, stream, range(10))
    runner = FunctionRunner(refuse_sevens)
    listener = StreamListener(conn.consumer(stream, options()), runner, name=stream)
    listener.start()
    try:
        wait_for(lambda: bool(dead_letters(conn, stream)), "7 in the dead-letter stream")
        wait_for(lambda: listener.consumer.pending() == 0, "nothing pending")
    finally:
        listener.stop()
        runner.close()
    assert runs[7] == 3 and all(runs[n] == 1 for n in range(10) if n != 7)
    (dead,) = dead_letters(conn, stream)
    assert '"n":7' in dead["doc"] and "no-sevens" not in dead["reason"]
    assert "n must not be 7" in dead["reason"]
    assert listener.stats.acknowledged == 9


def test_a_failing_run_leaves_its_batch_for_redelivery(
    server: tuple[StreamConnection, str],
) -> None:
    conn, stream = server
    calls: list[list[int]] = []

    def flaky(documents: Documents) -> None:
        calls.append([d["n"] for d in documents])
        if len(calls) == 1:
            raise RuntimeError("the partner's API answered 503")

    produce(conn, stream, range(3))
    runner = FunctionRunner(flaky)
    listener = StreamListener(conn.consumer(stream, options()), runner, name=stream)
    listener.start()
    try:
        wait_for(lambda: listener.stats.acknowledged == 3, "acknowledged on the second run")
    finally:
        listener.stop()
        runner.close()
    assert calls == [[0, 1, 2], [0, 1, 2]]
    assert listener.stats.failed == 3


def test_stop_then_resume_where_the_group_left_off(server: tuple[StreamConnection, str]) -> None:
    conn, stream = server
    seen: Counter[int] = Counter()

    def process(documents: Documents) -> None:
        seen.update(d["n"] for d in documents)

    produce(conn, stream, range(20))
    first = FunctionRunner(process)
    listener = StreamListener(conn.consumer(stream, options()), first, name=stream)
    listener.start()
    wait_for(lambda: listener.stats.acknowledged >= 5, "some acknowledged")
    listener.stop()
    first.close()
    done_before = listener.stats.acknowledged
    produce(conn, stream, range(20, 30))  # sent while nobody listens
    second = FunctionRunner(process)
    resumed = StreamListener(conn.consumer(stream, options()), second, name=stream)
    resumed.start()
    try:
        wait_for(
            lambda: resumed.stats.acknowledged == 30 - done_before, "the rest after the restart"
        )
    finally:
        resumed.stop()
        second.close()
    assert seen == Counter(range(30))  # nothing lost, nothing twice
