"""Control numbers: two atom-like processes enveloping for one partner at once on one store
(PostgreSQL, and SQLite) get every number exactly once — no gaps, no duplicates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.components import Workspace
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import ExecutionStore
from tests.b2b.conftest import fresh_postgres

PER_PROCESS = 40
WORKER = """
import sys
import atomnb as ab
from atomnb.documents import Documents

workspace, store, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
invoice = {"transaction_set": "810", "segments": [{"id": "BIG", "elements": ["20261205", "1"]}]}
for _ in range(count):
    out = ab.envelope_b2b(Documents.from_records([invoice, invoice]), "acme",
                          workspace=workspace, store=store)
    st02 = ",".join(out.groups[0]["sets"])
    print(out.interchange_control_number, out.groups[0]["number"], st02, flush=True)
"""


def _run_two(workspace: Workspace, url: str) -> list[list[str]]:
    ExecutionStore.open(url).close()  # migrated once: atoms start on a store that exists
    command = [sys.executable, "-c", WORKER, str(workspace.root), url, str(PER_PROCESS)]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    lines: list[list[str]] = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        lines += [line.split() for line in out.splitlines()]
    return lines


def _check(lines: list[list[str]]) -> None:
    total = 2 * PER_PROCESS
    assert len(lines) == total
    interchanges = sorted(int(isa13) for isa13, _, _ in lines)
    groups = sorted(int(gs06) for _, gs06, _ in lines)
    sets = sorted(int(n) for _, _, st02 in lines for n in st02.split(","))
    assert interchanges == list(range(1, total + 1))  # no gap, no duplicate
    assert groups == list(range(1, total + 1))
    assert sets == list(range(1, 2 * total + 1))
    for _, _, st02 in lines:  # each interchange's two sets are consecutive
        first, second = (int(n) for n in st02.split(","))
        assert second == first + 1


@pytest.mark.postgres
def test_two_processes_on_postgresql_never_share_or_skip_a_number(
    b2b_workspace: Workspace, postgres_url: str
) -> None:
    url = fresh_postgres(postgres_url)
    _check(_run_two(b2b_workspace, url))
    store = ExecutionStore.open(url)
    try:
        b2b = B2BStore(store)
        assert b2b.last_numbers("acme") == {
            "interchange": 2 * PER_PROCESS,
            "group": 2 * PER_PROCESS,
            "set": 4 * PER_PROCESS,
        }
        assert len(b2b.open_sent("acme")) == 2 * PER_PROCESS  # acme acknowledges with 997
    finally:
        store.close()


def test_two_processes_on_sqlite_never_share_or_skip_a_number(
    b2b_workspace: Workspace, tmp_path: Path
) -> None:
    _check(_run_two(b2b_workspace, f"sqlite:///{tmp_path / 'shared.db'}"))


def test_envelope_uses_the_partner_settings(b2b_workspace: Workspace, b2b: B2BStore) -> None:
    big = {"id": "BIG", "elements": ["20261205", "7"]}
    invoice = {"transaction_set": "810", "segments": [big, {"id": "TDS", "elements": ["100"]}]}
    out = ab.envelope_b2b(
        ab.Documents.from_records([invoice]), "acme", workspace=b2b_workspace, store=b2b
    )
    segments = [s.split("*") for s in out.text.split("~") if s]
    isa, gs = segments[0], segments[1]
    assert (isa[5], isa[6].strip(), isa[7], isa[8].strip()) == ("ZZ", "MYCO", "ZZ", "ACME")
    assert (isa[13], isa[15]) == ("000000001", "T")  # acme is a test partner
    assert (gs[1], gs[2], gs[3], gs[6], gs[8]) == ("IN", "MYCO", "ACMEGS", "1", "004010")
    assert segments[2:6] == [
        ["ST", "810", "0001"],
        ["BIG", "20261205", "7"],
        ["TDS", "100"],
        ["SE", "4", "0001"],
    ]
    read_back = ab.read(out.data, format="x12")
    assert len(read_back) == 1 and not read_back.rejections
    with pytest.raises(ab.AtomnbError, match="does not receive 850"):
        purchase = {"transaction_set": "850", "segments": [{"id": "BEG", "elements": ["00"]}]}
        ab.envelope_b2b(
            ab.Documents.from_records([purchase]), "acme", workspace=b2b_workspace, store=b2b
        )
