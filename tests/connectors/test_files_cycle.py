"""Get, put, archive and delete through one API on a local folder, SFTP, FTP and S3 servers."""

from __future__ import annotations

import json

import pytest

from atomnb.connectors.files import Readiness
from atomnb.documents import Documents
from tests.connectors.file_remotes import Remote

ORDERS_A = b"order_id,total\nA1,10\nA2,20\n"
ORDERS_B = b"order_id,total\nB1,5\n"


def test_get_archive_put_delete_cycle(remote: Remote) -> None:
    remote.write("in/a.csv", ORDERS_A)
    remote.write("in/b.csv", ORDERS_B)
    remote.write("in/notes.txt", b"not matched")

    docs = remote.conn.get("in/*.csv", after="archive")

    assert [d["order_id"] for d in docs] == ["A1", "A2", "B1"]
    assert docs.properties_of(0)["file_name"] == "a.csv"
    assert docs.properties_of(2)["file_path"] == "in/b.csv"
    assert docs.properties_of(2)["file_size"] == len(ORDERS_B)
    assert docs.properties_of(0)["file_mtime"]
    assert not docs.rejections
    assert remote.names("in") == ["notes.txt"]
    assert remote.names("archive") == ["a.csv", "b.csv"]

    written = remote.conn.put(docs, "{order_id}_{file_name}.json", folder="out", layout="single")

    assert written.property("file_name").to_pylist() == [
        "A1_a.csv.json",
        "A2_a.csv.json",
        "B1_b.csv.json",
    ]
    assert remote.names("out") == ["A1_a.csv.json", "A2_a.csv.json", "B1_b.csv.json"]
    assert json.loads(remote.read("out/B1_b.csv.json")) == {"order_id": "B1", "total": "5"}

    again = remote.conn.get("out/*.json", after="delete")

    assert sorted(d["order_id"] for d in again) == ["A1", "A2", "B1"]
    assert remote.names("out") == []


def test_raw_documents_and_a_second_poll_finds_nothing(remote: Remote) -> None:
    remote.write("drop/x.bin", b"\x00\x01binary")

    raw = remote.conn.get("drop/*", parse=False, after="delete")

    assert raw.column_names == ["content"]
    assert raw[0]["content"] == b"\x00\x01binary"
    assert raw.properties_of(0)["file_name"] == "x.bin"
    assert len(remote.conn.get("drop/*", parse=False)) == 0


def test_a_file_without_its_done_file_is_left_for_later(remote: Remote) -> None:
    remote.write("in/a.csv", ORDERS_A)
    remote.write("in/a.csv.done", b"")
    remote.write("in/b.csv", ORDERS_B)  # still being written: no done-file yet

    docs = remote.conn.get("in/*", after="archive", ready=Readiness(done_suffix=".done"))

    assert {d["order_id"] for d in docs} == {"A1", "A2"}
    assert remote.names("in") == ["b.csv"]
    assert remote.names("archive") == ["a.csv"]


def test_a_file_that_grows_between_listings_is_left_for_later(remote: Remote) -> None:
    remote.write("in/a.csv", ORDERS_A)
    remote.write("in/b.csv", ORDERS_B)

    def writer_still_busy(seconds: float) -> None:  # the wait: the sender appends meanwhile
        remote.write("in/b.csv", ORDERS_B + b"B2,7\n")

    docs = remote.conn.get(
        "in/*.csv", after="delete", ready=Readiness(stable_seconds=5, sleep=writer_still_busy)
    )

    assert {d["order_id"] for d in docs} == {"A1", "A2"}
    assert remote.names("in") == ["b.csv"]
    later = remote.conn.get("in/*.csv", ready=Readiness(stable_seconds=5, sleep=lambda s: None))
    assert [d["order_id"] for d in later] == ["B1", "B2"]


def test_an_unreadable_file_is_rejected_and_moved_aside(remote: Remote) -> None:
    remote.write("in/good.json", b'[{"id": 1}]')
    remote.write("in/bad.json", b'[{"id": ')

    docs = remote.conn.get("in/*.json", after="archive", error_folder="errors")

    assert docs.to_pylist() == [{"id": 1}]
    (rejection,) = docs.rejections
    assert (rejection.rule, rejection.where, rejection.raw) == (
        "format",
        "in/bad.json",
        b'[{"id": ',
    )
    assert remote.names("errors") == ["bad.json"]
    assert remote.names("archive") == ["good.json"]
    assert remote.names("in") == []


def test_put_refuses_unsafe_names_and_existing_files_per_document(remote: Remote) -> None:
    docs = Documents.from_records(
        [{"id": "ok1"}, {"id": "../../escape"}, {"id": "ok2"}, {"id": None}]
    )

    written = remote.conn.put(docs, "{id}.json", folder="out")

    assert written.property("file_name").to_pylist() == ["ok1.json", "ok2.json"]
    assert [(r.index, r.rule) for r in written.rejections] == [(1, "unsafe_name"), (3, "file_name")]
    assert remote.names("out") == ["ok1.json", "ok2.json"]

    twice = remote.conn.put(docs.take([0]), "{id}.json", folder="out")
    assert len(twice) == 0 and twice.rejections[0].rule == "exists"
    unique = remote.conn.put(docs.take([0]), "{id}.json", folder="out", if_exists="unique")
    (name,) = unique.property("file_name").to_pylist()
    assert name.startswith("ok1.") and name.endswith(".json") and name != "ok1.json"
    assert len(remote.names("out")) == 3


def test_batch_put_writes_one_file_and_the_test_lists_the_root(remote: Remote) -> None:
    docs = Documents.from_records([{"n": 1}, {"n": 2}]).with_properties(batch="b7")

    written = remote.conn.put(docs, "batch_{batch}.jsonl", folder="out", batch=True)

    assert written.property("file_path").to_pylist() == ["out/batch_b7.jsonl"] * 2
    assert remote.read("out/batch_b7.jsonl").splitlines() == [b'{"n":1}', b'{"n":2}']
    result = remote.conn.test()
    assert result.ok, result.message


@pytest.mark.parametrize("pattern", ["../*.csv", "/etc/*", "in/../../*", "*/x/*.csv"])
def test_patterns_must_stay_inside_the_root(remote: Remote, pattern: str) -> None:
    from atomnb.errors import ConfigError

    with pytest.raises(ConfigError, match="pattern"):
        remote.conn.get(pattern)
