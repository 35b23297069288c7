"""Real atoms: processes in their kernels reach the atom's store for control numbers; two
atoms on one PostgreSQL store envelope concurrently without a gap or a duplicate; the
overdue acknowledgements are listed through the atom (`atomnb partners overdue --atom`)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.store.b2b import B2BStore
from atomnb.store.repository import ExecutionStore
from tests.b2b.conftest import ACME, fresh_postgres
from tests.conftest import make_notebook, run_cli

COUNT = 15
SEND = """
import atomnb as ab
big = {"id": "BIG", "elements": ["20261205", "7"]}
invoice = {"transaction_set": "810", "segments": [big, {"id": "TDS", "elements": ["100"]}]}
numbers = []
for _ in range(count):
    out = ab.envelope_b2b(ab.Documents.from_records([invoice]), "acme")
    numbers.append(out.interchange_control_number)
print("numbers", ",".join(numbers))
"""


@pytest.mark.postgres
def test_two_atoms_on_postgresql_number_interchanges_without_gap_or_duplicate(
    start_atom: Any, workspace: Workspace, postgres_url: str
) -> None:
    acme = {**ACME, "acknowledgement": {**ACME["acknowledgement"], "within": "0s"}}
    save_partner("acme", acme, workspace)
    notebook = make_notebook(workspace.notebooks_dir / "send_invoices.ipynb", SEND,
                             parameters=f"count = {COUNT}")  # fmt: skip
    url = fresh_postgres(postgres_url)
    atoms = [start_atom("--store", url, "--workers", "2") for _ in range(2)]
    for atom in atoms:
        atom.deploy(notebook, max_concurrent=4)
    started = [atom.client.trigger("send_invoices")["id"] for atom in atoms for _ in range(2)]
    runs = [atoms[0].finished(execution_id, timeout_s=300) for execution_id in started]
    assert all(run["status"] == "succeeded" for run in runs), runs
    store = ExecutionStore.open(url)
    try:
        sent = B2BStore(store).sent("acme", limit=1000)
        numbers = sorted(int(s.interchange_control_number) for s in sent)
        assert numbers == list(range(1, 4 * COUNT + 1))  # every number once, none skipped
        assert B2BStore(store).last_numbers("acme")["interchange"] == 4 * COUNT
    finally:
        store.close()
    # acme allows no time at all: every one is overdue, listed through either atom
    listed = run_cli("partners", "overdue", "--atom", atoms[1].url, "--json", cwd=workspace.root)
    assert listed.returncode == 1, listed.stderr
    overdue = json.loads(listed.stdout)
    assert len(overdue) == 4 * COUNT and {o["partner"] for o in overdue} == {"acme"}
    answer = httpx.get(f"{atoms[0].url}/api/partners/sent?partner=acme&limit=5", timeout=60)
    assert answer.status_code == 200 and len(answer.json()["sent"]) == 5
