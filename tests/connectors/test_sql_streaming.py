"""A query of a million rows streams in bounded memory, on SQLite and on PostgreSQL.

The rows are made by the database itself; a fresh Python process then streams
them through ``SqlConnection.query`` and reports how far its peak RSS rose above
what it used after the first batch. A million rows of ~120 bytes are ~120 MB as
Arrow and several times that as Python objects, so a reader that collected
them all could not stay under the bound; a streamed one stays far below it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROWS = 1_000_000
BOUND_MB = 60

_STREAM = """
import json, sys
from atomnb.connectors.sql import SqlConnection

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

conn = SqlConnection(sys.argv[1])
stream = conn.query("SELECT id, label, amount FROM big ORDER BY id", batch_size=10_000)
rows = total = 0
baseline = None
for batch in stream:
    rows += len(batch)
    total += sum(batch.to_arrow().column("id").to_pylist())
    if baseline is None:
        baseline = peak_kb()
print(json.dumps({"rows": rows, "total": total, "rise_mb": (peak_kb() - baseline) / 1024}))
"""


def _stream(url: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _STREAM, url], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _check(result: dict) -> None:
    assert result["rows"] == ROWS
    assert result["total"] == ROWS * (ROWS + 1) // 2  # every row once, none lost
    assert result["rise_mb"] < BOUND_MB, result


def test_a_million_rows_stream_from_sqlite_in_bounded_memory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT, amount REAL)")
        )
        connection.execute(
            sa.text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
                "INSERT INTO big SELECT i, printf('%0100d', i), i * 0.5 FROM n"
            ),
            {"rows": ROWS},
        )
    engine.dispose()
    _check(_stream(url))


@pytest.mark.postgres
def test_a_million_rows_stream_from_postgres_in_bounded_memory(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS big"))
        connection.execute(
            sa.text("CREATE TABLE big (id BIGINT PRIMARY KEY, label TEXT, amount FLOAT)")
        )
        connection.execute(
            sa.text(
                "INSERT INTO big SELECT i, lpad(i::text, 100, '0'), i * 0.5 "
                "FROM generate_series(1, :rows) AS i"
            ),
            {"rows": ROWS},
        )
    engine.dispose()
    try:
        _check(_stream(postgres_url))
    finally:
        engine = sa.create_engine(postgres_url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE big"))
        engine.dispose()
