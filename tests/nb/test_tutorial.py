"""The tutorial notebook runs headless under papermill and makes what it says it makes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import papermill
import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.notebook

TUTORIAL = ROOT / "notebooks" / "tutorials" / "tutorial_database_connection.ipynb"


def test_tutorial_database_connection_process(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("output"))
    shutil.copytree(ROOT / "components", root / "components")
    shutil.copytree(ROOT / "extensions", root / "extensions")
    shutil.copy(ROOT / "atomnb.toml", root)
    for made in ("connections/tutorial_shop_db", "maps/tutorial_orders_to_invoices"):
        (root / "components" / f"{made}.yaml").unlink()  # the tutorial makes them anew
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(root / "notebooks" / "tutorials" / TUTORIAL.name),
        str(out),
        parameters={"min_total": 2000.0, "sample_rows": 10},
        cwd=str(root / "notebooks" / "tutorials"),
        kernel_name="python3",
        progress_bar=False,
    )
    connection = yaml.safe_load((root / "components/connections/tutorial_shop_db.yaml").read_text())
    assert connection["body"] == {
        "kind": "database",
        "settings": {"url": "sqlite:///../../.atomnb/tutorial_shop.db"},
    }
    map_file = root / "components/maps/tutorial_orders_to_invoices.yaml"
    mapping = yaml.safe_load(map_file.read_text())
    assert "xref:countries" in mapping["references"]
    assert [r["target"] for r in mapping["body"]["rules"]] == [
        "invoice_id",
        "customer",
        "country_code",
        "total",
    ]
    summaries = list(root.glob(".atomnb/**/tutorial_summary.json"))
    assert len(summaries) == 1
    summary = json.loads(summaries[0].read_text())
    assert summary["orders"] == summary["invoices"] == 10
    assert summary["large"] + summary["small"] == 10
    # the independent check: totals of the first 10 orders, from the raw file
    lines = (root / "notebooks/data/orders.jsonl").read_text(encoding="utf-8").splitlines()[:10]
    orders = [json.loads(line) for line in lines]
    totals = [round(sum(i["qty"] * i["unitPrice"] for i in o["lines"]), 2) for o in orders]
    assert summary["large"] == sum(1 for t in totals if t >= 2000.0)
    outputs = json.loads(out.read_text())
    text = json.dumps(outputs)
    assert "connection <b>tutorial_shop_db</b>: <b style='color:#2e7d32'>ok</b>" in text
