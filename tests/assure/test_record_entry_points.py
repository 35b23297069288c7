"""Other ways to record: ``%atomnb record`` (process and map cases), ``atomnb run --record``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from atomnb.components import Workspace
from tests.conftest import ROOT
from tests.nb.conftest import example_ws, shell  # noqa: F401  (fixtures)

pytest_plugins = ["pytester"]
EXAMPLE = "orders_to_invoices.ipynb"
RECORD = [sys.executable, "-m", "atomnb", "record"]


def test_magic_records_a_map_case_and_a_process_case(
    shell: Any,  # noqa: F811
    example_ws: Workspace,  # noqa: F811
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(example_ws.root)  # the notebook's folder (pytester moved elsewhere)
    shutil.copy(ROOT / "notebooks" / EXAMPLE, example_ws.root / "notebooks" / EXAMPLE)
    result = shell.run_cell(
        "%atomnb record --map order_to_invoice --sample notebooks/data/orders.jsonl --case ids"
    )
    assert result.success, result.error_in_exec
    cases = example_ws.root / "tests" / "atomnb"
    assert "saved map case &#x27;ids&#x27;" in shell.shown[-1]
    manifest = json.loads((cases / "ids" / "case.json").read_text())
    assert manifest["kind"] == "map" and manifest["map"] == "order_to_invoice"

    result = shell.run_cell(f"%atomnb record notebooks/{EXAMPLE} --case nightly --keep 5")
    assert result.success, result.error_in_exec
    assert "recorded case &#x27;nightly&#x27;" in shell.shown[-1]
    index = (cases / "nightly" / "shapes" / "index.jsonl").read_text().splitlines()
    assert json.loads(index[0])["outputs"]["out"]["kept"] == 5

    replayed = pytester.runpytest("--atomnb", str(cases), "-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=2)

    wrong = shell.run_cell("%atomnb record --case nothing")
    assert not wrong.success and "name the process notebook" in str(wrong.error_in_exec)


def test_run_record_writes_a_case_instead_of_an_execution(
    example_ws: Workspace,  # noqa: F811
) -> None:
    shutil.copy(ROOT / "notebooks" / EXAMPLE, example_ws.root / "notebooks" / EXAMPLE)
    done = subprocess.run(
        [sys.executable, "-m", "atomnb", "run", f"notebooks/{EXAMPLE}", "--record", "by_run"],
        cwd=example_ws.root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "recorded case 'by_run'" in done.stdout
    case = json.loads((example_ws.root / "tests/atomnb/by_run/case.json").read_text())
    assert case["status"] == "succeeded_with_warnings"
    assert not (example_ws.root / ".atomnb" / "executions").exists()  # no execution recorded


def test_mapper_save_as_test_case_button(
    example_ws: Workspace,  # noqa: F811
    pytester: pytest.Pytester,
) -> None:
    from atomnb.formats import read
    from atomnb.maps import load_map
    from atomnb.nb.widgets.mapper import MapperWidget

    docs = read(example_ws.notebooks_dir / "data" / "orders.jsonl")
    empty = MapperWidget(load_map("order_to_invoice", workspace=example_ws), workspace=example_ws)
    empty._on_message(empty, {"action": "save_case"}, [])  # the button, without a sample
    assert empty.status["level"] == "error"
    assert empty.status["text"].startswith("no sample documents to make a test case from")

    widget = MapperWidget(
        load_map("order_to_invoice", workspace=example_ws), documents=docs, workspace=example_ws
    )
    widget._on_message(widget, {"action": "save_case"}, [])  # the "Save as test case" button
    folder = example_ws.root / "tests" / "atomnb" / "order_to_invoice_case"
    assert widget.status == {
        "level": "info",
        "text": f"saved test case order_to_invoice_case in {folder}; run it with pytest --atomnb",
        "path": str(folder),
    }
    pytester.runpytest("--atomnb", str(folder), "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_start_documents_are_kept_with_the_case_and_handed_over_on_replay(
    example_ws: Workspace,  # noqa: F811
    pytester: pytest.Pytester,
) -> None:
    from atomnb.documents.exchange import write_ipc
    from atomnb.formats import read

    shutil.copy(ROOT / "notebooks" / EXAMPLE, example_ws.root / "notebooks" / EXAMPLE)
    orders = read(example_ws.notebooks_dir / "data" / "orders.jsonl")
    start = write_ipc(orders[:2], example_ws.root / "two.arrow")
    done = subprocess.run(
        [*RECORD, f"notebooks/{EXAMPLE}", "--case", "two", "--start", str(start)],
        cwd=example_ws.root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    start.unlink()  # the case keeps its own copy
    case = example_ws.root / "tests" / "atomnb" / "two"
    first = json.loads((case / "shapes" / "index.jsonl").read_text().splitlines()[0])
    assert (first["kind"], first["outputs"]["out"]["documents"]) == ("start", 2)
    assert (case / "start.arrow").exists()
    pytester.runpytest("--atomnb", str(case), "-p", "no:cacheprovider").assert_outcomes(passed=1)
