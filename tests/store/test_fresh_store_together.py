"""Processes that open one fresh SQLite store at the same moment all get a usable store.

Each process migrates the empty file; without the write lock taken up front two of
them created the tables and the second failed ("table executions already exists"), and
a process switching the new file to WAL while another held it failed at once ("database
is locked": SQLite does not wait for that switch).
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from atomnb.store.repository import ExecutionStore

OPENERS = 8


def _open_at(url: str, start: float, answers: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    while time.time() < start:  # all of them leave the line together
        pass
    try:
        store = ExecutionStore.open(url)
        answers.put(("ok", store.schema_version()))
        store.close()
    except Exception as exc:  # the test reports what went wrong
        answers.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.parametrize("attempt", range(3))
def test_processes_opening_a_fresh_store_together_all_succeed(tmp_path: Path, attempt: int) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    start = time.time() + 4  # spawned interpreters import atomnb first
    openers = [context.Process(target=_open_at, args=(url, start, answers)) for _ in range(OPENERS)]
    for process in openers:
        process.start()
    results = [answers.get(timeout=120) for _ in openers]
    for process in openers:
        process.join(timeout=60)
    assert [r for r in results if r[0] != "ok"] == []
    assert {version for _, version in results} == {ExecutionStore.head_version()}
