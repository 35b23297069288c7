"""Record a process against a loopback shop and SQLite, replay it with both gone, break the
map and read the diff, accept it with --atomnb-update (issue 17, record and replay)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atomnb.maps import save_map
from tests.assure.shop import TOKEN, make_workspace, order_map, shop_server

pytest_plugins = ["pytester"]
RECORD = [sys.executable, "-m", "atomnb", "record"]


def _record(workspace: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atomnb", "record", "notebooks/shop_sync.ipynb", *args],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _files_holding(folder: Path, text: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_record_replay_offline_diff_and_update(
    tmp_path: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shop"
    workspace = make_workspace(root)
    env = os.environ | {"SHOP_TOKEN": TOKEN}
    with shop_server() as (url, requests):
        done = _record(root, "--case", "shop", "-p", "api_url", url, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert requests == ["/orders"]
    assert "4 shape(s), 3 connector exchange(s), status succeeded" in done.stdout
    case = root / "tests" / "atomnb" / "shop"
    exchanges = [json.loads(p.read_text()) for p in sorted((case / "exchanges").glob("*.json"))]
    assert [(e["connector"], e["operation"]) for e in exchanges] == [
        ("http", "GET"),
        ("database", "query"),
        ("database", "insert"),
    ]
    assert exchanges[2]["payload"]["written"] == 3
    # The planted token was sent (the shop echoed it, and set it as a cookie): never kept.
    assert _files_holding(case, TOKEN) == []
    assert _files_holding(case, "session=") == []
    assert "Bearer ***" in (case / "shapes" / "001-response.jsonl").read_text()
    manifest = json.loads((case / "case.json").read_text())
    assert manifest["parameters"] == {"api_url": url} and manifest["status"] == "succeeded"

    # The shop is stopped, the database gone, the token unset: the replay needs none of them.
    (root / "notebooks" / "shop.db").unlink()
    monkeypatch.delenv("SHOP_TOKEN", raising=False)
    replayed = pytester.runpytest("--atomnb", str(case), "-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=1)
    assert not (root / "notebooks" / "shop.db").exists()  # the database was never opened

    # A map function argument changes: the replay fails naming shape, document, field and rule.
    save_map(order_map("IN-"), workspace=workspace)
    broken = pytester.runpytest("--atomnb", str(case), "-p", "no:cacheprovider")
    broken.assert_outcomes(failed=1)
    report = broken.stdout.str()
    assert "shape 3 'order_to_invoice' (map):" in report
    assert (
        "path out, document 0, field invoice_id: recorded 'INV-1', now 'IN-1'  "
        "[rule invoice_id <- orderId: replace(new='IN-', old='SO-')]"
    ) in report
    assert "document 2, field invoice_id: recorded 'INV-3', now 'IN-3'" in report
    assert "shape 4 'insert invoices' (database):" in report
    assert "field mapped_at" not in report and "field line" not in report  # pinned, same

    # After review the new outputs become the expectations; the next replay passes.
    updated = pytester.runpytest("--atomnb", "--atomnb-update", str(case), "-p", "no:cacheprovider")
    updated.assert_outcomes(passed=1)
    assert "rewrote the expectations of 1 case(s): shop" in updated.stdout.str()
    assert '"invoice_id": "IN-1"' in (case / "shapes" / "003-out.jsonl").read_text()
    pytester.runpytest("--atomnb", str(case), "-p", "no:cacheprovider").assert_outcomes(passed=1)

    # The process now asks the shop something it did not ask when recorded: a clear failure.
    notebook = root / "notebooks" / "shop_sync.ipynb"
    text = notebook.read_text().replace(
        'ab.database_write(db, \\"insert\\", \\"invoices\\", invoices)',
        'ab.database_write(db, \\"insert\\", \\"invoices\\", invoices)\\n'
        'ab.http_call(shop, HttpOperation(\\"GET\\", \\"/pets\\"))',
    )
    assert "/pets" in text
    notebook.write_text(text)
    asked = pytester.runpytest("--atomnb", str(case), "-p", "no:cacheprovider")
    asked.assert_outcomes(failed=1)
    report = asked.stdout.str()
    assert "status: recorded succeeded, now failed (" in report
    assert "http GET was not recorded" in report and "/pets" in report


def test_keep_limits_documents_per_shape(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    make_workspace(root)
    with shop_server() as (url, _requests):
        done = _record(
            root, "--case", "first", "--keep", "1", "-p", "api_url", url,
            env=os.environ | {"SHOP_TOKEN": TOKEN},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    shapes = root / "tests" / "atomnb" / "first" / "shapes"
    index = [json.loads(line) for line in (shapes / "index.jsonl").read_text().splitlines()]
    assert index[2]["outputs"]["out"] | {"rejections": []} == {
        "documents": 3,
        "kept": 1,
        "file": "003-out.jsonl",
        "rejected": 0,
        "rejections": [],
    }
    assert len((shapes / "003-out.jsonl").read_text().splitlines()) == 1


def _notebook(path: Path, parameters: str, code: str) -> None:
    import nbformat

    cells = [
        nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)


def test_a_called_process_records_and_replays_its_exchanges_too(
    tmp_path: Path, pytester: pytest.Pytester
) -> None:
    root = tmp_path / "shop"
    make_workspace(root)
    _notebook(
        root / "notebooks" / "child.ipynb",
        'api_url = "http://127.0.0.1:9"',
        "import atomnb as ab\n"
        "from atomnb.connectors.http import HttpConnection, HttpOperation\n"
        "orders = ab.http_call(HttpConnection(api_url), HttpOperation('GET', '/orders'))\n"
        "ab.return_documents(orders)",
    )
    _notebook(
        root / "notebooks" / "parent.ipynb",
        'api_url = "http://127.0.0.1:9"',
        "import atomnb as ab\n"
        "out = ab.process_call('child.ipynb', parameters={'api_url': api_url})\n"
        "ab.map(out['default'], 'order_to_invoice')",
    )
    with shop_server() as (url, requests):
        done = subprocess.run(
            [*RECORD, "notebooks/parent.ipynb", "--case", "calls", "-p", "api_url", url],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert requests == ["/orders"]
    case = root / "tests" / "atomnb" / "calls"
    assert "2 shape(s), 1 connector exchange(s)" in done.stdout  # the child's call, its shapes not
    replayed = pytester.runpytest("--atomnb", str(case), "-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=1)  # the child answered from the recording: the shop is gone
