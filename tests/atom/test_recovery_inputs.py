"""No lost input across a crash: a run killed with its atom leaves the files it read in place,
and the restarted atom's store lists them as pending (RELIABILITY rows 15 and 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.store import ExecutionStore
from atomnb.store.inputs import inputs_of
from tests.atom.conftest import kill_hard
from tests.conftest import make_notebook

pytestmark = pytest.mark.atom

CSV = b"id,name\n1,alpha\n"


def test_a_run_killed_with_its_atom_keeps_its_input_pending(
    start_atom, atom_workspace: Workspace, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "in").mkdir(parents=True)
    (inbox / "in" / "orders.csv").write_bytes(CSV)
    settings = json.dumps({"protocol": "file", "root": str(inbox)})
    poll = make_notebook(
        atom_workspace.notebooks_dir / "poll.ipynb",
        "import json, time, atomnb as ab\n"
        "from atomnb.connectors.files import FileConnection\n"
        f"inbox = FileConnection.from_dict(json.loads({settings!r}))\n"
        "docs = ab.file_get(inbox, 'in/*.csv', after='delete')\n"
        "print('read', len(docs), flush=True)\n"
        "time.sleep(120)",
    )
    home = tmp_path / "home"
    atom = start_atom(home=home)
    atom.deploy(poll)
    record = atom.client.trigger("poll")
    journal = home / "executions" / record["id"] / "pending_inputs.json"
    atom.wait_for(journal.exists, timeout_s=120, what="the run to read its input")
    kill_hard(atom)

    again = start_atom(home=home, port=atom.port)
    assert again.client.execution(record["id"])["status"] == "interrupted"
    assert (inbox / "in" / "orders.csv").read_bytes() == CSV  # still there for the next poll
    store = ExecutionStore.open(f"sqlite:///{home / 'store.db'}")
    try:
        [row] = inputs_of(store, execution_id=record["id"])
    finally:
        store.close()
    assert (row.status, row.action) == ("pending", "delete")
    assert row.path.endswith("in/orders.csv")
    assert row.detail is not None and "interrupted" in row.detail
