"""Connector exchanges recorded and replayed in process (files, database, HTTP), the clear
failure for a request that was not recorded, scrubbing, and map test cases."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.connectors import recording
from atomnb.connectors.files import FileConnection
from atomnb.connectors.http import HttpConnection, HttpOperation
from atomnb.connectors.sql import SqlConnection
from atomnb.maps import save_map
from atomnb.process.map_cases import save_map_case
from atomnb.process.secrets import register_secret, scrub_text
from tests.assure.shop import ORDERS, make_workspace, order_map, shop_server

pytest_plugins = ["pytester"]


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "case"
    monkeypatch.setenv(recording.RECORD_ENV, str(folder))
    monkeypatch.delenv(recording.REPLAY_ENV, raising=False)
    return folder


def _replay(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.delenv(recording.RECORD_ENV)
    monkeypatch.setenv(recording.REPLAY_ENV, str(folder))


def test_files_get_and_put_replay_without_the_files(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "in").mkdir(parents=True)
    (inbox / "in" / "a.csv").write_text("id,when\n1,2026-01-02\n2,2026-03-04\n")
    (inbox / "in" / "bad.json").write_text("{not json")
    conn = FileConnection("file", root=str(inbox))
    got = conn.get("in/*.*")
    put = conn.put(got, "{id}.json", folder="out")
    _replay(monkeypatch, case)
    for file in sorted(inbox.rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    again = conn.get("in/*.*")
    assert again.to_pylist() == got.to_pylist() and again.schema == got.schema
    assert again.properties_of(0) == got.properties_of(0)
    assert [(r.rule, r.where) for r in again.rejections] == [
        (r.rule, r.where) for r in got.rejections
    ]
    assert again.rejections and again.rejections[0].raw == b"{not json"
    put_again = conn.put(again, "{id}.json", folder="out")
    assert put_again.properties_of(1) == put.properties_of(1)
    assert not inbox.exists() or not any(inbox.rglob("*"))  # nothing read or written


def test_database_rows_keep_their_types_and_a_secret_in_them_is_scrubbed(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pw-SCRUB-ME-4711"
    register_secret(secret)
    recording.install_scrubber(scrub_text)
    path = tmp_path / "erp.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER, note TEXT, day DATE)")
        db.executemany(
            "INSERT INTO t VALUES (?, ?, ?)", [(1, "plain", "2026-01-02"), (2, secret, None)]
        )
    conn = SqlConnection(f"sqlite:///{path}")
    plain = conn.query("SELECT id, day FROM t ORDER BY id").collect()
    conn.query("SELECT note FROM t WHERE id = :id", {"id": 2}).collect()
    written = conn.insert("t", ab.Documents.from_records([{"id": 3, "note": "x"}]))
    files = sorted(p.name for p in (case / recording.EXCHANGES).iterdir())
    assert files == ["0001.arrow", "0001.json", "0002.json", "0002.jsonl", "0003.json"]
    assert all(secret.encode() not in p.read_bytes() for p in case.rglob("*") if p.is_file())
    conn.dispose()
    path.unlink()
    _replay(monkeypatch, case)
    again = conn.query("SELECT id, day FROM t ORDER BY id").collect()
    assert again == plain and again.schema == plain.schema
    assert again.to_pylist()[0]["day"] in ("2026-01-02", dt.date(2026, 1, 2))
    scrubbed = conn.query("SELECT note FROM t WHERE id = :id", {"id": 2}).collect()
    assert scrubbed.to_pylist() == [{"note": "***"}]
    assert conn.insert("t", ab.Documents.from_records([{"id": 3}])).written == written.written
    assert not path.exists()


def test_a_request_not_recorded_fails_naming_connector_operation_and_key(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with shop_server() as (url, _requests):
        shop = HttpConnection(url)
        HttpOperation("GET", "/orders").call(shop)
    _replay(monkeypatch, case)
    assert len(HttpOperation("GET", "/orders").call(shop)) == len(ORDERS)  # server gone
    with pytest.raises(recording.NotRecordedError) as asked_twice:
        HttpOperation("GET", "/orders").call(shop)
    assert "http GET was not recorded (asked 2 time(s), recorded only 1 time(s))" in str(
        asked_twice.value
    )
    with pytest.raises(recording.NotRecordedError) as other:
        HttpOperation("GET", "/pets").call(shop)
    message = str(other.value)
    assert "http GET was not recorded" in message and f'"url": "{url}/pets"' in message


def test_map_case_saved_replayed_and_broken(
    tmp_path: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = make_workspace(tmp_path / "shop")
    sample = ab.Documents.from_records([{**o, "token_seen": None} for o in ORDERS])
    folder = save_map_case("order_to_invoice", sample, "invoice_ids", workspace=workspace)
    assert (folder / "case.json").exists() and (folder / "input.arrow").exists()
    pytester.runpytest("--atomnb", str(folder), "-p", "no:cacheprovider").assert_outcomes(passed=1)
    save_map(order_map("X-"), workspace=workspace)
    broken = pytester.runpytest("--atomnb", str(folder), "-p", "no:cacheprovider")
    broken.assert_outcomes(failed=1)
    assert (
        "shape 1 'order_to_invoice' (map):\n  path out, document 0, field invoice_id: "
        "recorded 'INV-1', now 'X-1'  [rule invoice_id <- orderId: replace(new='X-', old='SO-')]"
    ) in broken.stdout.str()
    assert "document 1, field invoice_id: recorded 'INV-2', now 'X-2'" in broken.stdout.str()


def test_without_the_option_case_folders_are_not_collected(
    tmp_path: Path, pytester: pytest.Pytester
) -> None:
    workspace = make_workspace(tmp_path / "shop")
    sample = ab.Documents.from_records([{**ORDERS[0], "token_seen": None}])
    folder = save_map_case("order_to_invoice", sample, "one", workspace=workspace)
    result = pytester.runpytest(str(folder), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_postgresql_query_and_upsert_replay_without_the_server_reached(
    case: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    with engine.begin() as db:
        db.execute(sa.text("DROP TABLE IF EXISTS replay_stock"))
        db.execute(sa.text("CREATE TABLE replay_stock (sku TEXT PRIMARY KEY, qty INTEGER)"))
        db.execute(sa.text("INSERT INTO replay_stock VALUES ('A-1', 4), ('B-2', 0)"))
    conn = SqlConnection(postgres_url)
    rows = conn.query("SELECT sku, qty FROM replay_stock WHERE qty > :n", {"n": 0}).collect()
    docs = ab.Documents.from_records([{"sku": "A-1", "qty": 3}, {"sku": "C-3", "qty": None}])
    written = conn.upsert("replay_stock", docs, ["sku"])
    _replay(monkeypatch, case)
    with engine.begin() as db:  # what the replay does must not reach the database
        db.execute(sa.text("DROP TABLE replay_stock"))
    engine.dispose()
    assert conn.query("SELECT sku, qty FROM replay_stock WHERE qty > :n", {"n": 0}).collect() == (
        rows
    )
    assert conn.upsert("replay_stock", docs, ["sku"]) == written
    with pytest.raises(recording.NotRecordedError, match="database query was not recorded"):
        conn.query("SELECT sku, qty FROM replay_stock WHERE qty > :n", {"n": 1})
