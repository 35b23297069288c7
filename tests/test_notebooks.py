"""The example processes in notebooks/ run in a real kernel and compute the right thing.

Each one runs through atomnb's executor on a copy of the workspace; its result is
checked against an independent computation with the standard library.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.runtime import PapermillExecutor, RunRequest
from atomnb.store import ExecutionStatus, ExecutionStore
from tests.conftest import ROOT

pytestmark = pytest.mark.notebook

EXAMPLES = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture
def example_workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("output"))
    shutil.copytree(ROOT / "extensions", root / "extensions")
    shutil.copytree(ROOT / "components", root / "components")
    shutil.copy(ROOT / "atomnb.toml", root)
    return Workspace.find(root)


def test_there_are_example_processes() -> None:
    assert EXAMPLES, "notebooks/ must hold at least one example process"


@pytest.mark.parametrize("notebook", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_in_every_environment(example_workspace: Workspace, notebook: Path) -> None:
    store = ExecutionStore.open(example_workspace.store_url())
    executor = PapermillExecutor(example_workspace, store)
    for environment in ("default", "dev", "prod"):
        copy = example_workspace.notebooks_dir / notebook.name
        record = executor.run(RunRequest(notebook=copy, environment=environment))
        assert record.status.ok, record.error_summary


def _expected_usage(min_users: int) -> dict[str, int]:
    users: dict[str, set[str]] = defaultdict(set)
    with (ROOT / "notebooks" / "data" / "iso4217_currency_codes.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["WithdrawalDate"] == "" and row["AlphabeticCode"]:
                users[row["AlphabeticCode"]].add(row["Entity"])
    return {code: len(e) for code, e in users.items() if len(e) >= min_users}


def test_currency_report_counts_users_per_currency(example_workspace: Workspace) -> None:
    store = ExecutionStore.open(example_workspace.store_url())
    record = PapermillExecutor(example_workspace, store).run(
        RunRequest(
            notebook=example_workspace.notebooks_dir / "currency_report.ipynb",
            parameters={"min_users": "3"},
        )
    )
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    result = example_workspace.executions_dir / record.id / "output" / "currency_usage.csv"
    with result.open(encoding="utf-8") as f:
        got = {row["AlphabeticCode"]: int(row["users"]) for row in csv.DictReader(f)}
    expected = _expected_usage(3)
    assert got == expected
    assert got["EUR"] == max(got.values())


def test_orders_to_invoices_loses_nothing(example_workspace: Workspace) -> None:
    store = ExecutionStore.open(example_workspace.store_url())
    record = PapermillExecutor(example_workspace, store).run(
        RunRequest(notebook=example_workspace.notebooks_dir / "orders_to_invoices.ipynb")
    )
    # one order has a date that does not exist, one invoice has no e-mail: both reported
    assert record.status is ExecutionStatus.SUCCEEDED_WITH_WARNINGS, record.error_summary
    out = example_workspace.executions_dir / record.id / "output"
    written = []
    for path in sorted(out.glob("invoices_*.jsonl")):
        written += [
            json.loads(line)["invoice_id"] for line in path.read_text(encoding="utf-8").splitlines()
        ]
    errors = json.loads((out / "errors.json").read_text(encoding="utf-8"))
    assert [e["stage"] for e in errors] == ["map", "credit check"]
    assert "impossible date" in errors[0]["reason"]  # 2026-02-30 fits the mask
    assert errors[1] == {
        "stage": "credit check",
        "invoice": "INV-00018",
        "reason": "INV-00018 has no e-mail address",
    }
    orders = [
        json.loads(line)["orderId"]
        for line in (ROOT / "notebooks" / "data" / "orders.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert errors[0]["document"] == 6 and errors[0]["rule"] == "order_date"
    rejected = {orders[6]}
    expected = (
        {o.replace("SO-", "INV-") for o in orders}
        - {o.replace("SO-", "INV-") for o in rejected}
        - {"INV-00018"}
    )
    assert sorted(written) == sorted(expected)  # every other order was invoiced exactly once
    kinds = [s.kind for s in store.shapes(record.id)]
    assert kinds == ["start", "map", "try_catch", "decision", "route", "notify"]


def test_edi_850_example_writes_one_line_per_po1_segment(example_workspace: Workspace) -> None:
    store = ExecutionStore.open(example_workspace.store_url())
    record = PapermillExecutor(example_workspace, store).run(
        RunRequest(notebook=example_workspace.notebooks_dir / "edi_850_to_warehouse.ipynb")
    )
    assert record.status is ExecutionStatus.SUCCEEDED, record.error_summary
    out = example_workspace.executions_dir / record.id / "output" / "warehouse_lines.csv"
    with out.open(encoding="utf-8") as f:
        written = [
            (r["line"], r["quantity"], r["unit_price"], r["product_id"]) for r in csv.DictReader(f)
        ]
    # independent reading of the same file: every PO1 segment, split by hand
    text = (ROOT / "notebooks" / "data" / "purchase_order_850.edi").read_text(encoding="utf-8")
    po1 = [s.strip().split("*") for s in text.split("~") if s.strip().startswith("PO1*")]
    assert written == [(e[1], e[2], e[4], e[7]) for e in po1]
    assert [r.id for r, _, _ in store.find_tracked("po_number", "08292233294")][:1] == [record.id]
