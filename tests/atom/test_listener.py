"""Listeners on a real atom: a message in, the process's documents back, in milliseconds."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import make_notebook

pytestmark = pytest.mark.atom


@pytest.fixture
def listener(start_atom, atom_workspace: Workspace) -> AtomProcess:
    make_notebook(
        atom_workspace.notebooks_dir / "quote.ipynb",
        "import atomnb as ab\n"
        "orders = ab.start(ab.Documents.from_records([{'sku': 'x', 'qty': 1, 'price': 1.0}]))\n"
        "frame = orders.to_pandas()\n"
        "frame['qty'] = frame['qty'].astype(float)  # CSV columns arrive as text\n"
        "frame['total'] = frame['qty'] * frame['price'].astype(float) * (1 - discount)\n"
        "ab.return_documents(ab.Documents.from_pandas(frame[['sku', 'total']]))\n"
        "if (frame['qty'] < 0).any():\n    raise ValueError('negative quantity')",
        parameters="discount = 0.1",
    )
    atom = start_atom("--workers", "2")
    atom.deploy(atom_workspace.notebooks_dir / "quote.ipynb", max_concurrent=2)
    return atom


def test_a_json_message_is_answered_with_the_returned_documents(listener: AtomProcess) -> None:
    lines = [{"sku": "A", "qty": 2, "price": 10.0}, {"sku": "B", "qty": 1, "price": 5.0}]
    response = httpx.post(f"{listener.url}/listen/quote", json=lines, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.content) == [
        {"sku": "A", "total": pytest.approx(18.0)},
        {"sku": "B", "total": pytest.approx(4.5)},
    ]
    execution = listener.client.execution(response.headers["X-Atomnb-Execution"])
    assert execution["trigger"] == "listener" and execution["status"] == "succeeded"
    start = next(s for s in execution["shapes"] if s["kind"] == "start")
    assert start["documents_in"] == 2 or start["documents_out"] == {"out": 2}


def test_csv_in_and_csv_out_by_content_type_and_accept(listener: AtomProcess) -> None:
    response = httpx.post(
        f"{listener.url}/listen/quote?format=csv",
        content=b"sku,qty,price\nA,3,2.0\n",
        headers={"accept": "text/csv"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["sku"] == "A" and float(row["total"]) == pytest.approx(5.4)


def test_a_bad_message_is_refused_before_any_execution(listener: AtomProcess) -> None:
    response = httpx.post(
        f"{listener.url}/listen/quote",
        content=b'{"sku": "A", "qty": ',
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 400
    assert "refused" in response.json()["error"] or "JSON" in response.json()["error"]
    assert listener.client.executions(process="quote") == []
    unknown = httpx.post(
        f"{listener.url}/listen/quote",
        content=b"x",
        headers={"content-type": "image/png"},
        timeout=60,
    )
    assert unknown.status_code == 400 and "content type" in unknown.json()["hint"]


def test_a_failing_process_answers_500_with_its_execution(listener: AtomProcess) -> None:
    response = httpx.post(
        f"{listener.url}/listen/quote", json=[{"sku": "A", "qty": -1, "price": 1.0}], timeout=60
    )
    assert response.status_code == 500
    body = response.json()
    assert "negative quantity" in body["error"]
    assert listener.client.execution(body["execution"])["status"] == "failed"


def test_the_message_is_stored_with_its_execution(listener: AtomProcess) -> None:
    response = httpx.post(
        f"{listener.url}/listen/quote", json=[{"sku": "Z", "qty": 1, "price": 2}], timeout=60
    )
    execution_id = response.headers["X-Atomnb-Execution"]
    stored = Path(listener.home) / "executions" / execution_id / "incoming.arrow"
    assert stored.is_file()
    from atomnb.documents.exchange import read_ipc

    assert [d["sku"] for d in read_ipc(stored)] == ["Z"]
