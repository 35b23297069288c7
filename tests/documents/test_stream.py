from __future__ import annotations

import pytest

from atomnb.documents import Documents, DocumentStream, StreamConsumedError


def _batches(n: int, size: int) -> list[Documents]:
    return [Documents.from_records([{"i": b * size + k} for k in range(size)]) for b in range(n)]


def test_stream_is_lazy_and_counts_what_it_read() -> None:
    produced = []

    def gen():
        for batch in _batches(3, 2):
            produced.append(len(batch))
            yield batch

    stream = DocumentStream(gen(), source="gen")
    assert produced == []
    first = next(iter(stream))
    assert len(first) == 2 and produced == [2]


def test_collect_joins_batches() -> None:
    docs = DocumentStream(_batches(3, 2)).collect()
    assert [d["i"] for d in docs] == list(range(6))


def test_second_iteration_fails_loudly() -> None:
    stream = DocumentStream(_batches(1, 1), source="orders.jsonl")
    list(stream)
    with pytest.raises(StreamConsumedError, match=r"orders\.jsonl"):
        list(stream)


def test_map_applies_per_batch() -> None:
    stream = DocumentStream(_batches(2, 3)).map(lambda b: b.filter([d["i"] % 2 == 0 for d in b]))
    assert [d["i"] for b in stream for d in b] == [0, 2, 4]


def test_prefetch_keeps_order_and_raises_reader_errors_in_place() -> None:
    def gen():
        yield from _batches(3, 2)
        raise RuntimeError("disk gone")

    stream = DocumentStream(gen(), source="s").prefetch(2)
    seen = []
    with pytest.raises(RuntimeError, match="disk gone"):
        for batch in stream:
            seen.extend(d["i"] for d in batch)
    assert seen == list(range(6))


def test_prefetch_stops_its_worker_when_the_consumer_stops() -> None:
    import threading

    stream = DocumentStream(_batches(50, 1)).prefetch(1)
    first = next(iter(stream))
    assert len(first) == 1
    del stream, first
    import gc

    gc.collect()
    assert not any(t.name == "atomnb-prefetch" and t.is_alive() for t in threading.enumerate())
