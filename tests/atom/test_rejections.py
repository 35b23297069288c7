"""Rejected documents on a real atom: kept after the run, read back through the API and the CLI.

One atom (its kernels capped at 400 bytes of rejected documents per execution)
runs four processes: 10 orders of which 3 fail the map (general mode), the same in
bridge mode, a malformed document quoting a secret parameter, and five malformed
documents that together pass the cap.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.components import Workspace
from atomnb.process.rejections import MAX_BYTES_ENV, REJECTIONS_FILE
from tests.atom.conftest import AtomProcess
from tests.atom.test_modes import SETUP
from tests.conftest import _free_port, make_notebook, run_cli

pytestmark = pytest.mark.atom

SECRET = "Rj-canary-7Fq2-s3cr3t"
CAP = 400
BAD = (2, 5, 7)
ORDERS = [{"orderId": f"SO-{i}", "qty": "x" if i in BAD else str(i)} for i in range(10)]
MAPPING = (
    SETUP  # the order map of the modes tests
    + f"orders = ab.start(ab.Documents.from_records({ORDERS!r}))\n"
    'mapped = ab.map(orders, MAP, name="flatten")\n'
    "assert len(mapped) == 7\n"
)
LEAKY = (
    "import atomnb as ab\n"
    'raw = ab.raw_documents([\'{"token": "\' + api_token + \'", "cut": \'])\n'
    'ab.parse_documents(raw, "json", name="read")\n'
)
#: Five malformed documents of 150 bytes: two fit the 400-byte cap, three do not.
BIG = [b"{" + bytes([ord("a") + i]) * 148 + b":" for i in range(5)]
CAPPED = (
    f"import atomnb as ab\nab.parse_documents(ab.raw_documents({BIG!r}), 'json', name='read')\n"
)

CLEAN = "import atomnb as ab\nab.start(ab.Documents.from_records([{'a': 1}]))\n"


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    root = tmp_path_factory.mktemp("rejections")
    ws = Workspace.init(root / "ws", name="rejections-tests")
    nbs = ws.notebooks_dir
    started = AtomProcess(root / "home", _free_port(), ["--workers", "2"], root / "atom.log")
    try:
        with pytest.MonkeyPatch.context() as patch:  # the atom, and so its kernels, inherit it
            patch.setenv(MAX_BYTES_ENV, str(CAP))
            started.start()
        started.deploy(make_notebook(nbs / "orders.ipynb", MAPPING))
        started.deploy(make_notebook(nbs / "bridged.ipynb", MAPPING, mode="bridge"))
        leaky = make_notebook(nbs / "leaky.ipynb", LEAKY, parameters='api_token = ""  # secret')
        started.deploy(leaky)
        started.deploy(make_notebook(nbs / "capped.ipynb", CAPPED))
        started.deploy(make_notebook(nbs / "clean.ipynb", CLEAN))
        yield started
    finally:
        if started.proc is not None:
            started.stop()


def _run(
    atom: AtomProcess, process: str, status: str = "succeeded_with_warnings", **options: Any
) -> str:
    record = atom.client.trigger(process, wait=True, wait_timeout_s=240, **options)
    assert record["status"] == status, record
    return str(record["id"])


def _api(atom: AtomProcess, execution_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{atom.url}/api/executions/{execution_id}/rejections", timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["rejections"])
    return list(body["rejections"])


def _on_disk(atom: AtomProcess, execution_id: str) -> Path:
    return atom.home / "executions" / execution_id / REJECTIONS_FILE


def test_the_three_rejected_orders_come_back_through_the_api_and_the_cli(
    atom: AtomProcess, tmp_path: Path
) -> None:
    execution_id = _run(atom, "orders")
    record = atom.client.execution(execution_id)
    assert [s["errors"] for s in record["shapes"] if s["name"] == "flatten"] == [3]

    kept = _api(atom, execution_id)
    assert [k["index"] for k in kept] == list(BAD)
    assert {(k["shape_name"], k["kind"], k["rule"], k["where"]) for k in kept} == {
        ("flatten", "map", "q", "map order_flat")
    }
    originals = [json.loads(base64.b64decode(k["bytes"])) for k in kept]
    assert originals == [ORDERS[i] for i in BAD]
    assert all(k["bytes_dropped"] is False and k["message"] for k in kept)
    one = httpx.get(f"{atom.url}/api/executions/{execution_id}/rejections/1/bytes", timeout=60)
    assert one.status_code == 200 and json.loads(one.content) == ORDERS[5]
    bare = httpx.get(
        f"{atom.url}/api/executions/{execution_id}/rejections?bytes=false", timeout=60
    ).json()
    assert bare["count"] == 3 and all("bytes" not in r for r in bare["rejections"])

    out = tmp_path / "rejected"
    done = run_cli(
        "executions", "rejections", execution_id, "--atom", atom.url, "--out", str(out),
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert listed["execution"] == execution_id
    assert [r["index"] for r in listed["rejections"]] == list(BAD)
    manifest = json.loads((out / "rejections.json").read_text())
    files = [out / entry["file"] for entry in manifest]
    assert [json.loads(f.read_bytes()) for f in files] == [ORDERS[i] for i in BAD]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(f.name for f in files), "rejections.json"]
    )

    table = run_cli("executions", "rejections", execution_id, "--atom", atom.url, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("map order_flat") == 3 and "flatten" in table.stdout


def test_an_execution_without_rejections_lists_none_and_an_unknown_one_is_404(
    atom: AtomProcess, tmp_path: Path
) -> None:
    execution_id = _run(atom, "clean", status="succeeded")
    assert _api(atom, execution_id) == []
    assert not _on_disk(atom, execution_id).exists()
    listed = run_cli("executions", "rejections", execution_id, "--atom", atom.url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "rejected no documents" in listed.stdout
    response = httpx.get(f"{atom.url}/api/executions/no-such-execution/rejections", timeout=60)
    assert response.status_code == 404
    assert "no-such-execution" in response.json()["error"]  # the route's answer, not a 404 page


def test_a_bridge_process_keeps_the_rejections_but_not_their_bytes(atom: AtomProcess) -> None:
    execution_id = _run(atom, "bridged")
    kept = _api(atom, execution_id)
    assert [k["index"] for k in kept] == list(BAD)
    assert all(k["bytes"] is None and k["bytes_dropped"] and k["dropped"] == "mode" for k in kept)
    assert all(k["rule"] == "q" and k["size"] > 0 for k in kept)
    text = _on_disk(atom, execution_id).read_text()
    assert '"qty"' not in text and "SO-5" not in text  # no document's content on disk
    gone = httpx.get(f"{atom.url}/api/executions/{execution_id}/rejections/0/bytes", timeout=60)
    assert gone.status_code == 404 and "mode" in gone.json()["error"]


def test_a_secret_in_a_rejected_document_is_scrubbed_on_disk(atom: AtomProcess) -> None:
    execution_id = _run(atom, "leaky", secrets={"api_token": SECRET})
    text = _on_disk(atom, execution_id).read_text()
    assert SECRET not in text
    assert base64.b64encode(SECRET.encode()).decode()[:20] not in text
    (kept,) = _api(atom, execution_id)
    assert kept["rule"] == "format" and kept["scrubbed"] is True
    data = base64.b64decode(kept["bytes"])
    assert data == b'{"token": "***", "cut": '
    assert SECRET not in json.dumps(atom.client.execution(execution_id))


def test_past_the_byte_cap_rejections_are_kept_without_bytes(atom: AtomProcess) -> None:
    execution_id = _run(atom, "capped")
    kept = _api(atom, execution_id)
    assert [k["bytes_dropped"] for k in kept] == [False, False, True, True, True]
    assert [base64.b64decode(k["bytes"]) for k in kept[:2]] == BIG[:2]
    assert all(k["bytes"] is None and k["dropped"] == "cap" for k in kept[2:])
    assert [k["size"] for k in kept] == [150] * 5


def test_the_console_execution_page_lists_the_kept_rejections_with_their_bytes(
    atom: AtomProcess,
) -> None:
    execution_id = _run(atom, "orders")
    page = httpx.get(f"{atom.url}/console/executions/{execution_id}", timeout=60)
    assert page.status_code == 200, page.text[:500]
    assert "rejections kept" in page.text
    links = [f"/api/executions/{execution_id}/rejections/{n}/bytes" for n in range(3)]
    assert all(link in page.text for link in links)
    assert "/rejections/3/bytes" not in page.text
    assert "3 rejected document(s) kept" in page.text
    assert "SO-5" not in page.text  # the page links to the documents, never shows them
    bridged = _run(atom, "bridged")
    page = httpx.get(f"{atom.url}/console/executions/{bridged}", timeout=60)
    assert page.text.count("not kept (the mode keeps none)") == 3
