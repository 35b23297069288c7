"""Duplicate detection under concurrency: two processes receiving the same interchanges at
once on one store — each control number is taken by exactly one of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from atomnb.store.repository import ExecutionStore
from tests.b2b.conftest import fresh_postgres

NUMBERS = 60
WORKER = """
import sys
from datetime import timedelta
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import ExecutionStore

b2b = B2BStore(ExecutionStore.open(sys.argv[1]))
for number in range(1, int(sys.argv[2]) + 1):
    if b2b.claim_interchange("ZZ:ACME", str(number).zfill(9), window=timedelta(days=30)) is None:
        print(number, flush=True)
"""


def _claims(url: str) -> list[list[int]]:
    ExecutionStore.open(url).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(NUMBERS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    taken = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        taken.append([int(line) for line in out.split()])
    return taken


def _check(taken: list[list[int]]) -> None:
    first, second = taken
    assert not set(first) & set(second)  # never both: one of them saw a duplicate
    assert sorted(first + second) == list(range(1, NUMBERS + 1))  # and none was lost


@pytest.mark.postgres
def test_each_interchange_is_new_to_exactly_one_receiver_on_postgresql(postgres_url: str) -> None:
    _check(_claims(fresh_postgres(postgres_url)))


def test_each_interchange_is_new_to_exactly_one_receiver_on_sqlite(tmp_path: Path) -> None:
    _check(_claims(f"sqlite:///{tmp_path / 'shared.db'}"))
